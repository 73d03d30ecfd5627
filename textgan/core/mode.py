"""The contract every mode (text, image, toy, ...) keeps with the modality-free core.

A :class:`Mode` names its config types and presets, builds models + real data + hooks for a run
(:class:`ModeSetup`), and samples from a checkpoint. The core does what every mode would repeat:
it rebuilds a run's configuration from a dict (``config.toml`` or a checkpoint), refuses a
checkpoint of another mode, and turns what a damaged checkpoint raises (a missing entry, weights of
other shapes: :func:`is_damage`) into one line. Modes are registered by name in :mod:`textgan.modes`.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from textgan.config import apply_overrides, as_dict
from textgan.core.loop import Hook
from textgan.core.objectives import is_likelihood
from textgan.core.run import Run
from textgan.core.trainer import BatchSource, TrainConfig
from textgan.errors import CheckpointError, ConfigError
from textgan.io.progress import ProgressFn

SECTIONS = ("train", "data", "model")
Preset = dict[str, dict[str, Any]]  # section -> {setting: value}, differences from the defaults


@dataclass
class RunConfig:
    """The effective configuration of a run, saved as its ``config.toml``."""

    mode: str
    preset: str
    train: TrainConfig
    data: Any  # the mode's data config dataclass
    model: Any  # the mode's model config dataclass

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "preset": self.preset, "train": as_dict(self.train),
                "data": as_dict(self.data), "model": as_dict(self.model)}


@dataclass
class Sampler:
    """The generator that sample files and in-training evaluations draw from. Hooks read
    ``.module`` when they run: the core points it at the generator's moving average when
    ``ema_decay`` is on, else it stays the trained generator."""

    module: nn.Module


@dataclass
class ModeSetup:
    """Models, real data and hooks for one run, plus what goes into every checkpoint."""

    generator: nn.Module  # a likelihood objective: the model trained by maximum likelihood
    critic: nn.Module | None  # None for a likelihood objective
    data: BatchSource
    sampler: Sampler  # what the hooks sample from (build it as Sampler(generator))
    hooks: list[Hook] = field(default_factory=list)
    # The logged metric that ranks checkpoints for checkpoints/best.pt (lower is better).
    best_metric: str | None = None
    extra_state: dict[str, Any] = field(default_factory=dict)
    # The class names of labelled data, in label-id order (empty: no labels). Saved in every
    # checkpoint as "label_names"; ``sample --label NAME`` looks names up there.
    label_names: list[str] = field(default_factory=list)
    # Raises CheckpointError when a checkpoint does not fit this setup (other vocab, shapes...);
    # the core has already checked that it is a checkpoint of this mode.
    check_state: Callable[[dict[str, Any], Path], None] = lambda state, path: None
    notes: list[str] = field(default_factory=list)


@dataclass
class SampleResult:
    lines: list[str] | None = None  # text modes: decoded samples
    labels: list[str] | None = None  # a conditional text model: the class of each line
    files: list[Path] = field(default_factory=list)  # image/toy modes: written files
    notes: list[str] = field(default_factory=list)

    def labelled_lines(self) -> list[str]:
        """The lines as ``label<TAB>text`` when they have classes (what ``--labels tsv``
        reads), else as they are."""
        if self.labels is None:
            return list(self.lines or [])
        return [f"{label}\t{line}" for label, line in zip(self.labels, self.lines or [],
                                                            strict=True)]


@dataclass
class ExportParts:
    """What a shareable model folder (``textgan export``, :mod:`textgan.export`) holds for a
    mode's checkpoint: the weights of each module :meth:`Mode.sample` needs, other files it needs
    (a tokenizer), facts for ``config.json`` and the run configuration without local paths."""

    weights: dict[str, dict[str, torch.Tensor]]  # module name ("generator", ...) -> state dict
    files: dict[str, bytes] = field(default_factory=dict)  # file name -> content
    summary: dict[str, Any] = field(default_factory=dict)  # e.g. tokenizer kind, seq_len
    # The model card's samples: how many, and the file they go to (None: text lines in the card)
    sample_count: int = 10
    sample_file: str | None = None
    # The run configuration as the folder records it: no path or directory of the machine it
    # was made on (None: the checkpoint's; either way, absolute paths are cut to base names)
    run_config: dict[str, Any] | None = None


@dataclass
class EvalRequest:
    """What ``textgan eval`` asks a mode to evaluate with (its flags, mode-free): the mode reads
    what applies to it and refuses, in one line, what does not."""

    n: int  # samples to generate (per class for a conditional model)
    seed: int = 0
    temperature: float | None = None
    temperatures: list[float] | None = None  # a quality-diversity sweep
    plot: Path | None = None  # where to draw the sweep
    device: str = "auto"
    checkpoint: str | None = None  # a checkpoint file, or "best" (None: the run's newest)
    raw: bool = False  # the trained generator, not its moving average
    metrics: Any = None  # textgan.eval.EvalConfig: which line metrics (None: the defaults)
    js_text: str = "valid"
    data: dict[str, Any] = field(default_factory=dict)  # data settings given (--seq-len, ...)
    limit: int | None = None  # a samples file: use at most this many lines
    progress: Any = None  # ProgressFn for preparing a reference


@dataclass
class EvalResult:
    """What an evaluation found: ``textgan eval`` prints ``metrics`` (keys ending ``_real`` or
    ``_floor``: the same statistic of real data) after the ``notes``. A mode may return its own
    report type with these attributes (``classes``, ``sweep``, ``plot``, ``lines`` optional)."""

    metrics: dict[str, float]
    notes: list[str] = field(default_factory=list)
    sweep: Any = None
    plot: Path | None = None
    classes: Any = None
    lines: dict[str, Any] | None = None


@dataclass
class CardText:
    """A mode's part of a model folder's ``README.md`` (:func:`textgan.export.model_card`)."""

    tags: list[str] = field(default_factory=list)  # besides textgan, gan and the mode's name
    pipeline_tag: str | None = None
    real: str = "real data"  # the heading of the evaluation table's real-vs-real column
    commands: list[str] = field(default_factory=list)  # shell lines after `textgan sample`
    python: list[str] = field(default_factory=list)  # lines after `model = textgan.load(".")`


class ContractError(ConfigError):
    """A mode does not implement the part of :class:`Mode` a command needs."""


class Mode(ABC):
    """A kind of data and models the trainer can learn. Subclasses set the class attributes and
    implement :meth:`build` and :meth:`sample`; the optional parts of the contract (export,
    evaluation) refuse in one line (:class:`ContractError`) until a mode overrides them."""

    name: ClassVar[str]
    data_config: ClassVar[type]
    model_config: ClassVar[type]
    presets: ClassVar[dict[str, Preset]]
    # Whether build() makes a likelihood model (no critic) for a likelihood objective ("mle").
    has_likelihood_model: ClassVar[bool] = False
    # How this mode's data gets labels (the end of the refusal of --conditional without them).
    labels_hint: ClassVar[str] = "this mode has no labelled data"
    # Whether sample() returns lines (SampleResult.lines); False: it writes files to ``out``.
    draws_lines: ClassVar[bool] = False

    def default_preset(self, data_settings: dict[str, Any]) -> str:
        """The preset used when none is named (``data_settings``: the data values given)."""
        return "cpu"

    @abstractmethod
    def build(self, config: RunConfig, run: Run, device: torch.device,
              progress: ProgressFn | None = None) -> ModeSetup:
        """Models, real data and hooks for a run of this mode."""

    @abstractmethod
    def sample(self, state: dict[str, Any], path: Path, n: int, *, seed: int | None,
               temperature: float | None, out: Path | None, device: torch.device,
               label: str | None = None) -> SampleResult:
        """``n`` samples from a checkpoint's generator (lines, or files written); ``label``: all
        of that class (:meth:`label_index`), else a conditional model's classes in turn."""

    # -- model folders (textgan export); a mode that does not override these cannot export ----
    def export_parts(self, state: dict[str, Any]) -> ExportParts:
        """The weights and files a model folder needs to sample like ``state`` (a checkpoint
        whose ``generator`` is already the one to share: its moving average where kept)."""
        raise ContractError(f"{self.name} models cannot be exported: the {self.name} mode "
                            "defines no export_parts")

    def import_parts(self, weights: dict[str, dict[str, torch.Tensor]],
                     files: dict[str, bytes]) -> dict[str, Any]:
        """The checkpoint entries :meth:`sample` reads, from a model folder's weights and files
        (the inverse of :meth:`export_parts`)."""
        raise ContractError(f"{self.name} model folders cannot be loaded: the {self.name} mode "
                            "defines no import_parts")

    def evaluate_export(self, state: dict[str, Any], path: Path, n: int,
                        device: torch.device) -> tuple[dict[str, float], str] | None:
        """For the model card: metrics of ``n`` samples of ``state`` and a sentence saying how
        they were computed; None when this mode has no such evaluation, or it cannot run (the card then
        shows the run's last logged metrics)."""
        return None

    def card(self) -> CardText:
        """This mode's part of a model card: tags, and how to use the model besides
        ``textgan sample --model .``."""
        if self.draws_lines:
            return CardText(python=["print(model.generate(5, seed=0))"])
        return CardText(python=['model.sample(64, out="samples.png")'])

    # -- textgan eval; a mode that does not override these cannot be evaluated -------------
    def evaluate_run(self, run: Path, request: EvalRequest) -> Any:
        """``textgan eval --run``: metrics of samples of a run's checkpoint (an
        :class:`EvalResult`, or a report with its attributes)."""
        raise ContractError(f"{self.name} runs cannot be evaluated: the {self.name} mode defines "
                            "no evaluate_run")

    def evaluate_model(self, model: Any, reference: str, request: EvalRequest) -> Any:
        """``textgan eval --model DIR --reference REF``: samples of ``model`` (a
        :class:`textgan.api.TrainedModel` of this mode: ``model.sample(...)``, ``.step``,
        ``.config``, ``.source``) against ``reference``."""
        raise ContractError(f"{self.name} model folders cannot be evaluated: the {self.name} "
                            "mode defines no evaluate_model")

    def evaluate_samples(self, samples: Path | list[str], reference: str, request: EvalRequest,
                         labelled: bool = False) -> Any:
        """``textgan eval SAMPLES --reference REF``: a file of samples, or samples already read
        (``labelled``: a file of ``label<TAB>sample`` lines, scored per class), against
        ``reference``."""
        raise ContractError(f"the {self.name} mode cannot evaluate a samples file: it defines "
                            "no evaluate_samples")

    def prepare(self, data: dict[str, Any], *, progress: ProgressFn | None = None,
                force: bool = False) -> str:
        """``textgan prepare``: make the data of these ``data`` settings ready for training once
        (``force``: again); returns a line saying what is ready where."""
        raise ContractError(f"the {self.name} mode has nothing to prepare: it defines no prepare")

    def summary_rows(self, config: dict[str, Any]) -> list[tuple[str, Any]]:
        """Rows this mode adds to a report's summary table, from a run's ``config.toml``."""
        return []

    # -- shared by every mode ---------------------------------------------------------------
    def check_objective(self, objective: str) -> None:
        """Refuse a likelihood objective in a mode that has no likelihood model."""
        if is_likelihood(objective) and not self.has_likelihood_model:
            raise ConfigError(f"{self.name} mode trains GANs only: --objective {objective} (a "
                              "maximum-likelihood baseline) is for text runs")

    def config_types(self) -> dict[str, type]:
        """The config dataclass of each section of a run of this mode (what its settings are)."""
        return {"train": TrainConfig, "data": self.data_config, "model": self.model_config}

    def run_config(self, d: dict[str, Any], preset: str = "custom") -> RunConfig:
        """A :class:`RunConfig` from sections of plain values (``config.toml``, a checkpoint)."""
        parts = {section: apply_overrides(config_type(), d.get(section, {}), section)
                 for section, config_type in self.config_types().items()}
        return RunConfig(mode=self.name, preset=d.get("preset", preset), **parts)

    def check_labels(self, config: RunConfig, num_classes: int) -> None:
        """Refuse ``--conditional`` when the run's data has no labels (``num_classes`` 0)."""
        method = config.train.conditional
        if method != "none" and not num_classes:
            raise ConfigError(f"--conditional {method} needs labelled data, and this {self.name} "
                              f"data has no labels: {self.labels_hint}")

    def label_index(self, state: dict[str, Any], label: str | None, path: Path) -> int | None:
        """The label id of class ``label`` in a checkpoint's ``label_names`` (None: no label
        asked for). A model trained without labels, or an unknown name, is a one-line error."""
        if label is None:
            return None
        names = state.get("label_names") or []
        if not names or state.get("config", {}).get("train", {}).get("conditional",
                                                                     "none") == "none":
            raise LabelChoiceError(f"--label {label}: {path} is not a conditional model (train "
                                   "with --conditional ac or projection on labelled data)")
        if label not in names:
            shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
            raise LabelChoiceError(f"--label {label!r} is not a class of this model; its "
                                   f"classes: {shown}")
        return names.index(label)

    def check_checkpoint(self, state: dict[str, Any], path: Path) -> None:
        """Refuse a checkpoint written by another mode."""
        if state.get("mode") != self.name:
            raise CheckpointError(f"{path} is a {state.get('mode')} checkpoint, not a {self.name} "
                                  "one")

    def config_from_checkpoint(self, state: dict[str, Any], path: Path) -> RunConfig:
        """The configuration a checkpoint was trained with (checked to be this mode's)."""
        self.check_checkpoint(state, path)
        with _config_content(path, self.name):
            return self.run_config(state["config"])


class LabelChoiceError(ConfigError):
    """``--label`` names no class of the model (or the model has none): the user's choice, not a
    damaged checkpoint, so no translation words it as one."""


class MissingEntry(KeyError):
    """An entry a checkpoint should hold is not there (raised by :class:`CheckpointState`)."""


class CheckpointState(dict):  # type: ignore[type-arg]
    """A checkpoint's top-level entries: reading one it does not hold raises
    :class:`MissingEntry`, which :func:`checkpoint_content` words as a damaged file (a
    ``KeyError`` from anywhere else is a bug and is not)."""

    def __missing__(self, key: Any) -> Any:
        raise MissingEntry(key)


def is_damage(err: BaseException) -> bool:
    """Whether ``err`` is what reading a damaged or foreign checkpoint raises: an entry missing
    (:class:`MissingEntry`), or weights that do not fit the model the configuration builds
    (``load_state_dict``'s errors). Anything else raised while sampling is a bug."""
    text = str(err)
    return (isinstance(err, MissingEntry)
            or (isinstance(err, RuntimeError) and "Error(s) in loading state_dict" in text)
            or (isinstance(err, (TypeError, AttributeError)) and "state_dict" in text))


def _first_line(err: BaseException) -> str:
    return str(err).splitlines()[0][:100] if str(err) else type(err).__name__


@contextmanager
def checkpoint_content(path: Path, mode: str) -> Iterator[None]:
    """Around a mode reading a checkpoint that loaded safely (``weights_only``): what a damaged
    or foreign one raises (:func:`is_damage`) → one line. Other errors go through as they are."""
    try:
        yield
    except (KeyError, TypeError, AttributeError, RuntimeError) as err:
        if not is_damage(err):
            raise
        raise CheckpointError(f"{path} is not a usable {mode} checkpoint ({type(err).__name__}: "
                              f"{_first_line(err)})") from None


@contextmanager
def _config_content(path: Path, mode: str) -> Iterator[None]:
    """Around parsing a checkpoint's ``config`` (plain values): any failure is a damaged file."""
    try:
        yield
    except LabelChoiceError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, ConfigError) as err:
        raise CheckpointError(f"{path} is not a usable {mode} checkpoint ({type(err).__name__}: "
                              f"{_first_line(err)})") from None


def sample_seed(seed: int | None) -> int:
    """``seed``, or a fresh random one when sampling was not asked to be reproducible."""
    return seed if seed is not None else int.from_bytes(os.urandom(8), "little") >> 1
