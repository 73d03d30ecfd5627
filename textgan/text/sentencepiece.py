"""Subword tokenizer: a SentencePiece model (unigram or BPE) trained on the training text.

Conventions mirror the character tokenizer: id 0 is unk (decoded as U+FFFD), id 1 is pad, a line
is cut to ``seq_len`` PIECES and right-padded with the pad id. There is no BOS/EOS. Text is not
normalised (SentencePiece's ``identity`` rule), so decoded samples use exactly the characters of
the corpus and can be compared with it character for character.

The serialized model travels inside ``to_json()`` (base64), so a checkpoint alone can decode its
samples; the prepared corpus directory also keeps it as ``sentencepiece.model`` for other tools.

Training reads a bounded sample: the first ``max_sample_lines`` lines are streamed into a
temporary file in the work directory (memory stays bounded); the rest are only counted.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from textgan.errors import CorpusError
from textgan.text.tokenizer import PAD_ID, UNK_ID

UNK_SURFACE = "\ufffd"  # as the character tokenizer's unk
WORD_START = "\u2581"  # SentencePiece's visible space
MODEL_FILE = "sentencepiece.model"
SAMPLE_FILE = "sentencepiece-input.txt"
MAX_SAMPLE_LINES = 1_000_000


def _processor(model_proto: bytes) -> Any:
    import sentencepiece as spm

    return spm.SentencePieceProcessor(model_proto=model_proto)


def _training_error(err: Exception, vocab_size: int) -> CorpusError:
    """SentencePiece's multi-part INTERNAL errors as one actionable line."""
    text = str(err)
    if m := re.search(r"value <= (\d+)", text):
        return CorpusError(f"vocab_size {vocab_size} is too large for this corpus: SentencePiece can "
                           f"make at most {m.group(1)} pieces from it; use --vocab-size "
                           f"{m.group(1)} or less")
    if m := re.search(r"required_chars\. \d+ vs (\d+)", text):
        return CorpusError(f"vocab_size {vocab_size} is too small: this corpus needs at least "
                           f"{m.group(1)} pieces (its characters plus unk and pad); use "
                           f"--vocab-size {m.group(1)} or more, or a lower sp_character_coverage")
    detail = text.splitlines()[0] if text else type(err).__name__
    return CorpusError(f"SentencePiece training failed ({detail[:160]}); check the corpus and "
                       "--vocab-size")


# Protocol-buffer field numbers (sentencepiece_model.proto): ModelProto.trainer_spec, and the
# TrainerSpec fields that name files of the machine the model was trained on.
_TRAINER_SPEC = 2
_TRAINER_PATH_FIELDS = {1, 2}  # input (the training sample's path), model_prefix


def _proto_fields(data: bytes) -> list[tuple[int, int, bytes, bytes]]:
    """A protobuf message as (field number, wire type, encoded key and value, the payload of a
    length-delimited field)."""

    def varint(at: int) -> tuple[int, int]:
        value = shift = 0
        while True:
            byte = data[at]
            value |= (byte & 0x7F) << shift
            at += 1
            shift += 7
            if byte < 0x80:
                return value, at

    fields, at = [], 0
    while at < len(data):
        start = at
        key, at = varint(at)
        number, wire = key >> 3, key & 7
        payload = b""
        if wire == 0:
            _, at = varint(at)
        elif wire == 1:
            at += 8
        elif wire == 5:
            at += 4
        elif wire == 2:
            size, at = varint(at)
            payload, at = data[at:at + size], at + size
        else:
            raise CorpusError(f"the SentencePiece model is damaged (protobuf wire type {wire})")
        if at > len(data):
            raise CorpusError("the SentencePiece model is damaged (truncated)")
        fields.append((number, wire, data[start:at], payload))
    return fields


def _varint_bytes(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def without_paths(model_proto: bytes) -> bytes:
    """The model with its trainer spec's file names (the training sample's path, the model
    prefix) removed, every other byte kept: what a model shared with others holds. Encoding and
    decoding never read those fields."""
    out = bytearray()
    for number, wire, encoded, payload in _proto_fields(model_proto):
        if number == _TRAINER_SPEC and wire == 2:
            kept = b"".join(part for field, _, part, _ in _proto_fields(payload)
                            if field not in _TRAINER_PATH_FIELDS)
            out += _varint_bytes(_TRAINER_SPEC << 3 | 2) + _varint_bytes(len(kept)) + kept
        else:
            out += encoded
    return bytes(out)


class SentencePieceTokenizer:
    """id → piece table backed by a SentencePiece model; ``vocab[0]`` unk, ``vocab[1]`` pad."""

    kind = "sentencepiece"
    pad_id, unk_id = PAD_ID, UNK_ID

    def __init__(self, model_proto: bytes, pad: str = "`", trained_lines: int = 0) -> None:
        self.model_proto = bytes(model_proto)
        self.pad = pad  # how a pad id is shown when pads are not stripped (as in char mode)
        self.trained_lines = trained_lines  # lines seen while fitting (0 when loaded)
        self.sp = _processor(self.model_proto)
        self.vocab: list[str] = [self.sp.id_to_piece(i) for i in range(self.sp.get_piece_size())]
        self._surface = [piece.replace(WORD_START, " ") for piece in self.vocab]  # id -> text
        self._surface[0], self._surface[1] = UNK_SURFACE, pad
        if self.sp.unk_id() != UNK_ID or self.sp.pad_id() != PAD_ID:
            raise CorpusError("this SentencePiece model does not use unk id 0 and pad id 1; "
                              "prepare the corpus again")

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.uint16 if len(self.vocab) <= 1 << 16 else np.uint32)

    # -- fitting --------------------------------------------------------------------------------
    @classmethod
    def fit(cls, line_chunks: Iterable[Sequence[str]], workdir: Path, *, vocab_size: int,
            model_type: str = "unigram", pad: str = "`", character_coverage: float = 1.0,
            max_sample_lines: int = MAX_SAMPLE_LINES) -> SentencePieceTokenizer:
        """Train on the first ``max_sample_lines`` lines (all lines are counted) and save
        ``workdir/sentencepiece.model``.

        ``character_coverage``: the share of character occurrences that get their own piece;
        rarer characters become unk. SentencePiece's default (0.9995) suits large alphabets; on
        an English-like corpus it would drop whole capital letters, hence 1.0 here.
        """
        import sentencepiece as spm

        if model_type not in ("unigram", "bpe"):
            raise CorpusError(f"unknown SentencePiece model type {model_type!r}; use unigram or bpe")
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        sample_path = workdir / SAMPLE_FILE
        seen = written = 0
        try:
            with open(sample_path, "w", encoding="utf-8", newline="\n") as f:
                for chunk in line_chunks:
                    seen += len(chunk)
                    room = max_sample_lines - written
                    if room > 0:
                        # a stray newline inside a line would split it into two sentences
                        part = [line.replace("\n", " ").replace("\r", " ") for line in chunk[:room]]
                        f.write("".join(line + "\n" for line in part))
                        written += len(part)
            if seen == 0:
                raise CorpusError("the corpus has no training lines; check the path or source")
            model = io.BytesIO()
            try:
                spm.SentencePieceTrainer.train(
                    input=str(sample_path), model_writer=model, vocab_size=vocab_size,
                    model_type=model_type, unk_id=0, pad_id=1, bos_id=-1, eos_id=-1,
                    unk_surface=UNK_SURFACE, normalization_rule_name="identity",
                    character_coverage=character_coverage,
                    num_threads=os.cpu_count() or 1, minloglevel=2,  # the file is the sample
                )
            except RuntimeError as err:
                raise _training_error(err, vocab_size) from None
        finally:
            sample_path.unlink(missing_ok=True)
        tokenizer = cls(model.getvalue(), pad=pad, trained_lines=seen)
        (workdir / MODEL_FILE).write_bytes(tokenizer.model_proto)
        return tokenizer

    # -- ids ------------------------------------------------------------------------------------
    def encode(self, lines: Sequence[str], seq_len: int) -> np.ndarray:
        """Lines → ids ``[len(lines), seq_len]``: cut to ``seq_len`` pieces, right-padded."""
        out = np.full((len(lines), seq_len), self.pad_id, dtype=self.dtype)
        for row, ids in zip(out, self.sp.encode(list(lines)), strict=True):
            k = min(len(ids), seq_len)
            row[:k] = ids[:k]
        return out

    def decode(self, ids: Sequence[int] | np.ndarray, strip_pad: bool = False) -> str:
        """Ids → text: pieces joined, ``▁`` → space, minus the one space SentencePiece adds in
        front of a line; unk → U+FFFD. Trailing pads are dropped with ``strip_pad``; other pads
        show as the pad character (as in character mode), one per pad id.

        Same text as SentencePiece's own decoder on every row preparation can produce; unlike it,
        it keeps extra leading spaces, so a malformed generated row is not shown as a clean one.
        """
        ids = [int(i) for i in ids]
        if strip_pad:
            while ids and ids[-1] == self.pad_id:
                ids.pop()
        try:
            if ids and min(ids) < 0:
                raise IndexError
            text = "".join([self._surface[i] for i in ids])
        except IndexError:
            raise CorpusError(f"an id is outside this vocabulary of {len(self.vocab)} pieces") \
                from None
        if ids and ids[0] != self.pad_id and self.vocab[ids[0]].startswith(WORD_START):
            text = text[1:]
        return text

    # -- persistence ----------------------------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps({"kind": self.kind, "vocab": self.vocab, "pad": self.pad,
                           "model": base64.b64encode(self.model_proto).decode("ascii")},
                          ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> SentencePieceTokenizer:
        try:
            data = json.loads(text)
            proto = base64.b64decode(data["model"], validate=True)
            tokenizer = cls(proto, pad=data.get("pad", "`"))
        except (KeyError, ValueError, TypeError, RuntimeError) as err:
            raise CorpusError(f"the stored SentencePiece tokenizer is unreadable ({str(err)[:80]})") \
                from None
        if tokenizer.vocab != list(data.get("vocab", tokenizer.vocab)):
            raise CorpusError("the stored SentencePiece model does not match its vocabulary")
        return tokenizer

    @classmethod
    def load(cls, directory: str | Path) -> SentencePieceTokenizer:
        """From a prepared corpus directory (its ``vocab.json`` embeds the model)."""
        return cls.from_json((Path(directory) / "vocab.json").read_text(encoding="utf-8"))
