"""Image mode through the shared trainer: models, data scaling, grids, SWD, resume, sample, CLI."""

import json
import tomllib

import numpy as np
import pytest
import torch
from test_image_data import write_cifar, write_idx_dir
from torch import nn

from textgan.cli.main import run
from textgan.errors import ConfigError
from textgan.image.data import DATASETS
from textgan.image.mode import ImageBatches, scale_images
from textgan.image.models import (
    ImageModelConfig,
    ResidualBlock,
    build_image_models,
)
from textgan.sampling import sample_from
from textgan.training import resolve_config, resume_training, start_training


def run_cli(*args: str) -> int:
    return run(list(args))


@pytest.mark.parametrize("arch,channels,size,value_range", [
    ("dcgan", 1, 28, (0.0, 1.0)), ("dcgan", 3, 32, (-1.0, 1.0)), ("resnet", 3, 32, (-1.0, 1.0))])
def test_models_shapes_and_ranges(arch, channels, size, value_range):
    torch.manual_seed(0)
    g, d = build_image_models(channels, size, value_range, ImageModelConfig(arch=arch, dim=4))
    x = g(torch.randn(3, 128) * 10).detach()
    assert x.shape == (3, channels, size, size)
    assert value_range[0] <= float(x.min()) and float(x.max()) <= value_range[1]
    assert d(x).shape == (3,)
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in d.modules())
    # One sample's score does not depend on the rest of the batch (the penalty is per sample).
    assert torch.allclose(d(x)[1:2], d(x[1:2]), atol=1e-6)


def test_paper_mnist_model_layout():
    g, d = build_image_models(1, 28, (0.0, 1.0), ImageModelConfig(dim=64))
    assert g.input.out_features == 4 * 4 * 4 * 64
    assert [c.kernel_size for c in d.convs] == [(5, 5)] * 3
    assert [c.out_channels for c in d.convs] == [64, 128, 256]
    assert d.output.in_features == 4 * 4 * 4 * 64
    with pytest.raises(ConfigError, match="32-pixel"):
        build_image_models(1, 28, (0.0, 1.0), ImageModelConfig(arch="resnet"))


def test_residual_block_shortcut_sees_the_untouched_input():
    torch.manual_seed(0)
    block = ResidualBlock(3, 3, None, batchnorm=False)
    x = torch.randn(2, 3, 4, 4)
    kept = x.clone()
    residual = block.conv2(torch.relu(block.conv1(torch.relu(x))))
    assert torch.allclose(block(x), kept + residual)
    assert torch.equal(x, kept)


def test_scaling_and_batches():
    pixels = torch.tensor([0, 128, 255], dtype=torch.uint8).view(1, 3, 1, 1).expand(1, 3, 2, 2)
    mnist = scale_images(pixels, DATASETS["mnist"])
    assert mnist[0, :, 0, 0].tolist() == pytest.approx([0.0, 128 / 255, 1.0])
    cifar = scale_images(pixels, DATASETS["cifar10"], np.random.default_rng(0))
    base = torch.tensor([-1.0, 0.0, 255 / 128 - 1])
    noise = cifar[0, :, 0, 0] - base
    assert (noise >= 0).all() and (noise < 1 / 128).all()  # the paper's dequantisation
    data = np.arange(10 * 4, dtype=np.uint8).reshape(10, 1, 2, 2)
    a, b = ImageBatches(data, DATASETS["mnist"], 5), ImageBatches(data, DATASETS["mnist"], 5)
    a.next_batch(3, torch.device("cpu"))
    b.load_state_dict(a.state_dict())
    assert torch.equal(a.next_batch(4, torch.device("cpu")), b.next_batch(4, torch.device("cpu")))


TINY = {"train": {"steps": 2, "batch_size": 4, "critic_iters": 1, "sample_every": 1,
                  "eval_every": 2, "checkpoint_every": 1, "device": "cpu"},
        "model": {"dim": 2}, "data": {"swd_images": 5, "swd_projections": 8, "grid_images": 6,
                                      "download": False}}


def test_image_run_writes_grids_swd_and_resumes(tmp_path):
    write_idx_dir(tmp_path / "mnist", n_train=12, n_test=6)
    overrides = {**TINY, "data": {**TINY["data"], "data_path": str(tmp_path / "mnist")}}
    session = start_training(resolve_config("image", "cpu", None, overrides), out=tmp_path / "run")
    assert any("SWD on 5 test images" in note for note in session.notes)
    events = list(session.events())
    assert [e.step for e in events] == [1, 2]
    run = tmp_path / "run"
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step_00000001.png",
                                                                   "step_00000002.png"]
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert "swd" not in records[0] and records[1]["swd"] > 0
    assert {"penalty", "grad_norm", "wasserstein"} <= set(records[1])

    resumed = resume_training(run, overrides={"train": {"steps": 3}})
    assert resumed.trainer.step == 2
    assert [e.step for e in resumed.events()] == [3]

    result = sample_from(9, run=run, seed=1, out=tmp_path / "grid.png")
    assert result.files == [tmp_path / "grid.png"]
    png = (tmp_path / "grid.png").read_bytes()
    assert png.startswith(b"\x89PNG") and png == (
        sample_from(9, run=run, seed=1, out=tmp_path / "again.png").files[0].read_bytes())
    default = sample_from(4, run=run, seed=2)
    assert default.files == [run / "samples" / "sample.png"]


def test_cifar_resnet_run_through_the_trainer(tmp_path):
    write_cifar(tmp_path)
    overrides = {**TINY, "model": {"arch": "resnet", "dim": 4},
                 "data": {**TINY["data"], "dataset": "cifar10", "data_path": str(tmp_path)}}
    session = start_training(resolve_config("image", "cpu", None, overrides), out=tmp_path / "run")
    assert [e.step for e in session.events()] == [1, 2]
    assert (tmp_path / "run" / "samples" / "step_00000002.png").is_file()


def test_cli_image_train_and_sample(tmp_path, capsys):
    write_idx_dir(tmp_path / "fm", n_train=10, n_test=4)
    out = tmp_path / "run"
    code = run_cli("train", "--mode", "image", "--dataset", "fashion-mnist", "--data-path",
                   str(tmp_path / "fm"), "--out", str(out), "--steps", "1", "--dim", "2",
                   "--batch-size", "3", "--critic-iters", "1", "--eval-every", "0",
                   "--sample-every", "1", "--device", "cpu", "--objective", "wgan-clip")
    assert code == 0
    config = tomllib.loads((out / "config.toml").read_text())
    assert config["data"]["dataset"] == "fashion-mnist" and config["mode"] == "image"
    assert (config["train"]["optimizer"], config["train"]["lr"]) == ("rmsprop", 5e-5)
    capsys.readouterr()
    assert run_cli("sample", "--run", str(out), "-n", "4") == 0
    assert (out / "samples" / "sample.png").is_file()
    assert "wrote" in capsys.readouterr().err


def test_cli_bad_image_input_is_one_line(tmp_path, capsys):
    code = run_cli("train", "--mode", "image", "--dataset", "mnist", "--data-path",
                   str(tmp_path / "missing"), "--out", str(tmp_path / "run"))
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.startswith("error: ") and "\n" not in err
    assert "does not exist" in err and not (tmp_path / "run").exists()
    code = run_cli("train", "--mode", "image", "--dataset", "svhn", "--out", str(tmp_path / "r"))
    assert code == 1 and "dataset" in capsys.readouterr().err


def test_fid_without_extra_is_a_clear_error(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_fidelity(name, *args, **kwargs):
        if name == "torch_fidelity":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_fidelity)
    overrides = {**TINY, "data": {**TINY["data"], "fid": True, "data_path": str(tmp_path)}}
    with pytest.raises(ConfigError, match="torch-fidelity"):
        start_training(resolve_config("image", "cpu", None, overrides), out=tmp_path / "run")


def test_fid_needs_the_inception_weights(tmp_path, monkeypatch):
    import sys
    import types

    from textgan.image import fidelity

    fake = types.ModuleType("torch_fidelity")
    calls = []

    def calculate_metrics(**kwargs):
        calls.append(kwargs)
        return {"frechet_inception_distance": 12.5, "inception_score_mean": 3.25}

    fake.calculate_metrics = calculate_metrics
    monkeypatch.setitem(sys.modules, "torch_fidelity", fake)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(ConfigError, match="Inception weights"):
        fidelity.check_fidelity()
    weights = fidelity.inception_weights_path()
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"stand-in")
    real = np.zeros((4, 1, 28, 28), np.uint8)
    assert fidelity.fidelity_metrics(real, real, torch.device("cpu")) == {
        "fid": 12.5, "inception_score": 3.25}
    first = calls[0]["input1"][0]
    assert first.dtype == torch.uint8 and first.shape == (3, 28, 28)  # grey → three channels
