"""What a text model folder (``textgan export``) holds besides the weights: the tokenizer, as
``vocab.json`` (character runs: the whole tokenizer) or ``vocab.json`` + ``sentencepiece.model``
(SentencePiece runs: the model file other tools read, and the vocabulary and pad beside it).

A folder is made to be shared, so it names the training text by what it is, never by where it
was: a file by its base name and sha256, a directory or glob by its base name, the number of its
files and the sha256 of their sha256s; a named corpus (``synthetic``, ``billion_word``,
``hf:NAME``) by its name. The run configuration it records keeps those base names in place of
the paths, and the default ``data_dir``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import torch

from textgan.core.mode import ExportParts
from textgan.errors import CheckpointError
from textgan.io.files import base_name, is_local_path
from textgan.text.sentencepiece import MODEL_FILE, without_paths

VOCAB_FILE = "vocab.json"


def export_parts(state: dict[str, Any]) -> ExportParts:
    """The generator's weights and the tokenizer's files of a text checkpoint, with the
    training text named by base name and sha256 and no path of the machine it was on."""
    tokenizer = json.loads(state["tokenizer"])
    files: dict[str, bytes] = {}
    if tokenizer.get("kind") == "sentencepiece":
        # the trained model records the path of its training sample
        files[MODEL_FILE] = without_paths(base64.b64decode(tokenizer.pop("model"), validate=True))
        tokenizer["model_file"] = MODEL_FILE
    files[VOCAB_FILE] = json.dumps(tokenizer, ensure_ascii=False, indent=1).encode("utf-8")
    data = state["config"]["data"]
    summary = {**corpus_identity(data, _prepared_meta(state)),
               "tokenizer": tokenizer.get("kind", "char"), "seq_len": int(data["seq_len"]),
               "vocab_size": len(tokenizer["vocab"])}
    run_config = {**state["config"], "data": shareable_data(data)}
    return ExportParts({"generator": state["generator"]}, files, summary, run_config=run_config)


def _named(corpus: str | None) -> bool:
    """``corpus`` names a corpus rather than files (None: the default, synthetic)."""
    from textgan.text.corpora import NAMED_CORPORA

    return corpus is None or corpus in (*NAMED_CORPORA, "files") or corpus.startswith("hf:")


def _corpus_name(corpus: str) -> str:
    # hf: takes a local dataset directory too (hf:NAME/CONFIG is a Hub name: kept)
    if corpus.startswith("hf:") and is_local_path(corpus[3:]):
        return "hf:" + base_name(corpus[3:])
    return corpus


def shareable_data(data: dict[str, Any]) -> dict[str, Any]:
    """The data settings with every path replaced by its base name and ``data_dir`` (where the
    training machine prepares corpora) by its default."""
    from textgan.text.prepare import TextDataConfig

    corpus = data.get("corpus")
    out = dict(data)
    if corpus is not None:
        out["corpus"] = _corpus_name(corpus) if _named(corpus) else base_name(corpus)
    for key in ("corpus_path", "valid_path"):
        if data.get(key) is not None:
            out[key] = base_name(data[key])
    out["data_dir"] = TextDataConfig().data_dir
    return out


def _prepared_meta(state: dict[str, Any]) -> dict[str, Any] | None:
    where = state.get("corpus_dir")
    meta = Path(where) / "meta.json" if where else None
    if meta is None or not meta.is_file():
        return None
    try:
        return json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _files_digest(listed: Any, spec: str | None) -> dict[str, Any]:
    """sha256 facts of training or held-out files: from the prepared corpus's list (each file's
    sha256, recorded when it was read), else of ``spec`` itself when that file exists."""
    if isinstance(listed, list) and listed and all("sha256" in f for f in listed):
        if len(listed) == 1:
            return {"sha256": listed[0]["sha256"]}
        joined = "".join(h + "\n" for h in sorted(f["sha256"] for f in listed))
        return {"sha256": hashlib.sha256(joined.encode("ascii")).hexdigest(), "files": len(listed)}
    if spec is not None and Path(spec).is_absolute() and Path(spec).is_file():
        from textgan.io.files import file_digest

        return {"sha256": file_digest(spec)}
    return {}


def corpus_identity(data: dict[str, Any], meta: dict[str, Any] | None) -> dict[str, Any]:
    """What a model folder says the model was trained on: ``corpus`` (a base name or a corpus
    name), with ``corpus_sha256`` (the file's sha256; several files: the sha256 of their sorted
    sha256s, one per line, and ``corpus_files``); ``held_out`` and ``held_out_sha256`` likewise
    for ``--valid-path``."""
    corpus, corpus_path, valid_path = data.get("corpus"), data.get("corpus_path"), data.get("valid_path")
    files = corpus_path if _named(corpus) else corpus  # the training files' path, if any
    plain = files is not None and (corpus in (None, "files") or not _named(corpus))
    if plain:
        out: dict[str, Any] = {"corpus": base_name(files)}
    else:  # a named corpus (billion_word, hf:): its name, and its local files' base name
        name = _corpus_name(corpus or "synthetic")
        out = {"corpus": name if files is None else f"{name} ({base_name(files)})"}
    source = (meta or {}).get("source", {})
    # named corpora's local files (a Billion Word tarball) are hashed only when prepared
    digest = _files_digest(source.get("train_files"), files if plain else None)
    out.update({f"corpus_{key}": value for key, value in digest.items()})
    if valid_path is not None:
        out["held_out"] = base_name(valid_path)
        digest = _files_digest(source.get("valid_files"), valid_path)
        out.update({f"held_out_{key}": value for key, value in digest.items()})
    return out


def import_parts(weights: dict[str, dict[str, torch.Tensor]],
                 files: dict[str, bytes]) -> dict[str, Any]:
    """A text checkpoint's ``generator`` and ``tokenizer`` (its JSON) from a folder's parts."""
    if VOCAB_FILE not in files:
        raise CheckpointError(f"the folder has no {VOCAB_FILE} (the tokenizer)")
    tokenizer = json.loads(files[VOCAB_FILE].decode("utf-8"))
    if tokenizer.get("kind") == "sentencepiece":
        name = tokenizer.pop("model_file", MODEL_FILE)
        if name not in files:
            raise CheckpointError(f"the folder has no {name} (its SentencePiece model)")
        tokenizer["model"] = base64.b64encode(files[name]).decode("ascii")
    return {"generator": weights["generator"], "tokenizer": json.dumps(tokenizer,
                                                                      ensure_ascii=False)}


def evaluate_export(state: dict[str, Any], n: int,
                    device: torch.device) -> tuple[dict[str, float], str] | None:
    """``textgan eval --run``'s metrics of ``n`` argmax samples (seed 0) against the held-out text
    of the corpus the checkpoint was trained on, when that prepared corpus is on disk."""
    from textgan.eval import PAPER_SAMPLES
    from textgan.text.generated import evaluate_generator
    from textgan.text.models import generator_from_checkpoint
    from textgan.text.prepare import PreparedCorpus

    where = state.get("corpus_dir")
    if not where or not (Path(where) / "meta.json").is_file():
        return None
    corpus = PreparedCorpus.open(where)
    if len(corpus.valid) == 0:
        return None
    generator, tokenizer, _ = generator_from_checkpoint(state, device)
    metrics, _ = evaluate_generator(generator, tokenizer, corpus, n=n, seed=0)
    paper = " (the paper's count)" if n == PAPER_SAMPLES else ""
    identity = corpus_identity(state["config"]["data"], corpus.meta)
    held_out = (f"the held-out file {identity['held_out']}" if "held_out" in identity else
                f"the held-out lines of the training corpus {identity['corpus']}")
    how = (f"`textgan eval --run`'s evaluation of {n} argmax samples{paper}, seed 0, against "
           f"{held_out}; `*_floor` and `*_real` are the same statistics for real text")
    return metrics, how
