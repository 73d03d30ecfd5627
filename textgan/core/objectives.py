r"""GAN objectives: the WGAN-GP losses and gradient penalty, and the paper's comparison objectives.

Notation: $D$ the critic, $G$ the generator, $x \sim P_r$ real, $\tilde x = G(z) \sim P_g$ fake.
Inputs may have any shape $[B, \dots]$: a text batch is $[B, L, V]$ (one-hot real, softmax fake),
an image batch $[B, C, H, W]$, a toy batch $[B, 2]$. Nothing here knows which.

WGAN-GP (Gulrajani et al. 2017, Algorithm 1):

$$L_D = \mathbb{E}[D(\tilde x)] - \mathbb{E}[D(x)]
        + \lambda\,\mathbb{E}_{\hat x}\big[(\lVert \nabla_{\hat x} D(\hat x) \rVert_2 - 1)^2\big],
  \qquad \hat x = x + \alpha(\tilde x - x),\ \alpha \sim U[0, 1] \text{ per sample}$$

$$L_G = -\mathbb{E}[D(G(z))]$$
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor, nn

Critic = Callable[[Tensor], Tensor]


def per_sample_grad_norm(grad: Tensor) -> Tensor:
    r"""$\lVert g_i \rVert_2$ over *all* non-batch dimensions of each sample $i$.

    For text that is the whole (seq_len × vocab) input, as in the paper's code. (A common PyTorch
    port takes the norm over one axis only, which penalises each position separately.)
    """
    return grad.flatten(start_dim=1).norm(2, dim=1)


def interpolate(real: Tensor, fake: Tensor, alpha: Tensor | None = None) -> Tensor:
    r"""$\hat x = x + \alpha(\tilde x - x)$ with one $\alpha \sim U[0,1]$ per sample."""
    if alpha is None:
        alpha = torch.rand(real.shape[0], device=real.device, dtype=real.dtype)
    alpha = alpha.view(-1, *([1] * (real.dim() - 1)))
    return real + alpha * (fake - real)


def gradient_penalty(
    critic: Critic, real: Tensor, fake: Tensor, *, one_sided: bool = False,
    alpha: Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    r"""Penalty on random interpolates, and the per-sample gradient norms.

    Two-sided (the paper's default): $\mathbb{E}[(\lVert\nabla_{\hat x} D(\hat x)\rVert_2 - 1)^2]$.
    One-sided (the paper's appendix variant): $\mathbb{E}[\max(0, \lVert\nabla D(\hat x)\rVert_2 - 1)^2]$.
    """
    x_hat = interpolate(real.detach(), fake.detach(), alpha).requires_grad_(True)
    return penalty_at(x_hat, critic(x_hat), one_sided=one_sided)


def penalty_at(x_hat: Tensor, scores: Tensor, *, one_sided: bool = False) -> tuple[Tensor, Tensor]:
    r"""The penalty from interpolates $\hat x$ (``requires_grad``) and their scores $D(\hat x)$.

    The gradient is taken with ``create_graph=True`` so the penalty itself can be backpropagated
    into the critic's parameters (a double backward).
    """
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    # Norms in at least fp32 even under bf16 autocast (double stays double).
    norms = per_sample_grad_norm(grad.to(torch.promote_types(grad.dtype, torch.float32)))
    excess = norms - 1.0
    if one_sided:
        excess = excess.clamp(min=0.0)
    return (excess**2).mean(), norms


def _fp32(x: Tensor) -> Tensor:
    """Losses are accumulated in at least fp32 (bf16 scores are upcast; double stays double)."""
    return x.to(torch.promote_types(x.dtype, torch.float32))


class Objective:
    """How the critic and generator losses are computed; stats are detached tensors (no sync)."""

    name: str = "objective"

    def critic_loss(self, critic: nn.Module, real: Tensor, fake: Tensor,
                    critic_step: int = 0) -> tuple[Tensor, dict]:
        """The critic's loss and detached stats; ``critic_step`` counts critic updates from 0
        over the whole run (a lazy regulariser uses it)."""
        raise NotImplementedError

    def generator_loss(self, critic: nn.Module, fake: Tensor) -> Tensor:
        raise NotImplementedError

    def after_critic_step(self, critic: nn.Module) -> None:
        """Hook run after each critic optimiser step (weight clipping lives here)."""


@dataclass
class WGANGP(Objective):
    r"""WGAN with gradient penalty. $L_D$ and $L_G$ as in the module docstring.

    ``wasserstein`` logged is the critic's estimate $\mathbb{E}[D(x)] - \mathbb{E}[D(\tilde x)]$.

    Faster variants, off by default (the paper's exact penalty is the default):

    - ``critic_batching="joint"``: score real and fake in one critic pass on ``cat([x, x̃])``;
      ``"joint-penalty"``: real, fake and interpolates in one pass on ``cat([x, x̃, x̂])``. The math
      is the same (the critic has no batch coupling); only the floating-point summation order
      inside the kernels may differ.
    - ``penalty_every = k > 1`` (lazy regularisation, as StyleGAN2 does for R1): the penalty is
      computed only on critic steps $s$ with $s \bmod k = 0$, weighted $\lambda k$ so its
      average strength is unchanged: $L_D = \mathbb{E}[D(\tilde x)] - \mathbb{E}[D(x)] +
      [s \bmod k = 0]\,\lambda k\,\mathrm{GP}$.
    """

    gp_lambda: float = 10.0
    one_sided: bool = False
    critic_batching: str = "separate"  # "separate" | "joint" | "joint-penalty"
    penalty_every: int = 1

    @property
    def name(self) -> str:  # type: ignore[override]
        return "wgan-gp-one-sided" if self.one_sided else "wgan-gp"

    def critic_loss(self, critic: nn.Module, real: Tensor, fake: Tensor,
                    critic_step: int = 0) -> tuple[Tensor, dict]:
        with_penalty = critic_step % self.penalty_every == 0
        n = real.shape[0]
        x_hat = interpolate(real.detach(), fake.detach()).requires_grad_(True) if with_penalty \
            else None
        if self.critic_batching == "separate":
            d_real = _fp32(critic(real)).mean()
            d_fake = _fp32(critic(fake)).mean()
            hat_scores = critic(x_hat) if x_hat is not None else None
        else:
            both = self.critic_batching == "joint-penalty" and x_hat is not None
            scores = critic(torch.cat([real, fake, x_hat] if both else [real, fake]))
            d_real, d_fake = _fp32(scores[:n]).mean(), _fp32(scores[n:2 * n]).mean()
            hat_scores = scores[2 * n:] if both else critic(x_hat) if x_hat is not None else None
        loss = d_fake - d_real
        stats = {"wasserstein": (d_real - d_fake).detach()}
        if x_hat is not None and hat_scores is not None:
            penalty, norms = penalty_at(x_hat, hat_scores, one_sided=self.one_sided)
            loss = loss + self.gp_lambda * self.penalty_every * penalty
            stats |= {"penalty": penalty.detach(), "grad_norm": norms.detach().mean()}
        return loss, {"critic_loss": loss.detach(), **stats}

    def generator_loss(self, critic: nn.Module, fake: Tensor) -> Tensor:
        r"""$L_G = -\mathbb{E}[D(G(z))]$."""
        return -_fp32(critic(fake)).mean()


@dataclass
class WGANClip(Objective):
    r"""The original WGAN (Arjovsky et al. 2017): $L_D = \mathbb{E}[D(\tilde x)] - \mathbb{E}[D(x)]$,
    with every critic weight clipped to $[-c, c]$ after each step (paper: $c = 0.01$, RMSProp)."""

    clip: float = 0.01
    name: str = "wgan-clip"

    def critic_loss(self, critic: nn.Module, real: Tensor, fake: Tensor,
                    critic_step: int = 0) -> tuple[Tensor, dict]:
        d_real = _fp32(critic(real)).mean()
        d_fake = _fp32(critic(fake)).mean()
        loss = d_fake - d_real
        return loss, {"critic_loss": loss.detach(), "wasserstein": (d_real - d_fake).detach()}

    def generator_loss(self, critic: nn.Module, fake: Tensor) -> Tensor:
        return -_fp32(critic(fake)).mean()

    @torch.no_grad()
    def after_critic_step(self, critic: nn.Module) -> None:
        for p in critic.parameters():
            p.clamp_(-self.clip, self.clip)


@dataclass
class StandardGAN(Objective):
    r"""Goodfellow et al.'s GAN with the non-saturating generator loss, on critic logits $D$:

    $L_D = -\mathbb{E}[\log \sigma(D(x))] - \mathbb{E}[\log(1 - \sigma(D(\tilde x)))]$,
    $L_G = -\mathbb{E}[\log \sigma(D(G(z)))]$.
    """

    name: str = "gan"

    def critic_loss(self, critic: nn.Module, real: Tensor, fake: Tensor,
                    critic_step: int = 0) -> tuple[Tensor, dict]:
        d_real = _fp32(critic(real))
        d_fake = _fp32(critic(fake))
        bce = nn.functional.binary_cross_entropy_with_logits
        loss = bce(d_real, torch.ones_like(d_real)) + bce(d_fake, torch.zeros_like(d_fake))
        return loss, {"critic_loss": loss.detach()}

    def generator_loss(self, critic: nn.Module, fake: Tensor) -> Tensor:
        d_fake = _fp32(critic(fake))
        return nn.functional.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))


@dataclass
class LSGAN(Objective):
    r"""Least-squares GAN (Mao et al. 2017) with targets $a = 0$ (fake), $b = 1$ (real) for the
    critic and $c = 1$ for the generator, as the paper's ``gan_64x64.py`` baseline computes it:

    $L_D = \tfrac12\big(\mathbb{E}[(D(x) - 1)^2] + \mathbb{E}[D(\tilde x)^2]\big)$,
    $L_G = \mathbb{E}[(D(G(z)) - 1)^2]$ (no ½ on $L_G$ there).
    """

    name: str = "lsgan"

    def critic_loss(self, critic: nn.Module, real: Tensor, fake: Tensor,
                    critic_step: int = 0) -> tuple[Tensor, dict]:
        d_real = _fp32(critic(real))
        d_fake = _fp32(critic(fake))
        loss = (((d_real - 1.0) ** 2).mean() + (d_fake**2).mean()) / 2.0
        return loss, {"critic_loss": loss.detach()}

    def generator_loss(self, critic: nn.Module, fake: Tensor) -> Tensor:
        return ((_fp32(critic(fake)) - 1.0) ** 2).mean()


@dataclass(frozen=True)
class ObjectiveOptions:
    """The training settings an objective is built with (those of TrainConfig it may read)."""

    gp_lambda: float = 10.0
    clip: float = 0.01
    critic_batching: str = "separate"
    penalty_every: int = 1


@dataclass(frozen=True)
class ObjectiveSpec:
    """One objective of the registry: how to build it, its paper optimiser settings
    (TrainConfig keys), and whether it is a likelihood objective.

    A likelihood objective (``build`` None) is trained without a critic, by maximum likelihood
    (textgan.core.likelihood; modes that have a likelihood model build it instead of a generator
    and a critic). Choosing an objective other than the preset's applies its ``defaults`` over
    the preset; a config file and flags still win (textgan.training.resolve_config). The penalty
    weight λ stays the mode's (10; toy 0.1).
    """

    build: Callable[[ObjectiveOptions], Objective] | None
    defaults: dict[str, object]
    likelihood: bool = False
    # A gradient penalty is per sample: a critic with normalisation must then normalise each
    # sample on its own (layer norm), not across the batch.
    penalty: bool = False


# Every objective, by the name --objective takes: a new objective is one entry here.
REGISTRY: dict[str, ObjectiveSpec] = {
    # Gulrajani et al. 2017, Algorithm 1: Adam(α = 1e-4, β = (0.5, 0.9)).
    "wgan-gp": ObjectiveSpec(
        lambda o: WGANGP(gp_lambda=o.gp_lambda, critic_batching=o.critic_batching,
                         penalty_every=o.penalty_every),
        {"optimizer": "adam", "lr": 1e-4, "betas": [0.5, 0.9]}, penalty=True),
    # The appendix's one-sided variant changes only the penalty.
    "wgan-gp-one-sided": ObjectiveSpec(
        lambda o: WGANGP(gp_lambda=o.gp_lambda, one_sided=True, critic_batching=o.critic_batching,
                         penalty_every=o.penalty_every),
        {"optimizer": "adam", "lr": 1e-4, "betas": [0.5, 0.9]}, penalty=True),
    # Arjovsky et al. 2017 (and the paper's baselines): RMSProp(5e-5), clip c = 0.01, n_critic = 5.
    "wgan-clip": ObjectiveSpec(lambda o: WGANClip(clip=o.clip),
                               {"optimizer": "rmsprop", "lr": 5e-5, "clip": 0.01, "critic_iters": 5}),
    # DCGAN (Radford et al. 2016; the paper's gan_mnist.py "dcgan" mode): Adam(2e-4, β1 = 0.5,
    # β2 = 0.999 the default), one discriminator step per generator step.
    "gan": ObjectiveSpec(lambda o: StandardGAN(),
                         {"optimizer": "adam", "lr": 2e-4, "betas": [0.5, 0.999], "critic_iters": 1}),
    # LSGAN (the paper's Appendix E, and its gan_64x64.py): RMSProp(1e-4), one critic step per
    # generator step.
    "lsgan": ObjectiveSpec(lambda o: LSGAN(), {"optimizer": "rmsprop", "lr": 1e-4, "critic_iters": 1}),
    # A character LSTM language model: Adam with its usual β = (0.9, 0.999) and rate 2e-3
    # (char-rnn's), no warm-up needed at this size. See textgan/text/lm.py. 2e-3 rather than the
    # slightly better 4e-3 as the safer rate for long runs without a schedule, so it keeps a
    # constant rate where a preset decays the GAN's (the cpu preset's decay is tuned for the GAN).
    # measured: docs/results/gan-vs-mle-brown.json
    "mle": ObjectiveSpec(None, {"optimizer": "adam", "lr": 2e-3, "betas": [0.9, 0.999],
                                "lr_schedule": "constant"}, likelihood=True),
}


def objective_names() -> tuple[str, ...]:
    """The names ``--objective`` accepts (the ``objective`` setting's choices)."""
    return tuple(REGISTRY)


def __getattr__(name: str) -> object:
    # Views of REGISTRY, read when asked for, so an objective registered later is in them.
    if name == "OBJECTIVES":
        return objective_names()
    if name == "GAN_OBJECTIVES":
        return tuple(n for n, spec in REGISTRY.items() if not spec.likelihood)
    if name == "LIKELIHOOD_OBJECTIVES":
        return tuple(n for n, spec in REGISTRY.items() if spec.likelihood)
    if name == "OBJECTIVE_DEFAULTS":
        return {n: dict(spec.defaults) for n, spec in REGISTRY.items()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _spec(name: str) -> ObjectiveSpec:
    if name not in REGISTRY:
        from textgan.errors import ConfigError

        raise ConfigError(f"unknown objective '{name}'; choose one of {', '.join(REGISTRY)}")
    return REGISTRY[name]


def is_likelihood(name: str) -> bool:
    """Whether objective ``name`` trains a likelihood model (no critic) rather than a GAN."""
    return name in REGISTRY and REGISTRY[name].likelihood


def has_penalty(name: str) -> bool:
    """Whether objective ``name`` has a gradient penalty (so a normalised critic uses layer
    norm)."""
    return name in REGISTRY and REGISTRY[name].penalty


def objective_defaults(name: str) -> dict[str, object]:
    """The paper's optimiser settings for objective ``name`` (a copy)."""
    return dict(_spec(name).defaults)


def make_objective(name: str, gp_lambda: float = 10.0, clip: float = 0.01, *,
                   critic_batching: str = "separate", penalty_every: int = 1) -> Objective:
    """GAN objective by its CLI name (the penalty options apply to the WGAN-GP objectives)."""
    build = _spec(name).build
    if build is None:  # a likelihood objective
        from textgan.errors import ConfigError

        raise ConfigError(f"objective '{name}' trains without a critic: it has no GAN losses")
    return build(ObjectiveOptions(gp_lambda, clip, critic_batching, penalty_every))
