"""`textgan train` under torchrun: 2 CPU ranks (gloo), the real CLI in subprocesses.

One run directory, metrics and checkpoints written once (by rank 0), every rank ending with the
checkpoint's parameters, --resume continuing the job, and failures (on rank 0 or another rank)
ending every rank with one line instead of a hang. Each launch starts two Python processes that
import torch, so the models are tiny and the launches few.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from textgan.core.checkpoint import load_checkpoint

ROOT = Path(__file__).resolve().parents[1]
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
TINY = ["--dim", "16", "--seq-len", "16", "--batch-size", "4", "--critic-iters", "2",
        "--eval-every", "0", "--device", "cpu"]
TIMEOUT = 240  # seconds per launch; the machine is shared, a launch normally takes ~10 s


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), **extra}


def torchrun(cwd: Path, *args: str, script: str | None = None,
             **extra_env: str) -> subprocess.CompletedProcess[str]:
    target = [script] if script else ["-m", "textgan.cli.main"]
    return subprocess.run([*TORCHRUN, *target, "train", *args], cwd=cwd, env=env(**extra_env),
                          capture_output=True, text=True, timeout=TIMEOUT)


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    words = ["the", "cat", "dog", "sat", "on", "a", "mat", "runs", "."]
    lines = [" ".join(words[(i * 7 + j * 3) % len(words)] for j in range(4 + i % 3))
             for i in range(300)]
    path = tmp_path / "text.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def steps_logged(run: Path) -> list[int]:
    return [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]


def assert_ranks_hold(checkpoint: Path, dumps: Path) -> None:
    """Both ranks ended with exactly the parameters rank 0 checkpointed."""
    state = load_checkpoint(checkpoint)
    for rank in (0, 1):
        held = torch.load(dumps / f"rank{rank}.pt", weights_only=True)
        for model in ("generator", "critic"):
            assert held[model].keys() == state[model].keys()
            for key, value in held[model].items():
                assert torch.equal(value, state[model][key]), (rank, model, key)


def worker_tracebacks(stderr: str) -> list[str]:
    """Traceback frames from textgan's own code (torchrun's launcher prints its own, not ours)."""
    return [line for line in stderr.splitlines()
            if re.search(r'File ".*[/\\](textgan|cli)[/\\]', line)]


def test_train_then_resume_under_torchrun(tmp_path: Path, corpus: Path) -> None:
    common = ["--data-dir", "data", "--runs-dir", "runs"]
    (tmp_path / "dump1").mkdir()
    # A constant rate: the preset's linear decay is sized to --steps, so resuming to another step
    # count would change the rates of steps 3-4 that are compared below.
    first = torchrun(tmp_path, "--corpus-path", str(corpus), *common, "--steps", "4",
                     "--checkpoint-every", "2", "--sample-every", "2", "--lr-schedule", "constant",
                     *TINY,
                     TEXTGAN_DEBUG_RANK_STATE_DIR=str(tmp_path / "dump1"))
    assert first.returncode == 0, first.stderr
    runs = list((tmp_path / "runs").iterdir())
    assert len(runs) == 1  # rank 0 named it, the other rank used that name
    run = runs[0]
    assert (run / "config.toml").is_file()
    assert steps_logged(run) == [1, 2, 3, 4]  # once per step, not once per rank
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == [
        "step_00000002.pt", "step_00000004.pt"]
    assert sorted(p.name for p in (run / "samples").iterdir()) == [
        "step_00000002.txt", "step_00000004.txt"]
    assert first.stderr.count("run: ") == 1  # only rank 0 prints
    assert "2 ranks × batch 4 = 8 samples per step" in first.stderr
    assert_ranks_hold(run / "checkpoints" / "step_00000004.pt", tmp_path / "dump1")
    state = load_checkpoint(run / "checkpoints" / "step_00000004.pt")
    assert state["world_size"] == 2 and len(state["rank_rng"]) == 2

    # Resume from step 2 (the step-4 checkpoint set aside), to a new step count. No --out: rank 0
    # finds the latest run and every rank loads the checkpoint it chose.
    straight = tmp_path / "straight_step4.pt"
    (run / "checkpoints" / "step_00000004.pt").rename(straight)
    (tmp_path / "dump2").mkdir()
    second = torchrun(tmp_path, "--resume", *common, "--steps", "5",
                      TEXTGAN_DEBUG_RANK_STATE_DIR=str(tmp_path / "dump2"))
    assert second.returncode == 0, second.stderr
    assert "resumed from" in second.stderr and "(step 2)" in second.stderr
    assert steps_logged(run) == [1, 2, 3, 4, 5]
    assert_ranks_hold(run / "checkpoints" / "step_00000005.pt", tmp_path / "dump2")
    # Every rank's RNG was checkpointed: steps 3-4 again are bit-identical to the first time.
    again, before = load_checkpoint(run / "checkpoints" / "step_00000004.pt"), load_checkpoint(straight)
    for model in ("generator", "critic"):
        for key, value in before[model].items():
            assert torch.equal(again[model][key], value), (model, key)


def test_error_on_rank_0_is_one_line_and_ends_every_rank(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_text("")
    result = torchrun(tmp_path, "--corpus-path", "empty.txt", "--data-dir", "data",
                      "--runs-dir", "runs", "--steps", "4", *TINY)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "no non-empty lines" in errors[0], result.stderr
    assert not worker_tracebacks(result.stderr), result.stderr
    assert not (tmp_path / "runs").exists()  # a failed start leaves nothing


FAIL_ON_RANK_1 = """
import os
import textgan.text.mode as mode
from textgan.errors import CorpusError

if os.environ["RANK"] == "1":
    def build(*args, **kwargs):
        raise CorpusError("rank one cannot read its corpus")
    mode.TextMode.build = build

from textgan.cli.main import main
main()
"""


def test_error_on_another_rank_is_reported_once_by_rank_0(tmp_path: Path, corpus: Path) -> None:
    script = tmp_path / "fail_on_rank_1.py"
    script.write_text(FAIL_ON_RANK_1)
    result = torchrun(tmp_path, "--corpus-path", str(corpus), "--data-dir", "data",
                      "--out", "run", "--steps", "4", *TINY, script=str(script))
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == ["error: rank 1: rank one cannot read its corpus"], result.stderr
    assert not worker_tracebacks(result.stderr), result.stderr
    assert not (tmp_path / "run").exists()  # rank 0 removed the run it had started


def test_sigterm_checkpoints_the_current_step_and_stops_every_rank(tmp_path: Path,
                                                                   corpus: Path) -> None:
    run = tmp_path / "run"
    log = tmp_path / "stderr.txt"
    with log.open("w") as err:  # a file, not a pipe nobody reads while training runs
        proc = subprocess.Popen(
            [*TORCHRUN, "-m", "textgan.cli.main", "train", "--corpus-path", str(corpus), "--data-dir",
             "data", "--out", "run", "--steps", "100000", "--checkpoint-every", "100000",
             "--sample-every", "0", *TINY],
            cwd=tmp_path, env=env(), stdout=subprocess.DEVNULL, stderr=err)
        try:
            deadline = time.monotonic() + TIMEOUT
            while not ((run / "metrics.jsonl").is_file() and len(steps_logged(run)) >= 2):
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "training did not start"
                time.sleep(0.2)
            proc.send_signal(signal.SIGTERM)  # to torchrun, which passes it on to both ranks
            proc.wait(timeout=TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    stderr = log.read_text()
    last = steps_logged(run)[-1]
    assert f"stopped at step {last};" in stderr, stderr
    assert [p.name for p in (run / "checkpoints").iterdir()] == [f"step_{last:08d}.pt"]
    assert not worker_tracebacks(stderr), stderr
