r"""The maximum-likelihood baseline: an LSTM language model over the corpus's tokens.

Why an LSTM (and not a small causal Transformer): it is the MLE baseline of the literature this
comparison follows (Caccia et al. 2020 judge language GANs against LSTM language models), on two
CPU cores it trains as fast per parameter at these lengths (32 positions), and it samples
incrementally from its state with no cache to manage.

It models exactly what the GAN generator models: a prepared row of ``L`` token ids, the line cut
to ``L`` and right-padded. With a start symbol $s$ (an extra embedding row, id ``V``),

$$p_\theta(x_{1..L}) = \prod_{l=1}^{L} \mathrm{softmax}(W h_l + b)_{x_l}, \qquad
  h_l = \mathrm{LSTM}(E[x_{l-1}], h_{l-1}),\ x_0 = s,$$

trained by teacher forcing: :meth:`LSTMLanguageModel.nll` is the mean cross-entropy
$-\frac{1}{BL}\sum_{b,l} \log p_\theta(x_{b,l} \mid x_{b,<l})$ in nats, over every position,
padding included (it is part of the row, as for the GAN).

Sampling draws $x_l \sim \mathrm{softmax}((W h_l + b) / T)$ position by position (ancestral
sampling; temperature 1 by default). A drawn pad ends the line: every later position is pad, as
in every prepared row.
"""

from __future__ import annotations

from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class LSTMLanguageModel(nn.Module):
    """Embedding (vocabulary + start symbol) → LSTM → Linear to the vocabulary's logits."""

    default_decoding: ClassVar[str] = "ancestral sampling at temperature 1"

    def __init__(self, vocab_size: int, seq_len: int, embed_dim: int, hidden: int, layers: int,
                 pad_id: int) -> None:
        super().__init__()
        self.vocab_size, self.seq_len, self.pad_id = vocab_size, seq_len, pad_id
        self.hidden, self.layers = hidden, layers
        self.start_id = vocab_size  # the start symbol's row of the embedding
        self.embed = nn.Embedding(vocab_size + 1, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden, layers, batch_first=True)
        self.output = nn.Linear(hidden, vocab_size)

    def logits(self, ids: Tensor) -> Tensor:
        """Teacher forcing: ``[B, L]`` ids → ``[B, L, V]`` logits; position ``l`` has seen the
        start symbol and ``ids[:, :l]`` only."""
        start = ids.new_full((ids.shape[0], 1), self.start_id)
        hidden, _ = self.lstm(self.embed(torch.cat([start, ids[:, :-1]], dim=1)))
        return self.output(hidden)

    def nll(self, ids: Tensor) -> Tensor:
        r"""$-\frac{1}{BL}\sum_{b,l} \log p(x_{b,l} \mid x_{b,<l})$ (nats per position) of a
        ``[B, L]`` batch of ids (int64); at least fp32 (bf16 logits are upcast)."""
        logits = self.logits(ids)
        logits = logits.to(torch.promote_types(logits.dtype, torch.float32))
        return F.cross_entropy(logits.reshape(-1, self.vocab_size), ids.reshape(-1))

    @torch.no_grad()
    def sample_ids(self, n: int, *, temperature: float | None = None,
                   rng: torch.Generator | None = None) -> Tensor:
        r"""``[n, L]`` ids drawn ancestrally, $x_l \sim \mathrm{softmax}(\text{logits}_l / T)$,
        $T$ = ``temperature`` (None: 1); after a pad, pad."""
        t = 1.0 if temperature is None else temperature
        device = self.output.weight.device
        token = torch.full((n,), self.start_id, dtype=torch.long, device=device)
        ended = torch.zeros(n, dtype=torch.bool, device=device)
        state: tuple[Tensor, Tensor] | None = None
        out = []
        for _ in range(self.seq_len):
            hidden, state = self.lstm(self.embed(token)[:, None], state)
            probs = torch.softmax(self.output(hidden[:, 0]).float() / t, dim=-1)
            token = torch.multinomial(probs, 1, generator=rng).squeeze(1)
            token = torch.where(ended, torch.full_like(token, self.pad_id), token)
            ended |= token == self.pad_id
            out.append(token)
        return torch.stack(out, dim=1) if out else torch.zeros(n, 0, dtype=torch.long)


def lstm_lm_parameters(vocab_size: int, embed_dim: int, hidden: int, layers: int) -> int:
    r"""Parameters of :class:`LSTMLanguageModel`: $(V + 1)E + \sum_{l=1}^{n}\big(4H(d_l + H)
    + 8H\big) + HV + V$ with $d_1 = E$, $d_l = H$ after (PyTorch's LSTM has two bias vectors)."""
    V, E, H = vocab_size, embed_dim, hidden
    lstm = sum(4 * H * ((E if layer == 0 else H) + H) + 8 * H for layer in range(layers))
    return (V + 1) * E + lstm + H * V + V
