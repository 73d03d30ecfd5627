"""The synthetic corpus's exact oracle: is a generated sample a sentence of the grammar?

Only the synthetic corpus (:mod:`textgan.text.corpora.synthetic`) has one: its language is known,
so a sample's precision can be measured exactly instead of estimated from n-gram statistics.
Its labelled variant (``--corpus synthetic-classes``: questions and statements) also has an exact
class oracle: :func:`class_accuracy` says whether each sample is a sentence of the sub-language
of the class it was generated for.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textgan.text.corpora.automaton import automaton, capitalise
from textgan.text.corpora.grammar import SENTENCE_CLASSES


def grammar_accepts(sample: str, seq_len: int, sentence_class: str | None = None) -> bool:
    """True iff ``sample`` is a sentence of the grammar, or, when ``len(sample) == seq_len``,
    the first ``seq_len`` characters of one (preparation cuts lines to ``seq_len``).
    ``sentence_class`` (``"question"`` or ``"statement"``): a sentence of that sub-language."""
    auto = automaton(sentence_class)
    tokens = sample.split(" ")
    states = {0}
    for i, token in enumerate(tokens[:-1]):
        states = auto.step(states, token, i == 0)
        if not states:
            return False
    last = tokens[-1]
    first = len(tokens) == 1
    ends = auto.step(states, last, first)
    if any(cls is None for s in ends for _, cls, _ in auto.moves[s]):
        return True  # a whole sentence
    if len(sample) != seq_len:
        return False
    # A cut line: the last token is the beginning of a word that can come next ("" when the cut
    # falls just after a space).
    for s in states:
        for _, cls, _ in auto.moves[s]:
            if cls is None:
                continue
            for word in auto.classes[cls]:
                shown = capitalise(word) if first else word
                if shown.startswith(last):
                    return True
    return False


PUNCTUATION = frozenset({".", "?", ","})


def word_counts(sample: str, cut: bool) -> tuple[int, int]:
    """(words of the grammar, words) in ``sample``, punctuation aside; when the line was ``cut`` at
    seq_len its last token may be a fragment and is not counted. The first word may be
    capitalised."""
    auto = automaton()
    tokens = [t for t in sample.split(" ") if t]
    if cut and tokens:
        tokens = tokens[:-1]
    words = [t for t in tokens if t not in PUNCTUATION]
    valid = sum(1 for t in words if t in auto.classes_of_word or t in auto.classes_of_initial)
    return valid, len(words)


def word_valid_rate(counts: Sequence[tuple[int, int]]) -> float:
    """Share of generated words that are words of the grammar (a softer, word-level precision
    that moves long before whole sentences are accepted)."""
    total = sum(n for _, n in counts)
    return sum(v for v, _ in counts) / total if total else 0.0


def oracle_scores(samples: Sequence[str], seq_len: int,
                  cut: Sequence[bool] | None = None) -> dict[str, float]:
    """Share of samples the grammar accepts, how many distinct (accepted) samples there are, and
    the share of generated words that are words of the grammar.

    ``cut[i]``: sample i was cut at seq_len (default: it is ``seq_len`` characters long; pass it
    when seq_len counts pieces rather than characters)."""
    if cut is None:
        cut = [len(s) == seq_len for s in samples]
    accepted = [s for s, was_cut in zip(samples, cut, strict=True)
                if grammar_accepts(s, len(s) if was_cut else -1)]
    return {
        "grammar_accept_rate": len(accepted) / len(samples) if samples else 0.0,
        "distinct_samples": float(len(set(samples))),
        "distinct_accepted": float(len(set(accepted))),
        "word_valid_rate": word_valid_rate([word_counts(s, was_cut)
                                            for s, was_cut in zip(samples, cut, strict=True)]),
    }



def _checked_cut(samples: Sequence[str], labels: Sequence[str], seq_len: int,
                 cut: Sequence[bool] | None) -> Sequence[bool]:
    """Check that ``labels`` pair with ``samples`` and name synthetic classes; ``cut`` as given,
    else which samples fill ``seq_len`` (as :func:`oracle_scores` guesses)."""
    if len(samples) != len(labels):
        raise ValueError(f"{len(samples)} samples but {len(labels)} labels")
    unknown = sorted(set(labels) - set(SENTENCE_CLASSES))
    if unknown:
        raise ValueError(f"unknown class(es) {', '.join(map(repr, unknown))}: the synthetic "
                         f"classes are {', '.join(SENTENCE_CLASSES)}")
    return cut if cut is not None else [len(s) == seq_len for s in samples]


def class_accuracy(samples: Sequence[str], labels: Sequence[str], seq_len: int,
                   cut: Sequence[bool] | None = None) -> dict[str, float]:
    r"""The synthetic classes' oracle: for samples generated for class names ``labels``
    (``"question"`` / ``"statement"``), the share of each class's samples that are sentences of
    THAT class's sub-language (:func:`grammar_accepts` with its ``sentence_class``; a cut line:
    the prefix of one), as ``class_accuracy_<name>``, and their mean over the classes asked for,
    ``class_accuracy``:

    $$\mathrm{acc}_c = \frac{|\{i : y_i = c,\ s_i \in \mathcal{L}_c\}|}{|\{i : y_i = c\}|},
      \qquad \mathrm{class\_accuracy} = \frac{1}{|C|} \sum_{c \in C} \mathrm{acc}_c.$$

    The two sub-languages are disjoint, so a sample can count for one class at most. A generator
    that ignores its label, asked for both classes equally often, scores
    ``grammar_accept_rate / 2`` (each accepted sample is in the asked-for class half of the time):
    that is the chance level to compare with. ``cut`` as in :func:`oracle_scores`.
    """
    cut = _checked_cut(samples, labels, seq_len, cut)
    asked: dict[str, list[bool]] = {}
    for sample, label, was_cut in zip(samples, labels, cut, strict=True):
        asked.setdefault(label, []).append(
            grammar_accepts(sample, len(sample) if was_cut else -1, label))
    scores = {f"class_accuracy_{name}": sum(hits) / len(hits)
              for name, hits in sorted(asked.items())}
    scores["class_accuracy"] = sum(scores.values()) / len(scores) if scores else 0.0
    return scores


CLASS_END_MARKS = {"question": "?", "statement": "."}
"""The final token of every sentence of each synthetic class."""


def class_markers(samples: Sequence[str], labels: Sequence[str], seq_len: int,
                  cut: Sequence[bool] | None = None) -> dict[str, float]:
    r"""Two signs of class that the oracle reads exactly and that move long before whole sentences
    pass :func:`class_accuracy`, for samples generated for class names ``labels``:

    - ``class_start_<name>``: the share of the class's samples whose first word can begin a
      sentence of that class's sub-language and of no other (the first word alone tells the
      classes apart: questions begin with an auxiliary, a modal or a wh-word);
    - ``class_end_<name>``: the share that end in the class's final mark (``?`` / ``.``) as a
      whole line (not cut at ``seq_len``);

    and their means over the classes, ``class_start`` and ``class_end``. A generator that ignores
    its label scores half its share of samples with a class's first word (``class_start_chance``)
    and half its share of whole lines with either final mark (``class_end_chance``), also given.
    ``cut`` as in :func:`oracle_scores`.
    """
    cut = _checked_cut(samples, labels, seq_len, cut)
    starts: dict[str, list[bool]] = {}
    ends: dict[str, list[bool]] = {}
    any_start = any_end = 0
    for sample, label, was_cut in zip(samples, labels, cut, strict=True):
        first = sample.split(" ", 1)[0]
        opens = {name for name in SENTENCE_CLASSES if automaton(name).step({0}, first, True)}
        last = sample.rsplit(" ", 1)[-1] if not was_cut else None
        starts.setdefault(label, []).append(opens == {label})
        ends.setdefault(label, []).append(last == CLASS_END_MARKS[label])
        any_start += len(opens) == 1
        any_end += last in CLASS_END_MARKS.values()
    scores: dict[str, float] = {}
    for key, table in (("class_start", starts), ("class_end", ends)):
        per_class = {f"{key}_{name}": sum(hits) / len(hits) for name, hits in sorted(table.items())}
        scores.update(per_class)
        scores[key] = sum(per_class.values()) / len(per_class) if per_class else 0.0
    n = max(len(samples), 1)
    scores["class_start_chance"] = any_start / n / len(SENTENCE_CLASSES)
    scores["class_end_chance"] = any_end / n / len(SENTENCE_CLASSES)
    return scores


def oracle_scores_for_rows(rows: list[list[int]], tokenizer: Any, seq_len: int) -> dict[str, float]:
    """The synthetic grammar's oracle scores for generated id rows (any tokenizer)."""
    lines = [tokenizer.decode(row, strip_pad=True) for row in rows]
    if tokenizer.kind == "char":
        return oracle_scores(lines, seq_len)
    # seq_len counts pieces: a row that fills every position was cut, at a piece boundary
    # ``len(line)`` characters in; any other row must be a whole sentence.
    cut = [bool(line) and row[-1] != tokenizer.pad_id for line, row in zip(lines, rows, strict=True)]
    return oracle_scores(lines, seq_len, cut=cut)
