"""Does training memory grow with the corpus?

    python benchmarks/memory_vs_corpus_size.py --gb 1.0 --steps 5 --name memory-vs-corpus-size

Peak resident set of a few training steps on a small prepared corpus (``--corpus``, default the
synthetic one) and on a large one of ``--gb`` gigabytes. The large one is the small one's
prepared directory, copied into a temporary data directory with its training rows replaced by
``--gb`` GB of random ids over the same vocabulary (training only ever sees ids), so that
``textgan.training`` opens it exactly as it opens the small one (memory-mapped arrays →
``CorpusBatches``); it is deleted afterwards. Each measurement runs in a fresh subprocess that
trains ``--steps`` generator iterations of the cpu preset (``--dim`` wide) and reports
``ru_maxrss`` and, from ``/proc/self/status``, the anonymous (heap) and file-backed (page cache
of the memmap) parts of the resident set.

What to read: ``rss_anon_mb`` is what training allocates and must not grow with the corpus. The
file-backed part can: on recent kernels the page cache holds a freshly written file in large
folios and a fault on one row maps the whole folio (up to 2 MB), so a few hundred random rows map
most of a 1 GB file. Those pages are clean page cache, shared and dropped under memory pressure,
not training memory (``MADV_RANDOM`` does not change it; reading rows with ``pread`` instead of a
memmap would).

Writes ``<out>/<name>.json``: one row per corpus (``small``, ``big``).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from textgan.benchmarking import (
    add_arguments,
    add_corpus_arguments,
    configure,
    corpus_label,
    data_settings,
    write_benchmark_result,
)

QUESTION = ("Does the memory training allocates grow with the size of the prepared corpus "
            "(a small one against one of --gb gigabytes)?")


def child(args: argparse.Namespace) -> dict[str, Any]:
    """In the measuring subprocess: train ``--steps`` steps on the corpus under ``--data-dir``."""
    import torch

    from textgan.training import start_training

    torch.set_num_threads(args.threads)
    config = configure("cpu", train={"steps": args.steps, "seed": args.seed, "device": "cpu",
                                     "threads": args.threads, "eval_every": 0, "sample_every": 0},
                       data=data_settings(args), model={"dim": args.dim})
    session = start_training(config, out=args.run)
    for _ in session.events():
        pass
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines()
                  if ":" in line)

    def mb(key: str) -> float:
        return round(int(status[key].split()[0]) / 1024, 1)

    corpus_dir = Path(session.setup.extra_state["corpus_dir"])
    return {"train_rows": int(json.loads((corpus_dir / "meta.json").read_text())["train_lines"]),
            "train_bin_mb": round((corpus_dir / "train.bin").stat().st_size / 2**20, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "rss_anon_mb": mb("RssAnon"), "rss_file_mb": mb("RssFile"),
            "steps": session.trainer.step,
            "corpus_dir": corpus_dir.name}


def measure(args: argparse.Namespace, data_dir: Path, run: Path) -> dict[str, Any]:
    """One measurement in a fresh process (its peak RSS is its own)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--corpus", args.corpus,
               "--data-dir", str(data_dir), "--steps", str(args.steps), "--dim", str(args.dim),
               "--threads", str(args.threads), "--seed", str(args.seed), "--run", str(run)]
    if args.valid:
        command += ["--valid", args.valid]
    if args.seq_len:
        command += ["--seq-len", str(args.seq_len)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"measuring {data_dir} failed:\n{done.stderr.strip()}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def make_big(small: Path, target: Path, gb: float) -> int:
    """``small`` (a prepared corpus directory) copied to ``target`` with ``gb`` GB of random
    training rows; the number of rows."""
    meta = json.loads((small / "meta.json").read_text())
    seq_len, dtype = int(meta["seq_len"]), np.dtype(meta["dtype"])
    shutil.copytree(small, target, ignore=shutil.ignore_patterns("train.bin", "meta.json"))
    vocab = len(json.loads((small / "vocab.json").read_text())["vocab"])
    rows = max(1, int(gb * 2**30) // (seq_len * dtype.itemsize))
    rng = np.random.default_rng(0)
    chunk = 1 << 20
    with open(target / "train.bin", "wb") as f:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            f.write(rng.integers(2, vocab, size=(n, seq_len), dtype=dtype).tobytes())
    meta["train_lines"] = rows
    (target / "meta.json").write_text(json.dumps(meta))  # last: the directory is complete
    return rows


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(p, "memory-vs-corpus-size")
    add_corpus_arguments(p)
    p.add_argument("--gb", type=float, default=1.0, help="Size of the large corpus in GB.")
    p.add_argument("--steps", type=int, default=5, help="Training steps per measurement.")
    p.add_argument("--dim", type=int, default=None, help="Model width [default: the preset's].")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--run", default=None, help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.child:
        print(json.dumps(child(args)))
        return
    args.dim = args.dim or configure("cpu").model.dim
    rows = []
    with tempfile.TemporaryDirectory(prefix="textgan-memory-") as tmp:
        small = measure(args, Path(args.data_dir), Path(tmp) / "run-small")
        rows.append({"corpus": "small", **small})
        print(json.dumps(rows[-1]), flush=True)
        big_data = Path(tmp) / "data"
        make_big(Path(args.data_dir) / small["corpus_dir"], big_data / small["corpus_dir"],
                 args.gb)
        rows.append({"corpus": "big", **measure(args, big_data, Path(tmp) / "run-big")})
        print(json.dumps(rows[-1]), flush=True)
    path = write_benchmark_result(args, QUESTION, rows, script=__file__, argv=argv,
                                  extra={"source": corpus_label(args), "gb": args.gb})
    print(f"result: {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
