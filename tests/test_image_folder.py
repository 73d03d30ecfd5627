"""Encoded image sets: folders of PNG/JPEG/WebP files, LSUN's LMDB, the 64×64 ImageNet folders."""

import io
import json
import os

import numpy as np
import pytest
from PIL import Image

from textgan.cli.main import run
from textgan.errors import CorpusError
from textgan.image.data import load_encoded
from textgan.image.folder import (
    FolderSource,
    LMDBSource,
    SmallImageNetSource,
    decode_image,
    held_out_by_name,
    prepare_images,
)
from textgan.image.mode import ImageDataConfig, open_images, scale_images
from textgan.training import resolve_config, resume_training, start_training


def png(array: np.ndarray, fmt: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=fmt)
    return buffer.getvalue()


def write_image(path, array, fmt="PNG"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png(array, fmt))


def noise_image(rng, h, w, grey=False):
    shape = (h, w) if grey else (h, w, 3)
    return rng.integers(0, 256, size=shape, dtype=np.uint8)


def test_resize_and_centre_crop_exact_pixels():
    # 4 rows × 8 columns of 2×2 constant blocks; the centred 4×4 square is columns 2..5, whose
    # 2×2 blocks are averaged (area averaging) into one output pixel each.
    blocks = np.array([[10, 20, 30, 40], [50, 60, 70, 80]], dtype=np.uint8)
    grey = np.kron(blocks, np.ones((2, 2), dtype=np.uint8))
    out = decode_image(png(grey), "x.png", 2, channels=1)
    assert out.shape == (1, 2, 2)
    assert out[0].tolist() == [[20, 30], [60, 70]]
    # A tall RGB image: the centred square spans rows 2..5; same size → the crop, unchanged.
    rgb = np.arange(8 * 4 * 3, dtype=np.uint8).reshape(8, 4, 3)
    out = decode_image(png(rgb), "x.png", 4, channels=3)
    assert out.shape == (3, 4, 4)
    assert np.array_equal(out, rgb[2:6].transpose(2, 0, 1))
    # A block average that is not an integer is rounded: mean(0, 1, 1, 1) = 0.75 → 1.
    odd = np.array([[0, 1], [1, 1]], dtype=np.uint8)
    assert decode_image(png(odd), "x.png", 1, channels=1).tolist() == [[[1]]]
    # grey → RGB repeats the value; RGB → grey is ITU-R 601-2 luma (Pillow's L).
    assert decode_image(png(grey), "x.png", 2, channels=3)[:, 0, 0].tolist() == [20, 20, 20]
    red = np.zeros((2, 2, 3), dtype=np.uint8)
    red[..., 0] = 200
    assert decode_image(png(red), "x.png", 2, channels=1)[0, 0, 0] == round(200 * 0.299)  # 59.8


def test_jpeg_and_webp_decode_to_the_requested_size():
    rng = np.random.default_rng(0)
    image = noise_image(rng, 300, 200)
    for fmt in ("JPEG", "WEBP"):
        out = decode_image(png(image, fmt), f"x.{fmt}", 32, channels=3)
        assert out.shape == (3, 32, 32) and out.dtype == np.uint8


def make_folder(root, rng, classes=("cats", "dogs"), per_class=6, size=(40, 30)):
    for name in classes:
        for i in range(per_class):
            write_image(root / name / f"{i:03d}.png", noise_image(rng, *size))


def test_labels_from_subfolders_and_the_held_out_split(tmp_path):
    rng = np.random.default_rng(1)
    make_folder(tmp_path / "imgs", rng, per_class=20)
    prepared = prepare_images(FolderSource(tmp_path / "imgs", 0.25), tmp_path / "data", 32)
    assert prepared.label_names == ("cats", "dogs")
    assert prepared.train.shape[1:] == (3, 32, 32) and prepared.meta["channels"] == 3
    # The split is a hash of the relative path: recompute it.
    names = [f"{c}/{i:03d}.png" for c in ("cats", "dogs") for i in range(20)]
    held = [n for n in names if held_out_by_name(n, 0.25)]
    assert len(prepared.test) == len(held) and len(prepared.train) == 40 - len(held)
    assert 0 < len(held) < 40
    expected_test_labels = [0 if n.startswith("cats") else 1 for n in held]
    assert prepared.test_labels.tolist() == expected_test_labels
    kept = [n for n in names if n not in held]
    assert prepared.train_labels.tolist() == [0 if n.startswith("cats") else 1 for n in kept]
    # Row order is the sorted relative paths: the first training row is that file, resized.
    first = np.asarray(Image.open(tmp_path / "imgs" / kept[0]))
    assert np.array_equal(prepared.train[0], decode_image(png(first), "", 32, 3))
    # Images at the top level too: no labels.
    write_image(tmp_path / "imgs" / "loose.png", noise_image(rng, 8, 8))
    assert FolderSource(tmp_path / "imgs", 0.25).label_names == ()


def test_grey_detection_and_channels_setting(tmp_path):
    rng = np.random.default_rng(2)
    for i in range(3):
        write_image(tmp_path / "g" / f"{i}.png", noise_image(rng, 9, 12, grey=True))
    grey = prepare_images(FolderSource(tmp_path / "g", 0.0), tmp_path / "data", 32)
    assert grey.meta["channels"] == 1 and grey.train.shape == (3, 1, 32, 32)
    assert grey.train_labels is None and len(grey.test) == 0
    rgb = prepare_images(FolderSource(tmp_path / "g", 0.0), tmp_path / "data", 32, channels=3)
    assert rgb.train.shape == (3, 3, 32, 32)
    assert np.array_equal(rgb.train[:, 0], grey.train[:, 0])


def test_fingerprint_reprepares_a_changed_folder_only(tmp_path):
    rng = np.random.default_rng(3)
    make_folder(tmp_path / "imgs", rng, classes=("a",), per_class=4)
    first = prepare_images(FolderSource(tmp_path / "imgs", 0.0), tmp_path / "data", 32)
    assert first.prepared_now
    again = prepare_images(FolderSource(tmp_path / "imgs", 0.0), tmp_path / "data", 32)
    assert not again.prepared_now and again.directory == first.directory
    # Change one file (new content and mtime): prepared again, same directory, new pixels.
    target = tmp_path / "imgs" / "a" / "002.png"
    write_image(target, np.zeros((40, 30, 3), dtype=np.uint8))
    os.utime(target, ns=(1, 1))
    changed = prepare_images(FolderSource(tmp_path / "imgs", 0.0), tmp_path / "data", 32)
    assert changed.prepared_now and changed.directory == first.directory
    assert changed.train[2].max() == 0 and first.meta["fingerprint"] != changed.meta["fingerprint"]
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [first.directory.name]
    # Another size is another prepared directory.
    other = prepare_images(FolderSource(tmp_path / "imgs", 0.0), tmp_path / "data", 64)
    assert other.directory != first.directory and other.train.shape[2:] == (64, 64)


def test_progress_is_reported(tmp_path):
    rng = np.random.default_rng(4)
    make_folder(tmp_path / "imgs", rng, classes=("a",), per_class=3)
    calls = []
    prepare_images(FolderSource(tmp_path / "imgs", 0.0), tmp_path / "data", 32,
                   progress=lambda what, done, total: calls.append((what, done, total)))
    assert calls[-1] == ("preparing images", 3, 3)


def test_one_line_errors_name_the_file(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="holds no PNG, JPEG or WebP images"):
        FolderSource(tmp_path / "empty", 0.0)
    with pytest.raises(CorpusError, match="is not a directory"):
        FolderSource(tmp_path / "missing", 0.0)
    rng = np.random.default_rng(5)
    make_folder(tmp_path / "imgs", rng, classes=("a",), per_class=2)
    bad = tmp_path / "imgs" / "a" / "001.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(CorpusError) as err:
        prepare_images(FolderSource(tmp_path / "imgs", 0.0), tmp_path / "data", 32)
    assert str(bad) in str(err.value) and "\n" not in str(err.value)
    assert not any((tmp_path / "data").glob("*.partial"))
    with pytest.raises(CorpusError, match="--image-size 48"):
        prepare_images(FolderSource(tmp_path / "imgs", 0.0), tmp_path / "data", 48)
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "data.mdb").write_bytes(b"garbage" * 100)
    with pytest.raises(CorpusError, match="data.mdb") as err:
        LMDBSource(tmp_path / "db", 0.0)
    assert "\n" not in str(err.value)


def write_lmdb(path, images):
    import lmdb

    env = lmdb.open(str(path), map_size=1 << 24)
    with env.begin(write=True) as txn:
        for key, data in images.items():
            txn.put(key, data)
    env.close()


def test_lsun_lmdb_reader(tmp_path):
    rng = np.random.default_rng(6)
    images = {f"{i:040x}".encode(): png(noise_image(rng, 48, 64), "WEBP" if i % 2 else "JPEG")
              for i in range(12)}
    write_lmdb(tmp_path / "bedroom_train_lmdb", images)
    source = LMDBSource(tmp_path / "bedroom_train_lmdb", 0.3)
    prepared = prepare_images(source, tmp_path / "data", 32)
    held = [k for k in sorted(images) if held_out_by_name(k, 0.3)]
    assert len(prepared.test) == len(held) and len(prepared.train) == 12 - len(held)
    kept = [k for k in sorted(images) if k not in held]
    assert np.array_equal(prepared.train[1], decode_image(images[kept[1]], "", 32, 3))
    assert prepared.train_labels is None and prepared.meta["source"]["entries"] == 12


def test_small_imagenet_folders(tmp_path):
    rng = np.random.default_rng(7)
    pixels = {}
    for split, n in (("train_64x64", 5), ("valid_64x64", 3)):
        for i in range(1, n + 1):
            pixels[(split, i)] = noise_image(rng, 64, 64)
            write_image(tmp_path / split / f"{i}.png", pixels[(split, i)])
    images = load_encoded("imagenet64", str(tmp_path), str(tmp_path / "data"), 64, 0, 0.05)
    assert images.train.shape == (5, 3, 64, 64) and images.test.shape == (3, 3, 64, 64)
    # 64×64 PNGs at --image-size 64 are stored as they are.
    assert np.array_equal(images.train[0], pixels[("train_64x64", 1)].transpose(2, 0, 1))
    assert np.array_equal(images.test[2], pixels[("valid_64x64", 3)].transpose(2, 0, 1))
    # The paper's scaling, 2(x/255 − 1/2).
    x = scale_images(__import__("torch").tensor([[0, 255]], dtype=__import__("torch").uint8),
                     images.spec)
    assert x.tolist() == [[-1.0, 1.0]]
    with pytest.raises(CorpusError, match="train_64x64"):
        SmallImageNetSource(tmp_path / "data")


TINY = {"train": {"steps": 2, "batch_size": 4, "critic_iters": 1, "eval_every": 2,
                  "sample_every": 0, "checkpoint_every": 1, "log_every": 1},
        "model": {"dim": 2},
        "data": {"dataset": "folder", "image_size": 32, "swd_images": 4}}


def test_folder_run_conditional_resume_and_sample(tmp_path):
    rng = np.random.default_rng(8)
    make_folder(tmp_path / "imgs", rng, per_class=8)
    data = {**TINY["data"], "data_path": str(tmp_path / "imgs"), "data_dir": str(tmp_path / "d"),
            "held_out": 0.25}
    overrides = {**TINY, "data": data, "train": {**TINY["train"], "conditional": "projection"}}
    session = start_training(resolve_config("image", "cpu", None, overrides), out=tmp_path / "run")
    assert [e.step for e in session.events()] == [1, 2]
    assert resume_training(tmp_path / "run", overrides={"train": {"steps": 3}}).trainer.step == 2
    assert run(["sample", "--run", str(tmp_path / "run"), "-n", "4", "--label", "dogs"]) == 0
    assert (tmp_path / "run" / "samples" / "sample.png").is_file()


def test_max_images_is_a_seeded_subset(tmp_path):
    rng = np.random.default_rng(9)
    make_folder(tmp_path / "imgs", rng, classes=("a",), per_class=10)
    cfg = ImageDataConfig(dataset="folder", data_path=str(tmp_path / "imgs"),
                          data_dir=str(tmp_path / "d"), image_size=32, held_out=0.0)
    from textgan.image.mode import subset_training

    images = open_images(cfg)
    a, b = subset_training(images, 4, seed=3), subset_training(images, 4, seed=3)
    assert a.train.shape == (4, 3, 32, 32) and np.array_equal(a.train, b.train)
    rows = [i for i in range(10) if any(np.array_equal(images.train[i], x) for x in a.train)]
    assert len(rows) == 4
    assert subset_training(images, 50, seed=3).train.shape[0] == 10


def test_cli_folder_errors_are_one_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    code = run(["train", "--mode", "image", "--dataset", "folder", "--data-path",
                str(tmp_path / "empty"), "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.startswith("error: ") and "\n" not in err
    assert str(tmp_path / "empty") in err
    code = run(["train", "--mode", "image", "--dataset", "folder", "--out", str(tmp_path / "r")])
    assert code == 1 and "needs --data-path" in capsys.readouterr().err


def test_meta_is_written_last(tmp_path):
    rng = np.random.default_rng(10)
    make_folder(tmp_path / "imgs", rng, classes=("a",), per_class=2)
    prepared = prepare_images(FolderSource(tmp_path / "imgs", 0.0), tmp_path / "data", 32)
    meta = json.loads((prepared.directory / "meta.json").read_text())
    assert meta["train_images"] == 2 and meta["fingerprint"] == FolderSource(
        tmp_path / "imgs", 0.0).fingerprint()


def test_folder_model_exports_and_samples(tmp_path):
    rng = np.random.default_rng(11)
    make_folder(tmp_path / "imgs", rng, classes=("a",), per_class=6, size=(20, 20))
    data = {**TINY["data"], "data_path": str(tmp_path / "imgs"), "data_dir": str(tmp_path / "d"),
            "held_out": 0.0, "swd_images": 0, "channels": 1}
    overrides = {**TINY, "data": data, "train": {**TINY["train"], "steps": 1}}
    list(start_training(resolve_config("image", "cpu", None, overrides),
                        out=tmp_path / "run").events())
    assert run(["export", str(tmp_path / "run"), str(tmp_path / "model"), "--no-eval"]) == 0
    assert run(["sample", "--model", str(tmp_path / "model"), "-n", "4", "--out",
                str(tmp_path / "s.png")]) == 0
    assert Image.open(tmp_path / "s.png").mode in ("L", "RGB", "RGBA")
