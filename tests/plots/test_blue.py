"""Rendering tests of hepcombine.plots.blue (Agg backend, PNG written to a temporary
directory). The printed numbers are the published ones (ATLAS-CONF-2014-054: ATLAS
242.4 ± 9.4 pb, CMS 239 ± 14 pb, combination 241.5 ± 8.5 pb)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hepcombine.blue import blue_from_csv
from hepcombine.formatting import format_value

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
pytest.importorskip("mplhep")

from matplotlib.container import ErrorbarContainer  # noqa: E402

from hepcombine.plots.blue import (  # noqa: E402
    plot_correlation_scan,
    plot_summary,
    plot_summary_values,
)

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.fixture(scope="module")
def seed():
    return blue_from_csv(
        DATA / "lhc_ttbar_xsec_emu_8tev.csv", DATA / "lhc_ttbar_xsec_emu_8tev_corr.csv"
    )


def _texts(ax) -> list[str]:
    """The printed column at the right of a summary (header first)."""
    return [t.get_text() for t in ax.texts if t.get_position()[0] == 1.03]


def _seed_table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values, stat and total uncertainties of ATLAS and CMS read from the CSV here."""
    import csv

    with open(DATA / "lhc_ttbar_xsec_emu_8tev.csv") as f:
        rows = list(csv.DictReader(f))
    skip = {"measurement", "observable", "value"}
    values = np.array([float(r["value"]) for r in rows])
    stat = np.array([float(r["Stat"]) for r in rows])
    total = np.array(
        [np.hypot.reduce([float(v) for k, v in r.items() if k not in skip]) for r in rows]
    )
    return values, stat, total


def test_summary_plot(seed, tmp_path) -> None:
    import matplotlib.pyplot as plt

    fig = plot_summary(seed, unit="pb", exp_label={"experiment": "ATLAS+CMS", "sqrt_s": 8})
    out = tmp_path / "summary.png"
    fig.savefig(out, dpi=50)
    assert out.stat().st_size > 1000
    (ax,) = fig.axes
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 6  # inputs and combination, each total and statistical
    values, stat, total = _seed_table()
    # the statistical bars: thick, as long as the Stat column
    stat_bars = [b for b in bars if b.lines[0] is None]
    assert len(stat_bars) == 3
    texts = _texts(ax)
    expected = [
        format_value(v, s, np.sqrt(t**2 - s**2))
        for v, s, t in zip(values, stat, total, strict=True)
    ]
    # the combination: 241.5 ± 1.4 (stat), total 8.5 (published)
    assert texts[1:] == [*expected, "241.5 ± 1.4 ± 8.4"]
    assert texts[0] == "value ± stat ± syst"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["ATLAS", "CMS", "Combination"]
    assert ax.get_xlabel() == "sigma_tt [pb]"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [
        "total uncertainty",
        "stat. uncertainty",
        r"Combination ($\chi^2$/ndf = 0.05/1)",
    ]
    assert {"ATLAS+CMS", "8 TeV"} <= {t.get_text() for t in ax.texts}  # the label, as asked
    plt.close(fig)


def test_summary_plot_from_numbers_and_into_given_axes(tmp_path) -> None:
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 4))
    got = plot_summary_values(
        ["a", "b", "c"], [1.0, 2.0, 3.0], [0.5, 0.5, 0.5], 2.0, 0.3, theory=(2.2, 0.1), ax=right
    )
    assert got is fig and not left.has_data()
    fig.savefig(tmp_path / "numbers.png", dpi=50)
    assert len([c for c in right.containers if isinstance(c, ErrorbarContainer)]) == 4
    # PDG: 0.5 (500) keeps one digit, 0.30 (300) two
    assert _texts(right)[1:] == ["1.0 ± 0.5", "2.0 ± 0.5", "3.0 ± 0.5", "2.00 ± 0.30"]
    assert "Theory" in [t.get_text() for t in right.get_legend().get_texts()]
    plt.close(fig)


def test_scan_plot(seed, tmp_path) -> None:
    import matplotlib.pyplot as plt

    factors = np.linspace(0.0, 1.0, 6)
    scan = seed.scan_correlations("PDF", factors=factors)
    fig = plot_correlation_scan(scan)
    out = tmp_path / "scan.png"
    fig.savefig(out, dpi=50)
    assert out.stat().st_size > 1000
    top, bottom = fig.axes
    assert [t.get_text() for t in top.get_legend().get_texts()] == ["sigma_tt"]
    (line,) = [ln for ln in top.get_lines() if ln.get_label() == "sigma_tt"]
    np.testing.assert_allclose(line.get_xdata(), factors)
    np.testing.assert_allclose(line.get_ydata(), scan.value_shifts[:, 0])
    assert line.get_ydata()[-1] == pytest.approx(0.0, abs=1e-12)  # factor 1 is the nominal
    (unc,) = [ln for ln in bottom.get_lines() if ln.get_label() == "sigma_tt"]
    np.testing.assert_allclose(unc.get_ydata(), scan.uncertainty_shifts[:, 0])
    plt.close(fig)
