"""The Python API: what the CLI does, for a notebook or your own code.

::

    import textgan

    model = textgan.load("runs/text-XXXX")  # a run directory, a checkpoint or an exported folder
    lines = model.generate(10, seed=0)  # argmax decoding, as `textgan sample --seed 0`
    metrics = textgan.evaluate(lines, "my_text.txt")  # the metrics of `textgan eval`
    config = textgan.configure(train={"steps": 500}, data={"corpus": "my_text.txt"})
    result = textgan.train(config, out="runs/mine", progress=my_callback)
    result.load().save_pretrained("my-model")  # as `textgan export`

Nothing here prints: preparation and training report through the callbacks they are given
(``progress(what, done, total)``, as the CLI's progress bars receive them, and ``on_step`` with
each step's :class:`~textgan.core.loop.StepEvent`). Errors are :class:`textgan.errors.TextganError`
with a one-line message. ``textgan.<name>`` imports this module on first use (``import textgan``
alone imports no torch).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textgan.config import PAPER_SAMPLES
from textgan.errors import ConfigError, TextganError
from textgan.io.progress import ProgressFn
from textgan.opening import open_model

__all__ = ["TrainResult", "TrainedModel", "configure", "evaluate", "load", "train"]


class TrainedModel:
    """A trained generator, ready to sample: from a run, a checkpoint or a model folder.

    Model folders follow the conventions of huggingface_hub's ``ModelHubMixin`` (``config.json``,
    ``model.safetensors``, ``README.md``): :meth:`save_pretrained` writes one,
    :meth:`from_pretrained` reads one from a local folder or the Hugging Face Hub, and
    :meth:`push_to_hub` uploads one. (It does not inherit the mixin: that would import
    huggingface_hub, about 0.25 s, on every start, and its loader prints.)
    """

    def __init__(self, state: dict[str, Any], *, source: Path, weights: str,
                 run_dir: Path | None = None, folder_config: dict[str, Any] | None = None,
                 device: str = "auto") -> None:
        from textgan.device import resolve_device
        from textgan.modes import get_mode

        self._state = state
        self._mode = get_mode(state.get("mode"))
        self.source = source  # the checkpoint file or model folder it was read from
        self.weights = weights  # which generator: its moving average or the trained one
        self.run_dir = run_dir
        self.folder_config = folder_config  # config.json, when read from a model folder
        self.device = resolve_device(device)

    @property
    def mode(self) -> str:
        """text, image or toy."""
        return self._mode.name

    @property
    def step(self) -> int:
        """Generator steps it was trained for."""
        return int(self._state.get("step", 0))

    @property
    def config(self) -> dict[str, Any]:
        """The configuration it was trained with (``config.toml``'s sections)."""
        return self._state["config"]

    def __repr__(self) -> str:
        return f"TrainedModel({self.mode}, step {self.step}, from {self.source})"

    def _content(self) -> AbstractContextManager[None]:
        """Damaged content → one line naming where it came from."""
        from textgan.opening import OpenedModel

        return OpenedModel(self._mode, self._state, self.source, self.weights,
                           folder_config=self.folder_config).content()

    def sample(self, n: int, *, out: str | Path | None = None, temperature: float | None = None,
               seed: int | None = 0, label: str | None = None) -> Any:
        """``n`` samples as ``textgan sample`` draws them (a :class:`~textgan.core.mode.SampleResult`:
        text lines; image and toy models write a PNG to ``out``); ``label``: every sample of that
        class, for a conditional model."""
        if n < 1:
            raise ConfigError(f"n must be at least 1, got {n}")
        if temperature is not None and not temperature > 0:
            raise ConfigError(f"temperature must be positive, got {temperature}")
        if out is None and not self._mode.draws_lines:
            raise ConfigError(f"a {self.mode} model draws its samples into a file: give out=PATH")
        with self._content():
            return self._mode.sample(self._state, self.source, n, seed=seed,
                                     temperature=temperature, out=Path(out) if out else None,
                                     device=self.device, label=label)

    def generate(self, n: int, temperature: float | None = None, seed: int | None = 0,
                 label: str | None = None) -> list[str]:
        """``n`` decoded samples, pad stripped: argmax decoding when ``temperature`` is None (as
        ``textgan sample``), else sampled from softmax(logits / temperature). The same ``seed``
        gives the same samples (None: a fresh random seed). A conditional model: all of class
        ``label``, else its classes in turn (:attr:`label_names`; line i is of class
        ``label_names[i % K]``)."""
        if not self._mode.draws_lines:
            raise ConfigError(f"generate() returns text; this is a {self.mode} model: use "
                              "sample(n, out=PATH)")
        return list(self.sample(n, temperature=temperature, seed=seed, label=label).lines or [])

    @property
    def label_names(self) -> list[str]:
        """A conditional model's classes, in label-id order (empty: not conditional)."""
        return list(self._state.get("label_names") or [])

    def evaluate(self, reference: str | Path, *, n: int = PAPER_SAMPLES, temperature: float | None = None,
                 seed: int = 0, config: Any = None, js_text: str = "valid",
                 data_dir: str = "data", progress: ProgressFn | None = None) -> dict[str, float]:
        """:func:`evaluate` on ``n`` samples of this model (text files are prepared with the
        model's ``seq_len``)."""
        lines = self.generate(n, temperature=temperature, seed=seed)
        return evaluate(lines, reference, config=config, js_text=js_text, data_dir=data_dir,
                        seq_len=int(self.config["data"]["seq_len"]), progress=progress)

    def evaluate_against(self, reference: str | Path, request: Any) -> Any:
        """``textgan eval --model``: what this model's mode reports of ``request.n`` samples
        against ``reference`` (``request``: a :class:`~textgan.core.mode.EvalRequest`)."""
        return self._mode.evaluate_model(self, str(reference), request)

    def save_pretrained(self, directory: str | Path, *, evaluate: bool = True,
                        eval_samples: int | None = None, force: bool = False) -> Path:
        """Write a model folder (what ``textgan export`` writes; see :mod:`textgan.export`) and
        return its path.

        ``evaluate``: evaluate ``eval_samples`` samples (default ``PAPER_SAMPLES``) for the model
        card when the training corpus is on disk (text); otherwise the card shows the run's last logged
        evaluation. ``force`` replaces an existing model folder.
        """
        return self.export(directory, evaluate=evaluate, eval_samples=eval_samples,
                           force=force).path

    def export(self, directory: str | Path, *, evaluate: bool = True,
               eval_samples: int | None = None, force: bool = False) -> Any:
        """:meth:`save_pretrained`, returning the :class:`~textgan.export.ExportResult` (how the
        card's evaluation was obtained, notes)."""
        from textgan.export import export_folder

        return export_folder(self._state, directory, source=self.source,
                             weights_note=self.weights, run_dir=self.run_dir, evaluate=evaluate,
                             eval_samples=eval_samples or PAPER_SAMPLES, force=force,
                             previous=self.folder_config)

    @classmethod
    def from_pretrained(cls, name_or_path: str | Path, *, revision: str | None = None,
                        cache_dir: str | Path | None = None, token: str | bool | None = None,
                        local_files_only: bool = False, force_download: bool = False,
                        device: str = "auto") -> TrainedModel:
        """A model folder: a local one, or ``user/name`` on the Hugging Face Hub (downloaded into
        the Hub's cache with ``huggingface_hub.snapshot_download``; the arguments are its)."""
        path = Path(name_or_path)
        if not path.is_dir():
            path = _download(str(name_or_path), revision=revision, cache_dir=cache_dir,
                             token=token, local_files_only=local_files_only,
                             force_download=force_download)
        return _from_folder(path, device)

    def push_to_hub(self, repo_id: str, *, private: bool | None = None, token: str | None = None,
                    commit_message: str = "Upload textgan model", branch: str | None = None,
                    create_pr: bool | None = None, evaluate: bool = True) -> str:
        """Upload this model's folder to the Hugging Face Hub as ``repo_id`` (created if needed)
        and return the commit's URL; as ``ModelHubMixin.push_to_hub``. Needs network access and a
        token (``hf auth login``)."""
        with _hub_errors(f"pushing to {repo_id}"):
            from huggingface_hub import HfApi

            hub = HfApi(token=token)
            repo_id = hub.create_repo(repo_id=repo_id, private=private, exist_ok=True).repo_id
            with tempfile.TemporaryDirectory() as tmp:
                folder = self.save_pretrained(Path(tmp) / "model", evaluate=evaluate)
                commit = hub.upload_folder(repo_id=repo_id, repo_type="model", folder_path=folder,
                                           commit_message=commit_message, revision=branch,
                                           create_pr=create_pr)
        return str(commit)


class _hub_errors(AbstractContextManager[None]):
    """The Hub's many exception types (HTTP, offline, missing repo, ...) → one line."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __exit__(self, kind: Any, err: Any, tb: Any) -> bool:
        if err is None or isinstance(err, (TextganError, KeyboardInterrupt)):
            return False
        if isinstance(err, Exception):
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise TextganError(f"{self.what} failed: {first[:200]}") from None
        return False


def _download(repo_id: str, **kwargs: Any) -> Path:
    from textgan.export import CARD_FILE, CONFIG_FILE

    with _hub_errors(f"{repo_id} is not a local folder, and downloading it from the Hub"):
        from huggingface_hub import snapshot_download

        # every file a textgan folder may list (safetensors, JSON, the SentencePiece model, PNG)
        patterns = [CONFIG_FILE, CARD_FILE, "*.safetensors", "*.json", "*.model", "*.png"]
        return Path(snapshot_download(repo_id=repo_id, allow_patterns=patterns, **kwargs))


def _from_folder(path: Path, device: str) -> TrainedModel:
    return _trained(open_model(path, folder=True), device)


def _trained(opened: Any, device: str) -> TrainedModel:
    return TrainedModel(opened.state, source=opened.source, weights=opened.weights,
                        run_dir=opened.run_dir, folder_config=opened.folder_config, device=device)


def load(path: str | Path, *, checkpoint: str | None = None, raw: bool = False,
         device: str = "auto") -> TrainedModel:
    """A trained model from ``path``: an exported model folder, a run directory (its newest good
    checkpoint; ``checkpoint="best"``: its best.pt) or a checkpoint file
    (:func:`textgan.opening.open_model`).

    The generator is the moving average of its weights where the run kept one (``raw``: the
    trained generator), as ``textgan sample`` uses.
    """
    return _trained(open_model(path, checkpoint=checkpoint, raw=raw), device)


def evaluate(samples: Sequence[str], reference: str | Path, *, config: Any = None,
             js_text: str = "valid", data_dir: str = "data", seq_len: int = 32,
             progress: ProgressFn | None = None) -> dict[str, float]:
    """The metrics of ``textgan eval SAMPLES --reference REFERENCE`` for a list of strings.

    ``reference``: text file(s), a directory or a glob (all their lines are the reference,
    prepared once into ``data_dir`` with ``seq_len``), a prepared corpus directory or a corpus
    name (synthetic, billion_word, hf:...: its held-out split). ``config``: an
    :class:`~textgan.eval.EvalConfig` (which metrics). Keys and floors are those listed in
    :mod:`textgan.eval.evaluate`.
    """
    from textgan.config import check_type
    from textgan.core.mode import EvalRequest
    from textgan.eval import EvalConfig, JSText
    from textgan.modes import LINES_MODE, get_mode

    lines = [samples] if isinstance(samples, str) else list(samples)
    if not lines or not all(isinstance(line, str) for line in lines):
        raise ConfigError("samples must be a non-empty list of strings")
    check_type("js_text", js_text, JSText)
    request = EvalRequest(n=PAPER_SAMPLES, metrics=config or EvalConfig(), js_text=js_text,
                          data={"data_dir": data_dir, "seq_len": seq_len}, progress=progress)
    return get_mode(LINES_MODE).evaluate_samples(lines, str(reference), request).metrics


def configure(mode: str = "text", preset: str | None = None, config_file: str | Path | None = None,
              *, train: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
              model: dict[str, Any] | None = None) -> Any:
    """A run's configuration (:class:`~textgan.core.mode.RunConfig`), resolved as ``textgan
    train`` resolves it: defaults < ``preset`` (default: the mode's) < ``config_file`` <
    ``train``/``data``/``model`` settings (the names of the flags, with underscores)."""
    from textgan.training import resolve_config

    overrides = {"train": dict(train or {}), "data": dict(data or {}), "model": dict(model or {})}
    return resolve_config(mode, preset, str(config_file) if config_file else None, overrides)


@dataclass
class TrainResult:
    """What :func:`train` did."""

    run_dir: Path
    step: int  # the step reached
    steps: int  # the steps configured
    checkpoint: Path | None  # the newest checkpoint
    notes: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.step >= self.steps

    def load(self, **kwargs: Any) -> TrainedModel:
        """The trained model (see :func:`load`)."""
        return load(self.run_dir, **kwargs)


def train(config: Any, *, out: str | Path | None = None, runs_dir: str | Path = "runs",
          resume: bool = False, progress: ProgressFn | None = None,
          on_step: Callable[[Any], None] | None = None,
          should_stop: Callable[[], bool] | None = None,
          reschedule: bool = False) -> TrainResult:
    """Train a run of ``config`` (from :func:`configure`, or a dict of sections as in
    ``config.toml``) in ``out`` (default ``runs_dir/<mode>-<time>``), as ``textgan train``.

    ``progress(what, done, total)`` hears corpus preparation and each training step
    (``what="training"``); ``on_step(event)`` gets every :class:`~textgan.core.loop.StepEvent`
    (its ``metrics`` when logged); training stops cleanly, with a checkpoint, after the first
    step at which ``should_stop()`` is true. ``resume``: continue the run in ``out`` instead
    (``config`` may then be None, or change only the settings a resume may change);
    ``reschedule``: with it, as ``--reschedule``.
    """
    from textgan.core.mode import RunConfig
    from textgan.training import resume_training, run_config_from_dict, start_training

    if resume:
        if out is None:
            raise ConfigError("train(resume=True) needs out=RUN_DIR")
        overrides = {} if config is None else {
            "train": (config.to_dict() if isinstance(config, RunConfig) else config)["train"]}
        session = resume_training(out, runs_dir=runs_dir, overrides=overrides, progress=progress,
                                  reschedule=reschedule)
    else:
        if isinstance(config, RunConfig):
            config = config.to_dict()  # validated again: a dataclass may have been edited
        if not isinstance(config, dict):
            raise ConfigError("config must come from textgan.configure() or be a dict of sections")
        session = start_training(run_config_from_dict(config), out=out, runs_dir=runs_dir,
                                 progress=progress)
    for event in _events(session, should_stop):
        total = event.total  # (a time budget sizes the run after its first steps)
        if progress is not None:
            progress("training", event.step, total)
        if on_step is not None:
            on_step(event)
    latest = session.run.checkpoints.paths()
    return TrainResult(session.run.dir, session.trainer.step, session.config.train.steps,
                       latest[0] if latest else None, list(session.notes))


def _events(session: Any, should_stop: Callable[[], bool] | None) -> Iterator[Any]:
    yield from session.events(should_stop=should_stop or (lambda: False))
