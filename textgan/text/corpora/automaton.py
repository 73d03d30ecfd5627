"""The grammar compiled to a word-level automaton: it samples sentences and recognises them.

Sampling walks the automaton with the grammar's weights and recognition follows every move, so
what :func:`sample_sentence` writes and what the oracle (:mod:`textgan.text.oracle`) accepts
always agree.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from functools import cache, lru_cache

from textgan.text.corpora.grammar import Expr, sentence_grammar, word_classes


@dataclass(frozen=True)
class Automaton:
    """Word-level automaton without empty moves.

    ``moves[state]`` lists ``(probability, class_or_None, next_state)``; ``None`` means "the
    sentence may end here". Sampling picks one move per word; recognition follows all of them.
    """

    moves: tuple[tuple[tuple[float, str | None, int], ...], ...]
    cumulative: tuple[tuple[float, ...], ...]
    classes: dict[str, tuple[str, ...]]
    class_cumulative: dict[str, tuple[float, ...]]
    classes_of_word: dict[str, frozenset[str]]  # word -> classes containing it
    classes_of_initial: dict[str, frozenset[str]]  # capitalised word -> classes

    def step(self, states: set[int], token: str, first: bool) -> set[int]:
        """The states reached from ``states`` by the word ``token`` (``first``: the sentence's
        first word, which is capitalised)."""
        table = self.classes_of_initial if first else self.classes_of_word
        classes = table.get(token)
        if not classes:
            return set()
        return {nxt for s in states for _, cls, nxt in self.moves[s] if cls in classes}


def capitalise(word: str) -> str:
    """The word as it is written at the start of a sentence."""
    return word[:1].upper() + word[1:]


@lru_cache(maxsize=4)
def automaton(sentence_class: str | None = None) -> Automaton:
    """The grammar's automaton (built once per process); ``sentence_class``: the automaton of
    that sub-language (:data:`~textgan.text.corpora.grammar.SENTENCE_CLASSES`)."""
    classes = word_classes()
    # Thompson construction with weighted empty moves, then empty-move elimination.
    empty: list[list[tuple[float, int]]] = []
    labelled: list[list[tuple[str, int]]] = []

    def new_state() -> int:
        empty.append([])
        labelled.append([])
        return len(empty) - 1

    def build(expr: Expr, start: int) -> int:
        tag = expr[0]
        if tag in ("w", "lit"):
            if tag == "lit":
                classes.setdefault("=" + expr[1], [expr[1]])
                cls = "=" + expr[1]
            else:
                cls = expr[1]
            if not classes.get(cls):
                raise ValueError(f"grammar uses empty or unknown word class {cls!r}")
            end = new_state()
            labelled[start].append((cls, end))
            return end
        if tag == "seq":
            for part in expr[1]:
                start = build(part, start)
            return start
        end = new_state()
        total = sum(weight for weight, _ in expr[1])
        for weight, option in expr[1]:
            branch = new_state()
            empty[start].append((weight / total, branch))
            empty[build(option, branch)].append((1.0, end))
        return end

    start = new_state()
    accept = build(sentence_grammar(sentence_class), start)

    @cache
    def closure(state: int) -> tuple[tuple[float, str | None, int], ...]:
        out: list[tuple[float, str | None, int]] = []
        if state == accept:
            out.append((1.0, None, accept))
        out += [(1.0, cls, nxt) for cls, nxt in labelled[state]]
        for p, nxt in empty[state]:
            out += [(p * q, cls, target) for q, cls, target in closure(nxt)]
        return tuple(out)

    # Keep only states reached by a word (plus the start), renumbered densely.
    index = {start: 0}
    order = [start]
    for state in order:
        for _, cls, nxt in closure(state):
            if cls is not None and nxt not in index:
                index[nxt] = len(order)
                order.append(nxt)
    moves = tuple(
        tuple((p, cls, index[nxt] if cls is not None else -1) for p, cls, nxt in closure(s))
        for s in order
    )
    cumulative = tuple(tuple(_accumulate([p for p, _, _ in m])) for m in moves)

    final = {name: tuple(words) for name, words in classes.items()}
    by_word: dict[str, set[str]] = {}
    by_initial: dict[str, set[str]] = {}
    for name, words in final.items():
        for word in words:
            by_word.setdefault(word, set()).add(name)
            by_initial.setdefault(capitalise(word), set()).add(name)
    return Automaton(
        moves=moves,
        cumulative=cumulative,
        classes=final,
        class_cumulative={
            name: tuple(_accumulate([1.0 / (rank + 1) for rank in range(len(words))]))
            for name, words in final.items()
        },
        classes_of_word={w: frozenset(c) for w, c in by_word.items()},
        classes_of_initial={w: frozenset(c) for w, c in by_initial.items()},
    )


def _accumulate(weights: list[float]) -> list[float]:
    total = 0.0
    out = []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _pick(rng: random.Random, cumulative: tuple[float, ...]) -> int:
    return min(bisect.bisect_right(cumulative, rng.random() * cumulative[-1]), len(cumulative) - 1)


def sample_sentence(rng: random.Random, sentence_class: str | None = None) -> str:
    """One random sentence of the grammar (``sentence_class``: of that sub-language)."""
    auto = automaton(sentence_class)
    words: list[str] = []
    state = 0
    while True:
        move = _pick(rng, auto.cumulative[state])
        _, cls, state = auto.moves[state][move]
        if cls is None:
            break
        word = auto.classes[cls][_pick(rng, auto.class_cumulative[cls])]
        words.append(capitalise(word) if not words else word)
    return " ".join(words)


def vocabulary() -> frozenset[str]:
    """Every word form of the grammar (lower-case except names and "I")."""
    return frozenset(automaton().classes_of_word)

