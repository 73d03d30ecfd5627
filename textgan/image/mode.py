"""Image mode: MNIST / Fashion-MNIST / CIFAR-10 and the paper's image models on the shared trainer.

A run writes ``samples/step_XXXXXXXX.png`` (a grid of the same fixed noise every ``sample_every``
steps) and logs ``swd``, the sliced Wasserstein distance between held-out real images and as many
generated ones, every ``eval_every`` steps.

Conditional runs (``--conditional ac|projection``, :mod:`textgan.core.conditional`) train on the
data set's labels; their grids have one row per class, and every ``eval_every`` steps they also
log ``label_accuracy`` (and ``label_accuracy/<class>``): how often a separate classifier, trained
on the real training images (:mod:`textgan.image.classifier`), sees class $k$ in the samples
generated with label $k$.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor, nn

from textgan.config import setting
from textgan.core.conditional import cycled_labels
from textgan.core.critic_loss import CRITIC_LOSS_SAMPLES, CriticLossHook, fixed_rows
from textgan.core.loop import Hook
from textgan.core.mode import (
    CardText,
    EvalRequest,
    ExportParts,
    Mode,
    ModeSetup,
    RunConfig,
    Sampler,
    SampleResult,
    sample_seed,
)
from textgan.core.run import Run, sample_output_for
from textgan.device import resolve_device
from textgan.errors import ConfigError
from textgan.eval.swd import random_directions, sliced_wasserstein
from textgan.image import presets as image_presets
from textgan.image.classifier import (
    TrainedClassifier,
    class_probabilities,
    classifier_score,
    crop_to,
    load_or_train_classifier,
    real_classifier_score,
)
from textgan.image.data import (
    ENCODED_DATASETS,
    DatasetSpec,
    ImageSet,
    dataset_spec,
    encoded_spec,
    load_encoded,
    load_images,
)
from textgan.image.grid import to_uint8, write_grid
from textgan.image.models import PAD_TO, PADDED_ARCHS, ImageModelConfig, build_image_models
from textgan.io.progress import ProgressFn

SAMPLE_SEED = 1234  # grids show one fixed set of z improving over training
SWD_SEED = 4321  # fixed real subset, noise and projections: values are comparable across steps
LABEL_SEED = 5678  # fixed noise for the per-class label accuracy
MAX_IMAGES_STREAM = 9157  # --max-images: the subset's own RNG stream, apart from training's
SCORE_SEED = 8765  # fixed noise for the classifier score
GRID_SCALE = 2  # 28- and 32-pixel images are drawn at twice their size in the PNG grids


@dataclass
class ImageDataConfig:
    """Which images, where they are, and the in-training image metrics."""

    dataset: Literal["mnist", "fashion-mnist", "cifar10", "folder", "lsun", "imagenet64"] = setting(
        "mnist", "mnist, fashion-mnist, cifar10; or folder (PNG/JPEG/WebP files), lsun (an LMDB "
        "database), imagenet64 (train_64x64/ and valid_64x64/ PNG folders), each read from "
        "--data-path and prepared once under --data-dir.", flag=True)
    data_path: str | None = setting(None, "A directory with the data set's files (idx[.gz], "
                                    "CIFAR-10 batches or tarball) instead of a download; for "
                                    "folder, lsun and imagenet64 the images themselves.",
                                    flag=True)
    image_size: int = setting(64, "folder, lsun, imagenet64: the side images are resized (shorter "
                              "side) and centre-cropped to: 32, 64 or 128.", flag=True)
    channels: int = setting(0, "folder, lsun, imagenet64: 1 (grey), 3 (RGB) or 0 (grey when "
                            "every image is grey, else RGB).", flag=True)
    held_out: float = setting(0.05, "folder and lsun: the fraction of images held out, chosen by "
                              "a hash of each image's name (imagenet64 keeps valid_64x64/).")
    max_images: int = setting(0, "Train on a seeded random subset of this many training images "
                              "(0: all of them).", flag=True, min=0, zero="all")
    data_dir: str = setting("data", "Where data sets are looked for (<data-dir>/<dataset>/) and "
                            "downloaded.", flag=True)
    download: bool = setting(True, "Download the data set when it is not found.")
    grid_images: int = setting(64, "Images in each sample grid.", min=1)
    swd_images: int = setting(1000, "Real and generated images compared by the sliced "
                              "Wasserstein distance (0: off).")
    swd_projections: int = setting(128, "Random projections of the sliced Wasserstein distance.", min=1)
    fid: bool = setting(False, "Also FID and IS through torch-fidelity (needs the Inception "
                        "weights).")
    fid_images: int = setting(5000, "Generated images for FID and IS.", min=1)
    classifier_score_images: int = setting(
        0, "Generated images scored every eval_every steps by the classifier score, "
        "exp(E_x KL(p(y|x) || p(y))) with a separate classifier trained on the real labelled "
        "training images (cached in <data-dir>/<dataset>/; not an Inception score) (0: off).")
    label_accuracy_images: int = setting(
        100, "Conditional runs: images generated per class every eval_every steps and graded by a "
        "separate classifier trained on the real training images (cached in "
        "<data-dir>/<dataset>/) (0: off).", min=0, zero="off")

    def validate(self) -> None:
        if not 0.0 <= self.held_out < 1.0:
            raise ConfigError(f"data.held_out must be in [0, 1), got {self.held_out}")
        if self.classifier_score_images < 0 or self.classifier_score_images == 1:
            raise ConfigError(f"data.classifier_score_images must be 0 (off) or at least 2, got "
                              f"{self.classifier_score_images}")
        if self.swd_images < 0 or self.swd_images == 1:
            raise ConfigError(f"data.swd_images must be 0 (off) or at least 2, got "
                              f"{self.swd_images}")


def scale_images(images: Tensor, spec: DatasetSpec, rng: np.random.Generator | None = None
                 ) -> Tensor:
    r"""uint8 → floats in the data set's range: $x/255$ for [0, 1] data; for CIFAR-10 the paper's
    $2(x/256 - 0.5) + u$, $u \sim U[0, 1/128)$ drawn from ``rng`` (no noise without it); for
    encoded image sets (folders, LSUN, 64×64 ImageNet) the paper's $2(x/255 - 0.5)$."""
    x = images.float()
    if spec.value_range == (0.0, 1.0):
        return x / 255.0
    x = x / spec.pixel_scale - 1.0
    if spec.dequantize and rng is not None:
        x = x + torch.from_numpy(rng.random(x.shape, dtype=np.float32)) / 128.0
    return x


def open_images(cfg: ImageDataConfig, progress: ProgressFn | None = None,
                labels: bool = False) -> ImageSet:
    """The run's images: a published data set, or encoded images prepared at ``image_size``."""
    if cfg.dataset in ENCODED_DATASETS:
        return load_encoded(cfg.dataset, cfg.data_path, cfg.data_dir, cfg.image_size,
                            cfg.channels, cfg.held_out, progress)
    return load_images(cfg.dataset, cfg.data_path, cfg.data_dir, cfg.download, progress,
                       labels=labels)


def spec_for(cfg: ImageDataConfig, state: dict[str, Any]) -> DatasetSpec:
    """A checkpoint's data spec: an encoded set's channels and size are in its ``image_shape``."""
    if cfg.dataset in ENCODED_DATASETS:
        channels, size = state["image_shape"][0], state["image_shape"][1]
        return encoded_spec(cfg.dataset, int(channels), int(size))
    return dataset_spec(cfg.dataset)


def subset_training(images: ImageSet, n: int, seed: int) -> ImageSet:
    """The image set with only ``n`` of its training images, drawn without replacement by an RNG
    of its own seeded from ``seed`` (so the choice is fixed for a run and its resumes)."""
    if n >= len(images.train):
        return images
    rows = np.sort(np.random.default_rng([seed, MAX_IMAGES_STREAM]).choice(
        len(images.train), size=n, replace=False))
    labels = images.train_labels[rows] if images.train_labels is not None else None
    notes = [*images.notes, f"training on a seeded subset of {n:,} of the {len(images.train):,} "
             "training images"]
    return replace(images, train=np.ascontiguousarray(images.train[rows]), train_labels=labels,
                   notes=notes)


def critic_loss_hook(generator: nn.Module, critic: nn.Module, images: ImageSet, num_classes: int,
                     seed: int, device: torch.device) -> CriticLossHook | None:
    """``train_critic_loss`` / ``valid_critic_loss`` on fixed training and held-out images (None
    without held-out images)."""
    if images.test is None or not len(images.test):
        return None
    rows = {split: fixed_rows(len(array), CRITIC_LOSS_SAMPLES, seed, i)
            for i, (split, array) in enumerate((("train", images.train), ("test", images.test)))}
    real = {split: scale_images(torch.from_numpy(np.asarray(array[rows[split]])), images.spec)
            for split, array in (("train", images.train), ("test", images.test))}
    labels: dict[str, Tensor | None] = {"train": None, "test": None}
    if num_classes:
        for split, array in (("train", images.train_labels), ("test", images.test_labels)):
            if array is None:
                return None
            labels[split] = torch.from_numpy(np.asarray(array)[rows[split]].astype(np.int64))
    return CriticLossHook(generator, critic, real["train"], real["test"], seed, device,
                          labels["train"], labels["test"])


class ImageBatches:
    """Random training images (uniform with replacement) from a seeded, checkpointed RNG."""

    def __init__(self, images: np.ndarray, spec: DatasetSpec, seed: int) -> None:
        if len(images) == 0:
            raise ConfigError("the image data set is empty")
        self.images = torch.from_numpy(images)
        self.spec = spec
        self.rng = np.random.default_rng(seed)

    def _draw(self, batch_size: int, device: torch.device) -> tuple[Tensor, Tensor]:
        rows = torch.from_numpy(self.rng.integers(0, len(self.images), size=batch_size))
        return rows, scale_images(self.images[rows], self.spec, self.rng).to(device)

    def next_batch(self, batch_size: int, device: torch.device) -> Tensor:
        return self._draw(batch_size, device)[1]

    def state_dict(self) -> dict[str, Any]:
        return {"bit_generator": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state["bit_generator"]


class LabelledImageBatches(ImageBatches):
    """:class:`ImageBatches` with each image's class label (a
    :class:`~textgan.core.conditional.LabelledBatchSource`): the same rows from the same RNG draws,
    so a labelled batch holds exactly the images the unlabelled one would."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, num_classes: int,
                 spec: DatasetSpec, seed: int) -> None:
        super().__init__(images, spec, seed)
        if len(labels) != len(images):
            raise ConfigError(f"{len(labels)} labels for {len(images)} images")
        self.labels = torch.from_numpy(np.asarray(labels, np.int64))
        self.num_classes = num_classes

    def next_labelled_batch(self, batch_size: int, device: torch.device) -> tuple[Tensor, Tensor]:
        rows, x = self._draw(batch_size, device)
        return x, self.labels[rows].to(device)


@contextmanager
def evaluating(module: nn.Module) -> Iterator[nn.Module]:
    """Eval mode (batch norm uses running statistics and is not updated), restored afterwards."""
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            yield module
    finally:
        module.train(was_training)


def generate_images(generator: nn.Module, n: int, *, seed: int | None, device: torch.device,
                    temperature: float = 1.0, batch_size: int = 500,
                    labels: Tensor | None = None) -> Tensor:
    r"""``n`` images $G(z)$, $z \sim \mathcal{N}(0, T^2 I)$, on the CPU. Uses its own RNG, so the
    training RNG is untouched; the same seed gives the same images. A conditional generator gets
    ``labels`` ``[n]`` (default: every class in turn); the noise does not depend on them."""
    rng = torch.Generator(device="cpu").manual_seed(sample_seed(seed))
    num_classes = getattr(generator, "num_classes", 0)
    if num_classes and labels is None:
        labels = cycled_labels(n, num_classes, "cpu")
    out = []
    with evaluating(generator):
        for start in range(0, n, batch_size):
            z = torch.randn(min(batch_size, n - start), generator.noise_dim, generator=rng)
            z = (z * temperature).to(device)
            if labels is None:
                out.append(generator(z).float().cpu())
            else:
                part = labels[start:start + len(z)].to(device)
                out.append(generator(z, labels=part).float().cpu())
    return torch.cat(out)


def class_rows(n: int, num_classes: int) -> tuple[Tensor, int]:
    """Labels of a grid with one row per class, ``ceil(n / K)`` columns (so ``n`` is rounded up to
    fill every row): ``0,0,..,1,1,..``; and the number of columns."""
    columns = max(1, math.ceil(n / num_classes))
    return torch.arange(num_classes).repeat_interleave(columns), columns


def _subset(images: np.ndarray, n: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).choice(len(images), size=min(n, len(images)), replace=False)
    return images[np.sort(rows)]


def to_unit(images: Tensor, spec: DatasetSpec) -> Tensor:
    """Images in the data range → [0, 1] pixels, the scale SWD values are reported on."""
    low, high = spec.value_range
    return (images - low) / (high - low)


class SWDHook:
    """$\\mathrm{SW}_1$ (see :mod:`textgan.eval.swd`) between a fixed held-out real set and
    generated images from fixed noise, both as [0, 1] pixels. Without a sampler it measures
    :meth:`real_floor` only (a study's reference value)."""

    def __init__(self, sampler: Sampler | None, images: ImageSet, n: int, projections: int,
                 device: torch.device | None) -> None:
        reference = images.test if images.test is not None and len(images.test) else images.train
        self.real = _subset(reference, n, SWD_SEED)
        self.n = len(self.real)
        self.sampler, self.spec, self.device = sampler, images.spec, device
        self.directions = random_directions(int(np.prod(self.real.shape[1:])), projections,
                                            SWD_SEED)
        self.real_unit = torch.from_numpy(self.real).double() / 255.0
        self.held_out = images.test is not None and len(images.test) > 0

    def real_floor(self, train: np.ndarray) -> float:
        """SWD between two real sets (training vs the reference): the noise floor of the metric."""
        other = torch.from_numpy(_subset(train, self.n, SWD_SEED + 1)).double() / 255.0
        return sliced_wasserstein(other, self.real_unit, self.directions)

    def __call__(self, step: int = 0) -> dict[str, float]:
        assert self.sampler is not None and self.device is not None
        fake = generate_images(self.sampler.module, self.n, seed=SWD_SEED, device=self.device)
        return {"swd": sliced_wasserstein(to_unit(fake, self.spec), self.real_unit,
                                          self.directions)}


def _fid_hook(sampler: Sampler, images: ImageSet, n: int, device: torch.device):
    from textgan.image.fidelity import fidelity_metrics

    reference = images.test if images.test is not None else images.train
    real = _subset(reference, n, SWD_SEED)

    def compute(step: int) -> dict[str, float]:
        fake = generate_images(sampler.module, len(real), seed=SWD_SEED + 1, device=device)
        return fidelity_metrics(real, to_uint8(fake, images.spec.value_range).transpose(0, 3, 1, 2),
                                device)

    return compute


def padded(images: ImageSet, size: int) -> ImageSet:
    """The images with a background border (pixel value 0) to ``size`` pixels a side: how 28-pixel
    MNIST-like images enter a 32-pixel architecture (2 pixels on every side)."""
    before = (size - images.spec.size) // 2
    after = size - images.spec.size - before
    widths = ((0, 0), (0, 0), (before, after), (before, after))
    return dataclasses.replace(
        images, spec=dataclasses.replace(images.spec, size=size),
        train=np.pad(images.train, widths),
        test=None if images.test is None else np.pad(images.test, widths),
        notes=[*images.notes, f"{images.spec.size}-pixel images padded to {size} (a border of "
               f"{before} background pixels)"])


class ClassifierScoreHook:
    """The classifier score (:func:`~textgan.image.classifier.classifier_score`) of ``n`` images
    from fixed noise (comparable across steps), cropped to the classifier's size; also logs the
    seconds it took (``classifier_score_seconds``), so training time can be told apart."""

    def __init__(self, sampler: Sampler, classifier: TrainedClassifier, n: int,
                 spec: DatasetSpec, classifier_size: int, device: torch.device) -> None:
        self.sampler, self.classifier, self.n, self.spec = sampler, classifier, n, spec
        self.classifier_size, self.device = classifier_size, device

    def __call__(self, step: int = 0) -> dict[str, float]:
        started = time.perf_counter()
        fake = generate_images(self.sampler.module, self.n, seed=SCORE_SEED, device=self.device)
        unit = crop_to(to_unit(fake, self.spec).clamp(0, 1), self.classifier_size)
        score = classifier_score(class_probabilities(self.classifier.model, unit))
        return {"classifier_score": score,
                "classifier_score_seconds": time.perf_counter() - started}


class LabelAccuracyHook:
    """Per-class label accuracy of ``per_class`` images generated with each label (fixed noise, so
    values are comparable across steps), graded by the separate classifier."""

    def __init__(self, sampler: Sampler, classifier: TrainedClassifier, per_class: int,
                 spec: DatasetSpec, device: torch.device, seed: int = LABEL_SEED) -> None:
        self.sampler, self.classifier, self.spec, self.device = sampler, classifier, spec, device
        self.seed = seed
        self.labels, _ = class_rows(per_class * len(classifier.label_names),
                                    len(classifier.label_names))

    def describe(self) -> str:
        c = self.classifier
        how = "trained now" if c.trained_now else f"cached in {c.path}"
        return (f"label accuracy: {len(self.labels) // len(c.label_names)} images per class graded "
                f"by a separate classifier ({how}), its own accuracy {c.test_accuracy:.3f} on "
                f"{c.held_out}")

    def __call__(self, step: int = 0) -> dict[str, float]:
        fake = generate_images(self.sampler.module, len(self.labels), seed=self.seed,
                               device=self.device, labels=self.labels)
        return self.classifier.grade(to_unit(fake, self.spec), self.labels)


class ImageMode(Mode):
    """Image data sets (MNIST, Fashion-MNIST, CIFAR-10) with the paper's DCGAN and ResNet."""

    name = "image"
    data_config = ImageDataConfig
    model_config = ImageModelConfig
    presets = image_presets.PRESETS
    labels_hint = ("MNIST, Fashion-MNIST and CIFAR-10 have them in their published files: put "
                   "train-labels-idx1-ubyte[.gz] next to the idx images (CIFAR-10: python batches "
                   "with their 'labels'); an image folder: one subfolder per class, named after it")

    def build(self, config: RunConfig, run: Run, device: torch.device,
              progress: ProgressFn | None = None) -> ModeSetup:
        """Images, models, batches and hooks for an image run."""
        data_cfg, model_cfg, train_cfg = config.data, config.model, config.train
        if data_cfg.fid:
            from textgan.image.fidelity import check_fidelity

            check_fidelity()  # before loading anything: a missing extra is a one-line error now
        conditional = train_cfg.conditional != "none"
        scored = bool(train_cfg.eval_every and data_cfg.classifier_score_images)
        images = open_images(data_cfg, progress, labels=conditional or scored)
        self.check_labels(config, images.num_classes)  # before any model is built
        if scored and not images.num_classes:
            raise ConfigError(f"the classifier score needs labelled images; {self.labels_hint}")
        original = images  # the whole set: the score's classifier learns from all of it
        if data_cfg.max_images:
            images = subset_training(images, data_cfg.max_images, train_cfg.seed)
        if model_cfg.arch in PADDED_ARCHS and images.spec.size == 28:
            images = padded(images, PAD_TO)
        spec = images.spec
        num_classes = images.num_classes if conditional else 0
        generator, critic = build_image_models(spec.channels, spec.size, spec.value_range,
                                               model_cfg, num_classes, train_cfg.conditional,
                                               objective=train_cfg.objective)
        generator.to(device)
        sampler = Sampler(generator)
        if num_classes:
            assert images.train_labels is not None
            batches: ImageBatches = LabelledImageBatches(images.train, images.train_labels,
                                                         num_classes, spec, train_cfg.seed)
        else:
            batches = ImageBatches(images.train, spec, train_cfg.seed)
        hooks: list[Hook] = []
        test = f", {len(images.test):,} test" if images.test is not None else ""
        notes = [f"images: {spec.name} from {images.source} ({len(images.train):,} training{test}, "
                 f"{spec.channels}×{spec.size}×{spec.size}); model {model_cfg.arch}, DIM "
                 f"{model_cfg.dim}"] + images.notes
        if num_classes:
            notes.append(f"conditional ({train_cfg.conditional}) on {num_classes} classes: "
                         f"{', '.join(images.label_names)}")
        if train_cfg.sample_every:
            grid_labels, columns = (class_rows(data_cfg.grid_images, num_classes) if num_classes
                                    else (None, None))
            grid_n = data_cfg.grid_images if grid_labels is None else len(grid_labels)

            def write(step: int) -> None:
                fake = generate_images(sampler.module, grid_n, seed=SAMPLE_SEED, device=device,
                                       labels=grid_labels)
                run.write_sample_file(step, ".png", lambda path: write_grid(
                    path, fake, spec.value_range, columns=columns, scale=GRID_SCALE))

            hooks.append(Hook(train_cfg.sample_every, write))
        if train_cfg.eval_every and data_cfg.swd_images:
            swd = SWDHook(sampler, images, data_cfg.swd_images, data_cfg.swd_projections, device)
            where = "test" if swd.held_out else "training"
            notes.append(f"SWD on {swd.n} {where} images, {data_cfg.swd_projections} projections: "
                         f"untrained generator {swd()['swd']:.4f}, real-vs-real floor "
                         f"{swd.real_floor(images.train):.4f}")
            hooks.append(Hook(train_cfg.eval_every, swd))
        if train_cfg.eval_every:
            probe = critic_loss_hook(generator, critic, images, num_classes, train_cfg.seed,
                                     device)
            if probe is None:
                notes.append("valid_critic_loss is off: the images have no held-out split")
            else:
                hooks.append(Hook(train_cfg.eval_every, probe))
        if train_cfg.eval_every and data_cfg.fid:
            hooks.append(Hook(train_cfg.eval_every,
                              _fid_hook(sampler, images, data_cfg.fid_images, device)))
        if scored:
            scorer = ClassifierScoreHook(sampler, load_or_train_classifier(original,
                                                                           data_cfg.data_dir),
                                         data_cfg.classifier_score_images, spec,
                                         original.spec.size, device)
            real, which = real_classifier_score(scorer.classifier, original,
                                                data_cfg.classifier_score_images)
            notes += scorer.classifier.notes + [
                f"classifier score (exp E KL(p(y|x) || p(y)) with a separate classifier, its "
                f"accuracy {scorer.classifier.test_accuracy:.3f}; not an Inception score) of "
                f"{scorer.n} generated images every {train_cfg.eval_every} steps; real images' "
                f"score {real:.3f} ({which})"]
            hooks.append(Hook(train_cfg.eval_every, scorer))
        if train_cfg.eval_every and num_classes and data_cfg.label_accuracy_images:
            grader = LabelAccuracyHook(sampler, load_or_train_classifier(images, data_cfg.data_dir),
                                       data_cfg.label_accuracy_images, spec, device)
            notes += grader.classifier.notes + [grader.describe()]
            hooks.append(Hook(train_cfg.eval_every, grader))
        return ModeSetup(generator, critic, batches, sampler, hooks, best_metric="swd",
                         notes=notes, label_names=list(images.label_names) if num_classes else [],
                         extra_state=({"image_shape": [spec.channels, spec.size, spec.size]}
                                      if data_cfg.dataset in ENCODED_DATASETS else {}))

    def sample(self, state: dict[str, Any], path: Path, n: int, *, seed: int | None,
               temperature: float | None, out: Path | None, device: torch.device,
               label: str | None = None) -> SampleResult:
        """A PNG grid of ``n`` generated images (``temperature`` scales the noise). A conditional
        model: all of class ``label``, or without one a grid with one row per class (``n``
        rounded up to fill the rows)."""
        index = self.label_index(state, label, path)
        config = self.config_from_checkpoint(state, path)
        spec = spec_for(config.data, state)
        names = list(state.get("label_names") or [])
        num_classes = len(names) if config.train.conditional != "none" else 0
        generator, _ = build_image_models(spec.channels, spec.size, spec.value_range, config.model,
                                          num_classes, config.train.conditional,
                                          objective=config.train.objective)
        generator.load_state_dict(state["generator"])
        generator.to(device).eval()
        notes = [f"checkpoint: {path} (step {state.get('step')})"]
        labels, columns = None, None
        if index is not None:
            labels = torch.full((n,), index, dtype=torch.long)
            notes.append(f"class {names[index]!r} (label {index})")
        elif num_classes:
            labels, columns = class_rows(n, num_classes)
            notes.append(f"one row per class, {columns} each: {', '.join(names)}")
        images = generate_images(generator, n if labels is None else len(labels), seed=seed,
                                 device=device, labels=labels,
                                 temperature=1.0 if temperature is None else temperature)
        target = write_grid(out or sample_output_for(path), images, spec.value_range,
                            columns=columns, scale=GRID_SCALE)
        return SampleResult(files=[target], notes=notes)

    # model folders (textgan export): the generator is all that sampling needs; where the
    # training machine keeps the images is not the folder's business (the data set's name says what)
    def export_parts(self, state: dict[str, Any]) -> ExportParts:
        data = state["config"]["data"]
        shared = {**data, "data_path": None, "data_dir": ImageDataConfig().data_dir}
        # an encoded image set's channels and size are not in its config: kept beside the weights
        files = ({"image_shape.json": json.dumps(state["image_shape"]).encode()}
                 if "image_shape" in state else {})
        return ExportParts({"generator": state["generator"]}, summary={"dataset": data["dataset"]},
                           files=files, sample_count=64, sample_file="samples.png",
                           run_config={**state["config"], "data": shared})

    def import_parts(self, weights: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        parts = {"generator": weights["generator"]}
        if "image_shape.json" in files:
            parts["image_shape"] = json.loads(files["image_shape.json"])
        return parts

    def card(self) -> CardText:
        return CardText(real="real images", python=['model.sample(64, out="samples.png")'])

    def evaluate_run(self, run: Path, request: EvalRequest) -> Any:
        """SWD (and, conditional, label accuracy): :func:`evaluate_image_run`."""
        if request.temperatures:
            raise ConfigError("--temperatures is for text runs (image runs: --temperature scales "
                              "the noise)")
        return evaluate_image_run(run, n=request.n, seed=request.seed, device=request.device,
                                  checkpoint=request.checkpoint, raw=request.raw,
                                  temperature=request.temperature)


# ------------------------------------------------------------------- textgan eval --run
#
# - ``swd``: the sliced Wasserstein distance between ``n`` held-out real images and ``n`` generated
#   ones (as the in-training hook computes it), with ``swd_real``, two real sets' distance.
# - A conditional run adds ``label_accuracy`` and ``label_accuracy/<class>`` of ``ceil(n / K)``
#   images generated per class, graded by the separate classifier (:mod:`textgan.image.classifier`),
#   each with ``..._real``: the classifier's accuracy on real held-out images of that class (its
#   ceiling on real data).


@dataclass
class ImageEvalReport:
    """Metrics and notes, shaped as the text evaluation's report (no sweep, no plot)."""

    metrics: dict[str, float]
    notes: list[str] = field(default_factory=list)
    sweep: Any = None
    plot: Path | None = None
    classes: Any = None  # per-class label accuracy is in ``metrics`` (label_accuracy/<class>)


def evaluate_image_run(run: str | Path, *, n: int, seed: int = 0, device: str = "auto",
                       checkpoint: str | None = None, raw: bool = False,
                       temperature: float | None = None, projections: int = 128) -> ImageEvalReport:
    """SWD of ``n`` samples of a run's checkpoint (its generator's moving average unless ``raw``)
    and, for a conditional run, the label accuracy of ``ceil(n / K)`` samples per class."""
    from textgan.opening import open_model

    opened = open_model(run=run, checkpoint=checkpoint, raw=raw)
    mode, path, state, notes = ImageMode(), opened.source, opened.state, opened.notes
    torch_device = resolve_device(device)
    with opened.content():
        config = mode.config_from_checkpoint(state, path)
        names = list(state.get("label_names") or [])
        conditional = config.train.conditional != "none"
        spec_images = open_images(config.data, labels=conditional)
        if config.model.arch in PADDED_ARCHS and spec_images.spec.size == 28:
            spec_images = padded(spec_images, PAD_TO)  # as training saw them
        spec = spec_images.spec
        generator, _ = build_image_models(spec.channels, spec.size, spec.value_range,
                                          config.model, len(names) if conditional else 0,
                                          config.train.conditional,
                                          objective=config.train.objective)
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
