"""Turning generator outputs into text: argmax (the paper) or sampling with a temperature."""

from __future__ import annotations

import torch
from torch import nn

from textgan.text.prepare import Tokenizer


@torch.no_grad()
def generate_ids(generator: nn.Module, n: int, *, temperature: float | None = None,
                 seed: int | None = None, device: torch.device | None = None,
                 batch_size: int = 512) -> torch.Tensor:
    r"""Token ids ``[n, L]``: $\arg\max_v G(z)_{l,v}$, or $v \sim \mathrm{softmax}(\mathrm{logits}/T)$.

    Uses its own ``torch.Generator`` so sampling never disturbs the training RNG.
    """
    device = device or next(generator.parameters()).device
    rng = torch.Generator(device=device)
    rng.manual_seed(seed if seed is not None else torch.seed())
    out = []
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        z = torch.randn(m, generator.noise_dim, device=device, generator=rng)
        logits = generator.logits(z).float()
        if temperature is None:
            out.append(logits.argmax(-1))
        else:
            if temperature <= 0:
                raise ValueError("temperature must be positive")
            probs = torch.softmax(logits / temperature, dim=-1)
            flat = torch.multinomial(probs.view(-1, probs.shape[-1]), 1, generator=rng)
            out.append(flat.view(m, -1))
    return torch.cat(out).cpu() if out else torch.zeros(0, generator.seq_len, dtype=torch.long)


def generate_text(generator: nn.Module, tokenizer: Tokenizer, n: int, *,
                  temperature: float | None = None, seed: int | None = None,
                  strip_pad: bool = False) -> list[str]:
    """``n`` decoded samples (full seq_len strings unless ``strip_pad``)."""
    ids = generate_ids(generator, n, temperature=temperature, seed=seed)
    return [tokenizer.decode(row.tolist(), strip_pad=strip_pad) for row in ids]
