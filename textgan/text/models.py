"""The paper's 1D-convolutional ResNet generator and critic for sequences of characters, and
the builders that choose between them and the maximum-likelihood baseline (:mod:`textgan.text.lm`).

Shapes: a text batch is ``[B, L, V]`` — ``L`` positions (seq_len), ``V`` vocabulary entries; one-hot
for real text, a softmax for generated text. Convolutions work on ``[B, DIM, L]``.

Every text model that can be sampled has ``seq_len``, ``default_decoding`` and
``sample_ids(n, temperature=, rng=)`` (:mod:`textgan.text.sampling` draws through it).

Class-conditional models (``--conditional ac|projection`` on labelled text,
:mod:`textgan.core.conditional`) are the same networks with ``num_classes`` > 0: the generator adds
a learnt label embedding to its first feature map, the critic ends in a
:class:`~textgan.core.conditional.ConditionalCriticHead`. With ``num_classes`` 0 the models, their
parameters and state-dict keys are exactly the unconditional ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from textgan.config import setting
from textgan.core.conditional import ConditionalCriticHead, cycled_labels
from textgan.core.objectives import is_likelihood
from textgan.errors import ConfigError
from textgan.text.lm import LSTMLanguageModel, lstm_lm_parameters
from textgan.text.sampling import sample_from_noise
from textgan.text.tokenizer import PAD_ID


@dataclass
class TextModelConfig:
    """Architecture (paper: DIM 512, 5 blocks, kernel 5, residual scale 0.3, noise 128)."""

    dim: int = setting(512, "Model width (paper: 512); --objective mle: the language model's "
                       "embedding size.", flag=True, min=1)
    blocks: int = setting(5, "Residual blocks in the generator and in the critic (paper: 5).", min=1)
    kernel_size: int = setting(5, "Convolution width, odd (paper: 5).")
    res_scale: float = setting(0.3, "Scale of each residual branch (paper: 0.3).")
    noise_dim: int = setting(128, "Size of the generator's noise vector (paper: 128).", min=1)
    # PyTorch's layer defaults have ~2.4x smaller weights (std 1/sqrt(3·fan_in) against
    # sqrt(2/fan_in)).
    init: Literal["paper", "torch"] = setting("paper", "Weight initialisation: paper (the paper "
                                              "code's, tflib) or torch (PyTorch's defaults).")
    # The maximum-likelihood baseline (--objective mle), an LSTM language model (text/lm.py).
    lm_layers: int = setting(2, "--objective mle: LSTM layers of the language model.", flag=True, min=1)
    lm_hidden: int = setting(0, "--objective mle: LSTM hidden size (0: the largest whose "
                             "parameter count is at most the GAN generator's at this --dim, "
                             "--seq-len and vocabulary).", flag=True, min=0, zero="matched")

    def validate(self) -> None:
        if self.init not in ("paper", "torch"):
            raise ConfigError(f"model.init must be 'paper' or 'torch', got {self.init!r}")
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ConfigError(f"model.kernel_size must be odd and positive, got {self.kernel_size}")


def _uniform_with_std(tensor: Tensor, std: float) -> None:
    bound = std * math.sqrt(3.0)  # U[-a, a] has std a/sqrt(3)
    nn.init.uniform_(tensor, -bound, bound)


@torch.no_grad()
def init_like_paper(module: nn.Module) -> None:
    r"""The paper code's (tflib) initialisation, uniform with zero biases.

    Conv1d (He): $\sigma = \sqrt{4 / (\text{fan}_\text{in} + \text{fan}_\text{out})}$ with
    $\text{fan} = \text{channels} \cdot k$; Linear (Glorot): $\sigma = \sqrt{2 / (n_\text{in} +
    n_\text{out})}$.
    """
    for layer in module.modules():
        if isinstance(layer, nn.Conv1d):
            k = layer.kernel_size[0]
            _uniform_with_std(layer.weight,
                              math.sqrt(4.0 / (layer.in_channels * k + layer.out_channels * k)))
        elif isinstance(layer, nn.Linear):
            _uniform_with_std(layer.weight,
                              math.sqrt(2.0 / (layer.in_features + layer.out_features)))
        else:
            continue
        if layer.bias is not None:
            layer.bias.zero_()


class ResBlock(nn.Module):
    r"""$\mathrm{out} = x + 0.3 \cdot \mathrm{conv}_2(\mathrm{ReLU}(\mathrm{conv}_1(\mathrm{ReLU}(x))))$.

    The ReLUs are out-of-place: the skip carries the block input unchanged (an in-place ReLU
    would rectify ``x`` itself and silently change the residual path).
    """

    def __init__(self, dim: int, kernel_size: int = 5, res_scale: float = 0.3) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2)
        self.conv2 = nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2)
        self.res_scale = res_scale

    def forward(self, x: Tensor) -> Tensor:
        residual = self.conv2(F.relu(self.conv1(F.relu(x))))
        return x + self.res_scale * residual


class TextGenerator(nn.Module):
    r"""noise → Linear → [DIM, L] → ResBlocks → Conv1d(k=1) → softmax over the vocabulary.

    Conditional (``num_classes`` $K > 0$): a learnt embedding $E \in \mathbb{R}^{K \times D}$
    is added at every position of the first feature map, after the input Linear:

    $$h_{:, l} = (W z + b)_{:, l} + E_y \qquad (l = 1..L),$$

    then the blocks as usual. $E$ starts $\mathcal{N}(0, \sigma^2)$ with $\sigma$ the RMS of
    $W z$ at initialisation for $z \sim \mathcal{N}(0, I)$ (the label starts as loud as the
    noise); it is made after every other layer's initialisation, so the unconditional layers start
    from the same weights as an unconditional model's. ``labels=None``: the classes in turn
    (:func:`~textgan.core.conditional.cycled_labels`)."""

    default_decoding: ClassVar[str] = "argmax (the paper's decoding)"

    def __init__(self, vocab_size: int, seq_len: int, cfg: TextModelConfig,
                 num_classes: int = 0) -> None:
        super().__init__()
        self.vocab_size, self.seq_len, self.dim = vocab_size, seq_len, cfg.dim
        self.noise_dim = cfg.noise_dim
        self.num_classes = num_classes
        self.input = nn.Linear(cfg.noise_dim, cfg.dim * seq_len)
        self.blocks = nn.Sequential(*[ResBlock(cfg.dim, cfg.kernel_size, cfg.res_scale)
                                      for _ in range(cfg.blocks)])
        self.output = nn.Conv1d(cfg.dim, vocab_size, 1)
        if cfg.init == "paper":
            init_like_paper(self)
        if num_classes:
            self.label_embedding = nn.Embedding(num_classes, cfg.dim)
            with torch.no_grad():  # RMS over units of W z, z ~ N(0, I): sqrt(mean_i sum_j W_ij^2)
                sigma = float(self.input.weight.pow(2).sum(1).mean().sqrt())
                nn.init.normal_(self.label_embedding.weight, 0.0, sigma)

    def logits(self, z: Tensor, labels: Tensor | None = None) -> Tensor:
        """Unnormalised scores ``[B, L, V]`` (``labels`` int ``[B]``: a conditional model's
        classes; None: the classes in turn; an unconditional model takes none)."""
        h = self.input(z).view(-1, self.dim, self.seq_len)
        if self.num_classes:
            if labels is None:
                labels = cycled_labels(len(z), self.num_classes, z.device)
            h = h + self.label_embedding(labels).unsqueeze(-1)
        elif labels is not None:
            raise ValueError("labels given to an unconditional generator")
        return self.output(self.blocks(h)).transpose(1, 2)

    def forward(self, z: Tensor, temperature: float = 1.0, *,
                labels: Tensor | None = None) -> Tensor:
        """Softmax distributions over characters, ``[B, L, V]``."""
        return torch.softmax(self.logits(z, labels).float() / temperature, dim=-1)

    def sample_ids(self, n: int, *, temperature: float | None = None,
                   rng: torch.Generator | None = None, labels: Tensor | None = None) -> Tensor:
        """``[n, L]`` ids from ``n`` noise vectors: argmax (temperature None), else softmax
        draws at each position (:func:`textgan.text.sampling.sample_from_noise`); ``labels``:
        the class of each (conditional models)."""
        return sample_from_noise(self, n, temperature=temperature, rng=rng, labels=labels)


class TextCritic(nn.Module):
    r"""[B, L, V] → Conv1d(k=1) → ResBlocks → Linear(L·DIM → 1). No batch norm (the penalty is
    per sample, and batch norm would couple the samples of a batch).

    Conditional (``num_classes`` > 0, ``method`` ``"ac"`` or ``"projection"``): the final Linear
    is a :class:`~textgan.core.conditional.ConditionalCriticHead` on the same flattened features
    $\phi(x) \in \mathbb{R}^{L \cdot D}$, called ``D(x, y)``. The projection embedding starts
    with the spread of the score's own weights (its default $\mathcal{N}(0, 1)$ would make
    $\langle E_y, \phi \rangle$ about $\sqrt{LD}$ times the score at first)."""

    def __init__(self, vocab_size: int, seq_len: int, cfg: TextModelConfig,
                 num_classes: int = 0, method: str = "none") -> None:
        super().__init__()
        if bool(num_classes) != (method != "none"):
            raise ValueError(f"a conditional critic needs classes and a method (got "
                             f"{num_classes} classes, method {method!r})")
        self.vocab_size, self.seq_len, self.dim = vocab_size, seq_len, cfg.dim
        self.num_classes = num_classes
        self.input = nn.Conv1d(vocab_size, cfg.dim, 1)
        self.blocks = nn.Sequential(*[ResBlock(cfg.dim, cfg.kernel_size, cfg.res_scale)
                                      for _ in range(cfg.blocks)])
        features = seq_len * cfg.dim
        if num_classes:
            self.head = ConditionalCriticHead(features, num_classes, method)  # type: ignore[arg-type]
        else:
            self.output = nn.Linear(features, 1)
        if cfg.init == "paper":
            init_like_paper(self)
        if num_classes and method == "projection":
            with torch.no_grad():
                std = (math.sqrt(2.0 / (features + 1)) if cfg.init == "paper"
                       else 1.0 / math.sqrt(3.0 * features))  # as the score's weights start
                _uniform_with_std(self.head.embed.weight, std)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor | tuple[Tensor, Tensor]:
        """Scores ``[B]``; conditional: ``D(x, labels)``, the scores (projection) or
        (scores ``[B]``, class logits ``[B, K]``) (AC)."""
        phi = self.blocks(self.input(x.transpose(1, 2))).flatten(1)
        if self.num_classes:
            if labels is None:
                raise ValueError("a conditional critic scores (x, labels)")
            return self.head(phi, labels)
        return self.output(phi).squeeze(1)


def generator_parameters(vocab_size: int, seq_len: int, cfg: TextModelConfig) -> int:
    r"""Parameters of :class:`TextGenerator`: $(Z + 1) D L$ (noise to $[D, L]$) $+ 2n(D^2 k + D)$
    ($n$ residual blocks) $+ D V + V$ (the output convolution)."""
    D, k = cfg.dim, cfg.kernel_size
    return ((cfg.noise_dim + 1) * D * seq_len + 2 * cfg.blocks * (D * D * k + D)
            + D * vocab_size + vocab_size)


def lm_hidden_size(vocab_size: int, seq_len: int, cfg: TextModelConfig) -> int:
    """The language model's hidden size: ``cfg.lm_hidden``, or (0) the largest whose parameter
    count is at most the GAN generator's at the same settings (at least 1)."""
    if cfg.lm_hidden:
        return cfg.lm_hidden
    budget = generator_parameters(vocab_size, seq_len, cfg)
    low, high = 1, 1
    while lstm_lm_parameters(vocab_size, cfg.dim, high, cfg.lm_layers) <= budget:
        low, high = high, high * 2
    while high - low > 1:  # the count grows with the hidden size: bisect
        mid = (low + high) // 2
        if lstm_lm_parameters(vocab_size, cfg.dim, mid, cfg.lm_layers) <= budget:
            low = mid
        else:
            high = mid
    return low


def build_generator(vocab_size: int, seq_len: int, model_cfg: TextModelConfig,
                    objective: str = "wgan-gp", pad_id: int = PAD_ID,
                    num_classes: int = 0) -> nn.Module:
    """The model samples come from: the GAN generator (``num_classes`` > 0: conditional), or
    for a likelihood objective the language model (``pad_id``: the id that ends its lines)."""
    if is_likelihood(objective):
        if num_classes:
            raise ConfigError("the language model (--objective mle) is not conditional")
        return LSTMLanguageModel(vocab_size, seq_len, model_cfg.dim,
                                 lm_hidden_size(vocab_size, seq_len, model_cfg),
                                 model_cfg.lm_layers, pad_id)
    return TextGenerator(vocab_size, seq_len, model_cfg, num_classes)


def build_models(vocab_size: int, seq_len: int, model_cfg: TextModelConfig,
                 objective: str = "wgan-gp", pad_id: int = PAD_ID, num_classes: int = 0,
                 conditional: str = "none") -> tuple[nn.Module, TextCritic | None]:
    """(generator, critic), or (language model, None) for a likelihood objective.
    ``conditional`` ``"ac"`` / ``"projection"`` with ``num_classes`` > 0: conditional models."""
    classes = num_classes if conditional != "none" else 0
    generator = build_generator(vocab_size, seq_len, model_cfg, objective, pad_id, classes)
    critic = None if is_likelihood(objective) else TextCritic(
        vocab_size, seq_len, model_cfg, classes, conditional if classes else "none")
    return generator, critic


def checkpoint_classes(state: dict[str, Any]) -> list[str]:
    """The class names of a conditional text checkpoint (or model folder), [] otherwise."""
    conditional = state.get("config", {}).get("train", {}).get("conditional", "none")
    return [str(name) for name in state.get("label_names") or []] if conditional != "none" else []


def generator_from_checkpoint(state: dict[str, Any], device: torch.device
                              ) -> tuple[nn.Module, Any, dict[str, Any]]:
    """(the model samples come from, in eval mode; tokenizer; saved config) from a text
    checkpoint alone — a GAN's generator or a language model, as its config says. No corpus
    needed. A damaged checkpoint raises KeyError/RuntimeError (the caller words it)."""
    from textgan.config import apply_overrides
    from textgan.text.prepare import tokenizer_from_json

    config = state["config"]
    model_cfg = apply_overrides(TextModelConfig(), config.get("model", {}), "model")
    tokenizer = tokenizer_from_json(state["tokenizer"])
    objective = config.get("train", {}).get("objective", "wgan-gp")
    generator = build_generator(len(tokenizer.vocab), int(config["data"]["seq_len"]), model_cfg,
                                objective, tokenizer.pad_id, len(checkpoint_classes(state)))
    generator.load_state_dict(state["generator"])
    return generator.to(device).eval(), tokenizer, config
