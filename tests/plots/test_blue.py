"""Rendering tests of hepcombine.plots.blue (Agg backend, PNG written to a temporary
directory). The printed numbers are the published ones (ATLAS-CONF-2014-054: ATLAS
242.4 ± 9.4 pb, CMS 239 ± 14 pb, combination 241.5 ± 8.5 pb)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hepcombine.blue import blue_from_csv

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
    return [t.get_text() for t in ax.texts]


def test_summary_plot(seed, tmp_path) -> None:
    import matplotlib.pyplot as plt

    fig = plot_summary(seed, unit="pb")
    out = tmp_path / "summary.png"
    fig.savefig(out, dpi=50)
    assert out.stat().st_size > 1000
    (ax,) = fig.axes
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 4  # inputs and combination, total and statistical
    assert len(ax.patches) == 1  # the combination band
    band = ax.patches[0].get_extents()  # display coordinates, the band is wide, not empty
    assert band.width > 0
    texts = _texts(ax)
    assert texts == ["242.4 ± 9.4", "239 ± 14", "241.5 ± 8.5"]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["ATLAS", "CMS", "Combination"]
    assert ax.get_xlabel() == "sigma_tt [pb]"
    plt.close(fig)


def test_summary_plot_from_numbers(tmp_path) -> None:
    import matplotlib.pyplot as plt

    fig = plot_summary_values(["a", "b", "c"], [1.0, 2.0, 3.0], [0.5, 0.5, 0.5], 2.0, 0.3)
    fig.savefig(tmp_path / "numbers.png", dpi=50)
    (ax,) = fig.axes
    assert len([c for c in ax.containers if isinstance(c, ErrorbarContainer)]) == 2
    assert _texts(ax) == ["1.00 ± 0.50", "2.00 ± 0.50", "3.00 ± 0.50", "2.00 ± 0.30"]
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
    (line,) = [ln for ln in top.get_lines() if ln.get_label() == "sigma_tt"]
    np.testing.assert_allclose(line.get_xdata(), factors)
    np.testing.assert_allclose(line.get_ydata(), scan.value_shifts[:, 0])
    assert line.get_ydata()[-1] == pytest.approx(0.0, abs=1e-12)  # factor 1 is the nominal
    (unc,) = [ln for ln in bottom.get_lines() if ln.get_label() == "sigma_tt"]
    np.testing.assert_allclose(unc.get_ydata(), scan.uncertainty_shifts[:, 0])
    plt.close(fig)
