"""The synthetic corpus's language: a lexicon and a weighted regular grammar over it.

Sentences look like Billion Word text ("The old dog sees a cat ." - tokens separated by single
spaces, sentence-initial capital) but come from a known grammar with a few hundred word forms,
subject-verb agreement, a/an agreement, intransitive, transitive and copular clauses, negation,
yes/no and wh-questions. Words within a class are drawn with Zipf weights (1/rank), so word
frequencies are Zipf-like. Most sentences are at most 32 characters long.

The grammar is written in a small expression language (:func:`W`, :func:`L`, :func:`S`, :func:`A`,
:func:`Opt`) without recursion, so it is regular: :mod:`.automaton` compiles it to the word-level
automaton that both samples sentences and recognises them.
"""

from __future__ import annotations

from typing import Any

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


def word_classes() -> dict[str, list[str]]:
    """Word class name -> its words, most frequent first (``.c`` / ``.v``: those starting with a
    consonant / vowel letter, for a/an)."""
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


SENTENCE_CLASSES = ("question", "statement")
"""The two labelled sub-languages of ``--corpus synthetic-classes``, in label-id order: sentences
ending in "?" (yes/no and wh-questions) and those ending in "." (statements, maybe after a
fronted adverb). They are disjoint, and together they are the whole language; the first word
already tells them apart (no statement starts with an auxiliary or a wh-word)."""


def sentence_grammar(sentence_class: str | None = None) -> Expr:
    """One sentence of the language, with its final punctuation; ``sentence_class`` (one of
    :data:`SENTENCE_CLASSES`): one sentence of that sub-language, with the same relative weights
    of its options as in the whole grammar."""
    if sentence_class is not None and sentence_class not in SENTENCE_CLASSES:
        raise ValueError(f"unknown sentence class {sentence_class!r}; one of {SENTENCE_CLASSES}")
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
    options = {
        "statement": ((26.0, S(statement, L("."))), (1.2, S(W("front"), L(","), statement, L(".")))),
        "question": ((4.0, S(yes_no, L("?"))), (3.0, S(wh, L("?")))),
    }
    if sentence_class is not None:
        return A(*options[sentence_class])
    return A(*options["statement"], *options["question"])

