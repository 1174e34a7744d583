"""The configurations shipped in data/ run and give their published numbers."""

import pytest
from conftest import DATA, minimise_chi2, profile_interval

from hepcombine import ConfigError, load_config, write_convino


def test_ttbar_yaml_reproduces_the_seed_combination():
    """Reference: data/README — BLUE with these inputs 241.46454 pb, χ² 0.05403 (1 dof)."""
    spec = load_config(DATA / "ttbar_8tev_emu.yaml")
    res = spec.combiner().combine()
    assert res.values["sigma_tt"] == pytest.approx(241.46454, rel=1e-7)
    assert res.errors["sigma_tt"] == pytest.approx(8.5325, abs=5e-4)
    assert res.chi2 == pytest.approx(0.05403, abs=5e-6)


def test_names_with_convino_separators_cannot_be_written_as_convino(tmp_path):
    spec = load_config(DATA / "ttbar_8tev_emu.yaml")  # has sources 'MC+PS' and 'Z+j'
    with pytest.raises(ConfigError, match=r"MC\+PS.*separators"):
        write_convino(spec, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def example_chi2():
    """The χ² of data/convino_example written out from method.md §1–2 with the files' numbers
    (Pearson, relative luminosity, Convino's kinked asymmetric jes_c, pulled jes_a).
    Parameters: x, λ_lumi (shared: ρ = 1 between the three), λ_jes_a, λ_jes_b (ρ = 0.5), λ_jes_c."""
    import numpy as np

    h_a = np.array([[0.0625, 0.15, 0.30], [0.15, 1.60, 0.74], [0.30, 0.74, 2.50]])  # (x, jes, lumi)
    sig_b = np.array([5.2, 0.85, 0.97])
    rho_b = np.array([[1, -0.35, -0.55], [-0.35, 1, 0.05], [-0.55, 0.05, 1]])
    h_b = np.linalg.inv(rho_b * np.outer(sig_b, sig_b))

    def canonical(h):
        m = h[0, 0]
        u = -h[0, 1:] / m
        d = h[1:, 1:] - np.outer(h[0, 1:], h[0, 1:]) / m - np.eye(2)
        return m, u, d

    fits = [(242.0, *canonical(h_a), np.array([0.15, 0.0])), (236.5, *canonical(h_b), np.zeros(2))]
    c_jes = np.linalg.inv(np.array([[1.0, 0.5], [0.5, 1.0]]))

    def pearson(x_hat, m, pred):
        return m * (pred - x_hat) ** 2 * x_hat / pred

    def chi2(p):
        x, l_lumi, l_ja, l_jb, l_jc = p
        total = l_lumi**2 + np.array([l_ja, l_jb]) @ c_jes @ np.array([l_ja, l_jb]) + l_jc**2
        for (x_hat, m, u, d, lam_hat), l_jes in zip(fits, (l_ja, l_jb), strict=True):
            delta = np.array([l_jes, l_lumi]) - lam_hat  # (jes absolute, lumi relative)
            pred = x * (1 - u[1] * delta[1] / x_hat) - u[0] * delta[0]
            total += (
                pearson(x_hat, m, pred)
                + delta @ d @ delta
                - 2 * lam_hat @ delta
                - lam_hat @ lam_hat
            )
        shift_jes = 3.2 * l_jc if l_jc >= 0 else 2.6 * l_jc  # (+3.2-2.6): s(−1) = −2.6
        pred_c = x * (1 - (-5.8) * l_lumi / 239.8) - shift_jes
        return total + pearson(239.8, 1 / 4.1**2, pred_c)

    return chi2


def test_convino_example_runs_unchanged_and_matches_the_written_chi2(tmp_path):
    import json

    from hepcombine.cli import main

    code = main(
        [
            "combine",
            str(DATA / "convino_example" / "combination.txt"),
            "--output-dir",
            str(tmp_path),
            "--json",
            str(tmp_path / "r.json"),
        ]
    )
    assert code == 0
    out = json.loads((tmp_path / "r.json").read_text())
    assert out["chi2_definition"] == "pearson"  # Convino files default to Pearson, as convino
    chi2 = example_chi2()
    best = minimise_chi2(chi2, [239.0, 0, 0, 0, 0])
    comb = out["combined"]["xsec"]
    assert out["chi2"] == pytest.approx(best.fun, abs=1e-6)
    assert comb["value"] == pytest.approx(best.x[0], abs=1e-4)
    lo, hi = profile_interval(chi2, best, 0, 15.0)
    assert comb["interval"] == pytest.approx([lo, hi], abs=2e-3)
    assert (tmp_path / "result.txt").exists()
