"""Encoded images (a folder of PNG/JPEG/WebP files, LSUN's LMDB, the 64×64 ImageNet folders),
prepared once into uint8 arrays that training memory-maps.

A prepared directory (``<data_dir>/<kind>-<name>-<size>px-c<channels>-<hash>``) holds::

    train.bin         uint8 [n_train, C, size, size], row-major
    test.bin          the held-out images, same layout
    train_labels.bin  uint16 class ids, one per training image (labelled sources only)
    test_labels.bin   one per held-out image
    meta.json         source, fingerprint, counts, class names — written LAST

It is built in a ``.partial`` sibling and renamed into place under a lock file, like a prepared
text corpus (:mod:`textgan.text.prepare`). Its name hashes the source's absolute path and the
preparation settings; ``meta.json`` records a *fingerprint* of the source — for files the sha256
of every image's path relative to the folder, size and modification time (contents are not read:
a changed file has a new mtime), for an LMDB database its ``data.mdb`` size, mtime and entry
count. A source whose fingerprint differs is prepared again, replacing the old arrays.

Each image: decoded by Pillow (a JPEG is decoded at the smallest DCT scale still at least
``size`` on both sides), converted to RGB or grey (an alpha channel is dropped), its centred
square of side $m = \\min(w, h)$ (fractional offsets kept) resized to ``size``×``size`` by area
averaging (Pillow's BOX filter: each output pixel is the mean of the input area it covers; an
image smaller than ``size`` is enlarged by repeating pixels). Images are decoded and written one
at a time with plain file writes, so memory stays bounded by one decoded image whatever the
count.

Held-out split: a file folder and LSUN use a hash of each image's name (path relative to the
folder, or the LMDB key): image $i$ is held out when the first 8 hex digits of
$\\mathrm{sha1}(\\mathrm{name}_i)$, read as a fraction of $16^8$, are below ``held_out``. An image
keeps its split when others are added or removed. The 64×64 ImageNet folders keep their own
split (``train_64x64/`` and ``valid_64x64/``, as the paper's ``tflib/small_imagenet.py`` reads
them).

Labels: when every image of a folder lies in a subfolder, the first subfolder's name is its
class (names sorted; ids in that order). Otherwise the images have no labels.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from filelock import FileLock

from textgan.errors import CorpusError
from textgan.io.atomic import atomic_write_text
from textgan.io.progress import ProgressFn

PREPARED_FORMAT = 1
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
SUPPORTED_SIZES = (32, 64, 128)
PROGRESS_EVERY = 256  # images between progress calls


@dataclass(frozen=True)
class Entry:
    """One encoded image of a source: its name, split, class id (-1: none) and its bytes."""

    name: str
    held_out: bool
    label: int
    read: Callable[[], bytes]


def held_out_by_name(name: str | bytes, fraction: float) -> bool:
    """Whether the image named ``name`` is in the held-out split (see the module docstring)."""
    raw = name.encode("utf-8", "surrogateescape") if isinstance(name, str) else name
    return int(hashlib.sha1(raw).hexdigest()[:8], 16) < fraction * 16**8


def _read_file(path: Path) -> Callable[[], bytes]:
    def read() -> bytes:
        try:
            return path.read_bytes()
        except OSError as err:
            raise CorpusError(f"cannot read {path}: {err.strerror or err}") from None
    return read


class FolderSource:
    """Every PNG/JPEG/WebP file under ``root`` (hidden files and folders skipped), in sorted order
    of their relative paths; labels from the first subfolder when every image has one."""

    kind = "folder"

    def __init__(self, root: str | Path, held_out: float) -> None:
        self.root = Path(root).expanduser()
        if not self.root.is_dir():
            raise CorpusError(f"{self.root} is not a directory of images; pass --data-path DIR "
                              "with PNG, JPEG or WebP files")
        self.held_out = held_out
        self.files = _scan(self.root)
        if not self.files:
            raise CorpusError(f"{self.root} holds no PNG, JPEG or WebP images (looked in every "
                              "subfolder)")
        parts = [Path(rel).parts for rel, _, _ in self.files]
        self.label_names: tuple[str, ...] = ()
        if all(len(p) > 1 for p in parts):
            self.label_names = tuple(sorted({p[0] for p in parts}))
        self._label_id = {name: i for i, name in enumerate(self.label_names)}

    @property
    def name(self) -> str:
        return self.root.resolve().name or "root"

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for rel, size, mtime in self.files:
            digest.update(f"{rel}\0{size}\0{mtime}\n".encode("utf-8", "surrogateescape"))
        return digest.hexdigest()

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": str(self.root.resolve()), "files": len(self.files)}

    def entries(self) -> Iterator[Entry]:
        for rel, _, _ in self.files:
            label = self._label_id[Path(rel).parts[0]] if self.label_names else -1
            yield Entry(rel, held_out_by_name(rel, self.held_out), label,
                        _read_file(self.root / rel))


def _scan(root: Path) -> list[tuple[str, int, int]]:
    """(path relative to ``root`` in POSIX form, size, mtime in ns) of every image file, sorted."""
    found = []
    for directory, dirs, files in os.walk(root, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in files:
            if name.startswith(".") or not name.lower().endswith(IMAGE_SUFFIXES):
                continue
            path = Path(directory) / name
            try:
                st = path.stat()
            except OSError as err:
                raise CorpusError(f"cannot read {path}: {err.strerror or err}") from None
            found.append((path.relative_to(root).as_posix(), st.st_size, st.st_mtime_ns))
    return sorted(found)


class SmallImageNetSource:
    """Downsampled ImageNet as the paper's code reads it: ``DIR/train_64x64/*.png`` for training
    and ``DIR/valid_64x64/*.png`` held out (its own split); no labels."""

    kind = "imagenet64"
    label_names: tuple[str, ...] = ()

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser()
        self.splits = {}
        for split in ("train_64x64", "valid_64x64"):
            directory = self.root / split
            self.splits[split] = _scan(directory) if directory.is_dir() else []
        if not self.splits["train_64x64"]:
            raise CorpusError(f"no PNG images in {self.root / 'train_64x64'}; pass --data-path "
                              "DIR holding the 64×64 ImageNet folders train_64x64/ and "
                              "valid_64x64/")

    @property
    def name(self) -> str:
        return self.root.resolve().name or "root"

    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for split, files in self.splits.items():
            for rel, size, mtime in files:
                digest.update(f"{split}/{rel}\0{size}\0{mtime}\n".encode("utf-8", "surrogateescape"))
        return digest.hexdigest()

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": str(self.root.resolve()),
                **{split: len(files) for split, files in self.splits.items()}}

    def entries(self) -> Iterator[Entry]:
        for split, files in self.splits.items():
            for rel, _, _ in files:
                yield Entry(f"{split}/{rel}", split == "valid_64x64", -1,
                            _read_file(self.root / split / rel))


class LMDBSource:
    """LSUN's published format: an LMDB database (a directory with ``data.mdb``, or the file
    itself) whose values are encoded images (JPEG or WebP), in key order; no labels."""

    kind = "lsun"
    label_names: tuple[str, ...] = ()

    def __init__(self, path: str | Path, held_out: float) -> None:
        try:
            import lmdb
        except ImportError:
            raise CorpusError("reading LSUN's LMDB databases needs the lmdb package: pip install "
                              "'textgan[lsun]'") from None
        self.path = Path(path).expanduser()
        self.held_out = held_out
        self.data_file = self.path / "data.mdb" if self.path.is_dir() else self.path
        if not self.data_file.is_file():
            raise CorpusError(f"{self.path} is not an LMDB database (no data.mdb); pass "
                              "--data-path with LSUN's <category>_train_lmdb directory")
        try:
            self.env = lmdb.open(str(self.path), readonly=True, lock=False, readahead=False,
                                 subdir=self.path.is_dir(), max_readers=1)
            self.count = int(self.env.stat()["entries"])
        except lmdb.Error as err:
            raise CorpusError(f"cannot read the LMDB database {self.data_file}: {err}") from None
        if not self.count:
            raise CorpusError(f"the LMDB database {self.data_file} holds no images")

    @property
    def name(self) -> str:
        return self.path.resolve().name or "root"

    def fingerprint(self) -> str:
        st = self.data_file.stat()
        return hashlib.sha256(f"{st.st_size}\0{st.st_mtime_ns}\0{self.count}".encode()).hexdigest()

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": str(self.path.resolve()), "entries": self.count}

    def entries(self) -> Iterator[Entry]:
        import lmdb

        try:
            with self.env.begin(buffers=False) as txn:
                for key, value in txn.cursor():
                    name = key.decode("latin1")
                    yield Entry(name, held_out_by_name(key, self.held_out), -1,
                                lambda value=value: value)
        except lmdb.Error as err:
            raise CorpusError(f"cannot read the LMDB database {self.data_file}: {err}") from None


ImageSource = FolderSource | SmallImageNetSource | LMDBSource


# --- decoding ------------------------------------------------------------------------------------

GREY_MODES = ("1", "L", "LA", "I", "I;16", "F")


def decode_image(data: bytes, where: str, size: int, channels: int) -> np.ndarray:
    """An encoded image → uint8 ``[channels, size, size]`` (see the module docstring)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            mode = "L" if channels == 1 else "RGB"
            if img.format == "JPEG":
                img.draft(mode, (size, size))  # decode at a reduced scale when that still fits
            img = _to_mode(img, mode)
            w, h = img.size
            m = min(w, h)
            box = ((w - m) / 2, (h - m) / 2, (w + m) / 2, (h + m) / 2)
            out = img.resize((size, size), Image.Resampling.BOX, box=box)
            array = np.asarray(out, dtype=np.uint8)
    except CorpusError:
        raise
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise CorpusError(f"{where} is not a readable image ({err}); remove or replace it") \
            from None
    return array[None] if channels == 1 else array.transpose(2, 0, 1)


def _to_mode(img: Any, mode: str) -> Any:
    if img.mode in ("I", "I;16", "I;16B", "F"):  # 16-bit or float grey: scale to 8 bits
        values = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I") and values.max() > 255 else 255.0
        from PIL import Image

        img = Image.fromarray(np.clip(values * 255.0 / top, 0, 255).astype(np.uint8), "L")
    return img.convert(mode)


def image_is_grey(data: bytes, where: str) -> bool:
    """Whether an encoded image has one channel (its header only is read)."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.mode in GREY_MODES or img.mode.startswith("I;")
    except (OSError, SyntaxError, ValueError) as err:
        raise CorpusError(f"{where} is not a readable image ({err}); remove or replace it") \
            from None


# --- the prepared directory ----------------------------------------------------------------------


@dataclass
class PreparedImages:
    """A prepared directory's arrays (copy-on-write memmaps: writable views, nothing copied)."""

    directory: Path
    train: np.ndarray
    test: np.ndarray
    train_labels: np.ndarray | None
    test_labels: np.ndarray | None
    label_names: tuple[str, ...]
    meta: dict[str, Any]
    prepared_now: bool = False


def prepared_dir_for(source: ImageSource, data_dir: str | Path, size: int, channels: int,
                     held_out: float) -> Path:
    identity = {"path": str(Path(source.describe()["path"])), "size": size, "channels": channels,
                "held_out": held_out, "format": PREPARED_FORMAT}
    digest = hashlib.sha1(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:8]
    return Path(data_dir) / f"{source.kind}-{source.name}-{size}px-c{channels}-{digest}"


def _open_rows(path: Path, rows: int, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    expected = rows * int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    if not path.is_file() or path.stat().st_size != expected:
        raise CorpusError(f"{path} is missing or has the wrong size (corrupt); delete "
                          f"{path.parent} and run again")
    if not rows:
        return np.zeros((0, *shape), dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="c", shape=(rows, *shape))


def open_prepared(directory: Path) -> PreparedImages:
    """Open a prepared directory (its ``meta.json`` and arrays of the recorded sizes)."""
    try:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != PREPARED_FORMAT:
            raise CorpusError(f"{directory} was prepared by another version; delete it")
        c, s = int(meta["channels"]), int(meta["size"])
        arrays = [_open_rows(directory / f"{split}.bin", int(meta[f"{split}_images"]), (c, s, s),
                             "uint8") for split in ("train", "test")]
        names = tuple(meta.get("label_names") or ())
        labels: list[np.ndarray | None] = [None, None]
        if names:
            labels = [_open_rows(directory / f"{split}_labels.bin", int(meta[f"{split}_images"]),
                                 (), "uint16").astype(np.int64) for split in ("train", "test")]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise CorpusError(f"{directory} is not a usable prepared image set ({err}); delete it and "
                          "run again") from None
    return PreparedImages(directory, arrays[0], arrays[1], labels[0], labels[1], names, meta)


def prepare_images(source: ImageSource, data_dir: str | Path, size: int, channels: int = 0,
                   held_out: float = 0.05, progress: ProgressFn | None = None) -> PreparedImages:
    """The source's images prepared under ``data_dir``, reused while its fingerprint is unchanged.

    ``channels``: 1 (grey), 3 (RGB) or 0 — grey when every image is, else RGB (reads every
    image's header once). Concurrent calls are serialised by a lock file; on any error the
    ``.partial`` directory is removed and an earlier preparation stays as it was.
    """
    if size not in SUPPORTED_SIZES:
        raise CorpusError(f"--image-size {size} is not supported; choose one of "
                          f"{', '.join(map(str, SUPPORTED_SIZES))}")
    if channels not in (0, 1, 3):
        raise CorpusError(f"--channels {channels}: choose 1 (grey), 3 (RGB) or 0 (detect)")
    fingerprint = source.fingerprint()
    target = prepared_dir_for(source, data_dir, size, channels, held_out)

    def current() -> PreparedImages | None:
        if (target / "meta.json").is_file():
            found = open_prepared(target)
            if found.meta.get("fingerprint") == fingerprint:
                return found
        return None

    if (found := current()) is not None:
        return found
    partial = target.with_name(target.name + ".partial")
    lock = target.with_name(target.name + ".lock")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(lock):
            try:
                if (found := current()) is not None:  # another process prepared it meanwhile
                    return found
                _prepare(source, partial, size, channels, fingerprint, progress)
                if target.exists():
                    shutil.rmtree(target)  # the source changed: replaced by the new arrays
                partial.rename(target)
            except BaseException:
                shutil.rmtree(partial, ignore_errors=True)
                raise
            finally:
                lock.unlink(missing_ok=True)
    except OSError as err:
        where = f" ({err.filename})" if err.filename else ""
        raise CorpusError(f"preparing images in {data_dir} failed: {err.strerror or err}{where}; "
                          "fix that (disk space, permissions) and run again") from None
    prepared = open_prepared(target)
    prepared.prepared_now = True
    return prepared


def _prepare(source: ImageSource, partial: Path, size: int, channels: int, fingerprint: str,
             progress: ProgressFn | None) -> None:
    if partial.exists():
        shutil.rmtree(partial)  # an interrupted earlier attempt
    partial.mkdir(parents=True)
    started = time.time()
    total = sum(1 for _ in source.entries())
    if channels == 0:
        channels = 1
        for i, entry in enumerate(source.entries()):
            if not image_is_grey(entry.read(), _where(source, entry)):
                channels = 3
                break
            if progress and i % PROGRESS_EVERY == 0:
                progress("checking image modes", i, total)
    counts = {"train": 0, "test": 0}
    labelled = bool(source.label_names)
    files = {split: open(partial / f"{split}.bin", "wb") for split in counts}
    label_files = ({split: open(partial / f"{split}_labels.bin", "wb") for split in counts}
                   if labelled else {})
    try:
        for i, entry in enumerate(source.entries()):
            split = "test" if entry.held_out else "train"
            pixels = decode_image(entry.read(), _where(source, entry), size, channels)
            files[split].write(pixels.tobytes())
            if labelled:
                label_files[split].write(np.uint16(entry.label).tobytes())
            counts[split] += 1
            if progress and (i % PROGRESS_EVERY == 0 or i + 1 == total):
                progress("preparing images", i + 1, total)
    finally:
        for f in [*files.values(), *label_files.values()]:
            with suppress(OSError):
                f.close()
    if not counts["train"]:
        raise CorpusError(f"{source.describe()['path']}: every image fell into the held-out "
                          "split; lower --held-out or add images")
    meta = {
        "format": PREPARED_FORMAT,
        "source": source.describe(),
        "fingerprint": fingerprint,
        "size": size,
        "channels": channels,
        "train_images": counts["train"],
        "test_images": counts["test"],
        "label_names": list(source.label_names),
        "resize": "centre square, area average (Pillow BOX)",
        "seconds": round(time.time() - started, 2),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    atomic_write_text(partial / "meta.json", json.dumps(meta, indent=2, ensure_ascii=False))


def _where(source: ImageSource, entry: Entry) -> str:
    if isinstance(source, LMDBSource):
        return f"{source.data_file} (key {entry.name})"
    root = source.root
    return str(root / entry.name)
