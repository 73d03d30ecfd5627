"""A synthetic English-like corpus from a stochastic grammar, and its exact oracle.

Sentences look like Billion Word text ("The old dog sees a cat ." - tokens separated by single
spaces, sentence-initial capital) but come from a known regular grammar with a few hundred
word forms, subject-verb agreement, a/an agreement, intransitive, transitive and copular clauses,
negation, yes/no and wh-questions. Words within a class are drawn with Zipf weights (1/rank), so
word frequencies are Zipf-like. Most sentences are at most 32 characters long.

The grammar is compiled once into a word-level automaton; sampling walks it with the grammar's
weights and :func:`grammar_accepts` runs it as a recogniser, so both always agree.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from textgan.errors import CorpusError
from textgan.text.corpora.base import check_max_lines

GRAMMAR_VERSION = 1
"""Bump whenever the lexicon, the grammar or its weights change (it is part of ``describe()``)."""

# --- lexicon ------------------------------------------------------------------------------------
# Each class is listed most frequent first. Words starting with a vowel letter take "an" and are
# all pronounced with a vowel sound (no "unicorn", "hour").

_NOUNS_ANIMATE = (  # singular, plural
    "dog dogs|cat cats|man men|boy boys|girl girls|woman women|child children|bird birds|"
    "king kings|horse horses|friend friends|baby babies|teacher teachers|doctor doctors|"
    "mother mothers|father fathers|farmer farmers|cow cows|fox foxes|mouse mice|sister sisters|"
    "brother brothers|student students|owl owls|pig pigs|lion lions|bear bears|duck ducks|"
    "uncle uncles|wolf wolves|queen queens|nurse nurses|cook cooks|aunt aunts|goat goats|"
    "frog frogs|pilot pilots|judge judges|thief thieves|singer singers|actor actors|"
    "painter painters|sheep sheep|eagle eagles|officer officers|rabbit rabbits"
)
_NOUNS_THING = (
    "car cars|book books|house houses|ball balls|tree trees|box boxes|door doors|cup cups|"
    "bed beds|hat hats|apple apples|letter letters|boat boats|key keys|bag bags|table tables|"
    "train trains|egg eggs|cake cakes|song songs|window windows|chair chairs|shoe shoes|"
    "phone phones|road roads|river rivers|city cities|film films|map maps|pen pens|bone bones|"
    "ship ships|lamp lamps|coat coats|rock rocks|star stars|garden gardens|farm farms|"
    "island islands|orange oranges|game games|bus buses|idea ideas|oven ovens|bottle bottles|"
    "clock clocks|picture pictures|umbrella umbrellas|park parks"
)
_ADJECTIVES = (
    "old big small little good new red young happy bad long hot cold nice tall black white "
    "dark green blue brown sad fast slow kind funny quiet loud clean dirty soft warm wet dry "
    "rich poor sick busy lazy brave angry empty ugly odd early easy strange pretty heavy short "
    "huge tiny"
).split()
_VERBS_INTRANSITIVE = (  # base, 3rd person singular, past
    "sleep sleeps slept|run runs ran|walk walks walked|sing sings sang|smile smiles smiled|"
    "laugh laughs laughed|swim swims swam|wait waits waited|play plays played|eat eats ate|"
    "work works worked|cry cries cried|sit sits sat|jump jumps jumped|dance dances danced|"
    "talk talks talked|fall falls fell|fly flies flew|rest rests rested|hide hides hid|"
    "stay stays stayed|shout shouts shouted|win wins won|read reads read|cook cooks cooked"
)
_VERBS_TRANSITIVE = (
    "see sees saw|like likes liked|want wants wanted|find finds found|love loves loved|"
    "take takes took|help helps helped|have has had|need needs needed|know knows knew|"
    "make makes made|hold holds held|meet meets met|call calls called|watch watches watched|"
    "feed feeds fed|chase chases chased|buy buys bought|keep keeps kept|hear hears heard|"
    "bring brings brought|eat eats ate|open opens opened|visit visits visited|kick kicks kicked|"
    "sell sells sold|push pushes pushed|carry carries carried|miss misses missed|"
    "follow follows followed|wash washes washed|paint paints painted|draw draws drew|"
    "catch catches caught|hate hates hated|read reads read"
)
_NAMES = (
    "John Mary Tom Anna Sam Kate Max Lucy Paul Emma Jack Lily Ben Sara Mia Leo Nick Rose Dan Eve "
    "Tim Amy Ian Zoe Bob"
).split()

_CLASSES: dict[str, list[str]] = {
    "det_sg": "the this my that his her our their your every one no each".split(),
    "det_pl": "the some two my these his her three those our many their your all".split(),
    "det_def": "the my his her this our their your that".split(),
    "adj": _ADJECTIVES,
    "intens": "very so too really".split(),
    "adv": (
        "now here today again there too slowly home well often outside quickly soon away alone "
        "together tonight"
    ).split(),
    "front": "today now then later sometimes suddenly".split(),
    "prep": "in on at near with by under behind from".split(),
    "name": _NAMES,
    "pron_sg": "he she it".split(),
    "pron_pl": "we they you I".split(),
    "pron_pl2": "we they you".split(),
    "pron_obj": "him her it them me us you".split(),
    "be_sg": "is was".split(),
    "be_pl": "are were".split(),
    "be_1sg": "am was".split(),
    "do_sg": "does did".split(),
    "do_pl": "do did".split(),
    "modal": "can will should could would must".split(),
    "wh": "where why when how".split(),
}


def _columns(table: str, n: int) -> list[list[str]]:
    rows = [entry.split() for entry in table.split("|")]
    assert all(len(row) == n for row in rows), "lexicon rows must have one form per column"
    seen: list[list[str]] = []
    for row in rows:  # keep first occurrence only: a repeated row would skew the Zipf ranks
        if row not in seen:
            seen.append(row)
    return [list(col) for col in zip(*seen, strict=True)]


def _interleave(a: list[str], b: list[str]) -> list[str]:
    out: list[str] = []
    for x, y in zip(a, b, strict=False):
        out += [x, y]
    longer = a if len(a) > len(b) else b
    return out + longer[min(len(a), len(b)) :]


def _build_classes() -> dict[str, list[str]]:
    classes = dict(_CLASSES)
    anim_sg, anim_pl = _columns(_NOUNS_ANIMATE, 2)
    thing_sg, thing_pl = _columns(_NOUNS_THING, 2)
    classes.update(
        anim_sg=anim_sg,
        anim_pl=anim_pl,
        thing_sg=thing_sg,
        thing_pl=thing_pl,
        any_sg=_interleave(anim_sg, thing_sg),
        any_pl=_interleave(anim_pl, thing_pl),
    )
    for prefix, table in (("vi", _VERBS_INTRANSITIVE), ("vt", _VERBS_TRANSITIVE)):
        base, third, past = _columns(table, 3)
        classes[f"{prefix}_base"], classes[f"{prefix}_3sg"] = base, third
        classes[f"{prefix}_past"] = list(dict.fromkeys(past))
    # a/an agreement: ".c" / ".v" subsets by the first letter.
    for name, words in list(classes.items()):
        classes[name + ".c"] = [w for w in words if w[0].lower() not in "aeiou"]
        classes[name + ".v"] = [w for w in words if w[0].lower() in "aeiou"]
    return classes


# --- grammar ------------------------------------------------------------------------------------
# Expressions: ("w", class) one word of a class; ("lit", word); ("seq", parts); ("alt", options)
# with options ((weight, expr), ...). There is no recursion, so the language is regular and
# compiles to a finite automaton.

Expr = tuple[Any, ...]


def W(cls: str) -> Expr:
    return ("w", cls)


def L(word: str) -> Expr:
    return ("lit", word)


def S(*parts: Expr) -> Expr:
    return ("seq", parts)


def A(*options: tuple[float, Expr]) -> Expr:
    return ("alt", options)


def Opt(p: float, expr: Expr) -> Expr:
    return A((p, expr), (1.0 - p, S()))


def _np_sg(noun: str, p_adj: float = 0.2) -> Expr:
    return A(
        (6.0, S(W("det_sg"), Opt(p_adj, W("adj")), W(noun))),
        (3.0, S(L("a"), A((p_adj, S(W("adj.c"), W(noun))), (1 - p_adj, W(noun + ".c"))))),
        (0.6, S(L("an"), A((0.4, S(W("adj.v"), W(noun))), (0.6, W(noun + ".v"))))),
    )


def _np_pl(noun: str, p_adj: float = 0.2) -> Expr:
    return A(
        (5.0, S(W("det_pl"), Opt(p_adj, W("adj")), W(noun))),
        (1.0, S(Opt(0.3, W("adj")), W(noun))),
    )


def _grammar() -> Expr:
    subj_sg = A((6.0, _np_sg("anim_sg")), (3.0, W("name")), (2.0, W("pron_sg")))
    subj_pl = A((5.0, _np_pl("anim_pl")), (2.5, W("pron_pl")))
    subj_any = A((1.0, subj_sg), (1.0, subj_pl))
    topic_sg = A((4.0, _np_sg("any_sg")), (1.0, W("name")), (1.0, W("pron_sg")))
    topic_pl = A((3.0, _np_pl("any_pl")), (1.0, W("pron_pl2")))
    obj = A(
        (4.0, _np_sg("any_sg", 0.15)),
        (2.0, _np_pl("any_pl", 0.15)),
        (1.5, W("name")),
        (1.5, W("pron_obj")),
    )
    pp = S(
        W("prep"),
        A(
            (3.0, S(W("det_def"), W("thing_sg"))),
            (1.0, W("name")),
            (1.0, S(W("det_def"), W("anim_sg"))),
        ),
    )
    tail = A((0.15, W("adv")), (0.12, pp), (0.73, S()))
    short_tail = A((0.1, W("adv")), (0.05, pp), (0.85, S()))
    pred = A((4.0, S(Opt(0.15, W("intens")), W("adj"))), (1.5, pp))
    vp_base = A((2.0, W("vi_base")), (2.0, S(W("vt_base"), obj)))

    intransitive = A(
        (3.0, S(subj_sg, W("vi_3sg"), tail)),
        (2.0, S(subj_pl, W("vi_base"), tail)),
        (3.0, S(subj_any, W("vi_past"), tail)),
    )
    transitive = A(
        (3.0, S(subj_sg, W("vt_3sg"), obj, short_tail)),
        (2.0, S(subj_pl, W("vt_base"), obj, short_tail)),
        (3.0, S(subj_any, W("vt_past"), obj, short_tail)),
    )
    copula = A(
        (3.0, S(topic_sg, W("be_sg"), pred)),
        (2.0, S(topic_pl, W("be_pl"), pred)),
        (0.5, S(L("I"), W("be_1sg"), pred)),
    )
    negated = A(
        (1.0, S(subj_sg, W("do_sg"), L("not"), vp_base)),
        (1.0, S(subj_pl, W("do_pl"), L("not"), vp_base)),
        (1.0, S(topic_sg, W("be_sg"), L("not"), W("adj"))),
    )
    modal = S(subj_any, W("modal"), vp_base)
    statement = A(
        (10.0, intransitive),
        (9.0, transitive),
        (6.0, copula),
        (1.5, negated),
        (1.5, modal),
    )
    yes_no = A(
        (2.0, S(W("do_sg"), subj_sg, vp_base)),
        (1.5, S(W("do_pl"), subj_pl, vp_base)),
        (2.0, S(W("be_sg"), topic_sg, pred)),
        (1.0, S(W("be_pl"), topic_pl, W("adj"))),
        (1.0, S(W("modal"), subj_any, vp_base)),
    )
    wh = A(
        (2.0, S(W("wh"), W("do_sg"), subj_sg, W("vi_base"))),
        (1.0, S(W("wh"), W("do_pl"), subj_pl, W("vi_base"))),
        (2.0, S(L("where"), W("be_sg"), topic_sg)),
        (1.0, S(L("where"), W("be_pl"), topic_pl)),
        (2.0, S(L("who"), A((1.0, W("vi_3sg")), (1.0, W("vi_past"))))),
        (1.5, S(L("who"), A((1.0, W("vt_3sg")), (1.0, W("vt_past"))), obj)),
        (1.5, S(L("what"), W("do_sg"), subj_sg, W("vt_base"))),
        (1.0, S(L("what"), W("do_pl"), subj_pl, W("vt_base"))),
    )
    return A(
        (26.0, S(statement, L("."))),
        (1.2, S(W("front"), L(","), statement, L("."))),
        (4.0, S(yes_no, L("?"))),
        (3.0, S(wh, L("?"))),
    )


# --- automaton ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Automaton:
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


def _capitalise(word: str) -> str:
    return word[:1].upper() + word[1:]


@lru_cache(maxsize=1)
def _automaton() -> _Automaton:
    classes = _build_classes()
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
    accept = build(_grammar(), start)

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
            by_initial.setdefault(_capitalise(word), set()).add(name)
    return _Automaton(
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


def sample_sentence(rng: random.Random) -> str:
    """One random sentence of the grammar."""
    auto = _automaton()
    words: list[str] = []
    state = 0
    while True:
        move = _pick(rng, auto.cumulative[state])
        _, cls, state = auto.moves[state][move]
        if cls is None:
            break
        word = auto.classes[cls][_pick(rng, auto.class_cumulative[cls])]
        words.append(_capitalise(word) if not words else word)
    return " ".join(words)


def generate(n: int, seed: int = 0, stream: str = "train") -> Iterator[str]:
    """``n`` sentences from the RNG stream named ``stream`` for ``seed`` (deterministic)."""
    # A string seed is hashed with SHA-512 by ``random``: stable across runs and platforms.
    rng = random.Random(f"textgan-synthetic-v{GRAMMAR_VERSION}:{seed}:{stream}")
    for _ in range(n):
        yield sample_sentence(rng)


def vocabulary() -> frozenset[str]:
    """Every word form of the grammar (lower-case except names and "I")."""
    return frozenset(_automaton().classes_of_word)


# --- oracle -------------------------------------------------------------------------------------


def _step(auto: _Automaton, states: set[int], token: str, first: bool) -> set[int]:
    table = auto.classes_of_initial if first else auto.classes_of_word
    classes = table.get(token)
    if not classes:
        return set()
    return {nxt for s in states for _, cls, nxt in auto.moves[s] if cls in classes}


def grammar_accepts(sample: str, seq_len: int) -> bool:
    """True iff ``sample`` is a sentence of the grammar, or, when ``len(sample) == seq_len``,
    the first ``seq_len`` characters of one (preparation cuts lines to ``seq_len``)."""
    auto = _automaton()
    tokens = sample.split(" ")
    states = {0}
    for i, token in enumerate(tokens[:-1]):
        states = _step(auto, states, token, i == 0)
        if not states:
            return False
    last = tokens[-1]
    first = len(tokens) == 1
    ends = _step(auto, states, last, first)
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
                shown = _capitalise(word) if first else word
                if shown.startswith(last):
                    return True
    return False


PUNCTUATION = frozenset({".", "?", ","})


def word_counts(sample: str, cut: bool) -> tuple[int, int]:
    """(words of the grammar, words) in ``sample``, punctuation aside; when the line was ``cut`` at
    seq_len its last token may be a fragment and is not counted. The first word may be
    capitalised."""
    auto = _automaton()
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


# --- source -------------------------------------------------------------------------------------


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
