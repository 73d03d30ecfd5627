"""Checkpoints written by older code keep working: sample from them, resume their runs.

The fixtures in tests/fixtures/legacy/ were trained by tests/fixtures/make_legacy_checkpoints.py at
the commit named in expected.json, which also records what that code answered. Everything here goes
through the command line, as a user would, on a copy (sampling and resuming write into the run).
"""

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from test_image_data import write_idx_dir

from textgan.cli.main import run

LEGACY = Path(__file__).parent / "fixtures" / "legacy"
EXPECTED = json.loads((LEGACY / "expected.json").read_text())
MODES = ["text", "text-sentencepiece", "toy", "image"]
TEXT = ["text", "text-sentencepiece"]


def copy_run(name: str, tmp_path: Path) -> tuple[Path, Path]:
    """(run directory, its checkpoint) of fixture ``name``, copied under ``tmp_path``."""
    target = tmp_path / name
    shutil.copytree(LEGACY / name, target)
    return target, tmp_path / EXPECTED[name]["checkpoint"]


def png_pixel_digest(path: Path) -> str:
    """As make_legacy_checkpoints.py computes it: the decoded pixels, not the file's bytes."""
    image = pytest.importorskip("PIL.Image")
    with image.open(path) as im:
        return hashlib.sha256(im.mode.encode() + repr(im.size).encode() + im.tobytes()).hexdigest()


def test_fixtures_are_complete_and_small():
    assert EXPECTED["written_by_commit"] and set(MODES) <= set(EXPECTED)
    for name in MODES:
        assert (LEGACY / name / "config.toml").is_file()
        assert (LEGACY / EXPECTED[name]["checkpoint"]).is_file()
    assert all(p.stat().st_size < 100_000 for p in LEGACY.rglob("*") if p.is_file())


@pytest.mark.parametrize("name", TEXT)
def test_text_samples_are_the_ones_recorded(name, tmp_path, capsys):
    run_dir, checkpoint = copy_run(name, tmp_path)
    for case in EXPECTED[name]["samples"]:
        capsys.readouterr()
        assert run(["sample", "--checkpoint", str(checkpoint), "--device", "cpu", *case["args"]]) == 0
        assert capsys.readouterr().out.splitlines() == case["lines"]
    # --run finds the same checkpoint through the run directory (footer check, newest first).
    first = EXPECTED[name]["samples"][0]
    assert run(["sample", "--run", str(run_dir), "--device", "cpu", *first["args"]]) == 0
    assert capsys.readouterr().out.splitlines() == first["lines"]


def test_image_samples_are_the_ones_recorded(tmp_path):
    _, checkpoint = copy_run("image", tmp_path)
    for case in EXPECTED["image"]["samples"]:
        out = tmp_path / "grid.png"
        assert run(["sample", "--checkpoint", str(checkpoint), "--device", "cpu", "--out", str(out),
                    *case["args"]]) == 0
        assert png_pixel_digest(out) == case["pixels_sha256"]


def test_toy_sample_draws_a_plot(tmp_path, capsys):
    # The plot is matplotlib's drawing (not pinned); the generator's values are checked by the
    # resume test below, whose step-3 metrics include the generated points' SWD and mode coverage.
    image = pytest.importorskip("PIL.Image")
    _, checkpoint = copy_run("toy", tmp_path)
    out = tmp_path / "toy.png"
    assert run(["sample", "--checkpoint", str(checkpoint), "--device", "cpu", "--out", str(out),
                *EXPECTED["toy"]["samples"][0]["args"]]) == 0
    assert "(step 2)" in capsys.readouterr().err
    with image.open(out) as im:
        assert im.format == "PNG" and min(im.size) > 100


@pytest.mark.parametrize("name", MODES)
def test_resume_continues_exactly(name, tmp_path, monkeypatch):
    """The fixtures name their data relatively (data/, mnist/): resume from where they lie."""
    run_dir, _ = copy_run(name, tmp_path)
    monkeypatch.chdir(tmp_path)
    if name == "image":
        write_idx_dir(tmp_path / "mnist", n_train=12, n_test=6)  # as the fixture was trained on
    assert run(["train", "--resume", "--out", name, "--steps", "3"]) == 0
    assert (run_dir / "checkpoints" / "step_00000003.pt").is_file()
    records = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3]
    # Weights, both optimisers and every RNG came back: step 3 is the step the old code took.
    expected = EXPECTED[name]["resume_step3"]
    assert {k: records[2][k] for k in expected} == pytest.approx(expected, rel=1e-4, abs=1e-6)
