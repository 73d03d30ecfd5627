"""The benchmark's counting and reporting (values and structure; never timings)."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from textgan.bench import BenchConfig, count_flops, run_bench
from textgan.cli.main import main
from textgan.config import apply_overrides
from textgan.errors import ConfigError

TINY = dict(dim=8, batch_size=4, critic_iters=2, seq_len=6, vocab=7, blocks=1, repeats=1,
            warmup=1, threads=1, matmul_size=64)


def cli(argv: list[str]) -> int:
    """Exit code of ``textgan ARGV`` (0 when main returns without exiting)."""
    try:
        main(argv)
    except SystemExit as done:
        return int(done.code or 0)
    return 0


def test_count_flops_matmul_and_conv_exact() -> None:
    a, b = torch.randn(3, 5), torch.randn(5, 7)
    assert count_flops(lambda: a @ b)[0] == 2 * 3 * 5 * 7
    x, w = torch.randn(2, 4, 10), torch.randn(6, 4, 3)
    # Conv1d: 2 · B · C_out · C_in · K · L_out
    assert count_flops(lambda: F.conv1d(x, w, padding=1))[0] == 2 * 2 * 6 * 4 * 3 * 10


def test_count_flops_sees_the_double_backward() -> None:
    w = torch.randn(5, 5, requires_grad=True)

    def penalty() -> None:
        x = torch.randn(4, 5, requires_grad=True)
        (g,) = torch.autograd.grad((x @ w).tanh().sum(), x, create_graph=True)
        g.norm().backward()

    flops, by_op = count_flops(penalty)
    # forward mm, the input-gradient mm, and the backward of that mm (two more) at least
    assert flops >= 4 * 2 * 4 * 5 * 5
    assert set(by_op) == {"aten.mm"}


def test_run_bench_reports_every_field() -> None:
    result = run_bench(BenchConfig(**TINY, variants=["joint"]))
    for key in ("s_per_gen_iter", "peak_rss_mb", "gflop_per_gen_iter", "gflops",
                "matmul_peak_gflops", "speedup_vs_reference", "threads", "load_avg_1min"):
        assert key in result, key
    impls = result["implementations"]
    assert set(impls) == {"textgan", "textgan-joint", "reference"}
    assert result["threads"] == 1
    for res in impls.values():
        assert res["s_per_gen_iter"] > 0 and res["gflop_per_gen_iter"] > 0
    # Same math, same counted work: joint batching only regroups the real/fake passes.
    assert impls["textgan-joint"]["gflop_per_gen_iter"] == pytest.approx(
        impls["textgan"]["gflop_per_gen_iter"])
    # textgan freezes the critic in the generator step: never more work than the reference.
    assert impls["textgan"]["gflop_per_gen_iter"] < impls["reference"]["gflop_per_gen_iter"]
    json.dumps(result)


def test_cli_bench_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["bench", "--dim", "8", "--batch-size", "4", "--critic-iters", "1", "--seq-len",
                "6", "--vocab", "7", "--repeats", "1", "--threads", "1", "--no-reference",
                "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["config"]["dim"] == 8 and "reference" not in out["implementations"]
    assert out["gflop_per_gen_iter"] > 0


def test_cli_bench_bad_precision_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["bench", "--precision", "fp16", "--repeats", "1"]) == 1
    err = capsys.readouterr().err.strip()
    # the setting's type (Literal["fp32", "bf16"]) names the choices
    assert err.startswith("error: bench.precision must be one of fp32, bf16; got 'fp16'")
    assert "\n" not in err


def test_bench_config_rejects_unknown_variant() -> None:
    with pytest.raises(ConfigError, match="unknown variant"):
        BenchConfig(variants=["fast"]).validate()


def test_bench_settings_are_the_training_settings():
    """The settings bench shares with training are those fields (type, help, flag, limits); only
    the defaults it states itself differ."""
    import dataclasses
    import typing

    from textgan.core.trainer import TrainConfig
    from textgan.text.models import TextModelConfig
    from textgan.text.prepare import TextDataConfig

    bench = {f.name: f for f in dataclasses.fields(BenchConfig)}
    hints = typing.get_type_hints(BenchConfig)
    changed = {}
    for source, names in ((TrainConfig, ("batch_size", "critic_iters", "precision",
                                          "critic_batching", "device", "threads", "seed")),
                          (TextModelConfig, ("dim", "blocks")), (TextDataConfig, ("seq_len",))):
        theirs = {f.name: f for f in dataclasses.fields(source)}
        for name in names:
            assert bench[name].metadata == theirs[name].metadata, name
            assert hints[name] == typing.get_type_hints(source)[name], name
            if bench[name].default != theirs[name].default:
                changed[name] = bench[name].default
    assert changed == {"dim": 128, "device": "cpu"}
    with pytest.raises(ConfigError, match="^bench.batch_size must be at least 1, got 0$"):
        apply_overrides(BenchConfig(), {"batch_size": 0}, "bench")
    with pytest.raises(ConfigError, match="^vocab must be at least 2, got 1$"):
        BenchConfig(vocab=1).validate()
