"""Billion Word source: reading the tarball / extracted dir, and downloading (local server)."""

from __future__ import annotations

import gzip
import hashlib
import io
import random
import socket
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_http import Server

from textgan.errors import CorpusError
from textgan.text.corpora import billion_word as bw
from textgan.text.corpora.billion_word import BillionWordSource, tar_shard_lines

TOP = bw.TOP_DIR
TRAIN = f"{TOP}/{bw.TRAIN_DIR}"
HELD = f"{TOP}/{bw.HELDOUT_DIR}"


def shard_text(name: str, n: int) -> str:
    # Billion Word style: tokenised, one sentence a line, "\n" terminated.
    return "".join(f"{name} sentence {i} , with words .\n" for i in range(n))


def layout() -> dict[str, bytes]:
    """A tiny corpus in the real layout, including files that must be ignored."""
    members = {
        f"{TRAIN}/news.en-00000-of-00100": "shard zero is excluded .\n",
        f"{TRAIN}/news.en-00001-of-00100": shard_text("t01", 3),
        f"{TRAIN}/news.en-00002-of-00100": shard_text("t02", 2) + "\n",  # blank line skipped
        f"{TRAIN}/news.en-00010-of-00100": shard_text("t10", 4),
        f"{TRAIN}/news.en-00099-of-00100": shard_text("t99", 1),
        f"{HELD}/news.en.heldout-00000-of-00050": shard_text("h00", 2),
        f"{HELD}/news.en.heldout-00001-of-00050": shard_text("h01", 1),
        f"{HELD}/news.en.heldout-00049-of-00050": shard_text("h49", 2),
        f"{TOP}/README": "not a shard\n",
    }
    return {name: text.encode() for name, text in members.items()}


EXPECTED_TRAIN = [
    line
    for name, n in (("t01", 3), ("t02", 2), ("t10", 4), ("t99", 1))
    for line in shard_text(name, n).splitlines()
]
EXPECTED_VALID = [
    line for name, n in (("h00", 2), ("h01", 1), ("h49", 2)) for line in shard_text(name, n).splitlines()
]


def make_tarball(
    path: Path,
    members: dict[str, bytes],
    *,
    order: list[str] | None = None,
    fmt: int = tarfile.GNU_FORMAT,
) -> Path:
    with tarfile.open(path, "w:gz", format=fmt) as tar:
        for directory in (TOP, TRAIN, HELD):
            info = tarfile.TarInfo(directory)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
        for name in order or sorted(members):
            info = tarfile.TarInfo(name)
            info.size = len(members[name])
            tar.addfile(info, io.BytesIO(members[name]))
    return path


@pytest.fixture()
def tarball(tmp_path: Path) -> Path:
    return make_tarball(tmp_path / bw.FILENAME, layout())


def read(source: BillionWordSource) -> tuple[list[str], list[str]]:
    return list(source.train_lines()), list(source.valid_lines())


# --- reading ------------------------------------------------------------------------------------


def test_reads_shards_from_tarball_in_order_skipping_shard_zero(tarball: Path, tmp_path: Path):
    source = BillionWordSource(str(tarball), download_dir=tmp_path / "dl")
    train, valid = read(source)
    assert train == EXPECTED_TRAIN
    assert valid == EXPECTED_VALID
    assert source.name == "billion_word"
    assert not (tmp_path / "dl").exists()  # a given tarball is read in place, nothing downloaded


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
def test_archive_member_order_and_format_do_not_matter(tmp_path: Path, fmt: int):
    members = layout()
    order = sorted(members)
    random.Random(7).shuffle(order)
    order.remove(f"{TRAIN}/news.en-00099-of-00100")
    order.insert(0, f"{TRAIN}/news.en-00099-of-00100")  # last shard first: forces replays
    path = make_tarball(tmp_path / "shuffled.tar.gz", members, order=order, fmt=fmt)
    assert list(tar_shard_lines(path, "train")) == EXPECTED_TRAIN
    assert list(tar_shard_lines(path, "valid")) == EXPECTED_VALID


def test_uncompressed_tar_is_read_too(tmp_path: Path):
    members = layout()
    order = sorted(members, reverse=True)
    gz = make_tarball(tmp_path / "x.tar.gz", members, order=order)
    plain = tmp_path / "x.tar"
    plain.write_bytes(gzip.decompress(gz.read_bytes()))
    train, valid = read(BillionWordSource(str(plain), download_dir=tmp_path))
    assert train == EXPECTED_TRAIN and valid == EXPECTED_VALID


def test_large_shards_stream_correctly_across_buffer_boundaries(tmp_path: Path):
    # Shards bigger than the reader's buffers, met out of order, with multi-byte characters.
    rng = random.Random(0)
    words = ["naïve", "café", "über", "word", "x", "ünïcödé", ",", "."]
    shards = {
        n: [" ".join(rng.choice(words) for _ in range(rng.randint(1, 30))) for _ in range(6000)]
        for n in (1, 2, 3)
    }
    members = {
        f"{TRAIN}/news.en-{n:05d}-of-00100": ("\n".join(lines) + "\n").encode()
        for n, lines in shards.items()
    }
    order = [f"{TRAIN}/news.en-{n:05d}-of-00100" for n in (3, 1, 2)]
    path = make_tarball(tmp_path / "big.tar.gz", members, order=order)
    assert path.stat().st_size > 1 << 16
    assert list(tar_shard_lines(path, "train")) == shards[1] + shards[2] + shards[3]


def test_reads_extracted_directory_or_its_parent(tarball: Path, tmp_path: Path):
    out = tmp_path / "extracted"
    with tarfile.open(tarball) as tar:
        tar.extractall(out, filter="data")
    for given in (out, out / TOP):
        train, valid = read(BillionWordSource(str(given), download_dir=tmp_path / "dl"))
        assert train == EXPECTED_TRAIN
        assert valid == EXPECTED_VALID


def test_max_lines_caps_training_lines_only(tarball: Path, tmp_path: Path):
    source = BillionWordSource(str(tarball), download_dir=tmp_path, max_lines=4)
    train, valid = read(source)
    assert train == EXPECTED_TRAIN[:4]
    assert valid == EXPECTED_VALID


def test_invalid_utf8_names_member_and_line(tmp_path: Path):
    members = layout()
    members[f"{TRAIN}/news.en-00002-of-00100"] = b"fine .\nbad \xff byte .\n"
    path = make_tarball(tmp_path / "bad.tar.gz", members)
    with pytest.raises(CorpusError) as err:
        list(BillionWordSource(str(path), download_dir=tmp_path).train_lines())
    message = str(err.value)
    assert "news.en-00002-of-00100" in message and "line 2" in message
    assert "--encoding-errors replace" in message and "\n" not in message
    lines = list(BillionWordSource(str(path), download_dir=tmp_path, encoding_errors="replace")
                 .train_lines())
    assert "bad \ufffd byte ." in lines


def test_bad_inputs_raise_corpus_errors(tmp_path: Path):
    with pytest.raises(CorpusError, match="does not exist"):
        BillionWordSource(str(tmp_path / "missing.tar.gz"), download_dir=tmp_path)
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(CorpusError, match="not an extracted Billion Word corpus"):
        BillionWordSource(str(tmp_path / "empty_dir"), download_dir=tmp_path)
    text = tmp_path / "not_a_tarball.tar.gz"
    text.write_text("hello\n")
    with pytest.raises(CorpusError, match="not a readable .tar.gz"):
        list(BillionWordSource(str(text), download_dir=tmp_path).train_lines())
    truncated = tmp_path / "truncated.tar.gz"
    full = make_tarball(tmp_path / "full.tar.gz", layout()).read_bytes()
    truncated.write_bytes(full[: len(full) // 2])
    with pytest.raises(CorpusError, match="not a readable .tar.gz"):
        list(BillionWordSource(str(truncated), download_dir=tmp_path).valid_lines())
    no_train = make_tarball(tmp_path / "heldout_only.tar.gz",
                            {k: v for k, v in layout().items() if k.startswith(HELD)})
    with pytest.raises(CorpusError, match="no non-empty lines"):
        list(BillionWordSource(str(no_train), download_dir=tmp_path).train_lines())


def test_describe_reports_location_and_sha256(tarball: Path, tmp_path: Path):
    info = BillionWordSource(str(tarball), download_dir=tmp_path).describe()
    assert info["kind"] == "billion_word"
    assert info["format"] == "tarball"
    assert info["sha256"] == hashlib.sha256(tarball.read_bytes()).hexdigest()
    assert info["sha256_matches_published"] is False  # it is a test tarball, not the real one
    assert info["published_sha256"] == bw.SHA256


def test_sources_toml_matches_constants():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the library itself needs no TOML
    with open(Path(bw.__file__).with_name("sources.toml"), "rb") as fh:
        entry = tomllib.load(fh)["billion_word"]
    assert entry["url"] == bw.URL
    assert entry["filename"] == bw.FILENAME
    assert entry["size"] == bw.SIZE == 1_792_209_805
    assert entry["sha256"] == bw.SHA256
    assert len(bw.SHA256) == 64 and int(bw.SHA256, 16) >= 0


# --- downloading (the downloader itself is tested in test_io_download.py) ---------------------


@pytest.fixture()
def server(tarball: Path) -> Iterator[Server]:
    srv = Server({"/corpus.tar.gz": tarball.read_bytes()})
    yield srv
    srv.close()


def published(server: Server) -> dict[str, object]:
    payload = server.files["/corpus.tar.gz"]
    return {"size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}


def test_source_downloads_on_first_use_then_reuses(server: Server, tmp_path: Path):
    source = BillionWordSource(download_dir=tmp_path / "dl", url=server.url("/corpus.tar.gz"),
                               timeout=5, **published(server))
    assert server.requests == []  # lazy: nothing fetched before the lines are wanted
    train, valid = read(source)
    assert train == EXPECTED_TRAIN and valid == EXPECTED_VALID
    assert (tmp_path / "dl" / "corpus.tar.gz").read_bytes() == server.files["/corpus.tar.gz"]
    info = source.describe()
    assert info["sha256"] == published(server)["sha256"] and info["sha256_matches_published"]
    again = BillionWordSource(download_dir=tmp_path / "dl", url=server.url("/corpus.tar.gz"),
                              timeout=5, **published(server))
    assert read(again) == (train, valid)
    assert len(server.requests) == 1


def test_source_checksum_mismatch_is_one_line(server: Server, tmp_path: Path):
    dl = tmp_path / "dl"
    source = BillionWordSource(download_dir=dl, url=server.url("/corpus.tar.gz"), timeout=5,
                               size=None, sha256="0" * 64)
    with pytest.raises(CorpusError, match="sha256 mismatch") as err:
        list(source.train_lines())
    assert "\n" not in str(err.value) and "--corpus-path FILE" in str(err.value)
    assert list(dl.iterdir()) == []  # no corrupt tarball left to be read later


def test_http_error_and_refused_connection(server: Server, tmp_path: Path):
    url = server.url("/missing.tar.gz")
    with pytest.raises(CorpusError, match="HTTP 404") as err:
        list(BillionWordSource(download_dir=tmp_path, url=url, timeout=5).train_lines())
    assert "--corpus-path FILE" in str(err.value)
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/corpus.tar.gz"
    with pytest.raises(CorpusError, match=f"could not download {url}") as err:
        list(BillionWordSource(download_dir=tmp_path, url=url, timeout=5).train_lines())
    assert "check your connection" in str(err.value) and "\n" not in str(err.value)
