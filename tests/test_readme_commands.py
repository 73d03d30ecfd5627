"""Every command the README and the guides in docs/ show runs, in the environment the README's
install command makes.

The commands are read from the fenced code blocks of README.md and docs/*.md (README first, then
the guides by name): every line of a shell block must be a command (``textgan``, ``torchrun``,
``pip``, ``python``) or a comment, and every ``python`` block is a program. Each distinct command
runs once, in that order, in one fresh directory, through the installed ``textgan`` console
script, in a tiny version: training stops after a step or two (``--steps`` appended; the last
value of a flag wins), a few sizes are scaled down where a guide's value needs a big corpus or
minutes (``ADJUST``, each saying why), and placeholders (runs/text-XXXX, runs/A, my_text.txt,
...) are real runs and files made here. The few commands that need the network, several machines
or a GPU are in ``SKIP``, with the reason; an entry of ``ADJUST`` or ``SKIP`` that no document
shows any more fails the test, so neither list goes stale.
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
from helpers.launcher import Launcher
from test_image_data import write_cifar, write_idx_dir, write_idx_labels

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCUMENTS = [README, *sorted((ROOT / "docs").glob("*.md"))]

TINY_TRAIN = "--steps 2"
# a resume past a tiny run's linear schedule must say --reschedule (docs/runs.md)
TINY_RESUME = "--steps 3 --reschedule"
TINY_STUDY = "--architectures 1 --steps 1 --score-images 16 --workers 1"
TINY_BENCH = "--dim 8 --critic-iters 1 --repeats 1 --warmup 0 --batch-size 4 --seq-len 8"

# Shell commands that are not run here (the command as written, its comment dropped) -> why.
SKIP: dict[str, str] = {
    "pip install torch==2.13.0 -e '.[dev]' && python -m pytest":
        "the whole test suite, of which this test is part (.ci/run runs it)",
    "textgan train --corpus billion_word": "downloads the 1.8 GB Billion Word tarball (network)",
    "textgan train --corpus hf:wikitext/wikitext-2-raw-v1:train":
        "streams a data set from the Hugging Face Hub (network)",
    "textgan train --corpus hf:stanfordnlp/imdb --label-column label --conditional ac":
        "streams a labelled data set from the Hugging Face Hub (network); "
        "tests/test_labelled_corpora.py reads local hf: label columns",
    "torchrun --standalone --nproc-per-node 2 $(which textgan) train --steps 2000 --out runs/ddp":
        "several processes under torchrun: tests/test_train_torchrun.py runs textgan train under "
        "torchrun (2 CPU ranks)",
    "torchrun --standalone --nproc-per-node 2 -m textgan.cli.main train ...":
        "the same as a module, with elided options (tests/test_train_torchrun.py)",
    "textgan study run studies/figure2-lsun --experiment figure2 --dataset lsun --data-path "
    "bedroom_train_lmdb --image-size 64 --workers 2":
        "needs LSUN's bedroom database (about 3 million images, tens of GB to download); "
        "tests/test_image_folder.py reads a generated LMDB and tests/test_study_figure2.py runs "
        "the figure2 study on a generated 64-pixel folder",
    "torchrun --nnodes 2 --nproc-per-node 8 --rdzv-backend c10d --rdzv-endpoint HOST:29500 "
    "$(which textgan) train --corpus billion_word --out runs/bw-16gpu":
        "two machines with 8 GPUs each",
}
# Python blocks that are not run here: a line of the block -> why.
SKIP_PYTHON: dict[str, str] = {
    'textgan.load("my-model").push_to_hub("user/my-textgan-model")':
        "pushes to and downloads from the Hugging Face Hub (network); tests/test_export.py checks "
        "the folder they read and write",
}

# Commands whose tiny version differs from the default (train: --steps 2; train --resume:
# --steps 3; bench: tiny sizes; other commands: as written) -> the flags appended.
ADJUST: dict[str, str] = {
    # a budget replaces --steps: a few seconds instead of 40 minutes
    "textgan train --time-budget 40m": "--time-budget 3s",
    # resumes the run the line above resumed to 3 steps
    "textgan train --resume --out runs/first --steps 900 --reschedule": "--steps 4",
    # studies: one architecture (or the four clipping recipes), one step each, one worker
    "textgan study run studies/random-cpu --architectures 24 --steps 600 --width-scale 0.125 "
    "--batch-size 32 --score-images 500 --workers 2": TINY_STUDY,
    "textgan study run studies/clipping --experiment clipping --steps 600 --width-scale 0.125 "
    "--batch-size 32 --score-images 500 --workers 2": "--steps 1 --score-images 16 --workers 1",
    "textgan study run studies/figure2 --experiment figure2 --steps 400 --width-scale 0.125 "
    "--batch-size 32 --score-images 500 --workers 2":
        "--archs dcgan64-g-constant,dcgan64-g-mlp --objectives gan,wgan-gp --steps 1 "
        "--score-images 16 --workers 1",
    "textgan study run studies/figure2-pictures --experiment figure2 --dataset folder --data-path "
    "pictures --image-size 64 --steps 2000 --width-scale 0.125 --batch-size 32 --score-images 500 "
    "--workers 2":
        "--archs dcgan64,resnet101 --objectives wgan-gp --steps 1 --width-scale 0.03125 "
        "--batch-size 4 --score-images 16 --workers 1",
    # text-tuning: one trial of two steps, 16 samples, one worker
    "textgan study run studies/tune-brown --experiment text-tuning --corpus-path brown-train.txt "
    "--valid-path brown-valid.txt --budget 300 --trials 40 --workers 2":
        "--budget 5 --steps 2 --trials 1 --samples 16 --workers 1",
    # the Figure 2 networks at DIM 2: one step shows they build and train at their sizes
    "textgan train --mode image --dataset folder --data-path pictures --image-size 64 --arch "
    "resnet64 --out runs/pictures64": "--steps 1 --dim 2 --batch-size 4",
    "textgan train --mode image --dataset fashion-mnist --arch dcgan64-gated --objective lsgan "
    "--out runs/gated": "--steps 1 --dim 2 --batch-size 4",
    # a tiny text cannot make 4000 SentencePiece pieces (the guide's value is for real corpora)
    "textgan train --corpus-path my_text.txt --tokenizer sentencepiece --vocab-size 4000":
        TINY_TRAIN + " --vocab-size 40",
    "textgan train --corpus-path my_text.txt --tokenizer sentencepiece --sp-model-type bpe "
    "--seq-len 16": TINY_TRAIN + " --vocab-size 40",
    # 40 samples per temperature instead of 640
    "textgan eval --run runs/text-GAN --temperatures 0.5,0.75,1,1.25,1.5": "--samples 40",
    "textgan eval --run runs/text-MLE --temperatures 0.5,0.75,1,1.25,1.5": "--samples 40",
    # --sample-every 1 / 2: draw the plots (matplotlib) within the two steps
    "textgan train --mode toy": TINY_TRAIN + " --sample-every 1",
    "textgan train --mode toy --dataset swissroll": TINY_TRAIN + " --sample-every 1",
    "textgan train --mode toy --preset figure1 --objective wgan-clip --out runs/fig1-clip":
        TINY_TRAIN + " --sample-every 2",
    "textgan train --mode toy --preset figure1 --objective wgan-gp --out runs/fig1-gp":
        TINY_TRAIN + " --sample-every 2",
    # the paper's image models at their sizes: one step is enough to show they build and train,
    # and on a batch of 4 the CIFAR ResNets take seconds instead of minutes
    "textgan train --mode image --dataset mnist --preset paper-mnist": "--steps 1",
    "textgan train --mode image --dataset cifar10 --preset paper-cifar10": "--steps 1 "
    "--batch-size 4",
    "textgan train --mode image --preset paper-cifar10-conditional": "--steps 1 --batch-size 4",
}
# Python blocks: (a line of the block, its tiny version) replacements, made where they occur.
PYTHON_EDITS: list[tuple[str, str]] = [
    ('train={"steps": 300}', 'train={"steps": 2}'),
    ('"my-model"', '"api-model"'),  # `textgan export ... my-model` has made that folder
    ("generate(200, seed=0)", "generate(20, seed=0)"),
    # the model card's evaluation (640 samples) is tested by `textgan export` above
    ('save_pretrained("api-model")', 'save_pretrained("api-model", evaluate=False)'),
]
COMMAND = re.compile(r"(textgan|torchrun|pip|python) ")


def code_blocks(path: Path) -> list[tuple[str, list[str]]]:
    """The fenced code blocks of a Markdown file: (language, lines)."""
    blocks, current, language = [], None, ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            if current is None:
                current, language = [], line[3:].strip()
            else:
                blocks.append((language, current))
                current = None
        elif current is not None:
            current.append(line)
    assert current is None, f"{path.name}: a code block is not closed"
    return blocks


def shell_commands(path: Path) -> list[str]:
    """The shell commands of a document's code blocks (not python or text): continuation lines
    joined, comments dropped. Any other line in such a block is an error, so that no command
    escapes this test unrun."""
    found = []
    for language, lines in code_blocks(path):
        if language in ("python", "text"):
            continue
        joined = "\n".join(lines).replace("\\\n", " ")
        for line in joined.splitlines():
            text = re.sub(r"(^|\s+)#.*$", "", line).strip()
            if not text:
                continue
            assert COMMAND.match(text), f"{path.name}: not a command: {text!r}"
            found.append(re.sub(r"\s+", " ", text))
    return found


def python_blocks(path: Path) -> list[str]:
    return ["\n".join(lines) for language, lines in code_blocks(path) if language == "python"]


def all_commands() -> list[str]:
    """Every document's shell commands, each once, in order (README first)."""
    seen: dict[str, None] = {}
    for path in DOCUMENTS:
        seen.update((c, None) for c in shell_commands(path) if c not in seen)
    return list(seen)


def tiny(command: str) -> str:
    """The flags that make ``command`` tiny."""
    if command in ADJUST:
        return ADJUST[command]
    argv = shlex.split(command.split("&& ", 1)[-1])
    if argv[:2] == ["textgan", "train"]:
        return TINY_RESUME if "--resume" in argv else TINY_TRAIN
    if argv[:2] == ["textgan", "bench"]:  # the guide's sizes take minutes
        return TINY_BENCH
    return ""


def test_every_command_is_run_or_skipped_with_a_reason():
    commands = all_commands()
    assert len(commands) > 50
    assert "textgan train" in commands and "textgan eval --run runs/fashion-cond" in commands
    for command in commands:
        if command not in SKIP:
            assert command.split("&& ", 1)[-1].startswith("textgan "), (
                f"{command!r} is neither run here nor in SKIP with a reason")
    assert not set(SKIP) - set(commands), "SKIP names commands no document shows"
    assert not set(ADJUST) - set(commands), "ADJUST names commands no document shows"
    blocks = [b for path in DOCUMENTS for b in python_blocks(path)]
    assert len(blocks) >= 2
    for line in SKIP_PYTHON:
        assert sum(line in block for block in blocks) == 1, line


def test_the_readme_setup_commands_are_those_ci_runs():
    commands = shell_commands(README)
    assert commands[:2] == ["pip install torch==2.13.0 -e . && textgan train",
                            "pip install torch==2.13.0 -e '.[dev]' && python -m pytest"]
    assert commands[1] in (ROOT / ".ci" / "run").read_text()


def test_the_readme_is_short():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 250


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
    """The documents' placeholders: text files, and image data sets where the image mode looks."""
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
    # a folder of images in two class subfolders (docs/image-and-toy.md)
    from PIL import Image

    for k, name in enumerate(("cats", "dogs")):
        (root / "pictures" / name).mkdir(parents=True)
        for i in range(6):
            pixels = np.full((40, 48, 3), 30 * i + 100 * k, dtype=np.uint8)
            Image.fromarray(pixels).save(root / "pictures" / name / f"{i}.png")
    # the Brown corpus's training and held-out files (docs/your-text.md)
    (root / "brown-train.txt").write_text("\n".join(lines[:700]) + "\n")
    (root / "brown-valid.txt").write_text("\n".join(lines[700:]) + "\n")


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
def test_every_command_of_the_readme_and_the_guides_runs(tmp_path):
    """The first command runs through the installed console script; the others each in a
    process forked from one that has imported textgan and torch (tests/helpers/launcher.py),
    the same fresh start seconds faster a command."""
    textgan = shutil.which("textgan")
    base = [textgan] if textgan else [sys.executable, "-m", "textgan.cli.main"]
    path = os.environ.get("PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT),
           "OMP_NUM_THREADS": "1"}
    make_files(tmp_path)
    ran, skipped = [], []
    server = Launcher(tmp_path, env)
    try:
        for command in all_commands():
            if command in SKIP:
                skipped.append((command, SKIP[command]))
                continue
            shell = command.split("&& ", 1)[-1]  # the install part is checked by the test above
            argv = shlex.split(substitute(shell, tmp_path)) + shlex.split(tiny(command))
            assert argv[0] == "textgan"
            if not ran:
                done = subprocess.run(base + argv[1:], cwd=tmp_path, env=env,
                                      capture_output=True, text=True, timeout=900)
            else:
                done = server.run(argv[1:], tmp_path)
            assert done.returncode == 0, f"{' '.join(argv)}\n{done.stderr}"
            ran.append((argv, done))
            if argv[1:3] == ["sample", "-n"] and "--out" not in argv:
                assert len(done.stdout.splitlines()) == int(argv[3]), argv
        for program in (b for p in DOCUMENTS for b in python_blocks(p)):
            if any(line in program for line in SKIP_PYTHON):
                continue
            for old, new in PYTHON_EDITS:
                program = program.replace(old, new)
            done = server.python(program, tmp_path)
            assert done.returncode == 0, f"{program}\n{done.stderr}"
            ran.append((["python"], done))
    finally:
        server.close()
    outputs = {" ".join(argv[:3]): done for argv, done in ran}
    by_command = {" ".join(argv): done for argv, done in ran}
    in_turn = by_command["textgan sample --run runs/questions -n 6"].stdout.splitlines()
    assert [line.split("\t")[0] for line in in_turn] == ["question", "statement"] * 3
    labelled = by_command["textgan sample --run runs/questions -n 5 --label question"]
    assert len(labelled.stdout.splitlines()) == 5
    assert (tmp_path / "runs" / "reviews" / "checkpoints" / "step_00000002.pt").is_file()
    assert len(outputs["textgan sample --model"].stdout.splitlines()) == 50
    assert (tmp_path / "my-model" / "model.safetensors").is_file()
    assert (tmp_path / "api-model" / "model.safetensors").is_file()  # the Python API's
    assert (tmp_path / "grid.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "fashion.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "cmp" / "index.html").is_file()
    assert list((tmp_path / "runs").glob("toy-*/samples/step_00000001.png"))
    assert (tmp_path / "runs" / "fig1-gp" / "samples" / "step_00000002.png").is_file()
    assert (tmp_path / "classes.png").is_file() and (tmp_path / "trousers.png").is_file()
    table = by_command["textgan eval --run runs/fashion-cond"].stderr
    assert "label_accuracy/Trouser" in table
    assert list((tmp_path / "runs").glob("text-*/tensorboard"))
    assert (tmp_path / "runs" / "first" / "checkpoints" / "step_00000003.pt").is_file()  # resumed
    assert len(skipped) == len(SKIP) and len(ran) == len(all_commands()) - len(SKIP) + 1
