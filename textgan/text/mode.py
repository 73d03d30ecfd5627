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
from textgan.core.mode import ExportParts, Mode, ModeSetup, RunConfig, Sampler, SampleResult
from textgan.core.run import Run
from textgan.errors import CheckpointError, CorpusError
from textgan.io.progress import ProgressFn
from textgan.text import presets as text_presets
from textgan.text.models import TextModelConfig, build_models, generator_from_checkpoint
from textgan.text.prepare import PreparedCorpus, TextDataConfig, load_corpus
from textgan.text.sampling import generate_ids, generate_text

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


def sample_hook(run: Run, sampler: Sampler, corpus: PreparedCorpus, every: int,
                n: int = 64) -> Hook:
    """Write ``n`` argmax samples every ``every`` steps; on synthetic text also score them."""
    from textgan.text.evaluation import oracle_scores_for_rows

    def write(step: int) -> dict[str, float]:
        tokenizer = corpus.tokenizer
        rows = generate_ids(sampler.module, n, seed=SAMPLE_SEED).tolist()
        run.write_samples(step, [tokenizer.decode(row, strip_pad=True) for row in rows])
        return oracle_scores_for_rows(rows, tokenizer, corpus.seq_len) if corpus.is_synthetic else {}

    return Hook(every, write)


def check_vocabulary(state: dict[str, Any], corpus: PreparedCorpus, path: Path) -> None:
    """A checkpoint must have been trained on the same vocabulary as the corpus."""
    theirs = json.loads(state["tokenizer"])["vocab"]
    if theirs != corpus.vocab:
        raise CheckpointError(
            f"{path} was trained with another vocabulary ({len(theirs)} entries, this corpus has "
            f"{len(corpus.vocab)}); use the same corpus and settings, or start a new run"
        )


class TextMode(Mode):
    """Sequences of characters (or SentencePiece pieces) from a prepared corpus."""

    name = "text"
    data_config = TextDataConfig
    model_config = TextModelConfig
    presets = text_presets.PRESETS

    def default_preset(self, data_settings: dict[str, Any]) -> str:
        return text_presets.default_preset(data_settings)

    def build(self, config: RunConfig, run: Run, device: torch.device,
              progress: ProgressFn | None = None) -> ModeSetup:
        data_cfg, model_cfg, train_cfg = config.data, config.model, config.train
        corpus = load_corpus(data_cfg, progress=progress)
        if len(corpus.train) == 0:
            raise CorpusError(f"prepared corpus {corpus.dir} has no training lines")
        generator, critic = build_models(len(corpus.vocab), corpus.seq_len, model_cfg)
        generator.to(device)
        sampler = Sampler(generator)
        batches = CorpusBatches(corpus.train, len(corpus.vocab), train_cfg.seed)
        hooks = [sample_hook(run, sampler, corpus, train_cfg.sample_every)] \
            if train_cfg.sample_every else []
        notes = [f"corpus: {corpus.dir} ({len(corpus.train):,} training lines, "
                 f"{len(corpus.valid):,} held-out, vocabulary {len(corpus.vocab)})"]
        if train_cfg.eval_every:
            from textgan.text.eval_hook import eval_hook

            hook = eval_hook(sampler, corpus, train_cfg.eval_every)
            if hook is None:
                notes.append("in-training evaluation is off: the corpus has no held-out lines")
            else:
                hooks.append(hook)
        extra_state = {"tokenizer": corpus.tokenizer.to_json(), "corpus_dir": str(corpus.dir)}
        return ModeSetup(generator, critic, batches, sampler, hooks, best_metric="js4",
                         extra_state=extra_state,
                         check_state=lambda state, path: check_vocabulary(state, corpus, path),
                         notes=notes)

    def sample(self, state: dict[str, Any], path: Path, n: int, *, seed: int | None,
               temperature: float | None, out: Path | None, device: torch.device) -> SampleResult:
        """Decoded samples (pad stripped); written to ``out`` if given."""
        generator, tokenizer, _ = generator_from_checkpoint(state, device)
        lines = generate_text(generator, tokenizer, n, temperature=temperature,
                              seed=seed, strip_pad=True)
        result = SampleResult(lines=lines, notes=[f"checkpoint: {path} (step {state.get('step')})"])
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
            result.files.append(out)
        return result

    # model folders (textgan export): see textgan/text/model_files.py
    def export_parts(self, state: dict[str, Any]) -> ExportParts:
        from textgan.text import model_files

        return model_files.export_parts(state)

    def import_parts(self, weights: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        from textgan.text import model_files

        return model_files.import_parts(weights, files)

    def evaluate_export(self, state: dict[str, Any], path: Path, n: int,
                        device: torch.device) -> tuple[dict[str, float], str] | None:
        from textgan.text import model_files

        return model_files.evaluate_export(state, n, device)
