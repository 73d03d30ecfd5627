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
    # Levers past the paper's recipe (the defaults are the paper's networks exactly).
    # The critic's view of its input.
    critic_dim: int = setting(0, "The critic's width (0: model.dim); wider than the generator's "
                              "gives the critic more capacity.", flag=True, min=0, zero="model.dim")
    critic_representations: int = setting(
        1, "RelGAN's multiple representations: the critic embeds its input K times, each "
        "embedding critic_dim/K wide, scores each through the same residual blocks and averages "
        "the K scores (1: the paper's one embedding).", flag=True, min=1)
    critic_norm: Literal["none", "layer"] = setting(
        "none", "none, or layer: layer norm (per sample, over channels and positions) before each "
        "ReLU of the critic's residual blocks. Never batch norm: the penalty is per sample.",
        flag=True)
    critic_dropout: float = setting(0.0, "Dropout on the critic's residual branches while "
                                    "training (0: off).", flag=True, min=0.0)
    # The generator's output: what the critic is shown of it.
    gen_output: Literal["softmax", "gumbel", "straight-through"] = setting(
        "softmax", "softmax (the paper); gumbel: softmax(β(o + g)) of the logits o and Gumbel "
        "noise g while training (RelGAN); straight-through: the one-hot argmax of o + g forward, "
        "the gradient of that softmax backward.", flag=True)
    gen_temperature: float = setting(1.0, "The temperature τ of the generator's output softmax "
                                     "at the first step: β = 1/τ (1: the paper).", flag=True)
    gen_beta_max: float = setting(0.0, "Anneal the output's inverse temperature β from "
                                  "1/gen_temperature to this value (RelGAN's β_max, e.g. 100 or "
                                  "1000; 0: no annealing).", flag=True, min=0.0, zero="off")
    gen_anneal: Literal["exp", "linear"] = setting(
        "exp", "How β moves from 1/gen_temperature to gen_beta_max: exp (geometric, RelGAN's "
        "exp) or linear.")
    gen_anneal_steps: int = setting(0, "The step at which β reaches gen_beta_max (0: the run's "
                                    "length as recorded when it started).", min=0,
                                    zero="the run's length")
    # Capacity.
    attention: int = setting(0, "A self-attention block after this residual block in the "
                             "generator and in the critic (0: none).", flag=True, min=0,
                             zero="none")
    # A curriculum over sequence length for a fixed-length generator.
    curriculum_start: int = setting(
        0, "Curriculum: the critic sees only the first L characters of real and generated text, "
        "the rest as padding, L growing from this length to seq_len over curriculum_steps "
        "(0: off, the whole line).", flag=True, min=0, zero="off")
    curriculum_steps: int = setting(2000, "Curriculum: the step at which L reaches seq_len.",
                                    min=1)

    @property
    def critic_width(self) -> int:
        """The critic's total width (``critic_dim``, or ``dim``)."""
        return self.critic_dim or self.dim

    def validate(self) -> None:
        if self.init not in ("paper", "torch"):
            raise ConfigError(f"model.init must be 'paper' or 'torch', got {self.init!r}")
        if self.kernel_size < 1 or self.kernel_size % 2 == 0:
            raise ConfigError(f"model.kernel_size must be odd and positive, got {self.kernel_size}")
        k = self.critic_representations
        if self.critic_width % k:
            raise ConfigError(f"model.critic_representations ({k}) must divide the critic's width "
                              f"({self.critic_width}); choose a divisor or set model.critic_dim")
        if not 0.0 <= self.critic_dropout < 1.0:
            raise ConfigError(f"model.critic_dropout must be in [0, 1), got {self.critic_dropout}")
        if not (math.isfinite(self.gen_temperature) and self.gen_temperature > 0):
            raise ConfigError(f"model.gen_temperature must be a positive number, got "
                              f"{self.gen_temperature}")
        if self.attention > self.blocks:
            raise ConfigError(f"model.attention ({self.attention}) names a residual block after "
                              f"the last one ({self.blocks}); give 1..{self.blocks}, or 0 for none")


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

    Options (the critic's; off by default): ``norm="layer"`` puts a layer norm $N$ before each
    ReLU, $\mathrm{conv}_2(\mathrm{ReLU}(N_2(\mathrm{conv}_1(\mathrm{ReLU}(N_1(x))))))$, each
    normalising one sample over channels and positions with a learnt scale and shift per
    channel (tflib's layer norm); ``dropout`` $p$ drops the second ReLU's outputs while training.
    """

    def __init__(self, dim: int, kernel_size: int = 5, res_scale: float = 0.3,
                 norm: str = "none", dropout: float = 0.0) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2)
        self.conv2 = nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2)
        self.res_scale = res_scale
        layer = norm == "layer"
        self.norm1 = nn.GroupNorm(1, dim) if layer else None  # one group: the whole sample
        self.norm2 = nn.GroupNorm(1, dim) if layer else None
        self.dropout = nn.Dropout(dropout) if dropout else None

    def forward(self, x: Tensor) -> Tensor:
        if self.norm1 is None and self.dropout is None:
            residual = self.conv2(F.relu(self.conv1(F.relu(x))))
        else:
            h = self.conv1(F.relu(self.norm1(x) if self.norm1 is not None else x))
            h = F.relu(self.norm2(h) if self.norm2 is not None else h)
            residual = self.conv2(self.dropout(h) if self.dropout is not None else h)
        return x + self.res_scale * residual


class SelfAttention(nn.Module):
    r"""Self-attention over positions, a residual block of its own:

    $$\mathrm{out} = x + s \cdot W_o\, V \operatorname{softmax}\big(K^\top Q / \sqrt{D}\big),
      \qquad Q, K, V = W_{q,k,v}\, x \in \mathbb{R}^{D \times L}$$

    (one head; each position $i$ takes $\sum_j a_{ij} V_{:,j}$ with $a_{i,:}$ the softmax over $j$
    of $Q_{:,i} \cdot K_{:,j} / \sqrt{D}$; $s$ the residual scale). Per sample, written with
    plain matmuls so the penalty's double backward runs through it.
    """

    def __init__(self, dim: int, res_scale: float = 0.3) -> None:
        super().__init__()
        self.qkv = nn.Conv1d(dim, 3 * dim, 1)
        self.out = nn.Conv1d(dim, dim, 1)
        self.res_scale = res_scale

    def forward(self, x: Tensor) -> Tensor:
        q, k, v = self.qkv(x).chunk(3, dim=1)  # [B, D, L] each
        weights = torch.softmax(q.transpose(1, 2) @ k / math.sqrt(x.shape[1]), dim=-1)  # [B, i, j]
        return x + self.res_scale * self.out(v @ weights.transpose(1, 2))


def attention_block(cfg: TextModelConfig, dim: int) -> SelfAttention | None:
    """``cfg.attention``'s block at width ``dim`` (None: off), made after the other layers'
    initialisation so that they start from the weights they have without it."""
    if not cfg.attention:
        return None
    block = SelfAttention(dim, cfg.res_scale)
    if cfg.init == "paper":
        init_like_paper(block)
    return block


def run_blocks(blocks: nn.Sequential, attention: nn.Module | None, after: int, h: Tensor) -> Tensor:
    """The residual blocks, with ``attention`` (if any) after block number ``after`` (from 1)."""
    if attention is None:
        return blocks(h)
    for index, block in enumerate(blocks, start=1):
        h = block(h)
        if index == after:
            h = attention(h)
    return h


def inverse_temperature(cfg: TextModelConfig, step: int, run_steps: int) -> float:
    r"""The generator output's inverse temperature $\beta(t)$ at step $t$ (from 0).

    $\beta_0 = 1 / \tau_0$ (``gen_temperature``); without annealing (``gen_beta_max`` 0)
    $\beta(t) = \beta_0$. Annealed to $\beta_\max$ over $N$ steps (``gen_anneal_steps``, or the
    run's recorded length ``run_steps``), with $u = \min(1, t / N)$:

    - exp (RelGAN's): $\beta(t) = \beta_0 (\beta_\max / \beta_0)^u$;
    - linear: $\beta(t) = \beta_0 + (\beta_\max - \beta_0)\,u$.

    A function of the step and the run's settings alone, so a resumed run follows it exactly.
    """
    beta0 = 1.0 / cfg.gen_temperature
    if not cfg.gen_beta_max:
        return beta0
    u = min(1.0, step / max(1, cfg.gen_anneal_steps or run_steps))
    if cfg.gen_anneal == "exp":
        return beta0 * (cfg.gen_beta_max / beta0) ** u
    return beta0 + (cfg.gen_beta_max - beta0) * u


def curriculum_length(cfg: TextModelConfig, seq_len: int, step: int) -> int:
    r"""The curriculum's length $L(t)$ at step $t$: from $L_0$ (``curriculum_start``) to the
    line length $N$ over $S$ steps (``curriculum_steps``),

    $$L(t) = \min\big(N,\ L_0 + \lfloor (N - L_0)\, t / S \rfloor\big);$$

    $N$ throughout when the curriculum is off ($L_0 = 0$)."""
    start = cfg.curriculum_start
    if not start:
        return seq_len
    return min(seq_len, start + (seq_len - start) * step // cfg.curriculum_steps)


class _StraightThrough(torch.autograd.Function):
    """``hard`` forward; the gradient goes to ``soft`` unchanged (hard values exactly, unlike
    ``soft + (hard - soft).detach()``, whose rounding may leave 1 - 1e-8)."""

    @staticmethod
    def forward(ctx: Any, soft: Tensor, hard: Tensor) -> Tensor:
        return hard.clone()

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None]:
        return grad, None


class TextGenerator(nn.Module):
    r"""noise → Linear → [DIM, L] → ResBlocks → Conv1d(k=1) → softmax over the vocabulary.

    Conditional (``num_classes`` $K > 0$): a learnt embedding $E \in \mathbb{R}^{K \times D}$
    is added at every position of the first feature map, after the input Linear:

    $$h_{:, l} = (W z + b)_{:, l} + E_y \qquad (l = 1..L),$$

    then the blocks as usual. $E$ starts $\mathcal{N}(0, \sigma^2)$ with $\sigma$ the RMS of
    $W z$ at initialisation for $z \sim \mathcal{N}(0, I)$ (the label starts as loud as the
    noise); it is made after every other layer's initialisation, so the unconditional layers start
    from the same weights as an unconditional model's. ``labels=None``: the classes in turn
    (:func:`~textgan.core.conditional.cycled_labels`).

    What the critic is shown (``forward``), from the logits $o$ and the inverse temperature
    $\beta(t)$ of :func:`inverse_temperature` (the paper: $\beta = 1$, a softmax):

    - ``gen_output="softmax"``: $\mathrm{softmax}(\beta o)$;
    - ``"gumbel"``: $\mathrm{softmax}(\beta (o + g))$, $g$ standard Gumbel noise per position
      and character, drawn while training (RelGAN; in eval mode $g = 0$);
    - ``"straight-through"``: forward the one-hot $e_{\arg\max (o + g)}$, exactly; backward the
      gradient of $\mathrm{softmax}(\beta (o + g))$.

    The trainer calls ``follow_step(t, run_steps)`` before each step to move $\beta$. Sampling
    (``sample_ids``) reads the logits and is unchanged by all of this."""

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
        self.attention_after = cfg.attention
        self.attention = attention_block(cfg, cfg.dim)
        self.cfg = cfg
        self.gen_output = cfg.gen_output
        self.beta = inverse_temperature(cfg, 0, 1)
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
        return self.output(run_blocks(self.blocks, self.attention, self.attention_after,
                                      h)).transpose(1, 2)

    def follow_step(self, step: int, run_steps: int) -> None:
        """Set the output's inverse temperature for training step ``step`` of a run of
        ``run_steps`` (its recorded length)."""
        self.beta = inverse_temperature(self.cfg, step, run_steps)

    def forward(self, z: Tensor, temperature: float = 1.0, *,
                labels: Tensor | None = None) -> Tensor:
        """Distributions over characters, ``[B, L, V]``: the softmax of the logits at
        ``temperature`` / β, or its Gumbel / straight-through form (class docstring)."""
        logits = self.logits(z, labels).float()
        # β = 1 (the paper) divides by the temperature alone: bit for bit the plain softmax.
        tau = temperature if self.beta == 1.0 else temperature / self.beta
        if self.gen_output == "softmax":
            return torch.softmax(logits / tau, dim=-1)
        if self.training:  # standard Gumbel noise: -log E, E ~ Exp(1)
            logits = logits - torch.empty_like(logits).exponential_().log()
        soft = torch.softmax(logits / tau, dim=-1)
        if self.gen_output == "gumbel":
            return soft
        hard = F.one_hot(logits.argmax(-1), logits.shape[-1]).to(soft.dtype)
        return _StraightThrough.apply(soft, hard)

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
    $\langle E_y, \phi \rangle$ about $\sqrt{LD}$ times the score at first).

    Options (the defaults are the paper's critic, with the same layers and state-dict keys):

    - width $W$ = ``critic_dim`` (0: ``dim``);
    - $K$ = ``critic_representations`` (RelGAN's multiple representations, total width held
      fixed): the input convolution is $K$ embeddings $E_k \in \mathbb{R}^{(W/K) \times V}$ of
      the one-hot or soft input side by side, every representation goes through the same
      residual blocks and final Linear ($W/K$ wide) as a sample of its own, and the score is the
      mean, $D(x) = \frac{1}{K} \sum_k f(E_k x)$ (RelGAN sums its $K$ losses, the same up to the
      factor $K$); a conditional head scores and classifies each representation and averages;
    - ``critic_norm``, ``critic_dropout``: in each residual block (:class:`ResBlock`);
    - ``attention``: :class:`SelfAttention` after that residual block;
    - curriculum (``curriculum_start`` > 0): ``follow_step`` sets the length $L(t)$
      (:func:`curriculum_length`) and the critic reads the first $L(t)$ positions of its input
      and padding after them, $x'_{l} = x_l$ for $l < L(t)$ and $x'_l = e_\text{pad}$ after, in
      its own forward pass; so real text, generated text and the penalty's interpolates are cut
      alike, and $\nabla_x D$ is 0 beyond $L(t)$ (the penalty constrains the critic as it is).
    """

    def __init__(self, vocab_size: int, seq_len: int, cfg: TextModelConfig,
                 num_classes: int = 0, method: str = "none", pad_id: int = PAD_ID) -> None:
        super().__init__()
        if bool(num_classes) != (method != "none"):
            raise ValueError(f"a conditional critic needs classes and a method (got "
                             f"{num_classes} classes, method {method!r})")
        if cfg.curriculum_start > seq_len:
            raise ConfigError(f"model.curriculum_start ({cfg.curriculum_start}) is longer than "
                              f"the lines (seq_len {seq_len}); give 1..{seq_len}, or 0 for off")
        self.representations = cfg.critic_representations
        width = cfg.critic_width // self.representations  # of each representation
        self.vocab_size, self.seq_len, self.dim = vocab_size, seq_len, width
        self.num_classes = num_classes
        self.input = nn.Conv1d(vocab_size, width * self.representations, 1)
        self.blocks = nn.Sequential(*[ResBlock(width, cfg.kernel_size, cfg.res_scale,
                                               cfg.critic_norm, cfg.critic_dropout)
                                      for _ in range(cfg.blocks)])
        features = seq_len * width
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
        self.attention_after = cfg.attention
        self.attention = attention_block(cfg, width)
        self.cfg, self.pad_id = cfg, pad_id
        self.length = seq_len  # the curriculum's L(t); seq_len: the whole line

    def follow_step(self, step: int, run_steps: int) -> None:
        """Set the curriculum's length for training step ``step``."""
        self.length = curriculum_length(self.cfg, self.seq_len, step)

    def forward(self, x: Tensor, labels: Tensor | None = None) -> Tensor | tuple[Tensor, Tensor]:
        """Scores ``[B]``; conditional: ``D(x, labels)``, the scores (projection) or
        (scores ``[B]``, class logits ``[B, K]``) (AC)."""
        if self.length < self.seq_len:
            pad = F.one_hot(torch.tensor(self.pad_id, device=x.device), x.shape[-1]).to(x.dtype)
            x = torch.cat([x[:, :self.length], pad.expand(len(x), self.seq_len - self.length,
                                                          -1)], dim=1)
        h = self.input(x.transpose(1, 2))
        k = self.representations
        if k > 1:  # [B, K·W, L] → [B·K, W, L]: each representation a sample of its own
            h = h.reshape(len(x) * k, self.dim, self.seq_len)
        phi = run_blocks(self.blocks, self.attention, self.attention_after, h).flatten(1)
        if self.num_classes:
            if labels is None:
                raise ValueError("a conditional critic scores (x, labels)")
            out = self.head(phi, labels if k == 1 else labels.repeat_interleave(k))
            if k == 1:
                return out
            if isinstance(out, tuple):
                return out[0].view(-1, k).mean(1), out[1].view(len(x), k, -1).mean(1)
            return out.view(-1, k).mean(1)
        scores = self.output(phi).squeeze(1)
        return scores if k == 1 else scores.view(-1, k).mean(1)


def generator_parameters(vocab_size: int, seq_len: int, cfg: TextModelConfig) -> int:
    r"""Parameters of :class:`TextGenerator`: $(Z + 1) D L$ (noise to $[D, L]$) $+ 2n(D^2 k + D)$
    ($n$ residual blocks) $+ D V + V$ (the output convolution), and with ``attention``
    $4 D^2 + 4 D$."""
    D, k = cfg.dim, cfg.kernel_size
    attention = 4 * D * D + 4 * D if cfg.attention else 0  # Q, K, V and the output, 1×1
    return ((cfg.noise_dim + 1) * D * seq_len + 2 * cfg.blocks * (D * D * k + D)
            + D * vocab_size + vocab_size + attention)


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
        vocab_size, seq_len, model_cfg, classes, conditional if classes else "none", pad_id)
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
