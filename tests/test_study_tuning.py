"""The text-tuning study: its search space (named, from TOML, one-line errors), the seeded TPE
sampler, trials that are ordinary text runs scored by JS-4 as the recipe benchmark scores them,
the conditional constraint, and `show`'s table, figure and result file."""

import itertools
import json
import tomllib
from pathlib import Path

import optuna
import pytest

from textgan.cli.main import run
from textgan.errors import ConfigError
from textgan.study.engine import create_study, resolve_study, run_study, worker
from textgan.study.outcomes import summarise
from textgan.study.spaces import StudyConfig
from textgan.study.tuning import (
    CPU_LEVERS,
    SAMPLES_FILE,
    corpus_of,
    load_tuning_space,
    make_sampler,
    suggest,
)
from textgan.text.scoring import heldout_table, js_orders

SPACE = """dim = [8, 12]
critic_representations = [1, 8]
lr = {low = 1e-4, high = 1e-2, log = true}
batch_size = [4, 8]
"""


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("text")
    words = "the small dog runs home a cat sat on the warm mat my old friend reads".split()
    lines = [" ".join(words[(i * 7 + j * 5) % len(words)] for j in range(3 + i % 4))
             for i in range(240)]
    (root / "train.txt").write_text("\n".join(lines[:200]) + "\n")
    (root / "valid.txt").write_text("\n".join(lines[200:]) + "\n")
    (root / "space.toml").write_text(SPACE)
    return root


def settings(corpus: Path, **more) -> dict:
    base = {"experiment": "text-tuning", "corpus_path": str(corpus / "train.txt"),
            "valid_path": str(corpus / "valid.txt"), "data_dir": str(corpus / "data"),
            "space": str(corpus / "space.toml"), "budget": 2.0, "steps": 3, "seq_len": 16,
            "samples": 64, "heartbeat": 30, "seed": 5}
    return base | more


def test_space_from_a_name_and_from_a_toml_file(corpus):
    assert load_tuning_space("cpu-levers") == CPU_LEVERS
    assert {"lr", "lr_critic", "critic_iters", "batch_size", "dim", "critic_representations",
            "critic_dim", "critic_norm", "gen_output", "gen_beta_max", "attention"} <= set(
        CPU_LEVERS)
    space = load_tuning_space(str(corpus / "space.toml"))
    assert space == {"dim": [8, 12], "critic_representations": [1, 8],
                     "lr": {"low": 1e-4, "high": 1e-2, "log": True}, "batch_size": [4, 8]}
    assert StudyConfig(experiment="text-tuning").space_name == "cpu-levers"
    assert StudyConfig().space_name == "table1"


@pytest.mark.parametrize("text,message", [
    ("dims = [8]\n", "unknown factor 'dims'"),
    ("lr = {low = 1e-2, high = 1e-4}\n", "lr range needs numbers low < high"),
    ("lr = {low = 0.0, high = 1e-2, log = true}\n", "lr log range needs low > 0"),
    ("lr = {low = 1e-4, top = 1e-2}\n", "lr range must be {low, high}"),
    ('dim = ["wide"]\n', "dim = 'wide'"),
    ("dim = [0]\n", "dim = 0"),
    ("critic_norm = []\n", "critic_norm must be a non-empty list"),
    ("seed = [1, 2]\n", "seed is set by the study"),
])
def test_bad_space_is_a_one_line_error(tmp_path, corpus, capsys, text, message):
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(ConfigError, match=message.replace("{", r"\{").replace("}", r"\}")):
        load_tuning_space(str(bad))
    code = run(["study", "run", str(tmp_path / "s"), "--experiment", "text-tuning",
                "--corpus-path", str(corpus / "train.txt"), "--space", str(bad)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and message in err
    assert not (tmp_path / "s").exists()


def test_unknown_space_name_and_missing_text_are_one_line(tmp_path, capsys):
    with pytest.raises(ConfigError, match="unknown space 'cpu-levels'"):
        load_tuning_space("cpu-levels")
    assert run(["study", "run", str(tmp_path / "s"), "--experiment", "text-tuning"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--corpus-path" in err
    assert run(["study", "run", str(tmp_path / "s"), "--corpus-path", "x.txt"]) == 1
    assert "are for --experiment text-tuning" in capsys.readouterr().err


def test_default_space_fits_together_everywhere():
    """Every critic width the space can make is divisible by every representation count, and
    attention names an existing block (the cpu preset's 5)."""
    for dim, critic_dim, k in itertools.product(CPU_LEVERS["dim"], CPU_LEVERS["critic_dim"],
                                                CPU_LEVERS["critic_representations"]):
        assert (critic_dim or dim) % k == 0
    assert max(CPU_LEVERS["attention"]) <= 5


def _asked(seed: int, n: int) -> list[dict]:
    study = optuna.create_study(sampler=make_sampler(seed), direction="minimize")
    return [suggest(study.ask(), CPU_LEVERS) for _ in range(n)]


def test_seeded_tpe_proposes_the_same_trials_and_parallel_asks_differ():
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    first = _asked(11, 3)
    assert first == _asked(11, 3)
    assert first[0] != _asked(12, 1)[0]
    # three trials asked while none has finished (three workers at once): three points
    assert len({json.dumps(p, sort_keys=True) for p in first}) == 3


def _check_trials(directory: Path, config: StudyConfig) -> list:
    """Every completed trial is a text run whose JS-4 is that of its samples file, and whose
    representations divide its critic's width."""
    study = optuna.load_study(study_name="textgan", storage=f"sqlite:///{directory}/study.db")
    complete = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    corpus = corpus_of(config)
    table = heldout_table(corpus)
    for t in complete:
        run_dir = directory / t.user_attrs["run_dir"]
        model = tomllib.loads((run_dir / "config.toml").read_text())["model"]
        width = model.get("critic_dim") or model["dim"]
        assert width % model.get("critic_representations", 1) == 0
        assert model["dim"] == t.params["dim"]
        lines = (run_dir / SAMPLES_FILE).read_text().splitlines()
        assert len(lines) == config.samples
        ids = corpus.tokenizer.encode(lines, corpus.seq_len)
        assert js_orders(ids, len(corpus.vocab), table)[4] == pytest.approx(
            t.user_attrs["js4"], abs=1e-12)
        assert t.value == t.user_attrs["js4"] and 0 < t.value <= 1
        assert t.user_attrs["steps"] == 3 and t.user_attrs["lm_forward_bpc"] > 0
    for t in study.get_trials(states=(optuna.trial.TrialState.PRUNED,)):
        assert "must divide the critic's width" in t.user_attrs["pruned"]
        assert t.params["critic_representations"] == 8 and t.params["dim"] == 12
    return complete


def test_one_worker_runs_its_trials_and_show_writes_table_figure_result(tmp_path, corpus):
    directory = tmp_path / "s"
    config = resolve_study(directory, settings(corpus, trials=2))
    facts = create_study(directory, config)
    assert facts["metric"] == "js4" and 0 < facts["real_score"] < 1
    assert worker(directory, {"trials": 2}, poll=0.2) >= 2
    assert len(_check_trials(directory, config)) == 2
    out = summarise(directory, tmp_path / "results", "tune")
    record = json.loads((tmp_path / "results" / "tune.json").read_text())
    assert record["space"] == load_tuning_space(str(corpus / "space.toml"))
    best = record["results"]["best"][0]
    assert best["js4"] == min(r["js4"] for r in out["trials"])
    assert best["preset"] == "cpu" and set(best["model"]) == {"dim", "critic_representations"}
    assert set(best["train"]) == {"steps", "lr", "batch_size"}
    assert [row["trial"] for row in out["table"]][0] == best["trial"]
    assert Path(out["figure"]).read_bytes().startswith(b"\x89PNG")
    # the winner's run is an ordinary run: sample reads it
    assert run(["sample", "--run", str(directory / best["run_dir"]), "-n", "2"]) == 0
    # asked again with the same trials, the study runs nothing more
    assert worker(directory, {"trials": 2}, poll=0.2) == 0


@pytest.mark.slow
def test_three_trials_two_worker_processes_complete_exactly_three(tmp_path, corpus):
    directory = tmp_path / "s"
    facts = run_study(directory, settings(corpus, trials=3, workers=2), poll=0.5)
    assert facts["states"].get("complete") == 3
    config = resolve_study(directory)
    assert len(_check_trials(directory, config)) == 3
    runs = sorted(p.name for p in (directory / "trials").iterdir())
    assert len(runs) == 3


def test_a_trial_asked_past_the_count_is_surplus(tmp_path, corpus):
    """Two workers asking at once when one trial is left: the later-numbered one is not run."""
    from textgan.study.tuning import Surplus, counted_before, run_tuning_trial

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(sampler=make_sampler(0), direction="minimize")
    done = study.ask()
    study.tell(done, 0.5)
    first, second = study.ask(), study.ask()  # both running
    failed = study.ask()
    study.tell(failed, state=optuna.trial.TrialState.FAIL)
    assert [counted_before(study, t.number) for t in (first, second, failed)] == [1, 2, 3]
    config = StudyConfig(**settings(corpus, trials=2))
    with pytest.raises(Surplus):
        run_tuning_trial(tmp_path, config, second, CPU_LEVERS, second.number, {})
    assert not (tmp_path / "trials").exists()


def test_without_steps_each_trial_schedule_is_sized_to_its_budget(tmp_path, corpus):
    """--steps 0: a trial starts with the cpu preset's 22000 steps and its linear schedule is
    re-sized to end with its budget, at its own pace; the preset's length never applies."""
    from textgan.study.tuning import run_steps

    directory = tmp_path / "s"
    config = resolve_study(directory, settings(corpus, trials=1, steps=0, budget=3.0))
    facts = create_study(directory, config)
    assert facts["sized_to_budget"] is True and run_steps(config) == 22000
    assert worker(directory, {"trials": 1}, poll=0.2) >= 1
    study = optuna.load_study(study_name="textgan", storage=f"sqlite:///{directory}/study.db")
    (trial,) = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    steps, schedule = trial.user_attrs["steps"], trial.user_attrs["schedule_steps"]
    # a tiny model makes far fewer than 22000 steps in 3 CPU-s (and, on a loaded machine too,
    # more than the 20 after which the schedule is sized); the schedule was sized to them
    assert 20 <= steps <= schedule < 22000
    assert steps >= 0.5 * schedule
    with_steps = resolve_study(tmp_path / "t", settings(corpus, trials=1))
    assert create_study(tmp_path / "t", with_steps)["sized_to_budget"] is False


def test_a_worker_joins_a_text_tuning_study_given_the_same_flags(tmp_path, corpus):
    """`textgan study run DIR ...` again with the flags that created DIR joins it (a second
    worker, or after a stop); a changed setting is a one-line error."""
    directory = tmp_path / "s"
    flags = settings(corpus, trials=1)
    create_study(directory, resolve_study(directory, flags))
    joined = resolve_study(directory, {**flags, "workers": 2})
    assert joined.corpus_path == flags["corpus_path"] and joined.workers == 2
    with pytest.raises(ConfigError, match="budget = 2.0; it cannot change"):
        resolve_study(directory, {**flags, "budget": 3.0})


def test_the_first_trial_is_the_presets_own_point_where_the_space_holds_it(tmp_path, corpus):
    """The cpu preset's lr (1e-3, inside the range) and critic_representations (1, a listed
    choice) are fixed for the first trial; its dim 64 and batch size 32, which the space does not
    list, are sampled. Enqueued once, whatever the number of `run`s; off with preset_trial."""
    directory = tmp_path / "s"
    config = resolve_study(directory, settings(corpus, trials=1))
    create_study(directory, config)
    create_study(directory, config)
    study = optuna.load_study(study_name="textgan", storage=f"sqlite:///{directory}/study.db")
    (waiting,) = study.get_trials(states=(optuna.trial.TrialState.WAITING,))
    assert waiting.system_attrs["fixed_params"] == {"lr": 1e-3, "critic_representations": 1}
    assert waiting.user_attrs == {"preset": True}
    assert worker(directory, {"trials": 1}, poll=0.2) >= 1
    (trial,) = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert trial.params["lr"] == 1e-3 and trial.params["critic_representations"] == 1
    assert trial.params["dim"] in (8, 12) and trial.params["batch_size"] in (4, 8)
    out = summarise(directory, tmp_path / "results", "tune")
    assert out["preset_trial"]["trial"] == trial.number
    assert out["preset_trial"]["js4"] == trial.user_attrs["js4"]
    without = resolve_study(tmp_path / "t", settings(corpus, trials=1, preset_trial=False))
    create_study(tmp_path / "t", without)
    bare = optuna.load_study(study_name="textgan", storage=f"sqlite:///{tmp_path}/t/study.db")
    assert bare.get_trials() == []
