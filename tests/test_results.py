"""The result format: every file carries its provenance and a readable table beside it."""

import json

import pytest

from textgan.results import PROVENANCE_FIELDS, markdown_table, read_result, write_result


def test_write_result_carries_provenance_and_a_table(tmp_path):
    rows = [{"config": "a", "js4": 0.5}, {"config": "b", "js4": 0.25}]
    path = write_result(tmp_path, "demo", "Which config is lower?", rows, command="python x.py --y 1",
                        threads=1, notes="two rows")
    record = json.loads(path.read_text())
    for field in PROVENANCE_FIELDS:
        assert field in record
    assert record["name"] == "demo"
    assert record["command"] == "python x.py --y 1"
    assert record["threads"] == 1
    assert record["results"] == rows
    assert read_result(path)["results"][1]["js4"] == 0.25
    md = (tmp_path / "demo.md").read_text()
    assert "| config | js4 |" in md and "| b | 0.25 |" in md
    assert "python x.py --y 1" in md and "two rows" in md


def test_read_result_refuses_a_file_without_provenance(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "results": {}}))
    with pytest.raises(ValueError, match="missing question"):
        read_result(bad)


def test_result_name_is_checked(tmp_path):
    with pytest.raises(ValueError, match="result name"):
        write_result(tmp_path, "../escape", "q", {})


def test_markdown_table_keeps_first_seen_column_order():
    assert markdown_table([{"b": 1, "a": None}, {"c": 2.0}]) == (
        "| b | a | c |\n|---|---|---|\n| 1 | — | — |\n| — | — | 2 |\n")
