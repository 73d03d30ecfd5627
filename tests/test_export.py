"""`textgan export` model folders: what they hold (safetensors + JSON, no pickle), that they
sample exactly as the checkpoint they came from, and that a changed folder is refused in one line."""

import hashlib
import json
import re
import struct
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

import textgan
from textgan.cli.main import run
from textgan.core.checkpoint import load_checkpoint
from textgan.errors import ConfigError, TextganError

TINY = ["--dim", "8", "--batch-size", "4", "--critic-iters", "1", "--seq-len", "12",
        "--device", "cpu", "--sample-every", "0"]


def write_corpus(path: Path, n: int = 400) -> Path:
    words = ["the", "cat", "dog", "sat", "on", "a", "mat", "runs", "."]
    lines = [" ".join(words[(i * 7 + j * 3) % len(words)] for j in range(3 + i % 4))
             for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


def cli(capsys, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    """A tiny character run with a moving average and a logged evaluation at steps 2 and 4."""
    root = tmp_path_factory.mktemp("export")
    corpus = write_corpus(root / "text.txt")
    out = root / "run"
    assert run(["train", "--corpus", str(corpus), "--data-dir", str(root / "data"),
                "--out", str(out), "--steps", "4", "--checkpoint-every", "2", "--eval-every", "2",
                "--ema-decay", "0.9", *TINY]) == 0
    return out


def checkpoint_of(run_dir: Path) -> Path:
    return sorted((run_dir / "checkpoints").glob("step_*.pt"))[-1]


def assert_no_pickle(folder: Path) -> None:
    """Every file is JSON, Markdown, PNG or safetensors (whose header is JSON): nothing a pickle
    or torch.save (a zip of pickles) could hide in."""
    for path in folder.iterdir():
        data = path.read_bytes()
        assert not data.startswith(b"\x80"), path  # pickle protocol >= 2
        assert not data.startswith(b"PK\x03\x04"), path  # torch.save's zip
        if path.suffix == ".json":
            json.loads(data.decode("utf-8"))
        elif path.suffix == ".md":
            data.decode("utf-8")
        elif path.suffix == ".safetensors":
            (size,) = struct.unpack("<Q", data[:8])
            header = json.loads(data[8:8 + size].decode("utf-8"))
            payload = len(data) - 8 - size
            ends = [entry["data_offsets"][1] for key, entry in header.items() if key != "__metadata__"]
            assert max(ends) == payload  # the header describes every byte: tensors only
            assert all(entry["dtype"] == "F32" for key, entry in header.items()
                       if key != "__metadata__")
        elif path.suffix == ".png":
            assert data.startswith(b"\x89PNG")
        else:
            assert path.name == "sentencepiece.model", path  # a protobuf, read by sentencepiece


def test_export_holds_safetensors_json_and_a_card(text_run, tmp_path, capsys):
    out = tmp_path / "model"
    code, stdout, err = cli(capsys, "export", str(text_run), str(out), "--eval-samples", "50")
    assert code == 0, err
    assert stdout.strip() == str(out)
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "config.json",
                                                     "model.safetensors", "vocab.json"]
    assert not list(tmp_path.glob("*.partial"))
    assert_no_pickle(out)

    config = json.loads((out / "config.json").read_text())
    assert config["format"] == "textgan-model" and config["mode"] == "text"
    assert (config["tokenizer"], config["seq_len"]) == ("char", 12)
    assert config["architecture"]["dim"] == 8
    assert config["training"]["step"] == 4 and config["training"]["preset"] == "cpu"
    assert config["training"]["trained_on"].endswith("text.txt")
    assert "moving average" in config["weights"]["generator"]
    for name in ("model.safetensors", "vocab.json"):
        assert config["files"][name] == hashlib.sha256((out / name).read_bytes()).hexdigest()

    # the weights are the checkpoint's moving average, exactly
    state = load_checkpoint(checkpoint_of(text_run))
    weights = load_file(out / "model.safetensors")
    assert set(weights) == {f"generator.{k}" for k in state["generator_ema"]}
    for key, tensor in state["generator_ema"].items():
        assert torch.equal(weights[f"generator.{key}"], tensor), key
    assert not torch.equal(state["generator_ema"]["input.weight"], state["generator"]["input.weight"])
    assert json.loads((out / "vocab.json").read_text())["vocab"] == json.loads(state["tokenizer"])["vocab"]

    # the card's evaluation is `textgan eval --run`'s, with floors; its samples are the model's
    code, eval_json, _ = cli(capsys, "eval", "--run", str(text_run), "--samples", "50", "--json")
    assert code == 0
    evaluation = json.loads(eval_json)
    assert evaluation.pop("lines")["cut_to"] == 12  # which metrics saw cut lines: CLI only
    assert config["evaluation"]["metrics"] == evaluation
    assert "js4_floor" in config["evaluation"]["metrics"]
    card = (out / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: textgan\n")
    assert "50 argmax samples" in card and '"js4_floor"' in card
    for line in textgan.load(out).generate(10, seed=0):
        assert line in card
    assert "textgan.load(" in card and "from_pretrained" in card


def test_exported_model_samples_as_its_checkpoint(text_run, tmp_path, capsys):
    out = tmp_path / "model"
    assert run(["export", str(text_run), str(out), "--no-eval"]) == 0
    from_folder, from_run = textgan.load(out), textgan.load(text_run)
    from_checkpoint = textgan.load(checkpoint_of(text_run))
    for temperature, seed in ((None, 0), (None, 5), (0.8, 3)):
        expected = from_run.generate(20, temperature=temperature, seed=seed)
        assert from_folder.generate(20, temperature=temperature, seed=seed) == expected
        assert from_checkpoint.generate(20, temperature=temperature, seed=seed) == expected
    assert len(set(from_folder.generate(20, seed=0))) > 1

    # and `textgan sample --model` prints what `textgan sample --run` prints
    _, by_run, _ = cli(capsys, "sample", "--run", str(text_run), "-n", "30", "--seed", "7")
    code, by_model, err = cli(capsys, "sample", "--model", str(out), "-n", "30", "--seed", "7")
    assert code == 0 and by_model == by_run and len(by_model.splitlines()) == 30
    assert by_model.splitlines() == from_folder.generate(30, seed=7)
    assert f"model: {out}" in err

    # --no-eval: the card shows the run's last logged evaluation (steps 2 and 4 were evaluated)
    config = json.loads((out / "config.json").read_text())
    assert "logged at step 4" in config["evaluation"]["how"]
    logged = [json.loads(line) for line in (text_run / "metrics.jsonl").read_text().splitlines()]
    assert config["evaluation"]["metrics"]["js4"] == logged[-1]["js4"]
    assert config["evaluation"]["metrics"]["js4_floor"] == logged[-1]["js4_floor"]
    assert "critic_loss" not in config["evaluation"]["metrics"]


def test_raw_export_holds_the_trained_generator(text_run, tmp_path):
    out = tmp_path / "raw"
    assert run(["export", str(text_run), str(out), "--raw", "--no-eval"]) == 0
    state = load_checkpoint(checkpoint_of(text_run))
    weights = load_file(out / "model.safetensors")
    for key, tensor in state["generator"].items():
        assert torch.equal(weights[f"generator.{key}"], tensor), key
    assert textgan.load(out).generate(8, seed=1) == textgan.load(text_run, raw=True).generate(8, seed=1)


def test_a_changed_folder_is_refused_in_one_line(text_run, tmp_path, capsys):
    good = tmp_path / "good"
    assert run(["export", str(text_run), str(good), "--no-eval"]) == 0

    def copy(name: str) -> Path:
        target = tmp_path / name
        target.mkdir()
        for f in good.iterdir():
            (target / f.name).write_bytes(f.read_bytes())
        return target

    def refused(folder: Path, expected: str) -> None:
        code, out, err = cli(capsys, "sample", "--model", str(folder), "-n", "2")
        assert code == 1 and out == ""
        assert err.count("\n") == 1 and err.startswith("error: ") and expected in err, err
        with pytest.raises(TextganError, match=re.escape(expected)):
            textgan.load(folder).generate(2)

    tampered = copy("tampered")
    data = bytearray((tampered / "model.safetensors").read_bytes())
    data[-3] ^= 0x10  # one bit of one weight
    (tampered / "model.safetensors").write_bytes(bytes(data))
    refused(tampered, "does not match the sha256 recorded in config.json")

    vocab = copy("vocab")
    (vocab / "vocab.json").write_text(json.dumps({"kind": "char", "vocab": ["?", "`", "a"]}))
    refused(vocab, "vocab.json does not match the sha256")

    # weights of other shapes, with a matching sha256: the shapes are checked too
    shapes = copy("shapes")
    weights = load_file(shapes / "model.safetensors")
    weights["generator.input.weight"] = torch.zeros(3, 128)
    save_file(weights, shapes / "model.safetensors")
    config = json.loads((shapes / "config.json").read_text())
    config["files"]["model.safetensors"] = hashlib.sha256(
        (shapes / "model.safetensors").read_bytes()).hexdigest()
    (shapes / "config.json").write_text(json.dumps(config))
    refused(shapes, "does not fit its config.json (RuntimeError: size mismatch for input.weight")

    missing = copy("missing")
    (missing / "vocab.json").unlink()
    refused(missing, "vocab.json is missing or unreadable")

    garbage = copy("garbage")
    (garbage / "config.json").write_text("{not json")
    refused(garbage, "config.json is unreadable")

    not_ours = copy("escape")
    config = json.loads((not_ours / "config.json").read_text())
    config["files"]["../secret"] = "0" * 64
    (not_ours / "config.json").write_text(json.dumps(config))
    refused(not_ours, "lists a file outside the folder")

    code, _, err = cli(capsys, "sample", "--model", str(tmp_path / "nothing"), "-n", "2")
    assert code == 1 and "is not a textgan model folder (no config.json)" in err


def test_export_never_overwrites_by_accident(text_run, tmp_path, capsys):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    code, _, err = cli(capsys, "export", str(text_run), str(taken), "--no-eval")
    assert code == 1 and "exists and is not empty" in err
    assert [p.name for p in taken.iterdir()] == ["notes.txt"]

    out = tmp_path / "model"
    assert run(["export", str(text_run), str(out), "--no-eval"]) == 0
    code, _, err = cli(capsys, "export", str(text_run), str(out), "--no-eval")
    assert code == 1 and "--force replaces a model folder" in err
    best = text_run / "checkpoints" / "best.pt"
    assert best.is_file()
    assert run(["export", str(text_run), str(out), "--no-eval", "--force", "--checkpoint",
                "best"]) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["training"]["step"] == load_checkpoint(best)["step"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "taken"]  # no leftovers


def test_eval_model_scores_the_folders_samples(text_run, tmp_path, capsys):
    out = tmp_path / "model"
    assert run(["export", str(text_run), str(out), "--no-eval"]) == 0
    reference = write_corpus(tmp_path / "reference.txt", 300)
    data = str(tmp_path / "data")
    code, by_model, err = cli(capsys, "eval", "--model", str(out), "--reference", str(reference),
                              "--samples", "40", "--data-dir", data, "--json")
    assert code == 0, err
    samples = tmp_path / "samples.txt"
    samples.write_text("\n".join(textgan.load(out).generate(40, seed=0)) + "\n")
    code, by_file, _ = cli(capsys, "eval", str(samples), "--reference", str(reference),
                           "--seq-len", "12", "--data-dir", data, "--json")
    assert code == 0
    assert json.loads(by_model) == json.loads(by_file)
    api = textgan.load(out).evaluate(reference, n=40, data_dir=data)
    model_json = json.loads(by_model)
    assert model_json.pop("lines")["word_references"] == "whole lines"
    assert api == model_json

    code, _, err = cli(capsys, "eval", "--model", str(out))
    assert code == 1 and "--model needs --reference" in err
    code, _, err = cli(capsys, "eval", "--model", str(text_run), "--reference", str(reference))
    assert code == 1 and "is not a model folder" in err


def test_sentencepiece_runs_export_their_model_file(tmp_path, capsys):
    corpus = write_corpus(tmp_path / "text.txt", 600)
    run_dir = tmp_path / "run"
    assert run(["train", "--corpus", str(corpus), "--data-dir", str(tmp_path / "data"),
                "--out", str(run_dir), "--steps", "2", "--tokenizer", "sentencepiece",
                "--vocab-size", "24", "--eval-every", "0", *TINY]) == 0
    out = tmp_path / "model"
    assert run(["export", str(run_dir), str(out), "--no-eval"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "config.json",
                                                     "model.safetensors", "sentencepiece.model",
                                                     "vocab.json"]
    assert_no_pickle(out)
    vocab = json.loads((out / "vocab.json").read_text())
    assert vocab["kind"] == "sentencepiece" and "model" not in vocab  # the model is its own file
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_file=str(out / "sentencepiece.model"))
    assert [processor.id_to_piece(i) for i in range(processor.get_piece_size())] == vocab["vocab"]
    assert json.loads((out / "config.json").read_text())["tokenizer"] == "sentencepiece"
    assert textgan.load(out).generate(12, seed=2) == textgan.load(run_dir).generate(12, seed=2)


def test_toy_runs_export_generator_and_critic(tmp_path, capsys):
    run_dir = tmp_path / "toy"
    assert run(["train", "--mode", "toy", "--out", str(run_dir), "--steps", "2",
                "--sample-every", "0", "--eval-every", "0", "--device", "cpu"]) == 0
    out = tmp_path / "model"
    code, _, err = cli(capsys, "export", str(run_dir), str(out))
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "config.json",
                                                     "model.safetensors", "samples.png"]
    assert_no_pickle(out)
    assert {k.split(".")[0] for k in load_file(out / "model.safetensors")} == {"generator", "critic"}
    assert "![samples, seed 0](samples.png)" in (out / "README.md").read_text()
    png = tmp_path / "points.png"
    code, _, err = cli(capsys, "sample", "--model", str(out), "-n", "100", "--out", str(png))
    assert code == 0 and png.read_bytes().startswith(b"\x89PNG"), err
    with pytest.raises(ConfigError, match="generate\\(\\) returns text; this is a toy model"):
        textgan.load(out).generate(3)


def test_a_mode_without_export_refuses_in_one_line():
    from textgan.core.mode import Mode

    class Bare(Mode):
        name = "bare"

        def build(self, *args, **kwargs):
            raise NotImplementedError

        def sample(self, *args, **kwargs):
            raise NotImplementedError

    with pytest.raises(ConfigError, match="^bare models cannot be exported yet$"):
        Bare().export_parts({})
    with pytest.raises(ConfigError, match="^bare model folders cannot be loaded yet$"):
        Bare().import_parts({}, {})


def test_from_pretrained_reads_a_local_folder_and_words_hub_failures(text_run, tmp_path):
    out = textgan.load(text_run).save_pretrained(tmp_path / "model", evaluate=False)
    model = textgan.TrainedModel.from_pretrained(out)
    assert model.step == 4 and model.generate(3, seed=0) == textgan.load(text_run).generate(3, seed=0)
    # Not a folder: the Hub is asked; offline (local_files_only) that fails in one line.
    with pytest.raises(TextganError) as err:
        textgan.TrainedModel.from_pretrained("nobody/no-such-textgan-model", local_files_only=True,
                                             cache_dir=tmp_path / "hub")
    assert "is not a local folder, and downloading it from the Hub failed" in str(err.value)
    assert "\n" not in str(err.value)


def test_image_runs_export_their_generator(tmp_path, capsys):
    from test_image_data import write_idx_dir

    write_idx_dir(tmp_path / "fm", n_train=10, n_test=4)
    run_dir = tmp_path / "run"
    assert run(["train", "--mode", "image", "--dataset", "fashion-mnist", "--data-path",
                str(tmp_path / "fm"), "--out", str(run_dir), "--steps", "1", "--dim", "2",
                "--batch-size", "3", "--critic-iters", "1", "--eval-every", "0",
                "--sample-every", "0", "--device", "cpu"]) == 0
    out = tmp_path / "model"
    code, _, err = cli(capsys, "export", str(run_dir), str(out), "--no-eval")
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "config.json",
                                                     "model.safetensors", "samples.png"]
    assert_no_pickle(out)
    assert {k.split(".")[0] for k in load_file(out / "model.safetensors")} == {"generator"}
    assert json.loads((out / "config.json").read_text())["dataset"] == "fashion-mnist"
    by_model, by_run = tmp_path / "a.png", tmp_path / "b.png"
    assert run(["sample", "--model", str(out), "-n", "9", "--seed", "1", "--out", str(by_model)]) == 0
    assert run(["sample", "--run", str(run_dir), "-n", "9", "--seed", "1", "--out", str(by_run)]) == 0
    assert by_model.read_bytes() == by_run.read_bytes()  # the same grid, pixel for pixel
