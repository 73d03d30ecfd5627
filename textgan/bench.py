r"""Training-speed benchmark: textgan's generator iteration next to the straightforward one.

One *generator iteration* is ``critic_iters`` critic updates (each with the double-backward
gradient penalty) plus one generator update, on synthetic text ids (uniform over ``vocab``)
gathered like a prepared corpus. Reported per implementation:

* ``s_per_gen_iter``: median wall seconds over ``repeats`` timed iterations after ``warmup``
  untimed ones. The implementations are timed *interleaved* (A, B, A, B, ...) so that both see the
  same machine load; a matmul burst is timed in every round as well.
* ``gflop_per_gen_iter``: floating-point operations *counted* by intercepting every aten op of
  one iteration (``torch.utils.flop_counter``'s per-op formulas: convolutions, their backward and
  double backward, matmuls), not estimated by hand; ``gflops`` = that / ``s_per_gen_iter``.
* ``peak_rss_mb``: the peak resident set while that implementation warmed up (Linux: the
  high-water mark is reset between implementations through ``/proc/self/clear_refs``).

and once: ``matmul_peak_gflops``, an ``n × n`` matmul in the benchmark's precision on the same
device (median over rounds), so achieved GFLOP/s can be read as a fraction of what the hardware
delivers for dense matmuls. The reference implementation is :mod:`textgan.bench_reference`
(part of the package, so an installed textgan times it too).
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from textgan.config import check_limits, setting, settings_from
from textgan.core.trainer import TrainConfig
from textgan.device import resolve_device
from textgan.errors import ConfigError
from textgan.text.models import TextModelConfig
from textgan.text.prepare import TextDataConfig

SYNTHETIC_ROWS = 4096


@dataclass
@settings_from(TrainConfig, ("batch_size", "critic_iters", "precision", "critic_batching",
                             "device", "threads", "seed"), device="cpu")
@settings_from(TextModelConfig, ("dim", "blocks"), dim=128)
@settings_from(TextDataConfig, ("seq_len",))
class BenchConfig:
    """What to time: the training settings it shares with ``textgan train`` (the text model's
    DIM 128 instead of 512, on the cpu device) and its own."""

    vocab: int = setting(100, "Vocabulary size of the synthetic data.", flag=True, min=2)
    repeats: int = setting(5, "Timed generator iterations per implementation.", flag=True, min=1)
    warmup: int = setting(1, "Untimed iterations first.", flag=True, min=0)
    reference: bool = setting(True, "Also time the plain reference implementation "
                              "(textgan.bench_reference, fp32) in the same run.", flag=True)
    variants: list[str] = setting([], "Also time textgan with this change, in the same run: bf16, "
                                  "fp32, joint, separate, bf16-joint, joint-penalty "
                                  "(repeatable).", flag="variant")
    matmul_size: int = setting(1024, "n of the n × n matmul that measures the peak.", min=1)

    def validate(self) -> None:
        check_limits(self)  # (run_bench validates a config it did not get from apply_overrides)
        if self.precision not in ("fp32", "bf16"):
            raise ConfigError(f"unknown precision '{self.precision}'; use fp32 or bf16")
        for variant in self.variants:
            variant_overrides(variant)


VARIANTS: dict[str, dict[str, str]] = {
    "fp32": {"precision": "fp32"},
    "bf16": {"precision": "bf16"},
    "separate": {"critic_batching": "separate"},
    "joint": {"critic_batching": "joint"},
    "bf16-joint": {"precision": "bf16", "critic_batching": "joint"},
    "joint-penalty": {"critic_batching": "joint-penalty"},
}


def variant_overrides(name: str) -> dict[str, str]:
    if name not in VARIANTS:
        raise ConfigError(f"unknown variant '{name}'; choose from {', '.join(VARIANTS)}")
    return VARIANTS[name]


class _FlopCounter(TorchDispatchMode):
    """Sums ``flop_registry``'s formula for every aten op that has one.

    (``FlopCounterMode`` itself cannot be used here: its per-module tracker installs backward
    hooks that refuse ``autograd.grad`` on a leaf input, which is how the penalty is computed.)
    """

    def __init__(self) -> None:
        super().__init__()
        self.by_op: dict[str, int] = defaultdict(int)

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        packet = func._overloadpacket
        if packet in flop_registry:
            self.by_op[str(packet)] += int(flop_registry[packet](*args, **kwargs, out_val=out))
        return out

    @property
    def total(self) -> int:
        return sum(self.by_op.values())


def count_flops(fn: Callable[[], Any]) -> tuple[int, dict[str, int]]:
    """FLOPs of one call of ``fn`` (forward, backward and double backward alike), and by op."""
    counter = _FlopCounter()
    with counter:
        fn()
    return counter.total, dict(counter.by_op)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_gflops(device: torch.device, dtype: torch.dtype, n: int = 1024, reps: int = 3) -> float:
    r"""Best of ``reps`` ``n × n @ n × n`` products: $2n^3$ FLOP / seconds, in GFLOP/s."""
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=gen).to(device, dtype)
    b = torch.randn(n, n, generator=gen).to(device, dtype)
    a @ b
    best = float("inf")
    for _ in range(reps):
        _synchronize(device)
        start = time.perf_counter()
        a @ b
        _synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def _peak_rss_reset() -> bool:
    """Reset the kernel's peak-RSS mark for this process (Linux ≥ 4.0); False if unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float:
    """Peak resident set in MB: VmHWM (resettable) when available, else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def _process_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bf16_native(device: torch.device) -> bool:
    """Whether bf16 matmuls have hardware support (CUDA: compute capability ≥ 8; CPU:
    AVX512-BF16 or AMX). Without it, CPU bf16 runs emulated and far slower than fp32."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _textgan_step(cfg: BenchConfig, ids: np.ndarray, device: torch.device,
                  overrides: dict[str, str]) -> Callable[[], Any]:
    from textgan.core.trainer import TrainConfig, Trainer
    from textgan.text.mode import CorpusBatches
    from textgan.text.models import TextCritic, TextGenerator, TextModelConfig

    torch.manual_seed(cfg.seed)
    model = TextModelConfig(dim=cfg.dim, blocks=cfg.blocks)
    train = TrainConfig(batch_size=cfg.batch_size, critic_iters=cfg.critic_iters,
                        precision=cfg.precision, critic_batching=cfg.critic_batching,
                        seed=cfg.seed)
    for key, value in overrides.items():
        setattr(train, key, value)
    trainer = Trainer(TextGenerator(cfg.vocab, cfg.seq_len, model),
                      TextCritic(cfg.vocab, cfg.seq_len, model),
                      CorpusBatches(ids, cfg.vocab, cfg.seed), train, device)
    return trainer.train_step


def _reference_step(cfg: BenchConfig, ids: np.ndarray, device: torch.device) -> Callable[[], Any]:
    from textgan.bench_reference import ReferenceWGANGP

    ref = ReferenceWGANGP(ids, cfg.vocab, dim=cfg.dim, blocks=cfg.blocks,
                                 batch_size=cfg.batch_size, critic_iters=cfg.critic_iters,
                                 seed=cfg.seed, device=device)
    return ref.step


def run_bench(cfg: BenchConfig, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Time, count and measure every implementation; one JSON-able dict (see module doc)."""
    cfg.validate()
    say = progress or (lambda message: None)
    device = resolve_device(cfg.device)
    if cfg.threads:  # (0: torch's default)
        torch.set_num_threads(cfg.threads)
    rng = np.random.default_rng(cfg.seed)
    dtype = np.uint8 if cfg.vocab <= 256 else np.uint16
    ids = rng.integers(0, cfg.vocab, size=(SYNTHETIC_ROWS, cfg.seq_len), dtype=dtype)
    notes: list[str] = []

    steps: dict[str, Callable[[], Any]] = {}
    precisions: dict[str, str] = {}
    steps["textgan"] = _textgan_step(cfg, ids, device, {})
    precisions["textgan"] = cfg.precision
    for variant in cfg.variants:
        overrides = variant_overrides(variant)
        steps[f"textgan-{variant}"] = _textgan_step(cfg, ids, device, overrides)
        precisions[f"textgan-{variant}"] = overrides.get("precision", cfg.precision)
    if cfg.reference:
        steps["reference"] = _reference_step(cfg, ids, device)
        precisions["reference"] = "fp32"
    if "bf16" in precisions.values() and not bf16_native(device):
        notes.append(f"this {device.type} has no native bf16 matmul support (no AVX512-BF16/AMX): "
                     "bf16 runs emulated and is expected to be slower than fp32")

    results: dict[str, dict[str, Any]] = {}
    can_reset = _peak_rss_reset()
    for name, step in steps.items():
        say(f"warming up {name}")
        _peak_rss_reset()
        for _ in range(cfg.warmup):
            step()
        _synchronize(device)
        say(f"counting FLOPs of {name}")
        flops, by_op = count_flops(step)
        results[name] = {"precision": precisions[name], "gflop_per_gen_iter": flops / 1e9,
                         "flop_by_op": by_op,
                         "peak_rss_mb": round(_peak_rss_mb(), 1) if can_reset else None}

    times: dict[str, list[float]] = {name: [] for name in steps}
    cpu_times: dict[str, list[float]] = {name: [] for name in steps}
    torch_dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16}
    peaks: dict[str, list[float]] = {p: [] for p in sorted(set(precisions.values()))}
    load_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    for r in range(cfg.repeats):
        for precision in peaks:
            # Emulated bf16 is ~50x slower than fp32: a smaller product keeps the probe short.
            n = cfg.matmul_size if precision == "fp32" or bf16_native(device) else 256
            peaks[precision].append(matmul_gflops(device, torch_dtypes[precision], n))
        for name, step in steps.items():
            say(f"round {r + 1}/{cfg.repeats}: {name}")
            _synchronize(device)
            wall, cpu = time.perf_counter(), time.process_time()
            step()
            _synchronize(device)
            times[name].append(time.perf_counter() - wall)
            cpu_times[name].append(time.process_time() - cpu)
    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else None

    for name, res in results.items():
        s = statistics.median(times[name])
        res["s_per_gen_iter"] = s
        res["s_per_gen_iter_all"] = [round(t, 4) for t in times[name]]
        res["cpu_s_per_gen_iter"] = statistics.median(cpu_times[name])
        res["gflops"] = res["gflop_per_gen_iter"] / s
        res["fraction_of_matmul_peak"] = res["gflops"] / statistics.median(peaks[res["precision"]])
    main = results["textgan"]
    out: dict[str, Any] = {
        "config": {k: v for k, v in cfg.__dict__.items()},
        "device": str(device),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability() if device.type == "cpu" else None,
        "bf16_native": bf16_native(device),
        "load_avg_1min": [load_start, load_end],
        "s_per_gen_iter": main["s_per_gen_iter"],
        "peak_rss_mb": round(_process_peak_rss_mb(), 1),
        "gflop_per_gen_iter": main["gflop_per_gen_iter"],
        "gflops": main["gflops"],
        "matmul_peak_gflops": {p: statistics.median(v) for p, v in peaks.items()},
        "implementations": results,
        "notes": notes,
    }
    if "reference" in results:
        ref_s = results["reference"]["s_per_gen_iter"]
        out["speedup_vs_reference"] = {name: ref_s / res["s_per_gen_iter"]
                                       for name, res in results.items() if name != "reference"}
    return out
