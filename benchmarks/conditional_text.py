"""Class-conditional text on the synthetic grammar's two classes (questions, statements): how
often a sample is a sentence of the class it was generated for (prints numbers; no assertions).

    python benchmarks/conditional_text.py --budget 330 --methods ac --data-dir /tmp/data

Each method trains the ``cpu-conditional`` preset (``--conditional`` set per method) from seed 0
for its 3000 steps or until it has used ``--budget`` seconds of process CPU time (one thread; the
in-training evaluations are counted), then draws ``--samples`` argmax samples of its moving average, the two
classes in turn, and reports the oracle's class accuracy (:func:`textgan.eval.oracle.
class_accuracy`) with two reference points computed from the same samples:

- ``chance``: ``grammar_accept_rate / 2``, what a generator that ignores its label scores with
  samples as grammatical as these (a grammatical sample is in the asked-for class half of the
  time, the two sub-languages being disjoint);
- ``swapped``: the class accuracy of the same samples judged against the other class.

``accepted_in_class`` = class accuracy / grammar_accept_rate: the share of the grammatical samples
that are of their class (50% by chance, 100% if the label is always obeyed). Whole sentences come
late on a CPU, so the earlier exact signs of class are reported too
(:func:`textgan.eval.oracle.class_markers`): the first word (``class_start``) and the final mark
(``class_end``), each with its label-blind chance level. ``--measure-only`` measures the newest
checkpoints of runs trained before (every checkpoint kept: ``--all-checkpoints``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from textgan.core.checkpoint import load_checkpoint
from textgan.core.ema import sampling_state
from textgan.eval.oracle import class_accuracy, class_markers, oracle_scores
from textgan.text.models import generator_from_checkpoint
from textgan.text.sampling import generate_text
from textgan.training import resolve_config, start_training


def train(method: str, budget: float, out: Path, data_dir: str, eval_every: int,
          steps: int | None = None) -> Path:
    config = resolve_config("text", "cpu-conditional", None, {
        "train": {"conditional": method, "device": "cpu", "threads": 1,
                  "eval_every": eval_every, "sample_every": eval_every,
                  **({"steps": steps} if steps else {})},
        "data": {"data_dir": data_dir},
    })
    session = start_training(config, out=out)
    started = time.process_time()
    for _ in session.events(should_stop=lambda: time.process_time() - started >= budget):
        pass
    print(f"{method}: {session.trainer.step} steps in {time.process_time() - started:.0f} CPU-s")
    return out


def measure(path: Path, n: int, per_class: int) -> dict[str, object]:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default="ac,projection")
    parser.add_argument("--budget", type=float, default=300.0, help="CPU seconds per method")
    parser.add_argument("--samples", type=int, default=640)
    parser.add_argument("--per-class", type=int, default=8)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--steps", type=int, default=None, help="train this many steps instead "
                        "of the preset's (a longer run, within --budget)")
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--out", default="runs/conditional-text")
    parser.add_argument("--json", default=None, help="also write the results here")
    parser.add_argument("--measure-only", action="store_true",
                        help="do not train: measure the runs already under --out")
    parser.add_argument("--all-checkpoints", action="store_true",
                        help="measure every kept checkpoint, not only the newest")
    args = parser.parse_args()
    results: dict[str, list[dict[str, object]]] = {}
    for method in args.methods.split(","):
        run = Path(args.out) / method
        if not args.measure_only:
            train(method, args.budget, run, args.data_dir, args.eval_every, args.steps)
        paths = sorted((run / "checkpoints").glob("step_*.pt"))
        for record in measure(paths[-1], 1, 0)["logged"]:  # type: ignore[union-attr]
            print(f"  step {record['step']:5d}: class accuracy {record['class_accuracy']:.3f} "
                  f"(question {record['class_accuracy_question']:.3f}, statement "
                  f"{record['class_accuracy_statement']:.3f}), accept "
                  f"{record['grammar_accept_rate']:.3f}, js4 {record['js4']:.3f}")
        results[method] = []
        for path in paths if args.all_checkpoints else paths[-1:]:
            result = measure(path, args.samples, args.per_class)
            results[method].append(result)
            print(f"{method} at step {result['step']}, {args.samples} argmax samples: class "
                  f"accuracy {result['class_accuracy']:.3f} (question "
                  f"{result['class_accuracy_question']:.3f}, statement "
                  f"{result['class_accuracy_statement']:.3f}); grammar accept "
                  f"{result['grammar_accept_rate']:.3f}, chance {result['chance']:.3f}, swapped "
                  f"{result['swapped']:.3f}, accepted in class {result['accepted_in_class']:.3f}")
            print(f"  first word of its class {result['class_start']:.3f} (question "
                  f"{result['class_start_question']:.3f}, statement "
                  f"{result['class_start_statement']:.3f}; label-blind "
                  f"{result['class_start_chance']:.3f}); final mark {result['class_end']:.3f} "
                  f"(question {result['class_end_question']:.3f}, statement "
                  f"{result['class_end_statement']:.3f}; label-blind "
                  f"{result['class_end_chance']:.3f}); distinct {result['distinct_samples']:.0f}")
            for name, lines in result["examples"].items():  # type: ignore[union-attr]
                for line in lines:
                    print(f"  {name}\t{line}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
