"""How long the commands a user types first take to start: `textgan --help` and
`textgan sample -n 5` on a prepared run, and where the time goes (``python -X importtime``).

    python benchmarks/startup.py                       # makes a tiny cpu-preset run in a temp dir
    python benchmarks/startup.py --run runs/text-XXXX --repeats 10

Each command runs as ``python -m textgan.cli.main ...`` (what the ``textgan`` console script
runs; a pyenv shim in front of it adds its own ~0.1 s). Prints the wall and CPU time of every
repetition, the medians and the minimum, the heavy packages each command imported, and the slowest imports
(cumulative) of one ``-X importtime`` run. The targets (issue 14): --help <= 1.5 s, sample -n 5
<= 2.5 s.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("torch", "numpy", "datasets", "matplotlib", "sentencepiece", "huggingface_hub",
         "safetensors", "pyarrow", "pandas", "jinja2", "scipy")
TARGETS = {"--help": 1.5, "sample -n 5": 2.5}


def command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "textgan.cli.main", *args]


def timings(args: list[str], repeats: int, cwd: Path) -> tuple[list[float], list[float]]:
    """(wall seconds, CPU seconds: user + system) of each run. CPU time is what a busy machine
    inflates least."""
    walls, cpus = [], []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(command(args), cwd=cwd, capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed: {done.stderr.strip()}")
    return walls, cpus


def import_profile(args: list[str], cwd: Path, top: int) -> tuple[list[tuple[float, str]], list[str]]:
    """(the ``top`` slowest imports by cumulative seconds, the heavy packages imported)."""
    done = subprocess.run([sys.executable, "-X", "importtime", *command(args)[1:]], cwd=cwd,
                          capture_output=True, text=True)
    rows = []
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            rows.append((int(m[1]) / 1e6, len(m[2]), m[3]))
    heavy = sorted({name for _, _, name in rows if name in HEAVY})
    outermost = sorted(((s, name) for s, depth, name in rows if depth <= 3), reverse=True)
    return outermost[:top], heavy


def make_run(root: Path) -> Path:
    """A cpu-preset (DIM 64) run of one step on the synthetic corpus, prepared under ``root``."""
    run = root / "run"
    subprocess.run(command(["train", "--steps", "1", "--out", str(run), "--data-dir",
                            str(root / "data"), "--sample-every", "0", "--eval-every", "0"]),
                   check=True, capture_output=True)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", help="A prepared run to sample from [default: make a tiny one].")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--top", type=int, default=12, help="Slowest imports shown.")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(args.run).resolve() if args.run else make_run(Path(tmp))
        cases = {"--help": ["--help"],
                 "sample -n 5": ["sample", "-n", "5", "--run", str(run), "--seed", "0"]}
        print(f"python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.2f}, "
              f"{args.repeats} repetitions each")
        for name, cmd in cases.items():
            times, cpus = timings(cmd, args.repeats, Path(tmp))
            top, heavy = import_profile(cmd, Path(tmp), args.top)
            print(f"\ntextgan {name}: wall median {statistics.median(times):.2f} s, min "
                  f"{min(times):.2f} s (target <= {TARGETS[name]} s); CPU median "
                  f"{statistics.median(cpus):.2f} s")
            print("  wall: " + " ".join(f"{t:.2f}" for t in times))
            print("  CPU:  " + " ".join(f"{t:.2f}" for t in cpus))
            print(f"  heavy packages imported: {', '.join(heavy) or 'none'}")
            print("  slowest imports (cumulative s):")
            for seconds, module in top:
                print(f"    {seconds:6.3f}  {module}")
        print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
