"""Checkpoints: atomic, verified, never executing code, keeping the last K; disk full; fallback."""

from __future__ import annotations

import errno
import hashlib
import io
import pickle
import struct
from pathlib import Path

import pytest
import torch

import textgan.core.checkpoint as ckpt
from textgan.cli.main import main
from textgan.core.checkpoint import (
    FOOTER_MAGIC,
    FOOTER_SIZE,
    CheckpointStore,
    load_checkpoint,
    save_checkpoint,
)
from textgan.errors import CheckpointError


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models: one thread is faster, and on a busy machine much faster (no OpenMP spinning)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def state(seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    return {"weights": {"w": torch.randn(64, 64, generator=g), "b": torch.zeros(64)},
            "rng": {"torch": torch.get_rng_state()}, "note": "plain", "n": 3}


def with_footer(payload: bytes) -> bytes:
    """What an attacker who knows the format would append: a valid integrity footer."""
    return payload + FOOTER_MAGIC + hashlib.sha256(payload).digest() + struct.pack("<Q", len(payload))


def one_line(message: str) -> bool:
    return "\n" not in message.strip() and len(message) < 400


# -- round trip, footer, truncation, bit flips ---------------------------------------------------

def test_round_trip_and_plain_torch_load(tmp_path):
    path = tmp_path / "a.pt"
    save_checkpoint(path, state())
    loaded = load_checkpoint(path)
    assert torch.equal(loaded["weights"]["w"], state()["weights"]["w"]) and loaded["n"] == 3
    # The footer trails the zip: plain torch.load still reads the file.
    assert torch.equal(torch.load(path, weights_only=True)["weights"]["b"], torch.zeros(64))
    raw = path.read_bytes()
    assert raw[-FOOTER_SIZE:].startswith(FOOTER_MAGIC)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left


@pytest.mark.parametrize("keep", [0, 1, 100, 0.5, -1, -FOOTER_SIZE, -FOOTER_SIZE - 1])
def test_truncated_checkpoint_is_a_clear_error_naming_the_file(tmp_path, keep):
    path = tmp_path / "step_00000002.pt"
    save_checkpoint(path, state())
    raw = path.read_bytes()
    cut = int(len(raw) * keep) if isinstance(keep, float) else (keep if keep >= 0 else len(raw) + keep)
    path.write_bytes(raw[:cut])
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert str(path) in str(err.value) and one_line(str(err.value))
    assert "truncated" in str(err.value) or "corrupt" in str(err.value)


@pytest.mark.parametrize("where", [0.5, 0.33, 0.9, 0.001])
def test_flipped_bit_anywhere_is_detected(tmp_path, where):
    """torch.load alone loads most of these silently (tensor bytes carry no checksum)."""
    path = tmp_path / "step_00000002.pt"
    save_checkpoint(path, state())
    raw = bytearray(path.read_bytes())
    raw[int((len(raw) - FOOTER_SIZE) * where)] ^= 0x10
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match="corrupt") as err:
        load_checkpoint(path)
    assert str(path) in str(err.value) and one_line(str(err.value))


@pytest.mark.parametrize("content", [b"", b"garbage" * 100, b"PK\x03\x04" + b"\0" * 200])
def test_garbage_files_are_refused(tmp_path, content):
    path = tmp_path / "x.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert str(path) in str(err.value) and one_line(str(err.value))


def test_garbage_with_a_valid_footer_is_still_a_clear_error(tmp_path):
    path = tmp_path / "x.pt"
    path.write_bytes(with_footer(b"PK\x03\x04 definitely not a zip" * 10))
    with pytest.raises(CheckpointError, match="corrupt") as err:
        load_checkpoint(path)
    assert str(path) in str(err.value)


# -- no code execution on load -------------------------------------------------------------------

class Exploit:
    """Unpickling this creates ``marker`` (a stand-in for arbitrary code)."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def malicious_files(tmp_path: Path, marker: Path) -> dict[str, Path]:
    buf = io.BytesIO()
    torch.save({"format": ckpt.CHECKPOINT_FORMAT, "step": 2, "generator": Exploit(marker)}, buf)
    raw_pickle = pickle.dumps({"format": ckpt.CHECKPOINT_FORMAT, "x": Exploit(marker)}, protocol=2)
    files = {"torch zip + valid footer": with_footer(buf.getvalue()),
             "raw pickle + valid footer": with_footer(raw_pickle),
             "raw pickle, no footer": raw_pickle}
    paths = {}
    for i, (name, content) in enumerate(files.items()):
        paths[name] = tmp_path / f"evil{i}.pt"
        paths[name].write_bytes(content)
    return paths


def test_the_exploit_is_real(tmp_path):
    """Control: unpickled without the protection, these files do run code."""
    marker = tmp_path / "pwned"
    paths = malicious_files(tmp_path, marker)
    torch.load(paths["torch zip + valid footer"], weights_only=False)
    assert marker.exists()
    marker.unlink()
    pickle.loads(paths["raw pickle, no footer"].read_bytes())
    assert marker.exists()


def test_malicious_checkpoints_are_refused_and_run_nothing(tmp_path):
    marker = tmp_path / "pwned"
    for name, path in malicious_files(tmp_path, marker).items():
        with pytest.raises(CheckpointError) as err:
            load_checkpoint(path)
        assert str(path) in str(err.value) and one_line(str(err.value)), name
        if "valid footer" in name:
            assert "refusing to load" in str(err.value) and "run code" in str(err.value), name
        assert not marker.exists(), name


# -- keep the last K, stale temporaries, fallback ------------------------------------------------

def test_store_keeps_the_newest_k_and_removes_stale_temporaries(tmp_path):
    store = CheckpointStore(tmp_path / "ck", keep=3)
    store.save(1, state())
    stale = store.directory / ".step_00000004.pt.tmp-999999"  # a save killed mid-write
    stale.write_bytes(b"half a checkpoint")
    for step in range(2, 8):
        store.save(step, state(step))
    assert [p.name for p in store.paths()] == ["step_00000007.pt", "step_00000006.pt",
                                                "step_00000005.pt"]
    assert sorted(p.name for p in store.directory.iterdir()) == sorted(p.name for p in store.paths())
    assert torch.equal(store.latest().state["weights"]["w"], state(7)["weights"]["w"])


def test_latest_falls_back_past_corrupt_checkpoints_and_says_why(tmp_path):
    store = CheckpointStore(tmp_path, keep=5)
    for step in (2, 4, 6, 8):
        store.save(step, state(step))
    raw = store.path_for(8).read_bytes()
    store.path_for(8).write_bytes(raw[: len(raw) // 2])  # torn
    flipped = bytearray(store.path_for(6).read_bytes())
    flipped[len(flipped) // 2] ^= 1
    store.path_for(6).write_bytes(bytes(flipped))  # bit rot
    point = store.latest()
    assert point.path == store.path_for(4) and point.state["step"] == 4
    assert [p.name for p, _ in point.skipped] == ["step_00000008.pt", "step_00000006.pt"]
    assert "truncated" in point.skipped[0][1] and "sha256" in point.skipped[1][1]
    for step in (2, 4):
        store.path_for(step).write_bytes(b"")
    with pytest.raises(CheckpointError, match="no loadable checkpoint") as err:
        store.latest()
    assert "step_00000008.pt" in str(err.value) and one_line(str(err.value))


# -- disk full while saving ----------------------------------------------------------------------

def enospc_after(nbytes: int):
    """A torch.save that fills the disk: writes ``nbytes`` of the payload, then ENOSPC."""
    real_save = torch.save

    def save(obj, f):
        buf = io.BytesIO()
        real_save(obj, buf)
        f.write(buf.getvalue()[:nbytes])
        raise OSError(errno.ENOSPC, "No space left on device")

    return save


@pytest.mark.parametrize("failure", ["write", "fsync"])
def test_disk_full_keeps_the_previous_checkpoint(tmp_path, monkeypatch, failure):
    store = CheckpointStore(tmp_path, keep=1)  # keep=1: the previous one is the only copy
    store.save(2, state(2))
    before = store.path_for(2).read_bytes()
    if failure == "write":
        monkeypatch.setattr(ckpt.torch, "save", enospc_after(5000))
    else:
        def fsync(fd):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(ckpt.os, "fsync", fsync)
    with pytest.raises(CheckpointError) as err:
        store.save(4, state(4))
    message = str(err.value)
    assert "No space left on device" in message and str(store.path_for(4)) in message
    assert "previous checkpoint is kept" in message and one_line(message)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["step_00000002.pt"]  # no torn file, no temp
    assert store.path_for(2).read_bytes() == before
    assert torch.equal(load_checkpoint(store.path_for(2))["weights"]["w"], state(2)["weights"]["w"])


# -- through the CLI: sample --checkpoint, train --resume, disk full -----------------------------

TINY = ["--dim", "8", "--batch-size", "4", "--critic-iters", "1", "--seq-len", "8", "--device", "cpu",
        "--eval-every", "0", "--sample-every", "0", "--checkpoint-every", "2"]


def cli(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as done:
        code = int(done.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture()
def tiny_run(tmp_path, capsys):
    corpus = tmp_path / "c.txt"
    corpus.write_text("".join(f"line {i % 17} of text\n" for i in range(200)))
    out = tmp_path / "run"
    code, _, err = cli(capsys, "train", "--corpus-path", str(corpus), "--data-dir",
                       str(tmp_path / "data"), "--out", str(out), "--steps", "4", *TINY)
    assert code == 0, err
    return out


def test_cli_refuses_malicious_checkpoints(tmp_path, tiny_run, capsys):
    marker = tmp_path / "pwned"
    evil = malicious_files(tmp_path, marker)["torch zip + valid footer"]
    code, out, err = cli(capsys, "sample", "--checkpoint", str(evil))
    assert code == 1 and out == "" and err.count("\n") == 1
    assert err.startswith("error: refusing to load") and str(evil) in err
    # --resume: a malicious newest checkpoint is refused; training falls back, saying so.
    ckpts = tiny_run / "checkpoints"
    (ckpts / "step_00000006.pt").write_bytes(evil.read_bytes())
    code, _, err = cli(capsys, "train", "--resume", "--out", str(tiny_run), "--steps", "6",
                       "--reschedule")
    assert code == 0, err
    assert "falling back past step_00000006.pt: refusing to load" in err
    assert "resumed from" in err and "(step 4)" in err
    # ... and with nothing else to fall back to, it stops with one line.
    for p in ckpts.iterdir():
        p.write_bytes(evil.read_bytes())
    code, _, err = cli(capsys, "train", "--resume", "--out", str(tiny_run), "--steps", "8",
                       "--reschedule")
    assert code == 1 and err.count("\n") == 1 and "refusing to load" in err
    code, _, err = cli(capsys, "sample", "--run", str(tiny_run))
    assert code == 1 and err.count("\n") == 1 and "refusing to load" in err
    assert not marker.exists()


def test_cli_resume_falls_back_past_a_truncated_checkpoint(tiny_run, capsys):
    newest = tiny_run / "checkpoints" / "step_00000004.pt"
    newest.write_bytes(newest.read_bytes()[:1000])
    code, _, err = cli(capsys, "train", "--resume", "--out", str(tiny_run), "--steps", "6",
                       "--reschedule")
    assert code == 0, err
    assert "falling back past step_00000004.pt" in err and "truncated" in err
    assert "(step 2)" in err
    assert load_checkpoint(newest)["step"] == 4  # redone and rewritten whole


def test_cli_disk_full_while_checkpointing(tiny_run, capsys, monkeypatch):
    before = {p.name: p.read_bytes() for p in (tiny_run / "checkpoints").iterdir()}
    monkeypatch.setattr(ckpt.torch, "save", enospc_after(10_000))
    code, _, err = cli(capsys, "train", "--resume", "--out", str(tiny_run), "--steps", "8",
                       "--reschedule")
    monkeypatch.undo()
    assert code == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: could not write checkpoint") and "No space left" in last
    after = {p.name: p.read_bytes() for p in (tiny_run / "checkpoints").iterdir()}
    assert after == before
    code, _, err = cli(capsys, "train", "--resume", "--out", str(tiny_run), "--steps", "8",
                       "--reschedule")
    assert code == 0 and "(step 4)" in err


def test_cli_disk_full_while_logging_metrics(tiny_run, capsys, monkeypatch):
    real_open = Path.open

    class FullFile(io.StringIO):
        def write(self, text):
            raise OSError(errno.ENOSPC, "No space left on device")

    def fake_open(self, mode="r", *args, **kwargs):
        if self.name == "metrics.jsonl" and "a" in mode:
            return FullFile()
        return real_open(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", fake_open)
    code, _, err = cli(capsys, "train", "--resume", "--out", str(tiny_run), "--steps", "8",
                       "--reschedule")
    monkeypatch.undo()
    last = err.strip().splitlines()[-1]
    assert code == 1 and last.startswith("error: could not write") and "No space left" in last
    assert "metrics.jsonl" in last
