"""Tests of hepcombine.blue.

Reference numbers: the ATLAS-CMS 8 TeV tt̄ eμ combination (ATLAS-CONF-2014-054 and the seed
notebook: 241.46454 pb, weights 0.72487 / 0.27513, χ² 0.05403 for 1 dof, p 0.8162, total
correlation 23.5 %, per-source table), and closed forms worked out by hand in the tests.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from hepcombine.blue import Blue, blue_from_csv

DATA = Path(__file__).resolve().parent.parent / "data"
TABLE = DATA / "lhc_ttbar_xsec_emu_8tev.csv"
CORR = DATA / "lhc_ttbar_xsec_emu_8tev_corr.csv"

# the seed notebook's table (rounded to 0.1 pb there, two decimals in the issue)
SEED_PER_SOURCE = {
    "Stat": 1.42,
    "Trig": 1.03,
    "LepS": 0.87,
    "LepI": 1.65,
    "JetR": 1.20,
    "Lumi": 5.10,
}


def read_inputs() -> tuple[list[str], np.ndarray, list[str], np.ndarray, dict[str, float]]:
    """The data/ CSVs read with the csv module only (independent of hepcombine)."""
    with TABLE.open() as fh:
        rows = list(csv.DictReader(fh))
    names = [r["measurement"] for r in rows]
    sources = [c for c in rows[0] if c not in ("measurement", "observable", "value")]
    values = np.array([float(r["value"]) for r in rows])
    sigma = np.array([[float(r[s]) for s in sources] for r in rows])
    with CORR.open() as fh:
        rho = {r["source"]: float(r["rho"]) for r in csv.DictReader(fh)}
    return names, values, sources, sigma, rho


@pytest.fixture(scope="module")
def seed() -> Blue:
    return blue_from_csv(TABLE, CORR)


# ------------------------------------------------------------------------- seed combination


def test_seed_published_numbers(seed: Blue) -> None:
    assert isinstance(seed.combined_result, float)
    assert seed.combined_result == pytest.approx(241.46454, abs=5e-6)
    assert seed.weights.shape == (2,)
    np.testing.assert_allclose(seed.weights, [0.72487, 0.27513], atol=5e-6)
    assert seed.weights_table == pytest.approx({"ATLAS": 0.72487, "CMS": 0.27513}, abs=5e-6)
    chi2, ndf = seed.chi2_ndf
    assert chi2 == pytest.approx(0.05403, abs=5e-6)
    assert ndf == 1
    assert seed.p_value == pytest.approx(0.8162, abs=5e-5)
    assert seed.total_correlations[0, 1] == pytest.approx(0.235, abs=5e-4)
    # seed notebook, cell 12 output
    np.testing.assert_allclose(seed.total_covariance, [[89.0, 30.135], [30.135, 185.22]])
    unc = seed.combined_uncertainties
    for source, ref in SEED_PER_SOURCE.items():
        assert unc[source] == pytest.approx(ref, abs=0.005), source
    assert seed.combined_uncertainty == pytest.approx(8.53, abs=0.005)
    assert math.sqrt(sum(v**2 for v in unc.values())) == pytest.approx(8.53, abs=0.005)


def test_seed_against_hand_computation(seed: Blue) -> None:
    """Two inputs: w1 = (σ2² − C12)/(σ1² + σ2² − 2C12), built from the CSVs by hand."""
    _, y, sources, s, rho = read_inputs()
    c11, c22 = (s[0] ** 2).sum(), (s[1] ** 2).sum()
    c12 = sum(rho[k] * s[0, i] * s[1, i] for i, k in enumerate(sources))
    w1 = (c22 - c12) / (c11 + c22 - 2 * c12)
    x = w1 * y[0] + (1 - w1) * y[1]
    var = (c11 * c22 - c12**2) / (c11 + c22 - 2 * c12)
    assert seed.combined_result == pytest.approx(x, rel=1e-12)
    np.testing.assert_allclose(seed.weights, [w1, 1 - w1], rtol=1e-12)
    assert seed.combined_covariance[0, 0] == pytest.approx(var, rel=1e-12)
    assert seed.chi2_ndf[0] == pytest.approx((y[0] - y[1]) ** 2 / (c11 + c22 - 2 * c12))
    # per source: V_k = w1²σ1k² + w2²σ2k² + 2 ρ_k w1 w2 σ1k σ2k
    w2 = 1 - w1
    for i, k in enumerate(sources):
        vk = (w1 * s[0, i]) ** 2 + (w2 * s[1, i]) ** 2 + 2 * rho[k] * w1 * w2 * s[0, i] * s[1, i]
        assert seed.combined_uncertainties[k] == pytest.approx(math.sqrt(vk), rel=1e-10), k


def test_seed_dataframe_form_matches_csv_form(seed: Blue) -> None:
    pd = pytest.importorskip("pandas")
    df = pd.read_csv(TABLE, index_col="measurement")
    corr = pd.read_csv(CORR).set_index("source")["rho"]
    comb = Blue(df, corr)
    assert comb.results_column == "value"
    assert comb.observables == ("sigma_tt",)
    assert comb.combined_result == pytest.approx(seed.combined_result, rel=1e-14)


def test_plain_mapping_and_array_forms(seed: Blue) -> None:
    names, y, sources, s, rho = read_inputs()
    rows = {
        n: {"value": y[i], **dict(zip(sources, s[i], strict=True))} for i, n in enumerate(names)
    }
    a = Blue(rows, rho)
    cols = {"measurement": names, "value": y, **{k: s[:, i] for i, k in enumerate(sources)}}
    b = Blue(cols, rho)
    c = Blue(np.column_stack([y, s]), rho, measurements=names, columns=["value", *sources])
    for comb in (a, b, c):
        assert comb.combined_result == pytest.approx(seed.combined_result, rel=1e-14)
        assert comb.measurements == ("ATLAS", "CMS")


SEED_CELLS = [
    "from hepcombine.blue import Blue\nimport numpy as np\nimport pandas as pd",
    "df = pd.read_csv('./data/lhc_ttbar_xsec.csv')\ndf.T",
    "correlations = df.loc['Correlations'].drop('Experiment')\ndf = df.drop('Correlations')",
    "df.T.head()",
    "comb = Blue(df, correlations)",
    "comb.combined_result",
    "res = pd.Series(\n    {comb.results_column: comb.combined_result, \n"
    "     **comb.combined_uncertainties}, name='Combination',\n)",
    # df.append (removed in pandas 2) replaced by pd.concat
    "final_df = pd.concat([df, res.to_frame().T])\n"
    "final_df['Total uncertainty'] = np.sqrt("
    "(final_df.drop('Experiment', axis=1)**2).sum(axis=1))\n"
    "np.round(final_df[[*df.columns, 'Total uncertainty']].T, 1)",
    "comb.weights",
    "from scipy.stats import chi2\nchi2_ndf = comb.chi2_ndf\n"
    "print('chi2 =', chi2_ndf[0], ', ndf =', chi2_ndf[1], ', p-value =', chi2.sf(*chi2_ndf))",
    "print('Correlation between ATLAS and CMS measurements = {:.1%}'"
    ".format(comb.total_correlations[0, 1]))",
    "cov = comb.total_covariance\ncov",
    "from scipy.optimize import minimize\n\ndef chi_square_fit(res, cov):\n"
    "    inv_cov = np.linalg.inv(cov)\n    def func(x):\n"
    "        return (res.values - x).T @ inv_cov @ (res.values - x)\n    return func",
    "min_res = minimize(chi_square_fit(df.Experiment, cov), [0])\nmin_res",
    "comb.combined_result, min_res.x[0]",
]


def test_seed_notebook_cells_run_unchanged(tmp_path, monkeypatch, capsys) -> None:
    """The seed notebook's code, verbatim but for the import and df.append, on a CSV in the
    seed's layout (index column without header, an Experiment column, a Correlations row)."""
    pytest.importorskip("pandas")
    names, y, sources, s, rho = read_inputs()
    (tmp_path / "data").mkdir()
    lines = [",".join(["Experiment", *sources])]
    lines += [
        ",".join([n, str(float(y[i])), *(str(float(v)) for v in s[i])]) for i, n in enumerate(names)
    ]
    lines.append(",".join(["Correlations", "0.0", *(str(rho[k]) for k in sources)]))
    (tmp_path / "data" / "lhc_ttbar_xsec.csv").write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(tmp_path)
    ns: dict = {}
    for cell in SEED_CELLS:
        exec(compile(cell, "<seed cell>", "exec"), ns)
    out = capsys.readouterr().out
    assert "Correlation between ATLAS and CMS measurements = 23.5%" in out
    assert "ndf = 1" in out
    comb, final_df, min_res = ns["comb"], ns["final_df"], ns["min_res"]
    assert comb.results_column == "Experiment"
    assert comb.combined_result == pytest.approx(241.46454, abs=5e-6)
    assert min_res.x[0] == pytest.approx(comb.combined_result, abs=1e-4)
    assert min_res.fun == pytest.approx(0.05403, abs=5e-6)
    table = np.round(final_df[[*ns["df"].columns, "Total uncertainty"]].T, 1)
    assert table.loc["Experiment", "Combination"] == pytest.approx(241.5)
    assert table.loc["Lumi", "Combination"] == pytest.approx(5.1)
    assert table.loc["Total uncertainty", "Combination"] == pytest.approx(8.5)


def test_repr_and_html(seed: Blue) -> None:
    text = repr(seed)
    assert "sigma_tt = 241.465" in text and "ATLAS 0.7249" in text
    page = seed._repr_html_()
    assert "<table>" in page and "ATLAS" in page and "241.465" in page
