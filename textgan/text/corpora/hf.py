"""Hugging Face datasets, streamed: ``hf:NAME[/CONFIG][:SPLIT]``.

NAME is a Hub dataset ("owner/name" or a legacy bare name), a local directory of data files, or
a packaged builder such as "json", "parquet", "csv" or "text" with ``data_files`` (the
``--corpus-path``, and ``--valid-path`` for held-out files). Text comes from the "text" column,
else the first string column; a value holding several lines yields each non-blank line.
Held-out text is the "validation" split, else "test", else carved off as for local files.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from textgan.errors import CorpusError
from textgan.io.files import file_digest
from textgan.text.corpora.base import (
    cap,
    check_encoding_errors,
    check_max_lines,
    fingerprint,
    require_lines,
)
from textgan.text.corpora.files import carve, resolve_paths

VALID_SPLITS = ("validation", "test")


def parse_spec(spec: str) -> tuple[str, str | None, str | None]:
    """Split ``NAME[/CONFIG][:SPLIT]`` into (name, config, split).

    A local path is taken whole. Otherwise two or more slashes mean "owner/name/config"; one
    slash is ambiguous ("owner/name" or "name/config") and is resolved when loading.
    """
    spec = spec.strip()
    split = None
    if ":" in spec:
        head, tail = spec.rsplit(":", 1)
        if tail and "/" not in tail and "\\" not in tail:
            spec, split = head, tail
    if not spec:
        raise CorpusError("hf: needs a dataset name, as in hf:NAME[/CONFIG][:SPLIT]")
    if Path(spec).expanduser().exists():
        return spec, None, split
    head, _, last = spec.rpartition("/")
    if head and Path(head).expanduser().is_dir():
        return head, last, split
    if spec.count("/") >= 2:
        return head, last, split
    return spec, None, split


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 300 else text[:297] + "..."


def _sanitize(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")[:60] or "dataset"


class HFSource:
    """Lines streamed from a Hugging Face dataset (see the module docstring)."""

    def __init__(
        self,
        spec: str,
        *,
        data_files: str | None = None,
        valid_files: str | None = None,
        valid_every: int = 100,
        max_lines: int | None = None,
        encoding_errors: str = "strict",
        text_column: str | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.spec = spec
        self.path, self.config, self.split = parse_spec(spec)
        self.valid_every = valid_every
        self.max_lines = check_max_lines(max_lines)
        # Values arrive already decoded by ``datasets``; the setting is kept for describe().
        self.encoding_errors = check_encoding_errors(encoding_errors)
        self.text_column = text_column
        self.cache_dir = cache_dir
        if valid_files is not None and data_files is None:
            raise CorpusError("--valid-path with hf: also needs --corpus-path (the training files)")
        self.train_files = resolve_paths(data_files, "--corpus-path") if data_files else []
        self.valid_files = resolve_paths(valid_files, "--valid-path") if valid_files else []
        local = Path(self.path).expanduser()
        self.local_files = self.train_files + self.valid_files
        if local.is_dir():
            self.local_files += resolve_paths(str(local), "hf: directory")
        elif local.is_file():
            self.local_files.append(local)
        label = local.name if local.exists() else self.path
        label += "".join(f"_{part}" for part in (self.config, self.split) if part)
        self.name = "hf-" + _sanitize(label)
        if self.local_files:
            self.name += "-" + fingerprint(self.local_files)
        self._splits: Any = None
        self._column: str | None = None

    # --- loading ----------------------------------------------------------------------------

    def _load(self) -> Any:
        if self._splits is not None:
            return self._splits
        import datasets  # slow to import; only when an hf: corpus is used

        kwargs: dict[str, Any] = {"streaming": True}
        if self.cache_dir is not None:
            kwargs["cache_dir"] = str(self.cache_dir)
        if self.train_files:
            files: dict[str, list[str]] = {"train": [str(p) for p in self.train_files]}
            if self.valid_files:
                files["validation"] = [str(p) for p in self.valid_files]
            kwargs["data_files"] = files
        attempts = [(self.path, self.config)]
        if self.config is None and self.path.count("/") == 1 and not Path(self.path).exists():
            attempts.append(tuple(self.path.split("/")))  # "name/config" rather than "owner/name"
        first_error: BaseException | None = None
        for path, config in attempts:
            try:
                self._splits = datasets.load_dataset(path, config, **kwargs)
                self.path, self.config = path, config
                return self._splits
            # datasets signals a bad name, config, file or connection with many exception types;
            # all of them mean "cannot load this", which the user fixes.
            except Exception as err:
                first_error = first_error or err
        raise CorpusError(
            f"could not load Hugging Face dataset {self.spec!r}: {_one_line(first_error)}; "
            "check the name/config/split (and your connection, or HF_HUB_OFFLINE)"
        )

    def _split_names(self) -> tuple[str, str | None]:
        splits = self._load()
        names = list(splits.keys())
        train = self.split
        if train is None:
            if "train" in names:
                train = "train"
            elif len(names) == 1:
                train = names[0]
            else:
                raise CorpusError(
                    f"dataset {self.spec!r} has no 'train' split; name one of "
                    f"{', '.join(names)} as hf:{self.spec}:SPLIT"
                )
        elif train not in names:
            raise CorpusError(
                f"dataset {self.spec!r} has no split {train!r}; choose one of {', '.join(names)}"
            )
        valid = next((name for name in VALID_SPLITS if name in names and name != train), None)
        return train, valid

    def _column_of(self, split: Any) -> str:
        if self._column is not None:
            return self._column
        features = getattr(split, "features", None)
        if features is not None:
            columns = {name: getattr(f, "dtype", None) for name, f in features.items()}
        else:
            first = next(iter(split), None)
            if first is None:
                raise CorpusError(f"dataset {self.spec!r} is empty")
            columns = {
                k: "string" if isinstance(v, str) else type(v).__name__ for k, v in first.items()
            }
        text = [name for name, dtype in columns.items() if dtype in ("string", "large_string")]
        if self.text_column is not None:
            if self.text_column not in columns:
                raise CorpusError(
                    f"dataset {self.spec!r} has no column {self.text_column!r}; "
                    f"columns: {', '.join(columns)}"
                )
            self._column = self.text_column
        elif "text" in text:
            self._column = "text"
        elif text:
            self._column = text[0]
        else:
            raise CorpusError(
                f"dataset {self.spec!r} has no text column; columns: {', '.join(columns)}"
            )
        return self._column

    def _lines(self, split_name: str) -> Iterator[str]:
        split = self._load()[split_name]
        column = self._column_of(split)
        rows = iter(split)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as err:  # streaming errors: network, bad files, ...
                raise CorpusError(
                    f"error while reading Hugging Face dataset {self.spec!r} ({split_name}): "
                    f"{_one_line(err)}"
                ) from None
            value = row.get(column)
            if not isinstance(value, str):
                continue
            for line in value.split("\n"):
                line = line.removesuffix("\r")
                if line.strip():
                    yield line

    # --- Source interface -------------------------------------------------------------------

    def train_lines(self) -> Iterator[str]:
        """Lines of the training split (minus carved-off lines if there is no held-out split)."""
        train, valid = self._split_names()
        lines = require_lines(self._lines(train), f"Hugging Face dataset {self.spec!r} ({train})")
        if valid is not None:
            return cap(lines, self.max_lines)
        return carve(lines, every=self.valid_every, want_valid=False, max_lines=self.max_lines)

    def valid_lines(self) -> Iterator[str]:
        """Lines of the "validation" (or "test") split, or the carved-off training lines."""
        train, valid = self._split_names()
        if valid is not None:
            return self._lines(valid)
        lines = self._lines(train)
        return carve(lines, every=self.valid_every, want_valid=True, max_lines=self.max_lines)

    def describe(self) -> dict[str, Any]:
        """Dataset, config, splits, text column, local files with sha256, and settings."""
        train, valid = self._split_names()
        return {
            "kind": "hf",
            "name": self.name,
            "dataset": self.path,
            "config": self.config,
            "split": train,
            "held_out": valid
            if valid is not None
            else f"line i of {train} where i % {self.valid_every} == {self.valid_every - 1}",
            "text_column": self._column_of(self._load()[train]),
            "local_files": [
                {"path": str(p.resolve()), "size": p.stat().st_size, "sha256": file_digest(p)}
                for p in self.local_files
            ],
            "settings": {
                "valid_every": self.valid_every,
                "max_lines": self.max_lines,
                "encoding_errors": self.encoding_errors,
            },
        }
