"""One result format: a measured number carries its provenance.

A result is a JSON file ``<dir>/<name>.json`` holding the numbers and how they were obtained —
the command, the git commit, the date, the CPU model and its instruction-set flags, the thread
count, the torch version and the device — with a short Markdown table beside it
(``<name>.md``) for a reader. Benchmarks, studies and quality experiments all write it; docs and
preset comments cite the file instead of pasting numbers.

    {"name": ..., "question": ..., "command": ..., "commit": ..., "date": ...,
     "cpu": ..., "cpu_flags": [...], "threads": ..., "torch": ..., "device": ...,
     "results": {...} or [...], "notes": ...}
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import re
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from textgan.io.atomic import atomic_write_text

#: The fields every result file carries, in the order they are written.
PROVENANCE_FIELDS = ("name", "question", "command", "commit", "date", "cpu", "cpu_flags", "threads",
                     "torch", "device")

# Instruction-set flags that decide CPU speed for torch (matmul kernels, bf16).
_INTERESTING_FLAGS = ("avx", "avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16",
                      "amx_bf16", "amx_tile", "neon", "asimd", "sve")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def cpu_model() -> str:
    """The CPU's model name as the OS reports it (``/proc/cpuinfo`` on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "cpu model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def cpu_flags() -> list[str]:
    """The speed-relevant instruction-set flags this CPU has (AVX2, AVX-512, bf16, ...)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    present: set[str] = set()
    for line in text.splitlines():
        if line.lower().startswith(("flags", "features")):
            present.update(line.split(":", 1)[1].split())
    return [f for f in _INTERESTING_FLAGS if f in present]


def git_commit(repo: str | Path | None = None) -> str | None:
    """The checkout's commit, with ``+dirty`` when it has uncommitted changes; None outside git."""
    cwd = Path(repo) if repo is not None else Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True,
                              text=True, timeout=10)
        if head.returncode != 0:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd,
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def provenance(name: str, question: str, command: str | Sequence[str] | None = None,
               threads: int | None = None, device: str = "cpu") -> dict[str, Any]:
    """The provenance fields of a measurement taken now, in this process.

    ``command`` defaults to this process's own command line; ``threads`` to torch's intra-op
    thread count.
    """
    import torch  # a result is a torch measurement; importing late keeps `import textgan` light

    if command is None:
        command = [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv and sys.argv[0] else []
    if not isinstance(command, str):
        command = shlex.join(command)
    return {
        "name": name,
        "question": question,
        "command": command,
        "commit": git_commit(),
        "date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "cpu": cpu_model(),
        "cpu_flags": cpu_flags(),
        "threads": int(threads if threads is not None else torch.get_num_threads()),
        "torch": torch.__version__,
        "device": device,
    }


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if value is None:
        return "—"
    return str(value)


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None) -> str:
    """A Markdown table of ``rows`` (dicts), columns in first-seen order unless given."""
    if not rows:
        return ""
    if columns is None:
        columns = list(dict.fromkeys(k for row in rows for k in row))
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(c)) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def render_markdown(result: Mapping[str, Any], table: Sequence[Mapping[str, Any]] | None = None) -> str:
    """The short Markdown page written beside a result file: the question, a table, provenance."""
    out = [f"# {result['name']}", "", str(result.get("question", "")), ""]
    if table is None:
        res = result.get("results")
        if isinstance(res, list) and res and all(isinstance(r, Mapping) for r in res):
            table = res
        elif isinstance(res, Mapping):
            table = [{"metric": k, "value": v} for k, v in res.items()
                     if not isinstance(v, (Mapping, list))]
    if table:
        out += [markdown_table(table), ""]
    if result.get("notes"):
        out += [str(result["notes"]), ""]
    flags = ", ".join(result.get("cpu_flags") or []) or "unknown"
    out += [
        f"Command: `{result.get('command')}`  ",
        f"Commit {result.get('commit')}, {result.get('date')}; {result.get('cpu')} ({flags}); "
        f"{result.get('threads')} thread(s); torch {result.get('torch')}; device {result.get('device')}.",
        "",
    ]
    return "\n".join(out)


def write_result(directory: str | Path, name: str, question: str, results: Any, *,
                 command: str | Sequence[str] | None = None, threads: int | None = None,
                 device: str = "cpu", notes: str | None = None,
                 table: Sequence[Mapping[str, Any]] | None = None,
                 extra: Mapping[str, Any] | None = None) -> Path:
    """Write ``<directory>/<name>.json`` (numbers + provenance) and ``<name>.md``; return the JSON path.

    ``results`` is any JSON-serialisable value (a list of row dicts renders as the Markdown
    table; pass ``table`` to choose other rows). ``extra`` adds fields (e.g. a study's space).
    """
    if not _NAME.match(name):
        raise ValueError(f"result name {name!r} must be letters, digits, '.', '_' or '-'")
    record = provenance(name, question, command=command, threads=threads, device=device)
    if extra:
        record.update({k: v for k, v in extra.items() if k not in record})
    record["results"] = results
    if notes:
        record["notes"] = notes
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    atomic_write_text(path, json.dumps(record, indent=2, ensure_ascii=False, allow_nan=True) + "\n")
    atomic_write_text(directory / f"{name}.md", render_markdown(record, table))
    return path


def read_result(path: str | Path) -> dict[str, Any]:
    """Read a result file; ValueError if it lacks a provenance field."""
    record = json.loads(Path(path).read_text(encoding="utf-8"))
    missing = [f for f in PROVENANCE_FIELDS if f not in record] + (
        [] if "results" in record else ["results"])
    if missing:
        raise ValueError(f"{path}: not a result file (missing {', '.join(missing)})")
    return record


def default_results_dir() -> Path:
    """``$TEXTGAN_RESULTS`` or ``results/`` in the working directory."""
    return Path(os.environ.get("TEXTGAN_RESULTS", "results"))
