"""Ctrl-C and SIGTERM to a real `textgan train`: the step in progress is finished and saved."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest
from helpers.signal_run import train_then_signal

from textgan.core.checkpoint import CheckpointStore, load_checkpoint


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_checkpoints_the_current_step_and_exits_cleanly(tmp_path: Path, sig: int):
    corpus = tmp_path / "c.txt"
    corpus.write_text("\n".join(f"line {i} of a small corpus ." for i in range(400)) + "\n")
    out = tmp_path / "run"
    argv = ["train", "--corpus-path", str(corpus), "--data-dir", str(tmp_path / "data"),
            "--out", str(out), "--steps", "100000", "--dim", "8", "--batch-size", "4",
            "--seq-len", "8", "--eval-every", "0", "--sample-every", "0",
            "--checkpoint-every", "100000", "--device", "cpu"]
    returncode, err = train_then_signal(argv, out, tmp_path, sig)
    assert returncode == 0, err
    last_step = json.loads((out / "metrics.jsonl").read_text().splitlines()[-1])["step"]
    assert last_step >= 3
    paths = CheckpointStore(out / "checkpoints").paths()
    assert len(paths) == 1 and load_checkpoint(paths[0])["step"] == last_step
    assert f"stopped at step {last_step}" in err and "--resume" in err
    assert "Traceback" not in err
