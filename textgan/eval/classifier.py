r"""A small character n-gram classifier of text lines: the judge of conditional samples' labels.

A conditional model's samples are asked "does this line belong to the class it was generated
for?" by a classifier trained on the *real* labelled text alone, never by the critic's own AC head
(which the generator is trained to please). It is multinomial naive Bayes over character
n-grams, closed-form (one counting pass, no iterations, no seed), numpy only.

Features. A line $s$ becomes $\hat s = \langle s \rangle$: its characters between a begin and an
end marker (symbols no text contains). Its features are the counts $c_g(s)$ of every character
n-gram $g$ of the orders $n \in$ ``orders`` inside $\hat s$ (n-grams never cross lines).

Training on lines $s_1..s_m$ with labels $y_i \in \{0..K-1\}$: with $G$ the n-grams seen in
training, $m_k$ the lines of class $k$,

$$N_{k,g} = \sum_{i: y_i = k} c_g(s_i), \qquad N_k = \sum_{g \in G} N_{k,g},$$
$$\log\theta_{k,g} = \log(N_{k,g} + \alpha) - \log(N_k + \alpha|G|), \qquad
  \log\pi_k = \log m_k - \log m$$

(Lidstone smoothing $\alpha$; the class prior $\pi$ is the training share of each class).

Scoring: $\text{score}_k(s) = \log\pi_k + \sum_{g \in G} c_g(s)\log\theta_{k,g}$. N-grams outside
$G$ are ignored (no class has seen them: they carry no evidence). The posterior is
$\log P(k \mid s) = \text{score}_k(s) - \log\sum_j \exp \text{score}_j(s)$ and the predicted
label $\arg\max_k \text{score}_k(s)$ (a tie goes to the lowest $k$).

N-grams are coded as base-$B$ numbers in ``uint64`` ($B$ = alphabet + 4: unseen character,
two markers, and 0 unused, so codes of different orders never meet); exact while
$B^{\max n} < 2^{64}$ (alphabets below 65,532 characters at order 4), beyond that a wrapping
hash whose collisions are negligible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from textgan.config import setting
from textgan.errors import TextganError


@dataclass
class ClassifierConfig:
    """How the label classifier is trained (see the module docstring)."""

    orders: tuple[int, ...] = setting((1, 2, 3, 4), "Character n-gram orders of the label "
                                      "classifier.")
    alpha: float = setting(0.5, "Lidstone smoothing of the classifier's n-gram counts.")
    max_train_lines: int = setting(200_000, "Real lines the label classifier is trained on at "
                                   "most (a seeded random subset of more).")
    max_heldout_lines: int = setting(50_000, "Real held-out lines its accuracy is measured on "
                                     "at most.")
    seed: int = setting(0, "Seed of those subsets.")

    def validate(self) -> None:
        if not self.orders or any(int(n) < 1 for n in self.orders):
            raise TextganError(f"classifier orders must be positive, got {self.orders}")
        if self.alpha <= 0:
            raise TextganError(f"classifier alpha must be positive, got {self.alpha}")
        if self.max_train_lines < 1 or self.max_heldout_lines < 1:
            raise TextganError("classifier line caps must be >= 1")


def _codepoints(lines: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """All code points of ``lines`` concatenated, and each line's length."""
    lengths = np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))
    text = "".join(lines).encode("utf-32-le", errors="surrogatepass")
    return np.frombuffer(text, dtype="<u4").astype(np.int64), lengths


class NgramClassifier:
    """Multinomial naive Bayes over character n-grams; build it with :meth:`fit`."""

    def __init__(self, *, alphabet: np.ndarray, orders: tuple[int, ...], codes: np.ndarray,
                 log_theta: np.ndarray, log_prior: np.ndarray) -> None:
        self.alphabet = alphabet  # sorted code points of the training text
        self.orders = orders
        self.codes = codes  # sorted n-gram codes G
        self.log_theta = log_theta  # [|G|, K]
        self.log_prior = log_prior  # [K]

    @property
    def num_classes(self) -> int:
        return int(self.log_prior.shape[0])

    def _ngrams(self, lines: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(n-gram codes, the line each comes from) of every n-gram of ``lines``."""
        points, lengths = _codepoints(lines)
        A = self.alphabet.shape[0]
        # ids: characters 1..A, unseen A+1, begin A+2, end A+3 (0 unused: a leading digit is
        # never 0, so an order-n code is in [B^(n-1), B^n) and orders never share a code)
        unseen, begin, end, base = A + 1, A + 2, A + 3, np.uint64(A + 4)
        pos = np.searchsorted(self.alphabet, points)
        known = (pos < A) & (self.alphabet[np.minimum(pos, A - 1)] == points) if A else \
            np.zeros(points.shape, dtype=bool)
        ids = np.where(known, pos + 1, unseen).astype(np.uint64)
        size = lengths + 2
        starts = np.cumsum(size) - size
        flat = np.empty(int(size.sum()), dtype=np.uint64)
        inner = np.ones(flat.shape[0], dtype=bool)
        inner[starts] = False
        inner[starts + lengths + 1] = False
        flat[starts] = begin
        flat[starts + lengths + 1] = end
        flat[inner] = ids
        line_of = np.repeat(np.arange(len(lines)), size)
        codes, rows = [], []
        with np.errstate(over="ignore"):
            for n in self.orders:
                m = flat.shape[0] - n + 1
                if m <= 0:
                    continue
                ok = line_of[:m] == line_of[n - 1:]
                code = np.zeros(m, dtype=np.uint64)
                for j in range(n):
                    code = code * base + flat[j:j + m]
                codes.append(code[ok])
                rows.append(line_of[:m][ok])
        if not codes:
            return np.zeros(0, np.uint64), np.zeros(0, np.int64)
        return np.concatenate(codes), np.concatenate(rows)

    @classmethod
    def fit(cls, lines: Sequence[str], labels: Sequence[int] | np.ndarray, num_classes: int,
            config: ClassifierConfig | None = None) -> NgramClassifier:
        """Train on real ``lines`` with class ids ``labels`` in ``0..num_classes-1``; every class
        needs at least one line."""
        config = config or ClassifierConfig()
        config.validate()
        y = np.asarray(labels, dtype=np.int64)
        if y.shape != (len(lines),):
            raise TextganError(f"{len(lines)} lines but {y.shape[0]} labels")
        if len(lines) == 0:
            raise TextganError("no labelled lines to train the label classifier on")
        if y.min() < 0 or y.max() >= num_classes:
            raise TextganError(f"labels must be in 0..{num_classes - 1}")
        m_k = np.bincount(y, minlength=num_classes)
        if (m_k == 0).any():
            missing = np.flatnonzero(m_k == 0).tolist()
            raise TextganError(f"classes {missing} have no training lines: the label classifier "
                               "cannot learn them")
        points, _ = _codepoints(lines)
        alphabet = np.unique(points)
        orders = tuple(sorted({int(n) for n in config.orders}))
        probe = cls(alphabet=alphabet, orders=orders, codes=np.zeros(0, np.uint64),
                    log_theta=np.zeros((0, num_classes)), log_prior=np.zeros(num_classes))
        codes, rows = probe._ngrams(lines)
        vocab, inverse = np.unique(codes, return_inverse=True)
        G, K = vocab.shape[0], num_classes
        counts = np.bincount(inverse.ravel() * K + y[rows], minlength=G * K).reshape(G, K)
        totals = counts.sum(axis=0)
        log_theta = np.log(counts + config.alpha) - np.log(totals + config.alpha * G)
        log_prior = np.log(m_k) - np.log(m_k.sum())
        return cls(alphabet=alphabet, orders=orders, codes=vocab, log_theta=log_theta,
                   log_prior=log_prior)

    def scores(self, lines: Sequence[str]) -> np.ndarray:
        """Unnormalised class log-scores ``[n, K]``: log prior + n-gram log-likelihoods."""
        out = np.tile(self.log_prior, (len(lines), 1))
        if not len(lines):
            return out
        codes, rows = self._ngrams(lines)
        idx = np.searchsorted(self.codes, codes)
        G = self.codes.shape[0]
        found = (idx < G) & (self.codes[np.minimum(idx, G - 1)] == codes)
        idx, rows = idx[found], rows[found]
        for k in range(self.num_classes):
            out[:, k] += np.bincount(rows, weights=self.log_theta[idx, k], minlength=len(lines))
        return out

    def log_probabilities(self, lines: Sequence[str]) -> np.ndarray:
        """$\\log P(k \\mid s)$ for each line, ``[n, K]``."""
        s = self.scores(lines)
        top = s.max(axis=1, keepdims=True)
        return s - (top + np.log(np.exp(s - top).sum(axis=1, keepdims=True)))

    def predict(self, lines: Sequence[str]) -> np.ndarray:
        """The most probable class id of each line (int64)."""
        return self.scores(lines).argmax(axis=1)

    def accuracy_by_class(self, lines: Sequence[str], labels: Sequence[int] | np.ndarray
                          ) -> tuple[float, np.ndarray]:
        """(share of ``lines`` predicted as their label, and per class the share of its lines
        predicted as it; NaN for a class without lines)."""
        y = np.asarray(labels, dtype=np.int64)
        if y.shape != (len(lines),) or not len(lines):
            raise TextganError("need as many labels as lines, and at least one line")
        if y.min() < 0 or y.max() >= self.num_classes:
            raise TextganError(f"labels must be in 0..{self.num_classes - 1}")
        hit = self.predict(lines) == y
        n_k = np.bincount(y, minlength=self.num_classes).astype(float)
        hits_k = np.bincount(y, weights=hit, minlength=self.num_classes)
        with np.errstate(invalid="ignore", divide="ignore"):
            per_class = np.where(n_k > 0, hits_k / n_k, np.nan)
        return float(hit.mean()), per_class
