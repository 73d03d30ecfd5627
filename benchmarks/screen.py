"""Which recipes beat a baseline by more than the spread between seeds?

    python benchmarks/screen.py results/levers-brown-a.json results/levers-brown-b.json \\
        --baseline cpu --name levers-brown-screen

Reads result files of ``benchmarks/recipes.py`` (their ``results.summaries``: one per recipe and
seed, at the end of the budget). For every recipe: the mean over seeds of the final JS-4 (lower is
better), the best JS-4 seen, the KN-LM forward (quality) and reverse (diversity) bits per character
and Texygen BLEU-4 / Self-BLEU-4 (when the runs were scored with ``--lm``), on the synthetic
grammar the oracle's final accept rate (higher is better; from the run's last evaluation when its
summary predates ``final_accept``), the generator steps made, and the seed spread of JS-4 (max -
min over seeds). ``verdict`` compares the recipe with the
baseline on final JS-4: ``better`` or ``worse`` when the two seed ranges do not overlap (every
seed of one below every seed of the other), ``within seed noise`` otherwise. Computes nothing
new, so it takes no time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from textgan.benchmarking import add_recipe_files_arguments, write_benchmark_result
from textgan.results import default_results_dir, read_result

QUESTION = ("Which recipes end lower in JS-4 than the baseline at equal CPU time by more than the "
            "spread between seeds, and what do the LM scores and BLEU say beside it?")

# summary key -> column name, averaged over seeds when every seed has it
AVERAGED = {"final_js4": "js4", "best_js4": "best_js4", "lm_forward_bpc": "lm_forward_bpc",
            "lm_reverse_bpc": "lm_reverse_bpc", "texygen_bleu4": "bleu4",
            "texygen_self_bleu4": "self_bleu4", "final_accept": "accept", "steps": "steps"}


def with_final_accept(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The file's summaries, each with ``final_accept`` taken from its run's last evaluation
    when the recipe harness evaluated an accept rate (the synthetic grammar) and the summary
    does not have it yet."""
    last: dict[tuple[str, int], dict[str, Any]] = {}
    for point in results.get("points", []):
        last[(point["recipe"], point["seed"])] = point
    summaries = []
    for summary in results["summaries"]:
        point = last.get((summary["recipe"], summary["seed"]), {})
        if "final_accept" not in summary and "accept" in point:
            summary = {**summary, "final_accept": point["accept"]}
        summaries.append(summary)
    return summaries


def verdict(values: list[float], base: list[float]) -> str:
    """``better`` / ``worse`` (lower JS-4 is better) when the seed ranges do not overlap."""
    if max(values) < min(base):
        return "better"
    if min(values) > max(base):
        return "worse"
    return "within seed noise"


def table(summaries: list[dict[str, Any]], baseline: str) -> list[dict[str, Any]]:
    """One row per recipe, in the order the files list them."""
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for summary in summaries:
        by[summary["recipe"]].append(summary)
    if baseline not in by:
        raise SystemExit(f"the baseline recipe {baseline!r} is in none of the files; choose from "
                         f"{', '.join(by)}")
    base = [s["final_js4"] for s in by[baseline]]
    rows = []
    for recipe, runs in by.items():
        js4 = [s["final_js4"] for s in runs]
        row: dict[str, Any] = {"recipe": recipe, "seeds": len(runs)}
        for key, column in AVERAGED.items():
            if all(key in s for s in runs):
                mean = statistics.fmean(s[key] for s in runs)
                row[column] = round(mean) if key == "steps" else round(mean, 4)
        row["js4_seeds"] = " / ".join(f"{v:.3f}" for v in js4)
        row["js4_spread"] = round(max(js4) - min(js4), 4)
        if "accept" in row:
            row["accept_seeds"] = " / ".join(f"{s['final_accept']:.3f}" for s in runs)
        row[f"js4_vs_{baseline}"] = round(statistics.fmean(js4) - statistics.fmean(base), 4)
        row["verdict"] = "baseline" if recipe == baseline else verdict(js4, base)
        rows.append(row)
    return rows


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_recipe_files_arguments(p, "screen", "cpu", "The recipe the others are compared with.")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    summaries: list[dict[str, Any]] = []
    floors = []
    for name in args.files:
        results = read_result(name)["results"]
        summaries += with_final_accept(results)
        floors.append(results["floor_js4"])
    rows = table(summaries, args.baseline)
    for row in rows:
        print(f"{row['recipe']:22s} JS-4 {row['js4_seeds']:15s} (mean {row['js4']:.3f}, "
              f"{row[f'js4_vs_{args.baseline}']:+.3f})  {row['verdict']}")
    args.out = args.out or default_results_dir()
    path = write_benchmark_result(args, QUESTION, rows, script=__file__, argv=argv,
                                  extra={"baseline": args.baseline, "floor_js4": floors[0],
                                         "sources": [Path(f).name for f in args.files]},
                                  table=rows)
    print(f"result: {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
