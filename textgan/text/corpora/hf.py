"""Hugging Face datasets, streamed: ``hf:NAME[/CONFIG][:SPLIT]``.

NAME is a Hub dataset ("owner/name" or a legacy bare name), a local directory of data files, or
a packaged builder such as "json", "parquet", "csv" or "text" with ``data_files`` (the
``--corpus-path``, and ``--valid-path`` for held-out files). Text comes from the "text" column,
else the first string column; a value holding several lines yields each non-blank line.
Held-out text is the "validation" split, else "test", else carved off as for local files.
With ``label_column`` the source is labelled: each line gets its row's value in that column as
its class label; a ClassLabel column's integers become its names, and those names (in their
order) are the classes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from textgan.errors import CorpusError
from textgan.io.files import file_digest
from textgan.text.corpora.base import (
    Example,
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
        label_column: str | None = None,
    ) -> None:
        self.spec = spec
        self.path, self.config, self.split = parse_spec(spec)
        self.valid_every = valid_every
        self.max_lines = check_max_lines(max_lines)
        # Values arrive already decoded by ``datasets``; the setting is kept for describe().
        self.encoding_errors = check_encoding_errors(encoding_errors)
        self.text_column = text_column
        self.label_column = label_column
        self.labelled = label_column is not None
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
        self._class_names: list[str] | None = None  # a ClassLabel label column's names

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
        text = [name for name, dtype in columns.items()
                if dtype in ("string", "large_string") and name != self.label_column]
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

    def _check_label_column(self, split: Any, split_name: str) -> None:
        """The label column exists; remember its ClassLabel names if it has them."""
        features = getattr(split, "features", None)
        if features is not None:
            columns = list(features)
        else:
            first = next(iter(split), None)
            columns = list(first) if first is not None else []
        if self.label_column not in columns:
            raise CorpusError(
                f"dataset {self.spec!r} ({split_name}) has no label column "
                f"{self.label_column!r}; columns: {', '.join(columns)}"
            )
        names = getattr(features[self.label_column], "names", None) if features else None
        if names:
            if self._class_names is not None and list(names) != self._class_names:
                raise CorpusError(f"dataset {self.spec!r}: the label column's class names differ "
                                  "between splits")
            self._class_names = [str(name) for name in names]

    def _label(self, value: Any, index: int, split_name: str) -> str:
        """A row's label as text: a ClassLabel integer's name, else the value itself."""
        where = f"dataset {self.spec!r} ({split_name}), row {index + 1}"
        if value is None or not str(value).strip() or (isinstance(value, int) and value < 0
                                                       and self._class_names is not None):
            raise CorpusError(f"{where} has no label in column {self.label_column!r} "
                              f"({value!r}); --label-column needs a label on every row")
        if self._class_names is not None:
            if not isinstance(value, int) or value >= len(self._class_names):
                raise CorpusError(f"{where}: label {value!r} is not one of the column's "
                                  f"{len(self._class_names)} classes")
            return self._class_names[value]
        if isinstance(value, (list, dict)):
            raise CorpusError(f"{where}: the label column {self.label_column!r} holds "
                              f"{type(value).__name__}s, not one label a row")
        return str(value).strip()

    def _rows(self, split_name: str) -> Iterator[tuple[str | None, str]]:
        """(label or None, text line) of every non-blank line of the split's rows."""
        split = self._load()[split_name]
        column = self._column_of(split)
        if self.labelled:
            self._check_label_column(split, split_name)
        rows = iter(split)
        index = -1
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
            index += 1
            value = row.get(column)
            if not isinstance(value, str):
                continue
            label = (self._label(row.get(self.label_column), index, split_name)
                     if self.labelled else None)
            for line in value.split("\n"):
                line = line.removesuffix("\r")
                if line.strip():
                    yield label, line

    def _lines(self, split_name: str) -> Iterator[str]:
        return (line for _, line in self._rows(split_name))

    def _examples(self, split_name: str) -> Iterator[Example]:
        return ((label, line) for label, line in self._rows(split_name))  # type: ignore[misc]

    # --- Source interface -------------------------------------------------------------------

    def _train(self, read: Any) -> Iterator[Any]:
        train, valid = self._split_names()
        lines = require_lines(read(train), f"Hugging Face dataset {self.spec!r} ({train})")
        if valid is not None:
            return cap(lines, self.max_lines)
        return carve(lines, every=self.valid_every, want_valid=False, max_lines=self.max_lines)

    def _valid(self, read: Any) -> Iterator[Any]:
        train, valid = self._split_names()
        if valid is not None:
            return read(valid)
        return carve(read(train), every=self.valid_every, want_valid=True,
                     max_lines=self.max_lines)

    def train_lines(self) -> Iterator[str]:
        """Lines of the training split (minus carved-off lines if there is no held-out split)."""
        return self._train(self._lines)

    def valid_lines(self) -> Iterator[str]:
        """Lines of the "validation" (or "test") split, or the carved-off training lines."""
        return self._valid(self._lines)

    def train_examples(self) -> Iterator[Example]:
        """(label, line) of :meth:`train_lines` (``label_column`` given)."""
        self._need_labels()
        return self._train(self._examples)

    def valid_examples(self) -> Iterator[Example]:
        """(label, line) of :meth:`valid_lines`."""
        self._need_labels()
        return self._valid(self._examples)

    def defined_labels(self) -> list[str] | None:
        """A ClassLabel column's names (the dataset's own ids); else None (sorted labels)."""
        return self._class_names

    def _need_labels(self) -> None:
        if not self.labelled:
            raise CorpusError(f"dataset {self.spec!r} is read without labels; name the label "
                              "column with --label-column")

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
            **({"label_column": self.label_column} if self.labelled else {}),
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
