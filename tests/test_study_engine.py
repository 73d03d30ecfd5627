"""The study engine: Optuna bookkeeping, worker processes, retry of a killed worker's trial,
one-line errors, the outcome table."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from test_image_conditional import write_labelled_idx

from textgan.cli.main import run
from textgan.core.run import Run
from textgan.errors import ConfigError
from textgan.study.engine import create_study, resolve_study, run_study
from textgan.study.outcomes import PAPER_TABLE2, outcome_table, summarise, trials
from textgan.study.spaces import draw_architectures, load_space


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    labels = [i % 10 for i in range(200)]
    write_labelled_idx(root / "fashion-mnist", labels, labels[:50])
    return root


def settings(data: Path, **more) -> dict:
    base = {"architectures": 1, "steps": 6, "checkpoint_every": 2, "width_scale": 1 / 32,
            "batch_size": 4, "score_images": 20, "data_path": str(data / "fashion-mnist"),
            "data_dir": str(data), "heartbeat": 1, "seed": 3}
    return base | more


@pytest.mark.slow
def test_two_trials_two_workers_each_trial_runs_once(tmp_path, data):
    # no worker dies here: a long heartbeat keeps a loaded machine's late beats from failing a
    # live trial
    facts = run_study(tmp_path / "s", settings(data, workers=2, heartbeat=30), poll=0.5,
                      command="textgan study run s --workers 2")
    assert facts["states"] == {"complete": 2}
    rows = trials(tmp_path / "s")
    assert sorted(r["arm"] for r in rows) == ["gan", "wgan-gp"]
    assert [r["original"] for r in rows] == [r["trial"] for r in rows]
    assert not any(r["resumed"] for r in rows)
    for r in rows:
        steps = [m["step"] for m in Run(tmp_path / "s" / r["run_dir"]).read_metrics()]
        assert steps == [1, 2, 3, 4, 5, 6]  # trained once, start to end
        assert r["score"] >= 1.0
    # joining the finished study enqueues nothing more
    create_study(tmp_path / "s", resolve_study(tmp_path / "s", {"workers": 1}))
    assert len(trials(tmp_path / "s")) == 2
    out = summarise(tmp_path / "s", tmp_path / "results", "t")
    assert (tmp_path / "results" / "t.json").is_file() and Path(out["figure"]).is_file()
    # the figure sits beside a result written elsewhere, named relatively, and the notes say
    # which `study run` command ran the trials
    written = json.loads((tmp_path / "results" / "t.json").read_text())
    assert written["results"]["figure"] == "t.png"
    assert (tmp_path / "results" / "t.png").read_bytes().startswith(b"\x89PNG")
    assert str(tmp_path) not in written["results"]["figure"]
    assert "Trials run by: `textgan study run s --workers 2`." in written["notes"]
    assert sum(out["table"][0][k] for k in ("only GAN", "only WGAN-GP", "both", "neither")) == 1


def _worker(directory: Path, env: dict | None = None) -> subprocess.Popen:
    """A worker process beating every 2 s (the heartbeat is a worker's setting, not saved with
    the study: at the default 60 s a killed worker's trial would wait 120 s to be retried)."""
    code = ("import sys; from textgan.study.engine import worker; "
            "worker(sys.argv[1], {'heartbeat': 2}, poll=0.5)")
    return subprocess.Popen([sys.executable, "-c", code, str(directory)],
                            env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})


def _final_generator(run_dir: Path) -> dict:
    path = max((run_dir / "checkpoints").glob("step_*.pt"))
    return torch.load(path, weights_only=False)["generator"]


@pytest.mark.slow
def test_killed_worker_trial_is_retried_and_resumes_from_its_checkpoint(tmp_path, data):
    cfg = settings(data, steps=8, checkpoint_every=4)
    for name in ("killed", "whole"):
        create_study(tmp_path / name, resolve_study(tmp_path / name, cfg))
    whole = _worker(tmp_path / "whole")
    victim = _worker(tmp_path / "killed", {"TEXTGAN_DEBUG_STUDY_HANG": "4"})
    deadline = time.time() + 120
    while not list((tmp_path / "killed" / "trials").glob("*/hung")):
        assert time.time() < deadline and victim.poll() is None
        time.sleep(0.2)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    rescuer = _worker(tmp_path / "killed")
    assert rescuer.wait(timeout=180) == 0 and whole.wait(timeout=180) == 0
    killed, reference = trials(tmp_path / "killed"), trials(tmp_path / "whole")
    retried = [r for r in killed if r["original"] != r["trial"]]
    assert len(retried) == 1 and retried[0]["resumed"]
    assert [(r["arch"], r["arm"], r["score"]) for r in killed] == \
        [(r["arch"], r["arm"], r["score"]) for r in reference]
    for a, b in zip(killed, reference, strict=True):
        assert a["run_dir"] == b["run_dir"]  # keyed by the original trial number
        ga = _final_generator(tmp_path / "killed" / a["run_dir"])
        gb = _final_generator(tmp_path / "whole" / b["run_dir"])
        assert all(torch.equal(ga[k], gb[k]) for k in gb)
    metrics = Run(tmp_path / "killed" / retried[0]["run_dir"]).read_metrics()
    assert [m["step"] for m in metrics] == list(range(1, 9))


def test_bad_space_and_unknown_choice_are_one_line_errors(tmp_path, data, capsys):
    with pytest.raises(ConfigError, match="unknown space 'table9'"):
        load_space("table9")
    bad = tmp_path / "space.toml"
    bad.write_text('g_nonlinearity = ["relu", "swish"]\n')
    with pytest.raises(ConfigError, match="g_nonlinearity choice 'swish' is not valid"):
        load_space(str(bad))
    bad.write_text('g_width = [1]\n')
    with pytest.raises(ConfigError, match="unknown factor"):
        load_space(str(bad))
    code = run(["study", "run", str(tmp_path / "s"), "--space", str(bad)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "unknown factor(s) 'g_width'" in err
    assert not (tmp_path / "s").exists()
    assert run(["study", "rerun", str(tmp_path / "s")]) == 1
    assert "unknown action" in capsys.readouterr().err


def test_architecture_draw_is_seeded():
    space = load_space("table1")
    a, b = draw_architectures(space, 5, 1), draw_architectures(space, 5, 1)
    assert a == b and a != draw_architectures(space, 5, 2)
    assert all(set(arch) == set(space) for arch in a)


def test_outcome_table_on_known_outcomes():
    scores = {0: {"gan": 5.0, "wgan-gp": 6.0}, 1: {"gan": 2.0, "wgan-gp": 4.0},
              2: {"gan": 7.0, "wgan-gp": 3.5}, 3: {"gan": 1.0, "wgan-gp": 1.0},
              4: {"gan": 9.0}}  # without both scores: left out
    rows = outcome_table(scores, [1.5, 3.0, 5.0, 8.0], [0.1, 0.2, 0.3, 0.4])
    counts = [(r["only GAN"], r["only WGAN-GP"], r["both"], r["neither"]) for r in rows]
    assert counts == [(0, 0, 3, 1), (0, 1, 2, 1), (1, 1, 0, 2), (0, 0, 0, 4)]
    assert rows[1]["of real"] == "20%"
    assert PAPER_TABLE2[2] == {"min score": 5.0, "only GAN": 0, "only WGAN-GP": 147, "both": 42,
                               "neither": 11}
    assert all(sum(v for k, v in r.items() if k != "min score") == 200 for r in PAPER_TABLE2)


def test_clipping_arms_are_figure_3s_recipes_on_gan_cifar_dcgan():
    from textgan.study.spaces import StudyConfig, TrialSpec, arms, trial_config

    cfg = StudyConfig(experiment="clipping", steps=200, width_scale=0.5)
    assert arms(cfg) == ["wgan-clip-rmsprop", "wgan-gp-rmsprop", "wgan-gp-adam", "dcgan"]
    runs = {arm: trial_config(cfg, TrialSpec(0, arm)) for arm in arms(cfg)}
    clip, gp_rms, gp_adam, dcgan = (runs[a]["train"] for a in arms(cfg))
    assert (clip["objective"], clip["optimizer"], clip["lr"], clip["clip"]) == \
        ("wgan-clip", "rmsprop", 5e-5, 0.01)
    assert (gp_rms["objective"], gp_rms["optimizer"], gp_rms["lr"]) == ("wgan-gp", "rmsprop", 5e-5)
    assert (gp_adam["optimizer"], gp_adam["lr"]) == ("adam", 1e-4) and gp_adam["lr"] > gp_rms["lr"]
    assert (dcgan["objective"], dcgan["lr"], dcgan["betas"], dcgan["critic_iters"]) == \
        ("gan", 2e-4, [0.5, 0.999], 1)
    assert all(r["model"]["arch"] == "dcgan-cifar" and r["model"]["dim"] == 64
               for r in runs.values())
    # gan_cifar.py's critic has batch norm in its clipping mode only
    assert [r["model"].get("d_norm", "none") for r in runs.values()] == \
        ["batch", "none", "none", "none"]
    assert all(r["train"]["eval_every"] == 10 for r in runs.values())  # 20 points


def test_curves_count_training_seconds_without_scoring_time(tmp_path):
    import json

    from textgan.study.outcomes import curves

    run_dir = tmp_path / "trials" / "t"
    run_dir.mkdir(parents=True)
    records = [{"step": 1, "sec_per_step": 0.5}, {"step": 2, "sec_per_step": 0.25,
               "classifier_score": 1.5, "classifier_score_seconds": 9.0},
               {"step": 3, "sec_per_step": 1.0},
               {"step": 4, "sec_per_step": 0.25, "classifier_score": 2.5,
                "classifier_score_seconds": 8.0}]
    (run_dir / "config.toml").write_text("")
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    out = curves(tmp_path, [{"arm": "dcgan", "run_dir": "trials/t"}])
    assert out["dcgan"] == {"step": [2, 4], "score": [1.5, 2.5], "train_seconds": [0.75, 2.0],
                            "score_seconds": [9.0, 17.0]}


def test_show_of_a_missing_study_is_one_line(tmp_path, capsys):
    assert run(["study", "show", str(tmp_path / "nothing")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a study directory" in err


def test_auto_score_is_the_inception_score_only_with_its_weights(monkeypatch):
    import textgan.image.fidelity as fidelity
    from textgan.study.spaces import StudyConfig, TrialSpec, resolve_score, trial_config

    def missing():
        raise ConfigError("FID/IS need the Inception weights")

    monkeypatch.setattr(fidelity, "check_fidelity", missing)
    chosen = resolve_score(StudyConfig())
    assert chosen.score == "classifier"
    assert trial_config(chosen, TrialSpec(0, "gan"))["data"]["classifier_score_images"] == 1000
    monkeypatch.setattr(fidelity, "check_fidelity", lambda: object())
    chosen = resolve_score(StudyConfig(score_images=500))
    data = trial_config(chosen, TrialSpec(0, "gan"))["data"]
    assert chosen.score == "inception" and data["fid"] and data["fid_images"] == 500
    assert "classifier_score_images" not in data
