"""What a text model folder (``textgan export``) holds besides the weights: the tokenizer, as
``vocab.json`` (character runs: the whole tokenizer) or ``vocab.json`` + ``sentencepiece.model``
(SentencePiece runs: the model file other tools read, and the vocabulary and pad beside it).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import torch

from textgan.core.mode import ExportParts
from textgan.errors import CheckpointError
from textgan.text.sentencepiece import MODEL_FILE

VOCAB_FILE = "vocab.json"


def export_parts(state: dict[str, Any]) -> ExportParts:
    """The generator's weights and the tokenizer's files of a text checkpoint."""
    tokenizer = json.loads(state["tokenizer"])
    files: dict[str, bytes] = {}
    if tokenizer.get("kind") == "sentencepiece":
        files[MODEL_FILE] = base64.b64decode(tokenizer.pop("model"), validate=True)
        tokenizer["model_file"] = MODEL_FILE
    files[VOCAB_FILE] = json.dumps(tokenizer, ensure_ascii=False, indent=1).encode("utf-8")
    data = state["config"]["data"]
    summary = {"corpus": data.get("corpus") or data.get("corpus_path") or "synthetic",
               "tokenizer": tokenizer.get("kind", "char"), "seq_len": int(data["seq_len"]),
               "vocab_size": len(tokenizer["vocab"])}
    return ExportParts({"generator": state["generator"]}, files, summary)


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
    from textgan.text.evaluation import PAPER_SAMPLES, evaluate_generator
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
    how = (f"`textgan eval --run`'s evaluation of {n} argmax samples{paper}, seed 0, against the "
           f"held-out text of the training corpus ({corpus.dir.name}); `*_floor` and `*_real` are "
           "the same statistics for real text")
    return metrics, how
