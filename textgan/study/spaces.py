"""What a study trains: its settings, the search space, the fixed recipe of each arm.

Three experiments of Gulrajani et al. 2017:

- ``random-architectures`` (§5.1, Table 1, Appendix B): architectures drawn from a space of
  DCGAN variants (the ``dcgan-cifar`` image model's factors), each trained once with the standard
  GAN objective and once with WGAN-GP, each with its own fixed recipe;
- ``clipping`` (§5.3, Figure 3): gan_cifar.py's DCGAN with four recipes (WGAN with weight
  clipping, WGAN-GP with the same RMSProp, WGAN-GP with Adam, DCGAN), scored over training;
- ``figure2`` (§5.2, Figure 2): gan_64x64.py's architectures (:mod:`textgan.image.zoo`), each
  trained with DCGAN, LSGAN, WGAN with clipping and WGAN-GP, each with Appendix E's optimiser, on
  a labelled 32-pixel set or on encoded images (an image folder, LSUN, 64×64 ImageNet) at 32, 64
  or 128 pixels.

And one search of textgan's own: ``text-tuning`` (:mod:`textgan.study.tuning`), the text
recipe's settings (rates, widths, batch, the text model's levers) searched by Optuna's TPE
sampler, each trial a text run from the ``cpu`` preset trained within a budget of process
CPU-seconds and scored by JS-4 against held-out text.

A trial is one (architecture, arm) pair; :func:`trial_config` turns it into an ordinary image
run's settings.
"""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from textgan.config import load_toml, setting
from textgan.errors import ConfigError
from textgan.image.data import ENCODED_DATASETS

EXPERIMENTS = ("random-architectures", "clipping", "figure2", "text-tuning")
# Figure 2's rows (the baseline and the six hard variants) and columns, in the paper's order.
FIGURE2_ARCHS = ("dcgan64", "dcgan64-g-constant", "dcgan64-g-mlp", "dcgan64-no-norm",
                 "dcgan64-gated", "dcgan64-tanh", "resnet101")
FIGURE2_OBJECTIVES = ("gan", "lsgan", "wgan-clip", "wgan-gp")
STUDY_SIZE = 32  # the side of the labelled sets' images in a study (28-pixel ones padded)
LABELLED_DATASETS = ("mnist", "fashion-mnist", "cifar10")
# ENCODED_DATASETS (figure2 only): images prepared at --image-size (textgan.image.folder); they
# may have no labels, so the classifier score may not apply (the score is then SWD).
IMAGE_SIZES = (32, 64, 128)
ENCODED_SIZE = 64  # the paper's LSUN bedrooms and ImageNet: the encoded sets' default side
SCORE_NAMES = {"classifier": "classifier score", "inception": "Inception score",
               "swd": "SWD (lower is better)"}
PAPER_STEPS = {"random-architectures": 100_000, "clipping": 200_000, "figure2": 200_000}


@dataclass
class StudyConfig:
    """A study: which experiment, at which scale, scored how. Fixed when the study is created
    (``study.toml`` in its directory); a later run of the same study may change only ``workers``,
    ``storage`` and ``heartbeat``."""

    experiment: Literal["random-architectures", "clipping", "figure2", "text-tuning"] = setting(
        "random-architectures", "random-architectures (the paper's §5.1), clipping (§5.3), "
        "figure2 (§5.2: architectures × objectives) or text-tuning (a TPE search of the text "
        "recipe within a CPU-second budget per trial).", flag=True)
    archs: str = setting("", "figure2: the architectures (model.arch names), comma-separated "
                         "(default: the paper's seven at 64 pixels; without resnet101, which "
                         "makes 64-pixel images only, at 32 and 128).", flag=True)
    objectives: str = setting("", "figure2: the objectives, comma-separated, of gan, lsgan, "
                              "wgan-clip, wgan-gp (default: all four).", flag=True)
    space: str = setting("", "random-architectures: the search space, a name (table1: the "
                         "paper's Table 1, the default) or a TOML file of factor = [choices]; "
                         "text-tuning: a name (cpu-levers, the default) or a TOML file of "
                         "setting = [choices] or {low, high, log}.", flag=True)
    architectures: int = setting(200, "random-architectures: how many architectures are drawn "
                                 "(paper: 200); each is trained under both objectives.", flag=True)
    seed: int = setting(0, "Seed of the architecture draw and of every trial's training.",
                        flag=True)
    steps: int = setting(0, "Generator iterations per trial (0: the paper's, 100000 for "
                         "random-architectures, 200000 for clipping and figure2); text-tuning: "
                         "the run's length, where the learning-rate schedule ends and training "
                         "stops if the budget has not (0: each trial's schedule sized to end "
                         "with its budget, at its own pace).", flag=True)
    width_scale: float = setting(1.0, "Every filter count is multiplied by this (the paper: 1; "
                                 "e.g. 0.125 turns the set's 32/64/128 into 4/8/16).", flag=True)
    batch_size: int = setting(64, "Batch size (paper: 64).", flag=True)
    dataset: Literal["mnist", "fashion-mnist", "cifar10", "folder", "lsun", "imagenet64"] = (
        setting("fashion-mnist", "mnist, fashion-mnist (28-pixel images padded to 32) or "
                "cifar10; figure2 also folder (PNG/JPEG/WebP files), lsun (an LMDB database) or "
                "imagenet64 (train_64x64/ and valid_64x64/), read from --data-path and prepared "
                "once at --image-size.", flag=True))
    data_path: str | None = setting(None, "A directory with the data set's files (folder, lsun, "
                                    "imagenet64: the images themselves).", flag=True)
    image_size: int = setting(0, "figure2 on folder, lsun, imagenet64: the side images are "
                              "resized and centre-cropped to, 32, 64 or 128 (0: 64; mnist, "
                              "fashion-mnist and cifar10 are 32).", flag=True)
    data_dir: str = setting("data", "Where data sets are looked for and downloaded.", flag=True)
    score_images: int = setting(1000, "Generated images each score is computed on.", flag=True)
    score: Literal["auto", "classifier", "inception", "swd"] = setting(
        "auto", "inception: torch-fidelity's Inception score (needs its weights); classifier: "
        "the classifier score, the same formula with textgan's own label classifier (offline, "
        "needs labels); swd (figure2): the sliced Wasserstein distance to held-out real images, "
        "lower is better; auto: inception when the weights are present, else classifier for "
        "labelled images, else swd.", flag=True)
    thresholds: list[float] = setting(
        [0.2, 0.4, 0.6, 0.8], "random-architectures: success thresholds, as fractions of the real "
        "held-out images' score, fixed before any trial runs.", flag=True)
    eval_every: int = setting(0, "Steps between scores (0: at the end only for "
                              "random-architectures and figure2, 20 points over training for "
                              "clipping).",
                              flag=True)
    checkpoint_every: int = setting(0, "Steps between a trial's checkpoints (0: a quarter of "
                                    "its steps).", flag=True)
    corpus: str | None = setting(None, "text-tuning: a corpus name (e.g. synthetic) to tune on, "
                                 "instead of --corpus-path.", flag=True)
    corpus_path: str | None = setting(None, "text-tuning: the training text (a file, directory or "
                                      "glob; one sentence a line).", flag=True)
    valid_path: str | None = setting(None, "text-tuning: the held-out text every trial is scored "
                                     "against (default: carved off the corpus).", flag=True)
    seq_len: int = setting(0, "text-tuning: characters per line (0: the cpu preset's).",
                           flag=True)
    budget: float = setting(300.0, "text-tuning: seconds of process CPU time each trial trains "
                            "for (one thread; building the run and scoring it not counted).",
                            flag=True)
    trials: int = setting(40, "text-tuning: how many trials complete (a later run may raise it to "
                          "search on).", flag=True)
    samples: int = setting(640, "text-tuning: argmax samples each trial's JS-4 is computed on "
                           "(the paper's 640).", flag=True)
    lm: bool = setting(True, "text-tuning: also the KN-LM forward/reverse bits per character of "
                       "each trial's samples.", flag=True)
    preset_trial: bool = setting(True, "text-tuning: the first trial is the cpu preset's own "
                                 "value of each searched setting the space holds, a reference "
                                 "the search starts from.", flag=True)
    threads: int = setting(1, "torch threads per worker.", flag=True)
    workers: int = setting(1, "Worker processes this command starts.", flag=True)
    storage: str | None = setting(None, "An Optuna storage URL (postgresql://..., mysql://...) "
                                  "that several machines share [default: SQLite in the study "
                                  "directory].", flag=True)
    heartbeat: int = setting(60, "Seconds between a running trial's heartbeats; a trial silent "
                             "for twice that is failed and retried.", flag=True)
    max_retry: int = setting(3, "How many times a trial whose worker died is retried.")

    def validate(self) -> None:
        for name in ("architectures", "batch_size", "workers", "heartbeat", "score_images",
                     "threads", "trials", "samples"):
            if getattr(self, name) < 1:
                raise ConfigError(f"study.{name} must be at least 1, got {getattr(self, name)}")
        for name in ("steps", "eval_every", "checkpoint_every", "max_retry", "seq_len"):
            if getattr(self, name) < 0:
                raise ConfigError(f"study.{name} must be 0 or positive, got {getattr(self, name)}")
        if not (self.width_scale > 0 and math.isfinite(self.width_scale)):
            raise ConfigError(f"study.width_scale must be positive, got {self.width_scale}")
        if not self.thresholds or not all(0 < t <= 1 for t in self.thresholds):
            raise ConfigError(f"study.thresholds must be fractions in (0, 1], got "
                              f"{self.thresholds}")
        if not (self.budget > 0 and math.isfinite(self.budget)):
            raise ConfigError(f"study.budget must be a positive number of CPU seconds, got "
                              f"{self.budget}")
        text = (self.corpus, self.corpus_path, self.valid_path)
        if self.experiment == "text-tuning" and not (self.corpus or self.corpus_path):
            raise ConfigError("the text-tuning study needs text to tune on: give --corpus-path "
                              "FILE (and --valid-path HELD_OUT) or --corpus NAME")
        if self.experiment != "text-tuning" and any(v is not None for v in text):
            raise ConfigError("study.corpus, corpus_path and valid_path are for --experiment "
                              "text-tuning (image studies read --dataset)")
        if self.experiment != "figure2" and (self.archs or self.objectives):
            raise ConfigError("study.archs and study.objectives are for --experiment figure2")
        if self.experiment != "figure2" and self.dataset in ENCODED_DATASETS:
            raise ConfigError(f"study.dataset {self.dataset} is for --experiment figure2; "
                              f"{self.experiment} scores against labelled 32-pixel images: use "
                              f"--dataset {', '.join(LABELLED_DATASETS)}")
        if self.experiment != "figure2" and self.score == "swd":
            raise ConfigError(f"study.score swd is for --experiment figure2; {self.experiment}'s "
                              "thresholds are fractions of a score that grows: use --score "
                              "classifier or inception")
        if self.image_size and self.image_size not in IMAGE_SIZES:
            raise ConfigError(f"study.image_size {self.image_size} is not supported; choose "
                              f"{', '.join(map(str, IMAGE_SIZES))}")
        if self.dataset in LABELLED_DATASETS and self.image_size not in (0, STUDY_SIZE):
            raise ConfigError(f"study.image_size {self.image_size}: {self.dataset} is "
                              f"{STUDY_SIZE}-pixel in a study; for {self.image_size}-pixel "
                              f"images use --dataset folder, lsun or imagenet64 with --data-path")
        if self.experiment != "text-tuning":
            self.figure2_archs()
            self.figure2_objectives()

    @property
    def space_name(self) -> str:
        """``space``, or the experiment's own default."""
        return self.space or ("cpu-levers" if self.experiment == "text-tuning" else "table1")

    @property
    def side(self) -> int:
        """The side of the images every trial trains on: ``image_size``, else 32 for the
        labelled sets (28 padded to 32) and 64 for encoded images."""
        if self.image_size:
            return self.image_size
        return ENCODED_SIZE if self.dataset in ENCODED_DATASETS else STUDY_SIZE

    def figure2_archs(self) -> list[str]:
        """figure2's rows: ``archs`` or those of the paper's seven that make images of the
        study's side (all seven at 64 pixels; resnet101 makes 64-pixel images only). An unknown
        name or one without images of that side is one line."""
        from textgan.image.zoo import ZOO_ARCHS, ZOO_SIZES

        side = self.side
        names = _names(self.archs, tuple(a for a in FIGURE2_ARCHS if side in ZOO_SIZES[a]),
                       ZOO_ARCHS, "archs")
        for name in names:
            if side not in ZOO_SIZES[name]:
                sizes = ", ".join(map(str, ZOO_SIZES[name]))
                fix = (f"drop it from --archs or use --image-size {ZOO_SIZES[name][0]}"
                       if self.dataset in ENCODED_DATASETS else
                       f"drop it from --archs or use --dataset folder, lsun or imagenet64 with "
                       f"--image-size {ZOO_SIZES[name][0]}")
                raise ConfigError(f"study.archs: {name} makes {sizes}-pixel images only; the "
                                  f"study's images are {side}-pixel ({fix})")
        return names

    def figure2_objectives(self) -> list[str]:
        """figure2's columns: ``objectives`` or the paper's four."""
        return _names(self.objectives, FIGURE2_OBJECTIVES, FIGURE2_OBJECTIVES, "objectives")

    @property
    def total_steps(self) -> int:
        return self.steps or PAPER_STEPS[self.experiment]

    @property
    def score_every(self) -> int:
        if self.eval_every:
            return self.eval_every
        if self.experiment in ("random-architectures", "figure2"):
            return self.total_steps
        return max(1, self.total_steps // 20)

    @property
    def save_every(self) -> int:
        return self.checkpoint_every or max(1, self.total_steps // 4)


def _names(given: str, default: tuple[str, ...], known: tuple[str, ...], what: str) -> list[str]:
    names = [n.strip() for n in given.split(",") if n.strip()] or list(default)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"study.{what}: unknown {', '.join(map(repr, unknown))}; choose from "
                          f"{', '.join(known)}")
    if len(set(names)) != len(names):
        raise ConfigError(f"study.{what} names one twice: {given}")
    return names


# Settings a later run of an existing study may change; all others are the study's.
RUNTIME = ("workers", "storage", "heartbeat", "trials")

# --- the search space ----------------------------------------------------------------------------

# The paper's Table 1, as dcgan-cifar settings. d_norm True is batch norm under the standard GAN
# and layer norm under WGAN-GP (the penalty is per sample); see trial_config.
TABLE1: dict[str, list[Any]] = {
    "g_nonlinearity": ["relu", "leakyrelu", "softplus", "tanh"],
    "d_nonlinearity": ["relu", "leakyrelu", "softplus", "tanh"],
    "g_depth": [4, 8, 12, 20],
    "d_depth": [4, 8, 12, 20],
    "g_batchnorm": [True, False],
    "d_norm": [True, False],
    "g_dim": [32, 64, 128],
    "d_dim": [32, 64, 128],
}
SPACES = {"table1": TABLE1}
_WIDTHS = ("g_dim", "d_dim")


def load_space(name: str) -> dict[str, list[Any]]:
    """A named space or a TOML file of ``factor = [choices]``; every factor must be a factor of the
    set and every choice valid for it (a one-line error otherwise)."""
    if name in SPACES:
        space = {k: list(v) for k, v in SPACES[name].items()}
    elif name.endswith(".toml"):
        if not Path(name).is_file():
            raise ConfigError(f"space file {name} does not exist")
        space = load_toml(name)
    else:
        raise ConfigError(f"unknown space {name!r}; use {', '.join(SPACES)} or a TOML file of "
                          "factor = [choices]")
    check_space(space, name)
    return space


def check_space(space: dict[str, Any], where: str = "the space") -> None:
    """Each factor one of Table 1's, with a non-empty list of valid choices."""
    from textgan.image.models import NONLINEARITIES

    unknown = [k for k in space if k not in TABLE1]
    if unknown:
        raise ConfigError(f"{where}: unknown factor(s) {', '.join(map(repr, unknown))}; the "
                          f"factors are {', '.join(TABLE1)}")
    for factor, choices in space.items():
        if not isinstance(choices, list) or not choices:
            raise ConfigError(f"{where}: {factor} must be a non-empty list of choices")
        for choice in choices:
            ok = (choice in NONLINEARITIES if factor.endswith("nonlinearity")
                  else isinstance(choice, bool) if factor in ("g_batchnorm", "d_norm")
                  else isinstance(choice, int) and not isinstance(choice, bool) and (
                      choice >= 4 if factor.endswith("depth") else choice >= 1))
            if not ok:
                raise ConfigError(f"{where}: {factor} choice {choice!r} is not valid (choose from "
                                  f"{', '.join(map(str, TABLE1[factor]))} or like them)")


def draw_architectures(space: dict[str, list[Any]], n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` architectures, each factor drawn uniformly from its choices (a seeded draw: the
    same seed gives the same list). A factor the space leaves out keeps its default."""
    rng = random.Random(seed)
    return [{factor: rng.choice(choices) for factor, choices in space.items()} for _ in range(n)]


# --- the recipes ---------------------------------------------------------------------------------

# Appendix B: the standard GAN with DCGAN's Adam(2e-4, β = (0.5, 0.999)), one discriminator step;
# WGAN-GP with Adam(1e-4, β = (0, 0.9)) and the paper's 5 critic steps.
RANDOM_RECIPES: dict[str, dict[str, Any]] = {
    "gan": {"objective": "gan", "optimizer": "adam", "lr": 2e-4, "betas": [0.5, 0.999],
            "critic_iters": 1},
    "wgan-gp": {"objective": "wgan-gp", "optimizer": "adam", "lr": 1e-4, "betas": [0.0, 0.9],
                "critic_iters": 5},
}
NORMED_CRITIC_DECAY = 1e-3  # Appendix B: weight decay for a critic with batch or layer norm

# Figure 3 on gan_cifar.py's DCGAN (its critic has batch norm in the clipping mode only).
CLIPPING_RECIPES: dict[str, dict[str, Any]] = {
    "wgan-clip-rmsprop": {"objective": "wgan-clip", "optimizer": "rmsprop", "lr": 5e-5,
                          "clip": 0.01, "critic_iters": 5},
    "wgan-gp-rmsprop": {"objective": "wgan-gp", "optimizer": "rmsprop", "lr": 5e-5,
                        "critic_iters": 5},
    # "Adam and a higher learning rate": gan_cifar.py's WGAN-GP optimiser.
    "wgan-gp-adam": {"objective": "wgan-gp", "optimizer": "adam", "lr": 1e-4,
                     "betas": [0.5, 0.9], "critic_iters": 5},
    "dcgan": {"objective": "gan", "optimizer": "adam", "lr": 2e-4, "betas": [0.5, 0.999],
              "critic_iters": 1},
}


# Figure 2 (Appendix E): each objective with its own optimiser, the same for every architecture;
# gan_64x64.py's 5 critic steps for the WGANs, one for DCGAN and LSGAN. (gan_64x64.py itself
# runs WGAN-GP with β1 = 0; Appendix E states 0.5.)
FIGURE2_RECIPES: dict[str, dict[str, Any]] = {
    "gan": {"objective": "gan", "optimizer": "adam", "lr": 2e-4, "betas": [0.5, 0.999],
            "critic_iters": 1},
    "lsgan": {"objective": "lsgan", "optimizer": "rmsprop", "lr": 1e-4, "critic_iters": 1},
    "wgan-clip": {"objective": "wgan-clip", "optimizer": "rmsprop", "lr": 5e-5, "clip": 0.01,
                  "critic_iters": 5},
    "wgan-gp": {"objective": "wgan-gp", "optimizer": "adam", "lr": 1e-4, "betas": [0.5, 0.9],
                "critic_iters": 5},
}
FIGURE2_WIDTH = 64  # gan_64x64.py's DIM
FIGURE2_GRID = 16  # sample images per cell of the figure (4 × 4)


def recipes_of(config: StudyConfig) -> dict[str, dict[str, Any]]:
    if config.experiment == "figure2":
        return {o: FIGURE2_RECIPES[o] for o in config.figure2_objectives()}
    return RANDOM_RECIPES if config.experiment == "random-architectures" else CLIPPING_RECIPES


def arms(config: StudyConfig) -> list[str]:
    return list(recipes_of(config))


def architectures(config: StudyConfig) -> list[dict[str, Any]]:
    """The study's architectures: drawn from its space, (clipping) gan_cifar.py's alone, or
    (figure2) the named networks."""
    if config.experiment == "clipping":
        return [{}]
    if config.experiment == "figure2":
        return [{"arch": name} for name in config.figure2_archs()]
    return draw_architectures(load_space(config.space_name), config.architectures, config.seed)


@dataclass
class TrialSpec:
    """One trial: architecture ``arch`` (its factors) under arm ``arm``."""

    arch: int
    arm: str
    factors: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        name = f"-{self.factors['arch']}" if "arch" in self.factors else ""
        return f"arch{self.arch:03d}{name}-{self.arm}"


def scaled_width(width: int, scale: float) -> int:
    return max(1, round(width * scale))


def trial_config(config: StudyConfig, spec: TrialSpec) -> dict[str, dict[str, Any]]:
    """The image run of one trial, as ``config.toml`` sections (see :func:`textgan.configure`)."""
    recipes = recipes_of(config)
    if spec.arm not in recipes:
        raise ConfigError(f"unknown arm {spec.arm!r} for {config.experiment}; choose one of "
                          f"{', '.join(recipes)}")
    train: dict[str, Any] = {**recipes[spec.arm], "steps": config.total_steps,
                             "batch_size": config.batch_size, "seed": config.seed,
                             "device": "auto",
                             "threads": config.threads, "eval_every": config.score_every,
                             "checkpoint_every": config.save_every, "sample_every": 0,
                             "keep_checkpoints": 2}
    model: dict[str, Any] = {"arch": "dcgan-cifar", "dim": scaled_width(128, config.width_scale)}
    if config.experiment == "figure2":  # the critic's norm follows the objective (image.zoo)
        model["dim"] = scaled_width(FIGURE2_WIDTH, config.width_scale)
        train["sample_every"] = config.total_steps  # the figure's grid, at the end
    for factor, value in spec.factors.items():
        if factor == "arch":
            model["arch"] = value
        elif factor == "d_norm":
            wgan = train["objective"] != "gan"
            model["d_norm"] = ("layer" if wgan else "batch") if value else "none"
        elif factor in _WIDTHS:
            model[factor] = scaled_width(int(value), config.width_scale)
        else:
            model[factor] = value
    if config.experiment == "clipping" and spec.arm == "wgan-clip-rmsprop":
        model["d_norm"] = "batch"  # gan_cifar.py: MODE == 'wgan' has batch norm in its critic
    if config.experiment == "random-architectures" and model.get("d_norm", "none") != "none":
        train["critic_weight_decay"] = NORMED_CRITIC_DECAY
    data = data_settings(config)
    if config.experiment == "figure2":
        data["grid_images"] = FIGURE2_GRID
    if config.score == "inception":
        data |= {"fid": True, "fid_images": config.score_images}
    elif config.score == "swd":
        data["swd_images"] = config.score_images
    else:
        data["classifier_score_images"] = config.score_images
    return {"mode": "image", "train": train, "model": model, "data": data}  # type: ignore[dict-item]


def data_settings(config: StudyConfig) -> dict[str, Any]:
    """The ``[data]`` section every trial shares: which images, where, at which side (SWD off
    unless it is the score: :func:`trial_config`)."""
    data: dict[str, Any] = {"dataset": config.dataset, "data_dir": config.data_dir,
                            "swd_images": 0}
    if config.dataset in ENCODED_DATASETS:
        data["image_size"] = config.side
    if config.data_path:
        data["data_path"] = config.data_path
    return data


def score_metric(config: StudyConfig) -> str:
    """The logged metric a trial is scored by."""
    return {"inception": "inception_score", "swd": "swd"}.get(config.score, "classifier_score")


def lower_is_better(config: StudyConfig) -> bool:
    return config.score == "swd"


def resolve_score(config: StudyConfig, labelled: bool = True) -> StudyConfig:
    """``auto`` → ``inception`` when torch-fidelity and its Inception weights are present, else
    ``classifier`` for labelled images (``labelled``), else ``swd`` (figure2 only); the choice
    and the images' side are saved with the study. A classifier score asked of unlabelled images
    is one line."""
    config = dataclasses.replace(config, image_size=config.side)
    if config.score == "classifier" and not labelled:
        raise ConfigError(f"the classifier score needs labelled images and these {config.dataset} "
                          "images have none (an image folder has labels when its images are in "
                          "one subfolder per class); use --score swd")
    if config.score != "auto":
        return config
    from textgan.image.fidelity import check_fidelity

    try:
        check_fidelity()
        chosen = "inception"
    except ConfigError:
        if labelled:
            chosen = "classifier"
        elif config.experiment == "figure2":
            chosen = "swd"
        else:
            raise ConfigError(f"the {config.experiment} study needs a score that grows and these "
                              f"{config.dataset} images have no labels for the classifier score; "
                              "use a labelled set or install the Inception weights") from None
    return dataclasses.replace(config, score=chosen)  # type: ignore[arg-type]
