"""Strings <-> dense id matrices, vectorised.

A line is cut to ``seq_len`` characters and right-padded with ``pad`` (as the paper's
``load_dataset`` does). Characters become ids through an alphabet (list of symbols, id -> symbol);
characters outside it get ids ``V, V+1, ...`` (one per distinct character, in code point order), so
they stay distinct from each other and never match a reference n-gram.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from textgan.errors import TextganError
from textgan.eval.ngrams import sorted_unique


def check_pad(pad: str) -> None:
    if not isinstance(pad, str) or len(pad) != 1:
        raise TextganError(f"pad must be a single character, got {pad!r}; pass e.g. pad='`'")


def fit_line(line: str, seq_len: int, pad: str) -> str:
    """``line[:seq_len]`` right-padded with ``pad`` to exactly ``seq_len`` characters."""
    return line[:seq_len].ljust(seq_len, pad)


def _codepoints(lines: Sequence[str], seq_len: int, pad: str) -> np.ndarray:
    for i, s in enumerate(lines):
        if not isinstance(s, str):
            raise TextganError(f"sample {i} is {type(s).__name__}, not str; pass a list of strings")
    text = "".join(fit_line(s, seq_len, pad) for s in lines)
    cp = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return cp.astype(np.int64).reshape(len(lines), seq_len)


def encode(lines: Sequence[str], alphabet: Sequence[str], seq_len: int,
           pad: str) -> tuple[np.ndarray, list[str]]:
    """Ids ``[len(lines), seq_len]`` (int64) and the characters given ids ``>= len(alphabet)``.

    Alphabet entries longer than one character (e.g. ``"<unk>"``) never match a character.
    """
    check_pad(pad)
    V = len(alphabet)
    cp = _codepoints(lines, seq_len, pad)
    single = [(ord(s), i) for i, s in enumerate(alphabet) if len(s) == 1]
    if single:
        table = np.array(sorted(single), dtype=np.int64)
        acp, aid = table[:, 0], table[:, 1]
    else:
        acp = aid = np.zeros(0, dtype=np.int64)
    pos = np.searchsorted(acp, cp)
    hit = pos < acp.size
    hit[hit] = acp[pos[hit]] == cp[hit]
    ids = np.empty(cp.shape, dtype=np.int64)
    ids[hit] = aid[pos[hit]]
    extras: list[str] = []
    if not hit.all():
        miss = ~hit
        ucp, inv = np.unique(cp[miss], return_inverse=True)
        ids[miss] = V + inv.reshape(-1)
        extras = [chr(int(c)) for c in ucp]
    return ids, extras


def alphabet_of(lines: Sequence[str], seq_len: int, pad: str) -> list[str]:
    """Sorted distinct characters of the fitted lines, pad included."""
    check_pad(pad)
    cp = sorted_unique(_codepoints(lines, seq_len, pad).reshape(-1)) if len(lines) else []
    chars = {chr(int(c)) for c in cp} | {pad}
    return sorted(chars)


def decode(ids: np.ndarray, alphabet: Sequence[str]) -> list[str]:
    """Rows of ids back to strings (one symbol per id; ids outside the alphabet are an error)."""
    ids = np.asarray(ids)
    if ids.ndim != 2:
        raise TextganError(f"expected a [lines, seq_len] id array, got shape {ids.shape}")
    if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= len(alphabet)):
        raise TextganError(f"ids out of range for a vocabulary of {len(alphabet)} symbols; "
                           "pass the vocabulary the ids were made with")
    if all(len(s) == 1 for s in alphabet):
        table = np.array([ord(s) for s in alphabet], dtype=np.uint32)
        text = table[ids].tobytes().decode("utf-32-le", "surrogatepass")
        L = ids.shape[1]
        return [text[i * L:(i + 1) * L] for i in range(ids.shape[0])]
    arr = np.array(list(alphabet), dtype=object)
    return ["".join(arr[row]) for row in ids]
