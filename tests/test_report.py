"""`textgan report`: PNG plots and an HTML page from a run directory, one run or several."""

import builtins
import math
import re
import struct

import numpy as np
import pytest

from textgan.cli.main import run
from textgan.core.run import Run
from textgan.errors import TextganError
from textgan.report import write_report
from textgan.report.html import pick_sample_points
from textgan.report.plots import moving_average

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_cli(*args: str) -> int:
    return run(list(args))


def png_size(path) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, after checking the signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, path
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def check_png(path) -> None:
    import matplotlib.image

    width, height = png_size(path)
    pixels = matplotlib.image.imread(path)  # decodes the whole image
    assert pixels.shape[:2] == (height, width) and width > 200 and height > 200
    assert pixels[..., :3].std() > 0  # something was drawn


def fake_run(directory, steps=60, js=True, seed=0, samples_every=10):
    """A run directory with a plausible log (and JS with floors every 20 steps)."""
    rng = np.random.default_rng(seed)
    run = Run(directory)
    run.write_config({"mode": "text", "preset": "cpu",
                      "train": {"steps": steps, "batch_size": 8, "critic_iters": 2, "lr": 1e-4,
                                "objective": "wgan-gp"},
                      "data": {"tokenizer": "char", "seq_len": 12, "max_vocab": 50},
                      "model": {"dim": 8, "blocks": 1}})
    for step in range(1, steps + 1):
        record = {"step": step, "critic_loss": float(-1 + rng.normal()),
                  "wasserstein": float(1 / step + 0.1 * rng.random()),
                  "penalty": float(0.01 + rng.random() * 0.1), "grad_norm": float(0.9 + 0.1 * rng.random()),
                  "generator_loss": float(rng.normal()), "sec_per_step": 0.05 + 0.01 * rng.random()}
        if js and step % 20 == 0:
            for n in range(1, 5):
                record[f"js{n}"] = 0.5 * n / math.sqrt(step)
                record[f"js{n}_floor"] = 0.01 * n
        if step % samples_every == 0:
            record["grammar_accept_rate"] = step / steps
            run.write_samples(step, [f"sample {i} at <step> {step} & more" for i in range(12)])
        run.log_metrics(record)
    return run


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    run = fake_run(tmp_path_factory.mktemp("runs") / "a" / "run", seed=1)
    return run, write_report([run.dir])


def test_report_of_one_run(single):
    run, report = single
    assert report.html == run.dir / "report" / "index.html"
    names = sorted(p.name for p in report.images)
    assert names == sorted(["critic_loss.png", "wasserstein.png", "penalty.png", "grad_norm.png",
                            "generator_loss.png", "js.png", "speed.png",
                            "metric_grammar_accept_rate.png"])
    for path in report.images:
        check_png(path)
    page = report.html.read_text(encoding="utf-8")
    for path in report.images:  # every PNG is linked from the page (and embedded in it)
        assert f'href="{path.name}"' in page
    assert page.count("data:image/png;base64,") == len(report.images)
    on_disk = sorted(p.name for p in (run.dir / "report").glob("*.png"))
    assert on_disk == names
    # samples from several points of training, first and last included, HTML-escaped
    shown = [int(s) for s in re.findall(r"<h4>step ([\d,]+)</h4>", page)]
    assert shown == [10, 20, 30, 40, 50, 60]
    assert "sample 0 at &lt;step&gt; 60 &amp; more" in page and "<step>" not in page
    assert "4 more" in page  # lines past the first 8 fold away
    assert "<title>textgan report: run</title>" in page and "JS-4 last" in page


def test_report_without_js_or_samples(tmp_path):
    run = fake_run(tmp_path / "run", js=False, samples_every=10**9)
    report = write_report([run.dir], tmp_path / "out")
    names = {p.name for p in report.images}
    assert "js.png" not in names and "critic_loss.png" in names
    assert "No samples written" in report.html.read_text()


def test_report_of_an_empty_run(tmp_path):
    run = Run(tmp_path / "run")
    run.write_config({"mode": "text"})
    report = write_report([run.dir])
    assert report.images == [] and "No metrics logged yet" in report.html.read_text()
    assert report.notes == ["run: no metrics logged yet"]


def test_overlay_of_two_runs(single, tmp_path):
    import matplotlib.image

    a, alone = single
    b = fake_run(a.dir.parent.parent / "b" / "run", steps=40, seed=2)
    report = write_report([a.dir, b.dir], tmp_path / "cmp")
    page = report.html.read_text()
    assert "a/run" in page and "b/run" in page  # same names: told apart by their parents
    assert page.count("<h3>") == 2  # samples of each run
    assert {p.name for p in report.images} == {p.name for p in alone.images}
    for path in report.images:
        check_png(path)
        assert f'href="{path.name}"' in page
    # both runs are drawn: the second run's colour (matplotlib's C1, orange) is only in the overlay
    pa = matplotlib.image.imread(alone.html.parent / "critic_loss.png")
    pb = matplotlib.image.imread(report.html.parent / "critic_loss.png")
    orange = np.array([1.0, 0.498, 0.055])

    def near(img):
        return int((np.abs(img[..., :3] - orange).sum(-1) < 0.1).sum())

    assert pa.shape == pb.shape and near(pa) == 0 and near(pb) > 50


def test_report_from_a_short_training_run(tmp_path, capsys):
    corpus = tmp_path / "text.txt"
    words = ["the", "cat", "dog", "sat", "on", "a", "mat", "runs", "."]
    corpus.write_text("\n".join(" ".join(words[(i * 7 + j * 3) % 9] for j in range(4 + i % 3))
                                for i in range(200)) + "\n")
    out = tmp_path / "run"
    assert run_cli("train", "--corpus-path", str(corpus), "--data-dir", str(tmp_path / "data"),
                   "--out", str(out), "--steps", "4", "--sample-every", "2", "--dim", "8",
                   "--batch-size", "4", "--critic-iters", "1", "--seq-len", "8",
                   "--eval-every", "0", "--device", "cpu") == 0
    capsys.readouterr()
    assert run_cli("report", str(out)) == 0
    html_path = out / "report" / "index.html"
    assert capsys.readouterr().out.strip() == str(html_path)
    page = html_path.read_text()
    pngs = sorted((out / "report").glob("*.png"))
    assert {p.name for p in pngs} >= {"critic_loss.png", "wasserstein.png", "penalty.png",
                                      "grad_norm.png", "speed.png"}
    for path in pngs:
        check_png(path)
        assert f'href="{path.name}"' in page
    assert "<h4>step 2</h4>" in page and "<h4>step 4</h4>" in page


def test_errors_are_one_line(tmp_path, capsys):
    assert run_cli("report", str(tmp_path / "missing")) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "not a textgan run" in err


def test_missing_matplotlib_is_a_clear_error(tmp_path, monkeypatch):
    run = fake_run(tmp_path / "run", steps=5)
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(TextganError, match=r"needs matplotlib: pip install matplotlib"):
        write_report([run.dir])
    assert not (run.dir / "report").exists()  # nothing written


def test_moving_average_and_sample_points():
    v = np.array([1.0, 2.0, np.nan, 4.0, 5.0])
    assert np.allclose(moving_average(v, 2), [1.0, 1.5, 2.0, 4.0, 4.5])
    assert np.allclose(moving_average(v, 1), v, equal_nan=True)
    assert pick_sample_points([5, 1, 3], 6) == [1, 3, 5]
    picked = pick_sample_points(list(range(100, 2100, 100)), 5)
    assert picked[0] == 100 and picked[-1] == 2000 and len(picked) == 5


def test_nan_in_the_log_is_drawn_as_a_gap(tmp_path):
    run = Run(tmp_path / "run")
    run.write_config({"mode": "text"})
    for step in range(1, 31):
        run.log_metrics({"step": step, "critic_loss": math.nan if step == 20 else 1.0 / step})
    with run.metrics_path.open("a") as f:
        f.write('{"step": 32, "critic')  # torn last line: ignored
    report = write_report([run.dir])
    assert [p.name for p in report.images] == ["critic_loss.png"]
    check_png(report.images[0])


def test_names_are_escaped_in_the_page(tmp_path):
    run = Run(tmp_path / "<i>&run")
    run.write_config({"mode": "text", "preset": "<b>"})
    page = write_report([run.dir]).html.read_text()
    assert "<title>textgan report: &lt;i&gt;&amp;run</title>" in page
    assert "<i>" not in page and "<b>" not in page and "text / &lt;b&gt;" in page


def test_saved_sweeps_are_drawn_in_one_figure(tmp_path):
    from textgan.eval.sweep import SweepPoint, SweepResult, load_sweep, save_sweep

    def sweep(shift):
        points = [SweepPoint(t, 2.0 + shift + t, 4.0 - t + shift, 100) for t in (0.5, 1.0, 1.5)]
        return SweepResult(points, 2.1, 2.9, 100, 6)

    a, b, c = (fake_run(tmp_path / name / "run", seed=i)
               for i, name in enumerate(("gan", "mle", "none")))
    save_sweep(sweep(0.0), a.dir / "eval" / "sweep.json", step=60)
    save_sweep(sweep(0.4), b.dir / "eval" / "sweep.json", step=60)
    assert load_sweep(b.dir / "eval" / "sweep.json") == sweep(0.4)
    report = write_report([a.dir, b.dir, c.dir], tmp_path / "out")
    figure = tmp_path / "out" / "quality_diversity.png"
    assert figure in report.images
    check_png(figure)
    page = report.html.read_text()
    assert page.count("T=0.5: 2.500 / 3.500") == 1 and "T=0.5: 2.900 / 3.900" in page
    # a damaged sweep file: no curve for that run, no failure
    (b.dir / "eval" / "sweep.json").write_text("{not json")
    with pytest.raises(TextganError, match="not a saved temperature sweep"):
        load_sweep(b.dir / "eval" / "sweep.json")
    report = write_report([a.dir, b.dir], tmp_path / "out2")
    assert "T=0.5: 2.900" not in report.html.read_text()
    # no sweep anywhere: no figure
    assert not any(p.name == "quality_diversity.png"
                   for p in write_report([c.dir], tmp_path / "out3").images)


def test_critic_loss_curves_training_vs_held_out(tmp_path):
    run = Run(tmp_path / "run")
    run.write_config({"mode": "image", "preset": "cpu", "train": {"steps": 40}, "data": {},
                      "model": {}})
    for step in range(1, 41):
        record = {"step": step, "critic_loss": -1.0 / step}
        if step % 10 == 0:
            record |= {"swd": 1.0 / step, "train_critic_loss": -0.1 * step,
                       "valid_critic_loss": 0.05 * step}
        run.log_metrics(record)
    report = write_report([run.dir], tmp_path / "out")
    names = {p.name for p in report.images}
    assert "critic_loss_curves.png" in names
    assert not {"metric_train_critic_loss.png", "metric_valid_critic_loss.png"} & names
    check_png(tmp_path / "out" / "critic_loss_curves.png")
    plain = write_report([fake_run(tmp_path / "plain").dir], tmp_path / "out2")
    assert "critic_loss_curves.png" not in {p.name for p in plain.images}
