"""The one place textgan draws with matplotlib (a dependency, imported only here and only when a
figure is drawn: the commands that draw nothing start without it).

Every figure is a :class:`matplotlib.figure.Figure` on its own Agg canvas: no pyplot and no
``matplotlib.use``, so importing or calling textgan never changes the backend or the global figure
list of the program around it (a notebook, a GUI). matplotlib is imported only when a figure is
made, and its absence (a broken install) is one line saying what to install.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textgan.errors import TextganError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

INSTALL_HINT = "pip install matplotlib (a dependency of textgan: reinstall it)"


def require_matplotlib(what: str = "plotting", hint: str = "") -> None:
    """Raise a one-line error (``{what} needs matplotlib: pip install ...{hint}``) unless
    matplotlib is installed; call it before any work that would end in a figure."""
    try:
        import matplotlib.backends.backend_agg  # noqa: F401
        import matplotlib.figure  # noqa: F401
    except ImportError:
        raise TextganError(f"{what} needs matplotlib: {INSTALL_HINT}{hint}") from None


def new_figure(**figure_kwargs: Any) -> Figure:
    """A Figure (``Figure(**figure_kwargs)``) attached to a private Agg canvas."""
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(**figure_kwargs)
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Figure, path: str | Path, dpi: float | None = None) -> Path:
    """Render ``fig`` as PNG and write it to ``path`` atomically (a reader never sees half a file);
    ``dpi`` defaults to the figure's own."""
    # Imported here: core.checkpoint loads torch, which textgan.eval (a user of this module) avoids.
    from textgan.io.atomic import atomic_write_bytes

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi="figure" if dpi is None else dpi)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, lambda f: f.write(buffer.getvalue()))
    return path


def cycle_color(index: int) -> str:
    """matplotlib's ``C0``..``C9`` colour cycle, wrapping: one colour per run in overlays."""
    return f"C{index % 10}"


def color_hex(color: str) -> str:
    """``#rrggbb`` of any matplotlib colour spec (e.g. ``C1``), for HTML next to the plots."""
    require_matplotlib()
    from matplotlib import colors

    return str(colors.to_hex(color))
