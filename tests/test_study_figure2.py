"""The paper's Figure 2 as a study: architectures × objectives, Appendix E's recipes, the figure."""

import json

import pytest
from PIL import Image
from test_image_conditional import write_labelled_idx

from textgan.cli.main import run
from textgan.errors import ConfigError
from textgan.study.spaces import (
    FIGURE2_ARCHS,
    StudyConfig,
    TrialSpec,
    architectures,
    arms,
    trial_config,
)


def test_figure2_trials_are_appendix_e_recipes_on_the_named_networks():
    cfg = StudyConfig(experiment="figure2", steps=10, width_scale=0.25)
    assert arms(cfg) == ["gan", "lsgan", "wgan-clip", "wgan-gp"]
    # the paper's seven but resnet101, which makes 64-pixel images only
    assert len(FIGURE2_ARCHS) == 7 and FIGURE2_ARCHS[-1] == "resnet101"
    assert [a["arch"] for a in architectures(cfg)] == list(FIGURE2_ARCHS[:-1])
    runs = {arm: trial_config(cfg, TrialSpec(6, arm, {"arch": "resnet101"})) for arm in arms(cfg)}
    t = {arm: r["train"] for arm, r in runs.items()}
    assert (t["wgan-gp"]["optimizer"], t["wgan-gp"]["lr"], t["wgan-gp"]["betas"]) == \
        ("adam", 1e-4, [0.5, 0.9])
    assert (t["wgan-clip"]["optimizer"], t["wgan-clip"]["lr"], t["wgan-clip"]["clip"]) == \
        ("rmsprop", 5e-5, 0.01)
    assert (t["gan"]["optimizer"], t["gan"]["lr"], t["gan"]["betas"][0]) == ("adam", 2e-4, 0.5)
    assert (t["lsgan"]["optimizer"], t["lsgan"]["lr"]) == ("rmsprop", 1e-4)
    assert [t[a]["critic_iters"] for a in arms(cfg)] == [1, 1, 5, 5]
    assert all(r["model"] == {"arch": "resnet101", "dim": 16} for r in runs.values())
    assert all(r["train"]["sample_every"] == 10 and r["train"]["eval_every"] == 10
               for r in runs.values())
    assert TrialSpec(6, "gan", {"arch": "resnet101"}).key == "arch006-resnet101-gan"
    two = StudyConfig(experiment="figure2", archs="dcgan64-tanh, resnet64", objectives="wgan-gp")
    assert two.figure2_archs() == ["dcgan64-tanh", "resnet64"] and arms(two) == ["wgan-gp"]


def test_bad_figure2_names_are_one_line_errors(tmp_path, capsys):
    with pytest.raises(ConfigError, match="unknown 'dcgan65'"):
        StudyConfig(experiment="figure2", archs="dcgan64,dcgan65").validate()
    with pytest.raises(ConfigError, match="unknown 'wgan'"):
        StudyConfig(experiment="figure2", objectives="wgan").validate()
    with pytest.raises(ConfigError, match="resnet101 makes 64-pixel images only"):
        StudyConfig(experiment="figure2", archs="resnet101").validate()
    with pytest.raises(ConfigError, match="for --experiment figure2"):
        StudyConfig(archs="dcgan64").validate()
    code = run(["study", "run", str(tmp_path / "s"), "--experiment", "figure2", "--archs",
                "resnet5"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "resnet5" in err
    assert not (tmp_path / "s").exists()


@pytest.mark.slow
def test_two_by_two_figure2_through_the_cli(tmp_path, capsys):
    labels = [i % 10 for i in range(100)]
    write_labelled_idx(tmp_path / "data" / "fashion-mnist", labels, labels[:40])
    study = tmp_path / "fig2"
    assert run(["study", "run", str(study), "--experiment", "figure2", "--archs",
                "dcgan64-g-constant,dcgan64-g-mlp", "--objectives", "gan,wgan-gp", "--steps",
                "2", "--width-scale", "0.03125", "--batch-size", "4", "--score-images", "20",
                "--score", "classifier", "--data-path", str(tmp_path / "data" / "fashion-mnist"),
                "--data-dir", str(tmp_path / "data"), "--workers", "1"]) == 0
    capsys.readouterr()
    assert run(["study", "show", str(study), "--results-dir", str(tmp_path / "results")]) == 0
    captured = capsys.readouterr()
    shown = captured.out + captured.err
    assert "2 generator iterations per trial (paper: 200,000)" in shown and "DIM 2" in shown
    record = json.loads((tmp_path / "results" / "study-figure2.json").read_text())
    cells = record["results"]["cells"]
    assert sorted(cells) == ["dcgan64-g-constant", "dcgan64-g-mlp"]
    assert all(sorted(c) == ["gan", "wgan-gp"] for c in cells.values())
    for row in cells.values():
        for cell in row.values():
            assert cell["score"] >= 1.0 and (study / cell["grid"]).is_file()
            assert Image.open(study / cell["grid"]).size[0] >= 32 * 4
    assert [r["architecture"] for r in record["results"]["table"]] == list(cells)
    figure = Image.open(study / "study.png")
    assert figure.size[0] > 300 and figure.size[1] > 300
