"""The paper's JS-n written plainly, for tests to check textgan's fast implementation against."""

from __future__ import annotations

import math
from collections import Counter

PAD = "`"


def paper_js(samples: list[str], reference: list[str], n: int, seq_len: int) -> float:
    """JS-n (bits) of the maximum-likelihood char n-gram distributions of lines cut to ``seq_len``
    and right-padded with the backtick, n-grams counted inside lines."""
    def dist(lines: list[str]) -> dict[str, float]:
        counts: Counter[str] = Counter()
        for line in lines:
            line = line[:seq_len].ljust(seq_len, PAD)
            counts.update(line[i:i + n] for i in range(len(line) - n + 1))
        total = sum(counts.values())
        return {g: c / total for g, c in counts.items()}

    p, q = dist(reference), dist(samples)
    js = 0.0
    for g in p.keys() | q.keys():
        a, b = p.get(g, 0.0), q.get(g, 0.0)
        m = (a + b) / 2
        js += 0.5 * ((a * math.log2(a / m) if a else 0.0) + (b * math.log2(b / m) if b else 0.0))
    return js
