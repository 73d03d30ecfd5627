"""Runs sized to a wall-clock budget (--time-budget), and learning-rate schedules that survive
--resume (recorded when a run starts; --reschedule re-sizes them).

The budget's arithmetic is tested on a faked clock: every training step advances it by a set
number of seconds, hooks and checkpoints by theirs, so the chosen steps are exact numbers. One
real-time run checks the whole thing end to end with a budget of a few seconds.
"""

from __future__ import annotations

import json
import time
import tomllib
from pathlib import Path

import pytest
import torch

from textgan.cli.main import run as run_cli
from textgan.core.budget import MARGIN, SKIP_STEPS, TIMED_STEPS, Stopwatch, TimeBudget
from textgan.core.checkpoint import load_checkpoint
from textgan.core.trainer import TrainConfig, linear_decay, parse_duration, resize_schedule
from textgan.errors import ConfigError
from textgan.training import TrainingSession, resolve_config, resume_training, start_training

SENTENCES = ["the cat sat .", "a dog ran .", "we like tea ."]


def config(tmp_path: Path, **train: object):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(SENTENCES * 200) + "\n")
    return resolve_config("text", "cpu", None, {
        "train": {"batch_size": 8, "seed": 0, "device": "cpu", "eval_every": 0,
                  "sample_every": 0, "checkpoint_every": 2, **train},
        "model": {"dim": 8, "blocks": 1},
        "data": {"corpus_path": str(corpus), "data_dir": str(tmp_path / "data"), "seq_len": 12},
    })


def saved_config(run: Path) -> dict:
    return tomllib.loads((run / "config.toml").read_text())["train"]


class FakeClock:
    """Seconds that pass only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fake_time(session: TrainingSession, clock: FakeClock, step: float | list[float],
              hook: float = 0.0, checkpoint: float = 0.0) -> None:
    """Each training step takes ``step`` seconds (a list: per step, from the session's first),
    each hook call ``hook``, each checkpoint ``checkpoint``."""
    trainer, store = session.trainer, session.run.checkpoints
    train_step, save = trainer.train_step, store.save
    steps = iter(step) if isinstance(step, list) else None

    def timed_step():
        clock.now += next(steps) if steps is not None else step
        return train_step()

    def timed_save(*args, **kwargs):
        clock.now += checkpoint
        return save(*args, **kwargs)

    def timed_hook(fn):
        def call(n):
            clock.now += hook
            return fn(n)
        return call

    trainer.train_step, store.save = timed_step, timed_save
    for h in session.setup.hooks:
        h.fn = timed_hook(h.fn)
    session.clock = clock


def rates(session: TrainingSession, **kwargs) -> list[tuple[int, float]]:
    """(step index from 0, the generator's rate it trained with) of every step of the session."""
    seen = []
    for event in session.events(**kwargs):
        seen.append((event.step - 1, session.trainer.opt_g.param_groups[0]["lr"]))
    return seen


# -- durations -------------------------------------------------------------------------------

def test_durations_parse_and_a_bad_one_names_the_flag() -> None:
    assert [parse_duration(t) for t in ("40m", "1800s", "1.5h", "90", " 2.5 M ", "", "0")] == [
        2400.0, 1800.0, 5400.0, 90.0, 150.0, 0.0, 0.0]
    for bad in ("forty", "10 d", "-5m", "1e3", "m"):
        with pytest.raises(ConfigError, match="--time-budget"):
            parse_duration(bad)


def test_cli_bad_budget_is_one_line_naming_the_flag(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert run_cli(["train", "--time-budget", "soon", "--out", str(tmp_path / "r")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--time-budget 'soon' is not a duration" in err
    assert not (tmp_path / "r").exists()
    assert run_cli(["train", "--time-budget", "5m", "--steps", "10"]) == 1
    assert "--steps or --time-budget, not both" in capsys.readouterr().err
    assert run_cli(["train", "--reschedule"]) == 1
    assert "use it with --resume" in capsys.readouterr().err


# -- the budget's arithmetic ----------------------------------------------------------------

def test_decision_adds_amortised_hooks_and_checkpoints_and_keeps_a_margin() -> None:
    clock = FakeClock()
    budget = TimeBudget(100.0, Stopwatch(0.0, clock), start_step=0, steps=5000)
    for step in range(1, 11):  # 2 skipped, 8 timed at 0.5 s
        budget.observe_step(step, 9.0 if step <= SKIP_STEPS else 0.5)
    assert budget.timed == [0.5] * TIMED_STEPS
    budget.hook_costs, budget.checkpoint_cost = {0: 2.0, 1: 1.0}, 0.8
    clock.now += 30.0
    decision = budget.decide(11, {0: 10, 1: 0}, checkpoint_every=4)  # hook 1 is off
    # per step 0.5 + 2/10 + 0.8/4 = 0.9; (70 - max(3.5, 3 * 0.5) - (0.8 + 2)) / 0.9 = 70.77...
    assert (decision.sec_per_step, decision.overhead_per_step) == (0.5, pytest.approx(0.4))
    assert decision.reserved == pytest.approx(2.8) and decision.spent == 30.0
    assert decision.steps == 11 + 70 and (MARGIN, decision.margin) == (0.05, pytest.approx(3.5))
    assert "training to step 81 (was 5,000)" in decision.describe()
    # a resume with the budget it was sized for keeps its steps when they fit
    keep = TimeBudget(100.0, Stopwatch(30.0, clock), start_step=0, steps=60, keep=True)
    keep.timed = [0.5]
    assert keep.decide(11, {}, checkpoint_every=4).steps == 60


def test_budget_run_on_a_fake_clock(tmp_path: Path) -> None:
    session = start_training(config(tmp_path, time_budget="60s", sample_every=5),
                             out=tmp_path / "run")
    assert saved_config(tmp_path / "run")["schedule_steps"] == 0  # not sized yet
    clock = FakeClock()
    fake_time(session, clock, step=1.0, hook=2.0, checkpoint=0.5)
    seen, decisions = [], []
    for event in session.events():
        seen.append((event.step - 1, session.trainer.opt_g.param_groups[0]["lr"]))
        if event.budget is not None:
            decisions.append(event.budget)
    # sized at step 11 = 2 skipped + 8 timed + 1: then every hook ran once and a checkpoint was
    # written; spent 11 steps + hooks at 5, 10, 11 + checkpoints at 2..10 and 11 = 20 s.
    (decision,) = decisions
    assert (decision.step, decision.spent, decision.sec_per_step) == (11, 20.0, 1.0)
    # per step 1 + 2/5 + 0.5/2 = 1.65; margin max(5% of 40, 3 steps) = 3: (37 - 2.5) / 1.65 = 20.9
    assert decision.steps == 31 and session.trainer.step == 31
    train = saved_config(tmp_path / "run")
    assert (train["time_budget"], train["steps"], train["schedule_steps"]) == ("60s", 31, 31)
    assert (train["decay_from_step"], train["decay_from_factor"]) == (11, 1.0)
    last = load_checkpoint(tmp_path / "run" / "checkpoints" / "step_00000031.pt")
    assert last["config"]["train"]["steps"] == 31
    # 20 s + 20 steps + hooks at 15, 20, 25, 30 + 10 checkpoints (12..30) = 53 s, and 0.5 s for
    # the last checkpoint (which records the seconds before its own writing): 53.5 s of 60
    assert last["training_seconds"] == 53.0
    # full rates while timing, then linear from step 11 to 0 at step 31
    lr = session.config.train.lr
    assert [r for t, r in seen if t < 11] == [lr] * 11
    assert [r for t, r in seen if t >= 11] == pytest.approx(
        [lr * (1 - (t - 11) / 20) for t in range(11, 31)])
    assert sorted(p.name for p in (tmp_path / "run" / "samples").iterdir())[:3] == [
        "step_00000005.txt", "step_00000010.txt", "step_00000011.txt"]


def test_backstop_stops_with_a_checkpoint_when_steps_get_slower(tmp_path: Path) -> None:
    session = start_training(config(tmp_path, time_budget="40s"), out=tmp_path / "run")
    clock = FakeClock()
    fake_time(session, clock, step=[1.0] * 11 + [3.0] * 100)
    events = list(session.events())
    # sized at step 11 for 1 s/step: (29 - 3) / 1 = 26 → step 37; at 3 s/step the budget ends
    # first: after step 20, 11 + 9 * 3 = 38 s spent, and another step would pass 40
    assert session.config.train.steps == 37
    assert events[-1].step == 20 and "time budget spent at step 20 (planned: 37)" in events[-1].notes
    state = load_checkpoint(tmp_path / "run" / "checkpoints" / "step_00000020.pt")
    assert state["training_seconds"] == 38.0
    # a resume gets the 2 s left; its first step (3 s) overruns them, and it stops after it
    resumed = resume_training(tmp_path / "run")
    assert "time budget 40s: 38.0 s trained, 2.0 s left" in resumed.notes
    fake_time(resumed, FakeClock(), step=3.0)
    assert [(e.step, e.notes) for e in resumed.events()] == [
        (21, ["time budget spent at step 21 (planned: 37)"])]
    # ... and the next resume finds the budget spent: nothing to train
    spent = resume_training(tmp_path / "run")
    assert any("time budget 40s is spent (41.0 s trained)" in n for n in spent.notes)
    assert list(spent.events()) == [] and spent.trainer.step == 21


def test_resume_of_a_budget_run_gets_what_is_left(tmp_path: Path) -> None:
    session = start_training(config(tmp_path, time_budget="60s"), out=tmp_path / "run")
    clock = FakeClock()
    fake_time(session, clock, step=1.0)
    list(session.events(should_stop=lambda: session.trainer.step >= 15))
    # sized at 11: (49 - max(2.45, 3)) / 1 = 46 → step 57
    assert session.config.train.steps == 57
    schedule = {k: saved_config(tmp_path / "run")[k]
                for k in ("steps", "schedule_steps", "decay_from_step", "decay_from_factor")}
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "step_00000015.pt")[
        "training_seconds"] == 15.0
    # same speed: the recorded schedule still fits in the 45 s left, and stays exactly
    resumed = resume_training(tmp_path / "run")
    assert "time budget 60s: 15.0 s trained, 45.0 s left" in resumed.notes
    fake_time(resumed, FakeClock(), step=1.0)
    list(resumed.events(should_stop=lambda: resumed.trainer.step >= 30))
    assert {k: saved_config(tmp_path / "run")[k] for k in schedule} == schedule
    # twice as slow: 30 s left at step 30 → re-sized from the rate of step 41 (after timing)
    again = resume_training(tmp_path / "run")
    fake_time(again, FakeClock(), step=2.0)
    seen = rates(again)
    train = saved_config(tmp_path / "run")
    # 30 s - 11 steps * 2 s = 8 s left at step 41: (8 - 3 * 2) / 2 = 1 → step 42
    assert (train["steps"], train["schedule_steps"], train["decay_from_step"]) == (42, 42, 41)
    f = 1 - (41 - 11) / (57 - 11)
    assert train["decay_from_factor"] == pytest.approx(f)
    lr = again.config.train.lr
    assert [r for _, r in seen] == pytest.approx(
        [lr * (1 - (t - 11) / 46) for t in range(30, 41)]
        + [lr * f])
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "step_00000042.pt")[
        "training_seconds"] == 15.0 + 15.0 + 24.0


def test_real_time_budget_ends_within_it(tmp_path: Path, capsys) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(SENTENCES * 100) + "\n")
    budget = 4.0
    started = time.monotonic()
    assert run_cli(["train", "--corpus-path", str(corpus), "--data-dir", str(tmp_path / "data"),
                    "--out", str(tmp_path / "run"), "--time-budget", f"{budget:g}s", "--dim", "8",
                    "--seq-len", "12", "--batch-size", "8", "--device", "cpu",
                    "--checkpoint-every", "50", "--eval-every", "0", "--sample-every", "0",
                    "--threads", "1"]) == 0
    wall = time.monotonic() - started
    err = capsys.readouterr().err
    train = saved_config(tmp_path / "run")
    assert train["time_budget"] == "4s" and "time budget 4 s: training to step" in err
    steps = train["steps"]
    assert steps == train["schedule_steps"] > SKIP_STEPS + TIMED_STEPS + 1
    newest = max((tmp_path / "run" / "checkpoints").glob("step_*.pt"))
    state = load_checkpoint(newest)
    assert state["training_seconds"] <= budget
    # the planned step, or an earlier one where the backstop stopped a run that slowed down
    assert state["step"] == steps or (state["step"] < steps and "time budget spent at step" in err)
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text()
               .splitlines()]
    assert records[-1]["step"] == state["step"]
    # start-up (imports done, corpus preparation, model building) is not part of the budget
    assert wall <= budget + 30.0


# -- schedules across --resume ----------------------------------------------------------------

def test_a_new_run_records_its_schedule(tmp_path: Path) -> None:
    start_training(config(tmp_path, steps=6), out=tmp_path / "run")
    train = saved_config(tmp_path / "run")
    assert (train["schedule_steps"], train["decay_from_step"], train["decay_from_factor"]) == (
        6, 0, 1.0)


def test_resume_keeps_the_recorded_schedule_bit_identically(tmp_path: Path) -> None:
    straight = start_training(config(tmp_path, steps=6), out=tmp_path / "a")
    list(straight.events())
    cut = start_training(config(tmp_path, steps=6), out=tmp_path / "b")
    list(cut.events(should_stop=lambda: cut.trainer.step >= 2))
    # resumed to fewer steps: the rates stay those of the 6-step schedule, and it says so
    short = resume_training(tmp_path / "b", overrides={"train": {"steps": 4}})
    assert any("reaches rate 0 at step 6; this run stops at step 4 at 0.333" in n
               for n in short.notes)
    lr = short.config.train.lr
    assert rates(short) == [(2, pytest.approx(lr * (1 - 2 / 6))),
                            (3, pytest.approx(lr * (1 - 3 / 6)))]
    assert saved_config(tmp_path / "b")["schedule_steps"] == 6
    resumed = resume_training(tmp_path / "b", overrides={"train": {"steps": 6}})
    list(resumed.events())
    a = load_checkpoint(tmp_path / "a" / "checkpoints" / "step_00000006.pt")
    b = load_checkpoint(tmp_path / "b" / "checkpoints" / "step_00000006.pt")
    for part in ("generator", "generator_ema", "critic", "opt_g", "opt_d"):
        assert _flat(a[part]).keys() == _flat(b[part]).keys()
        for key, value in _flat(a[part]).items():
            assert torch.equal(value, _flat(b[part])[key]) if torch.is_tensor(value) else (
                value == _flat(b[part])[key]), (part, key)


def _flat(tree, prefix=""):
    if isinstance(tree, dict):
        out = {}
        for k, v in tree.items():
            out.update(_flat(v, f"{prefix}/{k}"))
        return out
    if isinstance(tree, (list, tuple)):
        out = {}
        for i, v in enumerate(tree):
            out.update(_flat(v, f"{prefix}[{i}]"))
        return out
    return {prefix: tree}


def test_resume_past_the_schedule_is_refused_without_reschedule(tmp_path: Path, capsys) -> None:
    run = tmp_path / "run"
    list(start_training(config(tmp_path, steps=4), out=run).events())
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    assert run_cli(["train", "--resume", "--out", str(run), "--steps", "8"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--steps 8 goes past the end of" in err and "add --reschedule" in err
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before
    # a recorded schedule is not a setting to change on resume
    with pytest.raises(ConfigError, match="recorded when the run started"):
        resume_training(run, overrides={"train": {"schedule_steps": 8}})


def test_reschedule_decays_from_the_current_rate_to_zero_and_survives_resume(
        tmp_path: Path) -> None:
    def first_four(out: Path) -> None:
        session = start_training(config(tmp_path, steps=6, warmup_steps=2), out=out)
        list(session.events(should_stop=lambda: session.trainer.step >= 4))

    first_four(tmp_path / "a")
    resized = resume_training(tmp_path / "a", overrides={"train": {"steps": 10}}, reschedule=True)
    f = 1 - 4 / 6  # the rate step 4 had in the 6-step schedule
    assert any(f"from {f:.4g} × their base at step 4 to 0 at step 10" in n for n in resized.notes)
    lr, lr_d = resized.config.train.lr, resized.config.train.lr_critic
    seen = []
    for _ in resized.events():
        trainer = resized.trainer
        seen.append((trainer.opt_g.param_groups[0]["lr"], trainer.opt_d.param_groups[0]["lr"]))
    expected = [f * (1 - (t - 4) / 6) for t in range(4, 10)]
    assert [g for g, _ in seen] == pytest.approx([lr * e for e in expected])
    assert [d for _, d in seen] == pytest.approx([lr_d * e for e in expected])
    train = saved_config(tmp_path / "a")
    assert (train["steps"], train["schedule_steps"], train["decay_from_step"]) == (10, 10, 4)
    assert train["decay_from_factor"] == f  # exactly: TOML keeps the float
    # the re-sized schedule survives a resume: cut at 7, resumed, equals a straight run
    first_four(tmp_path / "b")
    cut = resume_training(tmp_path / "b", overrides={"train": {"steps": 10}}, reschedule=True)
    list(cut.events(should_stop=lambda: cut.trainer.step >= 7))
    again = resume_training(tmp_path / "b")
    assert again.config.train.decay_from_factor == f and again.trainer.step == 7
    list(again.events())
    a = load_checkpoint(tmp_path / "a" / "checkpoints" / "step_00000010.pt")
    b = load_checkpoint(tmp_path / "b" / "checkpoints" / "step_00000010.pt")
    for part in ("generator", "generator_ema", "critic"):
        for key, value in a[part].items():
            assert torch.equal(value, b[part][key]), (part, key)


def test_reschedule_needs_a_linear_schedule_and_no_budget(tmp_path: Path) -> None:
    list(start_training(config(tmp_path, steps=2, lr_schedule="constant"),
                        out=tmp_path / "c").events())
    with pytest.raises(ConfigError, match="has a constant one"):
        resume_training(tmp_path / "c", overrides={"train": {"steps": 4}}, reschedule=True)
    resume_training(tmp_path / "c", overrides={"train": {"steps": 4}})  # constant: no limit
    start_training(config(tmp_path, time_budget="1h"), out=tmp_path / "t")
    with pytest.raises(ConfigError, match="drop --reschedule"):
        resume_training(tmp_path / "t", reschedule=True)
    with pytest.raises(ConfigError, match="--time-budget 0"):
        resume_training(tmp_path / "t", overrides={"train": {"steps": 9}})


def test_run_without_a_recorded_schedule_resumes_as_started(tmp_path: Path) -> None:
    """config.toml written before schedules were recorded: the schedule is the steps it has."""
    run = tmp_path / "run"
    session = start_training(config(tmp_path, steps=6), out=run)
    list(session.events(should_stop=lambda: session.trainer.step >= 2))
    text = (run / "config.toml").read_text()
    old = "\n".join(line for line in text.splitlines()
                    if not line.startswith(("schedule_steps", "decay_from", "time_budget")))
    (run / "config.toml").write_text(old + "\n")
    with pytest.raises(ConfigError, match="rate 0 at step 6"):
        resume_training(run, overrides={"train": {"steps": 9}})
    resumed = resume_training(run)
    lr = resumed.config.train.lr
    assert rates(resumed) == [(t, pytest.approx(lr * (1 - t / 6))) for t in range(2, 6)]
    assert saved_config(run)["schedule_steps"] == 6


def test_linear_decay_formula() -> None:
    cfg = TrainConfig(steps=10, lr_schedule="linear", schedule_steps=10)
    assert [linear_decay(cfg, t) for t in (0, 5, 10, 12)] == [1.0, 0.5, 0.0, 0.0]
    resize_schedule(cfg, 4, 12)  # from 0.6 at step 4 to 0 at step 12
    assert (cfg.steps, cfg.schedule_steps, cfg.decay_from_step) == (12, 12, 4)
    assert [linear_decay(cfg, t) for t in (4, 8, 12)] == pytest.approx([0.6, 0.3, 0.0])
    # not sized yet by its budget: full rate; never recorded (a bare Trainer): steps
    assert linear_decay(TrainConfig(steps=10, lr_schedule="linear", time_budget="1m"), 5) == 1.0
    assert linear_decay(TrainConfig(steps=10, lr_schedule="linear"), 5) == 0.5


# -- torchrun ----------------------------------------------------------------------------------

def test_budget_under_torchrun_rank_0_sizes_and_every_rank_trains_to_it(tmp_path: Path) -> None:
    from test_train_torchrun import TINY, assert_ranks_hold, steps_logged, torchrun

    corpus = tmp_path / "text.txt"
    corpus.write_text("\n".join(SENTENCES * 100) + "\n")
    (tmp_path / "dump").mkdir()
    result = torchrun(tmp_path, "--corpus-path", str(corpus), "--data-dir", "data", "--out", "run",
                      "--time-budget", "8s", "--checkpoint-every", "100", *TINY,
                      TEXTGAN_DEBUG_RANK_STATE_DIR=str(tmp_path / "dump"))
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("time budget 8 s: training to step") == 1  # rank 0 says it
    train = saved_config(tmp_path / "run")
    steps = train["steps"]
    assert train["time_budget"] == "8s" and train["schedule_steps"] == steps > 11
    # Every step once, to the planned step, or earlier when a loaded machine slowed the steps
    # down after sizing and the backstop stopped the run (with a checkpoint) inside the budget.
    logged = steps_logged(tmp_path / "run")
    assert logged == list(range(1, len(logged) + 1)) and 11 < len(logged) <= steps
    assert len(logged) == steps or "time budget spent at step" in result.stderr
    newest = max((tmp_path / "run" / "checkpoints").glob("step_*.pt"))
    assert load_checkpoint(newest)["step"] == len(logged)
    assert load_checkpoint(newest)["training_seconds"] <= 8.0
    assert_ranks_hold(newest, tmp_path / "dump")  # both ranks took the same steps
