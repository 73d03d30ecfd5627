"""The Python API (textgan.load / evaluate / configure / train): the README's example runs, the
library prints nothing, and it gives what the CLI gives."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import textgan
from textgan.cli.main import run
from textgan.errors import ConfigError, TextganError

ROOT = Path(__file__).resolve().parents[1]
SMALL = {"batch_size": 4, "critic_iters": 1, "sample_every": 0, "eval_every": 0, "device": "cpu"}


def readme_example() -> str:
    """The Python API example of the sharing guide (the README links to it)."""
    section = (ROOT / "docs" / "sharing.md").read_text(encoding="utf-8").split("## The Python API", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def subprocess_env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT),
            "OMP_NUM_THREADS": "1"}


@pytest.mark.slow
def test_the_readme_api_example_runs(tmp_path):
    """The guide's code as printed, but for the number of training steps (2, not 300)."""
    code = readme_example()
    assert '"steps": 300' in code
    (tmp_path / "example.py").write_text(code.replace('"steps": 300', '"steps": 2'))
    done = subprocess.run([sys.executable, "example.py"], cwd=tmp_path, env=subprocess_env(),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 5 + 1 + 1  # five samples, three temperature samples, the JS-4 line
    assert re.fullmatch(r"JS-4 \d\.\d{3} \(real text: \d\.\d{3}\)", lines[-1])
    assert (tmp_path / "my-model" / "model.safetensors").is_file()
    assert (tmp_path / "runs" / "api-demo" / "checkpoints" / "step_00000002.pt").is_file()
    assert done.stderr == ""  # the library prints nothing


def test_import_textgan_is_light_and_the_api_loads_on_first_use():
    code = ("import sys, textgan; light = 'torch' not in sys.modules and 'textgan.api' not in "
            "sys.modules; f = textgan.load; print(light, 'torch' in sys.modules, f.__module__)")
    done = subprocess.run([sys.executable, "-c", code], env=subprocess_env(), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    # textgan.api is imported on first use; torch only when a model is loaded
    assert done.stdout.split() == ["True", "False", "textgan.api"]
    with pytest.raises(AttributeError):
        textgan.no_such_thing  # noqa: B018


def test_train_reports_through_callbacks_and_prints_nothing(tmp_path, capfd):
    corpus = tmp_path / "text.txt"
    corpus.write_text("".join(f"line number {i} of the corpus\n" for i in range(300)))
    config = textgan.configure(train={**SMALL, "steps": 3, "checkpoint_every": 2},
                               data={"corpus": str(corpus), "data_dir": str(tmp_path / "data"),
                                     "seq_len": 10},
                               model={"dim": 8})
    assert config.model.dim == 8 and config.preset == "cpu" and config.train.lr == 1e-3
    heard, steps = [], []
    result = textgan.train(config, out=tmp_path / "run",
                           progress=lambda what, done, total: heard.append((what, done, total)),
                           on_step=lambda event: steps.append((event.step, event.metrics)))
    assert [h for h in heard if h[0] == "training"] == [("training", i, 3) for i in (1, 2, 3)]
    assert any(h[0].startswith("encoding") for h in heard)  # corpus preparation, too
    assert [s for s, _ in steps] == [1, 2, 3] and all("critic_loss" in m for _, m in steps)
    assert (result.step, result.steps, result.finished) == (3, 3, True)
    assert result.checkpoint == tmp_path / "run" / "checkpoints" / "step_00000003.pt"
    assert capfd.readouterr() == ("", "")

    # should_stop: a clean stop with a checkpoint, and resume=True continues it
    calls = []
    stopped = textgan.train(textgan.configure(train={**SMALL, "steps": 10},
                                              data={"corpus": str(corpus),
                                                    "data_dir": str(tmp_path / "data"),
                                                    "seq_len": 10},
                                              model={"dim": 8}),
                            out=tmp_path / "stopped", should_stop=lambda: calls.append(1) or
                            len(calls) >= 2)
    assert (stopped.step, stopped.finished) == (2, False)
    assert stopped.checkpoint.name == "step_00000002.pt"
    resumed = textgan.train({"train": {"steps": 4}}, out=tmp_path / "stopped", resume=True,
                            reschedule=True)
    assert (resumed.step, resumed.finished) == (4, True)
    assert resumed.load().step == 4
    assert capfd.readouterr() == ("", "")

    with pytest.raises(ConfigError, match="unknown setting 'model.dims'"):
        textgan.configure(model={"dims": 8})
    with pytest.raises(ConfigError, match="config must come from textgan.configure"):
        textgan.train("cpu")


def test_generate_is_textgan_sample_and_evaluate_is_textgan_eval(tmp_path, capsys):
    corpus = tmp_path / "text.txt"
    corpus.write_text("".join(f"the cat {i % 7} sat on mat {i % 5}\n" for i in range(400)))
    data = str(tmp_path / "data")
    result = textgan.train(textgan.configure(train={**SMALL, "steps": 2},
                                             data={"corpus": str(corpus), "data_dir": data,
                                                   "seq_len": 12}, model={"dim": 8}),
                           out=tmp_path / "run")
    model = textgan.load(result.run_dir, device="cpu")
    assert (model.mode, model.step, model.config["data"]["seq_len"]) == ("text", 2, 12)
    capsys.readouterr()
    assert run(["sample", "--run", str(result.run_dir), "-n", "9", "--seed", "4"]) == 0
    assert model.generate(9, seed=4) == capsys.readouterr().out.splitlines()
    assert run(["sample", "--run", str(result.run_dir), "-n", "9", "--seed", "4",
                "--temperature", "0.7"]) == 0
    assert model.generate(9, temperature=0.7, seed=4) == capsys.readouterr().out.splitlines()

    lines = model.generate(30, seed=0)
    samples = tmp_path / "samples.txt"
    samples.write_text("\n".join(lines) + "\n")
    assert run(["eval", str(samples), "--reference", str(corpus), "--seq-len", "12",
                "--data-dir", data, "--json"]) == 0
    expected = json.loads(capsys.readouterr().out)
    treatment = expected.pop("lines")  # the CLI also says which metrics saw cut lines
    assert treatment["cut_to"] == 12 and "texygen_bleu2" in treatment["whole"]
    assert textgan.evaluate(lines, corpus, seq_len=12, data_dir=data) == expected
    assert expected["n_samples"] == 30 and "js4_floor" in expected

    with pytest.raises(ConfigError, match="non-empty list of strings"):
        textgan.evaluate([], corpus)
    with pytest.raises(ConfigError, match="js_text must be one of"):
        textgan.evaluate(lines, corpus, js_text="test")
    with pytest.raises(ConfigError, match="n must be at least 1"):
        model.generate(0)
    with pytest.raises(TextganError, match="is neither a model folder, a run directory nor a "
                       "checkpoint file"):
        textgan.load(tmp_path / "nowhere")
