"""TensorBoard logging of every metric a run logs (optional: ``pip install 'textgan[tensorboard]'``).

:class:`TensorBoardSink` is a :class:`~textgan.core.loop.MetricsSink`: the loop hands it each
record right after appending it to ``metrics.jsonl``, and it writes one scalar per key, tagged with
the key's name, at the record's step, into ``<run>/tensorboard/``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from textgan.core.run import Run
from textgan.errors import TextganError

DIRNAME = "tensorboard"
INSTALL_HINT = "pip install 'textgan[tensorboard]'"


def require_tensorboard() -> None:
    """A one-line :class:`TextganError` when the optional package is missing."""
    try:
        import tensorboard  # noqa: F401
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError:
        raise TextganError(f"TensorBoard logging needs the tensorboard package: {INSTALL_HINT}") \
            from None


def _scalars(record: dict[str, Any]) -> dict[str, float]:
    """The numeric entries of a record (``step`` excluded; null — a non-finite value — kept as NaN)."""
    out = {}
    for key, value in record.items():
        if key == "step" or isinstance(value, bool):
            continue
        if value is None:
            out[key] = math.nan
        elif isinstance(value, int | float):
            out[key] = float(value)
    return out


class TensorBoardSink:
    """Writes each logged record as scalars ``key -> value`` at its step."""

    def __init__(self, logdir: str | Path, purge_step: int | None = None) -> None:
        require_tensorboard()
        from torch.utils.tensorboard import SummaryWriter

        self.logdir = Path(logdir)
        # purge_step hides events at or after it that an interrupted process wrote past the checkpoint
        # a resumed run restarts from (they are redone, as metrics.jsonl's are).
        self.writer = SummaryWriter(log_dir=str(self.logdir), purge_step=purge_step, flush_secs=10)

    @classmethod
    def for_run(cls, run: Run, start_step: int = 0) -> TensorBoardSink:
        """The sink of ``run`` continuing at ``start_step``.

        A run that was trained without TensorBoard so far first gets its existing log copied in,
        so TensorBoard always shows the whole run.
        """
        logdir = run.dir / DIRNAME
        fresh = not any(logdir.glob("events.out.tfevents.*"))
        sink = cls(logdir, purge_step=None if fresh or start_step == 0 else start_step + 1)
        if fresh:
            for record in run.read_metrics():
                if isinstance(record.get("step"), int) and record["step"] <= start_step:
                    sink.write(record["step"], record)
        return sink

    def write(self, step: int, metrics: dict[str, Any]) -> None:
        for key, value in _scalars(metrics).items():
            self.writer.add_scalar(key, value, global_step=step)

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


def read_scalars(logdir: str | Path) -> dict[str, list[tuple[int, float]]]:
    """``tag -> [(step, value), ...]`` from the event files in ``logdir`` (for tests and tools)."""
    require_tensorboard()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(logdir), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}
