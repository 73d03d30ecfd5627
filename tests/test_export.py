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


def assert_no_local_paths(folder: Path, *places: Path) -> None:
    """No file of ``folder`` (text or binary) holds any of ``places`` (absolute directories of
    the machine it was made on), and no string of its config.json is an absolute path."""
    assert places and all(p.is_absolute() for p in places)
    for path in folder.iterdir():
        data = path.read_bytes()
        for place in places:
            assert str(place).encode() not in data, (path.name, place)

    def strings(value):
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from strings(v)
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)

    config = json.loads((folder / "config.json").read_text())
    local = [s for s in strings(config) if s.startswith(("/", "~")) or re.match(r"^[A-Za-z]:[\\/]", s)]
    assert not local, local


def test_export_holds_safetensors_json_and_a_card(text_run, tmp_path, capsys):
    out = tmp_path / "model"
    code, stdout, err = cli(capsys, "export", str(text_run), str(out), "--eval-samples", "50")
    assert code == 0, err
    assert stdout.strip() == str(out)
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "config.json", "evaluation.json",
                                                     "model.safetensors", "vocab.json"]
    assert not list(tmp_path.glob("*.partial"))
    assert_no_pickle(out)

    config = json.loads((out / "config.json").read_text())
    assert config["format"] == "textgan-model" and config["mode"] == "text"
    assert (config["tokenizer"], config["seq_len"]) == ("char", 12)
    assert config["architecture"]["dim"] == 8
    assert config["training"]["step"] == 4 and config["training"]["preset"] == "cpu"
    assert config["training"]["trained_on"] == config["corpus"] == "text.txt"  # --corpus PATH
    assert config["corpus_sha256"] == hashlib.sha256((text_run.parent / "text.txt").read_bytes()).hexdigest()
    assert config["run_config"]["data"]["corpus"] == "text.txt"
    assert "moving average" in config["weights"]["generator"]
    for name in ("model.safetensors", "vocab.json", "evaluation.json"):
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
    metrics = json.loads((out / "evaluation.json").read_text())
    assert metrics == evaluation and "js4_floor" in metrics
    assert config["evaluation"]["file"] == "evaluation.json" and "metrics" not in config["evaluation"]
    card = (out / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: textgan\n")
    assert "50 argmax samples" in card and '"js4_floor"' not in card  # a table, not the JSON
    assert f"| JS-4 (character 4-grams; lower is closer) | {metrics['js4']:.4g} | " \
           f"{metrics['js4_floor']:.4g} |" in card
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
    metrics = json.loads((out / "evaluation.json").read_text())
    assert metrics["js4"] == logged[-1]["js4"]
    assert metrics["js4_floor"] == logged[-1]["js4_floor"]
    assert "critic_loss" not in metrics


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
    assert_no_local_paths(out, tmp_path)  # the trained model records its sample's path: removed
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
    assert_no_local_paths(out, tmp_path)
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

    with pytest.raises(ConfigError, match="^bare models cannot be exported: the bare mode "
                       "defines no export_parts$"):
        Bare().export_parts({})
    with pytest.raises(ConfigError, match="^bare model folders cannot be loaded: the bare "
                       "mode defines no import_parts$"):
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
    assert_no_local_paths(out, tmp_path)
    config = json.loads((out / "config.json").read_text())
    assert config["dataset"] == "fashion-mnist"
    assert (config["run_config"]["data"]["data_path"], config["run_config"]["data"]["data_dir"]) \
        == (None, "data")
    by_model, by_run = tmp_path / "a.png", tmp_path / "b.png"
    assert run(["sample", "--model", str(out), "-n", "9", "--seed", "1", "--out", str(by_model)]) == 0
    assert run(["sample", "--run", str(run_dir), "-n", "9", "--seed", "1", "--out", str(by_run)]) == 0
    assert by_model.read_bytes() == by_run.read_bytes()  # the same grid, pixel for pixel


def test_an_exported_folder_names_its_data_by_base_name_and_sha256(tmp_path_factory, tmp_path,
                                                                   capsys):
    """Trained on --corpus-path and --valid-path at absolute paths, written to an absolute --out
    and --data-dir: the folder holds none of those directories, names the files by base name and
    sha256, shows its evaluation as a table and keeps every metric in evaluation.json."""
    home = tmp_path / "trainer-home" / "corpora"
    home.mkdir(parents=True)
    train, valid = write_corpus(home / "train.txt"), write_corpus(home / "valid.txt", 120)
    run_dir, data = tmp_path / "runs" / "mine", tmp_path / "prepared"
    assert run(["train", "--corpus-path", str(train), "--valid-path", str(valid), "--data-dir",
                str(data), "--out", str(run_dir), "--steps", "2", "--eval-every", "2", *TINY]) == 0
    out = tmp_path / "shared" / "model"
    code, _, err = cli(capsys, "export", str(run_dir), str(out), "--eval-samples", "30")
    assert code == 0, err
    assert "evaluation.json" in {p.name for p in out.iterdir()}
    assert_no_local_paths(out, home, tmp_path, tmp_path_factory.getbasetemp(), run_dir, data)

    config = json.loads((out / "config.json").read_text())
    digest = {f: hashlib.sha256(f.read_bytes()).hexdigest() for f in (train, valid)}
    assert (config["corpus"], config["corpus_sha256"]) == ("train.txt", digest[train])
    assert (config["held_out"], config["held_out_sha256"]) == ("valid.txt", digest[valid])
    assert config["training"]["trained_on"] == "train.txt"
    shared = config["run_config"]["data"]
    assert (shared["corpus"], shared["corpus_path"], shared["valid_path"], shared["data_dir"]) == \
        (None, "train.txt", "valid.txt", "data")
    assert "held-out file valid.txt" in config["evaluation"]["how"]

    metrics = json.loads((out / "evaluation.json").read_text())
    assert config["files"]["evaluation.json"] == hashlib.sha256(
        (out / "evaluation.json").read_bytes()).hexdigest()
    assert metrics["n_samples"] == 30 and len(metrics) > 40
    card = (out / "README.md").read_text()
    assert "# textgan text model: train.txt, 2 steps" in card
    assert "| trained on | train.txt |" in card and f"| corpus sha256 | `{digest[train]}` |" in card
    table = card[card.index("| metric | model | real text |"):].split("\n\n")[0].splitlines()
    expected = [("JS-4", "js4", "js4_floor"), ("LM forward", "lm_forward_bpc", "lm_forward_bpc_real"),
                ("LM reverse", "lm_reverse_bpc", "lm_reverse_bpc_real"),
                *((f"BLEU-{n} ", f"texygen_bleu{n}", f"texygen_bleu{n}_real") for n in range(2, 6)),
                *((f"Self-BLEU-{n} ", f"texygen_self_bleu{n}", f"texygen_self_bleu{n}_real")
                  for n in range(2, 6))]
    assert len(table) == 2 + len(expected)
    for row, (label, key, real) in zip(table[2:], expected, strict=True):
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[0].startswith(label), row
        assert cells[1:] == [f"{metrics[key]:.4g}", f"{metrics[real]:.4g}"], row
    assert "[`evaluation.json`](evaluation.json)" in card

    # the folder stands alone: sampled without the run, its data or its directories
    moved = tmp_path / "elsewhere"
    out.rename(moved)
    model = textgan.load(moved)
    assert model.generate(6, seed=3) == textgan.load(run_dir).generate(6, seed=3)
    assert model.folder_config["evaluation"]["metrics"] == metrics  # read back whole
    code, by_model, err = cli(capsys, "sample", "--model", str(moved), "-n", "4", "--seed", "3")
    assert code == 0 and by_model.splitlines() == model.generate(4, seed=3), err

    # saved again from the folder (no corpus at hand): the same names, sha256 and evaluation
    again = model.save_pretrained(tmp_path / "again")
    config_again = json.loads((again / "config.json").read_text())
    for key in ("corpus", "corpus_sha256", "held_out", "held_out_sha256", "run_config"):
        assert config_again[key] == config[key], key
    assert json.loads((again / "evaluation.json").read_text()) == metrics
    assert_no_local_paths(again, home, tmp_path_factory.getbasetemp())


def test_a_directory_corpus_is_named_by_its_files_hashes(tmp_path, capsys):
    texts = tmp_path / "my-texts"
    texts.mkdir()
    write_corpus(texts / "a.txt", 200)
    write_corpus(texts / "b.txt", 150)
    run_dir = tmp_path / "run"
    assert run(["train", "--corpus-path", f"{texts}/", "--data-dir", str(tmp_path / "data"),
                "--out", str(run_dir), "--steps", "1", "--eval-every", "0", *TINY]) == 0
    out = tmp_path / "model"
    assert run(["export", str(run_dir), str(out), "--no-eval"]) == 0
    assert_no_local_paths(out, tmp_path)
    config = json.loads((out / "config.json").read_text())
    files = sorted(hashlib.sha256((texts / n).read_bytes()).hexdigest() for n in ("a.txt", "b.txt"))
    assert config["corpus"] == "my-texts" and config["corpus_files"] == 2
    assert config["corpus_sha256"] == hashlib.sha256("".join(h + "\n" for h in files).encode()).hexdigest()
    assert config["run_config"]["data"]["corpus_path"] == "my-texts"
    assert "evaluation.json" not in config["files"] and config["evaluation"]["file"] is None


def test_the_card_table_shows_the_metrics_there_are():
    from textgan.export import metrics_table

    table = metrics_table({"swd": 0.25, "swd_real": 0.0125, "label_accuracy": 0.5}, "real images")
    assert table == ["| metric | model | real images |", "|---|---:|---:|",
                     "| label accuracy (conditional) | 0.5 | – |",
                     "| sliced Wasserstein distance (lower is closer) | 0.25 | 0.0125 |"]
    # a mode whose metrics the card does not know: every metric, beside its real value
    assert metrics_table({"w1": 2.0, "w1_real": 1.0, "n_samples": 5, "nan": float("nan")})[2:] == [
        "| w1 | 2 | 1 |", "| nan | n/a | – |"]


def test_sentencepiece_model_loses_only_its_file_names(tmp_path):
    """without_paths drops the trainer spec's input and model_prefix, byte-exact otherwise: the
    same message protobuf itself gives after clearing those two fields."""
    model_pb2 = pytest.importorskip("sentencepiece.sentencepiece_model_pb2")
    from textgan.text.sentencepiece import SentencePieceTokenizer, without_paths

    write_corpus(tmp_path / "text.txt", 300)
    tokenizer = SentencePieceTokenizer.fit(
        [(tmp_path / "text.txt").read_text().splitlines()], tmp_path / "work", vocab_size=24)
    original = tokenizer.model_proto
    proto = model_pb2.ModelProto()
    proto.ParseFromString(original)
    assert str(tmp_path) in proto.trainer_spec.input[0]  # what the trainer records
    cleaned = without_paths(original)
    assert str(tmp_path).encode() not in cleaned
    proto.trainer_spec.ClearField("input")
    proto.trainer_spec.ClearField("model_prefix")
    again = model_pb2.ModelProto()
    again.ParseFromString(cleaned)
    assert again == proto and without_paths(cleaned) == cleaned
    same = SentencePieceTokenizer(cleaned)
    assert same.vocab == tokenizer.vocab
    assert same.sp.encode("the cat sat on a mat") == tokenizer.sp.encode("the cat sat on a mat")


@pytest.mark.parametrize(("spec", "name", "local"), [
    ("/home/me/texts/train.txt", "train.txt", True), ("/home/me/texts/*.txt", "*.txt", True),
    ("~/texts/", "texts", True), ("C:\\data\\train.txt", "train.txt", True),
    ("texts/train.txt", "train.txt", False), ("train.txt", "train.txt", False)])
def test_base_name_and_local_paths(spec, name, local):
    from textgan.export import without_local_paths
    from textgan.io.files import base_name, is_local_path

    assert (base_name(spec), is_local_path(spec)) == (name, local)
    assert without_local_paths({"a": [spec, 3], "b": "hf:wikitext"}) == \
        {"a": [name if local else spec, 3], "b": "hf:wikitext"}


@pytest.mark.parametrize(("data", "identity", "shared"), [
    ({}, {"corpus": "synthetic"}, {}),
    ({"corpus": "hf:wikitext/wikitext-2-raw-v1:train"},
     {"corpus": "hf:wikitext/wikitext-2-raw-v1:train"}, {}),
    ({"corpus": "hf:/srv/me/my-dataset"}, {"corpus": "hf:my-dataset"}, {"corpus": "hf:my-dataset"}),
    ({"corpus": "hf:text", "corpus_path": "/srv/me/*.txt"}, {"corpus": "hf:text (*.txt)"},
     {"corpus_path": "*.txt"}),
    ({"corpus": "billion_word", "corpus_path": "/srv/me/1bw.tar.gz"},
     {"corpus": "billion_word (1bw.tar.gz)"}, {"corpus_path": "1bw.tar.gz"}),
    ({"corpus": "files", "corpus_path": "/srv/me/texts/", "valid_path": "/srv/me/v.txt"},
     {"corpus": "texts", "held_out": "v.txt"}, {"corpus_path": "texts", "valid_path": "v.txt"}),
    ({"corpus": "/srv/me/train.txt"}, {"corpus": "train.txt"}, {"corpus": "train.txt"}),
])
def test_a_text_folder_names_its_corpus(data, identity, shared):
    """Without the prepared corpus (and the files absent) a folder names the data, no sha256."""
    from textgan.text.model_files import corpus_identity, shareable_data

    data = {"corpus": None, "corpus_path": None, "valid_path": None, "data_dir": "/srv/me/data",
            "seq_len": 12} | data
    assert corpus_identity(data, None) == identity
    assert shareable_data(data) == data | {"data_dir": "data"} | shared
