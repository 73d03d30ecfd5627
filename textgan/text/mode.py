"""Text mode: plugs the prepared corpus and the 1D-conv ResNets into the modality-free trainer."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from textgan.core.loop import Hook
from textgan.core.mode import ModeSetup
from textgan.core.run import Run
from textgan.errors import CheckpointError, CorpusError
from textgan.io.progress import ProgressFn
from textgan.text.models import TextCritic, TextGenerator, TextModelConfig
from textgan.text.prepare import PreparedCorpus, TextDataConfig, prepare_corpus
from textgan.text.sampling import generate_ids, generate_text
from textgan.text.tokenizer import CharTokenizer

SAMPLE_SEED = 1234  # the same noise every time: samples show one fixed set of z improving


class CorpusBatches:
    """Random rows of the prepared training array as one-hot ``[B, L, V]`` float batches.

    Rows are drawn with a seeded numpy Generator whose state is checkpointed (exact resume).
    From a memory-mapped corpus, rows are read with ``pread``: touching the memmap would map
    whole page-cache folios (up to 2 MB a row) into the process, so its resident size grew with
    the corpus (measured: +262 MB over 100 batches of a 256 MB file, +0.3 MB with pread).
    """

    def __init__(self, ids: np.ndarray, vocab_size: int, seed: int) -> None:
        if len(ids) == 0:
            raise ValueError("no training rows")
        self.ids, self.vocab_size = ids, vocab_size
        self.rng = np.random.default_rng(seed)
        self._file = None
        if isinstance(ids, np.memmap) and ids.filename and hasattr(os, "pread"):
            self._file = open(ids.filename, "rb")  # noqa: SIM115  (lives as long as the batcher)
            self._row_bytes = ids.shape[1] * ids.itemsize

    def rows(self, index: np.ndarray) -> np.ndarray:
        """The id rows at ``index`` (sorted: reads go forward through the file)."""
        if self._file is None:
            return np.asarray(self.ids[index])
        fd, size, base = self._file.fileno(), self._row_bytes, self.ids.offset
        data = b"".join(os.pread(fd, size, base + int(i) * size) for i in index)
        return np.frombuffer(data, dtype=self.ids.dtype).reshape(len(index), -1)

    def next_batch(self, batch_size: int, device: torch.device) -> Tensor:
        index = np.sort(self.rng.integers(0, len(self.ids), size=batch_size))
        ids = torch.from_numpy(self.rows(index).astype(np.int64))
        return F.one_hot(ids.to(device, non_blocking=True), self.vocab_size).float()

    def state_dict(self) -> dict[str, Any]:
        return {"bit_generator": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["bit_generator"]


def load_corpus(cfg: TextDataConfig, progress: ProgressFn | None = None) -> PreparedCorpus:
    """Open (downloading/preparing once if needed) the corpus ``cfg`` describes.

    The data does not depend on the training seed: runs with different seeds share one corpus.
    """
    from textgan.text.corpora import open_source

    source = open_source(cfg.corpus, cfg.corpus_path, valid_path=cfg.valid_path,
                         download_dir=Path(cfg.data_dir) / "downloads", progress=progress,
                         max_lines=cfg.max_lines, encoding_errors=cfg.encoding_errors)
    return prepare_corpus(source, cfg, progress=progress)


def build_models(vocab_size: int, seq_len: int,
                 model_cfg: TextModelConfig) -> tuple[TextGenerator, TextCritic]:
    return (TextGenerator(vocab_size, seq_len, model_cfg),
            TextCritic(vocab_size, seq_len, model_cfg))


def is_synthetic(corpus: PreparedCorpus) -> bool:
    return corpus.meta.get("source", {}).get("kind") == "synthetic"


def oracle_scores_for_rows(rows: list[list[int]], tokenizer: Any, seq_len: int) -> dict[str, float]:
    """The synthetic grammar's oracle scores for generated id rows (any tokenizer)."""
    from textgan.text.corpora.synthetic import oracle_scores

    lines = [tokenizer.decode(row, strip_pad=True) for row in rows]
    if tokenizer.kind == "char":
        return oracle_scores(lines, seq_len)
    # seq_len counts pieces: a row that fills every position was cut, at a piece boundary
    # ``len(line)`` characters in; any other row must be a whole sentence.
    cut = [bool(line) and row[-1] != tokenizer.pad_id for line, row in zip(lines, rows, strict=True)]
    return oracle_scores(lines, seq_len, cut=cut)


def sample_hook(run: Run, generator: TextGenerator, corpus: PreparedCorpus, every: int,
                n: int = 64) -> Hook:
    """Write ``n`` argmax samples every ``every`` steps; on synthetic text also score them."""
    synthetic = is_synthetic(corpus)

    def write(step: int) -> dict[str, float]:
        tokenizer = corpus.tokenizer
        rows = generate_ids(generator, n, seed=SAMPLE_SEED).tolist()
        run.write_samples(step, [tokenizer.decode(row, strip_pad=True) for row in rows])
        return oracle_scores_for_rows(rows, tokenizer, corpus.seq_len) if synthetic else {}

    return Hook(every, write)


DataConfig = TextDataConfig
ModelConfig = TextModelConfig


def build(config: Any, run: Run, device: torch.device,
          progress: ProgressFn | None = None) -> ModeSetup:
    """Corpus, models, batches and hooks for a text run (``config`` is a RunConfig)."""
    data_cfg, model_cfg, train_cfg = config.data, config.model, config.train
    corpus = load_corpus(data_cfg, progress=progress)
    if len(corpus.train) == 0:
        raise CorpusError(f"prepared corpus {corpus.dir} has no training lines")
    generator, critic = build_models(len(corpus.vocab), corpus.seq_len, model_cfg)
    generator.to(device)
    batches = CorpusBatches(corpus.train, len(corpus.vocab), train_cfg.seed)
    hooks = [sample_hook(run, generator, corpus, train_cfg.sample_every)] \
        if train_cfg.sample_every else []
    notes = [f"corpus: {corpus.dir} ({len(corpus.train):,} training lines, "
             f"{len(corpus.valid):,} held-out, vocabulary {len(corpus.vocab)})"]
    if train_cfg.eval_every:
        from textgan.text.eval_hook import eval_hook

        hook = eval_hook(generator, corpus, train_cfg.eval_every)
        if hook is None:
            notes.append("in-training evaluation is off: the corpus has no held-out lines")
        else:
            hooks.append(hook)
    extra_state = {"mode": "text", "config": config.to_dict(),
                   "tokenizer": corpus.tokenizer.to_json(), "corpus_dir": str(corpus.dir)}
    return ModeSetup(generator, critic, batches, hooks, extra_state,
                     check_state=lambda state, path: check_compatible(state, corpus, path),
                     notes=notes)


def check_compatible(state: dict[str, Any], corpus: PreparedCorpus, path: Path) -> None:
    """A checkpoint must have been trained on the same vocabulary as the corpus."""
    if state.get("mode") != "text":
        raise CheckpointError(f"{path} is a {state.get('mode')} checkpoint, not a text one")
    theirs = json.loads(state["tokenizer"])["vocab"]
    if theirs != corpus.vocab:
        raise CheckpointError(
            f"{path} was trained with another vocabulary ({len(theirs)} entries, this corpus has "
            f"{len(corpus.vocab)}); use the same corpus and settings, or start a new run"
        )


def generator_from_checkpoint(state: dict[str, Any], path: Path,
                              device: torch.device) -> tuple[TextGenerator, Any, dict[str, Any]]:
    """Rebuild the generator and tokenizer from a checkpoint alone (no corpus needed)."""
    from textgan.config import apply_overrides

    if state.get("mode") != "text":
        raise CheckpointError(f"{path} is a {state.get('mode')} checkpoint, not a text one")
    config = state["config"]
    model_cfg = apply_overrides(TextModelConfig(), config.get("model", {}), "model")
    tok_data = json.loads(state["tokenizer"])
    if tok_data.get("kind") == "sentencepiece":
        from textgan.text.sentencepiece import SentencePieceTokenizer

        tokenizer: Any = SentencePieceTokenizer.from_json(state["tokenizer"])
    else:
        tokenizer = CharTokenizer.from_json(state["tokenizer"])
    seq_len = int(config["data"]["seq_len"])
    generator = TextGenerator(len(tokenizer.vocab), seq_len, model_cfg)
    try:
        generator.load_state_dict(state["generator"])
    except (RuntimeError, KeyError) as err:
        raise CheckpointError(f"{path} does not match its own config ({str(err)[:100]})") from None
    return generator.to(device).eval(), tokenizer, config


def sample(state: dict[str, Any], path: Path, n: int, *, seed: int | None,
           temperature: float | None, out: Path | None, device: torch.device) -> Any:
    """Decoded samples (pad stripped) from a checkpoint; written to ``out`` if given."""
    from textgan.sampling import SampleResult

    generator, tokenizer, _ = generator_from_checkpoint(state, path, device)
    lines = generate_text(generator, tokenizer, n, temperature=temperature,
                          seed=seed, strip_pad=True)
    result = SampleResult(lines=lines, notes=[f"checkpoint: {path} (step {state.get('step')})"])
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        result.files.append(out)
    return result
