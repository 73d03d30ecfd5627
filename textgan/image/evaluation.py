"""``textgan eval --run`` of an image run: the metrics its training logs, on a checkpoint.

- ``swd``: the sliced Wasserstein distance between ``n`` held-out real images and ``n`` generated
  ones (as the in-training hook computes it), with ``swd_real``, two real sets' distance.
- A conditional run adds ``label_accuracy`` and ``label_accuracy/<class>`` of ``ceil(n / K)``
  images generated per class, graded by the separate classifier (:mod:`textgan.image.classifier`),
  each with ``..._real``: the classifier's accuracy on real held-out images of that class (its
  ceiling on real data).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from textgan.core.ema import sampling_state
from textgan.core.mode import Sampler, checkpoint_content
from textgan.core.run import Run, resolve_checkpoint
from textgan.device import resolve_device
from textgan.image.classifier import load_or_train_classifier
from textgan.image.mode import ImageMode, LabelAccuracyHook, SWDHook, open_images
from textgan.image.models import build_image_models


@dataclass
class ImageEvalReport:
    """Metrics and notes, shaped as the text evaluation's report (no sweep, no plot)."""

    metrics: dict[str, float]
    notes: list[str] = field(default_factory=list)
    sweep: Any = None
    plot: Path | None = None
    classes: Any = None  # per-class label accuracy is in ``metrics`` (label_accuracy/<class>)


def is_image_run(run: str | Path) -> bool:
    """Whether ``run`` is the directory of an image run (by its ``config.toml``)."""
    try:
        return Run(run).exists() and Run(run).read_config().get("mode") == ImageMode.name
    except Exception:  # an unreadable config: let the general path word the error
        return False


def evaluate_image_run(run: str | Path, *, n: int, seed: int = 0, device: str = "auto",
                       checkpoint: str | None = None, raw: bool = False,
                       temperature: float | None = None, projections: int = 128) -> ImageEvalReport:
    """SWD of ``n`` samples of a run's checkpoint (its generator's moving average unless ``raw``)
    and, for a conditional run, the label accuracy of ``ceil(n / K)`` samples per class."""
    mode = ImageMode()
    path, state, notes = resolve_checkpoint(run, checkpoint)
    state = sampling_state(state, raw)
    torch_device = resolve_device(device)
    with checkpoint_content(path, mode.name):
        config = mode.config_from_checkpoint(state, path)
        names = list(state.get("label_names") or [])
        conditional = config.train.conditional != "none"
        spec_images = open_images(config.data, labels=conditional)
        spec = spec_images.spec
        generator, _ = build_image_models(spec.channels, spec.size, spec.value_range,
                                          config.model, len(names) if conditional else 0,
                                          config.train.conditional)
        generator.load_state_dict(state["generator"])
    generator.to(torch_device).eval()
    sampler = Sampler(_Scaled(generator, 1.0 if temperature is None else temperature))
    notes.append(f"checkpoint {path} (step {state.get('step')}), images {spec.name} from "
                 f"{spec_images.source}, seed {seed}"
                 + ("" if temperature is None else f", noise × {temperature:g}"))
    swd = SWDHook(sampler, spec_images, n, projections, torch_device)  # the training's seeds
    metrics = {**swd(), "swd_real": swd.real_floor(spec_images.train)}
    if conditional:
        classifier = load_or_train_classifier(spec_images, config.data.data_dir)
        grader = LabelAccuracyHook(sampler, classifier, math.ceil(n / len(names)), spec,
                                   torch_device, seed=seed)
        notes += classifier.notes + [grader.describe()]
        graded = grader()
        metrics["label_accuracy"] = graded["label_accuracy"]
        metrics["label_accuracy_real"] = classifier.test_accuracy
        for name, real in zip(classifier.label_names, classifier.class_test_accuracy,
                              strict=True):
            key = f"label_accuracy/{name}"
            if key in graded:
                metrics[key] = graded[key]
                if not math.isnan(real):  # NaN: no real held-out image of this class
                    metrics[f"{key}_real"] = real
    return ImageEvalReport(metrics, notes)


class _Scaled(torch.nn.Module):
    """A generator whose noise is scaled by ``temperature`` (``eval --temperature``)."""

    def __init__(self, generator: torch.nn.Module, temperature: float) -> None:
        super().__init__()
        self.generator, self.temperature = generator, temperature
        self.noise_dim = generator.noise_dim
        self.num_classes = getattr(generator, "num_classes", 0)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        if labels is None:
            return self.generator(z * self.temperature)
        return self.generator(z * self.temperature, labels=labels)
