r"""A separate label classifier that grades conditional samples: does class $k$'s sample look like $k$?

The critic's own AC head must not grade its own samples (the generator is trained to please it),
so the label accuracy of a conditional image model comes from a small CNN trained once per data
set on the real training images and labels, and nothing else:

$$\mathrm{acc}_k = \frac{1}{m} \sum_{i=1}^{m} [\arg\max_j f_j(G(z_i, k)) = k]$$

over $m$ samples generated with label $k$; ``label_accuracy`` is the mean over classes. The
classifier's own accuracy on real held-out images (the test split; without one, a tenth of the
training images kept out of its training) is the ceiling to read it against, per class too.

Trained once and cached as ``<data_dir>/<dataset>/label-classifier.safetensors`` (weights only, no
pickle), its metadata recording a sha256 of exactly what it was trained and tested on (images,
labels, class names, recipe): a cache that does not match the data in use is retrained and
replaced. Training forks the torch RNG and seeds it, so the same data gives the same classifier
and a run's own random streams are untouched.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from filelock import FileLock
from torch import Tensor, nn

from textgan.image.data import ImageSet
from textgan.io.atomic import atomic_write_bytes

CLASSIFIER_FILE = "label-classifier.safetensors"
FORMAT = "textgan-label-classifier-1"


@dataclass(frozen=True)
class ClassifierRecipe:
    """How the classifier is trained (part of what its cache must match). Measured on
    Fashion-MNIST's 60,000 images: 107 CPU-seconds, accuracy 0.877 on its 10,000 test images."""

    epochs: int = 2
    min_steps: int = 100  # tiny data sets still get enough steps to fit
    batch_size: int = 128
    lr: float = 1e-3
    seed: int = 0


class LabelClassifier(nn.Module):
    """Pixels in [0, 1] ``[B, C, S, S]`` → Conv3×3(16) → ReLU → MaxPool2 → Conv3×3(32) → ReLU →
    MaxPool2 → Linear(64) → ReLU → Linear(K) logits."""

    def __init__(self, channels: int, size: int, num_classes: int) -> None:
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(channels, 16, 3, padding=1),
                                    nn.Conv2d(16, 32, 3, padding=1)])
        self.hidden = nn.Linear(32 * (size // 4) ** 2, 64)
        self.output = nn.Linear(64, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        for conv in self.convs:
            x = F.max_pool2d(F.relu(conv(x)), 2)
        return self.output(F.relu(self.hidden(x.flatten(1))))

    @torch.no_grad()
    def predict(self, x: Tensor, batch_size: int = 1000) -> Tensor:
        """Class ids ``[B]`` of [0, 1] images (eval mode, in batches, on the CPU)."""
        self.eval()
        return torch.cat([self(x[i:i + batch_size].float()).argmax(-1)
                          for i in range(0, len(x), batch_size)])


def unit_pixels(images: np.ndarray) -> Tensor:
    """uint8 ``[N, C, H, W]`` → float [0, 1], the classifier's input scale."""
    return torch.from_numpy(np.ascontiguousarray(images)).float() / 255.0


def per_class_accuracy(predicted: Tensor, labels: Tensor, num_classes: int) -> list[float]:
    """Share of class $k$'s rows predicted as $k$, for each $k$ (NaN for a class with no rows)."""
    out = []
    for k in range(num_classes):
        mine = labels == k
        out.append(float((predicted[mine] == k).float().mean()) if mine.any() else math.nan)
    return out


@dataclass
class TrainedClassifier:
    """The classifier and how well it does on real held-out images."""

    model: LabelClassifier
    label_names: tuple[str, ...]
    test_accuracy: float
    class_test_accuracy: list[float]  # per class, in label-id order
    held_out: str  # which real images those accuracies are on
    path: Path
    trained_now: bool
    notes: list[str] = field(default_factory=list)

    def grade(self, unit_images: Tensor, labels: Tensor) -> dict[str, float]:
        """``label_accuracy`` (mean over the classes present) and ``label_accuracy/<class>`` of
        images in [0, 1] generated with ``labels``."""
        accuracy = per_class_accuracy(self.model.predict(unit_images.cpu()), labels.cpu(),
                                      len(self.label_names))
        present = [a for a in accuracy if not math.isnan(a)]
        metrics = {"label_accuracy": float(np.mean(present)) if present else math.nan}
        for name, value in zip(self.label_names, accuracy, strict=True):
            if not math.isnan(value):
                metrics[f"label_accuracy/{name}"] = value
        return metrics


def _held_out_split(images: ImageSet, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                            np.ndarray, str]:
    """(train x, train y, held-out x, held-out y, what the held-out images are)."""
    assert images.train_labels is not None
    if images.test is not None and images.test_labels is not None and len(images.test):
        return (images.train, images.train_labels, images.test, images.test_labels,
                f"{len(images.test):,} test images")
    order = np.random.default_rng(seed).permutation(len(images.train))
    cut = max(1, len(order) // 10)
    held, kept = np.sort(order[:cut]), np.sort(order[cut:])
    return (images.train[kept], images.train_labels[kept], images.train[held],
            images.train_labels[held], f"{cut:,} training images kept out of its training")


def fingerprint(images: ImageSet, recipe: ClassifierRecipe) -> str:
    """sha256 of everything the cached classifier depends on."""
    h = hashlib.sha256(FORMAT.encode())
    h.update(json.dumps({"dataset": images.spec.name, "labels": list(images.label_names),
                         "recipe": asdict(recipe)}, sort_keys=True).encode())
    for array in (images.train, images.train_labels, images.test, images.test_labels):
        if array is None:
            h.update(b"none")
            continue
        h.update(f"{array.dtype}{array.shape}".encode())
        h.update(np.ascontiguousarray(array).data)
    return h.hexdigest()


def train_classifier(x: np.ndarray, y: np.ndarray, num_classes: int,
                     recipe: ClassifierRecipe) -> LabelClassifier:
    """Adam on the cross-entropy, shuffled mini-batches, ``max(epochs·N/B, min_steps)`` steps.
    Runs on a forked, seeded torch RNG: deterministic, and the caller's RNG is left as it was."""
    channels, size = x.shape[1], x.shape[2]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(recipe.seed)
        model = LabelClassifier(channels, size, num_classes)
        optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
        rng = np.random.default_rng(recipe.seed)
        batch = min(recipe.batch_size, len(x))
        steps = max(math.ceil(recipe.epochs * len(x) / batch), recipe.min_steps)
        order, at = rng.permutation(len(x)), 0
        labels = torch.from_numpy(np.asarray(y, np.int64))
        model.train()
        for _ in range(steps):
            if at + batch > len(order):
                order, at = rng.permutation(len(x)), 0
            rows = order[at:at + batch]
            at += batch
            loss = F.cross_entropy(model(unit_pixels(x[rows])), labels[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return model.eval()


def _metadata(images: ImageSet, recipe: ClassifierRecipe, digest: str, accuracy: float,
              per_class: list[float], held_out: str) -> dict[str, str]:
    return {"format": FORMAT, "dataset": images.spec.name, "fingerprint": digest,
            "label_names": json.dumps(list(images.label_names)),
            "shape": json.dumps(list(images.train.shape[1:])), "recipe": json.dumps(asdict(recipe)),
            "train_images": str(len(images.train)), "held_out": held_out,
            "test_accuracy": repr(accuracy), "class_test_accuracy": json.dumps(per_class)}


def _load_cached(path: Path, digest: str) -> tuple[TrainedClassifier | None, str | None]:
    """The cached classifier if it was trained on exactly this data; else (None, why not)."""
    if not path.is_file():
        return None, None
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            weights = {k: f.get_tensor(k) for k in f.keys()}
        if meta.get("format") != FORMAT:
            return None, f"{path} is not a textgan label classifier ({meta.get('format')})"
        if meta.get("fingerprint") != digest:
            return None, (f"the cached classifier {path} was trained on other data "
                          f"({meta.get('train_images')} {meta.get('dataset')} images); retrained")
        names = tuple(json.loads(meta["label_names"]))
        channels, size, _ = json.loads(meta["shape"])
        model = LabelClassifier(channels, size, len(names))
        model.load_state_dict(weights)
        return TrainedClassifier(model.eval(), names, float(meta["test_accuracy"]),
                                 [float(a) for a in json.loads(meta["class_test_accuracy"])],
                                 meta["held_out"], path, trained_now=False), None
    except (SafetensorError, OSError, KeyError, ValueError, TypeError, RuntimeError) as err:
        return None, f"the cached classifier {path} is unreadable ({type(err).__name__}); retrained"


def load_or_train_classifier(images: ImageSet, data_dir: str | Path,
                             recipe: ClassifierRecipe = ClassifierRecipe()) -> TrainedClassifier:
    """The label classifier of ``images`` (which must be labelled): from its cache under
    ``data_dir`` when that was trained on exactly these images, else trained now and cached.
    Concurrent runs wait for one another (a lock file) instead of training it twice."""
    if not images.num_classes:
        raise ValueError("a label classifier needs labelled images")
    path = Path(data_dir) / images.spec.name / CLASSIFIER_FILE
    digest = fingerprint(images, recipe)
    cached, why = _load_cached(path, digest)
    if cached is not None:
        return cached
    notes = [why] if why else []
    lock = path.with_name(path.name + ".lock")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        locked = FileLock(lock)
        locked.acquire()
    except OSError as err:  # an unwritable data dir: train it, do not cache it
        notes.append(f"could not cache the label classifier under {path.parent}: "
                     f"{err.strerror or err}")
        result = _train_and_test(images, recipe, path)
    else:
        try:
            cached, _ = _load_cached(path, digest)  # another run may have trained it meanwhile
            if cached is not None:
                return cached
            result = _train_and_test(images, recipe, path)
            try:
                _save(result, _metadata(images, recipe, digest, result.test_accuracy,
                                        result.class_test_accuracy, result.held_out))
            except OSError as err:
                notes.append(f"could not cache the label classifier at {path}: "
                             f"{err.strerror or err}")
        finally:
            lock.unlink(missing_ok=True)  # unlinked while held, as text/prepare.py does
            locked.release()
    result.notes = notes + result.notes
    return result


def _train_and_test(images: ImageSet, recipe: ClassifierRecipe, path: Path) -> TrainedClassifier:
    x, y, held_x, held_y, held_out = _held_out_split(images, recipe.seed)
    model = train_classifier(x, y, images.num_classes, recipe)
    predicted = model.predict(unit_pixels(held_x))
    held = torch.from_numpy(np.asarray(held_y, np.int64))
    accuracy = float((predicted == held).float().mean())
    per_class = per_class_accuracy(predicted, held, images.num_classes)
    return TrainedClassifier(model, tuple(images.label_names), accuracy, per_class, held_out,
                             path, trained_now=True)


def _save(result: TrainedClassifier, metadata: dict[str, str]) -> None:
    from safetensors.torch import save

    data = save({k: v.detach().contiguous() for k, v in result.model.state_dict().items()},
                metadata=metadata)
    atomic_write_bytes(result.path, lambda f: f.write(data))


@torch.no_grad()
def class_probabilities(model: LabelClassifier, unit_images: Tensor,
                        batch_size: int = 1000) -> Tensor:
    """$p(y \\mid x)$ ``[N, K]`` of [0, 1] images (eval mode, in batches, on the CPU)."""
    model.eval()
    return torch.cat([F.softmax(model(unit_images[i:i + batch_size].float().cpu()), dim=-1)
                      for i in range(0, len(unit_images), batch_size)])


def classifier_score(probabilities: Tensor) -> float:
    r"""The Inception score's formula with textgan's own label classifier in place of Inception
    (so: a *classifier score*, not comparable with published Inception scores):

    $$\mathrm{CS} = \exp\big(\mathbb{E}_x\,\mathrm{KL}(p(y \mid x) \,\|\, p(y))\big),
      \qquad p(y) = \mathbb{E}_x\,p(y \mid x)$$

    over all the rows of ``probabilities`` ``[N, K]`` at once (one split). It lies in $[1, K]$:
    1 when every image gets the same class distribution, $K$ when each is classified with
    certainty and the classes are used equally."""
    p = probabilities.double().clamp_min(1e-12)
    marginal = p.mean(dim=0, keepdim=True)
    kl = (p * (p.log() - marginal.log())).sum(dim=1)
    return float(torch.exp(kl.mean()))


def crop_to(unit_images: Tensor, size: int) -> Tensor:
    """The central ``size`` × ``size`` pixels (undoes the padding of 28-pixel images to 32, so
    the classifier sees the shape it was trained on)."""
    border = (unit_images.shape[-1] - size) // 2
    if border <= 0:
        return unit_images
    return unit_images[..., border:border + size, border:border + size]


def real_classifier_score(classifier: TrainedClassifier, images: ImageSet, n: int,
                          seed: int = 0) -> tuple[float, str]:
    """The classifier score of ``n`` real held-out images (the test split, else the training
    images; the ceiling a generator's score is read against) and which images those were."""
    x, _, held_x, _, held_out = _held_out_split(images, ClassifierRecipe().seed)
    rows = np.sort(np.random.default_rng(seed).choice(len(held_x), size=min(n, len(held_x)),
                                                      replace=False))
    score = classifier_score(class_probabilities(classifier.model, unit_pixels(held_x[rows])))
    return score, f"{len(rows):,} of the {held_out}"
