r"""Maximum-likelihood training (the ``mle`` objective), modality-free.

The baseline language GANs are judged against (Caccia et al. 2020, "Language GANs Falling
Short"): a model $p_\theta$ fitted to real data by minimising its negative log-likelihood,

$$L(\theta) = -\frac{1}{|B|}\sum_{x \in B} \frac{1}{L}\log p_\theta(x),$$

the mean cross-entropy per position of real batches $B$ ($L$ positions each). How $\log
p_\theta(x)$ is computed (for text: teacher forcing, the chain rule over positions) is the model's
business: it implements ``nll(batch)``. The trainer only needs that, and keeps what every
trainer has — the learning-rate schedule and warm-up, the moving average of the weights that
samples use, bf16 autocast, data-parallel gradient averaging, exact resume.
"""

from __future__ import annotations

from typing import Any, Protocol

import torch
from torch import Tensor, nn

from textgan.core.distributed import Context, LocalContext
from textgan.core.ema import GeneratorEMA
from textgan.core.trainer import BatchSource, TrainConfig, TrainerBase, enable_bf16_matmuls


class LikelihoodModel(Protocol):
    """A model trained by maximum likelihood (an ``nn.Module``)."""

    def nll(self, batch: Tensor) -> Tensor:
        """Mean negative log-likelihood per position of a real batch (nats), a scalar."""
        ...


class LikelihoodTrainer(TrainerBase):
    """One optimiser step on the model's negative log-likelihood of a real batch per step.

    Checkpoint keys: the model under ``generator`` (and its moving average under
    ``generator_ema``), like a GAN's generator, so sampling, evaluation and ``--raw`` treat both
    alike; its optimiser under ``optimizer``. The GAN's critic settings do not apply.
    """

    def __init__(self, model: nn.Module, data: BatchSource, config: TrainConfig,
                 device: torch.device, dist: Context | None = None) -> None:
        if not callable(getattr(model, "nll", None)):
            raise TypeError(f"{type(model).__name__} has no nll(batch): it cannot be trained by "
                            "maximum likelihood")
        self.model = model.to(device)
        self.data = data
        self.config = config
        self.device = device
        self.dist = dist or LocalContext(device)
        self.dist.broadcast_modules(self.model)
        enable_bf16_matmuls(device, config)
        self.optimizer = self.make_optimizer(self.model, config.lr)
        self.base_lr = {self.optimizer: config.lr}
        self.ema = GeneratorEMA(self.model, config.ema_decay) if config.ema_decay else None
        self.step = 0

    def models(self) -> dict[str, nn.Module]:
        return {"generator": self.model}

    def train_step(self) -> dict[str, Tensor]:
        """One step; returns ``nll`` (nats per position of this batch, detached)."""
        self.apply_lr_schedule()
        batch = self.data.next_batch(self.config.batch_size, self.device)
        with self.autocast():
            loss = self.model.nll(batch).float()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.dist.average_gradients(self.model)
        self.optimizer.step()
        self.step += 1
        if self.ema is not None:
            self.ema.update(self.step)
        return {"nll": loss.detach()}

    def checkpointed(self) -> dict[str, Any]:
        # The model is saved as "generator": sampling and --raw treat both kinds of run alike.
        return {"generator": self.model, "optimizer": self.optimizer}
