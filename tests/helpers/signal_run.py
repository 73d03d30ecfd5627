"""Start a real `textgan train` in a subprocess, wait until it has logged a few steps, signal it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path


def train_then_signal(argv: list[str], out: Path, cwd: Path, sig: int,
                      env: dict[str, str] | None = None, steps_logged: int = 3) -> tuple[int, str]:
    """Run ``textgan ARGV`` (training into ``out``) until ``metrics.jsonl`` has
    ``steps_logged`` lines, send ``sig``, and return (exit code, stderr)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "textgan.cli.main", *argv], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metrics = out / "metrics.jsonl"
    deadline = time.monotonic() + 120
    while not (metrics.exists() and len(metrics.read_text().splitlines()) >= steps_logged):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "training did not start"
        time.sleep(0.1)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err
