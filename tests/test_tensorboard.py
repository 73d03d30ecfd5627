"""TensorBoard logging: every metric of metrics.jsonl, at its step; a clear error without the package."""

import builtins
import math

import pytest

from textgan.cli.main import run
from textgan.core.run import Run
from textgan.errors import TextganError

pytest.importorskip("tensorboard")

from textgan.tensorboard import TensorBoardSink, read_scalars, require_tensorboard  # noqa: E402


def run_cli(*args: str) -> int:
    return run(list(args))


def test_sink_writes_every_scalar(tmp_path):
    sink = TensorBoardSink(tmp_path / "tb")
    sink.write(1, {"critic_loss": 2.5, "js4": 0.25, "flag": True, "note": "text"})
    sink.write(2, {"critic_loss": 1.5, "wasserstein": math.nan})
    sink.close()
    scalars = read_scalars(tmp_path / "tb")
    assert sorted(scalars) == ["critic_loss", "js4", "wasserstein"]
    assert scalars["critic_loss"] == [(1, 2.5), (2, 1.5)]
    assert scalars["js4"] == [(1, 0.25)]
    assert math.isnan(scalars["wasserstein"][0][1])


def test_sink_copies_an_earlier_log_in(tmp_path):
    run = Run(tmp_path / "run")
    run.write_config({"mode": "text"})
    for step in range(1, 6):
        run.log_metrics({"step": step, "critic_loss": float(step)})
    sink = TensorBoardSink.for_run(run, start_step=4)  # resumed at 4: step 5 will be redone
    sink.write(5, {"critic_loss": 50.0})
    sink.close()
    assert read_scalars(run.dir / "tensorboard")["critic_loss"] == [
        (1, 1.0), (2, 2.0), (3, 3.0), (4, 4.0), (5, 50.0)]


def test_train_with_tensorboard_logs_what_metrics_jsonl_logs(tmp_path):
    corpus = tmp_path / "text.txt"
    corpus.write_text("\n".join(f"line {i} of the cat and the dog" for i in range(200)) + "\n")
    out = tmp_path / "run"
    common = ["--corpus-path", str(corpus), "--data-dir", str(tmp_path / "data"), "--dim", "8",
              "--batch-size", "4", "--critic-iters", "1", "--seq-len", "8", "--eval-every", "0",
              "--sample-every", "0", "--checkpoint-every", "2", "--device", "cpu", "--tensorboard"]
    assert run_cli("train", "--out", str(out), "--steps", "3", *common) == 0
    (out / "checkpoints" / "step_00000003.pt").unlink()  # so the resume goes back to step 2
    assert run_cli("train", "--resume", "--out", str(out), "--steps", "5", "--tensorboard",
                   "--reschedule") == 0
    records = Run(out).read_metrics()
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5]
    scalars = read_scalars(out / "tensorboard")
    keys = {k for r in records for k in r if k != "step"}
    assert set(scalars) == keys
    for key in keys:
        # resumed at step 2: step 3 was logged twice, TensorBoard shows it once (the redo)
        assert [s for s, _ in scalars[key]] == [1, 2, 3, 4, 5], key
        assert [v for _, v in scalars[key]] == pytest.approx([r[key] for r in records], rel=1e-6)


def test_missing_package_is_one_line(tmp_path, monkeypatch, capsys):
    real_import = builtins.__import__

    def no_tensorboard(name, *args, **kwargs):
        if name.startswith("tensorboard") or name == "torch.utils.tensorboard":
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    with pytest.raises(TextganError, match=r"pip install 'textgan\[tensorboard\]'"):
        require_tensorboard()
    out = tmp_path / "run"
    assert run_cli("train", "--out", str(out), "--steps", "1", "--tensorboard",
                   "--data-dir", str(tmp_path / "data")) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'textgan[tensorboard]'" in err
    assert not out.exists() and not (tmp_path / "data").exists()  # nothing written
