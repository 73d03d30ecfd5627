"""Entry point of the ``textgan`` command: every user error becomes one line and a non-zero exit."""

from __future__ import annotations

import atexit
import os
import sys
import threading

import typer

from textgan.cli.app import app  # commands are imported when used (see LazyCommands)
from textgan.errors import TextganError

try:  # recent typer vendors its own click; older ones use the click package
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover
    from click import exceptions as click_exceptions

EXIT = tuple({typer.Exit, getattr(click_exceptions, "Exit", typer.Exit)})
ABORT = tuple({typer.Abort, getattr(click_exceptions, "Abort", typer.Abort)})
NO_ARGS_IS_HELP = getattr(click_exceptions, "NoArgsIsHelpError", ())


def run(argv: list[str]) -> int:
    """Run the command line ``argv``; return the exit code (what ``textgan`` exits with).

    Under torchrun only rank 0 reports what every rank knows (usage and user errors, which the
    ranks agree on, and interruptions); another rank reports only its own machine errors.
    """
    rank = _torchrun_rank()

    def tell(line: str, everywhere: bool = False) -> None:
        if rank == 0:
            sys.stderr.write(line + "\n")
        elif everywhere:
            sys.stderr.write(line.replace("error: ", f"error: rank {rank}: ", 1) + "\n")

    try:
        app(args=argv, prog_name="textgan", standalone_mode=False)
    except EXIT as done:
        return int(done.exit_code or 0)
    except NO_ARGS_IS_HELP as err:  # `textgan` or `textgan eval` alone: the help, as it is
        if rank == 0:
            sys.stderr.write(err.format_message() + "\n")
        return 2
    except click_exceptions.UsageError as err:
        path = err.ctx.command_path if err.ctx else "textgan"
        where = "textgan " + path.split(" ", 1)[1] if " " in path else "textgan"
        tell(f"error: {_one_line(err.format_message())} (see `{where} --help`)")
        return 2
    except ABORT:
        tell("aborted")
        return 130
    except TextganError as err:
        tell(f"error: {_one_line(str(err))}")
        return 1
    except KeyboardInterrupt:
        tell("interrupted")
        return 130
    except BrokenPipeError:  # `textgan sample | head`
        return 0
    except OSError as err:  # the machine, not textgan: disk full, permissions, ...
        where = f" ({err.filename})" if err.filename else ""
        tell(f"error: {_one_line(err.strerror or str(err))}{where}", everywhere=True)
        return 1
    return 0


def _torchrun_rank() -> int:
    """This process's rank in a torchrun job (0 outside one)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return 0
    return int(os.environ.get("RANK", "0"))


def main(argv: list[str] | None = None) -> None:
    """Run the command line (``sys.argv`` by default) and exit with its code (SystemExit)."""
    sys.exit(run(sys.argv[1:] if argv is None else argv))


def script() -> None:
    """The ``textgan`` console script: :func:`run`, then the end of the process.

    It ends as Python ends a process (non-daemon threads joined, atexit handlers run, output
    flushed) but skips the teardown of the imported modules that follows: with torch imported
    that teardown walks every module object and costs most of a CPU-second per command, and
    nothing of textgan's waits on it (files it writes are closed where they are written).
    """
    end_process(run(sys.argv[1:]))


def end_process(code: int) -> None:
    """Exit with ``code`` as Python ends a process, without the module teardown (see
    :func:`script`)."""
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:  # `textgan sample | head`: the reader has gone, as run() allows
        pass
    os._exit(code)


def _one_line(message: str) -> str:
    """Errors are one line on stderr, whatever the message."""
    return " ".join(part.strip() for part in message.splitlines() if part.strip())


if __name__ == "__main__":
    script()
