"""The maximum-likelihood baseline's model (text/lm.py): its loss against hand computations, its
size against the GAN generator's, and its sampling (temperature, seeds, pad ends a line)."""

from __future__ import annotations

import math

import pytest
import torch

from textgan.core.likelihood import LikelihoodTrainer
from textgan.core.trainer import TrainConfig, Trainer, TrainerProtocol
from textgan.text.lm import LSTMLanguageModel, lstm_lm_parameters
from textgan.text.models import (
    TextGenerator,
    TextModelConfig,
    build_models,
    generator_parameters,
    lm_hidden_size,
)
from textgan.text.sampling import generate_ids

PAD = 1


def constant_lm(bias: list[float], seq_len: int = 3) -> LSTMLanguageModel:
    """An LM whose every weight is 0 and whose output bias is ``bias``: all gates are
    σ(0) = 1/2 and the candidate tanh(0) = 0, so c = h = 0 and p(x_l | x_<l) = softmax(bias)."""
    model = LSTMLanguageModel(len(bias), seq_len, embed_dim=2, hidden=2, layers=1, pad_id=PAD)
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
        model.output.bias.copy_(torch.tensor(bias))
    return model


def test_loss_of_a_constant_model_by_hand() -> None:
    # p = softmax(log [1, 2, 3]) = [1/6, 2/6, 3/6] at every position.
    model = constant_lm([0.0, math.log(2), math.log(3)])
    rows = torch.tensor([[2, 1, 1], [0, 2, 2]])
    by_hand = -(math.log(3 / 6) + 2 * math.log(2 / 6) + math.log(1 / 6) + 2 * math.log(3 / 6)) / 6
    assert model.nll(rows).item() == pytest.approx(by_hand, rel=1e-6)


@torch.no_grad()
def explicit_nll(model: LSTMLanguageModel, rows: torch.Tensor) -> float:
    """The LSTM equations written out (PyTorch's gate order i, f, g, o), teacher-forced from the
    start symbol, in float64: the mean of −log p(x_l | x_<l) over every row and position."""
    total, count = 0.0, 0
    layers = model.layers
    W_ih = [getattr(model.lstm, f"weight_ih_l{k}").double() for k in range(layers)]
    W_hh = [getattr(model.lstm, f"weight_hh_l{k}").double() for k in range(layers)]
    b = [(getattr(model.lstm, f"bias_ih_l{k}") + getattr(model.lstm, f"bias_hh_l{k}")).double()
         for k in range(layers)]
    E, W, c_out = model.embed.weight.double(), model.output.weight.double(), model.output.bias
    for row in rows.tolist():
        h = [torch.zeros(model.hidden, dtype=torch.float64) for _ in range(layers)]
        c = [torch.zeros(model.hidden, dtype=torch.float64) for _ in range(layers)]
        previous = model.start_id
        for token in row:
            x = E[previous]
            for k in range(layers):
                i, f, g, o = (W_ih[k] @ x + W_hh[k] @ h[k] + b[k]).chunk(4)
                c[k] = torch.sigmoid(f) * c[k] + torch.sigmoid(i) * torch.tanh(g)
                h[k] = torch.sigmoid(o) * torch.tanh(c[k])
                x = h[k]
            logits = W @ x + c_out.double()
            total -= float(torch.log_softmax(logits, 0)[token])
            count += 1
            previous = token
    return total / count


def test_teacher_forced_loss_equals_the_lstm_written_out() -> None:
    torch.manual_seed(3)
    model = LSTMLanguageModel(6, 5, embed_dim=4, hidden=5, layers=2, pad_id=PAD).double()
    rows = torch.randint(0, 6, (3, 5))
    assert model.nll(rows).item() == pytest.approx(explicit_nll(model, rows), abs=1e-12)


def test_a_position_sees_only_the_tokens_before_it() -> None:
    torch.manual_seed(0)
    model = LSTMLanguageModel(6, 5, embed_dim=4, hidden=5, layers=2, pad_id=PAD)
    rows = torch.randint(0, 6, (2, 5))
    changed = rows.clone()
    changed[:, 3] = (changed[:, 3] + 1) % 6
    a, b = model.logits(rows), model.logits(changed)
    assert torch.equal(a[:, :4], b[:, :4])  # positions 0..3 have not seen token 3
    assert not torch.allclose(a[:, 4], b[:, 4])


@pytest.mark.parametrize("vocab,seq_len,dim,layers", [(7, 8, 8, 1), (90, 32, 64, 2),
                                                      (30, 16, 16, 3)])
def test_parameter_counts_and_the_matched_size(vocab, seq_len, dim, layers) -> None:
    cfg = TextModelConfig(dim=dim, lm_layers=layers)
    generator, critic = build_models(vocab, seq_len, cfg)
    assert generator_parameters(vocab, seq_len, cfg) == sum(p.numel() for p in generator.parameters())
    lm, none = build_models(vocab, seq_len, cfg, objective="mle", pad_id=PAD)
    assert none is None and isinstance(lm, LSTMLanguageModel)
    size = sum(p.numel() for p in lm.parameters())
    assert size == lstm_lm_parameters(vocab, dim, lm.hidden, layers)
    # the largest hidden size whose model is no bigger than the generator
    budget = generator_parameters(vocab, seq_len, cfg)
    assert size <= budget < lstm_lm_parameters(vocab, dim, lm.hidden + 1, layers)
    assert lm.hidden == lm_hidden_size(vocab, seq_len, cfg)
    explicit = build_models(vocab, seq_len, TextModelConfig(dim=dim, lm_hidden=11), "mle")[0]
    assert explicit.hidden == 11


def test_the_sizes_the_readme_states() -> None:
    # cpu preset (DIM 64) and the paper (DIM 512) at 32 characters, vocabulary 90 (Brown).
    assert generator_parameters(90, 32, TextModelConfig(dim=64)) == 475_482
    assert lm_hidden_size(90, 32, TextModelConfig(dim=64)) == 183
    assert lstm_lm_parameters(90, 64, 183, 2) == 474_028
    assert generator_parameters(90, 32, TextModelConfig(dim=512)) == 15_272_026
    assert lm_hidden_size(90, 32, TextModelConfig(dim=512)) == 1040
    assert lstm_lm_parameters(90, 512, 1040, 2) == 15_266_042


def test_sampling_follows_the_temperature() -> None:
    bias = [0.0, -30.0, math.log(2), math.log(5)]  # pad (id 1) never drawn
    model = constant_lm(bias, seq_len=2)
    n = 20_000
    for temperature in (1.0, 0.5, 2.0):
        ids = generate_ids(model, n, temperature=temperature, seed=0)
        assert ids.shape == (n, 2)
        expected = torch.softmax(torch.tensor(bias) / temperature, 0)
        seen = torch.bincount(ids[:, 0], minlength=4) / n
        assert torch.allclose(seen, expected, atol=0.015), (temperature, seen, expected)
    # None is the language model's default decoding: temperature 1, not argmax
    assert torch.equal(generate_ids(model, 100, seed=4), generate_ids(model, 100, temperature=1.0,
                                                                        seed=4))
    assert len(set(generate_ids(model, 100, seed=4)[:, 0].tolist())) > 1


def test_sampling_is_reproducible_and_pad_ends_a_line() -> None:
    torch.manual_seed(1)
    model = LSTMLanguageModel(5, 12, embed_dim=4, hidden=6, layers=2, pad_id=PAD)
    with torch.no_grad():
        model.output.bias[PAD] += 1.5  # pads are frequent
    a = generate_ids(model, 300, seed=7)
    assert torch.equal(a, generate_ids(model, 300, seed=7))
    assert not torch.equal(a, generate_ids(model, 300, seed=8))
    padded = a == PAD
    assert padded.any()
    # once a pad is drawn, the rest of the row is pad
    assert torch.equal(padded, padded.cummax(dim=1).values)


def test_the_gan_generator_samples_as_before() -> None:
    """The sampling method reproduces the former generate_ids exactly (same RNG draws)."""
    torch.manual_seed(0)
    G = TextGenerator(9, 6, TextModelConfig(dim=8, blocks=1, noise_dim=5))
    rng = torch.Generator().manual_seed(11)
    logits = G.logits(torch.randn(40, 5, generator=rng)).float()
    assert torch.equal(generate_ids(G, 40, seed=11), logits.argmax(-1))
    rng = torch.Generator().manual_seed(11)
    logits = G.logits(torch.randn(40, 5, generator=rng)).float()
    draws = torch.multinomial(torch.softmax(logits / 0.7, -1).view(-1, 9), 1, generator=rng)
    assert torch.equal(generate_ids(G, 40, temperature=0.7, seed=11), draws.view(40, 6))


class _Rows:
    def __init__(self) -> None:
        self.gen = torch.Generator().manual_seed(5)

    def next_batch(self, batch_size, device):
        return torch.randint(0, 6, (batch_size, 5), generator=self.gen)

    def state_dict(self):
        return {}

    def load_state_dict(self, state):
        pass


def test_both_trainers_keep_the_interface_the_loop_drives() -> None:
    cfg = TrainConfig(batch_size=4, critic_iters=1)
    G, D = build_models(6, 5, TextModelConfig(dim=4, blocks=1, noise_dim=3))
    lm = LSTMLanguageModel(6, 5, embed_dim=4, hidden=5, layers=1, pad_id=PAD)
    for trainer in (Trainer(G, D, _Rows(), cfg, torch.device("cpu")),
                    LikelihoodTrainer(lm, _Rows(), cfg, torch.device("cpu"))):
        assert isinstance(trainer, TrainerProtocol)
    trainer = LikelihoodTrainer(lm, _Rows(), cfg, torch.device("cpu"))
    before = {k: v.clone() for k, v in lm.state_dict().items()}
    stats = trainer.train_step()
    assert set(stats) == {"nll"} and trainer.step == 1 and trainer.parameters_finite()
    assert any(not torch.equal(before[k], v) for k, v in lm.state_dict().items())
    assert set(trainer.state_dict()) == {"trainer_step", "generator", "optimizer", "data", "rng"}
    with pytest.raises(TypeError, match="no nll"):
        LikelihoodTrainer(G, _Rows(), cfg, torch.device("cpu"))
