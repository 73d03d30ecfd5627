"""Per-class evaluation of labelled samples: each class against its own reference text, label
accuracy from a classifier trained on the real text (never the critic's AC head), macro means;
labelled references (a tsv file, a labelled prepared corpus); a conditional generator."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from textgan.errors import ConfigError, CorpusError, TextganError
from textgan.eval import EvalConfig, ReferenceConfig, ReferenceSet, evaluate, js_divergence
from textgan.eval.per_class import evaluate_classes, macro_mean
from textgan.text.evaluation import (
    WHOLE_HELDOUT_LINES,
    class_reference,
    corpus_labels,
    evaluate_conditional_generator,
    evaluate_labelled_file,
    generate_class_ids,
    read_labelled_lines,
    resolve_labelled_reference,
)
from textgan.text.prepare import PreparedCorpus, TextDataConfig, load_corpus

SEQ_LEN = 24
FAST = EvalConfig(texygen_orders=(), lm_order=3)
NAMES = ["question", "statement"]


def question(i: int) -> str:
    who = ["who", "what", "whom"][i % 3]
    verb = ["sees", "likes", "finds", "knows"][(i // 3) % 4]
    noun = ["the cat", "a dog", "my hat", "her pen", "his cup"][(i // 12) % 5]
    return f"{who} {verb} {noun} ?"


def statement(i: int) -> str:
    det = ["the", "a", "one"][i % 3]
    noun = ["bird", "fish", "horse", "mouse"][(i // 3) % 4]
    verb = ["runs home", "sat down", "is warm", "swims", "sleeps"][(i // 12) % 5]
    return f"{det} {noun} {verb} ."


def label_of(line: str) -> int:
    return 0 if line.split(" ", 1)[0] in ("who", "what", "whom") else 1


@pytest.fixture()
def tsv_reference(tmp_path: Path) -> tuple[Path, dict[str, list[str]]]:
    lines = {"question": [question(i) for i in range(120)],
             "statement": [statement(i) for i in range(90)]}
    rows = [f"{name}\t{line}" for i in range(120) for name in NAMES
            if i < len(lines[name]) for line in [lines[name][i]]]
    path = tmp_path / "reference.tsv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path, lines


def add_labels(corpus: PreparedCorpus, names: list[str]) -> PreparedCorpus:
    """Make a prepared corpus labelled, as the text mode prepares one: an id per row in
    train_labels.bin / valid_labels.bin, the names in meta.json."""
    for split, rows in (("train", corpus.train), ("valid", corpus.valid)):
        ids = np.array([label_of(s) for s in corpus.decode_rows(rows, strip_pad=True)], np.uint8)
        (corpus.dir / f"{split}_labels.bin").write_bytes(ids.tobytes())
    meta = dict(corpus.meta, labels={"names": names, "dtype": "uint8"})
    (corpus.dir / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return PreparedCorpus.open(corpus.dir)


@pytest.fixture()
def labelled_corpus(tmp_path: Path) -> PreparedCorpus:
    lines = [question(i) if i % 2 else statement(i) for i in range(660)]
    text, valid = tmp_path / "corpus.txt", tmp_path / "valid.txt"
    text.write_text("\n".join(lines[:600]) + "\n", encoding="utf-8")
    valid.write_text("\n".join(lines[600:]) + "\n", encoding="utf-8")
    corpus = load_corpus(TextDataConfig(corpus_path=str(text), valid_path=str(valid),
                                        data_dir=str(tmp_path / "data"), seq_len=SEQ_LEN))
    return add_labels(corpus, NAMES)


def write_samples(path: Path, pairs: list[tuple[str, str]]) -> Path:
    path.write_text("".join(f"{label}\t{text}\n" for label, text in pairs), encoding="utf-8")
    return path


def test_macro_mean_averages_every_shared_key_and_sums_counts() -> None:
    macro = macro_mean({"a": {"js1": 0.2, "n_samples": 3.0, "only_a": 1.0},
                        "b": {"js1": 0.4, "n_samples": 5.0}})
    assert macro == {"js1": pytest.approx(0.3), "n_samples": 8.0}


def test_each_class_is_evaluated_against_its_own_lines(tmp_path, tsv_reference) -> None:
    path, lines = tsv_reference
    # the first class's samples are real questions, the second's questions too (mislabelled)
    pairs = ([("question", question(i)) for i in range(7, 47)]
             + [("statement", question(i)) for i in range(50, 80)])
    report = evaluate_labelled_file(write_samples(tmp_path / "s.tsv", pairs), str(path),
                                    seq_len=SEQ_LEN, config=FAST)
    per_class = report.classes.per_class
    assert list(per_class) == NAMES
    whole = ReferenceConfig(whole=True, heldout_lines=WHOLE_HELDOUT_LINES)
    for name in NAMES:
        samples = [t for label, t in pairs if label == name]
        expected = evaluate(samples, ReferenceSet.from_texts(lines[name], [], SEQ_LEN,
                                                             config=whole), FAST)
        got = per_class[name]
        for key, value in expected.items():
            assert got[key] == pytest.approx(value, abs=1e-12), (name, key)
        direct = js_divergence(samples, lines[name], seq_len=SEQ_LEN)  # independent of glue
        for k in (1, 2, 3, 4):
            assert got[f"js{k}"] == pytest.approx(direct[k], abs=1e-9)
    # questions are close to the questions' text, far from the statements'
    assert per_class["question"]["js2"] < per_class["statement"]["js2"]
    # the judge: right labels are recognised, wrong ones are not
    assert per_class["question"]["label_accuracy"] == 1.0
    assert per_class["statement"]["label_accuracy"] == 0.0
    assert per_class["question"]["label_accuracy_real"] == 1.0
    assert report.classes.classifier["accuracy"] == 1.0
    assert report.classes.classifier["heldout_lines"] == 12 + 9  # every 10th line of each class
    assert report.metrics["label_accuracy"] == 0.5  # the macro mean
    assert report.metrics["n_samples"] == 70.0
    assert report.metrics["js1"] == pytest.approx(
        (per_class["question"]["js1"] + per_class["statement"]["js1"]) / 2)


def test_limit_is_per_class_and_missing_classes_are_noted(tmp_path, tsv_reference) -> None:
    path, _ = tsv_reference
    pairs = [("statement", statement(i)) for i in range(30)]
    report = evaluate_labelled_file(write_samples(tmp_path / "s.tsv", pairs), str(path),
                                    seq_len=SEQ_LEN, config=FAST, limit=10)
    assert list(report.classes.per_class) == ["statement"]
    assert report.metrics["n_samples"] == 10.0
    assert any("no samples of the reference's classes question" in n for n in report.notes)


def test_a_class_too_small_for_floors_is_evaluated_without_them(tmp_path) -> None:
    ref = write_samples(tmp_path / "r.tsv", [("a", "aaa bbb"), ("b", "xx yy"), ("b", "yy xx"),
                                             ("b", "xy yx"), ("a", "ab ab")])
    samples = write_samples(tmp_path / "s.tsv", [("a", "aab"), ("b", "xyx"), ("b", "yyx")])
    per_class = evaluate_labelled_file(samples, str(ref), config=FAST).classes.per_class
    assert "js1_floor" in per_class["b"] and "js1_floor" in per_class["a"]
    one = write_samples(tmp_path / "r1.tsv", [("a", "aaa bbb"), ("b", "xx yy"), ("b", "yy")])
    per_class = evaluate_labelled_file(samples, str(one), config=FAST).classes.per_class
    assert "js1_floor" not in per_class["a"] and "js1" in per_class["a"]


def test_labelled_prepared_corpus_is_split_by_class(tmp_path, labelled_corpus) -> None:
    corpus = labelled_corpus
    labels = corpus_labels(corpus)
    assert labels is not None and labels.names == NAMES
    assert len(labels.train) == len(corpus.train) and set(np.unique(labels.valid)) == {0, 1}
    ref = class_reference(corpus, labels, "statement")
    mask_t, mask_v = np.asarray(labels.train) == 1, np.asarray(labels.valid) == 1
    assert ref.n_train == mask_t.sum() and ref.n_valid == mask_v.sum()
    assert (corpus.dir / "eval_reference_valid_class1" / "reference.json").is_file()
    pairs = [("statement", statement(i)) for i in range(3, 33)] + \
        [("question", question(i)) for i in range(20)]
    report = evaluate_labelled_file(write_samples(tmp_path / "s.tsv", pairs), str(corpus.dir),
                                    config=FAST)
    assert list(report.classes.per_class) == NAMES  # the reference's class order
    for k, name in enumerate(NAMES):
        own = ReferenceSet.from_ids(np.asarray(corpus.train[np.asarray(labels.train) == k]),
                                    np.asarray(corpus.valid[np.asarray(labels.valid) == k]),
                                    corpus.vocab, corpus.tokenizer.pad)
        expected = evaluate([t for label, t in pairs if label == name], own, FAST)
        for key, value in expected.items():
            assert report.classes.per_class[name][key] == pytest.approx(value, abs=1e-12)
        assert report.classes.per_class[name]["label_accuracy"] == 1.0
    assert report.classes.classifier["train_lines"] == len(corpus.train)
    assert report.classes.classifier["heldout_lines"] == len(corpus.valid)


def test_bad_labelled_input_is_one_line(tmp_path, tsv_reference, labelled_corpus) -> None:
    path, _ = tsv_reference
    unknown = write_samples(tmp_path / "u.tsv", [("question", "who ?"), ("answer", "yes .")])
    with pytest.raises(ConfigError, match=r"u.tsv line 2: label 'answer' is not a class of the "
                                          r"reference .* \(its classes: question, statement\)"):
        evaluate_labelled_file(unknown, str(path), config=FAST)
    no_tab = tmp_path / "n.tsv"
    no_tab.write_text("question\twho ?\n\nstatement the dog .\n")
    with pytest.raises(TextganError, match="n.tsv line 3 has no tab"):
        read_labelled_lines(no_tab)
    (tmp_path / "e.tsv").write_text("\tthe dog .\n")
    with pytest.raises(TextganError, match="line 1 has an empty label"):
        read_labelled_lines(tmp_path / "e.tsv")
    # blank lines and blank texts are skipped; CRLF and a byte-order mark are not text
    (tmp_path / "ok.tsv").write_bytes(b"\xef\xbb\xbfa\tx y\r\n\nb\t  \nb\tz\tw\n")
    assert read_labelled_lines(tmp_path / "ok.tsv") == [(1, "a", "x y"), (4, "b", "z\tw")]
    # an unlabelled prepared corpus as the reference of labelled samples
    plain = tmp_path / "plain.txt"
    plain.write_text("\n".join(statement(i) for i in range(50)) + "\n")
    corpus = load_corpus(TextDataConfig(corpus_path=str(plain), data_dir=str(tmp_path / "d")))
    with pytest.raises(ConfigError, match="has no labels"):
        resolve_labelled_reference(str(corpus.dir))
    # damaged labels of a labelled corpus
    (labelled_corpus.dir / "valid_labels.bin").write_bytes(b"\0")
    with pytest.raises(CorpusError, match="valid_labels.bin has the wrong size"):
        corpus_labels(labelled_corpus)


class PhraseGenerator(nn.Module):
    """A hand-made conditional text generator following the core's contract: ``G(z,
    labels=y)`` (keyword only) → one-hot distributions ``[B, L, V]`` of one of a few fixed lines
    of class ``y`` (``swap``: of the other class), the noise choosing which line."""

    def __init__(self, corpus: PreparedCorpus, swap: bool = False) -> None:
        super().__init__()
        lines = [[question(i) for i in range(4)], [statement(i) for i in range(4)]]
        if swap:
            lines.reverse()
        ids = [corpus.tokenizer.encode(group, SEQ_LEN) for group in lines]
        self.register_buffer("ids", torch.as_tensor(np.stack(ids), dtype=torch.long))
        self.noise_dim, self.seq_len, self.vocab = 3, SEQ_LEN, len(corpus.vocab)
        self.dummy = nn.Parameter(torch.zeros(1))
        self.num_classes = 2

    def forward(self, z: Tensor, *, labels: Tensor) -> Tensor:
        which = (z[:, 0] > 0).long() + 2 * (z[:, 1] > 0).long()
        return nn.functional.one_hot(self.ids[labels, which], self.vocab).float()

    def logits(self, z: Tensor, *, labels: Tensor) -> Tensor:
        """What text sampling decodes: arg-max is the chosen line (log of one-hot: -inf/0)."""
        return self.forward(z, labels=labels).log()


def test_a_conditional_generator_is_evaluated_per_class(labelled_corpus) -> None:
    corpus = labelled_corpus
    G = PhraseGenerator(corpus)
    evaluation, samples = evaluate_conditional_generator(G, corpus.tokenizer, corpus, NAMES,
                                                         n=12, config=FAST)
    assert list(samples) == NAMES and all(len(s) == 12 for s in samples.values())
    assert {s.rstrip("`") for s in samples["question"]} <= {question(i) for i in range(4)}
    assert {s.rstrip("`") for s in samples["statement"]} <= {statement(i) for i in range(4)}
    for name in NAMES:
        assert evaluation.per_class[name]["label_accuracy"] == 1.0
        assert evaluation.per_class[name]["n_samples"] == 12
    assert evaluation.macro["n_samples"] == 24
    swapped, _ = evaluate_conditional_generator(PhraseGenerator(corpus, swap=True),
                                                corpus.tokenizer, corpus, NAMES, n=12,
                                                config=FAST)
    assert swapped.macro["label_accuracy"] == 0.0
    # samples of the wrong class are further from the class's text
    assert swapped.per_class["question"]["js2"] > evaluation.per_class["question"]["js2"]
    with pytest.raises(CorpusError, match="not those of corpus"):
        evaluate_conditional_generator(G, corpus.tokenizer, corpus, ["a", "b"], n=2)


def test_class_samples_are_drawn_with_labels_as_a_keyword(labelled_corpus) -> None:
    G = PhraseGenerator(labelled_corpus)
    y = torch.tensor([1, 0, 1, 1, 0])
    a = generate_class_ids(G, y, seed=3, batch_size=2)
    assert a.shape == (5, SEQ_LEN)
    assert torch.equal(a, generate_class_ids(G, y, seed=3))  # batches do not change the draws
    for row, label in zip(a.tolist(), y.tolist(), strict=True):
        assert label_of(labelled_corpus.tokenizer.decode(row, strip_pad=True)) == label
    # one-hot distributions: any temperature draws the same ids
    assert torch.equal(generate_class_ids(G, y, seed=3, temperature=0.7), a)


def test_evaluate_classes_adds_extra_metrics_and_refuses_unknown_classes() -> None:
    from textgan.eval.per_class import LabelJudge

    refs = {"q": ReferenceSet.from_texts([question(i) for i in range(40)], [], SEQ_LEN,
                                         config=ReferenceConfig(whole=True)),
            "s": ReferenceSet.from_texts([statement(i) for i in range(40)], [], SEQ_LEN,
                                         config=ReferenceConfig(whole=True))}
    judge = LabelJudge.train(["q", "s"], [question(i) for i in range(30)]
                             + [statement(i) for i in range(30)], [0] * 30 + [1] * 30, [], [])
    assert np.isnan(judge.heldout_accuracy) and "accuracy" not in judge.summary()
    out = evaluate_classes({"s": [statement(1), statement(2) + "``"]}, refs.__getitem__, FAST,
                           judge, extra=lambda name, lines: {"lines_seen": len(lines)})
    assert out.per_class["s"]["lines_seen"] == 2.0
    assert out.per_class["s"]["label_accuracy"] == 1.0  # trailing pad is not text
    assert "label_accuracy_real" not in out.per_class["s"]  # no held-out lines
    with pytest.raises(TextganError, match="class 'x' is not one the label classifier knows"):
        evaluate_classes({"x": ["who ?"]}, lambda name: refs["q"], FAST, judge)
    with pytest.raises(TextganError, match="class 'q' has no samples"):
        evaluate_classes({"q": []}, refs.__getitem__, FAST)


def test_synthetic_classes_samples_get_the_oracle_per_class(tmp_path: Path) -> None:
    """On --reference synthetic-classes each class's samples are judged by the grammar's oracle
    against THAT class: a question among the statements counts against them."""
    from textgan.text.evaluation import evaluate_labelled_file

    samples = tmp_path / "samples.tsv"
    samples.write_text("question\tIs the dog big ?\nquestion\tThe dog runs .\n"
                       "statement\tThe dog runs .\nstatement\tThe cat sleeps .\n"
                       "statement\tDoes Mary run ?\nstatement\tzzz\n", encoding="utf-8")
    report = evaluate_labelled_file(samples, "synthetic-classes", data_dir=str(tmp_path / "data"),
                                    config=EvalConfig(words=False, lm=False))
    per_class = report.classes.per_class
    assert per_class["question"]["class_accuracy"] == pytest.approx(1 / 2)
    assert per_class["statement"]["class_accuracy"] == pytest.approx(2 / 4)
    assert per_class["question"]["class_end"] == pytest.approx(1 / 2)
    assert per_class["statement"]["class_start"] == pytest.approx(2 / 4)
    assert report.metrics["class_accuracy"] == pytest.approx(1 / 2)
