"""Training memory does not grow with the corpus: peak RSS of a few training steps on a small
prepared corpus and on a ~1 GB one (prints numbers; no assertions).

    python benchmarks/memory_vs_corpus_size.py --prepared DIR [--gb 1.0] [--steps 5]

``DIR`` is any prepared text corpus (``textgan prepare``); it is the small one. The large one is
written next to it in a temporary directory with the same vocabulary and ``--gb`` gigabytes of
random training rows (it stands in for a big prepared corpus: training only ever sees ids), and is
deleted afterwards. Each measurement runs in a fresh subprocess that opens the corpus the way
training does (``PreparedCorpus.open`` → memory-mapped arrays → ``CorpusBatches``) and trains
``--steps`` generator iterations; it reports ``ru_maxrss`` and, from ``/proc/self/status``, the
anonymous (heap) and file-backed (page cache of the memmap) parts of the resident set.

What to read: ``rss_anon_mb`` is what training allocates and must not grow with the corpus. The
file-backed part can: on recent kernels the page cache holds a freshly written file in large
folios and a fault on one row maps the whole folio (up to 2 MB), so a few hundred random rows map
most of a 1 GB file. Those pages are clean page cache, shared and dropped under memory pressure,
not training memory (``MADV_RANDOM`` does not change it; reading rows with ``pread`` instead of a
memmap would).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

CHILD = r"""
import json, resource, sys
import torch
from textgan.core.trainer import TrainConfig, Trainer, seed_everything
from textgan.text.mode import CorpusBatches
from textgan.text.models import build_models
from textgan.text.models import TextModelConfig
from textgan.text.prepare import PreparedCorpus

directory, steps, dim = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(1)
seed_everything(0)
corpus = PreparedCorpus.open(directory)
G, D = build_models(len(corpus.vocab), corpus.seq_len, TextModelConfig(dim=dim))
trainer = Trainer(G, D, CorpusBatches(corpus.train, len(corpus.vocab), 0),
                  TrainConfig(batch_size=64, critic_iters=5), torch.device("cpu"))
for _ in range(steps):
    trainer.train_step()
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
kb = lambda key: int(status[key].split()[0]) / 1024
print(json.dumps({"train_rows": int(corpus.train.shape[0]),
                  "train_bin_mb": round(corpus.train.nbytes / 2**20, 1),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                  "rss_anon_mb": round(kb("RssAnon"), 1), "rss_file_mb": round(kb("RssFile"), 1)}))
"""


def measure(directory: Path, steps: int, dim: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(directory), str(steps), str(dim)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def make_big(small: Path, target: Path, gb: float) -> None:
    meta = json.loads((small / "meta.json").read_text())
    seq_len, dtype = int(meta["seq_len"]), np.dtype(meta["dtype"])
    vocab = len(json.loads((small / "vocab.json").read_text())["vocab"])
    rows = int(gb * 2**30) // (seq_len * dtype.itemsize)
    target.mkdir(parents=True)
    for name in ("vocab.json", "valid.bin"):
        shutil.copy(small / name, target / name)
    rng = np.random.default_rng(0)
    chunk = 1 << 20
    with open(target / "train.bin", "wb") as f:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            f.write(rng.integers(2, vocab, size=(n, seq_len), dtype=dtype).tobytes())
    meta["train_lines"] = rows
    (target / "meta.json").write_text(json.dumps(meta))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--prepared", required=True, type=Path)
    parser.add_argument("--gb", type=float, default=1.0)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--dim", type=int, default=64)
    args = parser.parse_args()
    print(json.dumps({"corpus": "small", **measure(args.prepared, args.steps, args.dim)}), flush=True)
    with tempfile.TemporaryDirectory(dir=args.prepared.parent) as tmp:
        big = Path(tmp) / "big"
        make_big(args.prepared, big, args.gb)
        print(json.dumps({"corpus": "big", **measure(big, args.steps, args.dim)}), flush=True)


if __name__ == "__main__":
    main()
