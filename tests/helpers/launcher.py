"""A warm launcher: one interpreter imports torch and textgan's commands once, then forks each
``textgan`` process a test starts. A fresh interpreter spends seconds importing torch (and
torch._dynamo, which torch's optimisers import on first use): the kill -9 tests want their random
kill moments in textgan's work rather than in ``import torch``, and the guides' commands
(tests/test_readme_commands.py) would spend most of their minutes importing. A child starts from
the imported state only (the launcher itself runs nothing), so commands cannot see each other's
state, as with one process each.

Run as a script it serves requests, one JSON object a line on stdin, one answer a line on stdout:

* ``{"cmd": "run", "argv": [...], "cwd": DIR, "log": FILE}`` forks ``textgan ARGV`` → ``{"pid": N}``
* ``{"cmd": "call", "function": NAME, ...}`` forks a function of this module
* ``{"cmd": "python", "program": TEXT, ...}`` forks a Python program (as ``python -c``)
* ``{"cmd": "wait", "pid": N}`` → ``{"signal": S or null, "code": C or null}``

Each forked child runs in ``cwd`` with stdout and stderr going to ``log``, or to ``stdout`` and
``stderr`` when the request names two files. Imported, :class:`Launcher` is the test's side of
the protocol.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path


class Launcher:
    """Forks ``textgan`` CLI processes from a warm interpreter; each is a real, killable process."""

    def __init__(self, cwd: Path, env: dict[str, str] | None = None) -> None:
        env = {**(env or os.environ), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
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

    def run(self, argv: list[str], cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
        """Run ``textgan ARGV`` in ``cwd`` to its end, as ``subprocess.run`` with its output
        captured would; a run past ``timeout`` seconds is killed (SIGALRM)."""
        return self._complete({"cmd": "run", "argv": argv}, ["textgan", *argv], cwd, timeout)

    def python(self, program: str, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
        """Run a Python program in ``cwd`` to its end, as ``python -c PROGRAM`` would."""
        return self._complete({"cmd": "python", "program": program},
                              [sys.executable, "-c", program], cwd, timeout)

    def _complete(self, req: dict, args: list[str], cwd: Path,
                  timeout: int) -> subprocess.CompletedProcess:
        with tempfile.TemporaryDirectory() as scratch:
            out, err = Path(scratch) / "stdout", Path(scratch) / "stderr"
            pid = self._send({**req, "cwd": str(cwd), "stdout": str(out), "stderr": str(err),
                              "timeout": timeout})["pid"]
            status = self.wait(pid)
            code = status["code"] if status["signal"] is None else -status["signal"]
            return subprocess.CompletedProcess(args, code, out.read_text(errors="replace"),
                                               err.read_text(errors="replace"))

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
    """The forked child: run the request with its output in the log (or the two files), then
    exit with its code as the ``textgan`` console script does (``end_process``: without tearing
    down the imported modules, which would also copy the launcher's memory page by page)."""
    code = 99
    try:
        signal.alarm(req.get("timeout", 0))  # a process that hangs is killed, not waited for
        os.chdir(req["cwd"])
        for fd, name in ((1, "stdout"), (2, "stderr")):
            target = os.open(req.get(name, req.get("log")), os.O_WRONLY | os.O_CREAT | os.O_TRUNC
                             | (os.O_APPEND if "log" in req else 0), 0o644)
            os.dup2(target, fd)
            os.close(target)
        nothing = os.open(os.devnull, os.O_RDONLY)
        os.dup2(nothing, 0)  # not the launcher's requests
        os.close(nothing)
        try:
            if req["cmd"] == "call":
                globals()[req["function"]]()
            elif req["cmd"] == "python":
                sys.argv = ["-c"]
                exec(compile(req["program"], "<string>", "exec"), {"__name__": "__main__"})
            else:
                sys.argv = ["textgan", *req["argv"]]
                run_cli(req["argv"])
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        from textgan.cli.main import end_process

        end_process(code)
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
    os._exit(code)


def serve() -> None:
    import torch
    import torch._dynamo  # noqa: F401  (the optimiser imports dynamo lazily: do it once, here)

    from textgan.cli.app import COMMANDS
    from textgan.cli.main import main  # the `textgan` console script itself

    for module, _ in COMMANDS.values():  # what `textgan COMMAND` imports on first use
        __import__(module)
    torch.set_num_threads(1)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        if req["cmd"] in ("run", "call", "python"):
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
