"""Two processes preparing the same corpus at once: both get it, neither destroys the other's."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from pathlib import Path

import numpy as np

from textgan.core.filelock import exclusive
from textgan.text.prepare import TextDataConfig, load_corpus


def _prepare(data_dir: str, corpus_path: str, queue: mp.Queue) -> None:
    try:
        corpus = load_corpus(TextDataConfig(corpus="files", corpus_path=corpus_path,
                                            data_dir=data_dir, seq_len=16))
        queue.put(("ok", str(corpus.dir), np.asarray(corpus.train).sum().item()))
    except BaseException as err:  # reported to the parent, which asserts
        queue.put(("error", repr(err), 0))


def test_two_processes_prepare_the_same_corpus(tmp_path: Path):
    text = tmp_path / "corpus.txt"
    rng = np.random.default_rng(0)
    words = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran"]
    text.write_text("\n".join(" ".join(rng.choice(words, 6)) for _ in range(60_000)) + "\n")
    data = tmp_path / "data"
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_prepare, args=(str(data), str(text), queue)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert [r[0] for r in results] == ["ok", "ok"], results
    assert results[0][1:] == results[1][1:]  # the same directory and the same ids
    names = sorted(p.name for p in data.iterdir())
    assert len(names) == 1 and not names[0].endswith((".partial", ".lock")), names


def test_lock_excludes_and_leaves_no_file(tmp_path: Path):
    lock = tmp_path / "x.lock"
    ctx = mp.get_context("spawn")
    with exclusive(lock):
        assert lock.exists()
        child = ctx.Process(target=_hold, args=(str(lock), str(tmp_path / "child-done")))
        child.start()
        time.sleep(1.0)
        assert not (tmp_path / "child-done").exists()  # still waiting for us
    child.join(timeout=30)
    assert child.exitcode == 0
    assert (tmp_path / "child-done").exists()
    assert not lock.exists()


def _hold(lock: str, done: str) -> None:
    with exclusive(Path(lock)):
        Path(done).write_text(str(os.getpid()))
