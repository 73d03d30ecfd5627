"""textgan.plots: the one matplotlib entry point, which leaves matplotlib's global state alone."""

import subprocess
import sys

import pytest

from textgan.errors import TextganError
from textgan.plots import new_figure, require_matplotlib, save_png

# Draws each kind of figure textgan makes, then checks pyplot was never imported and the backend
# setting is what it was (a notebook or GUI program keeps its own).
DRAW_EVERYTHING = r"""
import sys
import matplotlib
import numpy as np

backend = dict.__getitem__(matplotlib.rcParams, "backend")
out = sys.argv[1]
from textgan.eval.sweep import SweepPoint, SweepResult, plot_quality_diversity
from textgan.report import write_report
from textgan.core.run import Run
from textgan.toy.plots import plot_toy

plot_quality_diversity(SweepResult([SweepPoint(1.0, 2.0, 3.0, 10)], 1.5, 2.5, 10, 4), out + "/qd.png")
points = np.zeros((4, 2))
plot_toy(out + "/toy.png", points, points, None, "t")
run = Run(out + "/run")
run.write_config({"mode": "text"})
run.log_metrics({"step": 1, "critic_loss": 1.0})
write_report([run.dir])
assert "matplotlib.pyplot" not in sys.modules
assert dict.__getitem__(matplotlib.rcParams, "backend") == backend
"""


def test_drawing_leaves_matplotlib_global_state_alone(tmp_path):
    result = subprocess.run([sys.executable, "-c", DRAW_EVERYTHING, str(tmp_path)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "qd.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "run" / "report" / "critic_loss.png").is_file()


def test_save_png_is_atomic_and_makes_parents(tmp_path):
    fig = new_figure(figsize=(2, 2), dpi=50)
    fig.add_subplot().plot([0, 1], [1, 0])
    path = save_png(fig, tmp_path / "a" / "b.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in path.parent.iterdir()] == ["b.png"]  # no temporary file left


def test_missing_matplotlib_is_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(TextganError) as e:
        require_matplotlib("thing", hint="; or not")
    assert str(e.value) == ("thing needs matplotlib: pip install matplotlib (a dependency of "
                            "textgan: reinstall it); or not")
    with pytest.raises(TextganError, match="needs matplotlib"):
        new_figure()
