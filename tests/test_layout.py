"""The layout shows the pipeline: input forms → spec → χ² → solver → result → outputs, and no
module imports another that imports it back. Every import counts: at the top, inside functions,
and under ``if TYPE_CHECKING:`` (what a type checker and a reader see: a result type that
imports a writer while the writer annotates with the result type is a cycle)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "hepcombine"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """hepcombine modules imported by ``path`` (absolute names), anywhere in it."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("hepcombine"):
                out.add(mod)
                for alias in node.names:  # "from . import spec" imports a module
                    out.add(f"{mod}.{alias.name}")
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("hepcombine"))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return out


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {m: {i for i in _imports(p) if i in modules and i != m} for m, p in modules.items()}


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen: set[str] = set()
    stack = list(graph[start])
    while stack:
        m = stack.pop()
        if m not in seen:
            seen.add(m)
            stack.extend(graph.get(m, ()))
    return seen


def test_the_graph_sees_type_checking_imports(graph):
    """The graph is built from every import: ``outputs.root`` imports the result types for its
    annotations only."""
    assert {"hepcombine.result", "hepcombine.differential"} <= graph["hepcombine.outputs.root"]


def test_no_import_cycle(graph):
    """0 cycles, the package root included (it imports everything for type checkers, so
    nothing may import it: the version is in ``hepcombine/_version.py``)."""
    cycles = sorted(m for m in graph if m in _reachable(graph, m))
    assert cycles == []


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        # the core knows nothing of files, specifications, outputs or the command line
        (m, u)
        for m in (
            "hepcombine.binning",
            "hepcombine.rebinning",
            "hepcombine.linear_maps",
            "hepcombine.measurement",
            "hepcombine.names",
            "hepcombine.correlations",
            "hepcombine.chi2",
            "hepcombine.solver",
            "hepcombine.result",
            "hepcombine.differential",
            "hepcombine.blue.result",
            "hepcombine.combiner",
            "hepcombine.formatting",
        )
        for u in ("hepcombine.spec", "hepcombine.inputs", "hepcombine.outputs", "hepcombine.cli")
    ]
    + [
        # the step of a distribution (combine_differential) sits with its specification
        # builder; it reaches the combiner, never an output
        ("hepcombine.inputs.histograms", "hepcombine.outputs"),
        ("hepcombine.inputs.histograms", "hepcombine.cli"),
        ("hepcombine.spec", "hepcombine.cli"),
        ("hepcombine.spec", "hepcombine.outputs"),
        ("hepcombine.outputs.root", "hepcombine.cli"),
        ("hepcombine.scan", "hepcombine.cli"),
        # rebinning and linear quantities are canonical measurements: they know nothing of fits
        ("hepcombine.rebinning", "hepcombine.combiner"),
        ("hepcombine.rebinning", "hepcombine.chi2"),
        ("hepcombine.rebinning", "hepcombine.solver"),
        ("hepcombine.linear_maps", "hepcombine.combiner"),
        ("hepcombine.linear_maps", "hepcombine.measurement"),
        # the chunk runner of scans and toys knows nothing of what it runs
        ("hepcombine.execution", "hepcombine.combiner"),
        ("hepcombine.execution", "hepcombine.spec"),
        ("hepcombine.execution", "hepcombine.toys"),
        ("hepcombine.execution", "hepcombine.scan"),
    ],
)
def test_stage_does_not_reach_a_later_one(graph, lower, upper):
    reached = _reachable(graph, lower)
    assert not any(r == upper or r.startswith(upper + ".") for r in reached), sorted(reached)


@pytest.mark.parametrize(
    "reader", ["hepcombine.inputs.convino", "hepcombine.inputs.yaml", "hepcombine.inputs.csv"]
)
def test_readers_know_nothing_of_fits_or_outputs(graph, reader):
    """A reader produces a specification; only the specification builds a combiner."""
    later = ("hepcombine.combiner", "hepcombine.chi2", "hepcombine.solver", "hepcombine.outputs")
    assert not [m for m in graph[reader] if m.startswith(later)]


@pytest.mark.parametrize(
    ("code", "absent"),
    [
        # the Convino reader and the scans need neither PyYAML nor jsonschema
        (
            "import hepcombine.inputs.convino, hepcombine.scan",
            ("yaml", "jsonschema", "matplotlib", "uproot"),
        ),
        # PyROOT (seconds to import) only where ROOT objects are made: not for reading
        # histograms (a user's PyROOT objects come with ROOT loaded) nor for writing files
        (
            "import hepcombine, hepcombine.inputs.histograms, hepcombine.outputs.root, "
            "hepcombine.differential, hepcombine.result",
            ("ROOT", "cppyy"),
        ),
        # the command line's parser (hepcombine --help) imports nothing heavy
        (
            "from hepcombine.cli import build_parser; build_parser()",
            ("numpy", "scipy", "yaml", "matplotlib", "uproot", "iminuit"),
        ),
    ],
)
def test_heavy_imports_happen_where_they_are_used(code, absent):
    import subprocess
    import sys

    check = f"import sys\n{code}\nprint(sorted(m for m in {absent!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_loggers_named_by_the_tests_exist(graph):
    """A test that sets the level of ``logger="hepcombine.x"`` checks what the module logging
    as ``hepcombine.x`` (or a module below it) says; a stale name (a module that moved) makes
    such a test pass on the default level alone."""
    import re

    tests = Path(__file__).resolve().parent
    named = {
        (path.relative_to(tests).as_posix(), name)
        for path in tests.rglob("*.py")
        if path.name != "test_layout.py"
        for name in re.findall(r"""logger=["'](hepcombine[\w.]*)["']""", path.read_text())
    }
    assert named, "the pattern finds the loggers the tests name"
    stale = sorted((f, n) for f, n in named if n not in graph)
    assert stale == []
