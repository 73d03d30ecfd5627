r"""Per-class evaluation of labelled samples (a conditional model's, or any labelled file's).

Each class $k$ is evaluated as a whole sample set is (:func:`textgan.eval.evaluate`: JS-n, the
Kneser-Ney LMs, word metrics, each with its real-vs-real value), but against **that class's own
reference text** (its own :class:`~textgan.eval.ReferenceSet`): a sample of class $k$ is compared
with real lines of class $k$ only. A class whose reference is too small for a real subset (fewer
than 2 lines) is evaluated without floors.

Label accuracy. A :class:`LabelJudge` (a :class:`~textgan.eval.classifier.NgramClassifier`
trained on the real labelled lines, never the critic's own AC head) classifies each sample:

* ``label_accuracy``: the share of class $k$'s samples it assigns to $k$;
* ``label_accuracy_real``: the same for the real held-out lines of class $k$ (the classifier's
  recall on class $k$), the value a perfect conditional model would reach. The judge's plain
  held-out accuracy over all classes is :attr:`ClassEvaluation.classifier` ``["accuracy"]``: how
  much to trust it.

The judge sees each sample as the reference sees it: cut to ``seq_len``, trailing pad removed.

Overall values (:attr:`ClassEvaluation.macro`): for each key every evaluated class has, the
unweighted mean over those classes (macro mean), except the counts ``n_samples`` and ``n_real``,
which are totals.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from textgan.errors import TextganError
from textgan.eval.classifier import ClassifierConfig, NgramClassifier
from textgan.eval.evaluate import EvalConfig, evaluate
from textgan.eval.reference import ReferenceSet

COUNT_KEYS = ("n_samples", "n_real")  # summed over classes, not averaged


@dataclass
class LabelJudge:
    """The label classifier, the class names of its ids, and how well it does on real text."""

    classifier: NgramClassifier
    names: list[str]
    heldout_accuracy: float  # share of real held-out lines classified as their label (NaN: none)
    heldout_by_class: np.ndarray  # per class id (NaN: no held-out line of that class)
    train_lines: int
    heldout_lines: int

    @classmethod
    def train(cls, names: Sequence[str], train_lines: Sequence[str],
              train_labels: Sequence[int] | np.ndarray, heldout_lines: Sequence[str],
              heldout_labels: Sequence[int] | np.ndarray,
              config: ClassifierConfig | None = None) -> LabelJudge:
        """Fit on real labelled lines, measure on real held-out ones (may be empty)."""
        clf = NgramClassifier.fit(train_lines, train_labels, len(names), config)
        if len(heldout_lines):
            acc, by_class = clf.accuracy_by_class(heldout_lines, heldout_labels)
        else:
            acc, by_class = float("nan"), np.full(len(names), np.nan)
        return cls(clf, list(names), acc, by_class, len(train_lines), len(heldout_lines))

    def accuracy(self, lines: Sequence[str], label: str) -> float:
        """Share of ``lines`` classified as class ``label``."""
        return float(np.mean(self.classifier.predict(lines) == self.names.index(label)))

    def summary(self) -> dict[str, float]:
        """Its line counts and held-out ``accuracy`` (left out when there were no held-out
        lines)."""
        out = {"train_lines": float(self.train_lines), "heldout_lines": float(self.heldout_lines)}
        if not np.isnan(self.heldout_accuracy):
            out["accuracy"] = self.heldout_accuracy
        return out


@dataclass
class ClassEvaluation:
    """Metrics per class name, their macro mean, and the label classifier's own accuracy."""

    per_class: dict[str, dict[str, float]]
    macro: dict[str, float]
    classifier: dict[str, float] = field(default_factory=dict)
    # per class: the length its character statistics cut lines to, and whether its word-level
    # references were whole lines (ReferenceSet.seq_len, .has_whole_lines)
    seq_len: dict[str, int] = field(default_factory=dict)
    whole_lines: dict[str, bool] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"per_class": self.per_class, "macro": self.macro, "classifier": self.classifier}


def macro_mean(per_class: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """For each key all classes have: the mean over classes (counts: the sum); order of the
    first class's keys."""
    if not per_class:
        return {}
    rows = list(per_class.values())
    keys = [k for k in rows[0] if all(k in r for r in rows)]
    return {k: float(np.sum([r[k] for r in rows]) if k in COUNT_KEYS
                     else np.mean([r[k] for r in rows])) for k in keys}


def judge_text(samples: Sequence[str], reference: ReferenceSet) -> list[str]:
    """Samples as the judge reads them: cut to the reference's ``seq_len``, trailing pad
    removed (real lines are decoded the same way)."""
    return [s[:reference.seq_len].rstrip(reference.pad) for s in samples]


def evaluate_classes(samples: Mapping[str, Sequence[str]],
                     reference_of: Callable[[str], ReferenceSet], config: EvalConfig | None = None,
                     judge: LabelJudge | None = None,
                     extra: Callable[[str, Sequence[str]], Mapping[str, float]] | None = None
                     ) -> ClassEvaluation:
    """Evaluate each class's ``samples[name]`` against ``reference_of(name)`` (see the module
    docstring); ``judge`` adds the label accuracies, ``extra(name, samples)`` more metrics of a
    class (e.g. a grammar oracle). Classes are reported in the order of ``samples``."""
    cfg = config or EvalConfig()
    if not samples:
        raise TextganError("no labelled samples to evaluate")
    per_class: dict[str, dict[str, float]] = {}
    seq_len: dict[str, int] = {}
    whole_lines: dict[str, bool] = {}
    for name, lines in samples.items():
        if not len(lines):
            raise TextganError(f"class {name!r} has no samples")
        ref = reference_of(name)
        seq_len[name], whole_lines[name] = ref.seq_len, ref.has_whole_lines
        class_cfg = cfg if ref.real_pool.shape[0] else dataclasses.replace(cfg, floors=False)
        metrics = evaluate(lines, ref, class_cfg)
        if extra is not None:
            metrics.update({k: float(v) for k, v in extra(name, lines).items()})
        if judge is not None:
            if name not in judge.names:
                raise TextganError(f"class {name!r} is not one the label classifier knows "
                                   f"({', '.join(judge.names)})")
            metrics["label_accuracy"] = judge.accuracy(judge_text(lines, ref), name)
            real = judge.heldout_by_class[judge.names.index(name)]
            if not np.isnan(real):
                metrics["label_accuracy_real"] = float(real)
        per_class[name] = metrics
    return ClassEvaluation(per_class, macro_mean(per_class),
                           judge.summary() if judge is not None else {}, seq_len, whole_lines)
