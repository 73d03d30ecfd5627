"""The ``text-tuning`` study: a search of the text recipe, each trial an ordinary text run.

A trial starts from the ``cpu`` preset with the settings the sampler proposes (any training or
text-model setting; the default space ``cpu-levers`` covers both learning rates, critic steps,
batch size, width and the text model's levers), trains within ``budget`` seconds of process CPU
time on one thread (:class:`textgan.benchmarking.Budget`, :func:`~textgan.benchmarking.train_within`)
and is scored by JS-4 of ``samples`` argmax samples against the held-out lines, exactly as
``benchmarks/recipes.py`` scores a recipe (:mod:`textgan.text.scoring`); lower is better.

The sampler is Optuna's TPE with the constant liar (a running trial counts as a bad one, so
parallel workers do not propose the same point), its random draws seeded by the study's seed
and the trial's number: a trial's proposal depends on the seed and the trials before it, not on
which worker asks. Settings that do not fit together (``critic_representations`` that does not
divide the critic's width) prune the trial with the reason; TPE then ranks that point last.
"""

from __future__ import annotations

import dataclasses
import math
import random
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from textgan.config import apply_overrides, check_limits, load_toml
from textgan.errors import ConfigError

PRESET = "cpu"
SAMPLES_FILE = "tuning-samples.txt"
DIVERGED_JS = 1.0  # JS in bits is at most 1: a diverged trial is given the worst score

# The default search: the two rates (log-uniform), critic steps, batch, width and the levers of
# the text model (docs/levers.md). Every combination fits: the representations (powers of two)
# divide every critic width.
CPU_LEVERS: dict[str, Any] = {
    "lr": {"low": 1e-4, "high": 3e-3, "log": True},
    "lr_critic": {"low": 3e-4, "high": 1e-2, "log": True},
    "critic_iters": [1, 2, 3],
    "batch_size": [16, 32, 64],
    "dim": [64, 96, 128],
    "critic_dim": [0, 128, 192],
    "critic_representations": [1, 2, 4, 8],
    "critic_norm": ["none", "layer"],
    "gen_output": ["softmax", "gumbel", "straight-through"],
    "gen_beta_max": [0.0, 10.0, 100.0],
    "attention": [0, 2, 4],
}
TUNING_SPACES = {"cpu-levers": CPU_LEVERS}


def _sections() -> dict[str, Any]:
    from textgan.core.trainer import TrainConfig
    from textgan.text.models import TextModelConfig

    return {"train": TrainConfig(), "model": TextModelConfig()}


def section_of(factor: str) -> str:
    """``train`` or ``model``: where a factor's setting lives."""
    for name, config in _sections().items():
        if factor in {f.name for f in dataclasses.fields(config)}:
            return name
    raise KeyError(factor)


# Settings the study itself decides: where and how a trial runs, not what it is.
FIXED = ("seed", "device", "threads", "eval_every", "sample_every", "checkpoint_every",
         "log_every", "time_budget", "distributed", "out")


def load_tuning_space(name: str) -> dict[str, Any]:
    """A named space or a TOML file of ``setting = [choices]`` or ``setting = {low = ..., high =
    ..., log = true}``; every setting a training or text-model setting, every choice of its
    type and within its limits (one line otherwise)."""
    if name in TUNING_SPACES:
        space = {k: (dict(v) if isinstance(v, dict) else list(v))
                 for k, v in TUNING_SPACES[name].items()}
    elif name.endswith(".toml"):
        if not Path(name).is_file():
            raise ConfigError(f"space file {name} does not exist")
        space = load_toml(name)
    else:
        raise ConfigError(f"unknown space {name!r}; use {', '.join(TUNING_SPACES)} or a TOML file "
                          "of setting = [choices] or {low, high, log}")
    check_tuning_space(space, name)
    return space


def check_tuning_space(space: Mapping[str, Any], where: str = "the space") -> None:
    """Each factor a training or text-model setting, with a non-empty list of choices or a
    numeric range ``{low, high, log}`` (low < high; log needs low > 0), every value valid for
    the setting on its own."""
    if not space:
        raise ConfigError(f"{where}: no factors; give at least one setting = [choices]")
    sections = _sections()
    for factor, spec in space.items():
        try:
            section = section_of(factor)
        except KeyError:
            raise ConfigError(f"{where}: unknown factor {factor!r}; a factor is a [train] or "
                              "[model] setting of the text mode (docs/configuration.md)") from None
        if factor in FIXED:
            raise ConfigError(f"{where}: {factor} is set by the study, not searched")
        if isinstance(spec, dict):
            values = _range_values(factor, spec, where)
        elif isinstance(spec, list) and spec:
            values = spec
        else:
            raise ConfigError(f"{where}: {factor} must be a non-empty list of choices or "
                              "{low, high, log}")
        for value in values:
            try:
                check_limits(apply_overrides(sections[section], {factor: value}, section),
                             section)
            except ConfigError as err:
                raise ConfigError(f"{where}: {factor} = {value!r}: {err}") from None


def _range_values(factor: str, spec: Mapping[str, Any], where: str) -> list[Any]:
    extra = set(spec) - {"low", "high", "log"}
    if extra or not {"low", "high"} <= set(spec):
        raise ConfigError(f"{where}: {factor} range must be {{low, high}} with an optional log, "
                          f"got keys {', '.join(sorted(spec))}")
    low, high = spec["low"], spec["high"]
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (low, high))
    if not numbers or not (math.isfinite(low) and math.isfinite(high)) or not low < high:
        raise ConfigError(f"{where}: {factor} range needs numbers low < high, got low = {low!r}, "
                          f"high = {high!r}")
    if not isinstance(spec.get("log", False), bool):
        raise ConfigError(f"{where}: {factor} log must be true or false")
    if spec.get("log") and low <= 0:
        raise ConfigError(f"{where}: {factor} log range needs low > 0, got {low}")
    return [low, high]


def suggest(trial: Any, space: Mapping[str, Any]) -> dict[str, Any]:
    """The trial's value of every factor: a categorical choice, or an int (both bounds ints)
    or float range."""
    params: dict[str, Any] = {}
    for factor, spec in space.items():
        if isinstance(spec, dict):
            low, high, log = spec["low"], spec["high"], bool(spec.get("log", False))
            if isinstance(low, int) and isinstance(high, int):
                params[factor] = trial.suggest_int(factor, low, high, log=log)
            else:
                params[factor] = trial.suggest_float(factor, float(low), float(high), log=log)
        else:
            params[factor] = trial.suggest_categorical(factor, list(spec))
    return params


def make_sampler(seed: int) -> Any:
    """Optuna's TPE sampler with the constant liar, reseeded at every trial from ``seed`` and the
    trial's number (so N workers sharing one study never draw the same random start)."""
    from optuna.samplers import RandomSampler, TPESampler

    class SeededTPE(TPESampler):
        def before_trial(self, study: Any, trial: Any) -> None:
            trial_seed = (seed * 1_000_003 + trial.number) % 2**32
            self._rng.rng.seed(trial_seed)
            self._random_sampler = RandomSampler(seed=trial_seed)
            super().before_trial(study, trial)

    return SeededTPE(seed=seed, constant_liar=True)


def run_steps(config: Any) -> int:
    """A trial's recorded length at its start: ``steps``, else the cpu preset's (a placeholder
    until the trial's schedule is first sized to its budget: :func:`sizes_to_budget`)."""
    if config.steps:
        return int(config.steps)
    from textgan.benchmarking import configure

    return int(configure(PRESET).train.steps)


def sizes_to_budget(config: Any) -> int:
    """``size_after`` of :func:`~textgan.benchmarking.train_within` for a trial: with ``steps``
    0, each trial's linear schedule is sized to end with its budget (after 20, 200 and 2000
    steps, at its own pace so far), so that a slow setting's rate reaches 0 as a fast one's does
    and the preset's step count, sized on one core, fits any core; 0 with ``steps`` given."""
    from textgan.benchmarking import SIZE_AFTER

    return 0 if config.steps else SIZE_AFTER


def data_settings(config: Any) -> dict[str, Any]:
    return {"corpus": config.corpus, "corpus_path": config.corpus_path,
            "valid_path": config.valid_path, "data_dir": config.data_dir,
            "seq_len": config.seq_len or None}


def trial_settings(config: Any, params: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The trial's changes to the ``cpu`` preset: the study's fixed settings and the sampled
    ones, as ``{"train": ..., "model": ...}``."""
    train: dict[str, Any] = {"seed": config.seed, "device": "cpu", "threads": config.threads,
                             "eval_every": 0, "sample_every": 0, "checkpoint_every": 10**9,
                             "log_every": 10, "steps": run_steps(config)}
    model: dict[str, Any] = {}
    for factor, value in params.items():
        (train if section_of(factor) == "train" else model)[factor] = value
    return {"train": train, "model": model}


def run_config(config: Any, params: Mapping[str, Any]) -> Any:
    """The run configuration of a trial (a ConfigError when its settings do not fit together)."""
    from textgan.benchmarking import configure

    settings = trial_settings(config, params)
    return configure(PRESET, train=settings["train"], data=data_settings(config),
                     model=settings["model"])


def preset_point(config: Any, space: Mapping[str, Any]) -> dict[str, Any]:
    """The ``cpu`` preset's own value of each searched setting, where the space holds it (a
    choice it lists, a value in its range): the first trial's settings, so that the search starts
    from a known reference and the study shows whether it found better. A setting whose preset
    value lies outside the space is left to the sampler."""
    resolved = run_config(config, {})
    point: dict[str, Any] = {}
    for factor, spec in space.items():
        value = getattr(getattr(resolved, section_of(factor)), factor)
        inside = (spec["low"] <= value <= spec["high"]) if isinstance(spec, dict) else (
            value in spec)
        if inside:
            point[factor] = value
    return point


def check_fits(config: Any, space: Mapping[str, Any], tries: int = 200) -> None:
    """Some of the space's points fit together: ``tries`` random points, one must resolve (a
    space whose settings always conflict is one line before anything runs)."""
    rng = random.Random(config.seed)
    reason = ""
    for _ in range(tries):
        params = {f: (rng.choice(s) if isinstance(s, list) else s["low"] if rng.random() < 0.5
                      else s["high"]) for f, s in space.items()}
        try:
            run_config(config, params)
            return
        except ConfigError as err:
            reason = str(err)
    raise ConfigError(f"no setting of the space fits together ({tries} tried), e.g. {reason}")


# --- the study's facts, before any trial -----------------------------------------------------


def corpus_of(config: Any) -> Any:
    """The study's prepared corpus (prepared here the first time, under its lock)."""
    from textgan.text.prepare import load_corpus

    return load_corpus(run_config(config, {}).data)


def tuning_facts(config: Any) -> dict[str, Any]:
    """The corpus is prepared, the held-out references built (and cached) and the real-vs-real
    floor of JS-4 measured, once, before any worker starts."""
    import numpy as np

    from textgan.text.scoring import floor_js4, heldout_table

    corpus = corpus_of(config)
    table = heldout_table(corpus)
    floor = floor_js4(np.asarray(corpus.train), len(corpus.vocab), table, config.samples)
    if config.lm:
        from textgan.text.evaluation import reference_for

        reference_for(corpus, "valid")
    label = (Path(config.corpus_path).name if config.corpus_path else str(config.corpus))
    n = min(config.samples, len(corpus.train))
    return {"score": "JS-4 (lower is better)", "metric": "js4", "lower_is_better": True,
            "real_score": floor, "real_images": f"{n:,} random training lines vs the held-out "
            "lines, mean of 5 draws", "corpus": label, "seq_len": corpus.seq_len,
            "vocab": len(corpus.vocab), "train_lines": len(corpus.train),
            "valid_lines": len(corpus.valid), "thresholds": [], "fractions": [],
            "space": load_tuning_space(config.space_name), "preset": PRESET,
            "run_steps": run_steps(config), "sized_to_budget": bool(sizes_to_budget(config))}


# --- one trial -----------------------------------------------------------------------------------


class Surplus(Exception):
    """A trial asked after the study had its ``trials``: it is failed, not run (a failed trial
    is not a data point for TPE)."""


def counted_before(study: Any, number: int) -> int:
    """Trials before ``number`` that count towards ``trials``: completed or running ones."""
    from optuna.trial import TrialState

    states = (TrialState.COMPLETE, TrialState.RUNNING)
    return sum(t.number < number for t in study.get_trials(deepcopy=False, states=states))


def run_tuning_trial(directory: Path, config: Any, trial: Any, space: Mapping[str, Any],
                     original: int, scoring: dict[str, Any]) -> float:
    """Train one trial within its budget and score it; its run is ``trials/trial-NNNN`` by the
    original trial's number. A retry (its worker died) starts the run again from scratch: the
    CPU seconds spent before the kill are in no checkpoint, so a resumed run would get more than
    its budget."""
    import optuna
    import torch

    from textgan.benchmarking import Budget, train_within
    from textgan.errors import DivergenceError
    from textgan.io.atomic import atomic_write_text
    from textgan.text.scoring import argmax_ids, decode_lines, js_orders, lm_bits, samplers_of

    retry = original != trial.number
    if not retry and counted_before(trial.study, trial.number) >= config.trials:
        raise Surplus("the study has its trials")
    params = suggest(trial, space)
    try:
        resolved = run_config(config, params)
    except ConfigError as err:
        trial.set_user_attr("pruned", str(err)[:300])
        raise optuna.TrialPruned(str(err)) from None
    out = directory / "trials" / f"trial-{original:04d}"
    trial.set_user_attr("run_dir", str(out.relative_to(directory)))
    trial.set_user_attr("settings", trial_settings(config, params))
    trial.set_user_attr("restarted", out.exists())
    if out.exists():  # a killed attempt of this trial: its budget starts again
        shutil.rmtree(out)
    torch.set_num_threads(config.threads)
    if "corpus" not in scoring:
        from textgan.text.scoring import heldout_table

        scoring["corpus"] = corpus_of(config)
        scoring["table"] = heldout_table(scoring["corpus"])
    corpus, table = scoring["corpus"], scoring["table"]
    budget = Budget(config.budget, "cpu")
    try:
        done = train_within(resolved, budget, out=out, size_after=sizes_to_budget(config))
    except DivergenceError as err:
        trial.set_user_attr("diverged", str(err)[:300])
        trial.set_user_attr("js4", None)
        return DIVERGED_JS
    trial.set_user_attr("steps", done.steps)
    trial.set_user_attr("schedule_steps", done.schedule_steps)
    trial.set_user_attr("cpu_seconds", done.cpu_seconds)
    trial.set_user_attr("wall_seconds", done.wall_seconds)
    models = samplers_of(done.session)
    ids = argmax_ids(models[""], config.samples)
    js4 = js_orders(ids, len(corpus.vocab), table)[4]
    lines = decode_lines(corpus, ids)
    atomic_write_text(out / SAMPLES_FILE, "".join(line + "\n" for line in lines))
    trial.set_user_attr("js4", js4)
    if "_raw" in models:
        raw = argmax_ids(models["_raw"], config.samples)
        trial.set_user_attr("js4_raw", js_orders(raw, len(corpus.vocab), table)[4])
    if config.lm:
        for key, value in lm_bits(lines, corpus).items():
            trial.set_user_attr(key, value)
    return js4


# --- what the study found ------------------------------------------------------------------------

BEST_ROWS = 10  # trials in the printed table
BEST_RECIPES = 5  # winners whose full settings the result file keeps


def tuning_rows(study: Any, original_number: Callable[[Any], int]) -> list[dict[str, Any]]:
    """Every completed trial: its number, settings, score and cost."""
    from optuna.trial import TrialState

    rows = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        a = t.user_attrs
        rows.append({"trial": t.number, "original": original_number(t), "params": dict(t.params),
                     "js4": a.get("js4"), "js4_raw": a.get("js4_raw"),
                     "lm_forward_bpc": a.get("lm_forward_bpc"),
                     "lm_reverse_bpc": a.get("lm_reverse_bpc"), "steps": a.get("steps"),
                     "schedule_steps": a.get("schedule_steps"),
                     "cpu_seconds": a.get("cpu_seconds"), "wall_seconds": a.get("wall_seconds"),
                     "diverged": "diverged" in a, "restarted": bool(a.get("restarted")),
                     "preset": bool(a.get("preset")),
                     "run_dir": a.get("run_dir"), "settings": a.get("settings", {}),
                     "started": t.datetime_start.timestamp(),
                     "completed": t.datetime_complete.timestamp()})
    return sorted(rows, key=lambda r: r["trial"])


def ranked(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Best first: the lowest JS-4; diverged trials last."""
    return sorted(rows, key=lambda r: (r["js4"] is None, r["js4"] or 0.0, r["trial"]))


def _short(value: Any) -> Any:
    """A sampled value as the table shows it (a rate as 6.93e-04, not rounded away)."""
    if isinstance(value, float):
        return f"{value:.3g}"
    return value


def best_table(rows: Sequence[Mapping[str, Any]], space: Mapping[str, Any],
               n: int = BEST_ROWS) -> list[dict[str, Any]]:
    """The ``n`` best trials: settings, JS-4, LM bits per character, steps and CPU seconds."""
    table = []
    for r in ranked(rows)[:n]:
        row: dict[str, Any] = {"trial": r["trial"]}
        row |= {f: _short(r["params"].get(f)) for f in space}
        row |= {"JS-4": r["js4"], "LM fwd": r["lm_forward_bpc"], "LM rev": r["lm_reverse_bpc"],
                "steps": r["steps"],
                "CPU-s": None if r["cpu_seconds"] is None else round(r["cpu_seconds"], 1)}
        table.append(row)
    return table


def winners(rows: Sequence[Mapping[str, Any]], n: int = BEST_RECIPES) -> list[dict[str, Any]]:
    """The best trials as recipes: the preset and every setting changed from it."""
    out = []
    for r in ranked(rows)[:n]:
        if r["js4"] is None:
            break
        settings = r["settings"]
        out.append({"trial": r["trial"], "js4": r["js4"], "lm_forward_bpc": r["lm_forward_bpc"],
                    "lm_reverse_bpc": r["lm_reverse_bpc"], "steps": r["steps"],
                    "run_dir": r["run_dir"], "preset": PRESET,
                    "train": {k: v for k, v in settings.get("train", {}).items()
                              if k not in FIXED},
                    "model": dict(settings.get("model", {}))})
    return out


def running_best(rows: Sequence[Mapping[str, Any]]) -> list[float]:
    """The best JS-4 so far, trial by trial (in trial order)."""
    best, out = math.inf, []
    for r in rows:
        if r["js4"] is not None:
            best = min(best, r["js4"])
        out.append(best)
    return out


def draw_history(rows: Sequence[Mapping[str, Any]], floor: float, path: Path) -> Path:
    """JS-4 of every trial against its number, the running best, and the real-vs-real floor."""
    from textgan.plots import cycle_color, new_figure, save_png

    fig = new_figure(figsize=(6.5, 4))
    ax = fig.add_subplot(1, 1, 1)
    scored = [r for r in rows if r["js4"] is not None]
    ax.scatter([r["trial"] for r in scored], [r["js4"] for r in scored], s=14,
               color=cycle_color(0), label="trial")
    best = running_best(rows)
    ax.step([r["trial"] for r in rows], best, where="post", color=cycle_color(1),
            label="best so far")
    ax.axhline(floor, color="0.6", ls="--", lw=0.8, label="real-vs-real floor")
    ax.set_xlabel("trial")
    ax.set_ylabel("JS-4 (lower is better)")
    ax.set_title("text-tuning: optimisation history", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_png(fig, path, dpi=110)


def tuning_summary(directory: Path, config: Any, facts: Mapping[str, Any], study: Any,
                   original_number: Callable[[Any], int]) -> dict[str, Any]:
    """The study's rows, table, winners and figure (the result file is written by the caller)."""
    rows = tuning_rows(study, original_number)
    space = facts["space"]
    scale = (f"{config.budget:g} process CPU-s per trial on {config.threads} thread(s), the "
             f"{PRESET} preset with the sampled settings, "
             + ("each schedule sized to end with the budget"
                if facts.get("sized_to_budget") else
                f"{facts['run_steps']} steps recorded (the schedule's end)")
             + f", {config.samples} argmax samples scored, corpus "
             f"{facts['corpus']} ({facts['seq_len']} characters a line)")
    figure = draw_history(rows, facts["real_score"], directory / "study.png")
    preset = next(({k: r[k] for k in ("trial", "params", "js4", "lm_forward_bpc",
                                       "lm_reverse_bpc", "steps")}
                   for r in rows if r["preset"]), None)
    return {"experiment": config.experiment, "scale": scale, "facts": facts, "trials": rows,
            "space": space, "best": winners(rows), "table": best_table(rows, space),
            "preset_trial": preset, "floor_js4": facts["real_score"], "figure": str(figure)}
