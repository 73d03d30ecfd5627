"""Time-to-threshold table from ``benchmarks/recipes.py`` JSON lines (prints numbers).

    python benchmarks/time_to_threshold.py /tmp/recipes.jsonl --baseline paper \
        --thresholds 0.9,0.8,0.7

For every recipe (and seed) and every JS-4 threshold: the first evaluation's process-CPU seconds
at or below it. The speed-up is the baseline's time over the recipe's; when the baseline never
got there within its budget the speed-up is reported as a lower bound, ``>budget/time``. The
default threshold is the one recipes.py used (2 x the real-vs-real floor).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict


def first_reached(points: list[dict], threshold: float) -> float | None:
    for point in sorted(points, key=lambda p: p["cpu_s"]):
        if point["js4"] <= threshold:
            return float(point["cpu_s"])
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--baseline", default="paper")
    parser.add_argument("--thresholds", default=None, help="comma-separated JS-4 values")
    args = parser.parse_args()
    runs: dict[tuple[str, int], list[dict]] = defaultdict(list)
    default_threshold = None
    for name in args.files:
        with open(name) as f:
            for line in f:
                record = json.loads(line)
                if "threshold_js4" in record:
                    default_threshold = record["threshold_js4"]
                elif "recipe" in record and "js4" in record:
                    runs[(record["recipe"], record["seed"])].append(record)
    thresholds = ([float(t) for t in args.thresholds.split(",")] if args.thresholds
                  else [default_threshold] if default_threshold is not None else [])
    base = [points for (recipe, _), points in runs.items() if recipe == args.baseline]
    for threshold in thresholds:
        print(f"JS-4 <= {threshold}")
        base_times = [first_reached(p, threshold) for p in base]
        base_budget = max((max(q["cpu_s"] for q in p) for p in base), default=None)
        for (recipe, seed), points in sorted(runs.items()):
            t = first_reached(points, threshold)
            best = min(p["js4"] for p in points)
            budget = max(p["cpu_s"] for p in points)
            if t is None:
                speed = "-"
            elif base_times and all(b is not None for b in base_times):
                speed = f"{sum(base_times) / len(base_times) / t:.1f}x"  # type: ignore[arg-type]
            elif base_budget is not None:
                speed = f">{base_budget / t:.1f}x"
            else:
                speed = "?"
            reached = f"{t:7.0f} s" if t is not None else f"not in {budget:.0f} s"
            print(f"  {recipe:22s} seed {seed}: {reached:>14s}  best JS-4 {best:.3f}  "
                  f"speed-up vs {args.baseline}: {speed}")


if __name__ == "__main__":
    main()
