"""Reference statistics of real text, computed once and cached in a directory (npz + json).

A **split corpus** (the default; a prepared corpus's training lines ``train`` and held-out lines
``valid``, as ``textgan eval --run`` and the trainer use) gives a :class:`ReferenceSet` holding:

* ``table``: character n-gram counts of orders ``1..max_order`` over ALL training lines (JS-n),
  or over all held-out lines with ``ReferenceConfig(js_text="valid")``.
* ``real_pool``: a seeded random subset of training lines kept out of ``train_sample``; the
  real-vs-real values ("floors") use subsets of it. Its JS floor is computed against the training
  counts minus its own counts, so it never overlaps what it is compared with.
* ``train_sample``: a seeded random subset of the other training lines: the forward LM is fit on
  it and the word n-gram reference (precision/recall) is made of it.
* ``heldout``: a seeded random subset of ``valid``: reverse-LM scoring and BLEU references.
* ``train_hashes``: sorted 64-bit hashes of every training line (memorisation check).
* the forward Kneser-Ney LM, once fitted (fitted lazily, saved with the rest).

A **whole reference** (``ReferenceConfig(whole=True)``; ``textgan eval SAMPLES --reference FILE``)
has no held-out split: ``train`` and ``valid`` are just two parts of one set of reference lines
(``valid`` may be empty), and all of them are the reference:

* ``table``: n-gram counts over ALL reference lines; ``train_hashes``: every line (duplicates
  kept, for ``memorized_real``).
* ``real_pool``: ``min(real_pool_lines, N // 2)`` random reference lines; a floor compares
  ``n_real`` of them with the remaining reference lines (JS: the counts minus their own).
* ``train_sample`` and ``heldout``: random lines outside the real pool (they may overlap each
  other), capped at ``train_sample_lines`` and ``heldout_lines``.
* BLEU references (:meth:`ReferenceSet.bleu_references`): ``heldout`` plus the real pool, i.e.
  every reference line while ``N <= heldout_lines + real_pool_lines``; a real subset is scored
  against them minus itself.

Lines are id rows over ``alphabet`` (id -> symbol), each cut to ``seq_len`` and right-padded with
``pad``. Sample strings are encoded with the same alphabet; characters outside it get ids
``>= len(alphabet)`` (see :mod:`textgan.eval.text`).

**Whole lines for word-level metrics.** Character statistics (JS-n, the LMs, memorisation) are
made of the cut rows, as the paper's code cuts its lines. Word-level metrics (BLEU, Self-BLEU,
precision/recall) are defined on whole lines (Texygen), so a set built from text
(:meth:`ReferenceSet.from_texts`, or :meth:`ReferenceSet.from_ids` given ``whole_lines``) also
keeps the whole lines of its ``real_pool``, ``train_sample`` and ``heldout`` rows
(:attr:`ReferenceSet.word_text`) and hands those to the word side; without them
(:attr:`ReferenceSet.has_whole_lines` False, e.g. a prepared corpus, whose rows are all the text
there is) the word side decodes the rows.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from textgan.config import setting
from textgan.errors import TextganError
from textgan.eval.js import js_against_table
from textgan.eval.kn import KneserNeyLM
from textgan.eval.ngrams import NgramTable, count_ngrams, sorted_unique
from textgan.eval.text import alphabet_of, check_pad, decode, encode
from textgan.eval.words import WordNgrams, tokenize

# 2: the whole lines of the word side (``text_*`` arrays). Format 1 still loads, as a set
# without whole lines; callers that need them (textgan.text.evaluation) rebuild it.
FORMAT_VERSION = 2
READABLE_FORMATS = (1, 2)
WORD_ROWS = ("real_pool", "train_sample", "heldout")  # the row subsets word metrics read
JSON_NAME, NPZ_NAME = "reference.json", "reference.npz"
JSText = Literal["valid", "train"]  # which text JS-n statistics are counted on


@dataclass
class ReferenceConfig:
    """How much of the corpus goes where (line counts are caps)."""

    max_order: int = setting(4, "Character n-gram orders kept for JS-n.")
    real_pool_lines: int = setting(10_000, "Real training lines for real-vs-real values.")
    train_sample_lines: int = setting(200_000, "Training lines for the forward LM and the word "
                                      "reference.")
    heldout_lines: int = setting(10_000, "Held-out lines for reverse-LM scoring and BLEU.")
    seed: int = setting(0, "Seed of the line subsets.")
    chunk_rows: int = setting(1 << 18, "Lines counted at a time (bounds memory).")
    # With "valid" the real-vs-real floor compares training lines with the held-out statistics,
    # so nothing needs leaving out.
    js_text: JSText = setting("valid", "JS-n against the held-out text (valid, what training "
                              "logs) or the training text as the paper's code does (train).",
                              flag="js-on")
    whole: bool = setting(False, "The lines given are the reference, all of them (no held-out "
                          "split): a reference file given to textgan eval. JS-n is counted on "
                          "every line.")

    def validate(self) -> None:
        if self.js_text not in ("train", "valid"):
            raise TextganError(f"js_text must be 'train' or 'valid', got {self.js_text!r}")
        for name in ("max_order", "real_pool_lines", "train_sample_lines", "heldout_lines",
                     "chunk_rows"):
            if int(getattr(self, name)) < 1:
                raise TextganError(f"ReferenceConfig.{name} must be >= 1, "
                                   f"got {getattr(self, name)}")


def _small_uint(ids: np.ndarray, V: int) -> np.ndarray:
    return ids.astype(np.uint8 if V <= 256 else np.uint16 if V <= 65536 else np.uint32)


_M1, _M2, _GOLD = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB), \
    np.uint64(0x9E3779B97F4A7C15)


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (uint64, wrapping)."""
    h = (h ^ (h >> np.uint64(30))) * _M1
    h = (h ^ (h >> np.uint64(27))) * _M2
    return h ^ (h >> np.uint64(31))


def line_hashes(ids: np.ndarray, hash_dtype: str) -> np.ndarray:
    """64-bit hash of each id row (rows as ``hash_dtype`` bytes, read 8 bytes at a time)."""
    a = np.ascontiguousarray(ids, dtype=hash_dtype)
    raw = a.view(np.uint8).reshape(a.shape[0], a.shape[1] * a.itemsize)
    width = -(-raw.shape[1] // 8) * 8
    if width != raw.shape[1]:
        raw = np.concatenate([raw, np.zeros((raw.shape[0], width - raw.shape[1]), np.uint8)], 1)
    words = np.ascontiguousarray(raw).view("<u8")
    with np.errstate(over="ignore"):
        h = np.full(a.shape[0], np.uint64(width), dtype=np.uint64)
        for j in range(words.shape[1]):
            h = _mix((h * _GOLD) ^ words[:, j])
    return h


def _take_rows(parts: Sequence[np.ndarray], rows: np.ndarray) -> np.ndarray:
    """Rows ``rows`` (sorted indices into the parts stacked on top of each other)."""
    out, start = [], 0
    for a in parts:
        sel = rows[(rows >= start) & (rows < start + a.shape[0])] - start
        out.append(np.asarray(a[sel]))
        start += a.shape[0]
    return np.concatenate(out)


def corpus_fingerprint(train: np.ndarray, valid: np.ndarray, vocab: Sequence[str],
                       pad: str) -> str:
    """Cheap identity of a corpus: shapes, vocabulary, pad and hashes of up to 4096 lines."""
    parts = [np.array([train.shape[0], valid.shape[0], train.shape[1]], dtype=np.uint64)]
    for a in (train, valid):
        step = max(1, a.shape[0] // 2048)
        rows = np.asarray(a[::step][:2048])
        parts.append(line_hashes(rows.astype(np.int64), "<u4"))
        parts.append(line_hashes(np.asarray(a[-1:]).astype(np.int64), "<u4"))
    text = json.dumps([list(map(str, vocab)), pad], ensure_ascii=False).encode()
    pad8 = text + b"\0" * (-len(text) % 8)
    parts.append(np.frombuffer(pad8, dtype="<u8"))
    h = line_hashes(np.concatenate(parts).view("<u4").reshape(1, -1).astype(np.int64), "<u4")
    return f"{int(h[0]):016x}"


def _pick_lines(whole_lines: Callable[[np.ndarray], Sequence[str]],
                rows: dict[str, np.ndarray]) -> dict[str, list[str]]:
    """The whole lines of each subset's ``rows``, asked for once (one pass over a file)."""
    wanted = np.unique(np.concatenate([np.asarray(r, dtype=np.int64) for r in rows.values()]))
    got = list(whole_lines(wanted))
    if len(got) != wanted.size:
        raise TextganError(f"asked for {wanted.size} whole lines, got {len(got)}: the text no "
                           "longer matches its prepared rows; prepare it again")
    at = dict(zip(wanted.tolist(), got, strict=True))
    return {name: [at[i] for i in np.asarray(r).tolist()] for name, r in rows.items()}


def _text_arrays(lines: Sequence[str], prefix: str) -> dict[str, np.ndarray]:
    """Lines as UTF-8 bytes and their byte lengths (npz-friendly, no pickling)."""
    encoded = [line.encode("utf-8", "surrogatepass") for line in lines]
    return {prefix + "bytes": np.frombuffer(b"".join(encoded), dtype=np.uint8),
            prefix + "lengths": np.array([len(b) for b in encoded], dtype=np.int64)}


def _text_from(arrays: dict[str, np.ndarray], prefix: str) -> list[str]:
    data = arrays[prefix + "bytes"].tobytes()
    ends = np.cumsum(arrays[prefix + "lengths"]).tolist()
    starts = [0, *ends[:-1]] if ends else []
    return [data[a:b].decode("utf-8", "surrogatepass") for a, b in zip(starts, ends, strict=True)]


class ReferenceSet:
    """Cached statistics of the real corpus; build with :meth:`from_ids` or :meth:`from_texts`."""

    def __init__(self, *, alphabet: list[str], pad: str, seq_len: int, table: NgramTable,
                 real_pool: np.ndarray, train_sample: np.ndarray, heldout: np.ndarray,
                 train_hashes: np.ndarray, hash_dtype: str, n_train: int, n_valid: int,
                 config: ReferenceConfig, fingerprint: str,
                 lms: dict[int, KneserNeyLM] | None = None,
                 word_text: dict[str, list[str]] | None = None) -> None:
        self.alphabet, self.pad, self.seq_len = alphabet, pad, seq_len
        self.table = table
        self.real_pool, self.train_sample, self.heldout = real_pool, train_sample, heldout
        self.train_hashes, self.hash_dtype = train_hashes, hash_dtype
        self.n_train, self.n_valid, self.config = n_train, n_valid, config
        self.fingerprint = fingerprint
        self._lms: dict[int, KneserNeyLM] = dict(lms or {})
        self._cache: dict[tuple, object] = {}
        # the whole (uncut) lines of each of WORD_ROWS, row for row; None: decode the rows
        self.word_text = word_text
        if word_text is not None:
            for name in WORD_ROWS:
                if len(word_text[name]) != getattr(self, name).shape[0]:
                    raise TextganError(f"{len(word_text[name])} whole lines for the "
                                       f"{getattr(self, name).shape[0]} rows of {name}")

    @property
    def has_whole_lines(self) -> bool:
        """Whether word-level metrics read whole reference lines (else the rows, cut to
        ``seq_len``)."""
        return self.word_text is not None

    # ----------------------------------------------------------------------------- building
    @classmethod
    def from_ids(cls, train: np.ndarray, valid: np.ndarray, vocab: Sequence[str],
                 pad: str = "`", config: ReferenceConfig | None = None,
                 whole_lines: Callable[[np.ndarray], Sequence[str]] | None = None
                 ) -> ReferenceSet:
        """From prepared id arrays ``[lines, seq_len]`` (may be memory-mapped) and ``vocab``.

        With ``config.whole`` both arrays are parts of one reference and ``valid`` may be empty.
        ``whole_lines(rows)``: the uncut lines of rows ``rows`` (sorted, distinct indices into
        ``train`` and then ``valid``, stacked), for the word-level side.
        """
        config = config or ReferenceConfig()
        config.validate()
        check_pad(pad)
        vocab = [str(s) for s in vocab]
        V = len(vocab)
        if pad not in vocab:
            raise TextganError(f"pad {pad!r} is not in the vocabulary; pass the corpus's pad")
        for name, a in (("train", train), ("valid", valid)):
            may_be_empty = config.whole and name == "valid"
            if a.ndim != 2 or (a.shape[0] == 0 and not may_be_empty) or a.shape[1] == 0:
                raise TextganError(f"{name} must be a non-empty [lines, seq_len] id array, "
                                   f"got shape {a.shape}; prepare the corpus again")
            if a.dtype.kind not in "ui":
                raise TextganError(f"{name} holds {a.dtype} values, not integer ids")
        if train.shape[1] != valid.shape[1]:
            raise TextganError(f"train and valid lines differ in length ({train.shape[1]} vs "
                               f"{valid.shape[1]}); prepare the corpus again")
        cs = config.chunk_rows
        hash_dtype = "<u2" if V <= 65536 else "<u4"
        hashes = []
        for a in (train, valid):
            for s in range(0, a.shape[0], cs):
                c = np.asarray(a[s:s + cs])
                if c.size and (int(c.min()) < 0 or int(c.max()) >= V):
                    raise TextganError(f"ids out of range for a vocabulary of {V}; pass the "
                                       "vocabulary the corpus was prepared with")
                if a is train or config.whole:
                    hashes.append(line_hashes(c, hash_dtype))
        counted = (train, valid) if config.whole else valid if config.js_text == "valid" else train
        table = count_ngrams(counted, V, config.max_order, chunk_rows=cs)
        rng = np.random.default_rng(config.seed)
        if config.whole:
            parts = (train, valid)
            n = train.shape[0] + valid.shape[0]
            P = min(config.real_pool_lines, n // 2)
            S = min(config.train_sample_lines, n - P)
            H = min(config.heldout_lines, n - P)
            pick = rng.choice(n, P + max(S, H), replace=False)
            rows = {"real_pool": np.sort(pick[:P]), "train_sample": np.sort(pick[P:P + S]),
                    "heldout": np.sort(pick[P:P + H])}
            real, sample = _take_rows(parts, rows["real_pool"]), \
                _take_rows(parts, rows["train_sample"])
            held = _take_rows(parts, rows["heldout"])
            # duplicates kept: memorized_real asks whether a line occurs outside a real subset
            train_hashes = np.sort(np.concatenate(hashes))
        else:
            n = train.shape[0]
            P = min(config.real_pool_lines, n // 2)
            S = min(config.train_sample_lines, n - P)
            pick = rng.choice(n, P + S, replace=False)
            hold = np.sort(rng.choice(valid.shape[0], min(config.heldout_lines, valid.shape[0]),
                                      replace=False))
            rows = {"real_pool": np.sort(pick[:P]), "train_sample": np.sort(pick[P:]),
                    "heldout": train.shape[0] + hold}
            real, sample = np.asarray(train[rows["real_pool"]]), \
                np.asarray(train[rows["train_sample"]])
            held = np.asarray(valid[hold])
            train_hashes = sorted_unique(np.concatenate(hashes))
        return cls(alphabet=vocab, pad=pad, seq_len=int(train.shape[1]), table=table,
                   real_pool=_small_uint(real, V), train_sample=_small_uint(sample, V),
                   heldout=_small_uint(held, V), train_hashes=train_hashes,
                   hash_dtype=hash_dtype, n_train=int(train.shape[0]),
                   n_valid=int(valid.shape[0]), config=config,
                   fingerprint=corpus_fingerprint(train, valid, vocab, pad),
                   word_text=None if whole_lines is None else _pick_lines(whole_lines, rows))

    @classmethod
    def from_texts(cls, train: Sequence[str], valid: Sequence[str], seq_len: int,
                   pad: str = "`", config: ReferenceConfig | None = None) -> ReferenceSet:
        """From plain lists of lines (cut to ``seq_len``, right-padded with ``pad``, for the
        character statistics; whole for the word-level ones); with ``config.whole``,
        ``train + valid`` are the reference and ``valid`` may be empty."""
        check_pad(pad)
        if seq_len < 1:
            raise TextganError(f"seq_len must be >= 1, got {seq_len}")
        if not train or not (valid or (config is not None and config.whole)):
            raise TextganError("need non-empty training and held-out lines to build a reference")
        both = list(train) + list(valid)
        alphabet = alphabet_of(both, seq_len, pad)
        tr, _ = encode(train, alphabet, seq_len, pad)
        va, _ = encode(valid, alphabet, seq_len, pad)
        V = len(alphabet)
        return cls.from_ids(_small_uint(tr, V), _small_uint(va, V), alphabet, pad, config,
                            whole_lines=lambda rows: [both[i] for i in rows.tolist()])

    # ------------------------------------------------------------------------------ caching
    def save(self, directory: str | os.PathLike) -> Path:
        """Write ``reference.json`` + ``reference.npz`` into ``directory`` (created if needed)."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        arrays = {"real_pool": self.real_pool, "train_sample": self.train_sample,
                  "heldout": self.heldout, "train_hashes": self.train_hashes}
        for k in range(self.table.max_order):
            arrays[f"keys{k + 1}"] = self.table.keys[k]
            arrays[f"counts{k + 1}"] = self.table.counts[k]
        for order, lm in self._lms.items():
            arrays.update(lm.to_arrays(prefix=f"lm{order}_"))
        if self.word_text is not None:
            for name in WORD_ROWS:
                arrays.update(_text_arrays(self.word_text[name], f"text_{name}_"))
        meta = {"format": FORMAT_VERSION, "whole_lines": self.word_text is not None,
                "alphabet": self.alphabet, "pad": self.pad,
                "seq_len": self.seq_len, "n_train": self.n_train, "n_valid": self.n_valid,
                "max_order": self.table.max_order, "hash_dtype": self.hash_dtype,
                "lm_orders": sorted(self._lms), "config": asdict(self.config),
                "fingerprint": self.fingerprint}
        tmp_npz, tmp_json = d / (NPZ_NAME + ".tmp.npz"), d / (JSON_NAME + ".tmp")
        np.savez(tmp_npz, **arrays)
        tmp_json.write_text(json.dumps(meta, ensure_ascii=False))
        os.replace(tmp_npz, d / NPZ_NAME)
        os.replace(tmp_json, d / JSON_NAME)
        return d

    @classmethod
    def load(cls, directory: str | os.PathLike) -> ReferenceSet:
        d = Path(directory)
        if not (d / JSON_NAME).is_file() or not (d / NPZ_NAME).is_file():
            raise TextganError(f"no evaluation reference in {d}; build one with "
                               "ReferenceSet.from_ids(...).save(dir)")
        try:
            meta = json.loads((d / JSON_NAME).read_text())
            if meta.get("format") not in READABLE_FORMATS:
                raise TextganError(f"evaluation reference in {d} has format {meta.get('format')}"
                                   f", this textgan reads {FORMAT_VERSION}; delete it to rebuild")
            with np.load(d / NPZ_NAME, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            K = int(meta["max_order"])
            table = NgramTable(len(meta["alphabet"]), [arrays[f"keys{k}"] for k in range(1, K + 1)],
                               [arrays[f"counts{k}"] for k in range(1, K + 1)])
            lms = {int(o): KneserNeyLM.from_arrays(arrays, prefix=f"lm{o}_")
                   for o in meta["lm_orders"]}
            return cls(alphabet=list(meta["alphabet"]), pad=meta["pad"],
                       seq_len=int(meta["seq_len"]), table=table, real_pool=arrays["real_pool"],
                       train_sample=arrays["train_sample"], heldout=arrays["heldout"],
                       train_hashes=arrays["train_hashes"], hash_dtype=meta["hash_dtype"],
                       n_train=int(meta["n_train"]), n_valid=int(meta["n_valid"]),
                       config=ReferenceConfig(**meta["config"]),
                       fingerprint=str(meta["fingerprint"]), lms=lms,
                       word_text={name: _text_from(arrays, f"text_{name}_") for name in WORD_ROWS}
                       if meta.get("whole_lines") else None)
        except TextganError:
            raise
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise TextganError(f"evaluation reference in {d} is unreadable ({type(e).__name__})"
                               "; delete it to rebuild") from e

    def is_for(self, train: np.ndarray, valid: np.ndarray, vocab: Sequence[str],
               pad: str = "`") -> bool:
        """Whether this reference was built from these arrays (cheap check for a stale cache)."""
        return self.fingerprint == corpus_fingerprint(train, valid, vocab, pad)

    # ------------------------------------------------------------------------------- access
    @property
    def vocab_size(self) -> int:
        return len(self.alphabet)

    def encode(self, samples: Sequence[str] | np.ndarray) -> tuple[np.ndarray, int]:
        """Sample ids ``[n, seq_len]`` (int64) and their id base (alphabet + unseen chars).

        Takes strings, or an id array over this reference's alphabet (fast path)."""
        if isinstance(samples, np.ndarray):
            if samples.ndim != 2 or samples.shape[1] != self.seq_len:
                raise TextganError(f"sample ids must have shape [n, {self.seq_len}], "
                                   f"got {samples.shape}")
            if samples.size and (int(samples.min()) < 0 or
                                 int(samples.max()) >= self.vocab_size):
                raise TextganError(f"sample ids out of range for the reference vocabulary of "
                                   f"{self.vocab_size}")
            return samples.astype(np.int64), self.vocab_size
        ids, extras = encode(list(samples), self.alphabet, self.seq_len, self.pad)
        return ids, self.vocab_size + len(extras)

    def lines(self, ids: np.ndarray) -> list[str]:
        """Id rows over this alphabet back to strings."""
        return decode(ids, self.alphabet)

    def real_indices(self, n: int, seed: int = 0) -> np.ndarray:
        """Rows of ``real_pool`` making up the real subset of ``min(n, len(real_pool))`` lines."""
        m = min(n, self.real_pool.shape[0])
        if m == 0:
            raise TextganError("the reference has no real pool for real-vs-real values; build "
                               "it from at least 2 training lines")
        return np.sort(np.random.default_rng(seed).choice(self.real_pool.shape[0], m,
                                                          replace=False))

    def real_subset(self, n: int, seed: int = 0) -> np.ndarray:
        """``min(n, len(real_pool))`` seeded random real training lines (not in the LM/word
        reference; in the JS statistics, which subtract them where needed)."""
        return self.real_pool[self.real_indices(n, seed)].astype(np.int64)

    def js_floor(self, n: int, orders: Sequence[int], seed: int = 0) -> dict[int, float]:
        """JS-n between ``n`` real training lines and the reference statistics (without them)."""
        key = ("js_floor", n, tuple(orders), seed)
        if key not in self._cache:
            real = self.real_subset(n, seed)
            # Real lines are inside training or whole-reference statistics (leave them out), never
            # inside held-out ones.
            leave_out = self.config.whole or self.config.js_text == "train"
            self._cache[key] = js_against_table(real, self.vocab_size, self.table, orders,
                                                leave_out=leave_out)
        return dict(self._cache[key])  # type: ignore[arg-type]

    def lm_ids(self, ids: np.ndarray) -> np.ndarray:
        """Ids for the LM vocabulary ``alphabet + [unk]``: unseen characters -> unk."""
        return np.where(ids < self.vocab_size, ids, self.vocab_size).astype(np.int64)

    def forward_lm(self, order: int = 6) -> KneserNeyLM:
        """Kneser-Ney LM of ``order`` fit on ``train_sample`` (fitted once, then cached)."""
        if order not in self._lms:
            if self.train_sample.shape[0] == 0:
                raise TextganError("the reference has no training sample to fit an LM on")
            self._lms[order] = KneserNeyLM.fit(self.train_sample, self.vocab_size + 1, order)
        return self._lms[order]

    def memorized(self, ids: np.ndarray) -> np.ndarray:
        """Per line: is it, cut and padded, verbatim a training line? (64-bit line hashes; a
        false positive has probability about ``n_train / 2**64`` per line.)"""
        ok = (ids < self.vocab_size).all(axis=1)
        out = np.zeros(ids.shape[0], dtype=bool)
        if ok.any():
            h = line_hashes(ids[ok], self.hash_dtype)
            pos = np.searchsorted(self.train_hashes, h)
            pos = np.minimum(pos, self.train_hashes.size - 1)
            out[ok] = self.train_hashes[pos] == h
        return out

    def memorized_real(self, real_rows: np.ndarray) -> float:
        """The real-vs-real value of :meth:`memorized`. Split corpus: the share of held-out lines
        that are verbatim training lines. Whole reference: the share of the real subset
        (``real_pool`` rows ``real_rows``) found verbatim among the other reference lines."""
        if not self.config.whole:
            return float(self.memorized(self.heldout.astype(np.int64)).mean())
        h = line_hashes(self.real_pool[real_rows].astype(np.int64), self.hash_dtype)
        everywhere = (np.searchsorted(self.train_hashes, h, side="right")
                      - np.searchsorted(self.train_hashes, h, side="left"))
        _, inverse, within = np.unique(h, return_inverse=True, return_counts=True)
        return float(np.mean(everywhere > within[inverse]))

    def word_lines(self, name: str) -> list[str]:
        """The lines word-level metrics read for row subset ``name`` (one of ``WORD_ROWS``):
        whole when this set has them, else the rows decoded (cut to ``seq_len``, padded)."""
        if self.word_text is not None:
            return self.word_text[name]
        return self.lines(getattr(self, name))

    def real_lines(self, real_rows: np.ndarray) -> list[str]:
        """Word-level lines of the real subset (``real_pool`` rows ``real_rows``)."""
        lines = self.word_lines("real_pool")
        return [lines[i] for i in np.asarray(real_rows).tolist()]

    def word_reference(self, lowercase: bool = False, max_order: int = 4) -> WordNgrams:
        key = ("words", lowercase, max_order)
        if key not in self._cache:
            self._cache[key] = WordNgrams(self._tokens("train_sample", lowercase), max_order)
        return self._cache[key]  # type: ignore[return-value]

    def _tokens(self, name: str, lowercase: bool) -> list[list[str]]:
        key = (name, lowercase)
        if key not in self._cache:
            self._cache[key] = [tokenize(s, self.pad, lowercase) for s in self.word_lines(name)]
        return self._cache[key]  # type: ignore[return-value]

    def heldout_tokens(self, lowercase: bool = False) -> list[list[str]]:
        return self._tokens("heldout", lowercase)

    def bleu_references(self, lowercase: bool = False,
                        leave_out: np.ndarray | None = None) -> list[list[str]]:
        """Words of the BLEU reference lines: split corpus, ``heldout``; whole reference,
        ``heldout`` plus the real pool without its rows ``leave_out`` (a real subset being
        scored, which must not be its own reference)."""
        refs = self.heldout_tokens(lowercase)
        if not self.config.whole:
            return refs
        pool = self._tokens("real_pool", lowercase)
        keep = np.ones(len(pool), dtype=bool)
        if leave_out is not None:
            keep[leave_out] = False
        return refs + [t for t, k in zip(pool, keep.tolist(), strict=True) if k]
