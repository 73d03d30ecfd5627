"""The study engine: Optuna keeps the books, every trial is an ordinary textgan run.

A study directory holds ``study.toml`` (its :class:`~textgan.study.spaces.StudyConfig`, fixed at
creation), ``study.json`` (the real images' score and the absolute thresholds, fixed before any
trial runs), ``study.db`` (Optuna's SQLite storage, unless ``storage`` names a shared database)
and ``trials/trial-NNNN-archAAA-ARM/``: one run directory per trial (config.toml, metrics.jsonl,
checkpoints), which ``textgan sample``/``eval``/``report`` read like any run.

Bookkeeping:

- every (architecture, arm) pair is enqueued once (``enqueue_trial(..., skip_if_exists=True)``,
  so N jobs starting the same study at once enqueue it once), all architectures under every arm;
- a worker process pops queued trials through ``study.optimize`` (which beats a heartbeat for the
  running trial) until none is left waiting or running;
- a trial whose worker died stops beating; after twice the heartbeat interval it is failed and
  :class:`optuna.storages.RetryFailedTrialCallback` enqueues it again, remembering the original
  trial's number. The run directory is named by that original number, so the retry resumes the
  run from its newest checkpoint (bit-identical to an uninterrupted run);
- ``text-tuning`` (:mod:`textgan.study.tuning`) enqueues nothing: its trials are asked of a
  seeded TPE sampler until ``trials`` have completed, a trial asked past that is failed unrun
  (a failed trial is no data point for TPE), and a retried trial starts its run again (its
  budget is CPU seconds no checkpoint holds);
- ``workers`` processes run where the command runs; the same command started elsewhere against the same
  ``storage`` (and the same study directory on a shared file system) joins the study.
"""

from __future__ import annotations

import dataclasses
import json
import math
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from textgan.config import apply_overrides, load_toml, to_toml
from textgan.errors import ConfigError, DivergenceError, TextganError
from textgan.image.data import ENCODED_DATASETS
from textgan.io.atomic import atomic_write_text
from textgan.study.spaces import (
    RUNTIME,
    StudyConfig,
    TrialSpec,
    architectures,
    arms,
    data_settings,
    lower_is_better,
    resolve_score,
    score_metric,
    trial_config,
)
from textgan.study.tuning import (
    Surplus,
    check_fits,
    load_tuning_space,
    make_sampler,
    preset_point,
    run_tuning_trial,
    tuning_facts,
)

STUDY_FILE = "study.toml"
FACTS_FILE = "study.json"
STORAGE_FILE = "study.db"
TRIALS_DIR = "trials"
STUDY_NAME = "textgan"
FLOOR_SCORE = 1.0  # the lowest score exp(E KL) can take: what a diverged trial is given


def resolve_study(directory: str | Path, overrides: dict[str, Any] | None = None) -> StudyConfig:
    """The study in ``directory``: its saved settings, or for a new study the defaults with
    ``overrides``. An existing study may change only the runtime settings (workers, storage,
    heartbeat); anything else is a one-line error."""
    path = Path(directory) / STUDY_FILE
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    if not path.is_file():
        return apply_overrides(StudyConfig(), overrides, "study")
    saved = apply_overrides(StudyConfig(), load_toml(path).get("study", {}), "study")
    for key, value in overrides.items():
        if key in RUNTIME:
            continue
        # the value as the saved study would take it (checked with the saved settings, so a
        # text-tuning study's --experiment is not judged without its corpus)
        if getattr(saved, key) != getattr(apply_overrides(saved, {key: value}, "study"), key):
            raise ConfigError(f"{directory} is a study with {key} = {getattr(saved, key)!r}; it "
                              f"cannot change (start another study directory)")
    runtime = {k: v for k, v in overrides.items() if k in RUNTIME}
    return apply_overrides(saved, runtime, "study")


def storage_url(directory: Path, config: StudyConfig) -> str:
    return config.storage or f"sqlite:///{(directory / STORAGE_FILE).absolute()}"


def open_storage(directory: Path, config: StudyConfig) -> Any:
    """Optuna's RDB storage with a heartbeat and the retry of trials whose worker died."""
    import optuna

    url = storage_url(directory, config)
    # SQLite: wait for a busy database instead of failing when workers write at once.
    kwargs = {"connect_args": {"timeout": 120}} if url.startswith("sqlite") else {}
    retry, name = _retry_callback()
    try:
        with _quiet():
            return optuna.storages.RDBStorage(
                url, engine_kwargs=kwargs, heartbeat_interval=config.heartbeat,
                grace_period=2 * config.heartbeat, **{name: retry(max_retry=config.max_retry)})
    except Exception as err:  # SQLAlchemy's many errors (URL, driver, connection) → one line
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise TextganError(f"cannot open the study storage {url}: {first[:200]}") from None


def _retry_callback() -> tuple[Any, str]:
    """Optuna's retry of stale trials and the storage argument that takes it (renamed in 4.9:
    RetryHeartbeatStaleTrialCallback, ``heartbeat_stale_trial_callback``)."""
    from optuna import storages

    if hasattr(storages, "RetryHeartbeatStaleTrialCallback"):
        return storages.RetryHeartbeatStaleTrialCallback, "heartbeat_stale_trial_callback"
    return storages.RetryFailedTrialCallback, "failed_trial_callback"


@contextmanager
def _quiet() -> Iterator[None]:
    """Optuna's experimental-feature warnings (heartbeats, retries) silenced: they are chosen."""
    import warnings

    from optuna.exceptions import ExperimentalWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExperimentalWarning)
        yield


def load_study(directory: Path, config: StudyConfig) -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # the CLI reports; Optuna stays quiet
    tuning = config.experiment == "text-tuning"
    sampler = make_sampler(config.seed) if tuning else None
    return optuna.create_study(study_name=STUDY_NAME, storage=open_storage(directory, config),
                               direction="minimize" if tuning else "maximize", sampler=sampler,
                               load_if_exists=True)


def trial_specs(config: StudyConfig) -> list[TrialSpec]:
    """Every (architecture, arm) pair, arm by arm for each architecture."""
    return [TrialSpec(i, arm, factors) for i, factors in enumerate(architectures(config))
            for arm in arms(config)]


def check_trials(config: StudyConfig, specs: list[TrialSpec]) -> None:
    """Every trial's run configuration resolves (a bad choice is one line before anything
    runs)."""
    from textgan.training import run_config_from_dict

    for spec in specs:
        try:
            run_config_from_dict(trial_config(config, spec))
        except ConfigError as err:
            raise ConfigError(f"architecture {spec.arch} ({spec.arm}): {err}") from None


def study_images(config: StudyConfig) -> Any:
    """The study's images, as every trial reads them (:func:`data_settings`): encoded images
    (folder, lsun, imagenet64) are prepared here, once, before any worker starts; the labelled
    sets are loaded with their labels (downloaded if missing)."""
    from textgan.config import apply_overrides
    from textgan.image.mode import ImageDataConfig, open_images

    data = apply_overrides(ImageDataConfig(), data_settings(config), "data")
    return open_images(data, labels=config.score != "inception")


def real_score(config: StudyConfig, images: Any = None) -> dict[str, Any]:
    """The score of real held-out images with the study's scorer: the ceiling of the classifier
    and Inception scores, or SWD's floor (held-out vs training real images)."""
    from textgan.image.classifier import load_or_train_classifier, real_classifier_score

    if config.score == "inception":
        return _real_inception_score(config, images)
    images = study_images(config) if images is None else images
    if config.score == "swd":
        return _real_swd(config, images)
    if not images.num_classes:
        raise ConfigError(f"the classifier score needs the labels of {config.dataset}; use "
                          "--score swd")
    classifier = load_or_train_classifier(images, config.data_dir)
    score, which = real_classifier_score(classifier, images, config.score_images)
    return {"score": "classifier score", "metric": "classifier_score", "real_score": score,
            "real_images": which, "classifier_accuracy": classifier.test_accuracy,
            "classifier_held_out": classifier.held_out}


def _real_swd(config: StudyConfig, images: Any) -> dict[str, Any]:
    """SWD between two real sets, the held-out images a trial is compared with and as many
    training images: the value a perfect generator would score (its floor)."""
    from textgan.image.mode import ImageDataConfig, SWDHook, padded
    from textgan.image.models import PAD_TO

    if images.spec.size == 28:  # as the trials see them (image.mode pads them for the zoo)
        images = padded(images, PAD_TO)
    projections = ImageDataConfig().swd_projections
    swd = SWDHook(None, images, config.score_images, projections, None)
    where = "held-out" if swd.held_out else "training (no held-out split)"
    return {"score": "SWD (lower is better)", "metric": "swd", "lower_is_better": True,
            "real_score": swd.real_floor(images.train), "swd_projections": projections,
            "real_images": f"{swd.n:,} {where} vs {swd.n:,} training images"}


def _real_inception_score(config: StudyConfig, images: Any = None) -> dict[str, Any]:
    """torch-fidelity's Inception score of ``score_images`` real held-out images."""
    import numpy as np

    from textgan.image.fidelity import _Uint8Images, check_fidelity

    torch_fidelity = check_fidelity()
    images = study_images(config) if images is None else images
    held = images.test if images.test is not None and len(images.test) else images.train
    rows = np.sort(np.random.default_rng(0).choice(len(held), min(config.score_images,
                                                                   len(held)), replace=False))
    real = held[rows] if held.shape[1] == 3 else held[rows].repeat(3, axis=1)
    result = torch_fidelity.calculate_metrics(input1=_Uint8Images(real), isc=True,
                                              verbose=False)
    return {"score": "Inception score", "metric": "inception_score",
            "real_score": float(result["inception_score_mean"]),
            "real_images": f"{len(rows):,} held-out images"}


def create_study(directory: str | Path, config: StudyConfig) -> dict[str, Any]:
    """Write ``study.toml`` and ``study.json`` (first time only) and enqueue every trial; return
    the study's facts (real score, thresholds)."""
    directory = Path(directory)
    if config.experiment == "text-tuning":
        return _create_tuning(directory, config)
    new = not (directory / STUDY_FILE).is_file()
    images = None
    if new or not (directory / FACTS_FILE).is_file() or config.dataset in ENCODED_DATASETS:
        # encoded images are prepared (or their fingerprint checked) here, not by racing
        # workers; a missing folder or an unreadable image is one line before anything is written
        images = study_images(config)
    if new:
        config = resolve_score(config, labelled=bool(images.num_classes))
    specs = trial_specs(config)
    check_trials(config, specs)
    directory.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock

    with FileLock(str(directory / ".study.lock")):
        _save_settings(directory, config)
        facts_path = directory / FACTS_FILE
        if facts_path.is_file():
            facts = json.loads(facts_path.read_text())
        else:
            facts = real_score(config, images)
            if lower_is_better(config):  # no fractions of a floor: figure2 has no thresholds
                facts["thresholds"], facts["fractions"] = [], []
            else:
                facts["thresholds"] = [round(t * facts["real_score"], 6)
                                       for t in config.thresholds]
                facts["fractions"] = list(config.thresholds)
            atomic_write_text(facts_path, json.dumps(facts, indent=2) + "\n")
        study = load_study(directory, config)
        if not study.user_attrs.get("enqueued"):
            for spec in specs:
                study.enqueue_trial({"arch": spec.arch, "arm": spec.arm},
                                    user_attrs={"factors": spec.factors}, skip_if_exists=True)
            study.set_user_attr("enqueued", len(specs))
    return facts


def _save_settings(directory: Path, config: StudyConfig) -> None:
    if not (directory / STUDY_FILE).is_file():
        saved = {k: v for k, v in dataclasses.asdict(config).items()
                 if k not in RUNTIME and v is not None}
        atomic_write_text(directory / STUDY_FILE, to_toml({"study": saved}))


def _create_tuning(directory: Path, config: StudyConfig) -> dict[str, Any]:
    """text-tuning: the space checked, the corpus prepared and the floor measured (once, in
    ``study.json``) before any worker starts; the preset's point enqueued once (with
    ``preset_trial``), the sampler proposes every other trial."""
    space = load_tuning_space(config.space_name)
    check_fits(config, space)
    directory.mkdir(parents=True, exist_ok=True)
    from filelock import FileLock

    with FileLock(str(directory / ".study.lock")):
        _save_settings(directory, config)
        facts_path = directory / FACTS_FILE
        if facts_path.is_file():
            facts = json.loads(facts_path.read_text())
        else:
            facts = tuning_facts(config)
            atomic_write_text(facts_path, json.dumps(facts, indent=2) + "\n")
        study = load_study(directory, config)
        if config.preset_trial and not study.user_attrs.get("preset_enqueued"):
            study.enqueue_trial(preset_point(config, space), user_attrs={"preset": True})
            study.set_user_attr("preset_enqueued", True)
    return facts


def run_dir_for(directory: Path, number: int, spec: TrialSpec) -> Path:
    return directory / TRIALS_DIR / f"trial-{number:04d}-{spec.key}"


def original_number(trial: Any) -> int:
    """The number of the trial this one retries (itself when it is no retry)."""
    with _quiet():
        original = _retry_callback()[0].retried_trial_number(trial)
    return trial.number if original is None else int(original)


def run_trial(directory: Path, config: StudyConfig, trial: Any,
              factors_of: dict[int, dict[str, Any]]) -> float:
    """Train (or resume) one trial's run; its score is the last one logged."""
    import optuna

    from textgan.api import train
    from textgan.core.run import Run

    frozen = trial.study._storage.get_trial(trial._trial_id)  # a Trial keeps no system attrs
    if "fixed_params" not in frozen.system_attrs:  # another worker took the last queued trial
        raise optuna.TrialPruned("not a queued trial")
    arch = trial.suggest_int("arch", 0, max(factors_of))
    arm = trial.suggest_categorical("arm", arms(config))
    spec = TrialSpec(arch, arm, factors_of[arch])
    out = run_dir_for(directory, original_number(frozen), spec)
    trial.set_user_attr("run_dir", str(out.relative_to(directory)))
    trial.set_user_attr("pid", os.getpid())
    started = time.perf_counter()
    resume = Run(out).exists()
    try:
        if resume:
            train(None, out=out, resume=True, on_step=_debug_hang(out))
        else:
            train(trial_config(config, spec), out=out, on_step=_debug_hang(out))
        diverged = False
    except DivergenceError as err:
        diverged = True
        trial.set_user_attr("diverged", str(err)[:300])
    trial.set_user_attr("train_seconds", time.perf_counter() - started)
    trial.set_user_attr("resumed", resume)
    metric = score_metric(config)
    scores = [m[metric] for m in Run(out).read_metrics() if metric in m]
    if not diverged and scores:
        score = float(scores[-1])
    elif lower_is_better(config):  # no distance for a diverged generator: the worst one
        trial.set_user_attr("score", None)
        return math.inf
    else:
        score = FLOOR_SCORE
    trial.set_user_attr("score", score)
    return score


def _debug_hang(out: Path) -> Callable[[Any], None] | None:
    """Test hook: with ``TEXTGAN_DEBUG_STUDY_HANG=STEP``, a trial stops still (its heartbeat
    going on) after its first checkpoint at or past STEP and writes ``<run>/hung``, so that a test
    can kill its worker at a known point."""
    at = os.environ.get("TEXTGAN_DEBUG_STUDY_HANG")
    if not at:
        return None

    def hang(event: Any) -> None:
        if event.checkpoint is not None and event.step >= int(at):
            (out / "hung").write_text(str(os.getpid()))
            time.sleep(3600)

    return hang


def worker(directory: str | Path, overrides: dict[str, Any] | None = None,
           poll: float | None = None) -> int:
    """One worker: run queued trials until none waits or runs; return how many it ran."""
    import optuna
    from optuna.trial import TrialState

    directory = Path(directory)
    config = resolve_study(directory, overrides)
    import torch

    torch.set_num_threads(config.threads)
    study = load_study(directory, config)
    if config.experiment == "text-tuning":
        return _tuning_worker(directory, config, study, poll)
    factors_of = dict(enumerate(architectures(config)))
    done = 0
    while True:
        with _quiet():
            optuna.storages.fail_stale_trials(study)
        waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
        if waiting:
            study.optimize(lambda t: run_trial(directory, config, t, factors_of), n_trials=1,
                           catch=(TextganError,))
            done += 1
            continue
        if not study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            return done
        # another worker's trial may yet go stale (or end: then this worker is done too)
        time.sleep(poll or min(config.heartbeat, 5))


def _tuning_worker(directory: Path, config: StudyConfig, study: Any, poll: float | None) -> int:
    """Ask the sampler for trials (retries first) until ``trials`` have completed; a worker
    whose trials are all taken waits while others run, in case one of them goes stale."""
    import optuna

    space = load_tuning_space(config.space_name)
    scoring: dict[str, Any] = {}
    done = 0

    def objective(trial: Any) -> float:
        frozen = trial.study._storage.get_trial(trial._trial_id)
        trial.set_user_attr("pid", os.getpid())
        return run_tuning_trial(directory, config, trial, space, original_number(frozen),
                                scoring)

    while True:
        with _quiet():
            optuna.storages.fail_stale_trials(study)
        count = progress_of(study)
        complete, running = count.get("complete", 0), count.get("running", 0)
        if count.get("pruned", 0) > 20 * config.trials:  # a space that mostly conflicts
            return done
        if count.get("waiting", 0) or complete + running < config.trials:
            study.optimize(objective, n_trials=1, catch=(TextganError, Surplus))
            done += 1
            continue
        if not running:
            return done
        time.sleep(poll or min(config.heartbeat, 5))


def _worker_main(directory: str, overrides: dict[str, Any]) -> None:
    worker(directory, overrides)


def progress_of(study: Any) -> dict[str, int]:
    """Trials by state (retries of a failed trial replace it: ``failed`` counts the retried)."""
    counts: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        counts[t.state.name.lower()] = counts.get(t.state.name.lower(), 0) + 1
    return counts


def run_study(directory: str | Path, overrides: dict[str, Any] | None = None, *,
              on_progress: Callable[[dict[str, int]], None] | None = None,
              poll: float = 2.0, command: str | None = None) -> dict[str, Any]:
    """Create (or join) the study in ``directory`` and run its trials in ``workers`` processes;
    a worker that dies is replaced while trials remain. Returns timing facts."""
    directory = Path(directory)
    config = resolve_study(directory, overrides)
    facts = create_study(directory, config)
    study = load_study(directory, config)
    runtime = {k: getattr(config, k) for k in RUNTIME}
    context = multiprocessing.get_context("spawn")  # no forked torch or SQLite state
    started = time.perf_counter()
    processes = [context.Process(target=_worker_main, args=(str(directory), runtime))
                 for _ in range(config.workers)]
    for p in processes:
        p.start()
    replaced = 0
    try:
        while processes:
            time.sleep(poll)
            if on_progress is not None:
                on_progress(progress_of(study))
            for p in list(processes):
                if p.exitcode is None:
                    continue
                processes.remove(p)
                if p.exitcode != 0 and replaced < config.max_retry * max(1, config.workers):
                    replaced += 1  # its trial is retried once its heartbeat is stale
                    fresh = context.Process(target=_worker_main, args=(str(directory), runtime))
                    fresh.start()
                    processes.append(fresh)
    finally:
        for p in processes:  # interrupted: the trials resume when the study is run again
            p.terminate()
            p.join()
    timing = {"wall_seconds": time.perf_counter() - started, "workers": config.workers,
              "replaced_workers": replaced, "states": progress_of(study), "command": command}
    # every run of the study from this directory, for the trials-per-hour of `show`
    study.set_user_attr("runs", [*study.user_attrs.get("runs", []), timing])
    return {**facts, **timing}
