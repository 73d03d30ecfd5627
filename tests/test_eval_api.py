"""ReferenceSet caching, evaluate / evaluate_js keys and values, floors, sweep and plot."""

import json
import math
import random
import sys
from collections import Counter

import numpy as np
import pytest

from textgan.errors import TextganError
from textgan.eval import (
    EvalConfig,
    ReferenceConfig,
    ReferenceSet,
    evaluate,
    evaluate_js,
    js_divergence,
    plot_quality_diversity,
    quality_diversity_sweep,
)

WORDS = "the a cat dog sat ran on under mat log big small red".split()


def make_lines(n, seed):
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 7))) for _ in range(n)]


@pytest.fixture(scope="module")
def ref():
    # JS-n on the training text, as the paper's code (js_text="valid" is tested further down)
    cfg = ReferenceConfig(real_pool_lines=300, train_sample_lines=2000, heldout_lines=400,
                          chunk_rows=500, js_text="train")
    return ReferenceSet.from_texts(make_lines(3000, 0), make_lines(500, 1), seq_len=24, config=cfg)


def direct_js(samples, reference, n):
    def dist(lines):
        c = Counter(tuple(s[i:i + n]) for s in lines for i in range(len(s) - n + 1))
        t = sum(c.values())
        return {g: v / t for g, v in c.items()}
    p, q = dist(reference), dist(samples)
    out = 0.0
    for g in set(p) | set(q):
        a, b = p.get(g, 0.0), q.get(g, 0.0)
        m = (a + b) / 2
        out += 0.5 * ((a * math.log2(a / m) if a else 0) + (b * math.log2(b / m) if b else 0))
    return out


def test_evaluate_js_matches_definition_and_floor_leaves_lines_out(ref):
    train = make_lines(3000, 0)
    samples = make_lines(64, 7) + ["zebra stripes ~~ \u00e9"]
    got = evaluate_js(samples, ref)
    want = js_divergence(samples, train, 24)
    for n in (1, 2, 3, 4):
        assert got[f"js{n}"] == pytest.approx(want[n], abs=1e-9)
    # floor: the real subset against the training lines without it (multiset difference)
    real = ref.lines(ref.real_subset(65))
    fitted = Counter(s[:24].ljust(24, "`") for s in train)
    fitted.subtract(Counter(real))
    rest = list(fitted.elements())
    for n in (1, 2, 3, 4):
        assert got[f"js{n}_floor"] == pytest.approx(direct_js(real, rest, n), abs=1e-9)
    assert 0 < got["js4_floor"] < got["js4"]


def test_ids_fast_path_equals_strings(ref):
    samples = make_lines(50, 3)
    ids, _ = ref.encode(samples)
    assert evaluate_js(ids, ref) == evaluate_js(samples, ref)
    with pytest.raises(TextganError):
        evaluate_js(np.full((2, 24), ref.vocab_size), ref)


def test_save_load_roundtrip(ref, tmp_path):
    ref.forward_lm(3)
    ref.save(tmp_path / "r")
    meta = json.loads((tmp_path / "r" / "reference.json").read_text())
    assert meta["lm_orders"] == [3]
    back = ReferenceSet.load(tmp_path / "r")
    samples = make_lines(40, 9)
    cfg = EvalConfig(lm_order=3)
    assert evaluate(samples, back, cfg) == evaluate(samples, ref, cfg)
    assert back.fingerprint == ref.fingerprint
    with pytest.raises(TextganError):
        ReferenceSet.load(tmp_path / "missing")
    (tmp_path / "r" / "reference.npz").write_bytes(b"garbage")
    with pytest.raises(TextganError):
        ReferenceSet.load(tmp_path / "r")


def test_evaluate_keys_values_and_json(ref):
    samples = make_lines(200, 5)
    out = evaluate(samples, ref, EvalConfig(lm_order=4))
    for k in ["js1", "js4", "js4_floor", "lm_forward_bpc", "lm_forward_bpc_real",
              "lm_reverse_bpc", "lm_reverse_bpc_real", "word_precision1", "word_recall4",
              "word_precision2_real", "distinct1", "distinct4_real", "unique_share", "memorized",
              "memorized_real", "bleu4", "bleu4_real", "self_bleu4", "self_bleu4_real",
              "n_samples", "n_real"]:
        assert k in out, k
    assert all(isinstance(v, float) and math.isfinite(v) for v in out.values())
    json.dumps(out)
    # same-distribution samples score about like real text
    assert out["lm_forward_bpc"] == pytest.approx(out["lm_forward_bpc_real"], rel=0.1)
    assert out["word_precision1"] == 1.0  # every word is in the training sample


def test_memorized_and_mode_collapse(ref):
    train = make_lines(3000, 0)
    copied = train[:20]
    out = evaluate(copied, ref, EvalConfig(lm=False))
    assert out["memorized"] == 1.0
    collapsed = evaluate(["the cat sat on the mat"] * 30, ref, EvalConfig(lm_order=3))
    assert collapsed["unique_share"] == pytest.approx(1 / 30)
    assert collapsed["self_bleu4"] == pytest.approx(1.0)
    assert collapsed["lm_reverse_bpc"] > collapsed["lm_reverse_bpc_real"]
    assert collapsed["memorized"] == 0.0


def test_tiny_and_odd_sample_sets_stay_finite(ref):
    for samples in (["a"], ["", ""], ["\u4e2d\u6587 ~"], ["x" * 100]):
        out = evaluate(samples, ref, EvalConfig(lm_order=6))
        assert all(math.isfinite(v) for v in out.values()), samples
    with pytest.raises(TextganError):
        evaluate([], ref)


def test_sweep_and_plot(ref, tmp_path, monkeypatch):
    def sample_fn(n, temperature):
        rng = random.Random(int(temperature * 100))
        k = max(1, int(len(WORDS) * min(1.0, temperature)))
        return [" ".join(rng.choice(WORDS[:k]) for _ in range(5)) for _ in range(n)]

    res = quality_diversity_sweep(sample_fn, [0.2, 0.6, 1.0], ref, n_samples=100, lm_order=4)
    assert [p.temperature for p in res.points] == [0.2, 0.6, 1.0]
    rev = [p.reverse_bpc for p in res.points]
    assert rev[0] > rev[-1]  # fewer words -> worse coverage of real text
    json.dumps(res.to_dict())
    png = plot_quality_diversity(res, tmp_path / "qd.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(TextganError, match=r"needs matplotlib: pip install matplotlib"):
        plot_quality_diversity(res, tmp_path / "x.png")


def test_reference_errors_are_one_line():
    with pytest.raises(TextganError) as e:
        ReferenceSet.from_ids(np.zeros((3, 4), np.uint8), np.zeros((2, 5), np.uint8), ["`"])
    assert "\n" not in str(e.value)
    with pytest.raises(TextganError):
        ReferenceSet.from_ids(np.full((3, 4), 2, np.uint8), np.zeros((2, 4), np.uint8), ["`", "a"])
    with pytest.raises(TextganError):
        ReferenceSet.from_texts([], ["a"], 4)


def test_fingerprint_detects_a_changed_corpus():
    rng = np.random.default_rng(0)
    train = rng.integers(0, 5, size=(500, 8)).astype(np.uint8)
    valid = rng.integers(0, 5, size=(50, 8)).astype(np.uint8)
    vocab = ["?", "`", "a", "b", "c"]
    r = ReferenceSet.from_ids(train, valid, vocab)
    assert r.is_for(train, valid, vocab)
    changed = train.copy()
    changed[0, 0] = (changed[0, 0] + 1) % 5
    assert not r.is_for(changed, valid, vocab)
    assert not r.is_for(train, valid, ["?", "`", "a", "b", "d"])
    assert not r.is_for(train[:-1], valid, vocab)


def test_js_on_heldout_text_with_training_floor(tmp_path):
    """js_text="valid": JS against the held-out statistics; the floor uses training lines."""
    from textgan.eval import ReferenceConfig, ReferenceSet, evaluate_js, js_divergence

    rng = np.random.default_rng(3)
    words = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran"]
    lines = [" ".join(rng.choice(words, size=rng.integers(2, 6))) for _ in range(400)]
    train, valid = lines[:300], lines[300:]
    ref = ReferenceSet.from_texts(train, valid, seq_len=12,
                                  config=ReferenceConfig(js_text="valid", real_pool_lines=50))
    samples = lines[:40]
    got = evaluate_js(samples, ref, orders=(1, 2, 3))
    direct = js_divergence(samples, valid, seq_len=12, orders=(1, 2, 3))
    for k in (1, 2, 3):
        assert abs(got[f"js{k}"] - direct[k]) < 1e-9
    # The floor: 40 real training lines (from the pool) against the held-out statistics.
    pool_lines = ref.lines(ref.real_subset(40))
    floor = js_divergence(pool_lines, valid, seq_len=12, orders=(1, 2, 3))
    for k in (1, 2, 3):
        assert abs(got[f"js{k}_floor"] - floor[k]) < 1e-9
    again = ReferenceSet.load(ref.save(tmp_path / "ref"))
    assert again.config.js_text == "valid"
    assert evaluate_js(samples, again, orders=(1, 2, 3)) == got
