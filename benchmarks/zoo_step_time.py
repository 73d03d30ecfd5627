"""How long does one generator iteration (with its critic steps) of each Figure 2 architecture take
under each objective, at 64×64 and the paper's widths, on one thread?

    python benchmarks/zoo_step_time.py --repeats 3

Builds every architecture of the image mode's Figure 2 zoo (``textgan.image.zoo``: dcgan64, its
five hard variants, resnet64, resnet101) with each objective's Figure 2 recipe (Appendix E's
optimiser; 1 critic step for DCGAN and LSGAN, 5 for the WGANs) and times ``--repeats`` generator
iterations of the trainer ``textgan train`` runs, on batches of random images (reading images
is not timed), after ``--warmup`` untimed ones. Reports process-CPU and wall seconds per
generator iteration and each network's parameter count. Writes ``<out>/<name>.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import torch

from textgan.benchmarking import add_arguments, cpu_time, write_benchmark_result
from textgan.config import apply_overrides
from textgan.core.trainer import TrainConfig, Trainer
from textgan.image.models import ImageModelConfig, build_image_models
from textgan.image.zoo import ZOO_ARCHS, ZOO_SIZES
from textgan.study.spaces import FIGURE2_OBJECTIVES, FIGURE2_RECIPES

QUESTION = ("How long does one generator iteration (with its critic steps) of each Figure 2 "
            "architecture take under each objective, at 64×64 and the paper's widths, on one "
            "thread?")


class RandomImages:
    """Uniform random images in [-1, 1]: the step's cost without reading any."""

    def __init__(self, channels: int, size: int, seed: int) -> None:
        self.shape = (channels, size, size)
        self.rng = torch.Generator().manual_seed(seed)

    def next_batch(self, batch_size: int, device: torch.device) -> torch.Tensor:
        return torch.rand(batch_size, *self.shape, generator=self.rng).mul_(2).sub_(1)

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        pass


def trainer_for(arch: str, objective: str, args: argparse.Namespace) -> Trainer:
    torch.manual_seed(args.seed)
    generator, critic = build_image_models(3, args.size, (-1.0, 1.0),
                                           ImageModelConfig(arch=arch, dim=args.dim),  # type: ignore[arg-type]
                                           objective=objective)
    settings = {**FIGURE2_RECIPES[objective], "batch_size": args.batch_size, "ema_decay": 0.0,
                "seed": args.seed}
    config = apply_overrides(TrainConfig(), settings, "train")
    return Trainer(generator, critic, RandomImages(3, args.size, args.seed), config,
                   torch.device("cpu"))


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(p, "zoo-step-time")
    p.add_argument("--archs", default=",".join(ZOO_ARCHS),
                   help="Architectures, comma-separated [default: all of the zoo].")
    p.add_argument("--objectives", default=",".join(FIGURE2_OBJECTIVES),
                   help="Objectives, comma-separated [default: gan,lsgan,wgan-clip,wgan-gp].")
    p.add_argument("--size", type=int, default=64, help="Image side [default: 64, the paper's].")
    p.add_argument("--dim", type=int, default=64,
                   help="Model width DIM [default: 64, gan_64x64.py's]; e.g. 2 for a smoke test.")
    p.add_argument("--batch-size", type=int, default=64, help="Batch size [default: 64].")
    p.add_argument("--repeats", type=int, default=3, help="Timed generator iterations per cell.")
    p.add_argument("--warmup", type=int, default=1, help="Untimed generator iterations first.")
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    torch.set_num_threads(args.threads)
    archs = [a for a in args.archs.split(",") if a]
    objectives = [o for o in args.objectives.split(",") if o]
    for arch in archs:
        if arch not in ZOO_SIZES or args.size not in ZOO_SIZES[arch]:
            raise SystemExit(f"error: {arch} is not a zoo architecture at {args.size} pixels")
    for objective in objectives:
        if objective not in FIGURE2_RECIPES:
            raise SystemExit(f"error: unknown objective {objective}; choose from "
                             f"{', '.join(FIGURE2_RECIPES)}")
    table: list[dict[str, Any]] = []
    for arch in archs:
        for objective in objectives:
            trainer = trainer_for(arch, objective, args)
            cpu_time(trainer.train_step, args.warmup)
            wall = time.perf_counter()
            cpu = cpu_time(trainer.train_step, args.repeats) / args.repeats
            wall = (time.perf_counter() - wall) / args.repeats
            table.append({"arch": arch, "objective": objective,
                          "critic_iters": trainer.config.critic_iters,
                          "cpu_s_per_step": round(cpu, 4), "wall_s_per_step": round(wall, 4),
                          "g_params": sum(p.numel() for p in trainer.generator.parameters()),
                          "d_params": sum(p.numel() for p in trainer.critic.parameters())})
            print(f"{arch:20s} {objective:10s} {cpu:8.3f} CPU-s  {wall:8.3f} s per generator "
                  "iteration", flush=True)
    results = {"size": args.size, "dim": args.dim, "batch_size": args.batch_size,
               "repeats": args.repeats, "warmup": args.warmup, "rows": table,
               "load_avg": [round(x, 2) for x in os.getloadavg()]}
    notes = (f"{args.size}×{args.size} RGB, DIM {args.dim}, batch {args.batch_size}; each "
             "objective's Figure 2 recipe (critic steps included); random images, so reading "
             "data is not timed; the mean of the timed iterations.")
    path = write_benchmark_result(args, QUESTION, results, script=__file__, argv=argv,
                                  table=table, notes=notes)
    print(f"result: {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
