"""A warm launcher for the kill -9 tests: one interpreter imports torch once, then forks each
process a test kills, so that a random kill moment lands in textgan's work rather than in the
seconds a fresh interpreter spends importing torch.

Run as a script it serves requests, one JSON object a line on stdin, one answer a line on stdout:

* ``{"cmd": "run", "argv": [...], "cwd": DIR, "log": FILE}`` forks ``textgan ARGV`` → ``{"pid": N}``
* ``{"cmd": "call", "function": NAME, "cwd": DIR, "log": FILE}`` forks a function of this module
* ``{"cmd": "wait", "pid": N}`` → ``{"signal": S or null, "code": C or null}``

Each forked child runs in ``cwd`` with stdout and stderr going to ``log``. Imported,
:class:`Launcher` is the test's side of the protocol.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path


class Launcher:
    """Forks ``textgan`` CLI processes from a warm interpreter; each is a real, killable process."""

    def __init__(self, cwd: Path) -> None:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        self.proc = subprocess.Popen([sys.executable, __file__], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, cwd=cwd, env=env)
        assert self._read() == {"ready": True}

    def _read(self) -> dict:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line, "launcher died"
        return json.loads(line)

    def _send(self, req: dict) -> dict:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def start(self, argv: list[str], cwd: Path, log: Path) -> int:
        """Start ``textgan ARGV`` in ``cwd``, stdout and stderr to ``log``; returns its pid."""
        return self._send({"cmd": "run", "argv": argv, "cwd": str(cwd), "log": str(log)})["pid"]

    def start_call(self, function: str, cwd: Path, log: Path) -> int:
        """Start ``function()`` (one of this module's) in ``cwd``; returns its pid."""
        return self._send({"cmd": "call", "function": function, "cwd": str(cwd),
                           "log": str(log)})["pid"]

    def kill_when(self, pid: int, ready: Callable[[], bool], timeout: float = 120.0) -> dict:
        """SIGKILL ``pid`` as soon as ``ready()`` is true (polled every millisecond)."""
        deadline = time.monotonic() + timeout
        while not ready():
            assert time.monotonic() < deadline, "the moment to kill never came"
            time.sleep(0.001)
        os.kill(pid, signal.SIGKILL)
        return self.wait(pid)

    def wait(self, pid: int) -> dict:
        return self._send({"cmd": "wait", "pid": pid})

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


# -- functions a "call" request runs -------------------------------------------------------------

def save_big_checkpoint() -> None:
    """Save step 2 (small), mark it, then step 4 (~96 MB, so that its write takes a while)."""
    import torch

    from textgan.core.checkpoint import CheckpointStore

    store = CheckpointStore("ck", keep=3)
    big = {"w": torch.arange(24_000_000, dtype=torch.float32)}
    store.save(2, {"w": torch.ones(3)})
    Path("saved_2").touch()
    store.save(4, big)


# -- the launcher process ------------------------------------------------------------------------

def _child(req: dict, run_cli: Callable[[list[str]], None]) -> None:
    """The forked child: run the request with its output in the log, then exit with its code."""
    code = 99
    try:
        os.chdir(req["cwd"])
        fd = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        try:
            if req["cmd"] == "call":
                globals()[req["function"]]()
            else:
                run_cli(req["argv"])
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
    os._exit(code)


def serve() -> None:
    import torch
    import torch._dynamo  # noqa: F401  (the optimiser imports dynamo lazily: do it once, here)

    from textgan.cli.main import main  # the `textgan` console script itself

    torch.set_num_threads(1)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        if req["cmd"] in ("run", "call"):
            pid = os.fork()
            if pid == 0:
                _child(req, main)
            print(json.dumps({"pid": pid}), flush=True)
        elif req["cmd"] == "wait":
            _, status = os.waitpid(req["pid"], 0)
            print(json.dumps({"signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
                              "code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None}),
                  flush=True)


if __name__ == "__main__":
    serve()
