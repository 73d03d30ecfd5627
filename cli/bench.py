"""`textgan bench`: time generator iterations of textgan and of the straightforward reference."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.table import Table

from textgan.bench import BenchConfig, run_bench
from textgan.cli.app import app, console, echo, say
from textgan.cli.flags import flags_for, with_flags
from textgan.config import apply_overrides


@app.command()
@with_flags(flags_for("bench", BenchConfig))
def bench(
    settings: dict[str, dict[str, Any]],
    *,
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Seconds per generator iteration, counted GFLOP, achieved GFLOP/s, matmul peak, peak RSS."""
    cfg = apply_overrides(BenchConfig(), settings["bench"], "bench")
    with console.status("benchmarking") as status:
        result = run_bench(cfg, progress=lambda message: status.update(message))
    for note in result["notes"]:
        say(note)
    if as_json:
        echo(json.dumps(result))
        return
    table = Table(title=f"DIM {cfg.dim}, batch {cfg.batch_size}, {cfg.critic_iters} critic steps, "
                  f"seq {cfg.seq_len}, vocab {cfg.vocab}, {result['device']}, "
                  f"{result['threads']} threads")
    for column in ("run", "prec", "s/iter", "GFLOP", "GFLOP/s", "%peak", "RSS MB", "vs ref"):
        table.add_column(column, justify="left" if column == "run" else "right", no_wrap=True)
    speedups = result.get("speedup_vs_reference", {})
    for name, res in result["implementations"].items():
        table.add_row(name, res["precision"], f"{res['s_per_gen_iter']:.3f}",
                      f"{res['gflop_per_gen_iter']:.1f}", f"{res['gflops']:.1f}",
                      f"{100 * res['fraction_of_matmul_peak']:.0f}%",
                      "-" if res["peak_rss_mb"] is None else f"{res['peak_rss_mb']:.0f}",
                      f"{speedups[name]:.2f}x" if name in speedups else "")
    console.print(table)
    peaks = ", ".join(f"{p} {v:.1f}" for p, v in result["matmul_peak_gflops"].items())
    say(f"matmul peak GFLOP/s on {result['device']}: {peaks}; load average "
        f"{result['load_avg_1min'][0]:.1f} -> {result['load_avg_1min'][1]:.1f}")
