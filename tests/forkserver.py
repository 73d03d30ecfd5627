"""Run many ``textgan`` command lines, each in a process of its own, without paying for the
imports each time.

A fresh ``textgan train`` spends most of a two-step run importing torch (and torch._dynamo,
which torch's optimisers import on first use): seconds per command, minutes over the guides'
commands. This server is a Python process that imports the command line and torch once, then
forks one child per request. A child starts from the imported state only (the server itself runs
nothing), changes to the request's directory, sends its stdout and stderr to files and runs the
command line as the ``textgan`` console script does (``textgan.cli.main.run``) or a Python
program, and exits with its code. Commands therefore cannot see each other's state, as with one
process each; only the import is shared.

Protocol: one JSON request a line on stdin, ``{"argv": [...], "cwd": ...}`` or
``{"python": "...", "cwd": ...}``; one JSON answer a line on stdout,
``{"returncode": int, "stdout": str, "stderr": str}``.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from pathlib import Path
from typing import Any

TIMEOUT = 900  # seconds a command may take


def _child(request: dict[str, Any], out: str, err: str) -> int:
    signal.alarm(TIMEOUT)  # a command that hangs is killed (SIGALRM), not waited for
    os.chdir(request["cwd"])
    for fd, path in ((1, out), (2, err)):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(target, fd)
        os.close(target)
    nothing = os.open(os.devnull, os.O_RDONLY)
    os.dup2(nothing, 0)  # not the server's requests
    os.close(nothing)
    try:
        if "python" in request:
            sys.argv = ["-c"]
            exec(compile(request["python"], "<program>", "exec"), {"__name__": "__main__"})
            return 0
        from textgan.cli.main import run

        sys.argv = ["textgan", *request["argv"]]
        return run(request["argv"])
    except SystemExit as done:
        code = done.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except BaseException:
        traceback.print_exc()
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def _exit(code: int) -> None:
    """End the child as a process ends (its threads joined, atexit handlers run, output
    flushed) but without tearing down the imported modules: that touches every object of the
    server's memory, copying it page by page, seconds a command."""
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def serve() -> None:
    import torch
    import torch._dynamo  # noqa: F401  (torch's optimisers import it on first use)

    import textgan.cli.main  # noqa: F401
    from textgan.cli.app import COMMANDS

    for module, _ in COMMANDS.values():
        __import__(module)
    del torch
    answers = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        scratch = Path(tempfile.mkdtemp())
        out, err = scratch / "out", scratch / "err"
        pid = os.fork()
        if pid == 0:
            _exit(_child(request, str(out), str(err)))
        _, status = os.waitpid(pid, 0)
        answer = {"returncode": os.waitstatus_to_exitcode(status),
                  "stdout": out.read_text(errors="replace") if out.exists() else "",
                  "stderr": err.read_text(errors="replace") if err.exists() else ""}
        shutil.rmtree(scratch)
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


class ForkServer:
    """The server as the tests see it: ``run(argv, cwd)`` → a CompletedProcess."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen([sys.executable, __file__], env=env, text=True,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def _ask(self, request: dict[str, Any], args: Any) -> subprocess.CompletedProcess:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, "the fork server died"
        answer = json.loads(line)
        return subprocess.CompletedProcess(args, answer["returncode"], answer["stdout"],
                                           answer["stderr"])

    def run(self, argv: list[str], cwd: Path) -> subprocess.CompletedProcess:
        return self._ask({"argv": argv, "cwd": str(cwd)}, ["textgan", *argv])

    def python(self, program: str, cwd: Path) -> subprocess.CompletedProcess:
        return self._ask({"python": program, "cwd": str(cwd)}, [sys.executable, "-c", program])

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    serve()
