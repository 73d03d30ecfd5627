"""Every command the README shows runs, in the environment its install command makes.

The commands are read from README.md's code blocks; each must be in ``HOW`` below (so a command
added to the README without a test fails here). They run in the README's order, in one fresh
directory, through the installed ``textgan`` console script, in tiny versions: training stops
after a step or two (``--steps`` appended; the last value of a flag wins), a few sizes are
scaled down where the README's value needs a big corpus or minutes (each says why), and
placeholders (runs/text-XXXX, runs/A, my_text.txt, ...) are real runs and files made here.
Commands that need the network or several machines are skipped, with the reason.
"""

import importlib.metadata
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from test_image_data import write_cifar, write_idx_dir, write_idx_labels

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

TINY_TRAIN = "--steps 2"
TINY_BENCH = "--dim 8 --critic-iters 1 --repeats 1 --warmup 0 --batch-size 4 --seq-len 8"
SKIP = "skip"

# README command (its comment dropped) -> flags appended to it, or (SKIP, why)
HOW: dict[str, str | tuple[str, str]] = {
    "pip install torch==2.13.0 -e . && textgan train": TINY_TRAIN,
    "textgan train": TINY_TRAIN,
    "textgan sample -n 20": "",
    "textgan sample -n 20 --temperature 0.8 --seed 1": "",
    "textgan train --resume": "--steps 3 --reschedule",
    "textgan train --corpus billion_word": (SKIP, "downloads the 1.8 GB Billion Word tarball "
                                                  "(network)"),
    "textgan train --corpus my_text.txt": TINY_TRAIN,
    "textgan train --corpus-path 'books/*.txt' --valid-path held_out.txt --steps 5000": TINY_TRAIN,
    "textgan train --corpus hf:wikitext/wikitext-2-raw-v1:train": (SKIP, "streams a data set from "
                                                                         "the Hugging Face Hub "
                                                                         "(network)"),
    "textgan train --preset cpu-conditional --out runs/questions": TINY_TRAIN,
    "textgan sample --run runs/questions -n 6": "",
    "textgan sample --run runs/questions -n 5 --label question": "",
    "textgan train --corpus reviews.tsv --labels tsv --conditional projection --out runs/reviews":
        TINY_TRAIN,
    "textgan train --corpus hf:stanfordnlp/imdb --label-column label --conditional ac":
        (SKIP, "streams a labelled data set from the Hugging Face Hub (network); "
               "tests/test_labelled_corpora.py reads local hf: label columns"),
    "textgan eval --run runs/text-XXXX": "",
    "textgan eval samples.txt --reference my_text.txt": "",
    "textgan eval --run runs/text-XXXX --temperatures 0.5,0.75,1,1.25 --json": "",
    "textgan eval samples.tsv --labels tsv --reference labelled.tsv": "",
    "textgan train --objective mle --corpus-path my_text.txt": TINY_TRAIN,
    "textgan sample --run runs/text-MLE -n 20": "",
    "textgan sample --run runs/text-MLE -n 20 --temperature 0.7 --seed 1": "",
    "textgan eval --run runs/text-GAN --temperatures 0.5,0.75,1,1.25,1.5": "--samples 40",
    "textgan eval --run runs/text-MLE --temperatures 0.5,0.75,1,1.25,1.5": "--samples 40",
    "textgan report runs/text-GAN runs/text-MLE -o cmp/": "",
    "textgan export runs/text-XXXX my-model": "",
    "textgan sample --model my-model -n 50": "",
    "textgan eval --model my-model --reference my_text.txt": "",
    # a tiny text cannot make 4000 SentencePiece pieces (the README's value is for real corpora)
    "textgan train --corpus-path my_text.txt --tokenizer sentencepiece --vocab-size 4000":
        TINY_TRAIN + " --vocab-size 40",
    "textgan train --corpus-path my_text.txt --tokenizer sentencepiece --sp-model-type bpe "
    "--seq-len 16": TINY_TRAIN + " --vocab-size 40",
    "textgan train --tensorboard": TINY_TRAIN,
    "textgan report runs/text-XXXX": "",
    "textgan report runs/A runs/B -o cmp/": "",
    # --sample-every 1: draw the plots (matplotlib) within the two steps
    "textgan train --mode toy": TINY_TRAIN + " --sample-every 1",
    "textgan train --mode toy --dataset swissroll": TINY_TRAIN + " --sample-every 1",
    "textgan train --mode image --dataset fashion-mnist": TINY_TRAIN,
    "textgan train --mode image --dataset mnist --preset paper-mnist": "--steps 1",
    "textgan train --mode image --dataset cifar10 --preset paper-cifar10": "--steps 1",
    "textgan sample -n 64 --out grid.png": "",
    "textgan train --mode toy --preset figure1 --objective wgan-clip --out runs/fig1-clip":
        TINY_TRAIN + " --sample-every 2",
    "textgan train --mode toy --preset figure1 --objective wgan-gp --out runs/fig1-gp":
        TINY_TRAIN + " --sample-every 2",
    "textgan train --mode image --preset cpu-fashion-conditional --out runs/fashion-cond":
        TINY_TRAIN,
    "textgan sample --run runs/fashion-cond -n 80 --out classes.png": "",
    "textgan sample --run runs/fashion-cond -n 16 --label Trouser --out trousers.png": "",
    "textgan eval --run runs/fashion-cond": "",
    "textgan train --mode image --preset paper-cifar10-conditional": "--steps 1",
    # the README's sizes take minutes (DIM 128, 10 critic steps, 5 repetitions; bf16 is 17x
    # slower on this CPU)
    "textgan bench --dim 128 --critic-iters 10 --repeats 5": TINY_BENCH,
    "textgan bench --precision bf16 --variant fp32 --json": TINY_BENCH,
    "torchrun --standalone --nproc-per-node 2 $(which textgan) train --steps 2000 --out runs/ddp":
        (SKIP, "several processes under torchrun: tests/test_train_torchrun.py runs textgan train "
               "under torchrun (2 CPU ranks)"),
    "torchrun --standalone --nproc-per-node 2 -m textgan.cli.main train ...":
        (SKIP, "the same as a module, with elided options (tests/test_train_torchrun.py)"),
    "torchrun --nnodes 2 --nproc-per-node 8 --rdzv-backend c10d --rdzv-endpoint HOST:29500 \\":
        (SKIP, "two machines with 8 GPUs each"),
}


def readme_commands() -> list[str]:
    """The shell commands of README.md's code blocks (fenced or indented), comments dropped."""
    found, fenced = [], False
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
            continue
        text = line.strip()
        if (fenced or line.startswith("    ")) and re.match(r"(pip install .*&& )?textgan |"
                                                         r"torchrun ", text):
            found.append(re.sub(r"\s+#.*$", "", text))
    return found


def test_every_readme_command_is_covered_here():
    assert readme_commands() == list(HOW)


def test_the_install_command_installs_what_the_commands_need():
    """`pip install torch==2.13.0 -e .` installs the project's dependencies: each is installed
    here, and those that used to be extras (matplotlib) are dependencies now."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = [re.split(r"[<>=!~ \[]", dep, maxsplit=1)[0] for dep in project["dependencies"]]
    assert {"matplotlib", "safetensors", "torch"} <= set(names)
    for name in names:
        importlib.metadata.version(name)  # raises if the install would have left it out
    assert "textgan[plots]" not in README.read_text()


def make_files(root: Path) -> None:
    """The README's placeholders: text files, and image data sets where the image mode looks."""
    words = ("the small dog runs home . a cat sat on the warm mat ; my old friend reads "
             "books at night , and we walk to town !").split()
    lines = [" ".join(words[(i * 7 + j * 5) % len(words)] for j in range(4 + i % 6))
             for i in range(800)]
    (root / "my_text.txt").write_text("\n".join(lines) + "\n")
    (root / "books").mkdir()
    (root / "books" / "a.txt").write_text("\n".join(lines[:400]) + "\n")
    (root / "books" / "b.txt").write_text("\n".join(lines[400:]) + "\n")
    (root / "held_out.txt").write_text("\n".join(lines[::37]) + "\n")
    (root / "samples.txt").write_text("\n".join(lines[5:60]) + "\n")
    # labelled text: lines about animals (dog, cat) and the others
    labelled = [f"{'animals' if {'dog', 'cat'} & set(s.split()) else 'other'}\t{s}" for s in lines]
    (root / "labelled.tsv").write_text("\n".join(labelled) + "\n")
    (root / "samples.tsv").write_text("\n".join(labelled[3:90]) + "\n")
    write_idx_dir(root / "data" / "fashion-mnist", n_train=64, n_test=16)
    write_idx_labels(root / "data" / "fashion-mnist", np.arange(64) % 10, np.arange(16) % 10)
    write_idx_dir(root / "data" / "mnist", n_train=64, n_test=16)
    write_cifar(root / "data" / "cifar10")
    # labelled text for --labels tsv: two classes taking turns
    (root / "reviews.tsv").write_text("".join(f"{['good', 'bad'][i % 2]}\t{line}\n"
                                              for i, line in enumerate(lines)))


def substitute(command: str, root: Path) -> str:
    """Placeholders → what this test made: runs/text-XXXX is the newest text run; runs/A and
    runs/B the two newest."""
    runs = sorted((root / "runs").glob("text-*"), key=lambda p: p.stat().st_mtime)
    mle = [r for r in runs if 'objective = "mle"' in (r / "config.toml").read_text()]
    gans = [r for r in runs if r not in mle]
    for placeholder, found in (("runs/text-XXXX", gans), ("runs/text-GAN", gans),
                               ("runs/text-MLE", mle)):
        if found:
            command = command.replace(placeholder, str(found[-1].relative_to(root)))
    if len(gans) >= 2:
        command = command.replace("runs/A runs/B", f"{gans[-2].relative_to(root)} "
                                                   f"{gans[-1].relative_to(root)}")
    return command


@pytest.mark.slow
def test_every_readme_command_runs(tmp_path):
    textgan = shutil.which("textgan")
    base = [textgan] if textgan else [sys.executable, "-m", "textgan.cli.main"]
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT),
           "OMP_NUM_THREADS": "1"}
    make_files(tmp_path)
    ran, skipped = [], []
    for command, how in HOW.items():
        if isinstance(how, tuple):
            skipped.append((command, how[1]))
            continue
        shell = command.split("&& ", 1)[-1]  # the install part is checked by the test above
        argv = shlex.split(substitute(shell, tmp_path)) + shlex.split(how)
        assert argv[0] == "textgan"
        done = subprocess.run(base + argv[1:], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=900)
        assert done.returncode == 0, f"{' '.join(argv)}\n{done.stderr}"
        ran.append((argv, done))
        if argv[1:3] == ["sample", "-n"] and "--out" not in argv:
            assert len(done.stdout.splitlines()) == int(argv[3]), argv
    outputs = {" ".join(argv[:3]): done for argv, done in ran}
    by_command = {" ".join(argv): done.stdout.splitlines() for argv, done in ran}
    in_turn = by_command["textgan sample --run runs/questions -n 6"]
    assert [line.split("\t")[0] for line in in_turn] == ["question", "statement"] * 3
    assert len(by_command["textgan sample --run runs/questions -n 5 --label question"]) == 5
    assert (tmp_path / "runs" / "reviews" / "checkpoints" / "step_00000002.pt").is_file()
    assert len(outputs["textgan sample --model"].stdout.splitlines()) == 50
    assert (tmp_path / "my-model" / "model.safetensors").is_file()
    assert (tmp_path / "grid.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "cmp" / "index.html").is_file()
    assert list((tmp_path / "runs").glob("toy-*/samples/step_00000001.png"))
    assert (tmp_path / "runs" / "fig1-gp" / "samples" / "step_00000002.png").is_file()
    assert (tmp_path / "classes.png").is_file() and (tmp_path / "trousers.png").is_file()
    assert "label_accuracy/Trouser" in outputs["textgan eval --run"].stderr  # the table
    assert list((tmp_path / "runs").glob("text-*/tensorboard"))
    assert len(ran) + len(skipped) == len(HOW) and len(skipped) == 6
