"""The one downloader (textgan.io.download) against a local HTTP server."""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from local_http import Server

from textgan.errors import CorpusError, DownloadError
from textgan.io.download import Checksum, download, verified_digest

PAYLOAD = bytes(range(256)) * 1200  # 300 KB: several read chunks' worth of progress calls


@pytest.fixture()
def server() -> Iterator[Server]:
    srv = Server({"/data/file.bin": PAYLOAD})
    yield srv
    srv.close()


def sha256(data: bytes = PAYLOAD) -> Checksum:
    return Checksum("sha256", hashlib.sha256(data).hexdigest())


def one_line(err: pytest.ExceptionInfo[BaseException]) -> str:
    message = str(err.value)
    assert "\n" not in message and isinstance(err.value, CorpusError)
    return message


def test_download_verifies_renames_and_is_then_reused(server: Server, tmp_path: Path):
    calls: list[tuple[str, int, int | None]] = []
    dest = tmp_path / "dl" / "file.bin"
    got = download(server.url("/data/file.bin"), dest, checksum=sha256(), size=len(PAYLOAD),
                   progress=lambda *a: calls.append(a), timeout=5)
    assert got == dest and dest.read_bytes() == PAYLOAD
    assert sorted(p.name for p in dest.parent.iterdir()) == ["file.bin", "file.bin.verified.json"]
    downloads = [c for c in calls if c[0] == "downloading file.bin"]
    assert downloads[-1][1:] == (len(PAYLOAD), len(PAYLOAD))
    assert [c[0] for c in calls][-1] == "verifying file.bin"
    # Again: no request and no re-hash, the marker records what was verified.
    calls.clear()
    assert download(server.url("/data/file.bin"), dest, checksum=sha256(), timeout=5,
                    progress=lambda *a: calls.append(a)) == dest
    assert len(server.requests) == 1 and calls == []


@pytest.mark.parametrize("algorithm", ["md5", "sha256", "sha1"])
def test_any_hashlib_algorithm(server: Server, tmp_path: Path, algorithm: str):
    good = Checksum(algorithm, hashlib.new(algorithm, PAYLOAD).hexdigest())
    dest = download(server.url("/data/file.bin"), tmp_path / "ok.bin", checksum=good, timeout=5)
    assert dest.read_bytes() == PAYLOAD
    assert json.loads((tmp_path / "ok.bin.verified.json").read_text())[algorithm] == good.hexdigest
    bad = Checksum(algorithm, "0" * len(good.hexdigest))
    with pytest.raises(DownloadError) as err:
        download(server.url("/data/file.bin"), tmp_path / "bad.bin", checksum=bad, timeout=5,
                 hint="or pass --data-path")
    message = one_line(err)
    assert f"{algorithm} mismatch" in message and good.hexdigest in message
    assert message.endswith("; or pass --data-path")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.bin", "ok.bin.verified.json"]


def test_resumes_a_partial_file_with_range(server: Server, tmp_path: Path):
    half = len(PAYLOAD) // 2
    (tmp_path / "file.bin.part").write_bytes(PAYLOAD[:half])
    calls: list[tuple[str, int, int | None]] = []
    dest = download(server.url("/data/file.bin"), tmp_path / "file.bin", checksum=sha256(),
                    size=len(PAYLOAD), progress=lambda *a: calls.append(a), timeout=5)
    assert server.requests[-1]["range"] == f"bytes={half}-"
    assert dest.read_bytes() == PAYLOAD
    assert calls[0][1] > half and calls[0][2] == len(PAYLOAD)  # progress counts the resumed bytes


def test_dropped_connection_keeps_part_then_resumes(server: Server, tmp_path: Path):
    dest = tmp_path / "file.bin"
    server.cut_after = 100
    with pytest.raises(DownloadError, match="could not download") as err:
        download(server.url("/data/file.bin"), dest, checksum=sha256(), timeout=5)
    assert "the download resumes" in one_line(err)
    assert (tmp_path / "file.bin.part").read_bytes() == PAYLOAD[:100]
    download(server.url("/data/file.bin"), dest, checksum=sha256(), timeout=5)
    assert server.requests[-1]["range"] == "bytes=100-"
    assert dest.read_bytes() == PAYLOAD


def test_server_ignoring_range_restarts_cleanly(server: Server, tmp_path: Path):
    (tmp_path / "file.bin.part").write_bytes(b"junk that is not a prefix")
    server.ignore_range = True
    dest = download(server.url("/data/file.bin"), tmp_path / "file.bin", checksum=sha256(), timeout=5)
    assert dest.read_bytes() == PAYLOAD


def test_stale_part_answered_416_restarts(server: Server, tmp_path: Path):
    (tmp_path / "file.bin.part").write_bytes(PAYLOAD + b"extra bytes")
    dest = download(server.url("/data/file.bin"), tmp_path / "file.bin", timeout=5)
    assert [r["range"] for r in server.requests] == [f"bytes={len(PAYLOAD) + 11}-", None]
    assert dest.read_bytes() == PAYLOAD


def test_corrupt_resume_is_deleted_not_kept(server: Server, tmp_path: Path):
    # A .part whose first bytes are wrong resumes into a file of the right size but wrong content.
    (tmp_path / "file.bin.part").write_bytes(b"\xff" * 1000)
    with pytest.raises(DownloadError, match="sha256 mismatch") as err:
        download(server.url("/data/file.bin"), tmp_path / "file.bin", checksum=sha256(),
                 size=len(PAYLOAD), timeout=5)
    assert "the download was deleted, run again" in one_line(err)
    assert list(tmp_path.iterdir()) == []  # no final file, no .part, no marker
    download(server.url("/data/file.bin"), tmp_path / "file.bin", checksum=sha256(), timeout=5)
    assert (tmp_path / "file.bin").read_bytes() == PAYLOAD


def test_existing_file_is_checked_once_and_a_bad_one_moved_aside(server: Server, tmp_path: Path):
    dest = tmp_path / "file.bin"
    dest.write_bytes(PAYLOAD)  # put there by hand: hashed, recorded, not downloaded
    assert download(server.url("/data/file.bin"), dest, checksum=sha256(), timeout=5) == dest
    assert server.requests == [] and (tmp_path / "file.bin.verified.json").exists()
    dest.write_bytes(b"short")
    with pytest.raises(DownloadError, match="has 5 bytes, expected") as err:
        download(server.url("/data/file.bin"), dest, checksum=sha256(), size=len(PAYLOAD), timeout=5)
    assert "moved to" in one_line(err)
    assert (tmp_path / "file.bin.corrupt").read_bytes() == b"short"
    dest.write_bytes(PAYLOAD[::-1])
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        download(server.url("/data/file.bin"), dest, checksum=sha256(), timeout=5)
    assert (tmp_path / "file.bin.corrupt1").read_bytes() == PAYLOAD[::-1]
    assert not dest.exists() and server.requests == []


def test_without_published_checksum_first_download_is_the_reference(server: Server, tmp_path: Path):
    dest = download(server.url("/data/file.bin"), tmp_path / "file.bin", timeout=5)
    marker = (tmp_path / "file.bin.verified.json").read_text()
    assert sha256().hexdigest in marker and "recorded after the first complete download" in marker
    assert verified_digest(dest) == sha256().hexdigest
    data = bytearray(dest.read_bytes())
    data[-1] ^= 0xFF
    dest.write_bytes(bytes(data))
    os.utime(dest, ns=(1, 1))  # the file changed on disk: the next call notices
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        download(server.url("/data/file.bin"), dest, timeout=5)


def test_http_error_and_refused_connection_are_one_line(server: Server, tmp_path: Path):
    with pytest.raises(DownloadError, match="HTTP 404") as err:
        download(server.url("/missing"), tmp_path / "x", timeout=5, hint="or pass --corpus-path FILE")
    assert one_line(err).endswith("; or pass --corpus-path FILE")
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/file.bin"
    with pytest.raises(DownloadError, match=f"could not download {url}") as err:
        download(url, tmp_path / "x", timeout=5)
    assert "check your connection" in one_line(err)
    assert list(tmp_path.iterdir()) == []  # no empty .part left behind
