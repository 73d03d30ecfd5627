"""Every CLI error path: a non-zero exit, exactly one line on stderr, nothing on stdout, and
nothing written or changed on disk (bad values are rejected before any preparation or run dir)."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from textgan.cli.main import main
from textgan.core.checkpoint import FOOTER_MAGIC, save_checkpoint

TINY = ["--dim", "8", "--batch-size", "4", "--critic-iters", "1", "--seq-len", "8", "--device", "cpu",
        "--eval-every", "0", "--sample-every", "0", "--steps", "2", "--checkpoint-every", "2"]


def run_cli(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    return 0


def checkpoint_of(run: Path) -> Path:
    return run / "checkpoints" / "step_00000002.pt"


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """A working directory with corpora, hostile files and three finished tiny runs."""
    root = tmp_path_factory.mktemp("cli_errors")
    cwd = os.getcwd()
    os.chdir(root)
    try:
        Path("corpus.txt").write_text("".join(f"the cat {i % 7} sat\n" for i in range(120)))
        Path("corpus2.txt").write_text("".join(f"XYZ QRS {i % 5} !\n" for i in range(120)))
        Path("invalid.txt").write_bytes(b"fine line\nbad \xff\xfe byte\n")
        # invalid only after the first 65,536-line chunk: the progress display is already up
        Path("late_invalid.txt").write_bytes(b"a fine line\n" * 70_000 + b"\xc3(\n")
        Path("empty.txt").write_bytes(b"\n \r\n\t\n")
        Path("garbage.gz").write_bytes(b"\x1f\x8b\x08\x00not really gzip")
        packed = gzip.compress("".join(f"line {i} {i * i}\n" for i in range(3000)).encode())
        Path("truncated.gz").write_bytes(packed[: len(packed) // 2])
        Path("bad.toml").write_text("[train\nsteps = 3\n")
        Path("unknown.toml").write_text("[train]\nstepz = 3\n")
        Path("typo.toml").write_text("[trian]\nsteps = 3\n")
        Path("a_dir").mkdir()
        Path("not_a_run").mkdir()
        (Path("not_a_run") / "notes.txt").write_text("mine")
        for name, extra in (("run", []), ("run16", ["--dim", "16"])):
            args = ["train", "--corpus-path", "corpus.txt", "--out", name, *TINY, *extra]
            assert run_cli(args) == 0
        assert run_cli(["train", "--corpus-path", "corpus2.txt", "--out", "run_other", *TINY]) == 0
        for name, source in (("run_vocab", "run_other"), ("run_config", "run16")):
            shutil.copytree("run", name)
            shutil.copy(checkpoint_of(Path(source)), checkpoint_of(Path(name)))
        payload = io.BytesIO()
        torch.save({"format": 2, "mode": "text"}, payload)
        save_checkpoint("hollow.pt", {"mode": "text", "config": "not a dict", "tokenizer": 7})
        save_checkpoint("alien.pt", {"mode": "../../etc"})
        save_checkpoint("nomode.pt", {"weights": torch.ones(2)})
        raw = Path("hollow.pt").read_bytes()
        Path("bitrot.pt").write_bytes(raw[:50] + bytes([raw[50] ^ 1]) + raw[51:])
        Path("nofooter.pt").write_bytes(raw[: raw.rindex(FOOTER_MAGIC)])
    finally:
        os.chdir(cwd)
    return root


def snapshot(root: Path) -> dict[str, str]:
    """Every file and directory under ``root`` with a digest of its content."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        out[rel] = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
    return out


R = "run"
CASES = {
    # usage errors (exit 2)
    "unknown command": (["frobnicate"], 2, "No such command"),
    "unknown flag": (["train", "--bogus"], 2, "No such option"),
    "unknown sample flag": (["sample", "--nn", "3"], 2, "No such option"),
    "steps not a number": (["train", "--steps", "abc"], 2, "--steps"),
    "lr not a number": (["train", "--lr", "fast"], 2, "--lr"),
    "n not a number": (["sample", "-n", "many"], 2, "-n"),
    "missing flag value": (["train", "--steps"], 2, "--steps"),
    # bad values (exit 1), rejected before any data preparation
    "negative steps": (["train", "--steps", "-5"], 1, "steps must be at least 1"),
    "zero steps": (["train", "--steps", "0"], 1, "steps must be at least 1"),
    "zero batch": (["train", "--batch-size", "0"], 1, "batch_size must be at least 1"),
    "negative batch": (["train", "--batch-size", "-64"], 1, "batch_size must be at least 1"),
    "zero critic iters": (["train", "--critic-iters", "0"], 1, "critic_iters"),
    "negative lr": (["train", "--lr", "-0.1"], 1, "lr must be"),
    "nan lr": (["train", "--lr", "nan"], 1, "lr must be"),
    "inf gp lambda": (["train", "--gp-lambda", "inf"], 1, "gp_lambda"),
    "zero checkpoint interval": (["train", "--checkpoint-every", "0"], 1, "checkpoint_every"),
    "zero kept checkpoints": (["train", "--keep-checkpoints", "0"], 1, "keep_checkpoints"),
    "negative sample interval": (["train", "--sample-every", "-1"], 1, "sample_every"),
    "zero dim": (["train", "--dim", "0"], 1, "model.dim"),
    "zero seq len": (["train", "--seq-len", "0"], 1, "seq_len"),
    "tiny vocab": (["train", "--max-vocab", "2"], 1, "max_vocab"),
    "zero max lines": (["train", "--max-lines", "0"], 1, "max_lines"),
    "unknown preset": (["train", "--preset", "gpu-max"], 1, "unknown preset 'gpu-max'"),
    "unknown device": (["train", "--device", "tpu"], 1, "device 'tpu'"),
    "unknown device on resume": (["train", "--resume", "--out", R, "--device", "quantum"], 1,
                                 "device 'quantum'"),
    "unknown objective": (["train", "--objective", "hinge"], 1, "objective"),
    "unknown mode": (["train", "--mode", "audio"], 1, "unknown mode 'audio'"),
    "flag of another mode": (["train", "--dataset", "mnist"], 1, "unknown setting 'data.dataset'"),
    "flag no toy setting has": (["train", "--mode", "toy", "--data-dir", "d"], 1,
                                "unknown setting 'data.data_dir'"),
    "unknown precision": (["train", "--precision", "fp8"], 1, "precision"),
    "unknown tokenizer": (["train", "--tokenizer", "bpe"], 1, "tokenizer"),
    "unknown encoding errors": (["train", "--encoding-errors", "ignore"], 1, "encoding_errors"),
    "unknown corpus": (["train", "--corpus", "wikipedia"], 1, "unknown corpus"),
    "missing corpus path": (["train", "--corpus-path", "missing.txt"], 1, "does not exist"),
    "missing valid path": (["train", "--corpus-path", "corpus.txt", "--valid-path", "nope.txt"], 1,
                           "does not exist"),
    "synthetic with a path": (["train", "--corpus", "synthetic", "--corpus-path", "corpus.txt"], 1,
                              "synthetic"),
    "missing config file": (["train", "--config", "missing.toml"], 1, "does not exist"),
    "invalid config file": (["train", "--config", "bad.toml"], 1, "not valid TOML"),
    "unknown config key": (["train", "--config", "unknown.toml"], 1, "unknown setting 'train.stepz'"),
    "unknown config section": (["train", "--config", "typo.toml"], 1, "unknown section"),
    # data errors found while reading the corpus: still one line, and nothing left behind
    "invalid utf-8 corpus": (["train", "--corpus-path", "invalid.txt", *TINY], 1, "invalid UTF-8"),
    "blank corpus": (["train", "--corpus-path", "empty.txt", *TINY], 1, "no non-empty lines"),
    "corrupt gzip corpus": (["train", "--corpus-path", "garbage.gz", *TINY], 1, "gzip"),
    "truncated gzip corpus": (["prepare", "--corpus-path", "truncated.gz"], 1, "gzip"),
    "prepare invalid utf-8": (["prepare", "--corpus-path", "invalid.txt"], 1, "invalid UTF-8"),
    "late invalid utf-8": (["train", "--corpus-path", "late_invalid.txt", *TINY], 1, "line 70001"),
    "prepare late invalid utf-8": (["prepare", "--corpus-path", "late_invalid.txt"], 1,
                                   "line 70001"),
    "data dir is a file": (["prepare", "--corpus-path", "corpus.txt", "--data-dir", "corpus2.txt"],
                           1, "corpus2.txt"),
    "train data dir is a file": (["train", "--corpus-path", "corpus.txt", "--data-dir", "empty.txt",
                                  *TINY], 1, "empty.txt"),
    "runs dir is a file": (["train", "--corpus-path", "corpus.txt", "--runs-dir", "empty.txt",
                            *TINY], 1, "empty.txt"),
    "prepare missing path": (["prepare", "--corpus-path", "missing.txt"], 1, "does not exist"),
    "prepare zero seq len": (["prepare", "--seq-len", "0"], 1, "seq_len"),
    # run directories
    "out is a file": (["train", "--corpus-path", "corpus.txt", "--out", "corpus.txt"], 1, "is a file"),
    "out holds a run": (["train", "--corpus-path", "corpus.txt", "--out", R], 1, "already holds a run"),
    "resume nonexistent": (["train", "--resume", "--out", "nowhere"], 1, "cannot resume"),
    "resume a non-run": (["train", "--resume", "--out", "not_a_run"], 1, "not a run directory"),
    "resume with no runs": (["train", "--resume", "--runs-dir", "a_dir"], 1, "no runs found"),
    "resume changes the model": (["train", "--resume", "--out", R, "--dim", "16"], 1,
                                 "cannot change model.dim"),
    "resume changes the corpus": (["train", "--resume", "--out", R, "--corpus-path", "corpus2.txt"],
                                  1, "cannot change data.corpus_path"),
    "resume with bad steps": (["train", "--resume", "--out", R, "--steps", "-1"], 1, "steps must"),
    "resume other vocabulary": (["train", "--resume", "--out", "run_vocab", "--steps", "4",
                                 "--reschedule"], 1,
                                "another vocabulary"),
    "resume other config": (["train", "--resume", "--out", "run_config", "--steps", "4",
                                 "--reschedule"], 1,
                            "does not fit this run's models"),
    # sampling
    "sample nonexistent run": (["sample", "--run", "nowhere"], 1, "not a textgan run directory"),
    "sample a non-run": (["sample", "--run", "not_a_run"], 1, "not a textgan run directory"),
    "sample with no runs": (["sample", "--runs-dir", "a_dir"], 1, "no runs found"),
    "sample nonexistent checkpoint": (["sample", "--checkpoint", "nowhere.pt"], 1, "does not exist"),
    "sample a text file": (["sample", "--checkpoint", "corpus.txt"], 1, "corpus.txt"),
    "sample a directory": (["sample", "--checkpoint", "a_dir"], 1, "a_dir"),
    "sample bit rot": (["sample", "--checkpoint", "bitrot.pt"], 1, "sha256 mismatch"),
    "sample no footer": (["sample", "--checkpoint", "nofooter.pt"], 1, "no integrity footer"),
    "sample hollow checkpoint": (["sample", "--checkpoint", "hollow.pt"], 1, "not a usable text"),
    "sample alien mode": (["sample", "--checkpoint", "alien.pt"], 1, "unknown mode"),
    "sample no mode": (["sample", "--checkpoint", "nomode.pt"], 1, "has no mode"),
    "sample run and checkpoint": (["sample", "--run", R, "--checkpoint", "x.pt"], 1, "not both"),
    "sample zero n": (["sample", "--run", R, "-n", "0"], 1, "-n must be at least 1"),
    "sample zero temperature": (["sample", "--run", R, "--temperature", "0"], 1, "temperature"),
    "sample unknown device": (["sample", "--run", R, "--device", "gpu7"], 1, "device 'gpu7'"),
}


@pytest.mark.parametrize("args,code,needle", list(CASES.values()), ids=list(CASES))
def test_error_is_one_line_nonzero_and_writes_nothing(base, tmp_path, monkeypatch, capfd,
                                                      args, code, needle):
    work = tmp_path / "w"
    shutil.copytree(base, work)
    for corpus in ("corpus.txt", "corpus2.txt"):  # the same files: the prepared corpora still apply
        (work / corpus).unlink()
        (work / corpus).symlink_to(base / corpus)
    monkeypatch.chdir(work)
    before = snapshot(work)
    capfd.readouterr()
    assert run_cli(args) == code
    captured = capfd.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1, captured.err
    assert needle in captured.err, captured.err
    assert "Traceback" not in captured.err
    assert snapshot(work) == before  # no run dir, no prepared data, nothing changed


HOSTILE_FILES = {
    "invalid.txt": b"fine line\nbad \xff\xfe byte\n",
    "crlf_and_blanks_only.txt": b"\r\n\r\n \t \r\n",
    "garbage.gz": b"\x1f\x8b\x08\x00\xff\xff not gzip",
}


def test_real_processes_exit_nonzero_with_one_line(tmp_path):
    """The same through real ``textgan`` processes (the console entry point), in parallel."""
    for name, content in HOSTILE_FILES.items():
        (tmp_path / name).write_bytes(content)
    buf = io.BytesIO()
    torch.save({"format": 2, "mode": "text", "x": Exploit(tmp_path / "pwned")}, buf)
    payload = buf.getvalue()
    (tmp_path / "evil.pt").write_bytes(payload + FOOTER_MAGIC + hashlib.sha256(payload).digest()
                                       + len(payload).to_bytes(8, "little"))
    # Each its own (new) data dir: the processes run in parallel for speed, and a failed run
    # removes only a data dir it created itself.
    commands = [["prepare", "--corpus-path", name, "--data-dir", f"data-{i}"]
                for i, name in enumerate(HOSTILE_FILES)]
    commands += [["train", "--steps", "-3"], ["sample", "--checkpoint", "evil.pt"]]
    procs = [subprocess.Popen([sys.executable, "-m", "textgan.cli.main", *args], cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for args in commands]
    for args, proc in zip(commands, procs, strict=True):
        out, err = proc.communicate(timeout=300)
        assert proc.returncode in (1, 2), (args, err)
        assert out == "" and err.startswith("error: ") and err.count("\n") == 1, (args, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*HOSTILE_FILES, "evil.pt"])
    assert "refusing to load" in err  # the last command: the crafted checkpoint ran nothing


class Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))
