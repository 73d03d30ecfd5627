"""Trainers, modality-free: what :func:`textgan.core.loop.fit` drives, one step at a time.

:class:`TrainerProtocol` is what the loop needs of a trainer. Two implement it, chosen from the
objective (:func:`textgan.training.make_trainer`):

- :class:`Trainer` (the GAN objectives) knows a generator, a critic, a source of real batches and
  an objective — nothing of text or images. One *step* is one generator iteration:
  ``critic_iters`` critic updates, each on a fresh real batch and a fresh fake batch, then one
  generator update with the critic frozen.
- :class:`~textgan.core.likelihood.LikelihoodTrainer` (``mle``) fits a model by maximum
  likelihood on real batches.

:class:`TrainerBase` holds what both share: learning-rate schedule, precision, RNG state, the
finite-parameter check.
"""

from __future__ import annotations

import random
import re
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import torch
from torch import Tensor, nn

from textgan.config import setting
from textgan.core.conditional import (
    LabelledCritic,
    accuracy,
    classification_loss,
    num_classes_of,
)
from textgan.core.distributed import Context, LocalContext
from textgan.core.ema import GeneratorEMA
from textgan.core.objectives import Objective, is_likelihood, make_objective, objective_names
from textgan.errors import ConfigError


@dataclass
class TrainConfig:
    """Optimisation settings shared by every mode (paper defaults for text)."""

    steps: int = setting(200_000, "Generator iterations to train to (in total).", flag=True, min=1,
                         resumable=True)
    batch_size: int = setting(64, "Batch size per process (paper: 64); under torchrun every rank "
                              "draws this many, so a step sees ranks × batch size samples.", flag=True, min=1)
    critic_iters: int = setting(10, "Critic steps per generator step (paper: 10).", flag=True, min=1)
    objective: str = setting(
        "wgan-gp", "What to train with: a GAN objective, or mle: the maximum-likelihood baseline, "
        "a language model without critic (text mode). Brings that objective's optimiser "
        "settings unless given.", flag=True,
        choices=objective_names)
    gp_lambda: float = setting(10.0, "Penalty weight λ (paper: 10).", flag=True, min=0.0)
    clip: float = setting(0.01, "wgan-clip: weight clipping bound c.", flag=True, min=0.0)
    optimizer: Literal["adam", "rmsprop"] = setting("adam", "adam or rmsprop (wgan-clip's).")
    lr: float = setting(1e-4, "Generator learning rate (paper: 1e-4).", flag=True, min=0.0)
    lr_critic: float | None = setting(None, "Critic learning rate [default: same as --lr].",
                                      flag=True, min=0.0)
    betas: tuple[float, float] = setting((0.5, 0.9), "Adam's β1 and β2 (paper: 0.5, 0.9).")
    critic_weight_decay: float = setting(0.0, "L2 weight decay of the critic's optimiser (the "
                                         "paper's random architectures: 1e-3 for a critic with "
                                         "batch or layer norm).", min=0.0)
    precision: Literal["fp32", "bf16"] = setting("fp32", "fp32 (exact) or bf16 (autocast).",
                                                 flag=True)
    critic_batching: Literal["separate", "joint", "joint-penalty"] = setting(
        "separate", "separate: real and fake batches through the critic in one pass each, as the "
        "paper's code; joint: in one concatenated pass; joint-penalty: real, fake and "
        "interpolates in one pass (same math, other floating-point summation order).", flag=True)
    seed: int = setting(0, "Random seed.", flag=True)
    device: str = setting("auto", "auto (CUDA if present), cpu, cuda, cuda:N.", flag=True,
                          resumable=True)
    # measured: docs/results/threads-cpu.json
    threads: int = setting(0, "CPU threads for torch's operators (0: torch's default, one per "
                           "core).", flag=True, min=0, zero="torch's default", resumable=True)
    log_every: int = setting(1, "Steps between metrics.jsonl records.", min=1, resumable=True)
    checkpoint_every: int = setting(500, "Steps between checkpoints.", flag=True, min=1,
                                    resumable=True)
    sample_every: int = setting(100, "Steps between sample files (0: off).", flag=True, min=0,
                                zero="off", resumable=True)
    eval_every: int = setting(100, "Steps between in-training evaluations (text: JS-1..4; "
                              "0: off).", flag=True, min=0, zero="off", resumable=True)
    keep_checkpoints: int = setting(3, "How many checkpoints to keep.", flag=True, min=1,
                                    resumable=True)
    # Faster learning. The defaults keep the paper's training exactly.
    ema_decay: float = setting(0.0, "Keep a moving average of the generator's weights with this "
                               "decay (e.g. 0.999, with warm-up); samples and evaluations use it. "
                               "0: off.", flag=True)
    penalty_every: int = setting(1, "Lazy penalty: compute the gradient penalty on every k-th "
                                 "critic step only, weighted λ·k (1: every step, the paper).",
                                 flag=True, min=1)
    lr_schedule: Literal["constant", "linear"] = setting(
        "constant", "constant (the paper's text setup) or linear: decay both learning rates to 0 "
        "at --steps (the paper's CIFAR-10 code).", flag=True)
    # The schedule as recorded when the run starts, so a resume to another --steps keeps it.
    schedule_steps: int = setting(0, "The step at which the linear schedule reaches rate 0, "
                                  "recorded when a run starts (0: not yet: --steps, or what "
                                  "--time-budget chooses).", min=0, recorded=True)
    decay_from_step: int = setting(0, "Where the linear decay starts after --reschedule or a "
                                   "time budget's sizing (0: at the first step).", min=0, recorded=True)
    decay_from_factor: float = setting(1.0, "The fraction of the base rates at decay_from_step.",
                                       recorded=True)
    time_budget: str | None = setting(None, "Train for this long, wall clock (40m, 1800s, 1.5h or "
                               "seconds): times the first steps and sets --steps so that "
                               "training, evaluations, samples and checkpoints end within it. "
                               "Resumed runs get what is left.", flag=True, resumable=True)
    warmup_steps: int = setting(0, "Ramp both learning rates up linearly over this many "
                                "generator steps (0: off).", flag=True, min=0, zero="off")
    gen_batch_multiple: int = setting(1, "The generator step's batch is this many times the "
                                      "critic's (the paper's CIFAR-10 code: 2).", flag=True, min=1)
    best_metric: str = setting("", "Keep checkpoints/best.pt by this logged metric, lower is "
                               "better [default: the mode's: text js4, image and toy swd].",
                               flag=True)
    # Class-conditional generation (textgan.core.conditional); needs labelled data.
    conditional: Literal["none", "ac", "projection"] = setting(
        "none", "none; ac: the paper's supervised model, a classifier head on the critic whose "
        "cross-entropy joins both losses; projection: the label projected onto the critic's "
        "features (Miyato & Koyama 2018). Needs labelled data.", flag=True)
    ac_scale: float = setting(1.0, "AC: weight of the critic's classification loss on real data "
                              "(the paper's ACGAN_SCALE: 1).", flag=True, min=0.0)
    ac_scale_g: float = setting(0.1, "AC: weight of the generator's classification loss on its "
                                "samples (the paper's ACGAN_SCALE_G: 0.1).", flag=True, min=0.0)

    def validate(self) -> None:
        # (the settings' limits, min=..., are checked before this: textgan.config.check_limits)
        if not 0.0 <= self.decay_from_factor <= 1.0:
            raise ConfigError(f"decay_from_factor must be in [0, 1], got {self.decay_from_factor}")
        if self.decay_from_step and self.decay_from_step >= self.schedule_steps:
            raise ConfigError(f"decay_from_step ({self.decay_from_step}) must come before "
                              f"schedule_steps ({self.schedule_steps})")
        parse_duration(self.time_budget or "")  # a bad duration: one line, naming the flag
        if not 0.0 <= self.ema_decay < 1.0:
            raise ConfigError(f"ema_decay must be in [0, 1) (0: off), got {self.ema_decay}")
        if self.conditional != "none" and is_likelihood(self.objective):
            raise ConfigError(f"--conditional {self.conditional} is for GAN objectives; "
                              f"--objective {self.objective} trains without a critic")

    @property
    def budget_seconds(self) -> float:
        """``time_budget`` in seconds (0: no budget)."""
        return parse_duration(self.time_budget or "")


_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)\s*([smh]?)")
_UNIT = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds in ``40m``, ``1800s``, ``1.5h`` or ``1800`` (empty or 0: no budget)."""
    if not text.strip():
        return 0.0
    found = _DURATION.fullmatch(text.strip().lower())
    if not found:
        raise ConfigError(f"--time-budget {text!r} is not a duration; write e.g. 40m, 1800s, 1.5h "
                          "or a number of seconds")
    return float(found[1]) * _UNIT[found[2]]


def linear_decay(config: TrainConfig, step: int) -> float:
    r"""The linear schedule's factor for step $t$ (from 0).

    Recorded length $T$ (``schedule_steps``): $\max(0, 1 - t / T)$, the paper's CIFAR-10 code.
    After a re-sizing at step $s$ (``decay_from_step``) from factor $f$ (``decay_from_factor``):
    $f \cdot \max(0, 1 - (t - s) / (T - s))$ for $t \ge s$ — a straight line from the rate the
    run had to 0 at $T$. Not recorded (a run built without :mod:`textgan.training`):
    $T$ = ``steps``; a time budget not yet sized: 1.
    """
    end = config.schedule_steps
    if not end:
        return 1.0 if config.budget_seconds else max(0.0, 1.0 - step / config.steps)
    start = config.decay_from_step
    if not start:
        return max(0.0, 1.0 - step / end)
    return config.decay_from_factor * max(0.0, 1.0 - (step - start) / (end - start))


def resize_schedule(config: TrainConfig, step: int, end: int) -> None:
    """Make ``config`` train to step ``end``, the linear schedule (if any) going from its factor
    at ``step`` to 0 at ``end``. In place: the trainer, the loop and the session share it."""
    if end > step:
        if config.lr_schedule == "linear" and step > 0:
            config.decay_from_factor = linear_decay(config, step)
            config.decay_from_step = step
        elif step == 0:
            config.decay_from_step, config.decay_from_factor = 0, 1.0
        config.schedule_steps = end
    config.steps = end


class BatchSource(Protocol):
    """Real data for the critic; its position/RNG is part of the checkpoint."""

    def next_batch(self, batch_size: int, device: torch.device) -> Tensor: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> None: ...


def _set_requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


@runtime_checkable
class TrainerProtocol(Protocol):
    """What :func:`textgan.core.loop.fit` and :mod:`textgan.training` need of a trainer.

    ``train_step`` runs one step and returns detached stats (tensors: no host sync);
    ``state_dict`` is everything an exact resume needs (models, optimisers, data position, RNG);
    ``models`` names the modules (checkpoint keys) that every rank must hold identically;
    ``ema`` is the moving average of the sampled model, or None.
    """

    config: TrainConfig
    dist: Context
    device: torch.device
    step: int
    ema: GeneratorEMA | None

    @property
    def is_main(self) -> bool: ...
    def train_step(self) -> dict[str, Tensor]: ...
    def models(self) -> dict[str, nn.Module]: ...
    def parameters_finite(self) -> bool: ...
    def rng_state(self) -> dict[str, Any]: ...
    def load_rng_state(self, rng: dict[str, Any]) -> None: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class TrainerBase:
    """What every trainer shares: schedules, precision, RNG state and the finite check.

    A subclass sets ``config``, ``device``, ``dist``, ``data``, ``step``, ``ema`` and ``base_lr``
    (optimiser → its base learning rate), and implements ``train_step``, ``models`` and
    ``checkpointed``.
    """

    config: TrainConfig
    device: torch.device
    dist: Context
    data: BatchSource
    step: int
    ema: GeneratorEMA | None
    base_lr: dict[torch.optim.Optimizer, float]

    def models(self) -> dict[str, nn.Module]:
        raise NotImplementedError

    def checkpointed(self) -> dict[str, Any]:
        """Checkpoint key → the model or optimiser saved under it (``state_dict`` and
        ``load_state_dict``)."""
        raise NotImplementedError

    def make_optimizer(self, module: nn.Module, lr: float,
                       weight_decay: float = 0.0) -> torch.optim.Optimizer:
        """``config.optimizer`` over ``module``'s parameters at rate ``lr`` (L2 ``weight_decay``
        added to the gradient)."""
        # foreach: the same arithmetic as the per-tensor loop (bit-identical), with a third less
        # time in the optimiser on a CPU.
        if self.config.optimizer == "adam":
            return torch.optim.Adam(module.parameters(), lr=lr, betas=self.config.betas,
                                    weight_decay=weight_decay, foreach=True)
        return torch.optim.RMSprop(module.parameters(), lr=lr, weight_decay=weight_decay,
                                   foreach=True)

    def lr_factor(self, step: int) -> float:
        r"""Learning-rate multiplier for step ``step`` (from 0), for every optimiser:
        warm-up $\min(1, (t + 1) / W)$ times, for the linear schedule, :func:`linear_decay` (the
        paper's CIFAR-10 code: $1 - t / T$, 0 at its last iteration $T$)."""
        cfg = self.config
        factor = min(1.0, (step + 1) / cfg.warmup_steps) if cfg.warmup_steps else 1.0
        if cfg.lr_schedule == "linear":
            factor *= linear_decay(cfg, step)
        return factor

    def apply_lr_schedule(self) -> None:
        """Set every optimiser's rate for the coming step (a Python float: no host sync)."""
        factor = self.lr_factor(self.step)
        for opt, base in self.base_lr.items():
            for group in opt.param_groups:
                group["lr"] = base * factor

    def follow_schedules(self) -> None:
        """Tell each model that follows the run's progress (one with a ``follow_step(step,
        run_steps)`` method: an annealed output temperature, a curriculum) the coming step and
        the run's length as recorded when it started (``schedule_steps``; else ``steps``). The
        step is checkpointed and the length recorded, so a resumed run follows them exactly."""
        run_steps = self.config.schedule_steps or self.config.steps
        for module in self.models().values():
            follow = getattr(module, "follow_step", None)
            if follow is not None:
                follow(self.step, run_steps)

    def autocast(self) -> Any:
        """bf16 autocast for convolutions and linears when asked; losses/norms stay fp32.

        Under autocast only the matmul-like ops (conv, linear) run in bf16; the objectives upcast
        the critic's scores to fp32, the penalty's per-sample norm runs on an fp32 gradient (the
        gradient w.r.t. the fp32 interpolates), and every backward runs outside the context.
        """
        if self.config.precision == "bf16":
            return torch.autocast(self.device.type, dtype=torch.bfloat16)
        return nullcontext()

    @property
    def is_main(self) -> bool:
        """Whether this process logs, samples and checkpoints (always, unless data-parallel)."""
        return self.dist.is_main

    def parameters_finite(self) -> bool:
        params = [p for m in self.models().values() for p in m.parameters()]
        return bool(torch.stack([torch.isfinite(p).all() for p in params]).all())

    # -- checkpointing ------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        ema = {"generator_ema": self.ema.state_dict()} if self.ema is not None else {}
        parts = {key: part.state_dict() for key, part in self.checkpointed().items()}
        return {**ema, "trainer_step": self.step, **parts, "data": self.data.state_dict(),
                "rng": self.rng_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key, part in self.checkpointed().items():
            part.load_state_dict(state[key])
        self.data.load_state_dict(state["data"])
        self.load_rng_state(state["rng"])
        self.step = int(state["trainer_step"])
        if self.ema is not None:
            self.ema.load_state_dict(state["generator_ema"])

    def rng_state(self) -> dict[str, Any]:
        """The process-wide RNG states training draws noise and interpolation weights from."""
        rng: dict[str, Any] = {
            "torch": torch.get_rng_state(),
            "numpy": np.random.get_state(legacy=False),
            "python": random.getstate(),
        }
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return rng

    def load_rng_state(self, rng: dict[str, Any]) -> None:
        torch.set_rng_state(rng["torch"])
        np.random.set_state(rng["numpy"])
        random.setstate(_as_python_state(rng["python"]))
        if self.device.type == "cuda" and "cuda" in rng:
            torch.cuda.set_rng_state(rng["cuda"], self.device)


def enable_bf16_matmuls(device: torch.device, config: TrainConfig) -> None:
    """bf16 was asked for: the matmuls/convolutions left in fp32 (outside autocast) may use TF32
    too. Exact fp32 (the default) keeps full-precision matmuls."""
    if device.type == "cuda" and config.precision == "bf16":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


class Trainer(TrainerBase):
    """The GAN objectives' trainer: holds generator, critic, optimisers and RNG;
    ``train_step()`` runs one generator iteration."""

    def __init__(self, generator: nn.Module, critic: nn.Module, data: BatchSource,
                 config: TrainConfig, device: torch.device,
                 objective: Objective | None = None,
                 dist: Context | None = None) -> None:
        self.generator = generator.to(device)
        self.critic = critic.to(device)
        self.data = data
        self.config = config
        self.device = device
        self.objective = objective or make_objective(
            config.objective, config.gp_lambda, config.clip,
            critic_batching=config.critic_batching, penalty_every=config.penalty_every)
        # Data-parallel training (textgan.core.distributed): gradients are averaged across ranks
        # after every backward, before the optimiser step. Alone, the collectives are identities.
        self.dist = dist or LocalContext(device)
        self.dist.broadcast_modules(self.generator, self.critic)
        enable_bf16_matmuls(device, config)
        self.noise_dim: int = generator.noise_dim  # type: ignore[assignment]
        lr_critic = config.lr if config.lr_critic is None else config.lr_critic
        self.opt_g = self.make_optimizer(generator, config.lr)
        self.opt_d = self.make_optimizer(critic, lr_critic, config.critic_weight_decay)
        self.base_lr = {self.opt_g: config.lr, self.opt_d: lr_critic}
        # The moving average of the generator that samples and evaluations use (None: off).
        self.ema = GeneratorEMA(self.generator, config.ema_decay) if config.ema_decay else None
        # Conditional runs draw labelled real batches; the mode has built conditional models.
        self.num_classes = num_classes_of(data) if config.conditional != "none" else 0
        if config.conditional != "none" and not self.num_classes:
            raise ConfigError(f"--conditional {config.conditional} needs labelled data, and this "
                              "run's data has no labels")
        self.step = 0

    def models(self) -> dict[str, nn.Module]:
        return {"generator": self.generator, "critic": self.critic}

    def noise(self, n: int) -> Tensor:
        return torch.randn(n, self.noise_dim, device=self.device)

    def train_step(self) -> dict[str, Tensor]:
        """One generator iteration; returns detached stats (tensors: no host sync here)."""
        if self.num_classes:
            return self._conditional_step()
        cfg, G, D = self.config, self.generator, self.critic
        self.apply_lr_schedule()
        self.follow_schedules()
        _set_requires_grad(D, True)
        stats: dict[str, Tensor] = {}
        for i in range(cfg.critic_iters):
            real = self.data.next_batch(cfg.batch_size, self.device)
            with torch.no_grad(), self.autocast():
                fake = G(self.noise(cfg.batch_size))
            with self.autocast():
                loss, stats = self.objective.critic_loss(D, real, fake.float(),
                                                         self.step * cfg.critic_iters + i)
            self._critic_update(loss)
        # The critic is frozen for the generator step: no wasted gradient for its weights.
        _set_requires_grad(D, False)
        with self.autocast():
            g_loss = self.objective.generator_loss(
                D, G(self.noise(cfg.batch_size * cfg.gen_batch_multiple)))
        self._generator_update(g_loss)
        return {**stats, "generator_loss": g_loss.detach()}

    def _conditional_step(self) -> dict[str, Tensor]:
        """One generator iteration with labels (textgan.core.conditional): the critic's fakes get
        the real batch's labels; the generator's get uniform random ones. AC adds each player's
        cross-entropy (the critic's on real data), weighted ``ac_scale`` / ``ac_scale_g``."""
        cfg, G, D = self.config, self.generator, self.critic
        ac = cfg.conditional == "ac"
        self.apply_lr_schedule()
        self.follow_schedules()
        _set_requires_grad(D, True)
        stats: dict[str, Tensor] = {}
        for i in range(cfg.critic_iters):
            real, labels = self.data.next_labelled_batch(cfg.batch_size, self.device)
            with torch.no_grad(), self.autocast():
                fake = G(self.noise(cfg.batch_size), labels=labels)
            critic = LabelledCritic(D, labels)
            with self.autocast():
                loss, stats = self.objective.critic_loss(critic, real, fake.float(),  # type: ignore[arg-type]
                                                         self.step * cfg.critic_iters + i)
                if ac:
                    ce = classification_loss(critic.first_logits, labels, "real-data")
                    loss = loss + cfg.ac_scale * ce
                    stats = {**stats, "critic_loss": loss.detach(), "ac_loss_real": ce.detach(),
                             "ac_accuracy_real": accuracy(critic.first_logits, labels)}  # type: ignore[arg-type]
            self._critic_update(loss)
        _set_requires_grad(D, False)
        n = cfg.batch_size * cfg.gen_batch_multiple
        fake_labels = torch.randint(0, self.num_classes, (n,), device=self.device)
        critic = LabelledCritic(D, fake_labels)
        with self.autocast():
            g_loss = self.objective.generator_loss(
                critic, G(self.noise(n), labels=fake_labels))  # type: ignore[arg-type]
            if ac:
                ce = classification_loss(critic.first_logits, fake_labels, "generated-data")
                g_loss = g_loss + cfg.ac_scale_g * ce
                stats = {**stats, "ac_loss_fake": ce.detach(),
                         "ac_accuracy_fake": accuracy(critic.first_logits, fake_labels)}  # type: ignore[arg-type]
        self._generator_update(g_loss)
        return {**stats, "generator_loss": g_loss.detach()}

    def _critic_update(self, loss: Tensor) -> None:
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.dist.average_gradients(self.critic)
        self.opt_d.step()
        self.objective.after_critic_step(self.critic)

    def _generator_update(self, g_loss: Tensor) -> None:
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.dist.average_gradients(self.generator)
        self.opt_g.step()
        _set_requires_grad(self.critic, True)
        self.step += 1
        if self.ema is not None:
            self.ema.update(self.step)

    def checkpointed(self) -> dict[str, Any]:
        return {"generator": self.generator, "critic": self.critic, "opt_g": self.opt_g,
                "opt_d": self.opt_d}


def stats_to_host(stats: dict[str, Tensor]) -> dict[str, float]:
    """Every stat as a Python float through ONE device-to-host copy.

    On CUDA each ``float(tensor)`` waits for the GPU to drain its queue; converting the stats
    one by one costs a synchronisation per value, this costs one per logged step (and
    ``log_every`` > 1 removes even that from most steps).
    """
    if not stats:
        return {}
    values = torch.stack([v.detach().reshape(()).to(torch.float64) for v in stats.values()])
    return dict(zip(stats, values.tolist(), strict=True))


def _as_python_state(state: Any) -> tuple:
    """random.setstate needs tuples; a checkpoint round-trip may give lists."""
    version, internal, gauss = state
    return (version, tuple(internal), gauss)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
