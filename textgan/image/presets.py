"""Image presets: the paper's MNIST and CIFAR-10 experiments, and a CPU-sized one.

A preset holds only what differs from the defaults (TrainConfig: λ = 10, wgan-gp, Adam(1e-4,
β = (0.5, 0.9)), 200k steps; ImageDataConfig: MNIST; ImageModelConfig: dcgan, DIM 64, noise 128).
"""

from __future__ import annotations

from textgan.config import Preset

PRESETS: dict[str, Preset] = {
    # gan_mnist.py (MODE = wgan-gp): DIM 64, batch 50, 5 critic steps, λ = 10,
    # Adam(1e-4, β = (0.5, 0.9)), 200k generator iterations, noise 128, MNIST.
    "paper-mnist": Preset(
        "the paper's MNIST experiment (DCGAN, DIM 64, batch 50, 5 critic steps, 200k steps)",
        train={"batch_size": 50, "critic_iters": 5, "checkpoint_every": 1000,
               "sample_every": 1000, "eval_every": 1000},
    ),
    # gan_cifar_resnet.py, unconditional: DIM 128 for G and D, batch 64, 5 critic steps, λ = 10,
    # Adam(2e-4, β = (0, 0.9)), 100k generator iterations, both learning rates decayed linearly to
    # 0 (DECAY), the generator step on 2 × 64 samples (GEN_BS_MULTIPLE).
    "paper-cifar10": Preset(
        "the paper's unconditional CIFAR-10 ResNet (DIM 128, Adam 2e-4, 100k steps, linear "
        "decay)",
        train={"steps": 100_000, "critic_iters": 5, "lr": 2e-4, "betas": [0.0, 0.9],
               "lr_schedule": "linear", "gen_batch_multiple": 2,
               "checkpoint_every": 1000, "sample_every": 1000, "eval_every": 1000},
        model={"arch": "resnet", "dim": 128},
        data={"dataset": "cifar10"},
    ),
    # The MNIST model at a quarter of the width and Adam at 1e-3 instead of 1e-4: about 6 minutes
    # on a (shared) CPU, 1.1 s per step. Measured on Fashion-MNIST: recognisable garments by step
    # 150; SWD 0.329 (untrained) → 0.039 at step 300 (real-vs-real floor 0.014); at 1e-4 it is
    # still 0.207 at step 300, with no shapes yet.
    "cpu": Preset(
        "the MNIST model at DIM 16 with lr 1e-3: 300 steps, minutes on a CPU",
        train={"steps": 300, "batch_size": 50, "critic_iters": 5, "lr": 1e-3,
               "checkpoint_every": 100, "sample_every": 50, "eval_every": 50},
        model={"dim": 16},
    ),
}

# gan_cifar_resnet.py as the paper's supervised model (Inception score 8.42 vs 7.86): the same
# setup with CONDITIONAL = ACGAN = True, i.e. an AC head on the critic and class-conditional batch
# norm in the generator; ACGAN_SCALE 1 and ACGAN_SCALE_G 0.1 are the defaults of ac_scale(_g).
PRESETS["paper-cifar10-conditional"] = Preset(
    "paper-cifar10 class-conditional: the AC critic and conditional batch norm (the paper's "
    "supervised model)",
    **{**PRESETS["paper-cifar10"], "train": {**PRESETS["paper-cifar10"]["train"], "conditional": "ac"}},
)
# The cpu preset on Fashion-MNIST's ten classes with AC conditioning (the dcgan generator takes
# the label at its input), the generator's AC weight raised from the paper's 0.1 to 1 (AC-GAN's
# own): with 0.1 the samples barely follow their labels within the cpu budget.
# measured: docs/results/fashion-conditional.json
PRESETS["cpu-fashion-conditional"] = Preset(
    "cpu on Fashion-MNIST, class-conditional (AC), 1000 steps",
    # as cpu, but 1000 steps; samples and evaluations at the default 100 steps
    train={"steps": 1000, "batch_size": 50, "critic_iters": 5, "lr": 1e-3,
           "checkpoint_every": 250, "conditional": "ac", "ac_scale_g": 1.0},
    model=PRESETS["cpu"]["model"],
    data={"dataset": "fashion-mnist"},
)
