"""Turning a text model into text, through its ``sample_ids`` method: a GAN generator decodes by
argmax (the paper) or samples with a temperature; a language model samples ancestrally
(temperature 1 unless given). ``temperature=None`` is each model's ``default_decoding``. A module
without ``sample_ids`` that maps noise to logits (``noise_dim``, ``logits(z)``) is sampled as a
GAN generator.

A conditional generator (``num_classes`` > 0) samples each row for a class: ``labels`` (one
id for all rows, or one per row), by default the classes in turn (0, 1, .., K-1, 0, ..)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from textgan.core.conditional import cycled_labels
from textgan.text.prepare import Tokenizer

Labels = int | Sequence[int] | torch.Tensor | None


@torch.no_grad()
def sample_from_noise(generator: nn.Module, n: int, *, temperature: float | None = None,
                      rng: torch.Generator | None = None,
                      labels: torch.Tensor | None = None) -> torch.Tensor:
    r"""``[n, L]`` ids from ``n`` noise vectors $z$ through ``generator.logits(z)``:
    $\arg\max_v$ (temperature None), else $v \sim \mathrm{softmax}(\mathrm{logits}/T)$ at
    each position independently. ``labels`` ``[n]``: a conditional generator's classes."""
    device = next(generator.parameters()).device
    z = torch.randn(n, generator.noise_dim, device=device, generator=rng)
    logits = (generator.logits(z) if labels is None
              else generator.logits(z, labels=labels.to(device))).float()
    if temperature is None:
        return logits.argmax(-1)
    probs = torch.softmax(logits / temperature, dim=-1)
    return torch.multinomial(probs.view(-1, probs.shape[-1]), 1, generator=rng).view(n, -1)


def sample_labels(generator: nn.Module, n: int, labels: Labels = None) -> torch.Tensor | None:
    """The class id of each of ``n`` samples of ``generator`` (int64 ``[n]``, on the CPU):
    ``labels`` (one id, or one per sample), by default the classes in turn; None for an
    unconditional generator (which refuses labels)."""
    classes = int(getattr(generator, "num_classes", 0))
    if not classes:
        if labels is not None:
            raise ValueError("labels given for an unconditional generator")
        return None
    if labels is None:
        return cycled_labels(n, classes, "cpu")
    if isinstance(labels, int):
        out = torch.full((n,), labels, dtype=torch.long)
    else:
        out = torch.as_tensor(labels, dtype=torch.long).cpu()
    if out.shape != (n,):
        raise ValueError(f"{tuple(out.shape)} labels for {n} samples")
    if len(out) and not (0 <= int(out.min()) and int(out.max()) < classes):
        raise ValueError(f"label ids must be in 0..{classes - 1}")
    return out


@torch.no_grad()
def generate_ids(generator: nn.Module, n: int, *, temperature: float | None = None,
                 seed: int | None = None, device: torch.device | None = None,
                 batch_size: int = 512, labels: Labels = None) -> torch.Tensor:
    r"""Token ids ``[n, L]`` from ``generator.sample_ids`` in batches of ``batch_size``
    (``temperature`` None: the model's default decoding); a conditional generator's rows are of
    the classes :func:`sample_labels` gives (``labels``, by default every class in turn).

    Uses its own ``torch.Generator`` so sampling never disturbs the training RNG.
    """
    if temperature is not None and temperature <= 0:
        raise ValueError("temperature must be positive")
    device = device or next(generator.parameters()).device
    rng = torch.Generator(device=device)
    rng.manual_seed(seed if seed is not None else torch.seed())
    classes = sample_labels(generator, n, labels)
    sample = getattr(generator, "sample_ids", None)
    if sample is None:
        def sample(m: int, *, temperature: float | None, rng: torch.Generator,
                   **given: torch.Tensor) -> torch.Tensor:
            return sample_from_noise(generator, m, temperature=temperature, rng=rng, **given)
    out = []
    for start in range(0, n, batch_size):
        m = min(batch_size, n - start)
        given = {} if classes is None else {"labels": classes[start:start + m].to(device)}
        out.append(sample(m, temperature=temperature, rng=rng, **given))
    return torch.cat(out).cpu() if out else torch.zeros(0, generator.seq_len, dtype=torch.long)


def generate_text(generator: nn.Module, tokenizer: Tokenizer, n: int, *,
                  temperature: float | None = None, seed: int | None = None,
                  strip_pad: bool = False, labels: Labels = None) -> list[str]:
    """``n`` decoded samples (full seq_len strings unless ``strip_pad``); ``labels`` as for
    :func:`generate_ids`."""
    ids = generate_ids(generator, n, temperature=temperature, seed=seed, labels=labels)
    return [tokenizer.decode(row.tolist(), strip_pad=strip_pad) for row in ids]


def decoding(generator: nn.Module, temperature: float | None) -> str:
    """How samples are drawn, in words (for notes)."""
    if temperature is None:
        return getattr(generator, "default_decoding", "the model's default decoding")
    return f"sampling at temperature {temperature:g}"
