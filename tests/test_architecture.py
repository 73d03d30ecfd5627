"""The layering the architecture promises, checked on the source: core knows no mode, modes do
not import each other, evaluation and the mode-free commands (cli/, api, export, sampling,
report) import no mode package (they reach a mode through textgan.modes), and module-level
imports form no cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import textgan
from textgan.core.mode import Mode
from textgan.modes import MODES, get_mode

PACKAGE = Path(textgan.__file__).parent
CLI = PACKAGE.parent / "cli"  # installed as textgan.cli
MODE_PACKAGES = ("textgan.text", "textgan.image", "textgan.toy")
# Modules that know no mode by name: they reach one through textgan.modes.get_mode.
MODE_FREE = ("textgan.cli", "textgan.api", "textgan.export", "textgan.sampling",
             "textgan.report", "textgan.eval")


def module_name(path: Path) -> str:
    if path.is_relative_to(CLI):
        parts = ("textgan", "cli", *path.relative_to(CLI).with_suffix("").parts)
    else:
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, top_level_only: bool) -> set[str]:
    """textgan modules ``path`` imports (at module level only, or anywhere)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("textgan"):
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("textgan")}
    return found


SOURCES = {module_name(p): p for p in [*PACKAGE.rglob("*.py"), *CLI.rglob("*.py")]}
GRAPH = {name: {m for m in imports(p, top_level_only=True) if m in SOURCES}
         for name, p in SOURCES.items()}
ANYWHERE = {name: {m for m in imports(p, top_level_only=False) if m in SOURCES}
            for name, p in SOURCES.items()}


def in_package(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_source_tree_was_found() -> None:
    assert {"textgan.core.trainer", "textgan.text.mode", "textgan.modes", "textgan.cli.eval",
            "textgan.report.summary", "textgan.eval.evaluate"} <= set(SOURCES)


def test_core_imports_no_mode() -> None:
    for name, deps in ANYWHERE.items():
        if in_package(name, "textgan.core"):
            bad = {d for d in deps if any(in_package(d, p) for p in MODE_PACKAGES)}
            assert not bad, f"{name} imports {bad}"


def test_modes_do_not_import_each_other() -> None:
    for package in MODE_PACKAGES:
        others = [p for p in MODE_PACKAGES if p != package]
        for name, deps in ANYWHERE.items():
            if in_package(name, package):
                bad = {d for d in deps if any(in_package(d, o) for o in others)}
                assert not bad, f"{name} imports {bad}"


def test_mode_free_modules_import_no_mode_package() -> None:
    checked = [n for n in SOURCES if any(in_package(n, p) for p in MODE_FREE)]
    assert len(checked) > 20  # cli/, report/ and eval/ were found
    for name in checked:
        bad = {d for d in ANYWHERE[name] if any(in_package(d, p) for p in MODE_PACKAGES)}
        assert not bad, f"{name} imports {bad}"


def test_mode_free_modules_compare_no_mode_name() -> None:
    """No ``mode == "text"``: what differs between modes is a Mode method or attribute."""
    import re

    compare = re.compile(r"""[!=]=\s*['"](text|image|toy)['"]|['"](text|image|toy)['"]\s*[!=]=""")
    for name, path in SOURCES.items():
        if any(in_package(name, p) for p in MODE_FREE):
            found = compare.search(path.read_text(encoding="utf-8"))
            assert found is None, f"{name} compares with a mode's name: {found and found[0]}"


def test_evaluation_inside_a_mode_imports_no_mode_module() -> None:
    evaluation = ("textgan.text.evaluation", "textgan.text.eval_hook", "textgan.text.reference",
                  "textgan.text.sample_files", "textgan.text.generated", "textgan.text.labelled")
    for name in evaluation:
        bad = {d for d in ANYWHERE[name]
               if d == "textgan.modes" or any(d == f"{p}.mode" for p in MODE_PACKAGES)}
        assert not bad, f"{name} imports {bad}"


@pytest.mark.parametrize("graph", [GRAPH, ANYWHERE], ids=["module level", "anywhere"])
def test_imports_have_no_cycle(graph: dict[str, set[str]]) -> None:
    """Not even through imports inside functions (a lazy import hides a cycle, not removes it)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for dep in sorted(graph[name] - {name}):
            if state.get(dep) == 1:
                cycle = path[path.index(dep):] + [dep] if dep in path else [name, dep]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep, path + [dep])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])


def test_every_registered_mode_keeps_the_contract() -> None:
    assert set(MODES) == {"text", "image", "toy"}
    for name, mode in MODES.items():
        assert isinstance(mode, Mode) and mode.name == name and get_mode(name) is mode
        assert mode.default_preset({}) in mode.presets
        # every preset section names settings the mode's configs have
        fields = {"train": set(mode.run_config({}).train.__dataclass_fields__),
                  "data": set(mode.data_config.__dataclass_fields__),
                  "model": set(mode.model_config.__dataclass_fields__)}
        for preset in mode.presets.values():
            for section, values in preset.items():
                assert set(values) <= fields[section], (name, section, set(values) - fields[section])
