"""Shareable model folders: ``textgan export RUN DIR`` writes one; ``textgan.load``,
``textgan sample --model`` and ``textgan eval --model`` read it.

A folder is laid out as huggingface_hub's ``ModelHubMixin``/``PyTorchModelHubMixin`` lay theirs
out, so it can be pushed to the Hugging Face Hub as is and downloaded again
(:meth:`textgan.api.TrainedModel.push_to_hub` / ``from_pretrained``)::

    config.json        what the model is: mode, architecture, tokenizer kind, seq_len, a training
                       summary, how it was evaluated, the run's whole configuration, and the
                       sha256 of every other file listed in it (so a changed or damaged file is
                       refused)
    evaluation.json    the card's evaluation, every metric (``textgan eval --json``'s keys)
    model.safetensors  the weights, ``<module>.<parameter>`` (``generator.input.weight``, ...);
                       the generator is its moving average where the run kept one
    vocab.json         text: the tokenizer (with ``sentencepiece.model`` for SentencePiece runs)
    samples.png        image and toy: the model card's samples
    README.md          the model card

Only safetensors, JSON, text and PNG: no pickle, so reading a folder cannot run code. A folder
holds no path or directory of the machine it was made on: the training data is named by base
name and sha256 (each mode's :meth:`~textgan.core.mode.Mode.export_parts`), and any absolute path
left in the run configuration is cut to its base name. Reading
one rebuilds a checkpoint-shaped dict (``mode``, ``config``, ``step`` and what the mode's
:meth:`~textgan.core.mode.Mode.import_parts` adds), which the mode samples exactly as it samples
the checkpoint the folder was exported from. Each mode decides what its folder holds
(:meth:`~textgan.core.mode.Mode.export_parts`).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textgan._version import __version__
from textgan.config import PAPER_SAMPLES
from textgan.errors import CheckpointError, ConfigError, TextganError
from textgan.io.files import base_name, is_local_path

FORMAT = "textgan-model"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
CARD_FILE = "README.md"
EVALUATION_FILE = "evaluation.json"
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # no directories, no hidden files


@dataclass
class ModelFolder:
    """A model folder read back: its ``config.json`` and a checkpoint-shaped ``state``."""

    path: Path
    config: dict[str, Any]
    state: dict[str, Any]


@dataclass
class ExportResult:
    path: Path
    evaluation: str  # how the card's metrics were obtained
    notes: list[str] = field(default_factory=list)


def is_model_folder(path: str | Path) -> bool:
    """``path`` is a directory with a textgan ``config.json`` (nothing is verified yet)."""
    config = Path(path) / CONFIG_FILE
    if not config.is_file():
        return False
    try:
        return json.loads(config.read_text(encoding="utf-8")).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _folder_message(path: Path, err: BaseException) -> CheckpointError:
    text = str(err)
    detail = next((line.strip() for line in text.splitlines() if "size mismatch" in line
                   or "Missing key" in line or "Unexpected key" in line),
                  text.splitlines()[0] if text else type(err).__name__)
    return CheckpointError(f"model folder {path} does not fit its {CONFIG_FILE} "
                           f"({type(err).__name__}: {detail[:160]}); export it again")


@contextmanager
def _folder_reading(path: Path) -> Iterator[None]:
    """Around reading a folder's verified files into a checkpoint-shaped state: files that do
    not fit together (a missing module, a damaged tokenizer) → one line."""
    try:
        yield
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, RuntimeError) as err:
        raise _folder_message(path, err) from None


@contextmanager
def folder_content(path: Path) -> Iterator[None]:
    """Around a mode sampling a folder's state: weights of other shapes (what a folder whose
    files verify but do not fit together raises, :func:`~textgan.core.mode.is_damage`) → one
    line. Other errors go through as they are."""
    from textgan.core.mode import is_damage

    try:
        yield
    except (KeyError, TypeError, AttributeError, RuntimeError) as err:
        if not is_damage(err):
            raise
        raise _folder_message(path, err) from None


def read_model_folder(path: str | Path) -> ModelFolder:
    """Read and verify a model folder: every file listed in ``config.json`` must have its
    recorded sha256; a changed, missing or unreadable file is a one-line error."""
    from textgan.modes import get_mode

    path = Path(path)
    config_path = path / CONFIG_FILE
    if not config_path.is_file():
        raise CheckpointError(f"{path} is not a textgan model folder (no {CONFIG_FILE})")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise CheckpointError(f"{config_path} is unreadable ({str(err)[:100]})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a textgan model folder ({CONFIG_FILE} is not "
                              f"textgan's)")
    if not isinstance(config.get("format_version"), int) or config["format_version"] > FORMAT_VERSION:
        raise CheckpointError(f"{path} was written by a newer textgan (model format "
                              f"{config.get('format_version')}); upgrade textgan")
    files = config.get("files")
    if not isinstance(files, dict) or WEIGHTS_FILE not in files:
        raise CheckpointError(f"{config_path} lists no {WEIGHTS_FILE}; export the model again")
    contents: dict[str, bytes] = {}
    for name, digest in files.items():
        if not isinstance(name, str) or not _PLAIN_NAME.match(name):
            raise CheckpointError(f"{config_path} lists a file outside the folder: {name!r}")
        try:
            data = (path / name).read_bytes()
        except OSError as err:
            raise CheckpointError(f"{path / name} is missing or unreadable ({err.strerror}); "
                                  "the folder is incomplete") from None
        if _sha256(data) != digest:
            raise CheckpointError(f"{path / name} does not match the sha256 recorded in "
                                  f"{CONFIG_FILE}: it was changed or damaged; export it again")
        contents[name] = data
    weights = _load_weights(contents.pop(WEIGHTS_FILE), path / WEIGHTS_FILE)
    evaluation = config.get("evaluation")
    if isinstance(evaluation, dict) and evaluation.get("file") in contents:
        # in memory the evaluation is whole again, as folders before evaluation.json kept it
        try:
            evaluation["metrics"] = json.loads(contents.pop(evaluation["file"]))
        except ValueError:
            raise CheckpointError(f"{path / evaluation['file']} is not JSON; export it again") \
                from None
    mode = get_mode(config.get("mode"))
    with _folder_reading(path):
        state = {"mode": mode.name, "config": config["run_config"],
                 "step": int(config["training"]["step"]),
                 **({"label_names": [str(n) for n in config["label_names"]]}
                    if config.get("label_names") else {}),
                 **mode.import_parts(weights, contents)}
        mode.run_config(state["config"])  # the configuration must still be valid
    return ModelFolder(path, config, state)


def _load_weights(data: bytes, where: Path) -> dict[str, dict[str, Any]]:
    """safetensors bytes → ``{module: state dict}`` (keys ``<module>.<parameter>``)."""
    from safetensors import SafetensorError
    from safetensors.torch import load as load_safetensors

    try:
        flat = load_safetensors(data)
    except (SafetensorError, ValueError, RuntimeError) as err:
        raise CheckpointError(f"{where} is not a readable safetensors file ({str(err)[:100]})") \
            from None
    weights: dict[str, dict[str, Any]] = {}
    for key, tensor in flat.items():
        module, _, name = key.partition(".")
        weights.setdefault(module, {})[name] = tensor
    return weights


def _flat_weights(weights: dict[str, dict[str, Any]]) -> dict[str, Any]:
    # safetensors refuses tensors sharing memory; a clone of each (small models) is its own
    return {f"{module}.{name}": tensor.detach().to("cpu").contiguous().clone()
            for module, state in weights.items() for name, tensor in state.items()}


def run_dir_of(checkpoint: Path) -> Path | None:
    """The run directory a checkpoint file lives in, if it does."""
    run = checkpoint.parent.parent
    if checkpoint.parent.name == "checkpoints" and (run / "config.toml").is_file():
        return run
    return None


def logged_evaluation(run_dir: Path | None, step: int) -> tuple[dict[str, float], str] | None:
    """The last in-training evaluation logged up to ``step`` in ``run_dir/metrics.jsonl``:
    the metrics of the last record with keys that not every record has (the losses)."""
    if run_dir is None:
        return None
    from textgan.core.run import Run

    records = [r for r in Run(run_dir).read_metrics() if r.get("step", 0) <= step]
    if not records:
        return None
    always = set.intersection(*(set(r) for r in records))
    for record in reversed(records):
        extra = {k: v for k, v in record.items() if k not in always and isinstance(v, (int, float))}
        if extra:
            how = (f"the run's last in-training evaluation, logged at step {record['step']} in "
                   f"{Run(run_dir).metrics_path.name} (not evaluated again for the export)")
            return extra, how
    return None


def _atomic_folder(out: Path, force: bool) -> tuple[Path, Path | None]:
    """(where to write, the folder it replaces): ``out`` must be new, empty, or (``force``) a
    model folder. The new folder is written beside it and renamed into place when complete."""
    replaced = None
    if out.exists():
        if not out.is_dir():
            raise TextganError(f"{out} is a file; choose a folder to export to")
        if any(out.iterdir()):
            if not (force and is_model_folder(out)):
                hint = " (--force replaces a model folder)" if is_model_folder(out) else ""
                raise TextganError(f"{out} exists and is not empty; choose a new folder{hint}")
            replaced = out
    partial = out.with_name(out.name + ".partial")
    if partial.exists():
        shutil.rmtree(partial)  # an interrupted earlier export
    partial.mkdir(parents=True)
    return partial, replaced


def export_folder(state: dict[str, Any], out: str | Path, *, source: Path, weights_note: str,
                  run_dir: Path | None = None, evaluate: bool = True,
                  eval_samples: int = PAPER_SAMPLES, force: bool = False,
                  previous: dict[str, Any] | None = None) -> ExportResult:
    """Write the model folder of ``state`` (a checkpoint whose ``generator`` is the one to share)
    to ``out``. ``source``: where ``state`` came from (for messages); ``weights_note``: which
    generator that is; ``run_dir``: its run (for the logged evaluation); ``evaluate``: evaluate
    ``eval_samples`` samples for the card when the mode can (text, with its corpus on disk);
    ``previous``: the ``config.json`` of the folder ``state`` was read from (its evaluation is
    kept when there is nothing newer)."""
    import torch
    from safetensors.torch import save as save_safetensors

    from textgan.core.mode import checkpoint_content
    from textgan.modes import get_mode

    if eval_samples < 1:
        raise ConfigError(f"the evaluation needs at least 1 sample, got {eval_samples}")
    out = Path(out)
    mode = get_mode(state.get("mode"))
    cpu = torch.device("cpu")
    with checkpoint_content(source, mode.name):
        parts = mode.export_parts(state)
        mode.run_config(state["config"])
    step = int(state.get("step", 0))
    notes: list[str] = []
    evaluation = None
    if evaluate:
        with checkpoint_content(source, mode.name):
            evaluation = mode.evaluate_export(state, source, eval_samples, cpu)
        if evaluation is None:
            notes.append("the run's prepared training data is not on disk to evaluate against: "
                         "the card shows the last logged evaluation")
    evaluation = evaluation or logged_evaluation(run_dir, step)
    if evaluation is None and previous and previous.get("evaluation"):
        evaluation = previous["evaluation"].get("metrics") or {}, previous["evaluation"]["how"]
    metrics, how = evaluation or ({}, "none: the run logged no evaluation, and "
                                  + ("none could be run without the run's prepared data" if evaluate else
                                     "none was run for the export (--no-eval)"))
    files = {WEIGHTS_FILE: save_safetensors(_flat_weights(parts.weights),
                                            metadata={"format": "pt", "library": "textgan"})}
    for name, data in parts.files.items():
        if not _PLAIN_NAME.match(name) or name in (CONFIG_FILE, CARD_FILE, WEIGHTS_FILE,
                                                   EVALUATION_FILE):
            raise TextganError(f"a {mode.name} model folder cannot hold a file named {name!r}")
        files[name] = data
    if metrics:
        files[EVALUATION_FILE] = (json.dumps(metrics, indent=1) + "\n").encode("utf-8")
    summary = without_local_paths(parts.summary)
    if previous and previous.get("corpus") == summary.get("corpus"):
        # a folder exported again: its corpus's sha256 came from a corpus no longer at hand
        summary = {**{k: v for k, v in previous.items() if k in _CORPUS_FACTS}, **summary}
    run_config = without_local_paths(parts.run_config or state["config"])
    partial, replaced = _atomic_folder(out, force)
    try:
        for name, data in files.items():
            (partial / name).write_bytes(data)
        sample_lines = None
        with checkpoint_content(source, mode.name):
            result = mode.sample(state, source, parts.sample_count, seed=0, temperature=None,
                                 out=partial / parts.sample_file if parts.sample_file else None,
                                 device=cpu)
        if parts.sample_file:
            files[parts.sample_file] = (partial / parts.sample_file).read_bytes()
        else:
            sample_lines = result.labelled_lines()
        config = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "library_name": "textgan",
            "textgan_version": __version__, "mode": mode.name,
            "architecture": run_config.get("model", {}),
            **summary,
            "training": {"step": step, "steps": run_config["train"]["steps"],
                         "preset": run_config.get("preset"),
                         "objective": run_config["train"].get("objective"),
                         "seed": run_config["train"].get("seed"),
                         "trained_on": summary.get("corpus") or summary.get("dataset")},
            "weights": {"file": WEIGHTS_FILE, "generator": weights_note,
                        "modules": sorted(parts.weights)},
            "evaluation": {"how": how, "file": EVALUATION_FILE if metrics else None},
            **({"label_names": list(state["label_names"])} if state.get("label_names") else {}),
            "files": {name: _sha256(data) for name, data in sorted(files.items())},
            "run_config": run_config,
        }
        (partial / CONFIG_FILE).write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
        (partial / CARD_FILE).write_text(model_card(config, sample_lines, parts.sample_file,
                                                    metrics), encoding="utf-8")
        if replaced is not None:
            old = out.with_name(out.name + ".replaced")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            partial.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            if out.exists():
                out.rmdir()  # empty
            partial.rename(out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return ExportResult(out, how, notes)


_CORPUS_FACTS = ("corpus_sha256", "corpus_files", "held_out", "held_out_sha256", "held_out_files")


def without_local_paths(value: Any) -> Any:
    """``value`` (JSON-like) with every absolute or home-relative path cut to its base name: a
    model folder names files, never the directories of the machine it was made on."""
    if isinstance(value, str):
        return base_name(value) if is_local_path(value) else value
    if isinstance(value, dict):
        return {k: without_local_paths(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [without_local_paths(v) for v in value]
    return value


def _fence(text: str) -> str:
    """A Markdown code fence longer than any run of backticks in ``text`` (samples may have
    backticks: the character tokenizer's pad)."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


# The card's table: (metric key, what it is), shown where the evaluation has the key, each beside
# its real-data counterpart (``<key>_real`` or ``<key>_floor``: the same statistic of real data).
CARD_METRICS: tuple[tuple[str, str], ...] = (
    ("js4", "JS-4 (character 4-grams; lower is closer)"),
    ("lm_forward_bpc", "LM forward, bits per character (samples under a real-text LM)"),
    ("lm_reverse_bpc", "LM reverse, bits per character (real text under a samples LM)"),
    *((f"texygen_bleu{n}", f"BLEU-{n} (Texygen)") for n in range(2, 6)),
    *((f"texygen_self_bleu{n}", f"Self-BLEU-{n} (Texygen; lower is more diverse)")
      for n in range(2, 6)),
    ("label_accuracy", "label accuracy (conditional)"),
    ("swd", "sliced Wasserstein distance (lower is closer)"),
    ("fid", "FID"),
    ("inception_score", "Inception score"),
)
_REAL_SUFFIXES = ("_real", "_floor")
_COUNTS = ("n_samples", "n_real")


def _number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "–"
    return "n/a" if value != value else f"{value:.4g}"  # NaN: not computable on these samples


def metrics_table(metrics: dict[str, Any], real: str = "real data") -> list[str]:
    """The card's evaluation as Markdown table lines: :data:`CARD_METRICS` that ``metrics`` has
    (an evaluation with none of them: its every key), each beside its real counterpart."""
    rows = [(key, label) for key, label in CARD_METRICS if key in metrics]
    if not rows:
        rows = [(key, key) for key in metrics
                if not key.endswith(_REAL_SUFFIXES) and key not in _COUNTS and "/" not in key]
    lines = [f"| metric | model | {real} |", "|---|---:|---:|"]
    for key, label in rows:
        counterpart = next((metrics[key + s] for s in _REAL_SUFFIXES if key + s in metrics), None)
        lines.append(f"| {label} | {_number(metrics[key])} | {_number(counterpart)} |")
    return lines


def model_card(config: dict[str, Any], samples: list[str] | None, sample_file: str | None,
               metrics: dict[str, Any] | None = None) -> str:
    """The README.md of a model folder (the Hub shows it as the model's page); ``metrics``:
    the evaluation (all of it is in ``evaluation.json``; the card shows a table)."""
    from textgan.modes import get_mode

    mode, training, arch = config["mode"], config["training"], config["architecture"]
    card = get_mode(mode).card()
    run = config["run_config"]
    tags = ["textgan", "gan", mode, *card.tags]
    header = ["---", "library_name: textgan", "tags:"] + [f"- {t}" for t in tags]
    if card.pipeline_tag:
        header.append(f"pipeline_tag: {card.pipeline_tag}")
    header.append("---")
    what = f"{training['trained_on']}"
    lines = header + [
        "",
        f"# textgan {mode} model: {what}, {training['step']} steps",
        "",
        f"A generator trained with textgan ({training['objective']}, preset "
        f"`{training['preset']}`) for {training['step']} generator steps (of {training['steps']} "
        f"configured) on **{what}**. Weights: {config['weights']['generator']}.",
        "",
        "## Training",
        "",
        "| setting | value |",
        "|---|---|",
    ]
    facts = {"trained on": what, "mode": mode, "steps": training["step"],
             "preset": training["preset"], "objective": training["objective"],
             "seed": training["seed"]}
    for key in ("corpus_sha256", "corpus_files", "held_out", "held_out_sha256", "held_out_files",
                "tokenizer", "seq_len", "vocab_size", "dataset"):
        if key in config:
            facts[key.replace("_", " ")] = (f"`{config[key]}`" if key.endswith("sha256")
                                            else config[key])
    facts.update({f"model.{k}": v for k, v in arch.items()})
    for key in ("batch_size", "critic_iters", "lr", "lr_critic", "ema_decay"):
        if key in run.get("train", {}):
            facts[f"train.{key}"] = run["train"][key]
    lines += [f"| {k} | {v} |" for k, v in facts.items()]
    evaluation = config["evaluation"]
    lines += ["", "## Evaluation", "", f"How: {evaluation['how']}.", ""]
    if metrics:
        real = card.real
        samples_n = metrics.get("n_samples")
        lines += metrics_table(metrics, real)
        counted = f"{int(samples_n)} samples; " if isinstance(samples_n, (int, float)) else ""
        lines += ["", f"{counted}{real}: the same statistic of real data in place of samples, what "
                  "a perfect model would score. Every metric "
                  f"({len(metrics)}): [`{EVALUATION_FILE}`]({EVALUATION_FILE})."]
    lines += ["", "## Samples", ""]
    if sample_file:
        lines += [f"![samples, seed 0]({sample_file})"]
    else:
        text = "\n".join(samples or [])
        fence = _fence(text)
        lines += ["Argmax decoding, seed 0 (as `textgan sample --model . -n 10 --seed 0`):", "",
                  fence, text, fence]
    lines += [
        "", "## Use", "",
        "With textgan installed (`pip install torch -e .` in its repository), in this folder:", "",
        "```",
        "textgan sample --model . -n 20 --seed 0",
        *card.commands,
        "```", "",
        "From Python:", "",
        "```python",
        "import textgan",
        "",
        'model = textgan.load(".")  # this folder, a run directory or a checkpoint',
        *card.python,
        "```", "",
        "From the Hugging Face Hub (needs network access; the folder is laid out as "
        "`huggingface_hub`'s `ModelHubMixin` folders):", "",
        "```python",
        "import textgan",
        "",
        'textgan.load(".").push_to_hub("user/my-textgan-model")  # upload this model',
        'model = textgan.TrainedModel.from_pretrained("user/my-textgan-model")  # download, load',
        "```", "",
        "## Files", "",
        f"`{CONFIG_FILE}` (architecture, training summary, how it was evaluated, the run's "
        f"configuration and the sha256 of every file, checked when loading), `{WEIGHTS_FILE}` "
        f"(safetensors: {', '.join(config['weights']['modules'])}; no pickle anywhere)"
        + "".join(f", `{name}`" + (" (every metric of the evaluation)" if name == EVALUATION_FILE
                                   else "")
                  for name in config["files"] if name != WEIGHTS_FILE) + ".",
        "",
    ]
    return "\n".join(lines)
