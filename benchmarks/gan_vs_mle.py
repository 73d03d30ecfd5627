"""The GAN against its maximum-likelihood baseline at equal CPU time (issue 13, part 4).

    bash /work/shared/corpora/brown.sh /tmp/brown           # never commit the text
    python benchmarks/gan_vs_mle.py --train /tmp/brown/brown-train.txt \\
        --valid /tmp/brown/brown-valid.txt --budget 3600 --out /tmp/gan_vs_mle

Trains two runs through ``textgan.training`` (the same code as ``textgan train``) on the same
prepared corpus, from the same seed: the ``cpu`` preset's GAN (``--objective wgan-gp``) and the
``cpu`` preset with ``--objective mle`` (the LSTM language model, matched to the generator's
parameter count). Each trains until it has used ``--budget`` seconds of *process CPU time* (with
``--threads 1``: the machine is shared, CPU time measures the model, not the neighbours); the
in-training samples and evaluations are off so that the budget is training only, and the step it
stops at is checkpointed. Then each run is evaluated like ``textgan eval --run R --temperatures
...``: ``--samples`` samples at the model's default decoding (the GAN: argmax, the paper's; the
language model: ancestral sampling at temperature 1) against the held-out lines — JS-1..4, the
KN-LM forward/reverse cross-entropies, Texygen BLEU-2..5 and Self-BLEU-2..5, each with its
real-vs-real value — and the temperature sweep, saved in ``<run>/eval/sweep.json``. Last,
``textgan report GAN MLE`` draws both quality-diversity curves in one figure.

Prints a Markdown table (for the README) and writes ``<out>/results.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from textgan.eval import EvalConfig
from textgan.report import write_report
from textgan.text.evaluation import evaluate_run
from textgan.training import resolve_config, start_training

MODELS = {"gan": "wgan-gp", "mle": "mle"}
ROWS = ([("JS-1", "js1"), ("JS-2", "js2"), ("JS-3", "js3"), ("JS-4", "js4"),
         ("LM forward, bits/char (quality)", "lm_forward_bpc"),
         ("LM reverse, bits/char (diversity)", "lm_reverse_bpc")]
        + [(f"BLEU-{n}", f"texygen_bleu{n}") for n in range(2, 6)]
        + [(f"Self-BLEU-{n}", f"texygen_self_bleu{n}") for n in range(2, 6)])


def train(name: str, args: argparse.Namespace) -> dict:
    """Train one model for ``args.budget`` CPU seconds; its run directory, steps and time."""
    config = resolve_config("text", "cpu", None, {
        "train": {"objective": MODELS[name], "steps": 10**9, "seed": args.seed, "device": "cpu",
                  "eval_every": 0, "sample_every": 0, "checkpoint_every": 10**9},
        "data": {"corpus_path": args.train, "valid_path": args.valid, "data_dir": args.data_dir,
                 "seq_len": args.seq_len},
    })
    session = start_training(config, out=args.out / name)
    parameters = sum(p.numel() for p in session.setup.generator.parameters())
    started, wall = time.process_time(), time.perf_counter()
    for _ in session.events(should_stop=lambda: time.process_time() - started >= args.budget):
        pass
    return {"run": str(session.run.dir), "steps": session.trainer.step,
            "cpu_seconds": time.process_time() - started,
            "wall_seconds": time.perf_counter() - wall, "parameters": parameters,
            "notes": session.notes}


def evaluate(result: dict, args: argparse.Namespace) -> None:
    started = time.perf_counter()
    report = evaluate_run(result["run"], n=args.samples, seed=0, config=EvalConfig(),
                          temperatures=args.temperatures, device="cpu",
                          plot=Path(result["run"]) / "eval" / "quality_diversity.png")
    result["eval_seconds"] = time.perf_counter() - started
    result["metrics"] = report.metrics
    result["sweep"] = report.sweep.to_dict() if report.sweep is not None else None
    result["samples"] = report.samples[:10]


def cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def table(results: dict[str, dict]) -> str:
    gan, mle = results["gan"], results["mle"]
    real = gan["metrics"]
    lines = ["| | GAN (cpu preset) | MLE (LSTM LM) | real vs real |", "|---|---:|---:|---:|",
             f"| parameters | {gan['parameters']:,} | {mle['parameters']:,} | |",
             f"| steps in {gan['cpu_seconds']:.0f} / {mle['cpu_seconds']:.0f} CPU-s | "
             f"{gan['steps']:,} | {mle['steps']:,} | |",
             "| decoding | argmax | sampling, T = 1 | |"]
    for label, key in ROWS:
        floor = real.get(f"{key}_floor", real.get(f"{key}_real"))
        lines.append(f"| {label} | {cell(gan['metrics'].get(key))} | "
                     f"{cell(mle['metrics'].get(key))} | {cell(floor)} |")
    lines += ["", "| temperature | GAN forward / reverse | MLE forward / reverse |",
              "|---:|---:|---:|"]
    points = {name: {p["temperature"]: p for p in r["sweep"]["points"]}
              for name, r in results.items() if r["sweep"]}
    for t in args_temperatures(results):
        row = [f"{points[n][t]['forward_bpc']:.3f} / {points[n][t]['reverse_bpc']:.3f}"
               if n in points and t in points[n] else "–" for n in ("gan", "mle")]
        lines.append(f"| {t:g} | {row[0]} | {row[1]} |")
    sweep = gan["sweep"] or mle["sweep"]
    if sweep:
        lines.append(f"| real text | {sweep['real_forward_bpc']:.3f} / "
                     f"{sweep['real_reverse_bpc']:.3f} | |")
    return "\n".join(lines)


def args_temperatures(results: dict[str, dict]) -> list[float]:
    return sorted({p["temperature"] for r in results.values() if r["sweep"]
                   for p in r["sweep"]["points"]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", required=True, help="Training text, one sentence a line.")
    parser.add_argument("--valid", required=True, help="Held-out text (the reference).")
    parser.add_argument("--budget", type=float, default=3600.0,
                        help="CPU seconds of training per model.")
    parser.add_argument("--out", type=Path, required=True, help="Where the two runs go (new).")
    parser.add_argument("--data-dir", default="data", help="Where the corpus is prepared.")
    parser.add_argument("--seq-len", type=int, default=32)
    parser.add_argument("--samples", type=int, default=10_000,
                        help="Samples per model for the table (Texygen's test sets: ~10k).")
    parser.add_argument("--temperatures", type=lambda s: [float(t) for t in s.split(",")],
                        default=[0.5, 0.75, 1.0, 1.25, 1.5])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.out.exists():
        parser.error(f"{args.out} exists; give a new --out")
    results = {}
    for name in MODELS:
        results[name] = train(name, args)
        print(f"{name}: {results[name]['steps']:,} steps in {results[name]['cpu_seconds']:.1f} "
              f"CPU-s", flush=True)
    for name in MODELS:
        evaluate(results[name], args)
        print(f"{name}: evaluated in {results[name]['eval_seconds']:.1f} s", flush=True)
    report = write_report([results["gan"]["run"], results["mle"]["run"]], args.out / "report")
    figure = next(p for p in report.images if p.name == "quality_diversity.png")
    (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    print(table(results))
    for name in MODELS:
        print(f"\n{name} samples:\n" + "\n".join(results[name]["samples"]))
    print(f"\nfigure: {figure}\nreport: {report.html}\nresults: {args.out / 'results.json'}")


if __name__ == "__main__":
    main()
