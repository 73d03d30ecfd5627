"""Word-level metrics read whole lines; only character statistics cut lines to --seq-len.

Texygen BLEU-n: for each hypothesis, NLTK's ``sentence_bleu(all reference lines, hypothesis,
(1/n,)*n, method1)`` on whitespace tokens, averaged; Self-BLEU-n: each hypothesis against the
other hypotheses. Checked here against NLTK itself through the CLI, the Python API and the
per-class path, on prose-like lines mostly longer than the default --seq-len of 32.
"""

import json
import random

import pytest
from helpers.paper_js import paper_js

from textgan.cli.main import run
from textgan.eval import EvalConfig, ReferenceConfig, ReferenceSet, evaluate
from textgan.text.evaluation import reference_for, resolve_reference

bleu_score = pytest.importorskip("nltk.translate.bleu_score")

SEQ_LEN = 32  # the default --seq-len
WORDS = ("the of and to a in is it that he was for on are with as his they be at one have this "
         "from or had by not but what some we can out other were all there when up use your how "
         "said an each she which do their time if will way about many then them would like so "
         "these her long make thing see him two has look more day could go come market percent "
         "million company officials police state week year city government people").split()
ORDERS = (2, 3, 4, 5)


def prose(n_lines: int, seed: int) -> list[str]:
    """Sentences of 4 to 16 words (about 15 to 90 characters), a few with numbers."""
    rng = random.Random(seed)
    lines = []
    for _ in range(n_lines):
        words = [rng.choice(WORDS) for _ in range(rng.randint(4, 16))]
        if rng.random() < 0.3:
            words.insert(rng.randrange(len(words)), str(rng.randint(1, 2025)))
        lines.append(" ".join([words[0].capitalize(), *words[1:]]) + rng.choice([" .", " ?", ""]))
    return lines


def nltk_bleu(hypotheses: list[str], references: list[str]) -> dict[int, float]:
    refs = [r.split() for r in references]
    smooth = bleu_score.SmoothingFunction().method1
    return {n: sum(bleu_score.sentence_bleu(refs, h.split(), (1.0 / n,) * n,
                                            smoothing_function=smooth)
                   for h in hypotheses) / len(hypotheses) for n in ORDERS}


def nltk_self_bleu(hypotheses: list[str]) -> dict[int, float]:
    smooth = bleu_score.SmoothingFunction().method1
    toks = [h.split() for h in hypotheses]
    return {n: sum(bleu_score.sentence_bleu(toks[:i] + toks[i + 1:], h, (1.0 / n,) * n,
                                            smoothing_function=smooth)
                   for i, h in enumerate(toks)) / len(toks) for n in ORDERS}


@pytest.fixture(scope="module")
def texts(tmp_path_factory):
    d = tmp_path_factory.mktemp("whole_lines")
    reference = prose(200, seed=0)
    # hypotheses: real-looking lines, some copied from the reference, some new
    hypotheses = random.Random(1).sample(reference, 10) + prose(30, seed=2)
    (d / "ref.txt").write_text("\n".join(reference) + "\n", encoding="utf-8")
    (d / "hyp.txt").write_text("\n".join(hypotheses) + "\n", encoding="utf-8")
    assert sum(len(line) > SEQ_LEN for line in reference) > 150
    return d, reference, hypotheses


def cli_json(*args, capsys):
    capsys.readouterr()
    assert run(["eval", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_texygen_bleu_and_self_bleu_equal_nltk_on_whole_lines(texts, capsys):
    d, reference, hypotheses = texts
    got = cli_json(str(d / "hyp.txt"), "--reference", str(d / "ref.txt"), "--data-dir",
                   str(d / "data"), capsys=capsys)
    want, want_self = nltk_bleu(hypotheses, reference), nltk_self_bleu(hypotheses)
    cut = nltk_bleu([h[:SEQ_LEN] for h in hypotheses], [r[:SEQ_LEN] for r in reference])
    for n in ORDERS:
        assert got[f"texygen_bleu{n}"] == pytest.approx(want[n], abs=1e-9)
        assert got[f"texygen_self_bleu{n}"] == pytest.approx(want_self[n], abs=1e-9)
    assert abs(cut[2] - want[2]) > 1e-2  # cutting lines would have given another number
    lines = got["lines"]
    assert lines["cut_to"] == SEQ_LEN and lines["word_references"] == "whole lines"
    assert {"js1", "js4", "js4_floor", "lm_forward_bpc", "lm_reverse_bpc_real",
            "memorized"} <= set(lines["cut"])
    assert {"texygen_bleu2", "texygen_self_bleu5", "bleu4", "word_precision1", "distinct2",
            "texygen_bleu5_real"} <= set(lines["whole"])
    assert not set(lines["cut"]) & set(lines["whole"])


def test_js_is_still_computed_on_lines_cut_to_seq_len(texts, capsys):
    d, reference, hypotheses = texts
    for seq_len in (SEQ_LEN, 20):
        got = cli_json(str(d / "hyp.txt"), "--reference", str(d / "ref.txt"), "--data-dir",
                       str(d / "data"), "--seq-len", str(seq_len), "--no-lm", "--no-words",
                       capsys=capsys)
        for n in (1, 2, 3, 4):
            assert got[f"js{n}"] == pytest.approx(paper_js(hypotheses, reference, n, seq_len),
                                                  abs=1e-9)
        assert got["lines"]["cut_to"] == seq_len
    # whole lines give other statistics: the cut is what makes the numbers above
    assert abs(paper_js(hypotheses, reference, 4, 200) - got["js4"]) > 1e-3


def test_the_table_says_which_metrics_saw_cut_lines(texts, capsys):
    d, _, _ = texts
    capsys.readouterr()
    assert run(["eval", str(d / "hyp.txt"), "--reference", str(d / "ref.txt"), "--data-dir",
                str(d / "data"), "--no-lm"]) == 0
    out = capsys.readouterr()
    text = out.out + out.err
    assert "cut to 32 characters" in text and "references: whole lines" in text
    rows = {line.split()[1]: line for line in text.splitlines()
            if line.startswith("│") and len(line.split()) > 2}
    assert "cut to 32" in rows["js4"] and "whole" in rows["texygen_bleu2"]


def test_an_old_cache_of_cut_lines_is_rebuilt_not_used(texts, capsys):
    """A cached reference without whole lines (format 1, or built from rows only) is rebuilt."""
    d, reference, hypotheses = texts
    data = str(d / "data_old")
    cli_json(str(d / "hyp.txt"), "--reference", str(d / "ref.txt"), "--data-dir", data,
             "--no-lm", capsys=capsys)
    corpus, whole = resolve_reference(str(d / "ref.txt"), data)
    cache = corpus.dir / "eval_reference_whole"
    old = ReferenceSet.from_ids(corpus.train, corpus.valid, corpus.vocab, "`",
                                ReferenceConfig(whole=True, heldout_lines=100_000))
    assert not old.has_whole_lines
    old.save(cache)
    meta = json.loads((cache / "reference.json").read_text())
    meta["format"] = 1
    del meta["whole_lines"]
    (cache / "reference.json").write_text(json.dumps(meta))
    assert not ReferenceSet.load(cache).has_whole_lines  # format 1 still reads
    got = cli_json(str(d / "hyp.txt"), "--reference", str(d / "ref.txt"), "--data-dir", data,
                   "--no-lm", capsys=capsys)
    want = nltk_bleu(hypotheses, reference)
    for n in ORDERS:
        assert got[f"texygen_bleu{n}"] == pytest.approx(want[n], abs=1e-9)
    assert ReferenceSet.load(cache).has_whole_lines
    assert reference_for(corpus, whole=True).word_lines("heldout")[0] in reference


def test_python_api_evaluate_uses_whole_lines(texts):
    import textgan

    d, reference, hypotheses = texts
    got = textgan.evaluate(hypotheses, d / "ref.txt", data_dir=str(d / "data"),
                           config=EvalConfig(lm=False))
    want = nltk_bleu(hypotheses, reference)
    for n in ORDERS:
        assert got[f"texygen_bleu{n}"] == pytest.approx(want[n], abs=1e-9)


def test_samples_are_never_cut_for_words_whatever_the_reference(texts):
    """Self-BLEU depends on the samples alone: whole samples, also against a split corpus
    reference (whose rows are cut, as ``eval --run`` and model cards use)."""
    _, reference, hypotheses = texts
    ref = ReferenceSet.from_texts(reference[:150], reference[150:], SEQ_LEN)
    got = evaluate(hypotheses, ref, EvalConfig(lm=False))
    want_self = nltk_self_bleu(hypotheses)
    for n in ORDERS:
        assert got[f"texygen_self_bleu{n}"] == pytest.approx(want_self[n], abs=1e-9)


def test_per_class_bleu_uses_each_class_whole_lines(tmp_path, capsys):
    classes = {"a": prose(60, seed=5), "b": prose(60, seed=6)}
    samples = {"a": prose(12, seed=7), "b": prose(12, seed=8)}
    (tmp_path / "ref.tsv").write_text("".join(f"{k}\t{line}\n" for k, lines in classes.items()
                                              for line in lines), encoding="utf-8")
    (tmp_path / "hyp.tsv").write_text("".join(f"{k}\t{line}\n" for k, lines in samples.items()
                                              for line in lines), encoding="utf-8")
    got = cli_json(str(tmp_path / "hyp.tsv"), "--labels", "tsv", "--reference",
                   str(tmp_path / "ref.tsv"), "--data-dir", str(tmp_path / "data"), "--no-lm",
                   capsys=capsys)
    for name in classes:
        want = nltk_bleu(samples[name], classes[name])
        want_self = nltk_self_bleu(samples[name])
        for n in ORDERS:
            assert got["per_class"][name][f"texygen_bleu{n}"] == pytest.approx(want[n], abs=1e-9)
            assert got["per_class"][name][f"texygen_self_bleu{n}"] == pytest.approx(
                want_self[n], abs=1e-9)
    assert got["lines"]["cut_to"] == SEQ_LEN and got["lines"]["word_references"] == "whole lines"
    assert "label_accuracy" in got["lines"]["cut"]


def test_eval_errors_name_the_reference_flag(texts, tmp_path, capfd):
    d, _, _ = texts
    (tmp_path / "blank.txt").write_text("\n  \n", encoding="utf-8")
    for spec, needle in ((tmp_path / "nope.txt", f"--reference {tmp_path / 'nope.txt'} does not "
                          "exist"),
                         (tmp_path / "blank.txt", "point --reference at"),
                         (tmp_path / "empty_dir", "--reference directory")):
        if spec.name == "empty_dir":
            spec.mkdir()
        capfd.readouterr()
        assert run(["eval", str(d / "hyp.txt"), "--reference", str(spec), "--data-dir",
                    str(tmp_path / "data")]) == 1
        err = capfd.readouterr().err
        assert needle in err and "--corpus-path" not in err, err
        assert err.count("\n") == 1 and "Traceback" not in err


def test_eval_takes_the_encoding_flag_its_error_names(texts, tmp_path, capfd):
    d, _, _ = texts
    (tmp_path / "bad.txt").write_bytes(b"a fine line of text\nbad \xff byte here\n")
    args = ["eval", str(d / "hyp.txt"), "--reference", str(tmp_path / "bad.txt"), "--data-dir",
            str(tmp_path / "data"), "--no-lm", "--json"]
    capfd.readouterr()
    assert run(args) == 1
    assert "pass --encoding-errors replace" in capfd.readouterr().err
    assert run([*args, "--encoding-errors", "replace"]) == 0
    assert json.loads(capfd.readouterr().out)["n_samples"] == 40
