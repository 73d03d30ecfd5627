"""The paper's Figure 2 as a study: architectures × objectives, Appendix E's recipes, the figure."""

import dataclasses
import json

import numpy as np
import pytest
import torch
from PIL import Image
from test_image_conditional import write_labelled_idx

from textgan.cli.main import run
from textgan.errors import ConfigError, TextganError
from textgan.eval.swd import random_directions, sliced_wasserstein
from textgan.image.folder import open_prepared
from textgan.image.mode import SWD_SEED
from textgan.study.spaces import (
    FIGURE2_ARCHS,
    StudyConfig,
    TrialSpec,
    architectures,
    arms,
    lower_is_better,
    resolve_score,
    score_metric,
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


def write_png_folder(root, n=40, seed=0):
    """``n`` small RGB PNGs of varied sizes (resized and cropped to the study's side)."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True)
    for i in range(n):
        h, w = 40 + i % 5, 48 + i % 7
        pixels = (rng.random((h, w, 3)) * 80 + 60 * (i % 3)).astype(np.uint8)
        Image.fromarray(pixels).save(root / f"img{i:03d}.png")


def test_encoded_sets_choose_their_side_score_and_rows(monkeypatch):
    import textgan.image.fidelity as fidelity

    def missing():
        raise ConfigError("FID/IS need the Inception weights")

    monkeypatch.setattr(fidelity, "check_fidelity", missing)
    lsun = StudyConfig(experiment="figure2", dataset="lsun", data_path="bedroom_train_lmdb")
    assert lsun.side == 64 and lsun.figure2_archs() == list(FIGURE2_ARCHS)  # resnet101 too
    chosen = resolve_score(lsun, labelled=False)
    assert (chosen.score, chosen.image_size) == ("swd", 64)
    data = trial_config(chosen, TrialSpec(6, "wgan-gp", {"arch": "resnet101"}))["data"]
    assert data == {"dataset": "lsun", "data_dir": "data", "swd_images": 1000, "image_size": 64,
                    "data_path": "bedroom_train_lmdb", "grid_images": 16}
    assert score_metric(chosen) == "swd" and lower_is_better(chosen)
    # a labelled folder keeps the classifier score; the labelled sets stay 32-pixel
    assert resolve_score(dataclasses.replace(lsun, dataset="folder"), labelled=True).score == \
        "classifier"
    small = resolve_score(StudyConfig(experiment="figure2"))
    assert (small.score, small.image_size, small.side) == ("classifier", 32, 32)
    assert "image_size" not in trial_config(small, TrialSpec(0, "gan", {"arch": "dcgan64"}))["data"]
    big = StudyConfig(experiment="figure2", dataset="folder", data_path="p", image_size=128)
    assert big.figure2_archs() == list(FIGURE2_ARCHS[:-1])
    with pytest.raises(ConfigError, match="needs labelled images.*use --score swd"):
        resolve_score(StudyConfig(experiment="figure2", dataset="folder", data_path="p",
                                  score="classifier"), labelled=False)


@pytest.mark.parametrize("settings, message", [
    ({"dataset": "folder", "data_path": "p"},
     "study.dataset folder is for --experiment figure2; random-architectures scores against "
     "labelled 32-pixel images"),
    ({"experiment": "clipping", "dataset": "lsun"}, "is for --experiment figure2"),
    ({"experiment": "clipping", "score": "swd"}, "study.score swd is for --experiment figure2"),
    ({"experiment": "figure2", "archs": "dcgan64,resnet101"},
     r"resnet101 makes 64-pixel images only; the study's images are 32-pixel \(drop it from "
     "--archs or use --dataset folder, lsun or imagenet64 with --image-size 64\\)"),
    ({"experiment": "figure2", "archs": "resnet101", "dataset": "folder", "image_size": 32},
     "the study's images are 32-pixel \\(drop it from --archs or use --image-size 64\\)"),
    ({"experiment": "figure2", "dataset": "folder", "image_size": 48},
     "study.image_size 48 is not supported; choose 32, 64, 128"),
    ({"experiment": "figure2", "image_size": 64},
     "fashion-mnist is 32-pixel in a study; for 64-pixel images use --dataset folder"),
])
def test_data_settings_a_study_cannot_use_are_one_line_errors(settings, message):
    with pytest.raises(ConfigError, match=message):
        StudyConfig(**settings).validate()


def test_cli_refuses_an_unlabelled_folder_for_random_architectures(tmp_path, capsys):
    code = run(["study", "run", str(tmp_path / "s"), "--dataset", "folder", "--data-path",
                str(tmp_path / "pictures")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "--experiment figure2" in err
    code = run(["study", "run", str(tmp_path / "s"), "--experiment", "figure2", "--dataset",
                "folder", "--data-path", str(tmp_path / "pictures"), "--image-size", "96"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "image_size 96 is not supported" in err
    assert not (tmp_path / "s").exists()


@pytest.mark.slow
def test_figure2_on_a_64_pixel_folder_is_scored_by_swd(tmp_path, capsys, monkeypatch):
    import textgan.image.fidelity as fidelity

    def missing():
        raise ConfigError("FID/IS need the Inception weights")

    monkeypatch.setattr(fidelity, "check_fidelity", missing)  # auto: no labels, no Inception
    write_png_folder(tmp_path / "pictures")
    study = tmp_path / "fig2"
    assert run(["study", "run", str(study), "--experiment", "figure2", "--dataset", "folder",
                "--data-path", str(tmp_path / "pictures"), "--image-size", "64", "--archs",
                "dcgan64,resnet101", "--objectives", "wgan-gp", "--steps", "1",
                "--width-scale", "0.03125", "--batch-size", "4", "--score-images", "16",
                "--data-dir", str(tmp_path / "data"), "--workers", "1"]) == 0
    capsys.readouterr()
    saved = (study / "study.toml").read_text()
    assert 'score = "swd"' in saved and "image_size = 64" in saved
    facts = json.loads((study / "study.json").read_text())
    assert facts["score"] == "SWD (lower is better)" and facts["metric"] == "swd"
    assert 0 < facts["real_score"] < 1 and facts["thresholds"] == []
    # prepared once, before the workers: one prepared set under the data directory
    [meta] = list((tmp_path / "data").rglob("meta.json"))
    prepared = open_prepared(meta.parent)
    assert prepared.train.shape[1:] == (3, 64, 64) and len(prepared.test) >= 1

    # the floor by hand: SWD between the held-out images and as many training ones, with the
    # seeds and projections every trial's SWD uses
    def subset(images, n, seed):
        rows = np.random.default_rng(seed).choice(len(images), min(n, len(images)), replace=False)
        return torch.from_numpy(images[np.sort(rows)]).double() / 255.0

    held = subset(prepared.test, 16, SWD_SEED)
    floor = sliced_wasserstein(subset(prepared.train, len(held), SWD_SEED + 1), held,
                               random_directions(3 * 64 * 64, 128, SWD_SEED))
    assert facts["real_score"] == pytest.approx(floor, abs=1e-9)
    assert facts["real_images"] == f"{len(held)} held-out vs {len(held)} training images"
    assert run(["study", "show", str(study), "--results-dir", str(tmp_path / "results")]) == 0
    captured = capsys.readouterr()
    shown = captured.out + captured.err
    assert "SWD (lower is better); real images' floor (held-out vs training)" in shown
    assert "folder at 64×64" in shown
    record = json.loads((tmp_path / "results" / "study-figure2.json").read_text())
    results = record["results"]
    cells = results["cells"]
    assert results["score"] == "SWD (lower is better)"
    assert sorted(cells) == ["dcgan64", "resnet101"] and all(list(c) == ["wgan-gp"]
                                                             for c in cells.values())
    for row in cells.values():
        cell = row["wgan-gp"]
        assert not cell["diverged"] and 0 < cell["score"] < 1
        # a 4 × 4 grid of 64-pixel images, drawn at twice their size
        assert Image.open(study / cell["grid"]).size == (2 * (4 * 64 + 5 * 2),) * 2
        run_config = (study / cell["run_dir"] / "config.toml").read_text()
        assert 'dataset = "folder"' in run_config and "image_size = 64" in run_config
    swd = [json.loads(line)["swd"] for line in (study / cells["resnet101"]["wgan-gp"]["run_dir"]
                                                / "metrics.jsonl").read_text().splitlines()
           if '"swd"' in line]
    assert swd == [cells["resnet101"]["wgan-gp"]["score"]]
    assert "SWD (lower is better)" in record["notes"] and "floor" in record["notes"]
    assert Image.open(study / "study.png").size[1] > 300


def test_a_folder_is_prepared_before_any_worker_and_a_missing_one_writes_nothing(tmp_path,
                                                                                 monkeypatch):
    import textgan.image.fidelity as fidelity
    from textgan.study.engine import create_study

    def missing():
        raise ConfigError("FID/IS need the Inception weights")

    monkeypatch.setattr(fidelity, "check_fidelity", missing)
    config = StudyConfig(experiment="figure2", dataset="folder", image_size=32,
                         data_path=str(tmp_path / "nowhere"), data_dir=str(tmp_path / "data"),
                         archs="dcgan64", objectives="gan", score_images=8)
    with pytest.raises(TextganError, match="nowhere"):
        create_study(tmp_path / "s", config)
    assert not (tmp_path / "s").exists()
    write_png_folder(tmp_path / "pictures", n=12)
    facts = create_study(tmp_path / "s", dataclasses.replace(config, data_path=str(
        tmp_path / "pictures")))
    [meta] = list((tmp_path / "data").rglob("meta.json"))  # before any worker started
    assert json.loads(meta.read_text())["size"] == 32
    assert facts["metric"] == "swd" and facts["real_score"] > 0
    assert 'score = "swd"' in (tmp_path / "s" / "study.toml").read_text()
