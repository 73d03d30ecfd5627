"""The random-architecture set's configurable DCGAN (dcgan-cifar), the classifier score and the
padding of 28-pixel images."""

import numpy as np
import pytest
import torch
from test_image_conditional import write_labelled_idx

from textgan.core.trainer import TrainConfig, Trainer
from textgan.errors import ConfigError
from textgan.image.classifier import (
    ClassifierRecipe,
    class_probabilities,
    classifier_score,
    load_or_train_classifier,
    real_classifier_score,
    unit_pixels,
)
from textgan.image.data import load_images
from textgan.image.mode import padded
from textgan.image.models import FlexCritic, FlexGenerator, ImageModelConfig, SmoothELU
from textgan.study.spaces import TABLE1, StudyConfig, TrialSpec, trial_config

CHOICES = [(factor, value) for factor, values in TABLE1.items() for value in values]


class RandomImages:
    def __init__(self) -> None:
        self.g = torch.Generator().manual_seed(0)

    def next_batch(self, n, device):
        return torch.rand(n, 1, 32, 32, generator=self.g).to(device)

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


@pytest.mark.parametrize("objective", ["gan", "wgan-gp"])
@pytest.mark.parametrize("factor,value", CHOICES, ids=[f"{f}={v}" for f, v in CHOICES])
def test_every_choice_builds_and_trains_one_step(factor, value, objective):
    """Each value of each factor of the paper's Table 1 (the rest at their defaults), as a study
    trial configures it, at tiny widths."""
    study = StudyConfig(width_scale=1 / 32, batch_size=4)
    sections = trial_config(study, TrialSpec(0, objective, {factor: value}))
    cfg = ImageModelConfig(**{k: v for k, v in sections["model"].items()})
    torch.manual_seed(0)
    g, d = FlexGenerator(1, 28, (0.0, 1.0), cfg), FlexCritic(1, 32, cfg)
    x = g(torch.randn(4, 128)).detach()
    assert x.shape == (4, 1, 32, 32) and float(x.min()) >= 0 and float(x.max()) <= 1
    depth = cfg.g_depth if factor == "g_depth" else cfg.d_depth
    convs = g.layers if factor == "g_depth" else d.layers
    if factor in ("g_depth", "d_depth"):
        assert sum(isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)) for m in convs) \
            == depth - 1  # plus the Linear layer
    if factor == "d_norm":
        kinds = {type(m) for m in d.modules()}
        expected = (torch.nn.GroupNorm if objective == "wgan-gp" else torch.nn.BatchNorm2d)
        assert (expected in kinds) == value
        assert sections["train"].get("critic_weight_decay", 0.0) == (1e-3 if value else 0.0)
    train = {k: v for k, v in sections["train"].items()
             if k in ("objective", "optimizer", "lr", "betas", "critic_iters",
                      "critic_weight_decay")}
    trainer = Trainer(g, d, RandomImages(), TrainConfig(**train, batch_size=4),
                      torch.device("cpu"))
    before = [p.detach().clone() for p in g.parameters()]
    stats = trainer.train_step()
    assert trainer.step == 1 and all(torch.isfinite(v).all() for v in stats.values())
    assert any(not torch.equal(a, b) for a, b in zip(before, g.parameters(), strict=True))


def test_default_flex_model_is_gan_cifar_dcgan():
    cfg = ImageModelConfig(arch="dcgan-cifar", dim=128)
    g, d = FlexGenerator(3, 32, (-1.0, 1.0), cfg), FlexCritic(3, 32, cfg)
    assert g.input[0].out_features == 4 * 4 * 4 * 128
    ups = [m for m in g.layers if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(m.in_channels, m.out_channels, m.kernel_size) for m in ups] == [
        (512, 256, (5, 5)), (256, 128, (5, 5)), (128, 3, (5, 5))]
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in g.layers) == 2
    convs = [m for m in d.layers if isinstance(m, torch.nn.Conv2d)]
    assert [(m.out_channels, m.stride) for m in convs] == [(128, (2, 2)), (256, (2, 2)),
                                                           (512, (2, 2))]
    assert d.output.in_features == 4 * 4 * 4 * 128
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in d.modules())


def test_smooth_elu_is_the_papers_formula():
    x = torch.tensor([-3.0, 0.0, 2.0])
    expected = torch.log1p(torch.exp(2 * x + 2)) / 2 - 1
    assert torch.allclose(SmoothELU()(x), expected)
    assert abs(float(SmoothELU()(torch.tensor(0.0))) - (np.log1p(np.exp(2)) / 2 - 1)) < 1e-6


def test_bad_depth_and_conditional_are_one_line_errors():
    with pytest.raises(ConfigError, match="g_depth must be at least 4"):
        ImageModelConfig(g_depth=3).validate()
    from textgan.image.models import build_image_models

    with pytest.raises(ConfigError, match="unconditional"):
        build_image_models(1, 28, (0.0, 1.0), ImageModelConfig(arch="dcgan-cifar", dim=4), 10,
                           "ac")


def test_classifier_score_exact_values():
    uniform = torch.full((4, 10), 0.1)
    assert classifier_score(uniform) == pytest.approx(1.0)
    certain = torch.eye(10)
    assert classifier_score(certain) == pytest.approx(10.0)
    # two classes, p(y|x) = (0.9, 0.1) and (0.1, 0.9): p(y) = (0.5, 0.5),
    # KL = 0.9 ln 1.8 + 0.1 ln 0.2 for both
    p = torch.tensor([[0.9, 0.1], [0.1, 0.9]])
    assert classifier_score(p) == pytest.approx(float(np.exp(0.9 * np.log(1.8) + 0.1 *
                                                             np.log(0.2))))


def test_real_images_classifier_score_beats_noise(tmp_path):
    labels = [i % 10 for i in range(300)]
    write_labelled_idx(tmp_path / "fashion-mnist", labels, labels[:100])
    images = load_images("fashion-mnist", str(tmp_path / "fashion-mnist"), str(tmp_path),
                         labels=True)
    classifier = load_or_train_classifier(images, tmp_path, ClassifierRecipe(min_steps=60))
    real, which = real_classifier_score(classifier, images, 100)
    noise = torch.rand(100, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    fake = classifier_score(class_probabilities(classifier.model, noise))
    assert "100 of the 100 test images" == which
    assert real > 5.0 and real > 2 * fake
    assert classifier_score(class_probabilities(classifier.model,
                                                unit_pixels(images.test))) == pytest.approx(real)


def test_padding_keeps_the_image_in_the_middle(tmp_path):
    labels = [i % 10 for i in range(20)]
    write_labelled_idx(tmp_path / "f", labels, labels)
    images = load_images("fashion-mnist", str(tmp_path / "f"), str(tmp_path), labels=True)
    big = padded(images, 32)
    assert big.spec.size == 32 and big.train.shape[1:] == (1, 32, 32)
    assert np.array_equal(big.train[:, :, 2:30, 2:30], images.train)
    assert big.train[:, :, :2].max() == 0 and big.train[:, :, :, 30:].max() == 0
    assert images.spec.size == 28  # the original is untouched
