"""`textgan bench`: time generator iterations of textgan and of the straightforward reference."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from textgan.bench import BenchConfig, run_bench
from textgan.cli.app import app, console, echo, say


@app.command()
def bench(
    dim: int = typer.Option(128, help="Channels of the generator and critic (paper: 512)."),
    batch_size: int = typer.Option(64, help="Batch size."),
    critic_iters: int = typer.Option(10, help="Critic updates per generator iteration."),
    seq_len: int = typer.Option(32, help="Characters per sample."),
    vocab: int = typer.Option(100, help="Vocabulary size of the synthetic data."),
    precision: str = typer.Option("fp32", help="fp32 or bf16 (autocast) for textgan's step; the "
                                  "reference is always fp32."),
    critic_batching: str = typer.Option("separate", help="separate or joint (real and fake in "
                                        "one critic pass)."),
    variant: list[str] = typer.Option([], help="Also time textgan with this change, in the same "
                                      "run: bf16, fp32, joint, separate, bf16-joint (repeatable)."),
    device: str = typer.Option("cpu", help="cpu, cuda, cuda:N or auto."),
    repeats: int = typer.Option(5, help="Timed generator iterations per implementation."),
    warmup: int = typer.Option(1, help="Untimed iterations first."),
    threads: int = typer.Option(None, help="torch intra-op threads [default: torch's]."),
    reference: bool = typer.Option(True, help="Also time benchmarks/reference_wgan_gp.py."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object on stdout."),
) -> None:
    """Seconds per generator iteration, counted GFLOP, achieved GFLOP/s, matmul peak, peak RSS."""
    cfg = BenchConfig(dim=dim, batch_size=batch_size, critic_iters=critic_iters, seq_len=seq_len,
                      vocab=vocab, precision=precision, critic_batching=critic_batching,  # type: ignore[arg-type]
                      device=device, repeats=repeats, warmup=warmup, threads=threads,
                      reference=reference, variants=list(variant))
    cfg.validate()
    with console.status("benchmarking") as status:
        result = run_bench(cfg, progress=lambda message: status.update(message))
    for note in result["notes"]:
        say(note)
    if as_json:
        echo(json.dumps(result))
        return
    table = Table(title=f"DIM {dim}, batch {batch_size}, {critic_iters} critic steps, seq {seq_len}, "
                  f"vocab {vocab}, {result['device']}, {result['threads']} threads")
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
