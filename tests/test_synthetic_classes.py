"""The synthetic grammar split into two labelled sub-languages (questions, statements), the
``synthetic-classes`` corpus, and the oracle's class accuracy."""

from __future__ import annotations

import hashlib
import random

import pytest

from textgan.text.corpora import SyntheticClassesSource, open_source
from textgan.text.corpora.automaton import sample_sentence
from textgan.text.corpora.grammar import SENTENCE_CLASSES
from textgan.text.corpora.synthetic import generate
from textgan.text.oracle import class_accuracy, class_markers, grammar_accepts

SEQ_LEN = 32


def test_the_whole_grammar_still_generates_the_same_corpus():
    """Splitting the grammar into classes changed nothing for --corpus synthetic (its prepared
    corpora and evaluations stay valid): the first 20k sentences of seed 0, as before the split."""
    digest = hashlib.sha256("\n".join(generate(20_000, seed=0)).encode()).hexdigest()
    assert digest == "28bb3399554f616baaf728880bbd8d28384080b2b9695d63fa2d02b978c869b6"


@pytest.fixture(scope="module")
def by_class() -> dict[str, list[str]]:
    rng = random.Random(5)
    return {name: [sample_sentence(rng, name) for _ in range(1500)] for name in SENTENCE_CLASSES}


def test_each_class_is_its_own_sub_language(by_class: dict[str, list[str]]):
    assert SENTENCE_CLASSES == ("question", "statement")
    assert all(s.endswith(" ?") for s in by_class["question"])
    assert all(s.endswith(" .") for s in by_class["statement"])
    for name, other in (("question", "statement"), ("statement", "question")):
        for sentence in by_class[name]:
            assert grammar_accepts(sentence, 1000, name)
            assert grammar_accepts(sentence, 1000)  # a sentence of the whole language
            assert not grammar_accepts(sentence, 1000, other)


@pytest.mark.parametrize("seq_len", [6, 12, 20, 32])
def test_cut_lines_belong_to_their_class_only(by_class: dict[str, list[str]], seq_len: int):
    """Lines cut at seq_len (as preparation cuts them) are still told apart: no prefix of a
    sentence of one class is the prefix of a sentence of the other."""
    for name, other in (("question", "statement"), ("statement", "question")):
        cut = [s[:seq_len] for s in by_class[name] if len(s) > seq_len]
        assert len(cut) > 20
        assert all(grammar_accepts(c, seq_len, name) for c in cut)
        assert not any(grammar_accepts(c, seq_len, other) for c in cut)


def test_unknown_class_is_refused():
    with pytest.raises(ValueError, match="unknown sentence class"):
        grammar_accepts("Who sleeps ?", 100, "command")


def test_class_accuracy_against_hand_judged_samples():
    samples = [
        "Does John sleep ?",  # question, asked for question: hit
        "Who runs ?",  # question, asked for statement: miss
        "The dog sleeps .",  # statement, asked for statement: hit
        "The dog sleeps .",  # statement, asked for question: miss
        "Dog the sleeps .",  # no sentence at all, asked for statement: miss
        "Is the old dog ",  # cut at seq_len 15 (a question's prefix), asked for question: hit
        "Is the old dog",  # the same, not cut (14 < 15): not a whole sentence: miss
        "Sometimes , we swim .",  # statement with a fronted adverb, asked for statement: hit
    ]
    labels = ["question", "statement", "statement", "question", "statement", "question",
              "question", "statement"]
    scores = class_accuracy(samples, labels, seq_len=15)
    # question: hits at 0 and 5 of {0, 3, 5, 6}; statement: hits at 2 and 7 of {1, 2, 4, 7}
    assert scores == {"class_accuracy_question": 0.5, "class_accuracy_statement": 0.5,
                      "class_accuracy": 0.5}
    only = class_accuracy(["Who runs ?", "Who runs ?", "Who ran ."], ["question"] * 3, 100)
    assert only == {"class_accuracy_question": pytest.approx(2 / 3),
                    "class_accuracy": pytest.approx(2 / 3)}
    # cut= overrides the length rule: the same line judged as cut, then as whole
    assert class_accuracy(["Is the old dog"], ["question"], 100, cut=[True])["class_accuracy"] == 1
    assert class_accuracy(["Is the old dog"], ["question"], 100, cut=[False])["class_accuracy"] == 0


def test_class_markers_against_hand_judged_samples():
    """First words and final marks: exact signs of class that need no whole sentence."""
    samples = ["Does John sleep ?", "Who runs ?", "The dog sleeps .", "The dog sleeps .",
               "Dog the sleeps .", "Is the old dog ", "Is the old dog", "Qq ?"]
    labels = ["question", "statement", "statement", "question", "statement", "question",
              "question", "question"]
    scores = class_markers(samples, labels, seq_len=15)
    # question (0, 3, 5, 6, 7): starts Does, Is, Is of 5; ends "?" at 0 and 7 (5 is cut)
    # statement (1, 2, 4): starts The of 3 ("Dog" alone starts no sentence); ends "." at 2, 4
    assert scores == pytest.approx({
        "class_start_question": 3 / 5, "class_start_statement": 1 / 3,
        "class_start": (3 / 5 + 1 / 3) / 2,
        "class_end_question": 2 / 5, "class_end_statement": 2 / 3,
        "class_end": (2 / 5 + 2 / 3) / 2,
        # label-blind: 6 of 8 samples start some class's sentence, 6 of 8 end in a mark
        "class_start_chance": 6 / 8 / 2, "class_end_chance": 6 / 8 / 2})
    with pytest.raises(ValueError, match="unknown class"):
        class_markers(["Who runs ?"], ["negative"], 32)


def test_class_accuracy_refuses_bad_input():
    with pytest.raises(ValueError, match="2 samples but 1 labels"):
        class_accuracy(["Who runs ?", "Who runs ?"], ["question"], 32)
    with pytest.raises(ValueError, match="unknown class"):
        class_accuracy(["Who runs ?"], ["negative"], 32)
    assert class_accuracy([], [], 32) == {"class_accuracy": 0.0}


def test_the_labelled_synthetic_corpus(tmp_path):
    source = open_source("synthetic-classes", download_dir=tmp_path, max_lines=400)
    assert isinstance(source, SyntheticClassesSource) and source.labelled
    assert source.name == "synthetic-classes"
    assert source.defined_labels() == ["question", "statement"]
    train = list(source.train_examples())
    assert len(train) == 400 and [label for label, _ in train[:4]] == [
        "question", "statement", "question", "statement"]
    assert [text for _, text in train] == list(source.train_lines())
    assert all(grammar_accepts(text, 1000, label) for label, text in train)
    valid = list(source.valid_examples())
    assert len(valid) == 5000 and not {t for _, t in valid[:50]} <= {t for _, t in train}
    info = source.describe()
    assert info["kind"] == "synthetic" and info["classes"] == ["question", "statement"]
    assert SyntheticClassesSource(seed=3).name == "synthetic-classes-s3"
    again = list(SyntheticClassesSource(max_lines=400).train_examples())
    assert again == train  # deterministic
