"""The figures of a combination (hepcombine.plots.combination), as ``--plots`` writes them."""

from __future__ import annotations

import numpy as np
import pytest

from hepcombine import Binning, Combiner, Measurement

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from hepcombine.plots.combination import combination_figures, file_stem  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def _combiner(n_bins: int) -> Combiner:
    ms = [
        Measurement.from_uncertainties(
            {f"b{i}": v * (i + 1) for i in range(n_bins)},
            {f"b{i}": 1.0 for i in range(n_bins)},
            {f"jes_{name}": {f"b{i}": 0.3 for i in range(n_bins)}},
            name=name,
        )
        for name, v in (("A", 10.0), ("B", 11.0))
    ]
    return Combiner(ms, correlations={("A:jes_A", "B:jes_B"): 1.0})


def test_stems_and_the_spectrum_on_the_binning(tmp_path):
    comb = _combiner(3)
    res = comb.combine()
    b = Binning.from_edges([0.0, 10.0, 30.0, 60.0], name="pt", label="$p_T$", unit="GeV")
    figs = combination_figures(comb, res, binning=b)
    assert sorted(figs) == [
        "correlation",
        "pulls",
        "spectrum",
        "summary_b0",
        "summary_b1",
        "summary_b2",
    ]
    ax = figs["spectrum"].axes[-1]
    assert ax.get_xlabel() == "$p_T$ [GeV]"
    assert ax.get_xlim()[0] <= 0.0 and ax.get_xlim()[1] >= 60.0
    figs["spectrum"].savefig(tmp_path / "s.png", dpi=40)
    assert (tmp_path / "s.png").stat().st_size > 1000


def test_many_observables_get_no_summary_each():
    comb = _combiner(13)
    figs = combination_figures(comb, comb.combine())
    assert sorted(figs) == ["correlation", "pulls"]
    assert file_stem("JES / flavour (2016)") == "JES_flavour_2016"
    assert np.isfinite(comb.combine().values["b12"])
