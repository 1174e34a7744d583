"""Run every notebook in notebooks/ top to bottom, and pin the numbers of the seed combination
notebook.

Each notebook's code cells are exec'd in order in one namespace, with the notebook's directory
as working directory and the Agg matplotlib backend; IPython magics (``%``/``!`` lines, ``%%``
cells) are skipped. No jupyter dependency.
"""

from __future__ import annotations

import contextlib
import functools
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))


def _code_cells(path: Path) -> list[str]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = []
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        src = cell["source"]
        src = "".join(src) if isinstance(src, list) else src
        if src.lstrip().startswith("%%"):
            continue
        lines = [ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!"))]
        cells.append("\n".join(lines))
    return cells


@functools.cache
def run_notebook(path: Path, cwd: Path | None = None) -> dict[str, Any]:
    """Execute the notebook's code cells in ``cwd`` (default: the notebook's directory);
    returns the namespace (cached per notebook and directory). A style the notebook chooses
    (``mplhep.style.use``) is undone afterwards."""
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns: dict[str, Any] = {"__name__": "__main__", "display": lambda *a, **k: None}
    try:
        with contextlib.chdir(path.parent if cwd is None else cwd):
            for i, src in enumerate(_code_cells(path)):
                code = compile(src, f"{path.name}[code cell {i}]", "exec")
                exec(code, ns)
    finally:
        plt.close("all")
        matplotlib.rcdefaults()
        matplotlib.use("Agg")
    return ns


def test_runner_finds_the_notebooks() -> None:
    assert NOTEBOOK_DIR / "ttbar_8tev_blue.ipynb" in NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path) -> None:
    run_notebook(path)


@pytest.mark.parametrize("where", [".", "docs/_ext"])
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebooks_run_from_another_directory(path: Path, where: str) -> None:
    """The notebooks find the repository's data/ from the repository root or any directory
    below it, as Jupyter, nbconvert or the documentation build (which runs a copy of each from
    docs/tutorials/) may start them."""
    ns = run_notebook(path, NOTEBOOK_DIR.parent / where)
    if path.name == "ttbar_8tev_blue.ipynb":
        assert ns["comb"].combined_result == pytest.approx(241.46454, abs=5e-6)


def test_ttbar_8tev_blue_numbers() -> None:
    """Published: ATLAS-CONF-2014-054 and the seed notebook (241.46454 pb, weights
    0.72487 / 0.27513, χ² 0.05403 for 1 dof, p 0.8162, correlation 23.5 %, Table 1 column of
    the combination rounded to 0.1 pb)."""
    pytest.importorskip("pandas")
    ns = run_notebook(NOTEBOOK_DIR / "ttbar_8tev_blue.ipynb")
    comb = ns["comb"]
    assert comb.combined_result == pytest.approx(241.46454, abs=5e-6)
    assert ns["min_res"].x[0] == pytest.approx(241.46454, abs=1e-4)
    assert comb.weights_table == pytest.approx({"ATLAS": 0.72487, "CMS": 0.27513}, abs=5e-6)
    assert ns["chi2_ndf"][0] == pytest.approx(0.05403, abs=5e-6)
    assert ns["chi2_ndf"][1] == 1
    assert ns["p_value"] == pytest.approx(0.8162, abs=5e-5)
    assert comb.total_correlations[0, 1] == pytest.approx(0.235, abs=5e-4)
    table = np.round(ns["final_df"].T, 1)["Combination"]
    expected = {
        "value": 241.5,
        "Stat": 1.4,
        "Trig": 1.0,
        "LepS": 0.9,
        "LepI": 1.7,
        "JetR": 1.2,
        "Lumi": 5.1,
        "Total uncertainty": 8.5,
    }
    for row, ref in expected.items():
        assert table[row] == pytest.approx(ref), row
    scan = ns["scan"]
    assert scan.source == "MC+PS"
    assert scan.values[-1, 0] == pytest.approx(241.46454, abs=5e-6)  # factor 1: nominal


def test_differential_from_root_output_is_read_by_root(tmp_path) -> None:
    """The notebook's ROOT file (deleted with its temporary directory at the end), written again
    with the notebook's arguments, is judged by ROOT."""
    from conftest import expect_distribution, judge_root_file

    from hepcombine.outputs.root import write_root

    ns = run_notebook(NOTEBOOK_DIR / "differential_from_root.ipynb")
    combination = ns["combination"]
    write_root(tmp_path / "c.root", combination, directory="pt_combination", normalised=True)
    expected = expect_distribution(combination, normalised=True)
    judge_root_file(tmp_path / "c.root", expected, directory="pt_combination")


def test_every_notebook_is_a_tutorial_of_the_documentation() -> None:
    """The documentation build executes every notebook and fails on one outside its table of
    contents: each must be listed in docs/index.md."""
    index = (NOTEBOOK_DIR.parent / "docs" / "index.md").read_text()
    missing = [p.stem for p in NOTEBOOKS if f"tutorials/{p.stem}\n" not in index]
    assert not missing, f"add to the toctree of docs/index.md: {missing}"
