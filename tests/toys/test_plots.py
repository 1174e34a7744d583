"""Rendering tests of hepcombine.plots.toys (Agg backend, PNG files) and the iminuit Gaussian fit
behind the pull plot, checked on samples drawn here from a known Gaussian."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hepcombine import Combiner, Measurement
from hepcombine.toys import fit_gaussian, run_toys

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
pytest.importorskip("mplhep")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402

from hepcombine.plots.toys import (  # noqa: E402
    plot_chi2_distribution,
    plot_coverage,
    plot_pull_distribution,
)


@pytest.fixture(scope="module")
def toys():
    a = Measurement.from_uncertainties(
        {f"bin{i}": 10.0 + i for i in range(6)},
        {f"bin{i}": 1.0 for i in range(6)},
        {"lumi": {f"bin{i}": 0.2 * (10 + i) for i in range(6)}},
        name="A",
    )
    b = Measurement.from_uncertainties(
        {f"bin{i}": 10.5 + i for i in range(6)},
        {f"bin{i}": 1.3 for i in range(6)},
        {"lumi": {f"bin{i}": 0.1 * (10 + i) for i in range(6)}},
        name="B",
    )
    comb = Combiner([a, b], correlations={("A:lumi", "B:lumi"): 0.8})
    return run_toys(comb, 150, seed=3, compare=True)


@pytest.mark.parametrize(("mu", "sigma"), [(0.0, 1.0), (0.4, 1.7)])
def test_fit_gaussian_recovers_known_parameters(mu, sigma):
    n = 20000
    x = np.random.default_rng(1).normal(mu, sigma, n)
    fit = fit_gaussian(x, np.linspace(-5, 5, 41))  # a part of the tails is outside the range
    assert fit.valid
    assert fit.mean == pytest.approx(mu, abs=4 * fit.mean_error)
    assert fit.sigma == pytest.approx(sigma, abs=4 * fit.sigma_error)
    assert fit.mean_error == pytest.approx(sigma / math.sqrt(n), rel=0.15)
    assert not fit_gaussian(np.array([1.0]), np.linspace(-1, 1, 3)).valid


def test_pull_distribution(toys, tmp_path):
    before = dict(plt.rcParams)
    fig = plot_pull_distribution(toys)
    assert dict(plt.rcParams) == before  # no global style change
    ax = fig.axes[0]
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert bars
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"{6 * 150} pulls" in labels
    assert any(t.startswith("fit: μ =") for t in labels)
    assert "N(0, 1)" in labels
    fig.savefig(tmp_path / "pulls.png")
    assert (tmp_path / "pulls.png").stat().st_size > 10_000
    one = plot_pull_distribution(toys, "bin2", bins=20)
    assert "bin2" in one.axes[0].get_title()
    one.savefig(tmp_path / "pulls_bin2.png")
    plt.close("all")


def test_coverage_and_chi2(toys, tmp_path):
    fig = plot_coverage(toys)
    ax = fig.axes[0]
    series = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(series) == 2  # Neyman and the Pearson comparison
    y = np.asarray(series[0].lines[0].get_ydata(), dtype=float)
    np.testing.assert_allclose(y, [toys.coverage[o] for o in toys.observables])
    assert [t.get_text() for t in ax.get_xticklabels()] == list(toys.observables)
    fig.savefig(tmp_path / "coverage.png")
    fig = plot_chi2_distribution(toys)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any(t.startswith(f"χ²({toys.ndf}), KS p =") for t in labels)
    fig.savefig(tmp_path / "chi2.png")
    # into a given axes: drawn there, the caller's figure returned
    user_fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    assert plot_pull_distribution(toys, ax=axes[0]) is user_fig
    assert plot_coverage(toys, ax=axes[1], x=np.arange(6) + 0.5, xlabel="bin centre") is user_fig
    assert plot_chi2_distribution(toys, ax=axes[2]) is user_fig
    assert axes[1].get_xlabel() == "bin centre"
    user_fig.savefig(tmp_path / "panel.png")
    with pytest.raises(ValueError, match="6 observables"):
        plot_coverage(toys, x=[1.0, 2.0])
    plt.close("all")
