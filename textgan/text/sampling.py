"""Turning a text model into text, through its ``sample_ids`` method: a GAN generator decodes by
argmax (the paper) or samples with a temperature; a language model samples ancestrally
(temperature 1 unless given). ``temperature=None`` is each model's ``default_decoding``. A module
without ``sample_ids`` that maps noise to logits (``noise_dim``, ``logits(z)``) is sampled as a
GAN generator."""

from __future__ import annotations

import torch
from torch import nn

from textgan.text.prepare import Tokenizer


@torch.no_grad()
def sample_from_noise(generator: nn.Module, n: int, *, temperature: float | None = None,
                      rng: torch.Generator | None = None) -> torch.Tensor:
    r"""``[n, L]`` ids from ``n`` noise vectors $z$ through ``generator.logits(z)``:
    $\arg\max_v$ (temperature None), else $v \sim \mathrm{softmax}(\mathrm{logits}/T)$ at
    each position independently."""
    device = next(generator.parameters()).device
    z = torch.randn(n, generator.noise_dim, device=device, generator=rng)
    logits = generator.logits(z).float()
    if temperature is None:
        return logits.argmax(-1)
    probs = torch.softmax(logits / temperature, dim=-1)
    return torch.multinomial(probs.view(-1, probs.shape[-1]), 1, generator=rng).view(n, -1)


@torch.no_grad()
def generate_ids(generator: nn.Module, n: int, *, temperature: float | None = None,
                 seed: int | None = None, device: torch.device | None = None,
                 batch_size: int = 512) -> torch.Tensor:
    r"""Token ids ``[n, L]`` from ``generator.sample_ids`` in batches of ``batch_size``
    (``temperature`` None: the model's default decoding).

    Uses its own ``torch.Generator`` so sampling never disturbs the training RNG.
    """
    if temperature is not None and temperature <= 0:
        raise ValueError("temperature must be positive")
    device = device or next(generator.parameters()).device
    rng = torch.Generator(device=device)
    rng.manual_seed(seed if seed is not None else torch.seed())
    sample = getattr(generator, "sample_ids", None)
    if sample is None:
        def sample(m: int, *, temperature: float | None, rng: torch.Generator) -> torch.Tensor:
            return sample_from_noise(generator, m, temperature=temperature, rng=rng)
    out = [sample(min(batch_size, n - start), temperature=temperature, rng=rng)
           for start in range(0, n, batch_size)]
    return torch.cat(out).cpu() if out else torch.zeros(0, generator.seq_len, dtype=torch.long)


def generate_text(generator: nn.Module, tokenizer: Tokenizer, n: int, *,
                  temperature: float | None = None, seed: int | None = None,
                  strip_pad: bool = False) -> list[str]:
    """``n`` decoded samples (full seq_len strings unless ``strip_pad``)."""
    ids = generate_ids(generator, n, temperature=temperature, seed=seed)
    return [tokenizer.decode(row.tolist(), strip_pad=strip_pad) for row in ids]


def decoding(generator: nn.Module, temperature: float | None) -> str:
    """How samples are drawn, in words (for notes)."""
    if temperature is None:
        return getattr(generator, "default_decoding", "the model's default decoding")
    return f"sampling at temperature {temperature:g}"
