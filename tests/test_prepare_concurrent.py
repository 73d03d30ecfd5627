"""Two processes preparing the same corpus at once: both get it, neither destroys the other's."""

from __future__ import annotations

import multiprocessing as mp
import os
import queue as queue_module
from pathlib import Path

import numpy as np
import pytest
from filelock import FileLock

from textgan.text.corpora import open_source
from textgan.text.prepare import TextDataConfig, load_corpus, prepared_dir_for


def _prepare(data_dir: str, corpus_path: str, queue: mp.Queue) -> None:
    try:
        corpus = load_corpus(TextDataConfig(corpus="files", corpus_path=corpus_path,
                                            data_dir=data_dir, seq_len=16))
        queue.put(("ok", str(corpus.dir), np.asarray(corpus.train).sum().item()))
    except BaseException as err:  # reported to the parent, which asserts
        queue.put(("error", repr(err), 0))


def _prepare_reporting_the_lock(data_dir: str, corpus_path: str, queue: mp.Queue) -> None:
    """``_prepare`` whose lock tells the parent when it starts waiting and when it got the lock."""
    from textgan.text import prepare

    class ReportingLock(FileLock):
        def acquire(self, *args, **kwargs):
            queue.put(("waiting", "", 0))
            held = super().acquire(*args, **kwargs)
            queue.put(("acquired", "", 0))
            return held

    prepare.FileLock = ReportingLock
    _prepare(data_dir, corpus_path, queue)


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
    # Only the prepared directory remains: no .partial, no lock file.
    assert [p.name for p in data.iterdir()] == [Path(results[0][1]).name]


def test_preparation_waits_for_the_lock_beside_the_prepared_dir(tmp_path: Path):
    text = tmp_path / "corpus.txt"
    text.write_text("the cat sat on the mat\n" * 50)
    data = tmp_path / "data"
    cfg = TextDataConfig(corpus="files", corpus_path=str(text), data_dir=str(data), seq_len=16)
    target = prepared_dir_for(open_source("files", str(text), download_dir=data).name, cfg)
    data.mkdir()
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    with FileLock(target.with_name(target.name + ".lock")):
        child = ctx.Process(target=_prepare_reporting_the_lock, args=(str(data), str(text), queue))
        child.start()
        assert queue.get(timeout=120)[0] == "waiting"  # the child has reached the lock
        # It must block there: a lock that let it through would report within milliseconds.
        with pytest.raises(queue_module.Empty):
            queue.get(timeout=1.0)
        assert not target.exists()
        assert not target.with_name(target.name + ".partial").exists()
    assert queue.get(timeout=120)[0] == "acquired"
    status, directory, _ = queue.get(timeout=120)
    child.join(timeout=30)
    assert child.exitcode == 0 and status == "ok" and directory == str(target)
    assert [p.name for p in data.iterdir()] == [target.name]  # the lock file is removed


def test_failed_preparation_removes_its_partial_while_holding_the_lock(tmp_path: Path, monkeypatch):
    import fcntl
    import shutil

    from textgan.errors import CorpusError
    from textgan.text import prepare

    text = tmp_path / "corpus.txt"
    text.write_bytes(b"fine line\nbad \xff byte\n")
    data = tmp_path / "data"
    data.mkdir()
    states: list[str] = []
    real_rmtree = shutil.rmtree

    def rmtree(path, *args, **kwargs):
        if str(path).endswith(".partial"):
            # A second open file description conflicts with the holder's flock, even in-process.
            fd = os.open(str(path).removesuffix(".partial") + ".lock", os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                states.append("free")
            except BlockingIOError:
                states.append("held")
            finally:
                os.close(fd)
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(prepare.shutil, "rmtree", rmtree)
    with pytest.raises(CorpusError, match="invalid UTF-8"):
        load_corpus(TextDataConfig(corpus="files", corpus_path=str(text), data_dir=str(data)))
    assert states == ["held"]
    assert list(data.iterdir()) == []  # no .partial, no lock file
