"""Conditional text models (issue 15): the generator's label embedding, the critic's conditional
head, labelled corpus batches and sampling per class; unconditional models exactly as before."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from textgan.core.conditional import ConditionalCriticHead, num_classes_of
from textgan.text.mode import CorpusBatches
from textgan.text.models import (
    TextCritic,
    TextGenerator,
    TextModelConfig,
    build_models,
    generator_parameters,
)
from textgan.text.sampling import generate_ids, sample_labels

V, L, K = 7, 6, 3
CFG = TextModelConfig(dim=8, blocks=2, noise_dim=5)


def keys(module: torch.nn.Module) -> list[str]:
    return list(module.state_dict())


def test_unconditional_models_are_exactly_as_before():
    generator, critic = build_models(V, L, CFG)
    blocks = [f"blocks.{i}.{c}.{p}" for i in range(2) for c in ("conv1", "conv2")
              for p in ("weight", "bias")]
    assert keys(generator) == ["input.weight", "input.bias", *blocks, "output.weight",
                               "output.bias"]
    assert keys(critic) == ["input.weight", "input.bias", *blocks, "output.weight", "output.bias"]
    assert sum(p.numel() for p in generator.parameters()) == generator_parameters(V, L, CFG)
    D, k = CFG.dim, CFG.kernel_size
    assert sum(p.numel() for p in critic.parameters()) == (V * D + D + 2 * 2 * (D * D * k + D)
                                                           + L * D + 1)
    assert critic(torch.rand(3, L, V)).shape == (3,)
    with pytest.raises(ValueError, match="unconditional generator"):
        generator.logits(torch.randn(2, 5), torch.tensor([0, 1]))
    # a labelled corpus trained without --conditional builds the same unconditional models
    again, _ = build_models(V, L, CFG, num_classes=K, conditional="none")
    assert keys(again) == keys(generator) and again.num_classes == 0


def test_conditional_generator_adds_the_label_embedding_at_every_position():
    torch.manual_seed(0)
    generator = TextGenerator(V, L, CFG, num_classes=K)
    assert keys(generator)[-1] == "label_embedding.weight"
    assert generator.label_embedding.weight.shape == (K, CFG.dim)
    z, y = torch.randn(4, 5), torch.tensor([2, 0, 1, 2])
    h = generator.input(z).view(4, CFG.dim, L) + generator.label_embedding.weight[y][:, :, None]
    hand = generator.output(generator.blocks(h)).transpose(1, 2)
    assert torch.allclose(generator.logits(z, y), hand, atol=1e-6)
    assert torch.allclose(generator(z, labels=y), torch.softmax(hand, -1), atol=1e-6)
    # no labels: the classes in turn; another label changes the output
    assert torch.equal(generator.logits(z), generator.logits(z, torch.tensor([0, 1, 2, 0])))
    assert not torch.allclose(generator.logits(z, y), generator.logits(z, (y + 1) % K))


def test_conditional_generator_starts_from_the_unconditional_weights():
    """The embedding is made after the other layers' initialisation: at the same seed the shared
    layers are identical, and E starts as loud as W z (RMS over z ~ N(0, I))."""
    torch.manual_seed(3)
    plain = TextGenerator(V, L, CFG)
    torch.manual_seed(3)
    conditional = TextGenerator(V, L, CFG, num_classes=K)
    for key, value in plain.state_dict().items():
        assert torch.equal(value, conditional.state_dict()[key]), key
    torch.manual_seed(0)
    wide = TextGenerator(V, L, CFG, num_classes=400)  # enough entries to estimate their spread
    with torch.no_grad():
        rms = float(wide.input.weight.pow(2).sum(1).mean().sqrt())
        assert float(wide.label_embedding.weight.std()) == pytest.approx(rms, rel=0.1)


@pytest.mark.parametrize("method", ["ac", "projection"])
def test_conditional_critic_ends_in_the_conditional_head(method: str):
    torch.manual_seed(0)
    generator, critic = build_models(V, L, CFG, num_classes=K, conditional=method)
    assert isinstance(critic, TextCritic) and isinstance(critic.head, ConditionalCriticHead)
    assert not hasattr(critic, "output") and generator.num_classes == K
    extra = ["head.classes.weight", "head.classes.bias"] if method == "ac" else ["head.embed.weight"]
    assert keys(critic)[-2 - len(extra):] == ["head.output.weight", "head.output.bias", *extra]
    x, y = torch.softmax(torch.randn(4, L, V), -1), torch.tensor([0, 2, 1, 1])
    phi = critic.blocks(critic.input(x.transpose(1, 2))).flatten(1)
    out = critic(x, y)
    if method == "ac":
        scores, logits = out
        assert logits.shape == (4, K)
        assert torch.allclose(logits, critic.head.classes(phi), atol=1e-6)
    else:
        scores = out
        psi = critic.head.output(phi).squeeze(1)
        assert torch.allclose(scores, psi + (critic.head.embed.weight[y] * phi).sum(1), atol=1e-6)
        # the projection embedding starts with the score weights' spread, not N(0, 1)
        with torch.no_grad():
            assert critic.head.embed.weight.std() < 3 * critic.head.output.weight.std()
    assert scores.shape == (4,)
    with pytest.raises(ValueError, match="scores \\(x, labels\\)"):
        critic(x)


def test_generate_ids_passes_labels_through_every_batch():
    torch.manual_seed(0)
    generator = TextGenerator(V, L, CFG, num_classes=K)
    seen: list[torch.Tensor] = []
    logits = generator.logits
    generator.logits = lambda z, labels=None: (seen.append(labels), logits(z, labels))[1]  # type: ignore[method-assign]
    generate_ids(generator, 10, seed=0, batch_size=4)
    assert [t.tolist() for t in seen] == [[0, 1, 2, 0], [1, 2, 0, 1], [2, 0]]  # in turn, across batches
    seen.clear()
    one = generate_ids(generator, 5, seed=0, labels=2)
    assert torch.cat(seen).tolist() == [2] * 5
    seen.clear()
    mixed = generate_ids(generator, 5, seed=0, labels=[2, 2, 2, 2, 2])
    assert torch.equal(one, mixed)  # the same noise: the same rows
    with pytest.raises(ValueError, match="label ids must be in 0..2"):
        sample_labels(generator, 2, [0, 3])
    with pytest.raises(ValueError, match="unconditional"):
        sample_labels(TextGenerator(V, L, CFG), 2, 1)
    assert sample_labels(TextGenerator(V, L, CFG), 2) is None


def test_labelled_batches_draw_the_same_rows_as_unlabelled_ones():
    """next_labelled_batch is next_batch's draw plus each row's own label: a row of ids
    ``[k, k, ...]`` is labelled k here."""
    rows = np.repeat(np.arange(40, dtype=np.uint8)[:, None] % V, L, axis=1)
    labels = (np.arange(40) % V % K).astype(np.uint8)
    plain = CorpusBatches(rows, V, seed=4)
    labelled = CorpusBatches(rows, V, seed=4, labels=labels, num_classes=K)
    assert num_classes_of(plain) == 0 and num_classes_of(labelled) == K
    for _ in range(3):
        x = plain.next_batch(8, torch.device("cpu"))
        x2, y = labelled.next_labelled_batch(8, torch.device("cpu"))
        assert torch.equal(x, x2) and y.dtype == torch.int64
        assert torch.equal(y, x2.argmax(-1)[:, 0] % K)
    # and the RNG state is the same afterwards: next_batch of both continues identically
    assert torch.equal(plain.next_batch(8, torch.device("cpu")),
                       labelled.next_batch(8, torch.device("cpu")))
    with pytest.raises(ValueError, match="no labels"):
        plain.next_labelled_batch(2, torch.device("cpu"))
    with pytest.raises(ValueError, match="5 labels for 40 rows"):
        CorpusBatches(rows, V, seed=0, labels=labels[:5], num_classes=K)
