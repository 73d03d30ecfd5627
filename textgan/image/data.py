"""Image data sets in their published formats: MNIST / Fashion-MNIST idx files, CIFAR-10 pickles.

Where the files come from, in order: ``data_path`` if given; ``<data_dir>/<dataset>/``; the
Debian package location (``dataset-fashion-mnist`` installs ``/usr/share/datasets/fashion-mnist``);
otherwise a download into ``<data_dir>/<dataset>/``, checked against the published MD5.

Labels come from the same published files: the idx label files of MNIST and Fashion-MNIST
(``*-labels-idx1-ubyte[.gz]``, magic 2049: uint8, rank 1) and the ``labels`` list of each CIFAR-10
batch, with the class names of ``batches.meta``. Images without their labels still load (an
unconditional run needs none); :attr:`ImageSet.num_classes` is then 0.

CIFAR-10's python batches are pickles. They are read with :class:`RestrictedUnpickler`, which can
rebuild dicts, lists, strings, bytes, numbers and plain numpy arrays and nothing else, so a
crafted file cannot run code when it is loaded (``pickle.load`` would run whatever it names).
"""

from __future__ import annotations

import gzip
import io
import pickle
import struct
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from textgan.errors import CorpusError
from textgan.io.download import Checksum, download
from textgan.io.files import is_gzip
from textgan.io.progress import ProgressFn


@dataclass(frozen=True)
class RemoteFile:
    name: str
    md5: str  # the checksum the data set's authors (and torchvision) publish


@dataclass(frozen=True)
class DatasetSpec:
    """Shape and provenance of one data set. Pixels are scaled into ``value_range``."""

    name: str
    channels: int
    size: int
    value_range: tuple[float, float]
    mirrors: tuple[str, ...]
    files: tuple[RemoteFile, ...]
    system_dirs: tuple[str, ...] = ()
    dequantize: bool = False
    # Class names in label-id order (CIFAR-10: replaced by batches.meta's when it has them).
    label_names: tuple[str, ...] = ()
    # [-1, 1] data: x ↦ x / pixel_scale − 1 (CIFAR-10's code: 128; the 64×64 code's 2(x/255 − ½))
    pixel_scale: float = 128.0


DATASETS: dict[str, DatasetSpec] = {
    # The paper's gan_mnist.py: pixels in [0, 1], sigmoid generator output.
    "mnist": DatasetSpec(
        "mnist", 1, 28, (0.0, 1.0),
        mirrors=("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/"),
        files=(RemoteFile("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
               RemoteFile("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
               RemoteFile("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
               RemoteFile("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")),
        label_names=tuple(str(digit) for digit in range(10)),
    ),
    "fashion-mnist": DatasetSpec(
        "fashion-mnist", 1, 28, (0.0, 1.0),
        mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                 "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/"
                 "fashion/"),
        files=(RemoteFile("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
               RemoteFile("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
               RemoteFile("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
               RemoteFile("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")),
        system_dirs=("/usr/share/datasets/fashion-mnist",),
        label_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                     "Sneaker", "Bag", "Ankle boot"),
    ),
    # The paper's gan_cifar_resnet.py: x ↦ 2(x/256 − 0.5) + U[0, 1/128) ("dequantize"), tanh output.
    "cifar10": DatasetSpec(
        "cifar10", 3, 32, (-1.0, 1.0),
        mirrors=("https://www.cs.toronto.edu/~kriz/",),
        files=(RemoteFile("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a"),),
        dequantize=True,
        label_names=("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                     "ship", "truck"),
    ),
}

CIFAR_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR_TEST_BATCH = "test_batch"
CIFAR_META = "batches.meta"


# Encoded images of any size, prepared by textgan.image.folder at --image-size (folder: PNG/JPEG/
# WebP files; lsun: an LMDB database; imagenet64: the paper's train_64x64/valid_64x64 folders).
ENCODED_DATASETS = ("folder", "lsun", "imagenet64")


def encoded_spec(name: str, channels: int, size: int,
                 label_names: tuple[str, ...] = ()) -> DatasetSpec:
    """The spec of a prepared encoded image set: pixels scaled as the paper's gan_64x64.py,
    $2(x/255 - 1/2)$, tanh output."""
    return DatasetSpec(name, channels, size, (-1.0, 1.0), mirrors=(), files=(),
                       label_names=label_names, pixel_scale=127.5)


def load_encoded(dataset: str, data_path: str | None, data_dir: str, size: int, channels: int,
                 held_out: float, progress: ProgressFn | None = None) -> ImageSet:
    """A folder of images, an LMDB database or the 64×64 ImageNet folders, prepared once under
    ``data_dir`` (:func:`textgan.image.folder.prepare_images`)."""
    from textgan.image import folder

    if not data_path:
        what = {"folder": "a directory of PNG, JPEG or WebP images",
                "lsun": "LSUN's <category>_train_lmdb database",
                "imagenet64": "the directory holding train_64x64/ and valid_64x64/"}[dataset]
        raise CorpusError(f"--dataset {dataset} needs --data-path: {what}")
    source: folder.ImageSource
    if dataset == "folder":
        source = folder.FolderSource(data_path, held_out)
    elif dataset == "lsun":
        source = folder.LMDBSource(data_path, held_out)
    else:
        source = folder.SmallImageNetSource(data_path)
    prepared = folder.prepare_images(source, data_dir, size, channels, held_out, progress)
    meta = prepared.meta
    spec = encoded_spec(dataset, int(meta["channels"]), int(meta["size"]), prepared.label_names)
    how = "prepared now" if prepared.prepared_now else "prepared earlier"
    notes = [f"{dataset} images {how} in {prepared.directory}"]
    return ImageSet(spec, prepared.train, prepared.test if len(prepared.test) else None,
                    meta["source"]["path"], notes, train_labels=prepared.train_labels,
                    test_labels=prepared.test_labels if len(prepared.test) else None,
                    label_names=prepared.label_names).validate_labels()


def dataset_spec(name: str) -> DatasetSpec:
    if name not in DATASETS:
        raise CorpusError(f"unknown image dataset '{name}'; choose one of {', '.join(DATASETS)}")
    return DATASETS[name]


@dataclass
class ImageSet:
    """uint8 images ``[N, C, H, W]``: the training split and, when present, the test split; their
    int64 labels ``[N]`` when the files have them (None otherwise)."""

    spec: DatasetSpec
    train: np.ndarray
    test: np.ndarray | None
    source: str
    notes: list[str] = field(default_factory=list)
    train_labels: np.ndarray | None = None
    test_labels: np.ndarray | None = None
    label_names: tuple[str, ...] = ()

    @property
    def num_classes(self) -> int:
        """How many classes the training labels name (0: the training images have no labels)."""
        return len(self.label_names) if self.train_labels is not None else 0

    def validate_labels(self) -> ImageSet:
        """Labels must be one per image and name a class: anything else is a one-line error."""
        names = self.label_names or self.spec.label_names
        self.label_names = tuple(names)
        for split, labels, images in (("training", self.train_labels, self.train),
                                      ("test", self.test_labels, self.test)):
            if labels is None:
                continue
            if images is None or len(labels) != len(images):
                count = "no" if images is None else f"{len(images):,}"
                raise CorpusError(f"{self.source}: {len(labels):,} {split} labels for {count} "
                                  f"{split} images")
            if len(labels) and (labels.min() < 0 or labels.max() >= len(names)):
                raise CorpusError(f"{self.source}: {split} labels range over {int(labels.min())}"
                                  f"..{int(labels.max())}, outside the {len(names)} classes "
                                  f"0..{len(names) - 1}")
        if self.test_labels is not None and self.train_labels is None:
            self.test_labels = None  # labels of the test split alone condition nothing
        return self


# --- idx (MNIST, Fashion-MNIST) ------------------------------------------------------------------

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: np.dtype(">i2"), 0x0C: np.dtype(">i4"),
              0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}


def _read_maybe_gzip(path: Path) -> bytes:
    try:
        with (gzip.open if is_gzip(path) else open)(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise CorpusError(f"cannot read {path}: {err}") from None


def parse_idx(data: bytes, where: str = "idx data") -> np.ndarray:
    """An idx array: 2 zero bytes, a type byte (0x08 = uint8), a rank byte, big-endian uint32 sizes,
    then the values in C order. Gzip is handled by the caller (:func:`read_idx`)."""
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise CorpusError(f"{where} is not an idx file (bad magic number)")
    rank = data[3]
    header = 4 + 4 * rank
    if rank == 0 or len(data) < header:
        raise CorpusError(f"{where} is not an idx file (truncated header)")
    shape = struct.unpack(f">{rank}I", data[4:header])
    dtype = np.dtype(_IDX_TYPES[data[2]])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise CorpusError(f"{where}: the header promises {expected} bytes of values for shape "
                          f"{tuple(shape)}, the file has {len(data) - header}; it is truncated or "
                          "corrupt")
    return np.frombuffer(data, dtype=dtype, offset=header).reshape(shape).copy()  # writable


def read_idx(path: str | Path) -> np.ndarray:
    """Read an idx file, gzipped or not (detected by content, not by name)."""
    path = Path(path)
    return parse_idx(_read_maybe_gzip(path), str(path))


def read_idx_images(path: str | Path, size: int = 28) -> np.ndarray:
    """idx images as uint8 ``[N, 1, size, size]``."""
    array = read_idx(path)
    if array.dtype != np.uint8 or array.ndim != 3 or array.shape[1:] != (size, size):
        raise CorpusError(f"{path} holds {array.dtype} values of shape {array.shape}, not "
                          f"{size}×{size} uint8 images")
    return array[:, None, :, :]


def read_idx_labels(path: str | Path) -> np.ndarray:
    """An idx label file (magic 2049: uint8 values, rank 1) as int64 ``[N]``."""
    array = read_idx(path)
    if array.dtype != np.uint8 or array.ndim != 1:
        raise CorpusError(f"{path} holds {array.dtype} values of shape {array.shape}, not a "
                          "list of uint8 labels (an idx1 label file)")
    return array.astype(np.int64)


def _find_idx(directory: Path, stem: str) -> Path | None:
    dotted = stem.replace("-idx3-ubyte", ".idx3-ubyte").replace("-idx1-ubyte", ".idx1-ubyte")
    for name in (f"{stem}.gz", stem, dotted):
        if (directory / name).is_file():
            return directory / name
    return None


def _load_idx_dir(spec: DatasetSpec, directory: Path) -> ImageSet:
    train_path = _find_idx(directory, "train-images-idx3-ubyte")
    if train_path is None:
        raise CorpusError(f"no train-images-idx3-ubyte[.gz] in {directory}; point --data-path at "
                          f"the directory holding the {spec.name} idx files")
    test_path = _find_idx(directory, "t10k-images-idx3-ubyte")
    train = read_idx_images(train_path, spec.size)
    test = read_idx_images(test_path, spec.size) if test_path else None
    labels = {}
    for split in ("train", "t10k"):
        path = _find_idx(directory, f"{split}-labels-idx1-ubyte")
        labels[split] = read_idx_labels(path) if path else None
    return ImageSet(spec, train, test, str(directory), train_labels=labels["train"],
                    test_labels=labels["t10k"] if test is not None else None).validate_labels()


# --- CIFAR-10 python pickles ---------------------------------------------------------------------

# numpy pickles an array as _reconstruct(ndarray, (0,), b'b') followed by __setstate__; the
# function's module moved from numpy.core to numpy._core in numpy 2, so take it from numpy itself.
_NUMPY_RECONSTRUCT = np.zeros(1).__reduce__()[0]


def _reconstruct_plain_ndarray(cls: Any, shape: Any, dtype: Any) -> np.ndarray:
    if cls is not np.ndarray:
        raise pickle.UnpicklingError("only plain numpy arrays may be rebuilt")
    return _NUMPY_RECONSTRUCT(cls, shape, dtype)


def _latin1_bytes(text: Any, encoding: Any = "latin1") -> bytes:
    """Python 3 writes ``bytes`` into protocol-2 pickles as ``_codecs.encode(str, 'latin1')``."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("only latin-1 byte strings may be rebuilt")
    return text.encode("latin1")


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles builtin containers, strings, bytes, numbers and plain numpy arrays; refuses to look
    up anything else, so no function or class named in the file is ever called."""

    _ALLOWED: dict[tuple[str, str], Any] = {
        ("numpy.core.multiarray", "_reconstruct"): _reconstruct_plain_ndarray,
        ("numpy._core.multiarray", "_reconstruct"): _reconstruct_plain_ndarray,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _latin1_bytes,
    }

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}") from None


def restricted_load(f: IO[bytes]) -> Any:
    """``pickle.load`` limited to data (see :class:`RestrictedUnpickler`). Python 2 pickles (as
    CIFAR-10's are) come back with ``bytes`` keys."""
    return RestrictedUnpickler(f, encoding="bytes").load()


def _get(batch: dict, key: str) -> Any:
    for k in (key, key.encode()):
        if k in batch:
            return batch[k]
    return None


LabelledImages = tuple[np.ndarray, np.ndarray | None]  # uint8 images, int64 labels or None


def _unpickle_cifar(f: IO[bytes], where: str, what: str) -> Any:
    try:
        return restricted_load(f)
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, struct.error, MemoryError) as err:
        raise CorpusError(f"{where} is not a CIFAR-10 {what} ({err})") from None


def parse_cifar_labelled(f: IO[bytes], where: str) -> LabelledImages:
    """One CIFAR-10 python batch: a dict whose ``data`` is uint8 ``[N, 3072]`` (1024 red, 1024 green,
    1024 blue values, each row-major 32×32) and whose ``labels`` are N class ids. Returns uint8
    ``[N, 3, 32, 32]`` and int64 ``[N]`` labels (None when the batch has no ``labels``)."""
    batch = _unpickle_cifar(f, where, "python batch")
    data = _get(batch, "data") if isinstance(batch, dict) else None
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2
            and data.shape[1] == 3 * 32 * 32):
        raise CorpusError(f"{where} is not a CIFAR-10 python batch (no uint8 'data' of shape "
                          "[N, 3072])")
    raw = _get(batch, "labels")
    labels = None
    if raw is not None:
        values = np.asarray(raw) if isinstance(raw, (list, np.ndarray)) else None
        if (values is None or values.ndim != 1 or len(values) != len(data)
                or (len(values) and not np.issubdtype(values.dtype, np.integer))):
            raise CorpusError(f"{where}: its 'labels' are not {len(data)} integer class ids, one "
                              "per image")
        labels = values.astype(np.int64)
    return data.reshape(-1, 3, 32, 32), labels


def parse_cifar_batch(f: IO[bytes], where: str) -> np.ndarray:
    """The images of one CIFAR-10 python batch (:func:`parse_cifar_labelled`)."""
    return parse_cifar_labelled(f, where)[0]


def parse_cifar_meta(f: IO[bytes], where: str) -> tuple[str, ...]:
    """``batches.meta``'s ``label_names`` (() when it has none)."""
    meta = _unpickle_cifar(f, where, "batches.meta")
    names = _get(meta, "label_names") if isinstance(meta, dict) else None
    if not isinstance(names, list) or not all(isinstance(n, (bytes, str)) for n in names):
        return ()
    return tuple(n.decode("latin1") if isinstance(n, bytes) else n for n in names)


def _read_cifar(path: Path, parse: Any) -> Any:
    try:
        with open(path, "rb") as f:
            return parse(f, str(path))
    except OSError as err:
        raise CorpusError(f"cannot read {path}: {err}") from None


def read_cifar_batch(path: str | Path) -> np.ndarray:
    return _read_cifar(Path(path), parse_cifar_batch)


def read_cifar_labelled(path: str | Path) -> LabelledImages:
    return _read_cifar(Path(path), parse_cifar_labelled)


def _cifar_set(spec: DatasetSpec, train: list[LabelledImages], test: LabelledImages | None,
               names: tuple[str, ...], source: str, notes: list[str] | None = None) -> ImageSet:
    """The images of the batches, concatenated, and their labels when every batch has them."""
    train_labels = (np.concatenate([labels for _, labels in train])
                    if all(labels is not None for _, labels in train) else None)
    return ImageSet(spec, np.concatenate([images for images, _ in train]),
                    None if test is None else test[0], source, notes or [],
                    train_labels=train_labels, test_labels=None if test is None else test[1],
                    label_names=names or spec.label_names).validate_labels()


def _load_cifar_dir(spec: DatasetSpec, directory: Path) -> ImageSet:
    if (directory / "cifar-10-batches-py").is_dir():
        directory = directory / "cifar-10-batches-py"
    present = [directory / b for b in CIFAR_TRAIN_BATCHES if (directory / b).is_file()]
    if not present:
        raise CorpusError(f"no CIFAR-10 python batches (data_batch_1..5) in {directory}")
    notes = []
    if len(present) < len(CIFAR_TRAIN_BATCHES):
        notes.append(f"only {len(present)} of 5 CIFAR-10 training batches found in {directory}")
    test_path = directory / CIFAR_TEST_BATCH
    test = read_cifar_labelled(test_path) if test_path.is_file() else None
    meta = directory / CIFAR_META
    names = _read_cifar(meta, parse_cifar_meta) if meta.is_file() else ()
    return _cifar_set(spec, [read_cifar_labelled(p) for p in present], test, names,
                      str(directory), notes)


def _load_cifar_tar(spec: DatasetSpec, path: Path) -> ImageSet:
    """Read the batches straight out of ``cifar-10-python.tar.gz`` (nothing is extracted)."""
    train: dict[str, LabelledImages] = {}
    test, names = None, ()
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                base = member.name.rsplit("/", 1)[-1]
                wanted = (*CIFAR_TRAIN_BATCHES, CIFAR_TEST_BATCH, CIFAR_META)
                if not member.isfile() or base not in wanted:
                    continue
                f = tar.extractfile(member)
                assert f is not None
                content, where = io.BytesIO(f.read()), f"{path}:{member.name}"
                if base == CIFAR_META:
                    names = parse_cifar_meta(content, where)
                elif base == CIFAR_TEST_BATCH:
                    test = parse_cifar_labelled(content, where)
                else:
                    train[base] = parse_cifar_labelled(content, where)
    except (OSError, tarfile.TarError, EOFError) as err:
        raise CorpusError(f"cannot read {path}: {err}") from None
    if not train:
        raise CorpusError(f"{path} holds no CIFAR-10 python batches (data_batch_1..5)")
    return _cifar_set(spec, [train[k] for k in sorted(train)], test, names, str(path))


# --- locating and downloading ---------------------------------------------------------------------


def fetch_files(spec: DatasetSpec, directory: Path, progress: ProgressFn | None = None) -> None:
    """Download the data set's files that ``directory`` lacks, trying each mirror in turn."""
    for remote in spec.files:
        dest = directory / remote.name
        if dest.is_file():
            continue
        errors = []
        for mirror in spec.mirrors:
            try:
                download(mirror + remote.name, dest, checksum=Checksum("md5", remote.md5),
                         progress=progress)
                break
            except CorpusError as err:
                errors.append(str(err))
        else:
            raise CorpusError(f"{errors[-1]}; without internet, pass --data-path DIR with the "
                              f"{spec.name} files")


def _has_files(spec: DatasetSpec, directory: Path) -> bool:
    if spec.name == "cifar10":
        return (directory / spec.files[0].name).is_file() or any(
            (d / CIFAR_TRAIN_BATCHES[0]).is_file()
            for d in (directory, directory / "cifar-10-batches-py"))
    return _find_idx(directory, "train-images-idx3-ubyte") is not None


def read_local(spec: DatasetSpec, path: Path) -> ImageSet:
    """A directory (or, for CIFAR-10, the tarball or one batch file) in the published format."""
    if not path.exists():
        raise CorpusError(f"{path} does not exist")
    if spec.name == "cifar10":
        if path.is_file():
            if tarfile.is_tarfile(path):
                return _load_cifar_tar(spec, path)
            return _cifar_set(spec, [read_cifar_labelled(path)], None, (), str(path))
        if (path / spec.files[0].name).is_file() and not _has_cifar_batches(path):
            return _load_cifar_tar(spec, path / spec.files[0].name)
        return _load_cifar_dir(spec, path)
    if path.is_file():  # one idx file of images: no labels
        return ImageSet(spec, read_idx_images(path, spec.size), None, str(path),
                        label_names=spec.label_names)
    return _load_idx_dir(spec, path)


def _has_cifar_batches(path: Path) -> bool:
    return any((d / CIFAR_TRAIN_BATCHES[0]).is_file()
               for d in (path, path / "cifar-10-batches-py"))


def load_images(dataset: str, data_path: str | None = None, data_dir: str = "data",
                download_ok: bool = True, progress: ProgressFn | None = None,
                system_dirs: tuple[str, ...] | None = None, labels: bool = False) -> ImageSet:
    """The data set's images, from the first place that has them (see the module docstring).
    ``labels``: the run needs them, so label files missing from ``<data_dir>/<dataset>/`` (an
    earlier download fetched images only) are downloaded too."""
    spec = dataset_spec(dataset)
    if data_path:
        return read_local(spec, Path(data_path).expanduser())
    own = Path(data_dir) / spec.name
    if own.is_dir() and _has_files(spec, own):
        found = read_local(spec, own)
        if labels and not found.num_classes and download_ok:
            fetch_files(spec, own, progress)
            found = read_local(spec, own)
        return found
    for candidate in (spec.system_dirs if system_dirs is None else system_dirs):
        if Path(candidate).is_dir() and _has_files(spec, Path(candidate)):
            return read_local(spec, Path(candidate))
    if not download_ok:
        raise CorpusError(f"{spec.name} not found in {own}; pass --data-path DIR with its files "
                          "(or allow the download)")
    fetch_files(spec, own, progress)
    return read_local(spec, own)
