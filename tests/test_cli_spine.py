"""The spine from the command line: prepare → train → checkpoint → resume → sample."""

import json
import tomllib

import pytest

from textgan.cli.main import run


def run_cli(*args: str) -> int:
    return run(list(args))


@pytest.fixture()
def corpus_file(tmp_path):
    path = tmp_path / "text.txt"
    words = ["the", "cat", "dog", "sat", "on", "a", "mat", "runs", "."]
    lines = [" ".join(words[(i * 7 + j * 3) % len(words)] for j in range(4 + i % 3)) for i in range(300)]
    path.write_text("\n".join(lines) + "\n")
    return path


TINY = ["--dim", "8", "--batch-size", "4", "--critic-iters", "2", "--seq-len", "12",
        "--device", "cpu", "--eval-every", "0"]


def test_train_resume_and_sample(tmp_path, corpus_file, capsys):
    out = tmp_path / "run"
    data = tmp_path / "data"
    code = run_cli("train", "--corpus-path", str(corpus_file), "--data-dir", str(data),
                   "--out", str(out), "--steps", "4", "--checkpoint-every", "2",
                   "--sample-every", "2", *TINY)
    assert code == 0
    config = tomllib.loads((out / "config.toml").read_text())
    assert config["mode"] == "text" and config["preset"] == "cpu"
    assert config["model"]["dim"] == 8 and config["train"]["critic_iters"] == 2
    assert config["data"]["seq_len"] == 12
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    for key in ("critic_loss", "wasserstein", "penalty", "grad_norm", "generator_loss",
                "sec_per_step"):
        assert all(isinstance(r[key], float) for r in records), key
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [
        "step_00000002.pt", "step_00000004.pt"]
    assert sorted(p.name for p in (out / "samples").iterdir()) == [
        "step_00000002.txt", "step_00000004.txt"]

    assert run_cli("train", "--resume", "--out", str(out), "--steps", "6", "--reschedule") == 0
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3, 4, 5, 6]

    capsys.readouterr()
    assert run_cli("sample", "-n", "7", "--run", str(out), "--seed", "3") == 0
    first = capsys.readouterr().out.splitlines()
    assert len(first) == 7 and all(len(line) <= 12 and not line.endswith("`") for line in first)
    assert run_cli("sample", "-n", "7", "--run", str(out), "--seed", "3") == 0
    assert capsys.readouterr().out.splitlines() == first  # same seed, same samples
    out_file = tmp_path / "s.txt"
    assert run_cli("sample", "-n", "3", "--checkpoint", str(out / "checkpoints" / "step_00000006.pt"),
                   "--temperature", "0.7", "--out", str(out_file)) == 0
    assert len(out_file.read_text().splitlines()) == 3


def test_resume_refuses_changed_architecture(tmp_path, corpus_file, capsys):
    out = tmp_path / "run"
    args = ["--corpus-path", str(corpus_file), "--data-dir", str(tmp_path / "d"), "--out", str(out)]
    assert run_cli("train", *args, "--steps", "1", *TINY) == 0
    capsys.readouterr()
    assert run_cli("train", "--resume", "--out", str(out), "--dim", "16") == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot change model.dim" in err


def test_new_run_refuses_existing_directory(tmp_path, corpus_file, capsys):
    out = tmp_path / "run"
    args = ["--corpus-path", str(corpus_file), "--data-dir", str(tmp_path / "d"), "--out", str(out)]
    assert run_cli("train", *args, "--steps", "1", *TINY) == 0
    before = (out / "checkpoints" / "step_00000001.pt").read_bytes()
    capsys.readouterr()
    assert run_cli("train", *args, "--steps", "1", *TINY) == 1
    assert "already holds a run" in capsys.readouterr().err
    assert (out / "checkpoints" / "step_00000001.pt").read_bytes() == before


def test_config_file_and_flags_precedence(tmp_path, corpus_file):
    from textgan.training import resolve_config

    cfg_file = tmp_path / "c.toml"
    cfg_file.write_text("[train]\nlr = 0.0003\nbatch_size = 16\n[model]\ndim = 32\n")
    cfg = resolve_config("text", "paper", str(cfg_file), {"train": {"batch_size": 8}})
    assert cfg.train.lr == 3e-4  # file over preset
    assert cfg.train.batch_size == 8  # flag over file
    assert cfg.model.dim == 32 and cfg.model.blocks == 5 and cfg.train.critic_iters == 10
    assert cfg.data.max_lines == 10_000_000  # from the paper preset


def test_paper_preset_is_the_paper(tmp_path):
    from textgan.training import resolve_config

    cfg = resolve_config("text", None, None, {"data": {"corpus": "billion_word"}})
    assert cfg.preset == "paper"
    t, m, d = cfg.train, cfg.model, cfg.data
    assert (t.batch_size, t.critic_iters, t.lr, t.betas, t.gp_lambda, t.objective) == (
        64, 10, 1e-4, (0.5, 0.9), 10.0, "wgan-gp")
    assert (m.dim, m.blocks, m.kernel_size, m.res_scale, m.noise_dim) == (512, 5, 5, 0.3, 128)
    assert (d.seq_len, d.max_vocab, d.pad) == (32, 2048, "`")
    assert resolve_config("text", None, None, {}).preset == "cpu"


@pytest.mark.parametrize("text,message", [
    ("[train]\nbogus = 1\n", "unknown setting 'train.bogus'"),
    ("[train]\nsteps = 'many'\n", "train.steps must be a whole number"),
    ("[nonsense]\n", "unknown section"),
    ("[train\n", "not valid TOML"),
])
def test_bad_config_files(tmp_path, text, message):
    from textgan.errors import ConfigError
    from textgan.training import resolve_config

    f = tmp_path / "c.toml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=message):
        resolve_config("text", None, str(f), {})
