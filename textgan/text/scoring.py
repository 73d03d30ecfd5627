"""Scoring a text run's generator as the recipe benchmarks and the tuning study do: JS-1..4 of
``n`` argmax samples (of the moving average when the run keeps one) against the held-out lines'
n-gram table, the real-vs-real floor of the same number of training lines, and the KN-LM
forward/reverse bits per character of those samples."""

from __future__ import annotations

from typing import Any

import numpy as np

from textgan.eval.js import js_against_table
from textgan.eval.ngrams import NgramTable, count_ngrams
from textgan.text.prepare import PreparedCorpus
from textgan.text.sampling import generate_ids

SAMPLE_SEED = 1234  # every evaluation draws the same noise: a change in JS-4 is the model's


def heldout_table(corpus: PreparedCorpus, order: int = 4) -> NgramTable:
    """The held-out lines' n-gram counts up to ``order``."""
    return count_ngrams(np.asarray(corpus.valid, dtype=np.int64), len(corpus.vocab), order)


def js_orders(ids: np.ndarray, base: int, table: NgramTable) -> dict[int, float]:
    """JS-1..4 (bits) of the lines ``ids`` against ``table``."""
    return js_against_table(ids.astype(np.int64), base, table, (1, 2, 3, 4))


def floor_js4(train: np.ndarray, base: int, table: NgramTable, n: int, draws: int = 5) -> float:
    """JS-4 of ``n`` random training lines against the held-out table (mean of ``draws``): what
    a generator of real lines would score."""
    rng = np.random.default_rng(0)
    n = min(n, len(train))
    return float(np.mean([js_orders(train[rng.choice(len(train), n, replace=False)], base,
                                    table)[4] for _ in range(draws)]))


def samplers_of(session: Any) -> dict[str, Any]:
    """The generators a session is scored by: ``""`` the one samples come from (the moving
    average when kept), ``"_raw"`` the raw generator beside it."""
    trainer, generator = session.trainer, session.setup.generator
    if trainer.ema is None:
        return {"": generator}
    return {"": trainer.ema.module, "_raw": generator}


def argmax_ids(generator: Any, n: int) -> np.ndarray:
    """``n`` argmax samples ``[n, L]`` from the fixed noise seed."""
    return generate_ids(generator, n, seed=SAMPLE_SEED).numpy()


def decode_lines(corpus: PreparedCorpus, ids: np.ndarray) -> list[str]:
    return [corpus.tokenizer.decode(row, strip_pad=True) for row in ids.tolist()]


def lm_bits(lines: list[str], corpus: PreparedCorpus) -> dict[str, float]:
    """KN-LM forward (quality) and reverse (diversity) bits per character of ``lines`` against
    the held-out reference (its KN models are built once and cached with the corpus)."""
    from textgan.eval import EvalConfig, evaluate
    from textgan.text.evaluation import reference_for

    metrics = evaluate(lines, reference_for(corpus, "valid"),
                       EvalConfig(words=False, js_orders=(4,)))
    return {"lm_forward_bpc": float(metrics["lm_forward_bpc"]),
            "lm_reverse_bpc": float(metrics["lm_reverse_bpc"])}
