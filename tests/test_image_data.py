"""Readers for the published image formats, built as tiny files in each real format."""

import dataclasses
import gzip
import hashlib
import os
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
from local_http import Server

import textgan.image.data as data
from textgan.errors import CorpusError
from textgan.image.data import (
    DatasetSpec,
    RemoteFile,
    load_images,
    parse_idx,
    read_cifar_batch,
    read_idx,
    read_idx_images,
)


def idx_bytes(array: np.ndarray) -> bytes:
    """The idx layout: 0, 0, type 0x08 (uint8), rank, big-endian uint32 sizes, values."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def images(n: int, size: int = 28, channels: int | None = None, seed: int = 0) -> np.ndarray:
    shape = (n, size, size) if channels is None else (n, channels * size * size)
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


def write_idx_dir(directory: Path, n_train: int = 7, n_test: int = 3, gz: bool = True) -> tuple:
    directory.mkdir(parents=True, exist_ok=True)
    train, test = images(n_train, seed=1), images(n_test, seed=2)
    for stem, array in (("train-images-idx3-ubyte", train), ("t10k-images-idx3-ubyte", test)):
        raw = idx_bytes(array)
        if gz:
            (directory / f"{stem}.gz").write_bytes(gzip.compress(raw))
        else:
            (directory / stem).write_bytes(raw)
    return train, test


def _py2_str(b: bytes) -> bytes:
    """A Python 2 ``str`` in a pickle: SHORT_BINSTRING or BINSTRING."""
    if len(b) < 256:
        return b"U" + bytes([len(b)]) + b
    return b"T" + struct.pack("<i", len(b)) + b


def cifar_batch_bytes(rows: np.ndarray, labels: list[int] | None = None) -> bytes:
    """A batch exactly as the published files are: a Python 2 cPickle (protocol 2) of a dict with
    ``str`` keys and a uint8 [N, 3072] array rebuilt by numpy.core.multiarray._reconstruct, its
    pixels one BINSTRING. Assembled opcode by opcode (Python 3 cannot write Python 2 strings)."""
    n = len(rows)
    small_int = lambda v: b"K" + bytes([v]) if v < 256 else b"M" + struct.pack("<H", v)  # noqa: E731
    dtype = (b"cnumpy\ndtype\n" + _py2_str(b"u1") + b"K\x00K\x01\x87R"
             + b"(K\x03" + _py2_str(b"|") + b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb")
    array = (b"cnumpy.core.multiarray\n_reconstruct\n" + b"cnumpy\nndarray\n" + b"K\x00\x85"
             + _py2_str(b"b") + b"\x87R"
             + b"(K\x01" + small_int(n) + small_int(3072) + b"\x86" + dtype + b"\x89"
             + _py2_str(np.ascontiguousarray(rows, np.uint8).tobytes()) + b"tb")
    labels = [i % 10 for i in range(n)] if labels is None else labels
    labels = b"](" + b"".join(small_int(v) for v in labels) + b"e"
    return (b"\x80\x02}(" + _py2_str(b"batch_label") + _py2_str(b"training batch 1 of 5")
            + _py2_str(b"labels") + labels + _py2_str(b"data") + array + b"u.")


def cifar_meta_bytes(names: list[bytes]) -> bytes:
    """``batches.meta`` as published: a Python 2 pickle of a dict whose ``label_names`` are
    Python 2 strings."""
    listed = b"](" + b"".join(_py2_str(n) for n in names) + b"e"
    return (b"\x80\x02}(" + _py2_str(b"num_cases_per_batch") + b"M\x10\x27"
            + _py2_str(b"label_names") + listed + _py2_str(b"num_vis") + b"M\x00\x0c" + b"u.")


def write_idx_labels(directory: Path, train: np.ndarray, test: np.ndarray | None = None,
                     gz: bool = True) -> None:
    """Label files as published: idx1 (magic 2049 = 0x00000801: uint8, rank 1)."""
    for stem, labels in (("train-labels-idx1-ubyte", train), ("t10k-labels-idx1-ubyte", test)):
        if labels is None:
            continue
        raw = idx_bytes(np.asarray(labels, np.uint8))
        assert struct.unpack(">I", raw[:4])[0] == 2049
        (directory / (f"{stem}.gz" if gz else stem)).write_bytes(gzip.compress(raw) if gz
                                                                  else raw)


def test_idx_plain_and_gzip_give_the_same_array(tmp_path):
    array = images(4)
    (tmp_path / "a").write_bytes(idx_bytes(array))
    (tmp_path / "b.gz").write_bytes(gzip.compress(idx_bytes(array)))
    (tmp_path / "c").write_bytes(gzip.compress(idx_bytes(array)))  # gzip without the suffix
    for name in ("a", "b.gz", "c"):
        assert np.array_equal(read_idx(tmp_path / name), array)
    assert read_idx_images(tmp_path / "a").shape == (4, 1, 28, 28)


def test_idx_labels_and_other_types():
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    assert parse_idx(idx_bytes(labels)).tolist() == [3, 1, 4, 1, 5]
    ints = np.array([[1, -2], [300, 7]], dtype=">i4")
    raw = bytes([0, 0, 0x0C, 2]) + struct.pack(">2I", 2, 2) + ints.tobytes()
    assert parse_idx(raw).tolist() == [[1, -2], [300, 7]]


def test_idx_errors_are_one_line(tmp_path):
    with pytest.raises(CorpusError, match="bad magic"):
        parse_idx(b"\x01\x02\x03\x04hello")
    truncated = idx_bytes(images(2))[:-5]
    with pytest.raises(CorpusError, match="truncated or corrupt"):
        parse_idx(truncated, "x")
    (tmp_path / "labels").write_bytes(idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(CorpusError, match="not 28×28 uint8 images"):
        read_idx_images(tmp_path / "labels")
    (tmp_path / "bad.gz").write_bytes(b"\x1f\x8bnot really gzip")
    with pytest.raises(CorpusError) as err:
        read_idx(tmp_path / "bad.gz")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("gz", [True, False])
def test_load_mnist_directory(tmp_path, gz):
    train, test = write_idx_dir(tmp_path / "mine", gz=gz)
    got = load_images("mnist", str(tmp_path / "mine"), download_ok=False)
    assert got.train.shape == (7, 1, 28, 28) and np.array_equal(got.train[:, 0], train)
    assert np.array_equal(got.test[:, 0], test)


def test_search_order_data_dir_then_system_dir(tmp_path):
    system = tmp_path / "usr-share-datasets-fashion-mnist"
    sys_train, _ = write_idx_dir(system, n_train=5)
    got = load_images("fashion-mnist", None, str(tmp_path / "data"), download_ok=False,
                      system_dirs=(str(system),))
    assert np.array_equal(got.train[:, 0], sys_train) and got.source == str(system)
    own_train, _ = write_idx_dir(tmp_path / "data" / "fashion-mnist", n_train=6)
    got = load_images("fashion-mnist", None, str(tmp_path / "data"), download_ok=False,
                      system_dirs=(str(system),))
    assert np.array_equal(got.train[:, 0], own_train)


def test_missing_data_without_download_is_a_clear_error(tmp_path):
    with pytest.raises(CorpusError, match="--data-path"):
        load_images("mnist", None, str(tmp_path), download_ok=False, system_dirs=())
    with pytest.raises(CorpusError, match="does not exist"):
        load_images("mnist", str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no train-images"):
        load_images("mnist", str(tmp_path / "empty"))
    with pytest.raises(CorpusError, match="unknown image dataset"):
        load_images("svhn")


@pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist").is_dir(),
                    reason="Debian package dataset-fashion-mnist not installed")
def test_debian_fashion_mnist_is_found(tmp_path):
    got = load_images("fashion-mnist", None, str(tmp_path), download_ok=False)
    assert got.source == "/usr/share/datasets/fashion-mnist"
    assert got.train.shape == (60000, 1, 28, 28) and got.test.shape == (10000, 1, 28, 28)
    # the package ships the label files too: 6000 training and 1000 test images per class
    assert np.bincount(got.train_labels).tolist() == [6000] * 10
    assert np.bincount(got.test_labels).tolist() == [1000] * 10
    assert got.label_names[0] == "T-shirt/top" and got.label_names[9] == "Ankle boot"


def test_cifar_batch_reader_keeps_channel_layout(tmp_path):
    rows = images(4, size=32, channels=3)
    (tmp_path / "data_batch_1").write_bytes(cifar_batch_bytes(rows))
    got = read_cifar_batch(tmp_path / "data_batch_1")
    assert got.shape == (4, 3, 32, 32)
    # Row layout: 1024 red values, then green, then blue, each 32×32 row-major.
    assert np.array_equal(got[2, 0].reshape(-1), rows[2, :1024])
    assert np.array_equal(got[2, 2, 5], rows[2, 2048 + 5 * 32:2048 + 6 * 32])
    # The hand-assembled file is what plain pickle (trusted input only!) reads as CIFAR-10.
    plain = pickle.loads(cifar_batch_bytes(rows), encoding="bytes")
    assert np.array_equal(plain[b"data"], rows) and plain[b"labels"] == [0, 1, 2, 3]
    # Re-pickled by Python 3 at protocol 2 (bytes become _codecs.encode calls) and at protocol 4.
    for protocol in (2, 4):
        batch = {"data": rows, "labels": [0, 1, 2, 3], "batch_label": b"x"}
        (tmp_path / "py3").write_bytes(pickle.dumps(batch, protocol=protocol))
        assert np.array_equal(read_cifar_batch(tmp_path / "py3"), got)


def write_cifar(tmp_path: Path) -> tuple[np.ndarray, np.ndarray, Path]:
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    parts = [images(3, size=32, channels=3, seed=i) for i in range(5)]
    for i, part in enumerate(parts, 1):
        (folder / f"data_batch_{i}").write_bytes(cifar_batch_bytes(part))
    test = images(2, size=32, channels=3, seed=9)
    (folder / "test_batch").write_bytes(cifar_batch_bytes(test))
    (folder / "batches.meta").write_bytes(b"\x80\x02}.")
    tarball = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    return np.concatenate(parts).reshape(-1, 3, 32, 32), test.reshape(-1, 3, 32, 32), tarball


def test_cifar_directory_and_tarball(tmp_path):
    train, test, tarball = write_cifar(tmp_path)
    for where in (tmp_path, tmp_path / "cifar-10-batches-py", tarball):
        got = load_images("cifar10", str(where), download_ok=False)
        assert np.array_equal(got.train, train), where
        assert np.array_equal(got.test, test)
    # A data dir holding only the downloaded tarball is read without extracting it.
    own = tmp_path / "data" / "cifar10"
    own.mkdir(parents=True)
    os.replace(tarball, own / tarball.name)
    got = load_images("cifar10", None, str(tmp_path / "data"), download_ok=False)
    assert np.array_equal(got.train, train) and got.source.endswith(".tar.gz")


class _Boom:
    """A pickle that would call ``_record_call`` if it were loaded with plain pickle."""

    def __reduce__(self):
        return (_record_call, ("pwned",))


CALLS: list = []


def _record_call(value):
    CALLS.append(value)
    return value


def test_cifar_reader_never_runs_code_from_the_file(tmp_path):
    evil = {b"data": images(1, 32, 3), b"labels": [0], b"x": _Boom()}
    (tmp_path / "data_batch_1").write_bytes(pickle.dumps(evil, protocol=2))
    with pytest.raises(CorpusError, match="not a CIFAR-10 python batch"):
        read_cifar_batch(tmp_path / "data_batch_1")
    assert CALLS == []
    # Proof the file is armed: plain pickle would have run it.
    pickle.loads((tmp_path / "data_batch_1").read_bytes())
    assert CALLS == ["pwned"]
    CALLS.clear()


def test_cifar_reader_refuses_numpy_subclasses_and_objects(tmp_path):
    masked = {b"data": np.ma.masked_array(images(1, 32, 3))}
    (tmp_path / "m").write_bytes(pickle.dumps(masked, protocol=2))
    with pytest.raises(CorpusError, match="not a CIFAR-10 python batch"):
        read_cifar_batch(tmp_path / "m")
    objects = {b"data": np.array([[1, "a"]], dtype=object)}
    (tmp_path / "o").write_bytes(pickle.dumps(objects, protocol=2))
    with pytest.raises(CorpusError, match="not a CIFAR-10 python batch"):
        read_cifar_batch(tmp_path / "o")
    (tmp_path / "short").write_bytes(cifar_batch_bytes(images(2, 32, 3))[:50])
    with pytest.raises(CorpusError, match="not a CIFAR-10 python batch"):
        read_cifar_batch(tmp_path / "short")


def test_download_checks_md5_and_tries_mirrors(tmp_path):
    payload = gzip.compress(idx_bytes(images(3)))
    good_md5 = hashlib.md5(payload).hexdigest()
    server = Server({"/bad/train-images-idx3-ubyte.gz": b"corrupted",
                     "/good/train-images-idx3-ubyte.gz": payload})
    try:
        spec = DatasetSpec("tiny", 1, 28, (0.0, 1.0),
                           mirrors=(server.url("/bad/"), server.url("/good/")),
                           files=(RemoteFile("train-images-idx3-ubyte.gz", good_md5),))
        progress = []
        data.fetch_files(spec, tmp_path, lambda what, done, total: progress.append((done, total)))
    finally:
        server.close()
    assert [r["path"] for r in server.requests] == ["/bad/train-images-idx3-ubyte.gz",
                                                    "/good/train-images-idx3-ubyte.gz"]
    assert (tmp_path / "train-images-idx3-ubyte.gz").read_bytes() == payload
    assert progress[-1] == (len(payload), len(payload))
    assert not list(tmp_path.glob("*.part"))


def test_failed_download_leaves_nothing_and_says_what_to_do(tmp_path):
    server = Server({"/only/f.gz": b"x"})
    try:
        spec = DatasetSpec("tiny", 1, 28, (0.0, 1.0), mirrors=(server.url("/only/"),),
                           files=(RemoteFile("f.gz", "0" * 32),))
        with pytest.raises(CorpusError, match="md5 mismatch.*expected 0{32}.*--data-path") as err:
            data.fetch_files(spec, tmp_path)
    finally:
        server.close()
    assert "\n" not in str(err.value)
    assert list(tmp_path.iterdir()) == []


def test_published_mirrors_and_checksums_are_unchanged():
    # Downloads go to the same places and are checked against the same published MD5s (the label
    # files, added for conditional runs, with torchvision's published MD5s).
    assert {name: (spec.mirrors, [(f.name, f.md5) for f in spec.files])
            for name, spec in data.DATASETS.items()} == {
        "mnist": (("https://ossci-datasets.s3.amazonaws.com/mnist/",
                   "https://storage.googleapis.com/cvdf-datasets/mnist/"),
                  [("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                   ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                   ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
                   ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")]),
        "fashion-mnist": (("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                           "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/"
                           "data/fashion/"),
                          [("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                           ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                           ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
                           ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")]),
        "cifar10": (("https://www.cs.toronto.edu/~kriz/",),
                    [("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a")]),
    }


# --- labels ------------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
def test_idx_labels_are_read_as_written(tmp_path, gz):
    train_images, test_images = write_idx_dir(tmp_path, n_train=7, n_test=3, gz=gz)
    train, test = np.array([9, 0, 3, 3, 7, 1, 5]), np.array([2, 8, 0])
    write_idx_labels(tmp_path, train, test, gz=gz)
    got = load_images("fashion-mnist", str(tmp_path), download_ok=False)
    assert got.train_labels.tolist() == train.tolist() and got.train_labels.dtype == np.int64
    assert got.test_labels.tolist() == test.tolist()
    assert np.array_equal(got.train[:, 0], train_images)  # images as before
    assert got.num_classes == 10
    assert got.label_names == ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                               "Shirt", "Sneaker", "Bag", "Ankle boot")
    assert load_images("mnist", str(tmp_path), download_ok=False).label_names == tuple(
        "0123456789")


def test_images_without_label_files_load_unlabelled(tmp_path):
    write_idx_dir(tmp_path, n_train=4, n_test=2)
    got = load_images("mnist", str(tmp_path), download_ok=False)
    assert got.train_labels is None and got.num_classes == 0
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(2, np.uint8)))
    got = load_images("mnist", str(tmp_path), download_ok=False)
    assert got.num_classes == 0 and got.test_labels is None  # test labels alone condition nothing
    # dotted names (as some mirrors unpack them) are found too
    (tmp_path / "train-labels.idx1-ubyte").write_bytes(idx_bytes(np.full(4, 6, np.uint8)))
    assert load_images("mnist", str(tmp_path), download_ok=False).train_labels.tolist() == [6] * 4


def test_bad_label_files_are_one_line_errors(tmp_path):
    write_idx_dir(tmp_path, n_train=4, n_test=2)
    write_idx_labels(tmp_path, np.array([1, 2, 3]))  # 3 labels for 4 images
    with pytest.raises(CorpusError, match="3 training labels for 4 training images"):
        load_images("mnist", str(tmp_path), download_ok=False)
    write_idx_labels(tmp_path, np.array([1, 2, 3, 10]))
    with pytest.raises(CorpusError, match=r"range over 1\.\.10, outside the 10 classes 0\.\.9"):
        load_images("mnist", str(tmp_path), download_ok=False)
    # an image file where the labels belong (idx3, magic 2051) is refused, not misread
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(images(4))))
    with pytest.raises(CorpusError, match="not a list of uint8 labels") as err:
        load_images("mnist", str(tmp_path), download_ok=False)
    assert "\n" not in str(err.value)


def test_cifar_labels_and_names_from_batches_and_meta(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    rng = np.random.default_rng(0)
    parts, labels = [], []
    for i in range(1, 6):
        rows, ids = images(3, 32, 3, seed=i), rng.integers(0, 10, 3).tolist()
        (folder / f"data_batch_{i}").write_bytes(cifar_batch_bytes(rows, ids))
        parts.append(rows)
        labels += ids
    (folder / "test_batch").write_bytes(cifar_batch_bytes(images(2, 32, 3, seed=9), [4, 7]))
    names = [b"plane", b"car", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship",
             b"lorry"]
    (folder / "batches.meta").write_bytes(cifar_meta_bytes(names))
    tarball = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(tarball, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    for where in (folder, tarball):
        got = load_images("cifar10", str(where), download_ok=False)
        assert got.train_labels.tolist() == labels, where
        assert got.test_labels.tolist() == [4, 7]
        assert got.label_names == tuple(n.decode() for n in names)  # batches.meta's, not ours
        assert np.array_equal(got.train.reshape(15, -1), np.concatenate(parts))
    one = load_images("cifar10", str(folder / "data_batch_2"), download_ok=False)
    assert one.train_labels.tolist() == labels[3:6] and one.label_names[0] == "airplane"
    # a meta without names: the standard ten
    (folder / "batches.meta").write_bytes(b"\x80\x02}.")
    assert load_images("cifar10", str(folder), download_ok=False).label_names == (
        "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def test_cifar_batches_without_or_with_bad_labels(tmp_path):
    rows = images(2, 32, 3)
    (tmp_path / "nolabels").write_bytes(pickle.dumps({b"data": rows}, protocol=2))
    assert load_images("cifar10", str(tmp_path / "nolabels"), download_ok=False).num_classes == 0
    (tmp_path / "short").write_bytes(pickle.dumps({b"data": rows, b"labels": [1]}, protocol=2))
    with pytest.raises(CorpusError, match="not 2 integer class ids"):
        load_images("cifar10", str(tmp_path / "short"), download_ok=False)
    (tmp_path / "text").write_bytes(pickle.dumps({b"data": rows, b"labels": ["a", "b"]},
                                                 protocol=2))
    with pytest.raises(CorpusError, match="not 2 integer class ids"):
        load_images("cifar10", str(tmp_path / "text"), download_ok=False)


def test_a_conditional_run_fetches_label_files_an_older_download_lacks(tmp_path, monkeypatch):
    own = tmp_path / "data" / "mnist"
    write_idx_dir(own, n_train=4, n_test=2)  # images only, as downloads before labels were added
    train, test = np.array([1, 0, 1, 5], np.uint8), np.array([3, 3], np.uint8)
    payloads = {"train-labels-idx1-ubyte.gz": gzip.compress(idx_bytes(train)),
                "t10k-labels-idx1-ubyte.gz": gzip.compress(idx_bytes(test))}
    server = Server({f"/m/{name}": body for name, body in payloads.items()})
    try:
        spec = data.DATASETS["mnist"]
        files = tuple(RemoteFile(f.name, hashlib.md5(payloads[f.name]).hexdigest())
                      if f.name in payloads else f for f in spec.files)
        monkeypatch.setitem(data.DATASETS, "mnist", dataclasses.replace(
            spec, mirrors=(server.url("/m/"),), files=files))
        assert load_images("mnist", None, str(tmp_path / "data")).num_classes == 0  # not asked
        assert server.requests == []
        got = load_images("mnist", None, str(tmp_path / "data"), labels=True)
    finally:
        server.close()
    assert sorted(r["path"] for r in server.requests) == ["/m/t10k-labels-idx1-ubyte.gz",
                                                          "/m/train-labels-idx1-ubyte.gz"]
    assert got.train_labels.tolist() == [1, 0, 1, 5] and got.test_labels.tolist() == [3, 3]
