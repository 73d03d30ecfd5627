"""What a study found: the outcome table (the paper's Table 2 layout), the curves, the figure and
the result file.

Success of an architecture under an objective is a score *above* a threshold (the paper: "score
> min score"); thresholds are fractions of the real held-out images' score, fixed in
``study.json`` before any trial ran.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from textgan.errors import TextganError
from textgan.study.spaces import FIGURE2_WIDTH, PAPER_STEPS, scaled_width

# The paper's Table 5 (Table 2 is its rows 1.0, 3.0, 5.0, 7.0, 9.0): Inception-score thresholds on
# 32×32 ImageNet, 200 architectures; its standard DCGAN scored 7.24.
PAPER_TABLE5: list[dict[str, float | int]] = [
    {"min score": t, "only GAN": g, "only WGAN-GP": w, "both": b, "neither": n}
    for t, g, w, b, n in [
        (1.0, 0, 8, 192, 0), (1.5, 0, 50, 150, 0), (2.0, 0, 60, 140, 0), (2.5, 0, 74, 125, 1),
        (3.0, 1, 88, 110, 1), (3.5, 0, 111, 86, 3), (4.0, 1, 126, 67, 6), (4.5, 0, 136, 55, 9),
        (5.0, 0, 147, 42, 11), (5.5, 0, 148, 32, 20), (6.0, 0, 145, 21, 34),
        (6.5, 1, 131, 11, 57), (7.0, 1, 104, 5, 90), (7.5, 2, 67, 3, 128), (8.0, 1, 34, 0, 165),
        (8.5, 0, 6, 0, 194), (9.0, 0, 0, 0, 200)]]
PAPER_TABLE2 = [row for row in PAPER_TABLE5 if row["min score"] in (1.0, 3.0, 5.0, 7.0, 9.0)]
PAPER_DCGAN_SCORE = 7.24


def outcome_table(scores: Mapping[int, Mapping[str, float]], thresholds: Sequence[float],
                  fractions: Sequence[float] | None = None, gan: str = "gan",
                  wgan: str = "wgan-gp") -> list[dict[str, Any]]:
    """For each threshold $t$: how many architectures only the GAN, only WGAN-GP, both or neither
    trained to a score $> t$. ``scores``: architecture → {arm: score}; architectures without
    both scores are left out."""
    pairs = [(s[gan], s[wgan]) for s in scores.values() if gan in s and wgan in s]
    rows = []
    for i, t in enumerate(thresholds):
        g = [a > t for a, _ in pairs]
        w = [b > t for _, b in pairs]
        row: dict[str, Any] = {"min score": t}
        if fractions is not None:
            row["of real"] = f"{100 * fractions[i]:.0f}%"
        row |= {"only GAN": sum(x and not y for x, y in zip(g, w, strict=True)),
                "only WGAN-GP": sum(y and not x for x, y in zip(g, w, strict=True)),
                "both": sum(x and y for x, y in zip(g, w, strict=True)),
                "neither": sum(not x and not y for x, y in zip(g, w, strict=True))}
        rows.append(row)
    return rows


def trials(directory: Path) -> list[dict[str, Any]]:
    """The completed trials of the study in ``directory``, one dict each."""
    from optuna.trial import TrialState

    from textgan.study.engine import STUDY_FILE, load_study, original_number, resolve_study

    if not (directory / STUDY_FILE).is_file():
        raise TextganError(f"{directory} is not a study directory (no {STUDY_FILE}); start one "
                           "with `textgan study run DIR`")
    study = load_study(directory, resolve_study(directory))
    out = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        if "score" not in t.user_attrs:
            continue
        duration = (t.datetime_complete - t.datetime_start).total_seconds()
        out.append({"trial": t.number, "original": original_number(t),
                    "arch": t.params["arch"], "arm": t.params["arm"],
                    "score": t.user_attrs["score"], "diverged": "diverged" in t.user_attrs,
                    "resumed": bool(t.user_attrs.get("resumed")),
                    "train_seconds": t.user_attrs.get("train_seconds"),
                    "trial_seconds": duration, "run_dir": t.user_attrs.get("run_dir"),
                    "factors": t.user_attrs.get("factors", {}),
                    "started": t.datetime_start.timestamp(),
                    "completed": t.datetime_complete.timestamp()})
    return sorted(out, key=lambda r: (r["arch"], r["arm"]))


def curves(directory: Path, rows: Sequence[Mapping[str, Any]], metric: str = "classifier_score"
           ) -> dict[str, dict[str, list[float]]]:
    """Per arm: score against generator iterations and against training seconds (the sum of
    ``sec_per_step``, which excludes the time spent scoring; that is kept apart)."""
    from textgan.core.run import Run

    out: dict[str, dict[str, list[float]]] = {}
    for row in rows:
        metrics = Run(directory / row["run_dir"]).read_metrics()
        seconds = scoring = 0.0
        curve: dict[str, list[float]] = {"step": [], "score": [], "train_seconds": [],
                                         "score_seconds": []}
        for m in metrics:
            seconds += m.get("sec_per_step", 0.0)
            if metric in m:
                scoring += m.get("classifier_score_seconds", 0.0)
                curve["step"].append(m["step"])
                curve["score"].append(m[metric])
                curve["train_seconds"].append(seconds)
                curve["score_seconds"].append(scoring)
        out[row["arm"]] = curve
    return out


# Figure 2's column titles.
OBJECTIVE_TITLES = {"gan": "DCGAN", "lsgan": "LSGAN", "wgan-clip": "WGAN (clipping)",
                    "wgan-gp": "WGAN-GP"}


def newest_grid(run_dir: Path) -> Path | None:
    """A run's newest sample grid (``samples/step_*.png``), or None."""
    grids = sorted((run_dir / "samples").glob("step_*.png"))
    return grids[-1] if grids else None


def figure2_cells(directory: Path, rows: Sequence[Mapping[str, Any]], archs: Sequence[str]
                  ) -> dict[str, dict[str, dict[str, Any]]]:
    """architecture → objective → {score, run_dir, grid}: one cell of the figure per trial."""
    cells: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in archs}
    for r in rows:
        grid = newest_grid(directory / r["run_dir"])
        cells[archs[r["arch"]]][r["arm"]] = {
            "score": r["score"], "diverged": r["diverged"], "run_dir": r["run_dir"],
            "grid": None if grid is None else str(grid.relative_to(directory))}
    return cells


def _draw_figure2(directory: Path, data: Mapping[str, Any]) -> Any:
    """Rows = architectures, columns = objectives: each cell a trial's last sample grid with its
    score beside it (the paper's Figure 2 layout)."""
    from PIL import Image

    from textgan.plots import new_figure

    archs, objectives, cells = data["archs"], data["objectives"], data["cells"]
    metric = data["facts"].get("metric", "classifier_score")
    fig = new_figure(figsize=(2.3 * len(objectives) + 1.4, 2.0 * len(archs) + 0.6))
    for i, arch in enumerate(archs):
        for j, objective in enumerate(objectives):
            ax = fig.add_subplot(len(archs), len(objectives), i * len(objectives) + j + 1)
            ax.set_xticks([])
            ax.set_yticks([])
            cell = cells[arch].get(objective)
            if cell and cell["grid"]:
                with Image.open(directory / cell["grid"]) as image:
                    ax.imshow(image.convert("RGB"))
            text = ("not run" if cell is None else "diverged" if cell["diverged"]
                    else format_score(cell["score"], metric))
            ax.text(1.04, 0.5, text, transform=ax.transAxes, rotation=90, va="center",
                    ha="left", fontsize=8)
            if i == 0:
                ax.set_title(OBJECTIVE_TITLES.get(objective, objective), fontsize=9)
            if j == 0:
                ax.set_ylabel(arch, fontsize=8)
    fig.suptitle(f"score: {score_caption(data['facts'])}", fontsize=9)
    return fig


def format_score(score: float | None, metric: str) -> str:
    """A score as the figure and table show it: SWD (about 0.001–0.1) with 4 decimals."""
    if score is None:
        return ""
    return f"{score:.4f}" if metric == "swd" else f"{score:.2f}"


def score_caption(facts: Mapping[str, Any]) -> str:
    """The score's name and its real-images reference: the ceiling of a score that grows, the
    floor of SWD (held-out vs training real images)."""
    metric = facts.get("metric", "classifier_score")
    if metric == "js4":
        return f"{facts['score']}; real-vs-real floor {facts['real_score']:.4f}"
    if metric == "swd":
        return (f"{facts['score']}; real images' floor (held-out vs training) "
                f"{format_score(facts['real_score'], metric)}")
    return f"{facts['score']} (real held-out images {facts['real_score']:.2f})"


def draw(directory: Path, kind: str, data: Mapping[str, Any], path: Path) -> Path:
    """The study's figure: the two scores of each architecture (random-architectures), the
    two-panel convergence plot (clipping), or the grid of samples (figure2)."""
    from textgan.plots import cycle_color, new_figure, save_png

    facts = data["facts"]
    label = f"{facts['score']} (real held-out images: {facts['real_score']:.2f})"
    if kind == "figure2":
        fig = _draw_figure2(directory, data)
    elif kind == "random-architectures":
        fig = new_figure(figsize=(5.5, 5))
        ax = fig.add_subplot(1, 1, 1)
        pairs = [(s.get("gan"), s.get("wgan-gp")) for s in data["scores"].values()]
        pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
        ax.scatter([a for a, _ in pairs], [b for _, b in pairs], s=14, color=cycle_color(0))
        for t in facts["thresholds"]:
            ax.axvline(t, color="0.8", lw=0.8)
            ax.axhline(t, color="0.8", lw=0.8)
        top = max([facts["real_score"], *[max(p) for p in pairs]] or [1.0])
        ax.plot([1, top], [1, top], color="0.5", lw=0.8, ls="--")
        ax.set_xlabel(f"standard GAN: {facts['score']}")
        ax.set_ylabel(f"WGAN-GP: {facts['score']}")
        ax.set_title(f"{len(pairs)} random architectures (lines: thresholds)", fontsize=9)
    else:
        fig = new_figure(figsize=(10, 4))
        for k, (x_key, x_label) in enumerate((("step", "generator iterations"),
                                              ("train_seconds", "training seconds (scoring "
                                               "excluded)"))):
            ax = fig.add_subplot(1, 2, k + 1)
            for i, (arm, curve) in enumerate(data["curves"].items()):
                ax.plot(curve[x_key], curve["score"], label=arm, color=cycle_color(i))
            ax.axhline(facts["real_score"], color="0.6", ls="--", lw=0.8, label="real images")
            ax.set_xlabel(x_label)
            ax.set_ylabel(label if k == 0 else "")
            ax.legend(fontsize=7)
    fig.tight_layout()
    return save_png(fig, path, dpi=110)


def summarise(directory: str | Path, results_dir: str | Path | None = None,
              name: str | None = None, command: str | None = None,
              timing: Mapping[str, Any] | None = None, note: str | None = None
              ) -> dict[str, Any]:
    """Read the study in ``directory``; write its figure (``study.png``) and its result file
    (``<results_dir>/<name>.json`` + ``.md``, default: the study directory); return the table."""
    from textgan.results import write_result
    from textgan.study.engine import FACTS_FILE, STUDY_FILE, resolve_study

    directory = Path(directory)
    if not (directory / STUDY_FILE).is_file() or not (directory / FACTS_FILE).is_file():
        raise TextganError(f"{directory} is not a study directory (no {STUDY_FILE}); start one "
                           "with `textgan study run DIR`")
    config = resolve_study(directory)
    facts = json.loads((directory / FACTS_FILE).read_text())
    if config.experiment == "text-tuning":
        return _summarise_tuning(directory, config, facts, results_dir, name, command, timing,
                                 note)
    rows = trials(directory)
    scores: dict[int, dict[str, float]] = {}
    for r in rows:
        scores.setdefault(r["arch"], {})[r["arm"]] = r["score"]
    data: dict[str, Any] = {"facts": facts, "scores": scores}
    steps = config.total_steps
    scale = (f"{steps} generator iterations per trial (paper: "
             f"{PAPER_STEPS[config.experiment]:,}), filter counts × {config.width_scale:g}, "
             f"batch {config.batch_size}, {config.dataset} at {config.side}×{config.side}")
    if config.experiment == "figure2":
        scale += (f" (DIM {scaled_width(FIGURE2_WIDTH, config.width_scale)}; paper: "
                  f"{FIGURE2_WIDTH}, LSUN bedrooms at 64×64)")
    out: dict[str, Any] = {"experiment": config.experiment, "scale": scale, "facts": facts,
                           "trials": rows}
    if config.experiment == "random-architectures":
        table = outcome_table(scores, facts["thresholds"], facts["fractions"])
        both = [s for s in scores.values() if "gan" in s and "wgan-gp" in s]
        out |= {"table": table, "paper_table2": PAPER_TABLE2, "paper_table5": PAPER_TABLE5,
                "architectures": len(both),
                # below every threshold too: which objective scored higher, architecture by
                # architecture
                "wgan_gp_higher": sum(s["wgan-gp"] > s["gan"] for s in both),
                "gan_higher": sum(s["gan"] > s["wgan-gp"] for s in both)}
        question = ("How many random DCGAN variants (the paper's Table 1) train to a score above "
                    "each threshold with the standard GAN objective, with WGAN-GP, with both, "
                    "with neither?")
    elif config.experiment == "figure2":
        archs, objectives = config.figure2_archs(), config.figure2_objectives()
        cells = figure2_cells(directory, rows, archs)
        data |= {"archs": archs, "objectives": objectives, "cells": cells}
        out |= {"archs": archs, "objectives": objectives, "cells": cells}
        table = [{"architecture": arch, **{
            OBJECTIVE_TITLES[o]: (None if o not in cells[arch] else "diverged"
                                  if cells[arch][o]["diverged"] else cells[arch][o]["score"])
            for o in objectives}} for arch in archs]
        out["score"] = facts["score"]
        out["table"] = table
        question = ("Which of gan_64x64.py's architectures does each objective (DCGAN, LSGAN, "
                    "WGAN with clipping, WGAN-GP, each with its own optimiser) train, the "
                    f"paper's Figure 2? Each cell's score: {facts['score']}.")
    else:
        data["curves"] = out["curves"] = curves(directory, rows,
                                                facts.get("metric", "classifier_score"))
        table = [{"arm": arm, "final score": c["score"][-1] if c["score"] else None,
                  "best score": max(c["score"]) if c["score"] else None,
                  "training seconds": c["train_seconds"][-1] if c["train_seconds"] else None,
                  "scoring seconds": c["score_seconds"][-1] if c["score_seconds"] else None}
                 for arm, c in out["curves"].items()]
        out["table"] = table
        question = ("How fast and how far do WGAN with weight clipping, WGAN-GP (RMSProp, Adam) "
                    "and DCGAN train gan_cifar.py's DCGAN (the paper's Figure 3)?")
    from textgan.study.engine import load_study

    out["timing"] = timing_of(rows) | dict(timing or {})
    out["timing"]["runs"] = load_study(directory, config).user_attrs.get("runs", [])
    figure = draw(directory, config.experiment, data, directory / "study.png")
    out["figure"] = str(figure)
    name = name or f"study-{config.experiment}"
    metric = facts.get("metric", "classifier_score")
    if metric == "classifier_score":
        notes = (f"Score: {facts['score']} = exp(E_x KL(p(y|x) || p(y))) with textgan's own label "
                 f"classifier (accuracy {facts['classifier_accuracy']:.3f} on "
                 f"{facts['classifier_held_out']}), not an Inception score; ")
    elif metric == "swd":
        notes = (f"Score: {facts['score']}, the sliced Wasserstein distance between "
                 f"{config.score_images:,} held-out real images and as many generated ones "
                 f"({facts['swd_projections']} projections, pixels in [0, 1]); ")
    else:
        notes = "Score: torch-fidelity's Inception score; "
    if metric == "swd":
        notes += (f"real images' floor {facts['real_score']:.4f} ({facts['real_images']}). "
                  f"Scale: {scale}.")
    else:
        notes += (f"real held-out images score {facts['real_score']:.3f} "
                  f"({facts['real_images']}). Scale: {scale}.")
    if config.dataset in ("mnist", "fashion-mnist"):
        notes += (" 28×28 grey images are padded with 2 background pixels per side to 32×32; "
                  "the classifier scores the central 28×28 of each generated image.")
    if config.experiment == "random-architectures":
        notes += (" Paper (Inception score on 32×32 ImageNet, absolute thresholds, DCGAN 7.24): "
                  + "; ".join(f"> {r['min score']}: only GAN {r['only GAN']}, only WGAN-GP "
                              f"{r['only WGAN-GP']}, both {r['both']}, neither {r['neither']}"
                              for r in PAPER_TABLE2) + ".")
    if config.experiment == "figure2":
        notes += (" Paper (LSUN bedrooms at 64×64, 200k iterations, samples judged by eye): only "
                  "WGAN-GP trained every architecture with one set of hyperparameters.")
    notes += _run_commands(out["timing"]["runs"])
    if note:
        notes += " " + note
    copied = _figure_beside_result(out, directory, results_dir, name)
    path = write_result(results_dir or directory, name, question, out, command=command,
                        threads=config.threads, notes=notes, table=table,
                        extra={"study": {k: v for k, v in vars(config).items()
                                         if k != "storage"}})
    out["result"] = str(path)
    if copied:
        out["figure"] = str(copied)
    return out


def _summarise_tuning(directory: Path, config: Any, facts: Mapping[str, Any],
                      results_dir: str | Path | None, name: str | None, command: str | None,
                      timing: Mapping[str, Any] | None, note: str | None) -> dict[str, Any]:
    """text-tuning: the best trials' table, the optimisation history (``study.png``) and the
    result file with the search space and the winners' full settings."""
    from textgan.results import write_result
    from textgan.study.engine import load_study, original_number
    from textgan.study.tuning import tuning_summary

    study = load_study(directory, config)
    out = tuning_summary(directory, config, facts, study, original_number)
    rows = [r | {"trial_seconds": r["completed"] - r["started"],
                 "train_seconds": r["wall_seconds"]} for r in out["trials"]]
    out["timing"] = timing_of(rows) | dict(timing or {})
    out["timing"]["runs"] = study.user_attrs.get("runs", [])
    states = progress_of_states(study)
    out["states"] = states
    best = out["best"][0] if out["best"] else None
    notes = (f"Score: JS-4 (bits) of {config.samples} argmax samples (of the generator's moving "
             f"average) against the held-out lines, as benchmarks/recipes.py computes it; lower "
             f"is better; real-vs-real floor {facts['real_score']:.4f} ({facts['real_images']}). "
             f"Sampler: Optuna TPE, constant liar, seed {config.seed}. Scale: {out['scale']}. "
             f"Trials by state: {states}.")
    if best:
        notes += (f" Best: trial {best['trial']}, JS-4 {best['js4']:.4f}; its recipe is the "
                  f"{best['preset']} preset with train {best['train']} and model {best['model']}.")
    notes += _run_commands(out["timing"]["runs"])
    if note:
        notes += " " + note
    name = name or f"study-{config.experiment}"
    copied = _figure_beside_result(out, directory, results_dir, name)
    question = ("Which settings of the text recipe (rates, widths, batch, critic steps, the text "
                f"model's levers) reach the lowest JS-4 within {config.budget:g} CPU-seconds?")
    path = write_result(results_dir or directory, name, question, out, command=command,
                        threads=config.threads, notes=notes, table=out["table"],
                        extra={"study": {k: v for k, v in vars(config).items()
                                         if k != "storage"}, "space": out["space"]})
    out["result"] = str(path)
    if copied:
        out["figure"] = str(copied)
    return out


def _run_commands(runs: Sequence[Mapping[str, Any]]) -> str:
    """The `study run` commands that ran the trials (the result's own command is `show`)."""
    commands = list(dict.fromkeys(r["command"] for r in runs if r.get("command")))
    return (" Trials run by: " + "; ".join(f"`{c}`" for c in commands) + ".") if commands else ""


def _figure_beside_result(out: dict[str, Any], directory: Path,
                          results_dir: str | Path | None, name: str) -> Path | None:
    """A result file written outside the study directory gets the figure beside it, as
    ``<name>.png``, named relatively so the folder can be moved or shared; returns the copy."""
    if results_dir is None or Path(results_dir).resolve() == directory.resolve():
        return None
    target = Path(results_dir) / f"{name}.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(out["figure"], target)
    out["figure"] = target.name
    return target


def progress_of_states(study: Any) -> dict[str, int]:
    from textgan.study.engine import progress_of

    return progress_of(study)


def timing_of(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Trials per hour (first start to last completion) and the engine's overhead per trial:
    a trial's wall time minus the time inside the training call."""
    if not rows:
        return {}
    span = max(r["completed"] for r in rows) - min(r["started"] for r in rows)
    overhead = [r["trial_seconds"] - r["train_seconds"] for r in rows
                if r["train_seconds"] is not None]
    return {"trials": len(rows), "span_seconds": span,
            "trials_per_hour": 3600 * len(rows) / span if span > 0 else None,
            "mean_trial_seconds": sum(r["trial_seconds"] for r in rows) / len(rows),
            "mean_overhead_seconds": sum(overhead) / len(overhead) if overhead else None}
