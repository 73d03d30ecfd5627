"""Does a class-conditional text GAN write sentences of the class it is asked for?

    python benchmarks/conditional_text.py --budget 330 --methods ac,projection \\
        --name conditional-text

On the synthetic grammar's two classes (questions and statements, ``--corpus
synthetic-classes``), each method trains the ``cpu-conditional`` preset (``--conditional`` set
per method) from ``--seed`` for its steps (``--steps``, default the preset's) or until it has
used ``--budget`` seconds of process CPU time (one thread; the in-training evaluations every
``--eval-every`` steps are counted), then draws ``--samples`` argmax samples of its moving
average, the two classes in turn, and reports the oracle's class accuracy
(:func:`textgan.text.oracle.class_accuracy`) with two reference points from the same samples:

- ``chance``: ``grammar_accept_rate / 2``, what a generator that ignores its label scores with
  samples as grammatical as these (a grammatical sample is in the asked-for class half of the
  time, the two sub-languages being disjoint);
- ``swapped``: the class accuracy of the same samples judged against the other class.

``accepted_in_class`` = class accuracy / grammar_accept_rate: the share of the grammatical samples
that are of their class (50% by chance, 100% if the label is always obeyed). Whole sentences come
late on a CPU, so the exact signs of class that come first are reported too
(:func:`textgan.text.oracle.class_markers`): the first word (``class_start``) and the final mark
(``class_end``), each with its label-blind chance level. ``--measure-only`` measures the newest
checkpoints of runs trained before under ``--runs`` (every kept checkpoint: ``--all-checkpoints``).

Writes ``<out>/<name>.json``: ``results.methods.<method>`` (one entry per measured checkpoint,
with the class accuracies logged during training) and one table row per measurement.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import torch

from textgan.benchmarking import (
    Budget,
    add_arguments,
    add_budget_arguments,
    configure,
    train_within,
    write_benchmark_result,
)
from textgan.config import PAPER_SAMPLES
from textgan.core.checkpoint import load_checkpoint
from textgan.core.ema import sampling_state
from textgan.text.models import generator_from_checkpoint
from textgan.text.oracle import class_accuracy, class_markers, oracle_scores
from textgan.text.sampling import generate_text

QUESTION = ("How often is a sample of a class-conditional text GAN a sentence (or starts and "
            "ends like one) of the class it was generated for, against label-blind chance?")
TABLE_KEYS = ("class_accuracy", "chance", "swapped", "grammar_accept_rate", "class_start",
              "class_start_chance", "class_end", "class_end_chance", "distinct_samples")


def train(method: str, args: argparse.Namespace, out: Path) -> None:
    config = configure("cpu-conditional", train={
        "conditional": method, "device": "cpu", "threads": args.threads, "seed": args.seed,
        "eval_every": args.eval_every, "sample_every": args.eval_every, "steps": args.steps},
        data={"data_dir": args.data_dir, "max_lines": args.max_lines},
        model={"dim": args.dim})
    done = train_within(config, Budget(args.budget, args.clock), out=out)
    print(f"{method}: {done.steps} steps in {done.cpu_seconds:.0f} CPU-s", flush=True)


def measure(path: Path, n: int, per_class: int) -> dict[str, Any]:
    """The class accuracies of ``n`` argmax samples of checkpoint ``path``'s moving average."""
    run = path.parent.parent
    state = sampling_state(load_checkpoint(path))
    generator, tokenizer, config = generator_from_checkpoint(state, "cpu")
    seq_len = int(config["data"]["seq_len"])
    names = list(state["label_names"])
    lines = generate_text(generator, tokenizer, n, seed=0, strip_pad=True)
    labels = [names[i % len(names)] for i in range(n)]
    scores = class_accuracy(lines, labels, seq_len) | class_markers(lines, labels, seq_len)
    swapped = class_accuracy(lines, [names[(i + 1) % len(names)] for i in range(n)], seq_len)
    oracle = oracle_scores(lines, seq_len)
    examples = {name: generate_text(generator, tokenizer, per_class, seed=1, strip_pad=True,
                                    labels=k) for k, name in enumerate(names)}
    accept = oracle["grammar_accept_rate"]
    return {"step": state["step"], "samples": n, **scores, "grammar_accept_rate": accept,
            "chance": accept / 2, "swapped": swapped["class_accuracy"],
            "accepted_in_class": scores["class_accuracy"] / accept if accept else 0.0,
            "distinct_samples": oracle["distinct_samples"], "examples": examples,
            "logged": [json.loads(line) for line in (run / "metrics.jsonl").read_text()
                       .splitlines() if "class_accuracy" in line]}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(p, "conditional-text")
    add_budget_arguments(p, 300.0)
    p.add_argument("--methods", default="ac,projection", help="Comma-separated: ac, projection.")
    p.add_argument("--steps", type=int, default=None,
                   help="Train this many steps [default: the preset's], within --budget.")
    p.add_argument("--dim", type=int, default=None, help="Model width [default: the preset's].")
    p.add_argument("--max-lines", type=int, default=None,
                   help="Training lines of the corpus [default: all].")
    p.add_argument("--samples", type=int, default=PAPER_SAMPLES, help="Samples per measurement.")
    p.add_argument("--per-class", type=int, default=8, help="Example lines kept per class.")
    p.add_argument("--eval-every", type=int, default=250,
                   help="Steps between in-training evaluations (0: off).")
    p.add_argument("--data-dir", default="data", help="Where the corpus is prepared.")
    p.add_argument("--runs", type=Path, default=None,
                   help="Keep the runs in this directory [default: a temporary directory].")
    p.add_argument("--measure-only", action="store_true",
                   help="Do not train: measure the runs already under --runs.")
    p.add_argument("--all-checkpoints", action="store_true",
                   help="Measure every kept checkpoint, not only the newest.")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.measure_only and args.runs is None:
        raise SystemExit("--measure-only needs --runs DIR (the runs to measure)")
    torch.set_num_threads(args.threads)
    methods: dict[str, list[dict[str, Any]]] = {}
    table = []
    with tempfile.TemporaryDirectory(prefix="textgan-conditional-") as tmp:
        runs = args.runs or Path(tmp)
        for method in args.methods.split(","):
            run = runs / method
            if not args.measure_only:
                train(method, args, run)
            paths = sorted((run / "checkpoints").glob("step_*.pt"))
            if not paths:
                raise SystemExit(f"no checkpoint in {run}")
            methods[method] = []
            for path in paths if args.all_checkpoints else paths[-1:]:
                result = measure(path, args.samples, args.per_class)
                methods[method].append(result)
                table.append({"method": method, "step": result["step"],
                              **{k: result[k] for k in TABLE_KEYS}})
                print(f"{method} at step {result['step']}: class accuracy "
                      f"{result['class_accuracy']:.3f} (chance {result['chance']:.3f}); first "
                      f"word {result['class_start']:.3f} (label-blind "
                      f"{result['class_start_chance']:.3f}); final mark "
                      f"{result['class_end']:.3f} (label-blind {result['class_end_chance']:.3f})")
    path = write_benchmark_result(args, QUESTION, {"corpus": "synthetic-classes",
                                                   "methods": methods},
                                  script=__file__, argv=argv, table=table)
    print(f"result: {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
