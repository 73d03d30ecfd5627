"""`textgan report`: plots and one HTML page for a run, or several runs overlaid."""

from __future__ import annotations

import typer

from textgan.cli.app import app, echo, say
from textgan.report import write_report


@app.command()
def report(
    runs: list[str] = typer.Argument(..., help="Run directory; give several to overlay them."),
    out: str = typer.Option(None, "--out", "-o", help="Output directory [default: RUN/report, "
                            "or RUN_A/report-vs-RUN_B for several runs]."),
    samples: int = typer.Option(6, help="How many points of training to show samples from."),
    lines: int = typer.Option(8, help="Sample lines shown per point (the rest fold away)."),
) -> None:
    """Write PNG plots of a run's metrics and an HTML page with them and its samples."""
    if samples < 1 or lines < 1:
        raise typer.BadParameter("--samples and --lines must be at least 1")
    result = write_report(runs, out, sample_points=samples, sample_lines=lines)
    for note in result.notes:
        say(note)
    say(f"wrote {len(result.images)} plot(s) and the page:")
    echo(str(result.html))
