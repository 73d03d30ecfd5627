"""Packaging: the repository's cli/ folder installs as ``textgan.cli``, never as a top-level ``cli``
package (which would collide with any other of that name), in a wheel and in an editable install;
the console script and ``python -m textgan.cli.main`` start the same command.

The wheels are built through hatchling's PEP 517 hooks (what pip calls), in-process: no download.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
DIST_INFO = f"textgan-{PYPROJECT['project']['version']}.dist-info"


def test_console_script_target_is_in_the_textgan_package() -> None:
    module, function = PYPROJECT["project"]["scripts"]["textgan"].split(":")
    assert module == "textgan.cli.main"
    assert callable(getattr(importlib.import_module(module), function))


def test_checkout_cli_folder_is_textgan_cli() -> None:
    """In the repository (editable install, PYTHONPATH) textgan.cli is the cli/ folder itself."""
    import textgan.cli.main

    assert Path(textgan.cli.main.__file__).resolve() == ROOT / "cli" / "main.py"


def build(hook: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> zipfile.ZipFile:
    backend = pytest.importorskip("hatchling.build")
    monkeypatch.chdir(ROOT)
    name = getattr(backend, hook)(str(tmp_path))
    return zipfile.ZipFile(tmp_path / name)


def test_wheel_has_textgan_cli_and_no_top_level_cli(tmp_path, monkeypatch) -> None:
    wheel = build("build_wheel", tmp_path, monkeypatch)
    names = wheel.namelist()
    tops = {n.split("/")[0] for n in names}
    assert tops == {"textgan", DIST_INFO}, tops
    expected = {f"textgan/cli/{p.name}" for p in (ROOT / "cli").glob("*.py")}
    assert expected <= set(names)
    entry_points = wheel.read(f"{DIST_INFO}/entry_points.txt").decode()
    assert "textgan = textgan.cli.main:script" in entry_points

    # Installed as a wheel unpacks it (the path goes first, ahead of any editable install of this
    # checkout): both ways of starting the command run the wheel's copy.
    site = tmp_path / "site"
    wheel.extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site), "OMP_NUM_THREADS": "1"}
    code = ("import textgan.cli.main as m; print(m.__file__); "
            "m.run(['sample', '--help'])")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(str(site / "textgan" / "cli" / "main.py"))
    assert "Usage: textgan sample" in done.stdout


def test_editable_install_points_at_the_checkout(tmp_path, monkeypatch) -> None:
    wheel = build("build_editable", tmp_path, monkeypatch)
    names = wheel.namelist()
    # No copies of the sources (they would go stale): one .pth naming the checkout, and metadata.
    assert [n for n in names if not n.startswith(f"{DIST_INFO}/")] == ["_textgan.pth"]
    assert wheel.read("_textgan.pth").decode().splitlines() == [str(ROOT)]


def test_wheel_ships_the_bench_reference_and_bench_times_it(tmp_path, monkeypatch) -> None:
    """`textgan bench` times the reference implementation from an install without the
    repository: the module is in the wheel, and the bench finds it there."""
    wheel = build("build_wheel", tmp_path, monkeypatch)
    assert "textgan/bench_reference.py" in wheel.namelist()
    site = tmp_path / "site"
    wheel.extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # -I: no user site, no PYTHONPATH, no cwd on sys.path; only the unpacked wheel and the venv's
    # site-packages (torch and the other dependencies; the editable .pth is dropped below)
    code = (
        "import sys; sys.path[:0] = [sys.argv[1]]; "
        "sys.path[:] = [p for p in sys.path if p != sys.argv[2]]; "
        "import json, textgan.bench as b, textgan.bench_reference as r; "
        "res = b.run_bench(b.BenchConfig(dim=4, batch_size=2, critic_iters=1, seq_len=4, "
        "vocab=5, blocks=1, repeats=1, warmup=0, threads=1, matmul_size=16)); "
        "print(json.dumps({'bench': b.__file__, 'ref': r.__file__, "
        "'impls': sorted(res['implementations']), 'notes': res['notes'], "
        "'ref_s': res['implementations']['reference']['s_per_gen_iter'], "
        "'ref_gflop': res['implementations']['reference']['gflop_per_gen_iter']}))"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"} | {"OMP_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-I", "-c", code, str(site), str(ROOT)],
                          cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.splitlines()[-1])
    assert out["bench"] == str(site / "textgan" / "bench.py")
    assert out["ref"] == str(site / "textgan" / "bench_reference.py")
    assert out["impls"] == ["reference", "textgan"]
    assert out["notes"] == []
    assert out["ref_s"] > 0 and out["ref_gflop"] > 0
