"""The library's only way to report progress; the CLI turns the calls into progress bars."""

from __future__ import annotations

from collections.abc import Callable

ProgressFn = Callable[[str, int, int | None], None]
"""``progress(description, completed, total_or_None)``."""
