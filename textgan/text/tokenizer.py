"""Character tokenizer with the paper's conventions.

Each line is cut to ``seq_len`` characters (Unicode code points) and right-padded with the pad
character (paper: a backtick). The vocabulary holds unk (id 0), pad (id 1), then the most frequent
characters of the cut-and-padded training lines, up to ``max_vocab`` entries in all (paper: 2048);
rarer characters map to unk. unk is shown as U+FFFD, so invalid bytes decoded with
``errors="replace"`` land on it too. A literal pad character in the text is indistinguishable from
padding, exactly as in the paper's code.

Encoding is vectorised: a chunk of lines becomes one UTF-32 buffer, and code points are mapped to
ids with a sorted lookup table — no Python work per character.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from textgan.errors import CorpusError

UNK = "\ufffd"
UNK_ID, PAD_ID = 0, 1  # the same ids in every tokenizer (char and SentencePiece)


def cut_and_pad(lines: Sequence[str], seq_len: int, pad: str) -> str:
    """All lines cut to ``seq_len`` and right-padded with ``pad``, concatenated."""
    return "".join(line[:seq_len].ljust(seq_len, pad) for line in lines)


def code_points(text: str) -> np.ndarray:
    """The code points of ``text`` as a uint32 array."""
    return np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype="<u4")


@dataclass
class CharTokenizer:
    """id → character table; ``vocab[0]`` is unk, ``vocab[1]`` is pad."""

    vocab: list[str]
    kind: str = "char"
    pad_id: ClassVar[int] = PAD_ID
    unk_id: ClassVar[int] = UNK_ID

    def __post_init__(self) -> None:
        if len(self.vocab) < 2 or any(len(c) != 1 for c in self.vocab):
            raise CorpusError("a character vocabulary needs unk, pad and single characters")
        cps = np.array([ord(c) for c in self.vocab], dtype=np.uint32)
        order = np.argsort(cps, kind="stable")
        self._sorted_cps = cps[order]
        self._sorted_ids = order.astype(np.int64)

    @property
    def pad(self) -> str:
        return self.vocab[1]

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint8 if len(self.vocab) <= 256 else np.uint16)

    @classmethod
    def fit(cls, line_chunks: Iterable[Sequence[str]], seq_len: int, max_vocab: int = 2048,
            pad: str = "`") -> CharTokenizer:
        """Count characters of the cut-and-padded lines; keep the ``max_vocab - 2`` most common."""
        counts = CharCounter(seq_len, pad)
        for chunk in line_chunks:
            counts.update(chunk)
        return counts.tokenizer(max_vocab)

    def encode(self, lines: Sequence[str], seq_len: int) -> np.ndarray:
        """Lines → ids of shape ``[len(lines), seq_len]``, unknown characters → unk."""
        cps = code_points(cut_and_pad(lines, seq_len, self.pad))
        pos = np.searchsorted(self._sorted_cps, cps).clip(max=len(self._sorted_cps) - 1)
        found = self._sorted_cps[pos] == cps
        ids = np.where(found, self._sorted_ids[pos], self.unk_id)
        return ids.astype(self.dtype).reshape(len(lines), seq_len)

    def decode(self, ids: Sequence[int] | np.ndarray, strip_pad: bool = False) -> str:
        text = "".join(self.vocab[i] for i in ids)
        return text.rstrip(self.pad) if strip_pad else text

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind, "vocab": self.vocab}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> CharTokenizer:
        data = json.loads(text)
        return cls(vocab=list(data["vocab"]))


class CharCounter:
    """Streaming character counts over cut-and-padded lines (bounded memory: one entry per char)."""

    def __init__(self, seq_len: int, pad: str) -> None:
        if len(pad) != 1:
            raise CorpusError(f"the pad must be a single character, got {pad!r}")
        self.seq_len, self.pad = seq_len, pad
        self.counts: dict[int, int] = {}
        self.lines = 0

    def update(self, lines: Sequence[str]) -> None:
        if not lines:
            return
        values, counts = np.unique(code_points(cut_and_pad(lines, self.seq_len, self.pad)),
                                   return_counts=True)
        for v, c in zip(values.tolist(), counts.tolist(), strict=True):
            self.counts[v] = self.counts.get(v, 0) + c
        self.lines += len(lines)

    def tokenizer(self, max_vocab: int) -> CharTokenizer:
        if max_vocab < 3:
            raise CorpusError(f"max_vocab must be at least 3 (unk, pad, one character), got {max_vocab}")
        pad_cp, unk_cp = ord(self.pad), ord(UNK)
        ranked = sorted(((-c, v) for v, c in self.counts.items() if v not in (pad_cp, unk_cp)))
        chars = [chr(v) for _, v in ranked[: max_vocab - 2]]
        return CharTokenizer(vocab=[UNK, self.pad, *chars])
