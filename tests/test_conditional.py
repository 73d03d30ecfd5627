"""Class-conditional training in the core (textgan.core.conditional): labels through data →
generator → critic, the AC and projection losses against hand computations, exact resume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from textgan.core.conditional import (
    ConditionalCriticHead,
    LabelledCritic,
    cycled_labels,
    num_classes_of,
)
from textgan.core.distributed import RankShare
from textgan.core.objectives import WGANGP
from textgan.core.trainer import TrainConfig, Trainer
from textgan.errors import ConfigError

K, D_IN = 3, 4


class LabelledData:
    """Real rows whose mean is their class id: a labelled source with a checkpointed RNG."""

    num_classes = K

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)

    def next_labelled_batch(self, n: int, device: torch.device) -> tuple[Tensor, Tensor]:
        labels = torch.from_numpy(self.rng.integers(0, K, n))
        x = torch.from_numpy(self.rng.normal(size=(n, D_IN))).float() + labels[:, None].float()
        return x, labels

    def next_batch(self, n: int, device: torch.device) -> Tensor:
        return self.next_labelled_batch(n, device)[0]

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["rng"]


class Generator(nn.Module):
    """z + a label embedding → linear; records the labels of every call."""

    noise_dim = 2

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(K, 2)
        self.out = nn.Linear(2, D_IN)
        self.calls: list[tuple[Tensor, Tensor]] = []

    def forward(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        labels = cycled_labels(len(z), K, z.device) if labels is None else labels
        x = self.out(z + self.embed(labels))
        self.calls.append((labels.clone(), x.detach().clone()))
        return x


class Critic(nn.Module):
    def __init__(self, method: str) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Linear(D_IN, 5), nn.Tanh())
        self.head = ConditionalCriticHead(5, K, method)  # type: ignore[arg-type]

    def forward(self, x: Tensor, labels: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return self.head(self.features(x), labels)


def _trainer(method: str, **overrides: Any) -> Trainer:
    torch.manual_seed(0)
    cfg = TrainConfig(**{"batch_size": 6, "critic_iters": 2, "conditional": method, **overrides})
    return Trainer(Generator(), Critic(method), LabelledData(), cfg, torch.device("cpu"))


def test_projection_head_is_psi_plus_label_embedding_dot_features() -> None:
    torch.manual_seed(0)
    head = ConditionalCriticHead(5, K, "projection")
    phi, y = torch.randn(4, 5), torch.tensor([0, 2, 1, 2])
    hand = phi @ head.output.weight[0] + head.output.bias[0] + (head.embed.weight[y] * phi).sum(1)
    assert torch.allclose(head(phi, y), hand)
    # the label changes the score: the same features under another class score differently
    assert not torch.allclose(head(phi, y), head(phi, (y + 1) % K))


def test_ac_head_gives_scores_and_class_logits() -> None:
    torch.manual_seed(0)
    head = ConditionalCriticHead(5, K, "ac")
    phi = torch.randn(4, 5)
    scores, logits = head(phi, torch.zeros(4, dtype=torch.long))
    assert scores.shape == (4,) and logits.shape == (4, K)
    assert torch.allclose(logits, phi @ head.classes.weight.T + head.classes.bias)


@pytest.mark.parametrize("batching", ["separate", "joint", "joint-penalty"])
def test_labelled_critic_keeps_the_real_batch_logits_in_every_batching(batching: str) -> None:
    torch.manual_seed(0)
    critic = Critic("ac")
    real, labels = LabelledData().next_labelled_batch(6, torch.device("cpu"))
    fake = torch.randn(6, D_IN)
    bound = LabelledCritic(critic, labels)
    WGANGP(critic_batching=batching).critic_loss(bound, real, fake)  # type: ignore[arg-type]
    assert bound.first_logits is not None
    assert torch.allclose(bound.first_logits, critic(real, labels)[1], atol=1e-6)


def test_ac_losses_are_the_papers_against_hand_values() -> None:
    """lr 0: the step leaves the weights as they were, so the logged losses can be recomputed.
    L_D = WGAN-GP + 1·CE(C(x), y) on the real batch; L_G = -E[D(G(z, y'))] + 0.1·CE(C(G(z, y')), y')."""
    trainer = _trainer("ac", lr=0.0, critic_iters=1)
    data_state = trainer.data.state_dict()
    stats = trainer.train_step()
    trainer.data.load_state_dict(data_state)
    real, labels = trainer.data.next_labelled_batch(6, torch.device("cpu"))
    critic = trainer.critic
    with torch.no_grad():
        ce_real = F.cross_entropy(critic(real, labels)[1], labels)
        gen_labels, fake = trainer.generator.calls[-1]
        scores, logits = critic(fake, gen_labels)
        ce_fake = F.cross_entropy(logits, gen_labels)
    assert stats["ac_loss_real"].item() == pytest.approx(ce_real.item(), rel=1e-5)
    assert stats["ac_loss_fake"].item() == pytest.approx(ce_fake.item(), rel=1e-5)
    assert stats["generator_loss"].item() == pytest.approx(
        -scores.mean().item() + 0.1 * ce_fake.item(), rel=1e-5)
    # the critic's loss adds ac_scale (1) × its CE to the WGAN-GP loss: E[D(x̃)] - E[D(x)] + λ GP
    wgan = -stats["wasserstein"].item() + 10.0 * stats["penalty"].item()
    assert stats["critic_loss"].item() == pytest.approx(wgan + ce_real.item(), rel=1e-5)
    assert 0.0 <= stats["ac_accuracy_real"].item() <= 1.0


def test_ac_scales_are_settings() -> None:
    trainer = _trainer("ac", lr=0.0, critic_iters=1, ac_scale=0.0, ac_scale_g=2.0)
    stats = trainer.train_step()
    wgan = -stats["wasserstein"].item() + 10.0 * stats["penalty"].item()
    assert stats["critic_loss"].item() == pytest.approx(wgan, rel=1e-5)
    gen_labels, fake = trainer.generator.calls[-1]
    with torch.no_grad():
        scores, _ = trainer.critic(fake, gen_labels)
    assert stats["generator_loss"].item() == pytest.approx(
        -scores.mean().item() + 2.0 * stats["ac_loss_fake"].item(), rel=1e-5)


def test_projection_adds_no_classification_loss() -> None:
    trainer = _trainer("projection", lr=0.0, critic_iters=1)
    stats = trainer.train_step()
    assert "ac_loss_real" not in stats and "ac_loss_fake" not in stats
    gen_labels, fake = trainer.generator.calls[-1]
    with torch.no_grad():
        scores = trainer.critic(fake, gen_labels)
    assert stats["generator_loss"].item() == pytest.approx(-scores.mean().item(), rel=1e-5)


def test_labels_flow_data_to_generator_to_critic() -> None:
    """The critic step's fakes get the real batch's labels (the paper's code); the generator
    step's labels are uniform draws over the K classes, gen_batch_multiple × batch of them."""
    trainer = _trainer("ac", gen_batch_multiple=2)
    seen_by_critic: list[Tensor] = []
    forward = trainer.critic.forward
    trainer.critic.forward = lambda x, y: (seen_by_critic.append(y), forward(x, y))[1]  # type: ignore[method-assign]
    data_state = trainer.data.state_dict()
    for _ in range(20):
        trainer.train_step()
    trainer.data.load_state_dict(data_state)
    calls = trainer.generator.calls
    assert len(calls) == 20 * 3  # 2 critic steps + 1 generator step per iteration
    for it in range(20):
        for i in range(2):
            _, real_labels = trainer.data.next_labelled_batch(6, torch.device("cpu"))
            assert torch.equal(calls[3 * it + i][0], real_labels)
        assert calls[3 * it + 2][0].shape == (12,)
    drawn = torch.cat([calls[3 * it + 2][0] for it in range(20)])
    counts = torch.bincount(drawn, minlength=K)
    assert counts.sum() == 240 and counts.min() > 50  # every class drawn, about 80 each
    # the critic always scored with labels of the batch it was given
    assert all(y.shape[0] in (6, 12, 18) for y in seen_by_critic)


def test_resume_is_bit_identical_with_labels() -> None:
    trainer = _trainer("ac")
    for _ in range(3):
        trainer.train_step()
    state = {k: v for k, v in trainer.state_dict().items()}
    import copy

    state = copy.deepcopy(state)
    after = [trainer.train_step()["generator_loss"].item() for _ in range(3)]
    weights = {k: v.clone() for k, v in trainer.generator.state_dict().items()}

    other = _trainer("ac", seed=5)
    other.load_state_dict(state)
    again = [other.train_step()["generator_loss"].item() for _ in range(3)]
    assert after == again
    for key, value in other.generator.state_dict().items():
        assert torch.equal(value, weights[key])


def test_conditional_needs_labelled_data() -> None:
    class Unlabelled:
        def next_batch(self, n: int, device: torch.device) -> Tensor:
            return torch.randn(n, D_IN)

        def state_dict(self) -> dict:
            return {}

        def load_state_dict(self, state: dict) -> None:
            pass

    assert num_classes_of(Unlabelled()) == 0 and num_classes_of(LabelledData()) == K
    cfg = TrainConfig(conditional="ac")
    with pytest.raises(ConfigError, match="needs labelled data"):
        Trainer(Generator(), Critic("ac"), Unlabelled(), cfg, torch.device("cpu"))
    with pytest.raises(ConfigError, match="GAN objectives"):
        TrainConfig(conditional="projection", objective="mle").validate()


def test_rank_share_keeps_labels_with_their_rows() -> None:
    whole = LabelledData(seed=3).next_labelled_batch(8, torch.device("cpu"))
    share = RankShare(LabelledData(seed=3), rank=1, world_size=2)
    assert num_classes_of(share) == K
    x, y = share.next_labelled_batch(4, torch.device("cpu"))
    assert torch.equal(x, whole[0][4:]) and torch.equal(y, whole[1][4:])
    assert num_classes_of(RankShare(object(), 0, 1)) == 0


def test_cycled_labels_visit_every_class_in_turn() -> None:
    assert cycled_labels(7, 3, "cpu").tolist() == [0, 1, 2, 0, 1, 2, 0]


def test_label_names_are_checked_when_sampling(tmp_path: Path) -> None:
    from textgan.modes import get_mode

    mode = get_mode("toy")
    conditional = {"label_names": ["cat", "dog"], "config": {"train": {"conditional": "ac"}}}
    assert mode.label_index(conditional, "dog", tmp_path) == 1
    assert mode.label_index(conditional, None, tmp_path) is None
    with pytest.raises(ConfigError, match="not a class of this model; its classes: cat, dog"):
        mode.label_index(conditional, "cow", tmp_path)
    with pytest.raises(ConfigError, match="not a conditional model"):
        mode.label_index({"config": {"train": {}}}, "cat", tmp_path)
