"""Conditional image generation: labelled batches, class-conditional batch norm, conditional
models, a tiny conditional run end to end (CLI), exact resume, per-class sampling and the separate
label classifier."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch
from test_image_data import idx_bytes, write_idx_labels
from torch import nn

from textgan.cli.main import run
from textgan.core.checkpoint import load_checkpoint
from textgan.core.conditional import ConditionalCriticHead, LabelledBatchSource, num_classes_of
from textgan.errors import ConfigError
from textgan.image import classifier as clf
from textgan.image import models
from textgan.image.data import DATASETS, load_images
from textgan.image.mode import ImageBatches, LabelledImageBatches, class_rows
from textgan.image.models import (
    ConditionalBatchNorm2d,
    ImageModelConfig,
    ResidualBlock,
    build_image_models,
)

FASHION = DATASETS["fashion-mnist"].label_names


def separable_images(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """uint8 [N, 28, 28]: faint noise plus a bright 7×7 block whose place says the class (0..9)."""
    rng = np.random.default_rng(seed)
    out = rng.integers(0, 40, size=(len(labels), 28, 28)).astype(np.uint8)
    for i, k in enumerate(labels):
        row, col = divmod(int(k), 4)
        out[i, 7 * row:7 * row + 7, 7 * col:7 * col + 7] = 230
    return out


def write_labelled_idx(directory: Path, train_labels: list[int], test_labels: list[int],
                       seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A Fashion-MNIST-format directory (idx3 images, idx1 labels, gzipped) of separable images."""
    directory.mkdir(parents=True, exist_ok=True)
    train, test = np.array(train_labels), np.array(test_labels)
    for stem, labels, s in (("train-images-idx3-ubyte", train, seed),
                            ("t10k-images-idx3-ubyte", test, seed + 1)):
        import gzip

        (directory / f"{stem}.gz").write_bytes(gzip.compress(idx_bytes(separable_images(labels,
                                                                                        s))))
    write_idx_labels(directory, train, test)
    return train, test


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    data = path.read_bytes()
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# --- models --------------------------------------------------------------------------------------


def test_conditional_batch_norm_is_per_class_scale_and_offset_of_normalised_activations():
    torch.manual_seed(0)
    norm = ConditionalBatchNorm2d(3, num_classes=4)
    assert torch.equal(norm.scale.weight, torch.ones(4, 3))  # γ starts at 1, β at 0
    assert torch.equal(norm.offset.weight, torch.zeros(4, 3))
    with torch.no_grad():
        norm.scale.weight.copy_(torch.randn(4, 3))
        norm.offset.weight.copy_(torch.randn(4, 3))
    x, y = torch.randn(5, 3, 2, 2) * 3 + 1, torch.tensor([0, 3, 3, 1, 2])
    # by hand: batch statistics over (N, H, W) per channel, biased variance, eps 1e-5
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    var = x.var(dim=(0, 2, 3), unbiased=False, keepdim=True)
    hat = (x - mean) / torch.sqrt(var + 1e-5)
    gamma, beta = norm.scale.weight[y], norm.offset.weight[y]
    hand = gamma[:, :, None, None] * hat + beta[:, :, None, None]
    assert torch.allclose(norm(x, y), hand, atol=1e-5)
    # sample 1 and 2 share class 3: the same affine map of their normalised activations
    assert torch.allclose((norm(x, y)[1] - beta[1, :, None, None]) / gamma[1, :, None, None],
                          hat[1], atol=1e-5)
    # eval mode: running statistics (updated once above from the batch), still per class
    norm.eval()
    running = (x - norm.norm.running_mean[None, :, None, None]) / torch.sqrt(
        norm.norm.running_var[None, :, None, None] + 1e-5)
    assert torch.allclose(norm(x, y), gamma[:, :, None, None] * running
                          + beta[:, :, None, None], atol=1e-5)


def test_conditional_resnet_generator_conditions_only_its_blocks():
    torch.manual_seed(0)
    g, d = build_image_models(3, 32, (-1.0, 1.0), ImageModelConfig(arch="resnet", dim=4),
                              num_classes=10, conditional="ac")
    for block in g.blocks:
        assert isinstance(block.norm1, ConditionalBatchNorm2d)
        assert isinstance(block.norm2, ConditionalBatchNorm2d)
    assert type(g.norm) is nn.BatchNorm2d  # the paper's Generator.OutputN takes no labels
    z, y = torch.randn(4, 128), torch.tensor([0, 1, 2, 9])
    x = g(z, labels=y)
    assert x.shape == (4, 3, 32, 32)
    with torch.no_grad():  # the labels reach the output: another class, another image
        g.blocks[0].norm1.offset.weight[5].fill_(3.0)
    g.eval()
    assert not torch.allclose(g(z, labels=torch.full((4,), 5)), g(z, labels=torch.zeros(4).long()))
    # labels None: every class in turn
    assert torch.allclose(g(z), g(z, labels=torch.tensor([0, 1, 2, 3])))
    scores, logits = d(x.detach(), y)
    assert scores.shape == (4,) and logits.shape == (4, 10)
    assert isinstance(d.head, ConditionalCriticHead) and not hasattr(d, "output")
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in d.modules())


def test_the_block_calls_its_conditional_norms_with_the_labels():
    torch.manual_seed(0)
    block = ResidualBlock(2, 2, None, batchnorm=True, num_classes=3)
    x, y = torch.randn(4, 2, 3, 3), torch.tensor([0, 2, 1, 2])
    residual = block.conv2(torch.relu(block.norm2(block.conv1(torch.relu(block.norm1(x, y))), y)))
    assert torch.allclose(block(x, y), x + residual)
    with pytest.raises(ValueError, match="needs the labels"):
        block(x)


def test_dcgan_label_embedding_is_a_linear_on_z_and_a_one_hot():
    torch.manual_seed(0)
    g, d = build_image_models(1, 28, (0.0, 1.0), ImageModelConfig(dim=2), num_classes=10,
                              conditional="projection")
    z, y = torch.randn(3, 128), torch.tensor([4, 0, 9])
    one_hot = torch.nn.functional.one_hot(y, 10).float()
    weight = torch.cat([g.input.weight, g.label_embedding.weight.T], dim=1)  # W' = [W, E^T]
    assert torch.allclose(torch.cat([z, one_hot], 1) @ weight.T + g.input.bias,
                          g.input(z) + g.label_embedding(y), atol=1e-6)
    bound = 1 / np.sqrt(128 + 10)
    assert g.label_embedding.weight.abs().max() <= bound
    x = g(z, labels=y)
    assert x.shape == (3, 1, 28, 28)
    scores = d(x, y)  # projection: scores only
    assert scores.shape == (3,)
    assert torch.allclose(d(x, y)[1:2], d(x[1:2], y[1:2]), atol=1e-6)  # per sample


def test_unconditional_models_keep_their_layers_and_keys():
    for arch, channels, size in (("dcgan", 1, 28), ("resnet", 3, 32)):
        cfg = ImageModelConfig(arch=arch, dim=4)
        torch.manual_seed(0)
        g, d = build_image_models(channels, size, (-1.0, 1.0), cfg)
        torch.manual_seed(0)
        g2, d2 = build_image_models(channels, size, (-1.0, 1.0), cfg, 10, "none")
        assert g.state_dict().keys() == g2.state_dict().keys()
        assert not any("label" in k or "head" in k or "scale" in k for k in g.state_dict())
        assert "output.weight" in d.state_dict()
        with pytest.raises(ValueError, match="unconditional"):
            g(torch.randn(2, 128), labels=torch.zeros(2).long())
        with pytest.raises(ValueError, match="unconditional"):
            d(torch.zeros(2, channels, size, size), torch.zeros(2).long())
        gc, dc = build_image_models(channels, size, (-1.0, 1.0), cfg, 10, "ac")
        # the conditional critic: the same trunk, the head instead of `output`
        trunk = {k for k in d.state_dict() if not k.startswith("output.")}
        assert trunk == {k for k in dc.state_dict() if not k.startswith("head.")}
        assert {k for k in dc.state_dict() if k.startswith("head.")} == {
            "head.output.weight", "head.output.bias", "head.classes.weight", "head.classes.bias"}
    with pytest.raises(ValueError, match="number of classes"):
        build_image_models(1, 28, (0.0, 1.0), ImageModelConfig(dim=2), 0, "ac")


# --- labelled batches ----------------------------------------------------------------------------


def test_labelled_batches_draw_the_same_images_with_their_labels():
    images = np.arange(20 * 4, dtype=np.uint8).reshape(20, 1, 2, 2)
    labels = np.arange(20) % 7
    plain = ImageBatches(images, DATASETS["mnist"], 3)
    labelled = LabelledImageBatches(images, labels, 7, DATASETS["mnist"], 3)
    assert isinstance(labelled, LabelledBatchSource) and num_classes_of(labelled) == 7
    assert num_classes_of(plain) == 0  # unconditional runs keep an unlabelled source
    cpu = torch.device("cpu")
    for _ in range(3):
        x, y = labelled.next_labelled_batch(5, cpu)
        assert torch.equal(x, plain.next_batch(5, cpu))  # the same RNG draws
        first_pixel = (x[:, 0, 0, 0] * 255).round().long()  # image i starts with value 4i
        assert torch.equal(y, torch.from_numpy(labels)[first_pixel // 4])
    assert labelled.state_dict() == plain.state_dict()


def test_class_rows():
    labels, columns = class_rows(7, 3)
    assert columns == 3 and labels.tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert class_rows(64, 10)[1] == 7 and len(class_rows(64, 10)[0]) == 70
    assert class_rows(3, 10)[0].tolist() == list(range(10))


# --- a tiny conditional run through the CLI -------------------------------------------------------

TRAIN_LABELS = [3, 7] * 8  # training data of two classes only; the test split has four
STEPS = ["--steps", "4", "--dim", "2", "--batch-size", "4", "--critic-iters", "2",
         "--gen-batch-multiple", "2", "--device", "cpu"]


def conditional_run(tmp_path: Path, out: Path, *extra: str) -> int:
    data = tmp_path / "fm"
    if not data.is_dir():
        write_labelled_idx(data, TRAIN_LABELS, [3, 7, 0, 1])
    return run(["train", "--mode", "image", "--dataset", "fashion-mnist", "--data-path", str(data),
                "--data-dir", str(tmp_path / "data"), "--out", str(out), "--conditional", "ac",
                *STEPS, *extra])


@pytest.fixture
def recorded_labels(monkeypatch):
    """The labels of every training-mode call of the DCGAN generator."""
    calls: list[torch.Tensor] = []
    forward = models.DCGANGenerator.forward

    def spy(self, z, labels=None):
        if self.training:
            calls.append(labels.clone())
        return forward(self, z, labels)

    monkeypatch.setattr(models.DCGANGenerator, "forward", spy)
    return calls


def test_labels_flow_end_to_end_through_a_tiny_conditional_run(tmp_path, recorded_labels,
                                                                capsys):
    out = tmp_path / "run"
    assert conditional_run(tmp_path, out, "--eval-every", "2", "--sample-every", "4") == 0
    err = capsys.readouterr().err
    assert "conditional (ac) on 10 classes: T-shirt/top, Trouser" in err
    assert "label accuracy: 100 images per class graded by a separate classifier" in err
    # per iteration: 2 critic steps on the real batch's labels (classes 3 and 7 only), then the
    # generator step on 2 × 4 uniform labels over all ten classes; every 2 steps the critic loss
    # probe's fixed fakes (256, the classes in turn)
    assert [len(y) for y in recorded_labels] == ([4, 4, 8] * 2 + [256]) * 2
    assert recorded_labels[6].tolist() == [i % 10 for i in range(256)]
    recorded_labels[:] = [y for y in recorded_labels if len(y) != 256]
    critic_side = torch.cat([y for y in recorded_labels if len(y) == 4])
    assert set(critic_side.tolist()) <= {3, 7}
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert {"ac_loss_real", "ac_accuracy_real", "ac_loss_fake", "ac_accuracy_fake"} <= set(
        records[0])
    graded = records[1]
    assert 0.0 <= graded["label_accuracy"] <= 1.0
    assert {f"label_accuracy/{name}" for name in FASHION} <= set(graded)
    assert graded["label_accuracy"] == pytest.approx(
        np.mean([graded[f"label_accuracy/{name}"] for name in FASHION]))
    state = load_checkpoint(out / "checkpoints" / "step_00000004.pt")
    assert state["label_names"] == list(FASHION)
    assert state["config"]["train"]["conditional"] == "ac"
    assert "head.classes.weight" in state["critic"] and "label_embedding.weight" in state[
        "generator"]
    # the classifier was trained once and cached under the data dir, not in the run
    assert (tmp_path / "data" / "fashion-mnist" / clf.CLASSIFIER_FILE).is_file()
    # the in-training grid: one row per class (64 → 7 columns × 10 rows), drawn at twice the size
    assert png_size(out / "samples" / "step_00000004.png") == ((7 * 30 + 2) * 2, (10 * 30 + 2) * 2)


def test_conditional_resume_is_bit_identical(tmp_path):
    straight, split = tmp_path / "straight", tmp_path / "split"
    assert conditional_run(tmp_path, straight, "--eval-every", "0", "--sample-every", "0") == 0
    assert conditional_run(tmp_path, split, "--eval-every", "0", "--sample-every", "0",
                           "--checkpoint-every", "1") == 0
    # drop the last two checkpoints of the second run and resume it from step 2
    for step in (3, 4):
        (split / "checkpoints" / f"step_{step:08d}.pt").unlink()
    assert run(["train", "--resume", "--out", str(split)]) == 0
    a = load_checkpoint(straight / "checkpoints" / "step_00000004.pt")
    b = load_checkpoint(split / "checkpoints" / "step_00000004.pt")
    for module in ("generator", "critic"):
        assert a[module].keys() == b[module].keys()
        for key in a[module]:
            assert torch.equal(a[module][key], b[module][key]), (module, key)


def test_per_class_grid_and_label_sampling(tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    assert conditional_run(tmp_path, out, "--eval-every", "0", "--sample-every", "0") == 0
    capsys.readouterr()
    sampled: list[torch.Tensor] = []
    forward = models.DCGANGenerator.forward

    def spy(self, z, labels=None):
        sampled.append(labels.clone())
        return forward(self, z, labels)

    monkeypatch.setattr(models.DCGANGenerator, "forward", spy)
    grid = tmp_path / "grid.png"
    assert run(["sample", "--run", str(out), "-n", "25", "--seed", "1", "--out", str(grid)]) == 0
    assert "one row per class, 3 each: T-shirt/top, Trouser" in capsys.readouterr().err
    # K = 10 rows of ceil(25 / 10) = 3 columns: 30 images, class k on row k
    assert torch.equal(torch.cat(sampled), torch.arange(10).repeat_interleave(3))
    assert png_size(grid) == ((3 * 30 + 2) * 2, (10 * 30 + 2) * 2)
    sampled.clear()
    one = tmp_path / "trousers.png"
    assert run(["sample", "--run", str(out), "-n", "9", "--label", "Trouser", "--out",
                str(one)]) == 0
    assert torch.equal(torch.cat(sampled), torch.full((9,), 1))  # only class 1 reaches G
    assert png_size(one) == ((3 * 30 + 2) * 2, (3 * 30 + 2) * 2)
    capsys.readouterr()
    assert run(["sample", "--run", str(out), "--label", "Hat"]) == 1
    err = capsys.readouterr().err.strip()
    assert "'Hat' is not a class of this model" in err and "\n" not in err
    # an exported model folder samples the same, labels included
    folder = tmp_path / "model"
    assert run(["export", str(out), str(folder), "--no-eval"]) == 0
    assert json.loads((folder / "config.json").read_text())["label_names"] == list(FASHION)
    by_model, by_run = tmp_path / "a.png", tmp_path / "b.png"
    for source, target in ((["--model", str(folder)], by_model), (["--run", str(out)], by_run)):
        assert run(["sample", *source, "-n", "6", "--seed", "2", "--label", "Bag", "--out",
                    str(target)]) == 0
    assert by_model.read_bytes() == by_run.read_bytes()


def test_conditional_on_images_without_labels_is_refused_in_one_line(tmp_path, capsys):
    from test_image_data import write_idx_dir

    write_idx_dir(tmp_path / "fm", n_train=6, n_test=2)  # images, no label files
    code = run(["train", "--mode", "image", "--dataset", "fashion-mnist", "--data-path",
                str(tmp_path / "fm"), "--out", str(tmp_path / "run"), "--conditional",
                "projection", *STEPS])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.startswith("error: ") and "\n" not in err
    assert "--conditional projection needs labelled data" in err
    assert "train-labels-idx1-ubyte[.gz] next to the idx images" in err


def test_unconditional_runs_ignore_labels(tmp_path):
    """Labels in the files change nothing for a run without --conditional."""
    write_labelled_idx(tmp_path / "fm", TRAIN_LABELS, [3, 7])
    out = tmp_path / "run"
    assert run(["train", "--mode", "image", "--dataset", "fashion-mnist", "--data-path",
                str(tmp_path / "fm"), "--data-dir", str(tmp_path / "data"), "--out", str(out),
                *STEPS, "--eval-every", "0", "--sample-every", "0"]) == 0
    state = load_checkpoint(out / "checkpoints" / "step_00000004.pt")
    assert "label_names" not in state and "output.weight" in state["critic"]
    assert not (tmp_path / "data").exists()  # no classifier trained


# --- the separate label classifier ---------------------------------------------------------------


def labelled_set(tmp_path: Path, per_class: int = 12, seed: int = 0):
    labels = np.repeat(np.arange(10), per_class)
    write_labelled_idx(tmp_path / "fm", labels.tolist(), np.repeat(np.arange(10), 3).tolist(),
                       seed)
    return load_images("fashion-mnist", str(tmp_path / "fm"), download_ok=False)


def test_classifier_learns_a_trivially_separable_set(tmp_path):
    images = labelled_set(tmp_path)
    before = torch.random.get_rng_state()
    result = clf.load_or_train_classifier(images, tmp_path / "data")
    assert torch.equal(torch.random.get_rng_state(), before)  # the caller's RNG is untouched
    assert result.trained_now and result.test_accuracy == 1.0
    assert result.held_out == "30 test images" and result.class_test_accuracy == [1.0] * 10
    # grading: images of class k labelled k score 1, mislabelled ones 0
    unit = clf.unit_pixels(images.test)
    truth = torch.from_numpy(images.test_labels)
    graded = result.grade(unit, truth)
    assert graded["label_accuracy"] == 1.0 and graded["label_accuracy/Bag"] == 1.0
    wrong = result.grade(unit, (truth + 1) % 10)
    assert wrong["label_accuracy"] == 0.0
    # only the classes present are reported
    assert set(result.grade(unit[:3], truth[:3])) == {"label_accuracy",
                                                      "label_accuracy/T-shirt/top"}


def test_classifier_cache_loads_then_retrains_on_changed_data(tmp_path, monkeypatch):
    images = labelled_set(tmp_path)
    first = clf.load_or_train_classifier(images, tmp_path / "data")
    path = tmp_path / "data" / "fashion-mnist" / clf.CLASSIFIER_FILE
    assert first.path == path and path.is_file()
    assert not list(path.parent.glob("*.lock"))
    trained = []
    real_train = clf.train_classifier
    monkeypatch.setattr(clf, "train_classifier",
                        lambda *a, **k: trained.append(1) or real_train(*a, **k))
    second = clf.load_or_train_classifier(images, tmp_path / "data")
    assert not second.trained_now and trained == []  # loaded, not trained again
    assert second.test_accuracy == first.test_accuracy and second.label_names == FASHION
    for key, value in first.model.state_dict().items():
        assert torch.equal(value, second.model.state_dict()[key])
    # the file is safetensors (no pickle) with what it was trained on in its metadata
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    assert meta["fingerprint"] == clf.fingerprint(images, clf.ClassifierRecipe())
    assert meta["train_images"] == "120" and meta["dataset"] == "fashion-mnist"
    # one label changed: the cache no longer matches, so it is retrained (and replaced)
    images.train_labels[0] = 5
    third = clf.load_or_train_classifier(images, tmp_path / "data")
    assert third.trained_now and trained == [1]
    assert "trained on other data" in third.notes[0]
    assert not clf.load_or_train_classifier(images, tmp_path / "data").trained_now
    # a damaged cache is retrained too
    path.write_bytes(b"garbage")
    assert clf.load_or_train_classifier(images, tmp_path / "data").trained_now


def test_classifier_holds_out_training_images_without_a_test_split(tmp_path):
    images = labelled_set(tmp_path)
    images.test, images.test_labels = None, None
    result = clf.load_or_train_classifier(images, tmp_path / "data")
    assert result.held_out == "12 training images kept out of its training"
    assert 0.0 <= result.test_accuracy <= 1.0


def test_label_accuracy_images_setting_is_checked():
    from textgan.config import apply_overrides
    from textgan.image.mode import ImageDataConfig

    with pytest.raises(ConfigError, match="data.label_accuracy_images must be 0 .off. or positive"):
        apply_overrides(ImageDataConfig(), {"label_accuracy_images": -1}, "data")


def test_eval_run_of_image_runs(tmp_path, capsys):
    """`textgan eval --run` of an image run: SWD, and for a conditional one the label accuracy per
    class with the classifier's accuracy on real test images beside it."""
    out = tmp_path / "run"
    assert conditional_run(tmp_path, out, "--eval-every", "0", "--sample-every", "0") == 0
    capsys.readouterr()
    assert run(["eval", "--run", str(out), "--samples", "20", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["swd"] > 0 and metrics["swd_real"] >= 0
    per_class = [metrics[f"label_accuracy/{name}"] for name in FASHION]
    assert len(per_class) == 10 and metrics["label_accuracy"] == pytest.approx(np.mean(per_class))
    # the classifier (trained now: this run did not evaluate) learnt classes 3 and 7 only, so it
    # gets half of the test split (classes 3, 7, 0, 1) right; classes with no test image: no value
    assert metrics["label_accuracy_real"] == 0.5
    assert metrics["label_accuracy/Dress_real"] == metrics["label_accuracy/Sneaker_real"] == 1.0
    assert metrics["label_accuracy/T-shirt/top_real"] == 0.0
    assert "label_accuracy/Bag_real" not in metrics
    assert run(["eval", "--run", str(out), "--samples", "20"]) == 0
    err = capsys.readouterr().err
    assert "2 images per class graded by a separate classifier (cached in" in err
    assert run(["eval", "--run", str(out), "--temperatures", "0.5,1"]) == 1
    assert "--temperatures is for text runs" in capsys.readouterr().err
    plain = tmp_path / "plain"
    assert run(["train", "--mode", "image", "--dataset", "fashion-mnist", "--data-path",
                str(tmp_path / "fm"), "--out", str(plain), *STEPS, "--eval-every", "0",
                "--sample-every", "0"]) == 0
    capsys.readouterr()
    assert run(["eval", "--run", str(plain), "--samples", "8", "--json"]) == 0
    assert set(json.loads(capsys.readouterr().out)) == {"swd", "swd_real"}


def test_paper_cifar10_conditional_preset_trains_on_cifar_labels(tmp_path):
    from test_image_data import write_cifar

    from textgan.training import resolve_config, start_training

    write_cifar(tmp_path)  # five batches of 3 images labelled 0, 1, 2; an empty batches.meta
    config = resolve_config("image", "paper-cifar10-conditional", None, {
        "train": {"steps": 1, "batch_size": 4, "critic_iters": 1, "sample_every": 0,
                  "eval_every": 0, "device": "cpu"},
        "model": {"dim": 4}, "data": {"data_path": str(tmp_path), "download": False}})
    assert (config.train.conditional, config.train.ac_scale, config.train.ac_scale_g) == (
        "ac", 1.0, 0.1)
    session = start_training(config, out=tmp_path / "run")
    assert isinstance(session.setup.generator.blocks[0].norm1, ConditionalBatchNorm2d)
    assert session.setup.label_names[:2] == ["airplane", "automobile"]
    assert set(session.setup.data.labels.tolist()) == {0, 1, 2}
    assert [e.step for e in session.events()] == [1]
