"""The synthetic corpus: sentences of a known English-like grammar, generated on the fly.

The language is defined in :mod:`.grammar` and compiled in :mod:`.automaton`; its exact oracle
(is a sample a sentence of the grammar?) is :mod:`textgan.text.oracle`. ``synthetic-classes`` is
the same language split into two labelled sub-languages, questions and statements, in equal
numbers, whose class the oracle also judges exactly (:func:`textgan.text.oracle.class_accuracy`).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from textgan.errors import CorpusError
from textgan.text.corpora.automaton import sample_sentence, vocabulary
from textgan.text.corpora.base import check_max_lines
from textgan.text.corpora.grammar import GRAMMAR_VERSION, SENTENCE_CLASSES


def generate(n: int, seed: int = 0, stream: str = "train") -> Iterator[str]:
    """``n`` sentences from the RNG stream named ``stream`` for ``seed`` (deterministic)."""
    # A string seed is hashed with SHA-512 by ``random``: stable across runs and platforms.
    rng = random.Random(f"textgan-synthetic-v{GRAMMAR_VERSION}:{seed}:{stream}")
    for _ in range(n):
        yield sample_sentence(rng)


def generate_classes(n: int, seed: int = 0, stream: str = "train") -> Iterator[tuple[str, str]]:
    """``n`` (class, sentence) pairs: line ``i`` is of class ``SENTENCE_CLASSES[i % 2]``, drawn
    from that class's sub-grammar with its own RNG stream (deterministic, balanced classes)."""
    rngs = [random.Random(f"textgan-synthetic-classes-v{GRAMMAR_VERSION}:{seed}:{stream}:{name}")
            for name in SENTENCE_CLASSES]
    for i in range(n):
        k = i % len(SENTENCE_CLASSES)
        yield SENTENCE_CLASSES[k], sample_sentence(rngs[k], SENTENCE_CLASSES[k])


class SyntheticSource:
    """The grammar's sentences, generated on the fly (no download, no file)."""

    def __init__(
        self,
        seed: int = 0,
        n_train: int = 200_000,
        n_valid: int = 5_000,
        max_lines: int | None = None,
    ) -> None:
        if n_train < 1 or n_valid < 0:
            raise CorpusError(
                f"the synthetic corpus needs n_train >= 1 and n_valid >= 0 (got {n_train}, {n_valid})"
            )
        self.seed = seed
        check_max_lines(max_lines)
        self.n_train = n_train if max_lines is None else min(n_train, max_lines)
        self.n_valid = n_valid
        self.max_lines = max_lines
        # The name keys the prepared directory, so everything that changes the lines except
        # max_lines (which the preparation step keys on itself) is in it; defaults keep it short.
        self.name = "synthetic"
        if seed != 0:
            self.name += f"-s{seed}"
        if (n_train, n_valid) != (200_000, 5_000):
            self.name += f"-n{n_train}-{n_valid}"

    def train_lines(self) -> Iterator[str]:
        """``n_train`` (capped by ``max_lines``) sentences from the training stream."""
        return generate(self.n_train, self.seed, "train")

    def valid_lines(self) -> Iterator[str]:
        """``n_valid`` sentences from a separate held-out stream."""
        return generate(self.n_valid, self.seed, "valid")

    def describe(self) -> dict[str, Any]:
        """Grammar version, seed and counts: everything that determines the lines."""
        return {
            "kind": "synthetic",
            "name": self.name,
            "grammar_version": GRAMMAR_VERSION,
            "seed": self.seed,
            "train_lines": self.n_train,
            "valid_lines": self.n_valid,
            "vocabulary_size": len(vocabulary()),
            "settings": {"max_lines": self.max_lines},
        }


class SyntheticClassesSource(SyntheticSource):
    """``synthetic-classes``: the grammar's questions and statements, labelled with their class,
    half each (see :func:`generate_classes`). A labelled source: ``train_examples`` /
    ``valid_examples`` yield (label, text); its classes are :data:`SENTENCE_CLASSES`, in order."""

    labelled = True

    def __init__(self, seed: int = 0, n_train: int = 200_000, n_valid: int = 5_000,
                 max_lines: int | None = None) -> None:
        super().__init__(seed, n_train, n_valid, max_lines)
        self.name = self.name.replace("synthetic", "synthetic-classes", 1)

    def defined_labels(self) -> list[str]:
        return list(SENTENCE_CLASSES)

    def train_examples(self) -> Iterator[tuple[str, str]]:
        return generate_classes(self.n_train, self.seed, "train")

    def valid_examples(self) -> Iterator[tuple[str, str]]:
        return generate_classes(self.n_valid, self.seed, "valid")

    def train_lines(self) -> Iterator[str]:
        return (text for _, text in self.train_examples())

    def valid_lines(self) -> Iterator[str]:
        return (text for _, text in self.valid_examples())

    def describe(self) -> dict[str, Any]:
        """As the synthetic corpus's (kind ``synthetic``: its oracle applies), plus the classes."""
        return super().describe() | {"classes": list(SENTENCE_CLASSES)}
