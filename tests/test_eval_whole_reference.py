"""`textgan eval SAMPLES --reference FILE`: the file, all of it, is the reference (issue 13).

Checked against the paper's JS-n written out with plain Counters (as documented in
textgan/eval/js.py) on a text file, not a prepared corpus.
"""

import json
import math
import random
from collections import Counter

import pytest
from helpers.paper_js import paper_js as plain_paper_js

from cli.main import run
from textgan.eval import js_divergence, texygen_bleu, tokenize
from textgan.text.evaluation import evaluate_file, reference_for, resolve_reference

SEQ_LEN, PAD = 32, "`"
WORDS = ("the of and to a in is it that he was for on are with as his they be at one have "
         "this from or had by not but what some we can out other were all there when up use "
         "your how said an each she which do their time if will way about many then them "
         "would like so these her long make thing see him two has look more day could go come "
         "market percent million company officials police state week café naïve — 中文").split()


def write_text(path, n_lines, seed):
    """English-like text: varied lengths (most lines longer than SEQ_LEN), punctuation, a few
    non-ASCII characters, repeated lines, a literal pad character, blank lines."""
    rng = random.Random(seed)
    lines = []
    for i in range(n_lines):
        if lines and rng.random() < 0.05:
            lines.append(rng.choice(lines))  # duplicates: memorized_real counts them
            continue
        words = [rng.choice(WORDS) for _ in range(rng.randint(1, 18))]
        words[0] = words[0].capitalize()
        if rng.random() < 0.3:
            words.insert(rng.randrange(len(words)), str(rng.randint(1, 2025)))
        line = " ".join(words) + rng.choice([".", ".", "?", "!", ",", ""])
        if i == 7:
            line = "a `quoted` word"
        lines.append(line)
    text = ""
    for i, line in enumerate(lines):
        text += line + "\n" + ("\n  \n" if i % 300 == 17 else "")  # blank lines are skipped
    path.write_text(text, encoding="utf-8")
    return lines


def fitted(line):
    return line[:SEQ_LEN].ljust(SEQ_LEN, PAD)


def paper_js(samples, reference, n):
    return plain_paper_js(samples, reference, n, SEQ_LEN)


def minus(lines, removed):
    """Multiset difference of fitted lines."""
    left = Counter(map(fitted, lines))
    left.subtract(Counter(map(fitted, removed)))
    assert min(left.values()) >= 0
    return list(left.elements())


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    d = tmp_path_factory.mktemp("whole")
    lines = write_text(d / "real.txt", 1200, seed=0)
    samples = random.Random(1).sample(lines, 640)
    (d / "samples.txt").write_text("\n".join(samples) + "\n", encoding="utf-8")
    return d, lines, samples


def cli_json(*args, capsys):
    assert run(["eval", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_js_is_against_the_whole_file(text_file, capsys):
    d, lines, samples = text_file
    got = cli_json(str(d / "samples.txt"), "--reference", str(d / "real.txt"), "--data-dir",
                   str(d / "data"), "--no-lm", capsys=capsys)
    assert got["n_samples"] == 640
    for n in (1, 2, 3, 4):
        assert got[f"js{n}"] == pytest.approx(paper_js(samples, lines, n), abs=1e-9)
    # the bug: 640 lines of the file scored like text unrelated to it (JS-4 about 0.72)
    assert got["js4"] < 0.35


def test_floor_is_reference_lines_against_the_rest(text_file, capsys):
    d, lines, samples = text_file
    got = cli_json(str(d / "samples.txt"), "--reference", str(d / "real.txt"), "--data-dir",
                   str(d / "data"), "--lm-order", "3", capsys=capsys)
    corpus, whole = resolve_reference(str(d / "real.txt"), str(d / "data"))
    assert whole and len(corpus.train) + len(corpus.valid) == len(lines)
    ref = reference_for(corpus, whole=True)
    real = ref.lines(ref.real_subset(640))
    assert got["n_real"] == len(real) == len(lines) // 2  # the pool leaves half for the rest
    rest = minus(lines, real)
    for n in (1, 2, 3, 4):
        assert got[f"js{n}_floor"] == pytest.approx(paper_js(real, rest, n), abs=1e-9)
    # BLEU, on whole lines: the samples against every reference line; the real lines against
    # the others
    whole_real = ref.real_lines(ref.real_indices(640))
    assert [fitted(line) for line in whole_real] == real
    whole_rest = Counter(lines)
    whole_rest.subtract(Counter(whole_real))
    want = texygen_bleu([tokenize(s) for s in samples], [tokenize(s) for s in lines])
    want_real = texygen_bleu([tokenize(s) for s in whole_real],
                             [tokenize(s) for s in whole_rest.elements()])
    for n in (2, 3, 4, 5):
        assert got[f"texygen_bleu{n}"] == pytest.approx(want[n], abs=1e-12)
        assert got[f"texygen_bleu{n}_real"] == pytest.approx(want_real[n], abs=1e-12)
    # memorisation: every sample is a reference line; a real line "is memorised" when it occurs
    # among the other reference lines (the file repeats some lines)
    assert got["memorized"] == 1.0
    others = Counter(rest)
    assert got["memorized_real"] == pytest.approx(sum(others[r] > 0 for r in real) / len(real))
    assert 0 < got["memorized_real"] < 0.5
    for key in ("lm_forward_bpc", "lm_forward_bpc_real", "lm_reverse_bpc", "lm_reverse_bpc_real"):
        assert math.isfinite(got[key]), key


def test_a_directory_or_glob_of_files_is_all_their_lines(tmp_path, capsys):
    (tmp_path / "ref").mkdir()
    a = write_text(tmp_path / "ref" / "a.txt", 150, seed=2)
    b = write_text(tmp_path / "ref" / "b.txt", 60, seed=3)  # < 100 lines: no held-out part
    samples = a[:20] + ["Something else entirely, 42 times."]
    (tmp_path / "s.txt").write_text("\n".join(samples) + "\n", encoding="utf-8")
    for spec in (tmp_path / "ref", tmp_path / "ref" / "*.txt"):
        got = cli_json(str(tmp_path / "s.txt"), "--reference", str(spec), "--data-dir",
                       str(tmp_path / "data"), "--no-lm", "--no-words", capsys=capsys)
        for n in (1, 2, 3, 4):
            assert got[f"js{n}"] == pytest.approx(paper_js(samples, a + b, n), abs=1e-9)
    got = cli_json(str(tmp_path / "s.txt"), "--reference", str(tmp_path / "ref" / "b.txt"),
                   "--data-dir", str(tmp_path / "data"), "--no-lm", capsys=capsys)
    assert got["js2"] == pytest.approx(paper_js(samples, b, 2), abs=1e-9)


def test_a_prepared_corpus_keeps_its_held_out_split(text_file):
    """A prepared corpus directory evaluates like `--run` on a run trained on it."""
    d, lines, samples = text_file
    corpus, whole = resolve_reference(str(d / "real.txt"), str(d / "data"))
    report = evaluate_file(d / "samples.txt", str(corpus.dir))
    held_out = [line for i, line in enumerate(lines) if i % 100 == 99]
    direct = js_divergence(samples, held_out, seq_len=SEQ_LEN)
    for n in (1, 2, 3, 4):
        assert report.metrics[f"js{n}"] == pytest.approx(direct[n], abs=1e-9)
    assert "split corpus" in report.notes[0]


def test_whole_reference_set_round_trip_and_settings(tmp_path):
    from textgan.errors import TextganError
    from textgan.eval import EvalConfig, ReferenceConfig, ReferenceSet, evaluate

    lines = write_text(tmp_path / "t.txt", 300, seed=4)
    cfg = ReferenceConfig(whole=True, real_pool_lines=50, heldout_lines=120)
    ref = ReferenceSet.from_texts(lines, [], SEQ_LEN, config=cfg)  # no held-out part needed
    assert ref.real_pool.shape[0] == 50 and ref.heldout.shape[0] == 120
    samples = lines[:30]
    got = evaluate(samples, ref, EvalConfig(lm_order=3))
    for n in (1, 2, 3, 4):
        assert got[f"js{n}"] == pytest.approx(paper_js(samples, lines, n), abs=1e-9)
    # BLEU references: held-out sample plus the real pool (here 170 of the 300 lines)
    refs = ref.bleu_references()
    assert len(refs) == 170 and len(ref.bleu_references(leave_out=ref.real_indices(30))) == 140
    back = ReferenceSet.load(ref.save(tmp_path / "ref"))
    assert back.config.whole and evaluate(samples, back, EvalConfig(lm_order=3)) == got
    # js_text does not apply to a whole reference: either value counts every line
    other = ReferenceSet.from_texts(lines, [], SEQ_LEN, config=ReferenceConfig(
        whole=True, js_text="valid", real_pool_lines=50, heldout_lines=120))
    assert evaluate(samples, other, EvalConfig(lm_order=3)) == got
    with pytest.raises(TextganError):
        ReferenceSet.from_texts(lines, [], SEQ_LEN)  # a split corpus needs held-out lines
