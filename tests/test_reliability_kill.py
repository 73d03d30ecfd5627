"""Kill -9 at random moments, resume each time: nothing beyond one checkpoint interval is lost and
the final state is bit-identical to an uninterrupted run with the same seed.

Every attempt is a real ``textgan train`` process (the CLI entry point, ``textgan.cli.main.main``) that is
SIGKILLed; to keep 20+ process starts affordable, a launcher process (tests/helpers/launcher.py)
imports torch once and ``fork``s each attempt from that warm state (a fresh interpreter costs
seconds of import time, which would put most random kill moments inside ``import torch``).
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import time
from pathlib import Path

import pytest
import torch
from helpers.launcher import Launcher

from textgan.core.checkpoint import CheckpointStore, load_checkpoint
from textgan.core.run import Run


def write_corpus(path: Path, n: int = 3000) -> Path:
    rng = random.Random(7)
    words = "the a cat dog sat on mat ran far quick brown fox jumps over lazy river stone".split()
    path.write_text("".join(" ".join(rng.choice(words) for _ in range(rng.randint(2, 8))) + "\n"
                            for _ in range(n)))
    return path


STEPS, EVERY, KILLS = 80, 2, 20
TENSOR_KEYS = ("generator", "critic", "opt_g", "opt_d", "rng", "data", "trainer_step", "step")


def train_argv(corpus: Path, data: Path, out: Path) -> list[str]:
    return ["train", "--corpus-path", str(corpus), "--data-dir", str(data), "--out", str(out),
            "--steps", str(STEPS), "--dim", "8", "--seq-len", "16", "--critic-iters", "2",
            "--batch-size", "8", "--checkpoint-every", str(EVERY), "--sample-every", "0",
            "--eval-every", "0", "--device", "cpu", "--seed", "3"]


def assert_same(a, b, where: str = "") -> None:
    """Exact equality of nested checkpoint content (tensors via torch.equal)."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            assert_same(a[k], b[k], f"{where}/{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    else:
        assert a == b, where


def losses(run_dir: Path) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "sec_per_step"} for r in Run(run_dir).read_metrics()]


@pytest.fixture(scope="module")
def launcher(tmp_path_factory):
    launcher = Launcher(tmp_path_factory.mktemp("launcher"))
    yield launcher
    launcher.close()


def complete_checkpoints(directory: Path) -> None:
    """Every file under a checkpoint's final name is whole: kill -9 never leaves a torn one."""
    for path in CheckpointStore(directory).paths():
        load_checkpoint(path)


@pytest.mark.slow
def test_kill_9_at_random_moments_then_resume_is_bit_identical(tmp_path, launcher):
    corpus = write_corpus(tmp_path / "corpus.txt")
    # The uninterrupted reference run (same seed, same thread count, same entry point).
    ref = tmp_path / "ref"
    started = time.monotonic()
    pid = launcher.start(train_argv(corpus, tmp_path / "data_ref", ref), tmp_path,
                         tmp_path / "ref.log")
    assert launcher.wait(pid) == {"signal": None, "code": 0}, (tmp_path / "ref.log").read_text()
    t_ref = time.monotonic() - started

    out, data = tmp_path / "run", tmp_path / "data"
    rng = random.Random(20240601)
    kills, resumes, confirmed, phases, lost_steps = 0, 0, 0, {}, []
    previous_resume_step = 0
    fastest = STEPS / t_ref  # steps per second: the fastest rate seen so far
    attempt = 0
    while True:
        attempt += 1
        log = tmp_path / f"attempt{attempt}.log"
        # Re-run exactly what a user would: --resume once the run exists, else the command.
        argv = (["train", "--resume", "--out", str(out)] if Run(out).exists()
                else train_argv(corpus, data, out))
        resumes += argv[1] == "--resume"
        pid = launcher.start(argv, tmp_path, log)
        delay = 0.0
        if kills < KILLS:
            # A random moment anywhere from start-up to well into training, but well before
            # the rest of the run could finish even at the fastest rate seen (the machine's
            # load changes), so that every attempt is killed.
            left = STEPS - previous_resume_step
            delay = rng.uniform(0.0, min(t_ref / 8, 0.5 * left / fastest))
            time.sleep(delay)
            os.kill(pid, signal.SIGKILL)
        status = launcher.wait(pid)
        text = log.read_text(errors="replace")
        assert "Traceback" not in text and "error:" not in text, text
        for match in re.finditer(r"resumed from \S+ \(step (\d+)\)", text):
            assert int(match.group(1)) == previous_resume_step  # what the last check predicted
            confirmed += 1
        if status["signal"] is None:
            assert status["code"] == 0, text
            break
        assert status["signal"] == signal.SIGKILL
        kills += 1
        # Where did the kill land?
        ckpt_dir = out / "checkpoints"
        if any(p.name.endswith(".partial") for p in data.glob("*")):
            phase = "preparing corpus"
        elif not Run(out).exists():
            phase = "before the run existed"
        elif ckpt_dir.is_dir() and any(".tmp-" in p.name for p in ckpt_dir.iterdir()):
            phase = "writing a checkpoint"
        else:
            phase = "building or training"
        phases[phase] = phases.get(phase, 0) + 1
        if ckpt_dir.is_dir():
            complete_checkpoints(ckpt_dir)
        # Always resumable: the newest checkpoint loads; at most one interval is lost.
        if Run(out).exists():
            point = CheckpointStore(ckpt_dir).latest()
            resume_step = 0 if point is None else point.state["step"]
            logged = max((r["step"] for r in Run(out).read_metrics()), default=0)
            assert resume_step >= previous_resume_step  # nothing saved is ever lost
            assert logged - resume_step <= EVERY, (logged, resume_step)
            lost_steps.append(max(0, logged - resume_step))
            if delay > 0:
                fastest = max(fastest, (logged - previous_resume_step) / delay)
            previous_resume_step = resume_step

    assert kills == KILLS
    final_ref = load_checkpoint(ref / "checkpoints" / f"step_{STEPS:08d}.pt")
    final = load_checkpoint(out / "checkpoints" / f"step_{STEPS:08d}.pt")
    for key in TENSOR_KEYS:
        assert_same(final[key], final_ref[key], key)
    # The metrics log has each step exactly once, with the uninterrupted run's exact values.
    assert [r["step"] for r in Run(out).read_metrics()] == list(range(1, STEPS + 1))
    assert losses(out) == losses(ref)
    assert not [p for p in (out / "checkpoints").iterdir() if ".tmp-" in p.name]
    assert not list(data.glob("*.partial"))
    print(f"\nkill -9: {kills} kills, {resumes} resumes ({confirmed} confirmed by the CLI's "
          f"'resumed from' line), phases {phases}, steps lost per kill max "
          f"{max(lost_steps, default=0)} (interval {EVERY}), reference run {t_ref:.1f}s")


def test_kill_9_in_the_middle_of_writing_a_checkpoint(tmp_path, launcher):
    """Killed while the bytes of step 4 are being written: step 2 stays whole and loadable, and
    no file named like a checkpoint is ever torn (the temporary file is cleaned up next time)."""
    ck = tmp_path / "ck"
    pid = launcher.start_call("save_big_checkpoint", tmp_path, tmp_path / "save.log")

    def writing_step_4() -> bool:
        if not (tmp_path / "saved_2").exists():
            return False
        names = [p.name for p in ck.iterdir()]
        return any("step_00000004" in n for n in names)

    status = launcher.kill_when(pid, writing_step_4)
    assert status["signal"] == signal.SIGKILL, (tmp_path / "save.log").read_text()
    store = CheckpointStore(ck)
    complete_checkpoints(ck)  # step_00000004.pt is absent or whole, never torn
    assert [p.name for p in store.paths()] == ["step_00000002.pt"]
    assert torch.equal(store.latest().state["w"], torch.ones(3))
    store.save(6, {"w": torch.zeros(1)})
    assert sorted(p.name for p in ck.iterdir()) == ["step_00000002.pt", "step_00000006.pt"]


def prepared_dirs(data: Path) -> list[Path]:
    return sorted(p for p in data.iterdir() if p.is_dir() and p.name != "downloads")


def test_kill_9_while_preparing_the_corpus_then_train_and_resume(tmp_path, launcher):
    """Preparation killed twice (by `prepare`, then by `train`): nothing half-prepared is ever
    under a final name, the run killed during its preparation resumes, and the corpus it finally
    trains on is byte-identical to a clean preparation."""
    corpus = write_corpus(tmp_path / "big.txt", n=150_000)
    data, clean = tmp_path / "data", tmp_path / "clean"
    prepare = ["prepare", "--corpus-path", str(corpus), "--seq-len", "16"]

    def encoding() -> bool:  # the arrays are being written
        return data.is_dir() and any((p / "train.bin").exists() for p in data.glob("*.partial"))

    pid = launcher.start([*prepare, "--data-dir", str(data)], tmp_path, tmp_path / "prep.log")
    assert launcher.kill_when(pid, encoding)["signal"] == signal.SIGKILL
    assert [p.suffix for p in prepared_dirs(data)] == [".partial"]  # only the partial one

    out = tmp_path / "run"
    argv = train_argv(corpus, data, out)
    argv[argv.index("--steps") + 1] = "2"

    def preparing() -> bool:
        return any(p.suffix == ".partial" for p in prepared_dirs(data)) and Run(out).exists()

    pid = launcher.start(argv, tmp_path, tmp_path / "train.log")
    assert launcher.kill_when(pid, preparing)["signal"] == signal.SIGKILL
    assert not [p for p in prepared_dirs(data) if p.suffix != ".partial"]
    pid = launcher.start(["train", "--resume", "--out", str(out)], tmp_path, tmp_path / "resume.log")
    log = (tmp_path / "resume.log").read_text
    assert launcher.wait(pid) == {"signal": None, "code": 0}, log()
    assert "starting from step 0" in log() and "done: step 2" in log()
    [prepared] = prepared_dirs(data)

    pid = launcher.start([*prepare, "--data-dir", str(clean)], tmp_path, tmp_path / "clean.log")
    assert launcher.wait(pid) == {"signal": None, "code": 0}
    [reference] = prepared_dirs(clean)
    assert prepared.name == reference.name
    for name in ("train.bin", "valid.bin", "vocab.json"):
        assert (prepared / name).read_bytes() == (reference / name).read_bytes(), name
    meta, meta_ref = (json.loads((d / "meta.json").read_text()) for d in (prepared, reference))
    for volatile in ("seconds", "created"):
        meta.pop(volatile), meta_ref.pop(volatile)
    assert meta == meta_ref
