"""How long do the commands a user types first take to start, and where does the time go?

    python benchmarks/startup.py --repeats 10 --name startup
    python benchmarks/startup.py --run runs/text-XXXX --repeats 10

Times ``textgan --help`` and ``textgan sample -n 5`` on a run (``--run``, default a one-step
cpu-preset run made in a temporary directory on ``--corpus``), each as ``python -m
textgan.cli.main ...`` (what the ``textgan`` console script runs; a pyenv shim in front of it
adds its own ~0.1 s): the wall and CPU time of every repetition, the medians and the minimum,
the heavy packages each command imported, and the slowest imports (cumulative) of one ``-X
importtime`` run. The targets: --help <= 1.5 s, sample -n 5 <= 2.5 s. Writes
``<out>/<name>.json``: one row per command.
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

from textgan.benchmarking import add_arguments, write_benchmark_result

QUESTION = ("How long do `textgan --help` and `textgan sample -n 5` take to start, and which "
            "imports cost the time?")
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


def make_run(root: Path, corpus: str, data_dir: str) -> Path:
    """A cpu-preset run of one step on ``corpus``, prepared under ``data_dir``."""
    from textgan.benchmarking import configure
    from textgan.training import start_training

    config = configure("cpu", train={"steps": 1, "device": "cpu", "sample_every": 0,
                                     "eval_every": 0}, data={"corpus": corpus,
                                                             "data_dir": data_dir})
    session = start_training(config, out=root / "run")
    for _ in session.events():
        pass
    return session.run.dir


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(p, "startup")
    p.add_argument("--run", help="A run to sample from [default: make a tiny one].")
    p.add_argument("--corpus", default="synthetic",
                   help="The tiny run's corpus: text file(s) or a corpus name [default: "
                        "synthetic].")
    p.add_argument("--data-dir", default="data",
                   help="Where the tiny run's corpus is prepared [default: data].")
    p.add_argument("--repeats", type=int, default=5, help="Repetitions of each command.")
    p.add_argument("--top", type=int, default=12, help="Slowest imports kept.")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    env_threads = os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    rows = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = str(Path(args.data_dir).resolve())
        corpus = str(Path(args.corpus).resolve()) if Path(args.corpus).exists() else args.corpus
        run = Path(args.run).resolve() if args.run else make_run(Path(tmp), corpus, data_dir)
        cases = {"--help": ["--help"],
                 "sample -n 5": ["sample", "-n", "5", "--run", str(run), "--seed", "0"]}
        for name, cmd in cases.items():
            times, cpus = timings(cmd, args.repeats, Path(tmp))
            top, heavy = import_profile(cmd, Path(tmp), args.top)
            rows.append({"command": f"textgan {name}", "wall_median_s": statistics.median(times),
                         "wall_min_s": min(times), "cpu_median_s": statistics.median(cpus),
                         "target_s": TARGETS[name], "heavy_imports": heavy,
                         "wall_s": [round(t, 3) for t in times],
                         "cpu_s": [round(t, 3) for t in cpus],
                         "slowest_imports": [{"module": m, "cumulative_s": round(t, 3)}
                                             for t, m in top]})
            print(f"textgan {name}: wall median {rows[-1]['wall_median_s']:.2f} s, min "
                  f"{rows[-1]['wall_min_s']:.2f} s (target <= {TARGETS[name]} s); CPU median "
                  f"{rows[-1]['cpu_median_s']:.2f} s; heavy imports: {', '.join(heavy) or 'none'}")
    table = [{k: v for k, v in row.items() if not isinstance(v, list)} for row in rows]
    path = write_benchmark_result(
        args, QUESTION, rows, script=__file__, argv=argv, table=table,
        extra={"python": sys.version.split()[0], "repeats": args.repeats,
               "omp_num_threads": env_threads,
               "load_avg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)]})
    print(f"result: {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
