"""In-training evaluation for text runs: JS-1..4 of 640 samples against the held-out text.

As in the paper's code (640 argmax samples every 100 generator steps), but against the cached
held-out statistics, with the real-vs-real floor logged beside each value (``js4_floor``). A
conditional model's samples take the classes in turn; on ``synthetic-classes`` the oracle also
judges each sample against its class: ``class_accuracy`` (a sentence of its class), and the earlier
signs ``class_start`` / ``class_end`` (its first word, its final mark), per class and mean.
"""

from __future__ import annotations

from textgan.config import PAPER_SAMPLES
from textgan.core.loop import Hook
from textgan.core.mode import Sampler
from textgan.eval import evaluate_js
from textgan.text.oracle import class_accuracy, class_markers
from textgan.text.prepare import PreparedCorpus
from textgan.text.reference import reference_for
from textgan.text.sampling import generate_ids, generate_text


def eval_hook(sampler: Sampler, corpus: PreparedCorpus, every: int,
              n_samples: int = PAPER_SAMPLES, class_names: list[str] | None = None
              ) -> Hook | None:
    """A hook logging ``js1``..``js4`` and ``js*_floor``; None if there is no held-out text.
    ``class_names``: a conditional model's classes (its samples take them in turn)."""
    if len(corpus.valid) == 0:
        return None
    reference = reference_for(corpus, "valid")  # built once per corpus, then cached on disk
    char_mode = corpus.tokenizer.kind == "char"
    judge_classes = bool(class_names) and corpus.has_class_oracle
    labels = [class_names[i % len(class_names)] for i in range(n_samples)] if class_names else []

    def evaluate_now(step: int) -> dict[str, float]:
        # Seeded by the step: reproducible, and the training RNG is left untouched.
        if char_mode:  # ids over the corpus vocabulary: the reference's fast path
            samples = generate_ids(sampler.module, n_samples, seed=step).numpy()
        else:
            samples = generate_text(sampler.module, corpus.tokenizer, n_samples, seed=step,
                                    strip_pad=True)
        metrics = evaluate_js(samples, reference)
        if judge_classes:  # (char mode): a row that fills seq_len was cut
            lines = corpus.decode_rows(samples, strip_pad=True)
            metrics.update(class_accuracy(lines, labels, corpus.seq_len))
            metrics.update(class_markers(lines, labels, corpus.seq_len))
        return metrics

    return Hook(every, evaluate_now)
