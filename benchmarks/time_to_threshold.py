"""How much sooner than a baseline does each recipe reach a JS-4 threshold?

    python benchmarks/time_to_threshold.py results/recipes-brown.json --baseline paper \\
        --thresholds 0.9,0.8,0.7

Reads result files of ``benchmarks/recipes.py`` (their ``results.points``). For every recipe
(and seed) and every JS-4 threshold: the process-CPU seconds of the first evaluation at or below
it. The speed-up is the baseline's mean time over the recipe's; when the baseline never got
there within its budget it is a lower bound, ``>budget/time``. The default threshold is the
file's own (2 x the real-vs-real floor). Writes ``<out>/<name>.json`` (one row per threshold,
recipe and seed); computes nothing new, so it takes no time.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from textgan.benchmarking import add_recipe_files_arguments, write_benchmark_result
from textgan.results import default_results_dir, read_result

QUESTION = "How much sooner than the baseline recipe does each recipe reach a JS-4 threshold?"


def first_reached(points: list[dict[str, Any]], threshold: float) -> float | None:
    """CPU seconds of the first point at or below ``threshold``; None if none is."""
    for point in sorted(points, key=lambda p: p["cpu_s"]):
        if point["js4"] <= threshold:
            return float(point["cpu_s"])
    return None


def rows(runs: dict[tuple[str, int], list[dict[str, Any]]], thresholds: list[float],
         baseline: str) -> list[dict[str, Any]]:
    """One row per threshold, recipe and seed: time to reach it and the speed-up."""
    base = [points for (recipe, _), points in runs.items() if recipe == baseline]
    out = []
    for threshold in thresholds:
        base_times = [first_reached(p, threshold) for p in base]
        base_budget = max((max(q["cpu_s"] for q in p) for p in base), default=None)
        for (recipe, seed), points in sorted(runs.items()):
            t = first_reached(points, threshold)
            if t is None or t == 0:
                speedup = None
            elif base_times and all(b is not None for b in base_times):
                speedup = f"{sum(base_times) / len(base_times) / t:.1f}x"  # type: ignore[arg-type]
            elif base_budget is not None:
                speedup = f">{base_budget / t:.1f}x"
            else:
                speedup = None
            out.append({"threshold_js4": threshold, "recipe": recipe, "seed": seed,
                        "cpu_s": t, "budget_cpu_s": max(p["cpu_s"] for p in points),
                        "best_js4": min(p["js4"] for p in points),
                        f"speedup_vs_{baseline}": speedup})
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_recipe_files_arguments(p, "time-to-threshold", "paper",
                               "The recipe speed-ups are relative to.")
    p.add_argument("--thresholds", default=None,
                   help="Comma-separated JS-4 values [default: the files' own threshold].")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    runs: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    own: list[float] = []
    for name in args.files:
        results = read_result(name)["results"]
        own.append(results["threshold_js4"])
        for point in results["points"]:
            runs[(point["recipe"], point["seed"])].append(point)
    thresholds = ([float(t) for t in args.thresholds.split(",")] if args.thresholds
                  else sorted(set(own)))
    table = rows(runs, thresholds, args.baseline)
    for row in table:
        reached = (f"{row['cpu_s']:7.0f} s" if row["cpu_s"] is not None
                   else f"not in {row['budget_cpu_s']:.0f} s")
        print(f"JS-4 <= {row['threshold_js4']}: {row['recipe']:22s} seed {row['seed']}: "
              f"{reached:>14s}  best {row['best_js4']:.3f}  speed-up "
              f"{row[f'speedup_vs_{args.baseline}'] or '-'}")
    args.out = args.out or default_results_dir()
    path = write_benchmark_result(args, QUESTION, table, script=__file__, argv=argv,
                                  extra={"baseline": args.baseline,
                                         "sources": [Path(f).name for f in args.files]})
    print(f"result: {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
