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
    # a differential combination: the spectrum and the breakdown per bin, no summary per bin
    assert sorted(figs) == ["breakdown", "correlation", "pulls", "spectrum"]
    ax = figs["spectrum"].axes[-1]
    assert ax.get_xlabel() == "$p_T$ [GeV]"
    assert ax.get_xlim()[0] <= 0.0 and ax.get_xlim()[1] >= 60.0
    figs["spectrum"].savefig(tmp_path / "s.png", dpi=40)
    assert (tmp_path / "s.png").stat().st_size > 1000
    ticks = [t.get_text() for t in figs["correlation"].axes[0].get_xticklabels()]
    assert ticks == ["[0, 10)", "[10, 30)", "[30, 60)"]


def test_one_observable_summary_breakdown_and_no_correlation():
    comb = _combiner(1)
    figs = combination_figures(comb, comb.combine(), exp_label={"experiment": "X", "text": "Y"})
    assert sorted(figs) == ["breakdown", "pulls", "summary"]
    texts = {t.get_text() for t in figs["summary"].axes[0].texts}
    assert {"X", " Y"} <= texts or {"X", "Y"} <= texts


def test_many_observables_get_no_summary_each():
    comb = _combiner(13)
    figs = combination_figures(comb, comb.combine())
    assert sorted(figs) == ["correlation", "pulls"]  # 13 > MAX_SUMMARY_PLOTS
    assert file_stem("JES / flavour (2016)") == "JES_flavour_2016"
    assert np.isfinite(comb.combine().values["b12"])
