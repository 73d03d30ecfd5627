"""Synthetic grammar corpus and its oracle."""

from __future__ import annotations

import re
from collections import Counter
from itertools import islice

import pytest

from textgan.text.corpora import SyntheticSource
from textgan.text.corpora.automaton import vocabulary
from textgan.text.corpora.grammar import GRAMMAR_VERSION
from textgan.text.corpora.synthetic import generate
from textgan.text.oracle import grammar_accepts, oracle_scores

SEQ_LEN = 32


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return list(generate(5000, seed=11))


def test_every_generated_line_is_accepted(lines: list[str]):
    assert all(grammar_accepts(line, SEQ_LEN) for line in lines)
    assert all(grammar_accepts(line, 1000) for line in lines)


@pytest.mark.parametrize("seq_len", [1, 5, 16, 20, 32])
def test_every_seq_len_prefix_of_a_longer_line_is_accepted(lines: list[str], seq_len: int):
    longer = [line for line in lines if len(line) > seq_len]
    assert len(longer) > 50
    assert all(grammar_accepts(line[:seq_len], seq_len) for line in longer)


def test_cut_lines_are_only_accepted_at_exactly_seq_len(lines: list[str]):
    cut = [line[:-4] for line in lines if len(line) > 10]
    assert not any(grammar_accepts(c, SEQ_LEN) for c in cut if len(c) != SEQ_LEN)


def test_mutated_lines_are_rejected(lines: list[str]):
    vocab = vocabulary()
    swapped = []
    for line in lines[:1500]:
        tokens = line.split(" ")
        for i in range(1, len(tokens) - 2):  # adjacent words, sentence start and end kept
            if tokens[i] != tokens[i + 1]:
                m = tokens.copy()
                m[i], m[i + 1] = m[i + 1], m[i]
                swapped.append(" ".join(m))
    assert len(swapped) > 2000
    assert not any(grammar_accepts(s, 1000) for s in swapped)

    misspelt = []
    for n, line in enumerate(lines[:1500]):
        tokens = line.split(" ")
        i = 1 + n % max(len(tokens) - 2, 1)
        word = tokens[i] + "q"
        assert word not in vocab
        misspelt.append(" ".join([*tokens[:i], word, *tokens[i + 1 :]]))
    assert not any(grammar_accepts(s, 1000) for s in misspelt)

    unterminated = [line[:-2] for line in lines]  # drop the final " ." / " ?"
    assert not any(grammar_accepts(s, 1000) for s in unterminated)
    lower = [line[0].lower() + line[1:] for line in lines if line[0] != "I"]
    assert not any(grammar_accepts(s, 1000) for s in lower)
    for bad in ["The dog sleep .", "The dogs sleeps .", "A old dog sleeps .", "An dog sleeps .",
                "I is old .", "The dog  sleeps .", " The dog sleeps .", "The dog sleeps . ",
                "The dog sleeps", "", "Dog the sleeps ."]:
        assert not grammar_accepts(bad, 1000), bad
    for good in ["The dog sleeps .", "An old dog sleeps .", "I am old .", "Does John sleep ?"]:
        assert grammar_accepts(good, 1000), good


def test_prefix_edge_cases():
    assert grammar_accepts("The old d", 9)
    assert not grammar_accepts("The old d", 10)  # shorter than seq_len: must be a whole sentence
    assert grammar_accepts("The old ", 8)  # cut just after a space
    assert not grammar_accepts("The old  ", 9)
    assert not grammar_accepts("The qx", 6)
    assert not grammar_accepts("the old d", 9)  # sentence-initial capital is part of the language
    assert grammar_accepts("T", 1) and not grammar_accepts("t", 1)


def test_format_lengths_vocabulary_and_shapes(lines: list[str]):
    token = re.compile(r"[A-Za-z]+|[.?,]")
    for line in lines:
        tokens = line.split(" ")
        assert all(token.fullmatch(t) for t in tokens), line
        assert tokens[0][0].isupper() and tokens[-1] in (".", "?")
    lengths = [len(line) for line in lines]
    assert sum(n <= 32 for n in lengths) / len(lines) > 0.9
    assert 200 <= len(vocabulary()) <= 1000
    assert sum(line.endswith("?") for line in lines) / len(lines) > 0.1
    assert any(" , " in line for line in lines)
    assert len(set(lines)) > 0.8 * len(lines)
    # Zipf-ish: a steep, long-tailed word distribution.
    counts = [c for _, c in Counter(w.lower() for line in lines for w in line.split()).most_common()]
    assert counts[2] > 5 * counts[50] > 0
    assert len(counts) > 300


def test_determinism_and_separate_streams():
    a = SyntheticSource(seed=5)
    b = SyntheticSource(seed=5)
    c = SyntheticSource(seed=6)
    first = list(islice(a.train_lines(), 500))
    assert first == list(islice(b.train_lines(), 500))
    assert first != list(islice(c.train_lines(), 500))
    valid = list(a.valid_lines())
    assert len(valid) == 5000 and valid[:500] != first
    assert list(islice(a.valid_lines(), 10)) == valid[:10]


def test_source_counts_and_describe():
    source = SyntheticSource(seed=2, n_train=300, n_valid=40, max_lines=120)
    assert len(list(source.train_lines())) == 120
    assert len(list(source.valid_lines())) == 40
    assert source.describe() == {
        "kind": "synthetic",
        "name": "synthetic-s2-n300-40",
        "grammar_version": GRAMMAR_VERSION,
        "seed": 2,
        "train_lines": 120,
        "valid_lines": 40,
        "vocabulary_size": len(vocabulary()),
        "settings": {"max_lines": 120},
    }
    default = SyntheticSource()
    assert (default.n_train, default.n_valid) == (200_000, 5_000)
    assert default.name == "synthetic"
    assert SyntheticSource(seed=7).name == "synthetic-s7"
    assert SyntheticSource(max_lines=10).name == "synthetic"  # the preparation keys on max_lines


def test_oracle_scores():
    samples = ["The dog sleeps .", "The dog sleeps .", "dog the .", "He runs .", "The old d"]
    assert oracle_scores(samples, 9) == {
        "grammar_accept_rate": 4 / 5,
        "distinct_samples": 4.0,
        "distinct_accepted": 3.0,
        # Every word is the grammar's (word order is not judged here); "The old d" is cut at 9,
        # so its fragment "d" is not counted.
        "word_valid_rate": 1.0,
    }
    assert oracle_scores([], 9)["grammar_accept_rate"] == 0.0
    # Fragments are not words; a capitalised first word is; a cut line drops its last token.
    scores = oracle_scores(["The dgo sleeps .", "Thx dog ?", "xx yy"], 9)
    # The dgo sleeps: 2 of 3 | "Thx dog ?" is 9 long, cut: Thx dog, 1 of 2 | xx yy: 0 of 2
    assert scores["word_valid_rate"] == pytest.approx(3 / 7)
    assert oracle_scores(["dog xq"], 6)["word_valid_rate"] == 1.0  # "xq" cut at 6: not counted
