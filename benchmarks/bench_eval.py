"""How fast, and in how much memory, does textgan.eval score samples against a large reference?

    python benchmarks/bench_eval.py --name bench-eval        # 10M reference lines, all steps
    python benchmarks/bench_eval.py --lines 1000000
    python benchmarks/bench_eval.py --steps bleu              # Texygen BLEU only (no reference)

Steps, each in a fresh subprocess so its peak RSS (resource.getrusage, ru_maxrss) is its own:
  refstats  char n-gram statistics (orders 1..4) of N lines x 32 chars, incl. loading the ids
  refset    the reference set of those N lines (JS tables, KN LMs, real-vs-real floors), saved
  score     JS-1..4 of 10k sample strings against the saved reference (load + score)
  kn        interpolated modified Kneser-Ney LM, order 6, fit on 1M lines
  bleu      Texygen BLEU-2..5 of 10k samples against a 10k-line reference, and Self-BLEU-2..5 of
            the 10k samples (textgan.eval.bleu); NLTK's sentence_bleu loop (what Texygen runs) on
            the first --nltk-samples samples against the same references, extrapolated to all
            (skipped if nltk is not installed). Lines of 10-39 words (about EMNLP News length),
            cut to --bleu-chars characters.
Wall times depend on what else runs on the machine; each step also reports its process CPU time
and the 1-minute load average. Targets: refstats 10M <= 60 s and <= 2 GB; score 10k
<= 2 s; KN-6 fit on 1M <= 60 s. Writes ``<out>/<name>.json``: one entry per step.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

import numpy as np

WORDS = (
    "the of and to a in is it you that he was for on are with as I his they be at one have "
    "this from or had by not word but what some we can out other were all there when up use "
    "your how said an each she which do their time if will way about many then them write "
    "would like so these her long make thing see him two has look more day could go come did "
    "number sound no most people my over know water than call first who may down side been now "
    "find any new work part take get place made live where after back little only round man "
    "year came show every good me give our under name very through just form sentence great "
    "think say help low line differ turn cause much mean before move right boy old too same "
    "tell does set three want air well also play small end put home read hand port large spell "
    "add even land here must big high such follow act why ask men change went light kind off "
    "need house picture try us again animal point mother world near build self earth father "
    "government president market percent million company officials police state week"
).split()
PAD = "`"


def _vocab_table(rng: np.random.Generator):
    forms, weights = [], []
    for r, w in enumerate(WORDS):
        z = 1.0 / (r + 2.0)
        for form, f in ((w, 0.80), (w.capitalize(), 0.10), (w + ",", 0.05), (w + ".", 0.05)):
            forms.append(form)
            weights.append(z * f)
    for num in ("1", "12", "2008", "3.5", "45", "100"):
        forms.append(num)
        weights.append(0.002)
    weights = np.array(weights) / np.sum(weights)
    return forms, weights


def english_like(n_lines: int, seq_len: int = 32, seed: int = 0, chunk: int = 250_000,
                 words: tuple[int, int] = (2, 12)):
    """uint8 ids [n_lines, seq_len] of English-like lines of ``words[0] .. words[1] - 1`` words
    (cut to ``seq_len``), and the vocabulary (id -> char)."""
    rng = np.random.default_rng(seed)
    forms, weights = _vocab_table(rng)
    chars = sorted(set("".join(forms)) | {" ", PAD})
    vocab = ["<unk>"] + chars
    cid = {c: i for i, c in enumerate(vocab)}
    flat = np.array([cid[c] for f in forms for c in f + " "], dtype=np.uint8)
    lens = np.array([len(f) + 1 for f in forms], dtype=np.int64)
    offs = np.cumsum(lens) - lens
    out = np.full((n_lines, seq_len), cid[PAD], dtype=np.uint8)
    for start in range(0, n_lines, chunk):
        m = min(chunk, n_lines - start)
        nw = rng.integers(*words, size=m)
        words = rng.choice(len(forms), size=int(nw.sum()), p=weights)
        wl = lens[words]
        wstart = np.cumsum(wl) - wl
        stream = flat[np.repeat(offs[words] - wstart, wl) + np.arange(int(wl.sum()))]
        first = np.cumsum(nw) - nw
        lstart = wstart[first]
        lend = np.append(wstart[first[1:]], stream.size) - 1  # drop the trailing space
        llen = np.minimum(lend - lstart, seq_len)
        col = np.arange(seq_len)
        idx = np.minimum(lstart[:, None] + col[None, :], stream.size - 1)
        block = stream[idx]
        block[col[None, :] >= llen[:, None]] = cid[PAD]
        out[start:start + m] = block
    return out, vocab


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _bleu(args: argparse.Namespace) -> dict:
    from textgan.eval.bleu import TEXYGEN_ORDERS, texygen_bleu, texygen_self_bleu
    from textgan.eval.text import decode
    from textgan.eval.words import tokenize

    def words(n: int, seed: int) -> list[list[str]]:
        ids, vocab = english_like(n, seq_len=args.bleu_chars, seed=seed, words=(10, 40))
        return [tokenize(s, PAD) for s in decode(ids, vocab)]

    samples, refs = words(args.samples, args.seed + 5), words(args.bleu_refs, args.seed + 6)
    out: dict = {"samples": len(samples), "references": len(refs),
                 "mean_words": float(np.mean([len(t) for t in samples]))}
    t = time.perf_counter()
    bleu = texygen_bleu(samples, refs, TEXYGEN_ORDERS)
    out["texygen_bleu_seconds"] = time.perf_counter() - t
    t = time.perf_counter()
    self_bleu = texygen_self_bleu(samples, TEXYGEN_ORDERS)
    out["texygen_self_bleu_seconds"] = time.perf_counter() - t
    out["bleu"] = {n: round(v, 5) for n, v in bleu.items()}
    out["self_bleu"] = {n: round(v, 5) for n, v in self_bleu.items()}
    try:
        from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu
    except ImportError:
        return out
    k = min(args.nltk_samples, len(samples))
    weights = [tuple(1.0 / n for _ in range(n)) for n in TEXYGEN_ORDERS]  # one call, all n
    smooth = SmoothingFunction().method1
    t = time.perf_counter()
    nltk_bleu = np.mean([sentence_bleu(refs, h, weights, smoothing_function=smooth)
                         for h in samples[:k]], axis=0)
    spent = time.perf_counter() - t
    out["nltk_bleu_seconds_measured"] = spent
    out["nltk_bleu_seconds_extrapolated"] = spent * len(samples) / k
    t = time.perf_counter()
    for i in range(k):
        sentence_bleu(samples[:i] + samples[i + 1:], samples[i], weights,
                      smoothing_function=smooth)
    spent = time.perf_counter() - t
    out["nltk_self_bleu_seconds_measured"] = spent
    out["nltk_self_bleu_seconds_extrapolated"] = spent * len(samples) / k
    out["nltk_samples"] = k
    # the first k samples' mean, from our implementation, for a direct comparison
    mine = texygen_bleu(samples[:k], refs, TEXYGEN_ORDERS)
    out["max_abs_difference_first_k"] = float(max(abs(mine[n] - v) for n, v in
                                                  zip(TEXYGEN_ORDERS, nltk_bleu, strict=True)))
    return out


def _child(step: str, args: argparse.Namespace) -> dict:
    from textgan.eval import (
        EvalConfig,
        KneserNeyLM,
        ReferenceConfig,
        ReferenceSet,
        evaluate,
        evaluate_js,
    )
    from textgan.eval.ngrams import count_ngrams
    from textgan.eval.text import decode

    out: dict = {"step": step}
    if step in ("refstats", "refset"):
        ids = np.load(args.data, mmap_mode="r")
        vocab = json.loads(open(args.vocab).read())
        t = time.perf_counter()
        if step == "refstats":
            table = count_ngrams(ids, len(vocab), 4)
            out["distinct_ngrams"] = [int(k.size) for k in table.keys]
        else:
            valid, _ = english_like(20_000, seed=args.seed + 1)
            # JS-n statistics of all N training lines (the paper's; the default counts the
            # held-out text)
            ref = ReferenceSet.from_ids(ids, valid, vocab, PAD, ReferenceConfig(js_text="train"))
            ref.save(args.refdir)
        out["lines"] = int(ids.shape[0])
        out["seconds"] = time.perf_counter() - t
    elif step == "score":
        t = time.perf_counter()
        ref = ReferenceSet.load(args.refdir)
        out["load_seconds"] = time.perf_counter() - t
        gen, vocab = english_like(args.samples, seed=args.seed + 2)
        samples = decode(gen, vocab)
        for name, kw in (("js_first_call", {}), ("js_cached_floor", {}),
                         ("js_no_floor", {"floors": False})):
            t = time.perf_counter()
            res = evaluate_js(samples, ref, **kw)
            out[name + "_seconds"] = time.perf_counter() - t
        out["js"] = {k: round(v, 5) for k, v in res.items()}
        t = time.perf_counter()
        full = evaluate(samples, ref, EvalConfig())
        out["evaluate_full_seconds_incl_lm_fit"] = time.perf_counter() - t
        t = time.perf_counter()
        evaluate(samples, ref, EvalConfig())
        out["evaluate_full_seconds_cached"] = time.perf_counter() - t
        out["evaluate"] = {k: round(v, 4) for k, v in full.items()}
        out["samples"] = len(samples)
    elif step == "bleu":
        out.update(_bleu(args))
    elif step == "kn":
        ids, vocab = english_like(args.kn_lines, seed=args.seed + 3)
        held, _ = english_like(10_000, seed=args.seed + 4)
        t = time.perf_counter()
        lm = KneserNeyLM.fit(ids, len(vocab), 6)
        out["fit_seconds"] = time.perf_counter() - t
        t = time.perf_counter()
        out["heldout_bpc"] = lm.cross_entropy(held)
        out["score_10k_lines_seconds"] = time.perf_counter() - t
        out["lines"] = int(ids.shape[0])
        out["ngram_types"] = [int(k.size) for k in lm.keys]
    out["peak_rss_mb"] = _rss_mb()
    out["process_cpu_seconds"] = time.process_time()
    out["load_average_1min"] = os.getloadavg()[0]
    return out


QUESTION = ("How fast, and in how much memory, does textgan.eval build reference statistics, "
            "score samples, fit a Kneser-Ney LM and compute (Self-)BLEU?")


def parser() -> argparse.ArgumentParser:
    from textgan.benchmarking import add_arguments

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(ap, "bench-eval")
    ap.add_argument("--lines", type=int, default=10_000_000, help="reference lines (32 chars)")
    ap.add_argument("--samples", type=int, default=10_000, help="samples to score")
    ap.add_argument("--kn-lines", type=int, default=1_000_000, help="lines for the KN-6 fit")
    ap.add_argument("--bleu-refs", type=int, default=10_000, help="reference lines for bleu")
    ap.add_argument("--bleu-chars", type=int, default=256, help="characters per line for bleu")
    ap.add_argument("--nltk-samples", type=int, default=20,
                    help="samples NLTK's loop scores (timed, then extrapolated)")
    ap.add_argument("--steps", default="refstats,refset,score,kn,bleu")
    ap.add_argument("--json", action="store_true", help="print one JSON object at the end")
    ap.add_argument("--_child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--data", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--vocab", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--refdir", default=None, help=argparse.SUPPRESS)
    return ap


def main(argv: list[str] | None = None) -> None:
    from textgan.benchmarking import write_benchmark_result

    args = parser().parse_args(argv)
    if args._child:
        print(json.dumps(_child(args._child, args)))
        return
    results: dict = {"cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        args.data, args.vocab = os.path.join(tmp, "train.npy"), os.path.join(tmp, "vocab.json")
        args.refdir = os.path.join(tmp, "ref")
        steps = args.steps.split(",")
        if {"refstats", "refset", "score"} & set(steps):
            t = time.perf_counter()
            mm = None
            for start in range(0, args.lines, 1_000_000):
                m = min(1_000_000, args.lines - start)
                block, vocab = english_like(m, seed=args.seed * 1000 + start // 1_000_000)
                if mm is None:
                    mm = np.lib.format.open_memmap(args.data, "w+", np.uint8, (args.lines, 32))
                mm[start:start + m] = block
            mm.flush()
            del mm
            with open(args.vocab, "w") as f:
                json.dump(vocab, f)
            results["generate_seconds"] = time.perf_counter() - t
            if not args.json:
                print(f"generated {args.lines:,} lines in {results['generate_seconds']:.1f} s")
        if "score" in steps and "refset" not in steps:
            steps.insert(steps.index("score"), "refset")
        for step in steps:
            cmd = [sys.executable, os.path.abspath(__file__), "--_child", step, "--data",
                   args.data, "--vocab", args.vocab, "--refdir", args.refdir, "--samples",
                   str(args.samples), "--kn-lines", str(args.kn_lines), "--seed", str(args.seed),
                   "--bleu-refs", str(args.bleu_refs), "--bleu-chars", str(args.bleu_chars),
                   "--nltk-samples", str(args.nltk_samples)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                sys.stderr.write(proc.stderr)
                raise SystemExit(f"step {step} failed")
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            results[step] = res
            if not args.json:
                print(json.dumps(res, indent=1))
    if args.json:
        print(json.dumps(results))
    table = [{"step": step, **{k: v for k, v in res.items()
                               if k.endswith("seconds") or k == "peak_rss_mb"}}
             for step, res in results.items() if isinstance(res, dict)]
    path = write_benchmark_result(args, QUESTION, results, script=__file__, argv=argv,
                                  table=table)
    if not args.json:
        print(f"result: {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
