"""The docs hold together: every link in README.md and docs/ resolves (files and #anchors), and
every result file in docs/results/ carries its provenance and a table beside it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
RESULTS = sorted((ROOT / "docs" / "results").glob("*.json"))
FIELDS = ("name", "question", "command", "commit", "date", "cpu", "threads", "torch", "device",
          "results")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchor(heading: str) -> str:
    """GitHub's anchor of a Markdown heading."""
    text = re.sub(r"[`*_\[\]]|\(.*?\)", lambda m: "" if m.group(0)[0] != "(" else m.group(0),
                  heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return {anchor(m.group(1)) for m in re.finditer(r"^#+ (.+)$", text, flags=re.M)}


def test_anchor():
    assert anchor("## A real corpus that fits a CPU: Brown"[3:]) == "a-real-corpus-that-fits-a-cpu-brown"
    assert anchor("`[train]`: every mode") == "train-every-mode"
    assert anchor("Per class (labelled samples)") == "per-class-labelled-samples"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_resolves(document: Path):
    text = re.sub(r"```.*?```", "", document.read_text(encoding="utf-8"), flags=re.S)
    for target in LINK.findall(text):
        if re.match(r"[a-z]+:", target):
            continue  # a web address
        file, _, fragment = target.partition("#")
        path = (document.parent / file).resolve() if file else document
        assert path.exists(), f"{document.name}: {target} does not exist"
        if fragment:
            assert fragment in anchors(path), f"{document.name}: {target}: no such heading"


def test_there_are_result_files():
    assert len(RESULTS) >= 15


@pytest.mark.parametrize("path", RESULTS, ids=lambda p: p.name)
def test_a_result_file_carries_its_provenance(path: Path):
    result = json.loads(path.read_text(encoding="utf-8"))
    missing = [f for f in FIELDS if f not in result]
    assert not missing, f"{path.name} lacks {missing}"
    assert result["name"] == path.stem
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", result["commit"]), result["commit"]
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}(T[0-9:]+([+-][0-9:]+|Z)?)?", result["date"]), result["date"]
    assert result["torch"] and result["device"] and result["cpu"] and result["results"]
    if "provenance" in result:
        assert result["commit"][:7] in result["provenance"]
        assert "not re-measured" in result["provenance"]
    assert path.with_suffix(".md").is_file(), f"{path.name} has no table beside it"


def test_every_result_file_is_cited():
    cited = "".join(p.read_text(encoding="utf-8") for p in DOCUMENTS)
    for path in RESULTS:
        assert f"results/{path.name}" in cited, f"{path.name} is cited nowhere"
