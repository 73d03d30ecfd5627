"""Billion Word source: reading the tarball / extracted dir, and downloading (local server)."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import os
import random
import socket
import tarfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from textgan.errors import CorpusError
from textgan.text.corpora import billion_word as bw
from textgan.text.corpora.billion_word import BillionWordSource, fetch, tar_shard_lines

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


# --- downloading --------------------------------------------------------------------------------


class Server:
    """A local HTTP server for one file, with Range support and failure switches."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.requests: list[dict[str, str | None]] = []
        self.ignore_range = False
        self.cut_after: int | None = None  # close the connection after this many body bytes
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                server.requests.append({"path": self.path, "range": self.headers.get("Range")})
                if self.path != "/corpus.tar.gz":
                    self.send_error(404)
                    return
                data, start = server.payload, 0
                header = self.headers.get("Range")
                if header and not server.ignore_range:
                    start = int(header.removeprefix("bytes=").split("-")[0])
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if server.cut_after is not None:
                    self.wfile.write(body[: server.cut_after])
                    server.cut_after = None
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/corpus.tar.gz"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture()
def server(tarball: Path) -> Iterator[Server]:
    srv = Server(tarball.read_bytes())
    yield srv
    srv.close()


def expected(server: Server) -> dict[str, object]:
    return {"size": len(server.payload), "sha256": hashlib.sha256(server.payload).hexdigest()}


def test_download_verifies_and_is_then_reused(server: Server, tmp_path: Path):
    calls: list[tuple[str, int, int | None]] = []
    dl = tmp_path / "dl"
    path = fetch(server.url, dl, progress=lambda *a: calls.append(a), timeout=5, **expected(server))
    assert path == dl / "corpus.tar.gz"
    assert path.read_bytes() == server.payload
    assert not (dl / "corpus.tar.gz.part").exists()
    downloads = [c for c in calls if c[0].startswith("downloading")]
    assert downloads[-1][1:] == (len(server.payload), len(server.payload))
    # Second call: no request, no re-hash (the marker records the verified sha256).
    calls.clear()
    assert fetch(server.url, dl, timeout=5, progress=lambda *a: calls.append(a),
                 **expected(server)) == path
    assert len(server.requests) == 1
    assert calls == []


def test_source_downloads_on_first_use(server: Server, tmp_path: Path):
    source = BillionWordSource(download_dir=tmp_path / "dl", url=server.url, timeout=5,
                               **expected(server))
    assert server.requests == []  # lazy: nothing fetched before the lines are wanted
    train, valid = read(source)
    assert train == EXPECTED_TRAIN and valid == EXPECTED_VALID
    assert len(server.requests) == 1


def test_resumes_partial_download_with_range(server: Server, tmp_path: Path):
    dl = tmp_path / "dl"
    dl.mkdir()
    half = len(server.payload) // 2
    (dl / "corpus.tar.gz.part").write_bytes(server.payload[:half])
    path = fetch(server.url, dl, timeout=5, **expected(server))
    assert server.requests[-1]["range"] == f"bytes={half}-"
    assert path.read_bytes() == server.payload


def test_dropped_connection_keeps_part_then_resumes(server: Server, tmp_path: Path):
    dl = tmp_path / "dl"
    server.cut_after = 100
    with pytest.raises(CorpusError, match="could not download") as err:
        fetch(server.url, dl, timeout=5, **expected(server))
    assert "\n" not in str(err.value)
    assert (dl / "corpus.tar.gz.part").read_bytes() == server.payload[:100]
    path = fetch(server.url, dl, timeout=5, **expected(server))
    assert server.requests[-1]["range"] == "bytes=100-"
    assert path.read_bytes() == server.payload


def test_server_ignoring_range_restarts_cleanly(server: Server, tmp_path: Path):
    dl = tmp_path / "dl"
    dl.mkdir()
    (dl / "corpus.tar.gz.part").write_bytes(b"junk that is not a prefix")
    server.ignore_range = True
    path = fetch(server.url, dl, timeout=5, **expected(server))
    assert path.read_bytes() == server.payload


def test_stale_part_answered_416_restarts(server: Server, tmp_path: Path):
    dl = tmp_path / "dl"
    dl.mkdir()
    (dl / "corpus.tar.gz.part").write_bytes(server.payload + b"extra bytes")
    path = fetch(server.url, dl, size=None, sha256=None, timeout=5)
    assert [r["range"] for r in server.requests] == [f"bytes={len(server.payload) + 11}-", None]
    assert path.read_bytes() == server.payload


def test_checksum_mismatch_moves_file_aside(server: Server, tmp_path: Path):
    dl = tmp_path / "dl"
    with pytest.raises(CorpusError, match="sha256 mismatch") as err:
        fetch(server.url, dl, size=len(server.payload), sha256="0" * 64, timeout=5)
    assert "moved to" in str(err.value)
    assert not (dl / "corpus.tar.gz").exists()
    assert not (dl / "corpus.tar.gz.part").exists()
    assert (dl / "corpus.tar.gz.corrupt").read_bytes() == server.payload
    # A later run downloads afresh rather than reusing the bad file.
    fetch(server.url, dl, timeout=5, **expected(server))
    assert len(server.requests) == 2


def test_existing_file_of_wrong_size_is_moved_aside(server: Server, tmp_path: Path):
    dl = tmp_path / "dl"
    dl.mkdir()
    (dl / "corpus.tar.gz").write_bytes(b"short")
    with pytest.raises(CorpusError, match="expected"):
        fetch(server.url, dl, timeout=5, **expected(server))
    assert (dl / "corpus.tar.gz.corrupt").read_bytes() == b"short"


def test_without_published_checksum_first_download_is_the_reference(server: Server, tmp_path: Path):
    dl = tmp_path / "dl"
    path = fetch(server.url, dl, size=None, sha256=None, timeout=5)
    marker = (dl / "corpus.tar.gz.verified.json").read_text()
    assert hashlib.sha256(server.payload).hexdigest() in marker
    assert "recorded after the first complete download" in marker
    # The file changes on disk: the next run notices.
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(1, 1))
    with pytest.raises(CorpusError, match="sha256 mismatch"):
        fetch(server.url, dl, size=None, sha256=None, timeout=5)


def test_http_error_and_refused_connection(server: Server, tmp_path: Path):
    with pytest.raises(CorpusError, match="HTTP 404") as err:
        fetch(server.url.replace("corpus", "missing"), tmp_path, size=None, sha256=None, timeout=5)
    assert "--corpus-path FILE" in str(err.value)
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/corpus.tar.gz"
    with pytest.raises(CorpusError, match=f"could not download {url}") as err:
        list(BillionWordSource(download_dir=tmp_path, url=url, timeout=5).train_lines())
    assert "check your connection" in str(err.value) and "\n" not in str(err.value)
