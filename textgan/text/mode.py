"""Text mode: plugs the prepared corpus and the 1D-conv ResNets (or, for ``--objective mle``, the
LSTM language model) into the modality-free trainers."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from textgan.core.critic_loss import CRITIC_LOSS_SAMPLES, CriticLossHook, fixed_rows
from textgan.core.loop import Hook
from textgan.core.mode import (
    CardText,
    EvalRequest,
    ExportParts,
    Mode,
    ModeSetup,
    RunConfig,
    Sampler,
    SampleResult,
)
from textgan.core.objectives import is_likelihood
from textgan.core.run import Run
from textgan.errors import CheckpointError, ConfigError, CorpusError
from textgan.io.progress import ProgressFn
from textgan.text import presets as text_presets
from textgan.text.corpora import is_labelled_corpus
from textgan.text.models import (
    TextModelConfig,
    build_models,
    checkpoint_classes,
    generator_from_checkpoint,
    generator_parameters,
)
from textgan.text.prepare import PreparedCorpus, TextDataConfig, load_corpus
from textgan.text.sampling import decoding, generate_ids, generate_text

SAMPLE_SEED = 1234  # the same noise every time: samples show one fixed set of z improving


class CorpusBatches:
    """Random rows of the prepared training array as one-hot ``[B, L, V]`` float batches (a
    critic's input), or with ``as_ids`` as ``[B, L]`` int64 ids (a language model's).

    With ``labels`` (one class id per row; ``num_classes`` classes) it is a labelled batch
    source (:class:`~textgan.core.conditional.LabelledBatchSource`): ``next_labelled_batch``
    draws the rows exactly as ``next_batch`` does (the same RNG draw) and adds their labels.
    Without, ``num_classes`` is 0 and ``next_batch`` is what it always was.

    Rows are drawn with a seeded numpy Generator whose state is checkpointed (exact resume).
    From a memory-mapped corpus, rows are read with ``pread``: touching the memmap would map
    whole page-cache folios (up to 2 MB a row) into the process, so its resident size grew with
    the corpus (measured: +262 MB over 100 batches of a 256 MB file, +0.3 MB with pread).
    """

    def __init__(self, ids: np.ndarray, vocab_size: int, seed: int, as_ids: bool = False,
                 labels: np.ndarray | None = None, num_classes: int = 0) -> None:
        if len(ids) == 0:
            raise ValueError("no training rows")
        if (labels is None) != (num_classes == 0):
            raise ValueError("labels and num_classes go together")
        if labels is not None and len(labels) != len(ids):
            raise ValueError(f"{len(labels)} labels for {len(ids)} rows")
        self.ids, self.vocab_size, self.as_ids = ids, vocab_size, as_ids
        self.labels, self.num_classes = labels, num_classes
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
        return self._batch(self._draw(batch_size), device)

    def next_labelled_batch(self, batch_size: int, device: torch.device) -> tuple[Tensor, Tensor]:
        """(the batch ``next_batch`` would have drawn, its rows' labels int64 ``[B]``)."""
        if self.labels is None:
            raise ValueError("this corpus has no labels")
        index = self._draw(batch_size)
        labels = torch.from_numpy(np.asarray(self.labels[index]).astype(np.int64))
        return self._batch(index, device), labels.to(device, non_blocking=True)

    def _draw(self, batch_size: int) -> np.ndarray:
        return np.sort(self.rng.integers(0, len(self.ids), size=batch_size))

    def _batch(self, index: np.ndarray, device: torch.device) -> Tensor:
        ids = torch.from_numpy(self.rows(index).astype(np.int64)).to(device, non_blocking=True)
        return ids if self.as_ids else F.one_hot(ids, self.vocab_size).float()

    def state_dict(self) -> dict[str, Any]:
        return {"bit_generator": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["bit_generator"]


def text_critic_loss_hook(generator: nn.Module, critic: nn.Module, corpus: PreparedCorpus,
                          vocab_size: int, seed: int, device: torch.device,
                          conditional: bool) -> CriticLossHook:
    """``train_critic_loss`` / ``valid_critic_loss`` on fixed training and held-out lines
    (one-hot, as the critic sees real text)."""
    real, labels = {}, {}
    for which, (split, ids, row_labels) in enumerate((
            ("train", corpus.train, corpus.train_labels),
            ("valid", corpus.valid, corpus.valid_labels))):
        rows = fixed_rows(len(ids), CRITIC_LOSS_SAMPLES, seed, which)
        real[split] = F.one_hot(torch.from_numpy(np.asarray(ids[rows]).astype(np.int64)),
                                vocab_size).float()
        labels[split] = (torch.from_numpy(np.asarray(row_labels)[rows].astype(np.int64))
                         if conditional and row_labels is not None else None)
    return CriticLossHook(generator, critic, real["train"], real["valid"], seed, device,
                          labels["train"], labels["valid"])


def sample_hook(run: Run, sampler: Sampler, corpus: PreparedCorpus, every: int,
                n: int = 64, class_names: list[str] | None = None) -> Hook:
    """Write ``n`` samples (the model's default decoding: a GAN's argmax, a language model's
    draws at temperature 1) every ``every`` steps; on synthetic text also score them. A
    conditional model (``class_names``) samples the classes in turn and writes ``label<TAB>text``
    lines."""
    from textgan.text.evaluation import oracle_scores_for_rows

    def write(step: int) -> dict[str, float]:
        tokenizer = corpus.tokenizer
        rows = generate_ids(sampler.module, n, seed=SAMPLE_SEED).tolist()
        lines = [tokenizer.decode(row, strip_pad=True) for row in rows]
        if class_names:
            lines = labelled_lines(lines, cycled_names(n, class_names))
        run.write_samples(step, lines)
        return oracle_scores_for_rows(rows, tokenizer, corpus.seq_len) if corpus.is_synthetic else {}

    return Hook(every, write)


def cycled_names(n: int, class_names: list[str]) -> list[str]:
    """The class names of ``n`` samples drawn with the default labels (the classes in turn)."""
    return [class_names[i % len(class_names)] for i in range(n)]


def labelled_lines(lines: list[str], labels: list[str]) -> list[str]:
    """``label<TAB>text`` lines: a labelled samples file (``--labels tsv`` reads it back). A tab
    inside a sample becomes a space, so the first tab always ends the label."""
    return [f"{label}\t{line.replace(chr(9), ' ')}" for label, line in zip(labels, lines,
                                                                          strict=True)]


def heldout_nll_hook(sampler: Sampler, corpus: PreparedCorpus, every: int,
                     max_rows: int = 2048, batch_size: int = 256) -> Hook | None:
    """A likelihood model's ``valid_nll``: mean nats per position on (up to ``max_rows`` of)
    the held-out rows, the quantity training minimises on the training rows (``nll``)."""
    rows = np.asarray(corpus.valid[:max_rows]).astype(np.int64)
    if len(rows) == 0:
        return None

    @torch.no_grad()
    def measure(step: int) -> dict[str, float]:
        model = sampler.module
        device = next(model.parameters()).device
        total = 0.0
        for start in range(0, len(rows), batch_size):
            batch = torch.from_numpy(rows[start:start + batch_size]).to(device)
            total += float(model.nll(batch)) * len(batch)
        return {"valid_nll": total / len(rows)}

    return Hook(every, measure)


def check_vocabulary(state: dict[str, Any], corpus: PreparedCorpus, path: Path,
                     class_names: list[str] | None = None) -> None:
    """A checkpoint must have been trained on the same vocabulary as the corpus (and a
    conditional one on the same classes)."""
    theirs = json.loads(state["tokenizer"])["vocab"]
    if theirs != corpus.vocab:
        raise CheckpointError(
            f"{path} was trained with another vocabulary ({len(theirs)} entries, this corpus has "
            f"{len(corpus.vocab)}); use the same corpus and settings, or start a new run"
        )
    if class_names is not None and list(state.get("label_names") or []) != class_names:
        raise CheckpointError(f"{path} was trained on other classes than this corpus has "
                              f"({len(class_names)}: {', '.join(class_names[:5])}...); use the "
                              "same labelled corpus, or start a new run")


class TextMode(Mode):
    """Sequences of characters (or SentencePiece pieces) from a prepared corpus."""

    name = "text"
    data_config = TextDataConfig
    model_config = TextModelConfig
    presets = text_presets.PRESETS
    has_likelihood_model = True  # --objective mle: the LSTM language model (text/lm.py)
    labels_hint = ("label your text with --labels tsv (every line LABEL<TAB>TEXT), an hf: "
                   "dataset with --label-column NAME, or train on --corpus synthetic-classes")
    draws_lines = True

    def default_preset(self, data_settings: dict[str, Any]) -> str:
        return text_presets.default_preset(data_settings)

    def build(self, config: RunConfig, run: Run, device: torch.device,
              progress: ProgressFn | None = None) -> ModeSetup:
        data_cfg, model_cfg, train_cfg = config.data, config.model, config.train
        if not data_cfg.label_settings() and not is_labelled_corpus(data_cfg.corpus):
            self.check_labels(config, 0)  # refuse --conditional before preparing unlabelled text
        corpus = load_corpus(data_cfg, progress=progress)
        if len(corpus.train) == 0:
            raise CorpusError(f"prepared corpus {corpus.dir} has no training lines")
        self.check_labels(config, len(corpus.label_names))
        conditional = train_cfg.conditional != "none"
        class_names = list(corpus.label_names) if conditional else []
        likelihood = is_likelihood(train_cfg.objective)
        vocab_size = len(corpus.vocab)
        generator, critic = build_models(vocab_size, corpus.seq_len, model_cfg,
                                         train_cfg.objective, corpus.tokenizer.pad_id,
                                         len(class_names), train_cfg.conditional)
        generator.to(device)
        sampler = Sampler(generator)
        batches = CorpusBatches(corpus.train, vocab_size, train_cfg.seed, as_ids=likelihood,
                                labels=corpus.train_labels, num_classes=len(corpus.label_names))
        hooks = [sample_hook(run, sampler, corpus, train_cfg.sample_every,
                             class_names=class_names)] if train_cfg.sample_every else []
        notes = [f"corpus: {corpus.dir} ({len(corpus.train):,} training lines, "
                 f"{len(corpus.valid):,} held-out, vocabulary {vocab_size})"]
        if class_names:
            counts = np.bincount(np.asarray(corpus.train_labels), minlength=len(class_names))
            shown = ", ".join(f"{name} {count:,}" for name, count in
                              zip(class_names[:10], counts[:10], strict=True))
            more = f", ... ({len(class_names)} classes)" if len(class_names) > 10 else ""
            notes.append(f"conditional ({train_cfg.conditional}) on {len(class_names)} classes: "
                         f"{shown}{more}")
        if likelihood:
            size = sum(p.numel() for p in generator.parameters())
            gan = generator_parameters(vocab_size, corpus.seq_len, model_cfg)
            notes.append(f"maximum-likelihood baseline: LSTM language model, {model_cfg.lm_layers} "
                         f"layer(s) of {generator.hidden}, embedding {model_cfg.dim}: {size:,} "
                         f"parameters (the GAN generator at these settings: {gan:,})")
        if train_cfg.eval_every:
            from textgan.text.eval_hook import eval_hook

            hook = eval_hook(sampler, corpus, train_cfg.eval_every, class_names=class_names)
            if hook is None:
                notes.append("in-training evaluation is off: the corpus has no held-out lines")
            else:
                hooks.append(hook)
                if likelihood:
                    hooks.append(heldout_nll_hook(sampler, corpus, train_cfg.eval_every))
        if train_cfg.eval_every and critic is not None and len(corpus.valid):
            hooks.append(Hook(train_cfg.eval_every, text_critic_loss_hook(
                generator, critic, corpus, vocab_size, train_cfg.seed, device, conditional)))
        extra_state = {"tokenizer": corpus.tokenizer.to_json(), "corpus_dir": str(corpus.dir)}
        return ModeSetup(generator, critic, batches, sampler, hooks, best_metric="js4",
                         extra_state=extra_state, label_names=class_names,
                         check_state=lambda state, path: check_vocabulary(
                             state, corpus, path, class_names if conditional else None),
                         notes=notes)

    def sample(self, state: dict[str, Any], path: Path, n: int, *, seed: int | None,
               temperature: float | None, out: Path | None, device: torch.device,
               label: str | None = None) -> SampleResult:
        """Decoded samples (pad stripped); written to ``out`` if given. ``temperature`` None is
        the model's default decoding (a GAN: argmax; a language model: temperature 1).

        A conditional model: ``label`` gives ``n`` samples of that class (plain lines); without
        it the classes take turns and each line is ``label<TAB>text``, a labelled samples file
        that ``--labels tsv`` reads."""
        index = self.label_index(state, label, path)
        generator, tokenizer, _ = generator_from_checkpoint(state, device)
        lines = generate_text(generator, tokenizer, n, temperature=temperature,
                              seed=seed, strip_pad=True, labels=index)
        class_names = checkpoint_classes(state)
        how = decoding(generator, temperature)
        labels, written = None, lines
        if class_names and index is None:
            labels = cycled_names(n, class_names)
            written = labelled_lines(lines, labels)
            how += f"; the {len(class_names)} classes in turn, as label<TAB>text"
        elif index is not None:
            labels = [class_names[index]] * n
            how += f"; class {label}"
        result = SampleResult(lines=lines, labels=labels,
                              notes=[f"checkpoint: {path} (step {state.get('step')}), {how}"])
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text("".join(line + "\n" for line in written), encoding="utf-8")
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

    def card(self) -> CardText:
        return CardText(tags=["text-generation"], pipeline_tag="text-generation", real="real text",
                        commands=["textgan eval --model . --reference my_text.txt"],
                        python=["print(model.generate(5, seed=0))  # argmax; temperature=0.8 "
                                "samples"])

    # -- textgan eval (text/evaluation.py does the work) -------------------------------------
    def evaluate_run(self, run: Path, request: EvalRequest) -> Any:
        from textgan.text.evaluation import evaluate_run

        return evaluate_run(run, n=request.n, temperature=request.temperature,
                            seed=request.seed, config=request.metrics,
                            js_text=request.js_text,  # type: ignore[arg-type]
                            temperatures=request.temperatures, plot=request.plot,
                            device=request.device, checkpoint=request.checkpoint,
                            raw=request.raw)

    def evaluate_model(self, model: Any, reference: str, request: EvalRequest) -> Any:
        from textgan.text.evaluation import EvalReport, evaluate_texts

        if request.temperatures:
            raise ConfigError("--temperatures needs --run")
        data = self._data(request)
        samples = model.sample(request.n, temperature=request.temperature,
                               seed=request.seed).lines or []
        report = evaluate_texts(samples, reference, data_dir=data.data_dir,
                                seq_len=int(model.config["data"]["seq_len"]),
                                config=request.metrics,
                                js_text=request.js_text,  # type: ignore[arg-type]
                                encoding_errors=data.encoding_errors)
        decoding = "argmax" if request.temperature is None else f"T={request.temperature:g}"
        note = (f"model {model.source} (step {model.step}): {request.n} {decoding} samples, "
                f"seed {request.seed}, against {reference}")
        return EvalReport(report.metrics, [], Path(reference), notes=[note], lines=report.lines)

    def evaluate_samples(self, samples: Path | list[str], reference: str, request: EvalRequest,
                         labelled: bool = False) -> Any:
        from textgan.text.evaluation import evaluate_file, evaluate_labelled_file, evaluate_texts

        data = self._data(request)
        if isinstance(samples, list):
            return evaluate_texts(samples, reference, data_dir=data.data_dir,
                                  seq_len=data.seq_len, config=request.metrics,
                                  js_text=request.js_text,  # type: ignore[arg-type]
                                  progress=request.progress,
                                  encoding_errors=data.encoding_errors)
        if labelled:
            return evaluate_labelled_file(samples, reference, data_dir=data.data_dir,
                                          seq_len=data.seq_len, limit=request.limit,
                                          config=request.metrics,
                                          js_text=request.js_text)  # type: ignore[arg-type]
        return evaluate_file(samples, reference, data_dir=data.data_dir, seq_len=data.seq_len,
                             limit=request.limit, config=request.metrics,
                             js_text=request.js_text,  # type: ignore[arg-type]
                             encoding_errors=data.encoding_errors)

    def prepare(self, data: dict[str, Any], *, progress: ProgressFn | None = None,
                force: bool = False) -> str:
        from textgan.config import apply_overrides
        from textgan.text.prepare import open_source_for, prepare_corpus

        cfg = apply_overrides(TextDataConfig(), data, "data")
        prepared = prepare_corpus(open_source_for(cfg, progress), cfg, progress=progress,
                                  force=force)
        classes = (f", {len(prepared.label_names)} classes" if prepared.label_names else "")
        return (f"prepared {prepared.dir}: {len(prepared.train):,} training lines, "
                f"{len(prepared.valid):,} held-out, vocabulary {len(prepared.vocab)}{classes}")

    @staticmethod
    def _data(request: EvalRequest) -> TextDataConfig:
        from textgan.config import apply_overrides

        return apply_overrides(TextDataConfig(), request.data, "data")

    def summary_rows(self, config: dict[str, Any]) -> list[tuple[str, Any]]:
        data = config.get("data", {})
        tok = data.get("tokenizer", "char")
        if tok == "sentencepiece":
            shape = (f"{data.get('seq_len')} pieces · {data.get('vocab_size')} pieces "
                     f"({data.get('sp_model_type', 'unigram')})")
        else:
            shape = f"{data.get('seq_len')} characters · at most {data.get('max_vocab')} characters"
        return [("corpus", data.get("corpus") or data.get("corpus_path") or "synthetic"),
                ("tokenizer · seq_len · vocabulary", f"{tok} · {shape}")]
