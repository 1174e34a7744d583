"""Measurements in different binnings (hepcombine.rebinning, issue 20).

The reference is written here and shares no code with hepcombine: the combined χ² of the
measurements *in their own bins*, as one quadratic form in (combined bins x, free shapes s,
sources λ), solved by numpy:

* a measurement finer than the combined bins predicts its bins as G x + N s: G fills each
  combined bin with a constant density (per-bin contents: in proportion to the widths), N
  spans every shape inside the combined bins that leaves their means (sums) alone, and s is
  free — "its fine χ² with the shape inside each combined bin free";
* a measurement coarser than the combined bins predicts each of its bins as the width-weighted
  mean (the sum) of the combined bins inside it: G x, no s;
* orthogonal inputs contribute ‖G x + N s − U λ − x̂‖² / σ², Hessian inputs
  (θ − θ̂)ᵀ h (θ − θ̂) − λᵀλ with θ = (G x + N s, λ) and pulled λ̂ in θ̂; the prior is λᵀC⁻¹λ.

The matrices G and N are built from the bin edges in the test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from scipy.linalg import null_space

from hepcombine import Combiner, Measurement
from hepcombine.binning import Binning
from hepcombine.exceptions import HepCombineError, InvalidMeasurement
from hepcombine.measurement import DifferentialMeasurement
from hepcombine.rebinning import merge_matrix, merge_measurement, rebin

DATA = Path(__file__).resolve().parents[1] / "data"


# --------------------------------------------------------------------------- the reference
@dataclass
class Raw:
    """One measurement as the test wrote it."""

    name: str
    edges: np.ndarray
    values: np.ndarray
    sigma: np.ndarray
    shifts: dict[str, np.ndarray]  # source -> shift per bin
    hessian: np.ndarray | None = None  # in (bins, sources), with the unit priors
    pulls: dict[str, float] = field(default_factory=dict)

    def measurement(self) -> Measurement:
        bins = [f"v{i}" for i in range(len(self.values))]
        if self.hessian is None:
            return Measurement.from_uncertainties(
                dict(zip(bins, self.values, strict=True)),
                dict(zip(bins, self.sigma, strict=True)),
                {s: dict(zip(bins, u, strict=True)) for s, u in self.shifts.items()},
                name=self.name,
            )
        return Measurement.from_hessian(
            self.hessian,
            bins + list(self.shifts),
            dict(zip(bins, self.values, strict=True)),
            nuisance_values=self.pulls,
            name=self.name,
        )

    def differential(self) -> DifferentialMeasurement:
        return DifferentialMeasurement(self.measurement(), Binning.from_edges(self.edges))


def _prediction_matrices(
    fine: np.ndarray, combined: np.ndarray, per_bin: bool
) -> tuple[np.ndarray, np.ndarray]:
    """G (bins of the measurement × combined bins) and N (bins × free shapes) from edges."""
    lo_m, hi_m = fine[:-1], fine[1:]
    lo_c, hi_c = combined[:-1], combined[1:]
    G = np.zeros((len(lo_m), len(lo_c)))
    groups: dict[int, list[int]] = {}
    for j in range(len(lo_m)):
        inside = [
            c for c in range(len(lo_c)) if lo_c[c] >= lo_m[j] - 1e-12 and hi_c[c] <= hi_m[j] + 1e-12
        ]
        if inside:  # the measurement's bin spans combined bins: their mean (sum)
            w = hi_c[inside] - lo_c[inside]
            G[j, inside] = 1.0 if per_bin else w / w.sum()
            continue
        (c,) = [
            c for c in range(len(lo_c)) if lo_c[c] <= lo_m[j] + 1e-12 and hi_m[j] <= hi_c[c] + 1e-12
        ]
        # a finer bin inside combined bin c: constant density, or its share of the content
        G[j, c] = (hi_m[j] - lo_m[j]) / (hi_c[c] - lo_c[c]) if per_bin else 1.0
        groups.setdefault(c, []).append(j)
    shapes = []
    for js in groups.values():
        if len(js) < 2:
            continue
        w = hi_m[js] - lo_m[js]
        row = np.ones(len(js)) if per_bin else w / w.sum()
        for v in null_space(row[None, :]).T:  # shapes that keep the merged value
            col = np.zeros(len(lo_m))
            col[js] = v
            shapes.append(col)
    N = np.array(shapes).T if shapes else np.zeros((len(lo_m), 0))
    return G, N


def reference(
    raws: list[Raw],
    combined: np.ndarray,
    corr: dict[tuple[str, str], float],
    per_bin: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Combined bins and their covariance from the written quadratic form (module docstring)."""
    n_x = len(combined) - 1
    mats = [_prediction_matrices(r.edges, combined, per_bin) for r in raws]
    n_s = [N.shape[1] for _, N in mats]
    srcs = [f"{r.name}:{s}" for r in raws for s in r.shifts]
    n = n_x + sum(n_s) + len(srcs)
    Q = np.zeros((n, n))
    b = np.zeros(n)
    off = n_x
    for r, (G, N), k in zip(raws, mats, n_s, strict=True):
        n_e = len(r.values)
        own = [srcs.index(f"{r.name}:{s}") for s in r.shifts]
        P = np.zeros((n_e, n))  # the predicted bins
        P[:, :n_x] = G
        P[:, off : off + k] = N
        off += k
        L = np.zeros((len(own), n))  # the measurement's sources
        for i, g in enumerate(own):
            L[i, n - len(srcs) + g] = 1.0
        if r.hessian is None:
            U = np.array([r.shifts[s] for s in r.shifts]).T.reshape(n_e, len(own))
            R = P - U @ L
            W = np.diag(1.0 / r.sigma**2)
            Q += R.T @ W @ R
            b += R.T @ W @ r.values
        else:
            T = np.vstack([P, L])
            theta_hat = np.concatenate([r.values, [r.pulls.get(s, 0.0) for s in r.shifts]])
            Q += T.T @ r.hessian @ T - L.T @ L
            b += T.T @ r.hessian @ theta_hat
    C = np.eye(len(srcs))
    for (a, c), rho in corr.items():
        C[srcs.index(a), srcs.index(c)] = C[srcs.index(c), srcs.index(a)] = rho
    # λ = L η with C = L Lᵀ (ρ = ±1 makes C singular: L has fewer columns), prior ηᵀη
    w, vec = np.linalg.eigh(C)
    keep = w > 1e-12
    L = vec[:, keep] * np.sqrt(w[keep])
    n_lam = len(srcs)
    Tz = np.zeros((n, n - n_lam + L.shape[1]))
    Tz[: n - n_lam, : n - n_lam] = np.eye(n - n_lam)
    Tz[n - n_lam :, n - n_lam :] = L
    Qe = Tz.T @ Q @ Tz
    Qe[n - n_lam :, n - n_lam :] += np.eye(L.shape[1])
    z = np.linalg.solve(Qe, Tz.T @ b)
    cov = np.linalg.inv(Qe)
    return z[:n_x], cov[:n_x, :n_x]


def combine(raws: list[Raw], corr, **rebin_options):
    from hepcombine.inputs.histograms import differential_spec

    spec = differential_spec([r.differential() for r in raws], corr, **rebin_options)
    result = spec.combiner().combine()
    values = np.array([result.values[o] for o in spec.observables])
    cov = result.covariance.sub(list(spec.observables)).matrix
    return spec, result, values, cov


# --------------------------------------------------------------------------- fixed cases
def _hessian(sigma: np.ndarray, shifts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The Hessian of a fit with these statistical errors and shifts, plus a constraint D."""
    M = np.diag(1.0 / sigma**2)
    A = rng.normal(size=(shifts.shape[1], shifts.shape[1]))
    D = 0.3 * A @ A.T
    return np.block(
        [[M, -M @ shifts], [-(M @ shifts).T, shifts.T @ M @ shifts + np.eye(shifts.shape[1]) + D]]
    )


def _inputs(per_bin: bool = False) -> list[Raw]:
    rng = np.random.default_rng(3)
    fine = np.array([0.0, 1.0, 2.0, 4.0, 8.0])
    w = np.diff(fine)
    dens = np.array([10.0, 8.0, 5.0, 2.0])
    scale = w if per_bin else np.ones(4)
    F = Raw(
        "F",
        fine,
        dens * scale + [0.3, -0.2, 0.1, 0.05],
        np.array([0.6, 0.5, 0.3, 0.15]) * scale,
        {"lumi": 0.03 * dens * scale, "shape": np.array([-0.2, 0.1, 0.15, 0.1]) * scale},
    )
    wg = np.array([2.0, 6.0])
    g_dens = np.array([9.2, 3.1])
    g_scale = wg if per_bin else np.ones(2)
    G = Raw(
        "G",
        np.array([0.0, 2.0, 8.0]),
        g_dens * g_scale,
        np.array([0.4, 0.2]) * g_scale,
        {"lumi": 0.03 * g_dens * g_scale, "model": np.array([0.3, -0.1]) * g_scale},
    )
    h_dens = np.array([9.6, 8.3])
    sigma = np.array([0.7, 0.6])
    shifts = np.array([[0.2, -0.1], [0.25, 0.2]])
    H = Raw(
        "H",
        np.array([0.0, 1.0, 2.0]),
        h_dens,
        sigma,
        {"lumi": shifts[:, 0], "jes": shifts[:, 1]},
        hessian=_hessian(sigma, shifts, rng),
        pulls={"lumi": 0.3, "jes": -0.6},
    )
    return [F, G, H]


CORR = {
    ("F:lumi", "G:lumi"): 1.0,
    ("F:lumi", "H:lumi"): 1.0,
    ("G:lumi", "H:lumi"): 1.0,
    ("F:shape", "G:model"): 0.4,
}


@pytest.mark.parametrize(
    ("options", "combined"),
    [
        ({"match": "coarsest"}, [0.0, 2.0, 8.0]),
        ({"match": "finest"}, [0.0, 1.0, 2.0, 4.0, 8.0]),
        ({"edges": [0.0, 2.0, 4.0, 8.0]}, [0.0, 2.0, 4.0, 8.0]),
    ],
)
@pytest.mark.parametrize("per_bin", [False, True])
def test_matches_equal_the_written_chi2(options, combined, per_bin) -> None:
    raws = _inputs(per_bin)
    if per_bin and "finest" in options.values():
        raws = raws[:2]  # H is a density; its per-bin form is the F-like case
    elif per_bin:
        raws = raws[:2]
    spec, result, values, cov = combine(
        raws,
        CORR if not per_bin else {k: v for k, v in CORR.items() if "H:" not in k[0] + k[1]},
        binning=options,
        content="per_bin" if per_bin else "density",
    )
    assert np.allclose(spec.binning.low, combined[:-1]) and np.allclose(
        spec.binning.high, combined[1:]
    )
    x, V = reference(
        raws,
        np.array(combined),
        {
            k: v
            for k, v in CORR.items()
            if all(p.split(":")[0] in {r.name for r in raws} for p in k)
        },
        per_bin,
    )
    np.testing.assert_allclose(values, x, rtol=1e-9)
    np.testing.assert_allclose(cov, V, rtol=1e-8, atol=1e-13)
    assert result.method == "linear solve"


def test_coarsest_is_the_finest_combination_merged() -> None:
    """With one fine measurement (F; G is coarse), the merged combination equals the fine
    combination merged: only F sees the shape inside the coarse bins, so it is free in both.
    (With a second fine input, H, they differ: then the fine inputs constrain the shape
    together — the case test_matches_equal_the_written_chi2 checks against the written χ².)"""
    raws = _inputs()[:2]
    corr = {k: v for k, v in CORR.items() if "H:" not in k[0] + k[1]}
    _, _, coarse, cov_c = combine(raws, corr, binning={"match": "coarsest"})
    _, _, fine, cov_f = combine(raws, corr, binning={"match": "finest"})
    B = np.array([[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 1 / 3, 2 / 3]])  # widths 1, 1 | 2, 4
    np.testing.assert_allclose(coarse, B @ fine, rtol=1e-10)
    np.testing.assert_allclose(cov_c, B @ cov_f @ B.T, rtol=1e-9)


def test_a_wrong_reference_fails() -> None:
    """Plain means instead of width-weighted ones in the reference: the comparison fails."""
    raws = _inputs()
    _, _, values, _ = combine(raws, CORR, binning={"match": "coarsest"})
    x, _ = reference(raws, np.array([0.0, 2.0, 8.0]), CORR, per_bin=True)  # wrong weights
    assert not np.allclose(values, x, rtol=1e-6)
    raws_wrong = _inputs()
    raws_wrong[2].pulls = {}  # the pulls left out
    x, _ = reference(raws_wrong, np.array([0.0, 2.0, 8.0]), CORR)
    assert not np.allclose(values, x, rtol=1e-6)


def test_merge_propagates_the_statistical_covariance_and_every_source() -> None:
    raws = _inputs()
    m = raws[0].measurement()
    B = merge_matrix(Binning.from_edges(raws[0].edges), [[0, 1], [2, 3]], "density")
    np.testing.assert_allclose(B, [[0.5, 0.5, 0, 0], [0, 0, 1 / 3, 2 / 3]])
    merged = merge_measurement(m, B, ["a", "b"])
    S = np.diag(raws[0].sigma ** 2)
    np.testing.assert_allclose(merged.estimates, B @ raws[0].values)
    np.testing.assert_allclose(merged.stat_covariance, B @ S @ B.T, rtol=1e-12)
    U = np.array([raws[0].shifts["lumi"], raws[0].shifts["shape"]]).T
    np.testing.assert_allclose(merged.shifts_up, B @ U, rtol=1e-12)
    # any B (here overlapping rows), statistics correlated or not: B M⁻¹ Bᵀ, B u
    B2 = np.array([[0.5, 0.5, 0.0, 0.0], [0.0, 0.25, 0.25, 0.5], [1.0, 1.0, 2.0, 4.0]])
    rho = np.eye(4) + 0.3 * (np.eye(4, k=1) + np.eye(4, k=-1))
    for corr in (np.eye(4), rho):
        m2 = Measurement.from_uncertainties(
            dict(zip("abcd", raws[0].values, strict=True)),
            dict(zip("abcd", raws[0].sigma, strict=True)),
            {"lumi": dict(zip("abcd", raws[0].shifts["lumi"], strict=True))},
            stat_correlation=corr,
            name="F",
        )
        S2 = corr * np.outer(raws[0].sigma, raws[0].sigma)
        merged = merge_measurement(m2, B2, ["x", "y", "z"])
        np.testing.assert_allclose(merged.stat_covariance, B2 @ S2 @ B2.T, rtol=1e-10)
        np.testing.assert_allclose(merged.estimates, B2 @ raws[0].values, rtol=1e-12)
        np.testing.assert_allclose(merged.shifts_up[:, 0], B2 @ raws[0].shifts["lumi"], rtol=1e-12)


# --------------------------------------------------------------------------- errors
def _dm(name: str, edges: list[float]) -> DifferentialMeasurement:
    n = len(edges) - 1
    m = Measurement.from_uncertainties(
        {f"v{i}": 1.0 + i for i in range(n)}, {f"v{i}": 0.1 for i in range(n)}, name=name
    )
    return DifferentialMeasurement(m, Binning.from_edges(edges))


def test_an_edge_inside_a_bin_of_another_is_one_line_naming_both() -> None:
    with pytest.raises(InvalidMeasurement) as err:
        rebin({"A": _dm("A", [0, 2, 4]), "B": _dm("B", [1, 3])}, match="coarsest")
    msg = str(err.value)
    assert "\n" not in msg
    assert "'A'" in msg and "'B'" in msg and "binning" in msg
    assert "[0, 2)" in msg or "[2, 4)" in msg or "[1, 3)" in msg


def test_an_edge_inside_with_match_edges_names_the_bins() -> None:
    with pytest.raises(InvalidMeasurement, match=r"edge 1 .*'A'.*|'A'.*edges"):
        rebin({"A": _dm("A", [0, 1, 2])}, match="edges", edges=[0, 0.5, 2])


def test_a_bin_only_measured_in_sums_is_an_error_or_kept_as_the_sum() -> None:
    """A measures [0, 2) and [2, 3), B [0, 1) and [2, 3): with every edge, [1, 2) is never
    measured alone (only as A's [0, 2) minus B's [0, 1))."""
    ms = {"A": _dm("A", [0, 2, 3]), "B": _dm("B", [0, 1, 2, 3]).measurement}
    ms_b = DifferentialMeasurement(
        Measurement.from_uncertainties({"v0": 0.9, "v2": 2.2}, {"v0": 0.1, "v2": 0.2}, name="B"),
        Binning([0.0, 2.0], [1.0, 3.0]),
    )
    ms = {"A": _dm("A", [0, 2, 3]), "B": ms_b}
    with pytest.raises(
        InvalidMeasurement,
        match=r"\[1, 2\) is measured by no measurement alone.*'A'.*unmeasured: sum",
    ):
        rebin(ms, match="finest")
    r = rebin(ms, match="finest", unmeasured="sum")  # the sum [0, 2): B's [0, 1) left out
    np.testing.assert_allclose(r.binning.low, [0, 2])
    np.testing.assert_allclose(r.binning.high, [2, 3])
    assert r.observables == {"bin0": ["A:v0"], "bin1": ["A:v1", "B:v2"]}
    res = Combiner(r.measurements, r.observables, linear=r.linear).combine()
    w = np.array([1 / 0.1**2, 1 / 0.2**2])
    np.testing.assert_allclose(res.values["bin1"], w @ [2.0, 2.2] / w.sum(), rtol=1e-12)
    np.testing.assert_allclose(res.values["bin0"], 1.0, rtol=1e-12)


def test_contents_must_agree_and_bins_need_edges() -> None:
    ms = {"A": _dm("A", [0, 1, 2]), "B": _dm("B", [0, 2])}
    with pytest.raises(InvalidMeasurement, match="densities but 'B' per-bin"):
        rebin(ms, content={"B": "per_bin"})
    idx = DifferentialMeasurement(ms["A"].measurement, Binning.index(2))
    with pytest.raises(InvalidMeasurement, match="only numbered"):
        rebin({"A": idx, "B": ms["B"]})
    with pytest.raises(HepCombineError, match="match must be one of"):
        rebin(ms, match="widest")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- YAML
def _yaml_text(raws: list[Raw]) -> str:
    F, G = raws
    return f"""
measurements:
  F:
    estimates: {dict(zip([f"v{i}" for i in range(4)], F.values.tolist(), strict=True))}
    stat: {dict(zip([f"v{i}" for i in range(4)], F.sigma.tolist(), strict=True))}
    uncertainties:
      lumi: {dict(zip([f"v{i}" for i in range(4)], F.shifts["lumi"].tolist(), strict=True))}
      shape: {dict(zip([f"v{i}" for i in range(4)], F.shifts["shape"].tolist(), strict=True))}
    binning: {{edges: {F.edges.tolist()}}}
  G:
    estimates: {{v0: {G.values[0]}, v1: {G.values[1]}}}
    stat: {{v0: {G.sigma[0]}, v1: {G.sigma[1]}}}
    uncertainties:
      lumi: {{v0: {G.shifts["lumi"][0]}, v1: {G.shifts["lumi"][1]}}}
      model: {{v0: {G.shifts["model"][0]}, v1: {G.shifts["model"][1]}}}
    binning: {{edges: {G.edges.tolist()}}}
  T:
    estimates: {{sigma: 41.0}}
    stat: {{sigma: 1.2}}
    uncertainties: {{lumi: 1.2}}
correlations:
  - {{a: 'F:lumi', b: 'G:lumi', rho: 1.0}}
  - {{a: 'F:lumi', b: 'T:lumi', rho: 1.0}}
  - {{a: 'G:lumi', b: 'T:lumi', rho: 1.0}}
  - {{a: 'F:shape', b: 'G:model', rho: 0.4}}
binning: {{match: coarsest}}
linear:
  total: {{integral_of: all, measured_by: ['T:sigma']}}
"""


def test_yaml_coarsest_with_a_total_equals_the_reference(tmp_path: Path) -> None:
    from hepcombine import load_config

    raws = _inputs()[:2]
    F, G = raws
    path = tmp_path / "c.yaml"
    path.write_text(_yaml_text(raws))
    spec = load_config(path)
    assert list(spec.observables) == ["bin0", "bin1"]
    r = spec.combiner().combine()
    # the reference: the coarse GLS of the merged F (B written here), G and T
    B = np.array([[0.5, 0.5, 0, 0], [0, 0, 1 / 3, 2 / 3]])
    UF = np.array([F.shifts["lumi"], F.shifts["shape"]]).T
    UG = np.array([G.shifts["lumi"], G.shifts["model"]]).T
    y = np.concatenate([B @ F.values, G.values, [41.0]])
    A = np.vstack([np.eye(2), np.eye(2), [[2.0, 6.0]]])
    Uall = np.zeros((5, 5))  # sources: lumi (shared, ρ = 1), F:shape, G:model, T has lumi only
    Uall[:2, 0], Uall[2:4, 0], Uall[4, 0] = B @ UF[:, 0], UG[:, 0], 1.2
    Uall[:2, 1], Uall[2:4, 2] = B @ UF[:, 1], UG[:, 1]
    C = np.eye(5)
    C[1, 2] = C[2, 1] = 0.4
    V = np.zeros((5, 5))
    V[:2, :2] = B @ np.diag(F.sigma**2) @ B.T
    V[2:4, 2:4] = np.diag(G.sigma**2)
    V[4, 4] = 1.2**2
    V += Uall @ C @ Uall.T
    Vi = np.linalg.inv(V)
    cov = np.linalg.inv(A.T @ Vi @ A)
    x = cov @ A.T @ Vi @ y
    np.testing.assert_allclose([r.values["bin0"], r.values["bin1"]], x, rtol=1e-9)
    np.testing.assert_allclose(r.values["total"], x @ [2.0, 6.0], rtol=1e-9)
    np.testing.assert_allclose(r.errors["total"] ** 2, [2.0, 6.0] @ cov @ [2.0, 6.0], rtol=1e-8)
    np.testing.assert_allclose(
        r.covariance.matrix[2, :2], cov @ [2.0, 6.0], rtol=1e-8
    )  # the total's covariance with every bin


def test_yaml_binning_errors_name_the_block(tmp_path: Path) -> None:
    from hepcombine import load_config
    from hepcombine.exceptions import ConfigError

    text = """
measurements:
  A: {estimates: {a: 1.0, b: 2.0}, stat: {a: 0.1, b: 0.1}, binning: {edges: [0, 2, 4]}}
  B: {estimates: {a: 1.0}, stat: {a: 0.1}, binning: {edges: [1, 3]}}
binning: {match: coarsest}
"""
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"c.yaml.*binning.*'A'.*'B'|c.yaml.*binning.*'B'.*'A'"):
        load_config(path)


# --------------------------------------------------------------------------- real records
def test_lhcb_full_range_equals_the_drop_bins_combination_in_the_common_bins() -> None:
    """data/lhcb_z_8tev_ee_mumu_full_range.yaml: 18 bins, no drop_bins; the 17 common bins
    equal data/lhcb_z_8tev_ee_mumu.yaml's (the μμ-only bin takes nothing from the others), and
    the 18th is the μμ measurement itself."""
    from hepcombine import load_config

    full = load_config(DATA / "lhcb_z_8tev_ee_mumu_full_range.yaml")
    common = load_config(DATA / "lhcb_z_8tev_ee_mumu.yaml")
    text = (DATA / "lhcb_z_8tev_ee_mumu_full_range.yaml").read_text()
    assert "drop_bins:" not in text and "match: finest" in text
    assert full.binning.n_bins == 18 and common.binning.n_bins == 17
    np.testing.assert_allclose(full.binning.high[-1], 4.5)
    rf, rc = full.combiner().combine(), common.combiner().combine()
    obs = list(common.observables)
    vf = np.array([rf.values[o] for o in obs])
    vc = np.array([rc.values[o] for o in obs])
    np.testing.assert_allclose(vf, vc, rtol=1e-9)
    np.testing.assert_allclose(
        rf.covariance.sub(obs).matrix, rc.covariance.sub(obs).matrix, rtol=1e-9, atol=1e-15
    )
    # the 18th bin: the μμ value moved by the sources as the 17-bin combination pulls them,
    # x̂ + Σ u λ (the prediction x − Σ u λ of x̂; its stat uncertainty, independent of everything else, absorbs the rest)
    mumu = full.measurements["mumu"]
    lam = np.array([rc.pulls[f"mumu:{s}"] for s in mumu.source_names])
    np.testing.assert_allclose(
        rf.values["bin17"], mumu.estimates[-1] + mumu.shifts[-1] @ lam, rtol=1e-9
    )
    assert rf.errors["bin17"] < mumu.errors[mumu.estimate_names[-1]]
    assert rf.chi2 == pytest.approx(rc.chi2, rel=1e-9) and rf.ndf == rc.ndf


# --------------------------------------------------------------------------- campaign
def _case(seed: int) -> tuple[list[Raw], dict, dict, np.ndarray, bool]:
    """Random nested binnings: a common coarse partition, each measurement refining it at
    random; some Hessian inputs with pulls; sources correlated across measurements."""
    rng = np.random.default_rng(1000 + seed)
    k = int(rng.integers(3, 8))
    atoms = np.concatenate([[0.0], np.cumsum(rng.uniform(0.5, 3.0, size=k))])
    interior = atoms[1:-1]
    # the common edges: a strict subset of the atoms' inner edges, so that something is merged
    # (coarsest, edges) or summed (finest) in every case
    common = np.sort(rng.choice(interior, size=int(rng.integers(0, len(interior))), replace=False))
    match = ["coarsest", "finest", "edges"][seed % 3]
    per_bin = bool(rng.random() < 0.3)
    n_m = int(rng.integers(2, 4))
    raws = []
    truth_density = rng.uniform(2.0, 10.0, size=k)
    for i in range(n_m):
        if i == 0:  # the finest: merged (coarsest, edges), every combined bin alone (finest)
            edges = atoms
        elif i == 1 and match == "finest":  # the coarsest: its bins are sums
            edges = np.unique(np.concatenate([[atoms[0]], common, [atoms[-1]]]))
        else:
            extra = interior[rng.random(len(interior)) < 0.5]
            edges = np.unique(np.concatenate([[atoms[0]], common, extra, [atoms[-1]]]))
        w = np.diff(edges)
        # the true values in these bins: the atoms' content summed
        content = np.array(
            [
                sum(
                    truth_density[a] * (atoms[a + 1] - atoms[a])
                    for a in range(k)
                    if edges[j] <= atoms[a] < edges[j + 1]
                )
                for j in range(len(w))
            ]
        )
        values = content if per_bin else content / w
        sigma = 0.05 * np.abs(values) + 0.02
        values = values + rng.normal(size=len(w)) * sigma
        shifts = {
            "lumi": 0.025 * values,
            "own": rng.normal(size=len(w)) * 0.5 * sigma,
        }
        raw = Raw(f"M{i}", edges, values, sigma, shifts)
        if rng.random() < 0.35:
            U = np.array([shifts["lumi"], shifts["own"]]).T
            raw.hessian = _hessian(sigma, U, rng)
            raw.pulls = {"lumi": float(rng.normal(0, 0.5)), "own": float(rng.normal(0, 0.5))}
        raws.append(raw)
    corr = {}
    for i in range(n_m):
        for j in range(i + 1, n_m):
            corr[(f"M{i}:lumi", f"M{j}:lumi")] = 1.0
    corr[("M0:own", "M1:own")] = float(rng.uniform(-0.5, 0.8))
    if match == "coarsest":
        options: dict = {"match": "coarsest"}
        combined = np.unique(np.concatenate([[atoms[0]], common, [atoms[-1]]]))
        # edges every measurement has beyond the common ones are kept too
        shared = set(raws[0].edges.tolist())
        for r in raws[1:]:
            shared &= set(r.edges.tolist())
        combined = np.array(sorted(shared))
    elif match == "finest":
        options = {"match": "finest"}
        combined = atoms
    else:
        combined = np.unique(np.concatenate([[atoms[0]], common, [atoms[-1]]]))
        options = {"edges": combined.tolist()}
    return raws, corr, options, combined, per_bin


def _run_case(seed: int) -> None:
    raws, corr, options, combined, per_bin = _case(seed)
    spec, _result, values, cov = combine(
        raws, corr, binning=options, content="per_bin" if per_bin else "density"
    )
    np.testing.assert_allclose(spec.binning.low, combined[:-1], rtol=1e-12)
    np.testing.assert_allclose(spec.binning.high, combined[1:], rtol=1e-12)
    x, V = reference(raws, combined, corr, per_bin)
    np.testing.assert_allclose(values, x, rtol=1e-8, atol=1e-10 * np.abs(x).max())
    np.testing.assert_allclose(cov, V, rtol=1e-7, atol=1e-10 * np.abs(V).max())


@pytest.mark.parametrize("seed", range(72))
def test_campaign_random_nested_binnings(seed: int) -> None:
    _run_case(seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(72, 472))
def test_campaign_random_nested_binnings_full(seed: int) -> None:
    _run_case(seed)


def test_campaign_reference_can_fail() -> None:
    """The campaign's comparison fails for a wrong reference: each measurement's statistical
    errors inflated by 10 % in the reference only."""
    failed = 0
    for seed in range(6):
        raws, corr, options, combined, per_bin = _case(seed)
        _, _, values, _ = combine(
            raws, corr, binning=options, content="per_bin" if per_bin else "density"
        )
        for r in raws:
            r.sigma = 1.1 * r.sigma
            if r.hessian is not None:
                n = len(r.values)
                r.hessian = r.hessian.copy()
                r.hessian[:n, :n] /= 1.21
        x, _ = reference(raws, combined, corr, per_bin)
        failed += not np.allclose(values, x, rtol=1e-8)
    assert failed == 6


def test_outputs_carry_the_combined_binning_and_the_plot_each_input_in_its_own(
    tmp_path: Path,
) -> None:
    """hepcombine combine on a rebinned configuration: the ROOT histogram, the HEPData table and
    the JSON have the combined bins [0, 2, 8) (and the total in JSON); the spectrum plot draws
    F in its 4 bins and G in its 2; writing it as a Convino file is refused."""
    import json

    import uproot
    import yaml

    from hepcombine import load_config
    from hepcombine.cli import main
    from hepcombine.exceptions import ConfigError
    from hepcombine.outputs.convino import write_convino

    raws = _inputs()[:2]
    path = tmp_path / "c.yaml"
    path.write_text(_yaml_text(raws))
    out = tmp_path / "out"
    code = main(
        [
            "combine",
            str(path),
            "--json",
            str(out / "r.json"),
            "--root",
            str(out / "r.root"),
            "--hepdata",
            str(out / "hd"),
            "--output-dir",
            str(out),
        ]
    )
    assert code == 0
    spec = load_config(path)
    r = spec.combiner().combine()
    from conftest import expect_distribution, judge_root_file

    from hepcombine.outputs.combination import differential_result

    dr = differential_result(r, spec)
    assert dr is not None and dr.observables == ("bin0", "bin1")  # not the total
    judge_root_file(out / "r.root", expect_distribution(dr), directory="combination")
    with uproot.open(out / "r.root") as f:
        h = f["combination/combined"]
        np.testing.assert_allclose(h.axis().edges(), [0.0, 2.0, 8.0])
        np.testing.assert_allclose(h.values(), [r.values["bin0"], r.values["bin1"]], rtol=1e-12)
    data = json.loads((out / "r.json").read_text())
    text = json.dumps(data)
    assert '"total"' in text
    tables = [
        yaml.safe_load(p.read_text())
        for p in sorted((out / "hd").iterdir())
        if p.suffix == ".yaml" and p.name != "submission.yaml"
    ]
    table = next(t for t in tables if len(t["independent_variables"]) == 1)
    lows = [b["low"] for b in table["independent_variables"][0]["values"]]
    highs = [b["high"] for b in table["independent_variables"][0]["values"]]
    assert (lows, highs) == ([0.0, 2.0], [2.0, 8.0])
    with pytest.raises(ConfigError, match="cannot be written as a Convino file"):
        write_convino(spec, tmp_path / "convino")

    # the spectrum: every input in its own bins (points at its centres, bars over its bins)
    from hepcombine.plots.combination import combination_figures

    figs = combination_figures(
        spec.combiner(), r, binning=spec.binning, distributions=spec.distributions
    )
    ax = figs["spectrum"].axes[0]
    bars = {c.get_label(): c for c in ax.containers if c.get_label() in ("F", "G")}
    assert set(bars) == {"F", "G"}
    for name, raw in zip(("F", "G"), raws, strict=True):
        x = bars[name].lines[0].get_xdata()
        assert len(x) == len(raw.values)
        if name == "G":  # G's bins are the combined bins: drawn as usual
            continue
        spans = [  # the horizontal bars: its bins
            [abs(seg[1][0] - seg[0][0]) for seg in col.get_segments()]
            for col in bars[name].lines[2]
        ]
        assert any(np.allclose(sp, np.diff(raw.edges)) for sp in spans)
    import matplotlib.pyplot as plt

    for f in figs.values():
        plt.close(f)


# --------------------------------------------------------------------------- input forms
def _hists(raw: Raw):
    """raw's values as a hist.Hist with its stat errors, and one +1σ histogram per source."""
    import hist
    from conftest import weighted_hist

    nominal = weighted_hist(raw.values, raw.sigma**2, raw.edges)
    shifts = {}
    for s, u in raw.shifts.items():
        h = hist.Hist(hist.axis.Variable(raw.edges, name="pt"))
        h.view()[:] = raw.values + u
        shifts[s] = h
    return nominal, shifts


def test_hist_inputs_in_different_binnings() -> None:
    """hist.Hist inputs (measurement_from_histograms), combined with match: coarsest through
    combine_differential: the written χ²."""
    from hepcombine import combine_differential
    from hepcombine.inputs.histograms import measurement_from_histograms

    raws = _inputs()[:2]
    dms = []
    for r in raws:
        nominal, shifts = _hists(r)
        dms.append(measurement_from_histograms(nominal, name=r.name, systematics=dict(shifts)))
    corr = {("F:lumi", "G:lumi"): 1.0, ("F:shape", "G:model"): 0.4}
    dr = combine_differential(dms, corr, binning={"match": "coarsest"})
    np.testing.assert_allclose(dr.binning.low, [0.0, 2.0])
    x, V = reference(raws, np.array([0.0, 2.0, 8.0]), corr)
    np.testing.assert_allclose(dr.values, x, rtol=1e-9)
    np.testing.assert_allclose(dr.covariance, V, rtol=1e-8)


def test_root_inputs_in_different_binnings_through_yaml(tmp_path: Path) -> None:
    """root: measurements (TH1 written by uproot) with binning: {match: finest}."""
    from conftest import root_file

    from hepcombine import load_config

    raws = _inputs()[:2]
    objects = {}
    for r in raws:
        nominal, shifts = _hists(r)
        objects[f"{r.name}_nominal"] = nominal
        for s, h in shifts.items():
            objects[f"{r.name}_{s}"] = h
    root_file(tmp_path / "in.root", objects)
    text = "measurements:\n"
    for r in raws:
        syst = ", ".join(f"{s}: {{up: {r.name}_{s}}}" for s in r.shifts)
        text += (
            f"  {r.name}:\n    root: {{file: in.root, histogram: {r.name}_nominal, "
            f"systematics: {{{syst}}}}}\n"
        )
    text += (
        "correlations:\n  - {a: 'F:lumi', b: 'G:lumi', rho: 1.0}\n"
        "  - {a: 'F:shape', b: 'G:model', rho: 0.4}\nbinning: {match: finest}\n"
    )
    (tmp_path / "c.yaml").write_text(text)
    spec = load_config(tmp_path / "c.yaml")
    r = spec.combiner().combine()
    corr = {("F:lumi", "G:lumi"): 1.0, ("F:shape", "G:model"): 0.4}
    x, V = reference(raws, np.array([0.0, 1.0, 2.0, 4.0, 8.0]), corr)
    np.testing.assert_allclose([r.values[o] for o in spec.observables], x, rtol=1e-9)
    np.testing.assert_allclose(r.covariance.sub(list(spec.observables)).matrix, V, rtol=1e-8)


def test_convino_measurements_with_bins_in_python(tmp_path: Path) -> None:
    """Measurements read from Convino files carry no edges; given a Binning in Python
    (DifferentialMeasurement) they are rebinned like any other."""
    from hepcombine.inputs.convino import read_convino

    F, G = _inputs()[:2]
    for r in (F, G):
        est = "\n".join(
            f"  name_{i} = {r.name}{i}\n  value_{i} = {v!r}"
            for i, v in enumerate(r.values.tolist())
        )
        header = " ".join(f"{r.name}_{s}" for s in r.shifts) + " stat"
        rows = "\n".join(
            f"  {r.name}{i} "
            + " ".join(repr(float(r.shifts[s][i])) for s in r.shifts)
            + f" {float(r.sigma[i])!r}"
            for i in range(len(r.values))
        )
        (tmp_path / f"{r.name}.txt").write_text(
            f"[estimates]\n  n_estimates = {len(r.values)}\n{est}\n[end estimates]\n"
            f"[not fitted]\n  {header}\n{rows}\n[end not fitted]\n"
        )
    (tmp_path / "base.txt").write_text(
        "[inputs]\n  nFiles = 2\n  file0 = F.txt\n  file1 = G.txt\n[end inputs]\n"
        "[observables]\n  a = F0\n[end observables]\n"
        "[correlations]\n[end correlations]\n"
    )
    spec = read_convino(tmp_path / "base.txt")
    dms = {
        r.name: DifferentialMeasurement(spec.measurements[r.name], Binning.from_edges(r.edges))
        for r in (F, G)
    }
    rb = rebin(dms, match="coarsest")
    res = Combiner(rb.measurements, rb.observables, linear=rb.linear).combine()
    x, V = reference([F, G], np.array([0.0, 2.0, 8.0]), {})
    np.testing.assert_allclose([res.values[o] for o in rb.observables], x, rtol=1e-9)
    np.testing.assert_allclose(res.covariance.matrix, V, rtol=1e-8)


def test_normalised_after_the_map(tmp_path: Path) -> None:
    """normalise: true with match: finest — the shape of the combined bins (after the map),
    the exact Jacobian of v/Σv applied to the reference's values and covariance."""
    from hepcombine import load_config
    from hepcombine.outputs.combination import normalised

    raws = _inputs()[:2]
    text = _yaml_text(raws).replace("binning: {match: coarsest}", "binning: {match: finest}")
    text = text.split("  T:\n")[0] + "correlations:" + text.split("correlations:")[1]
    text = text.replace("  - {a: 'F:lumi', b: 'T:lumi', rho: 1.0}\n", "")
    text = text.replace("  - {a: 'G:lumi', b: 'T:lumi', rho: 1.0}\n", "")
    text = text.split("linear:")[0] + "normalise: true\n"
    (tmp_path / "c.yaml").write_text(text)
    spec = load_config(tmp_path / "c.yaml")
    r = spec.combiner().combine()
    shape = normalised(r, spec)
    assert shape is not None
    x, V = reference(raws, np.array([0.0, 1.0, 2.0, 4.0, 8.0]), CORR_FG)
    s = x.sum()
    J = (np.eye(4) - np.outer(x / s, np.ones(4))) / s
    np.testing.assert_allclose(shape.values, x / s, rtol=1e-9)
    np.testing.assert_allclose(shape.covariance, J @ V @ J.T, rtol=1e-7, atol=1e-14)


CORR_FG = {("F:lumi", "G:lumi"): 1.0, ("F:shape", "G:model"): 0.4}


def test_two_dimensional_bins_through_python() -> None:
    """2-D: a 2 × 2 grid (x: [0, 1, 2], y: [0, 1, 3]) measured by A, and B measuring the two
    rows y ∈ [0, 1) and [1, 3) integrated over x (sums of two cells) — the GLS written here."""
    a_vals = np.array([4.0, 5.0, 7.5, 8.0])  # cells (x0y0, x1y0, x0y1, x1y1)
    a_err = np.array([0.4, 0.5, 0.6, 0.7])
    A = Measurement.from_uncertainties(
        {f"c{i}": v for i, v in enumerate(a_vals)},
        {f"c{i}": e for i, e in enumerate(a_err)},
        {"lumi": {f"c{i}": 0.02 * v for i, v in enumerate(a_vals)}},
        name="A",
    )
    B = Measurement.from_uncertainties(
        {"row0": 9.5, "row1": 15.0},
        {"row0": 0.5, "row1": 0.8},
        {"lumi": {"row0": 0.2, "row1": 0.3}},
        name="B",
    )
    linear = {
        "row0": {"sum_of": ["c0", "c1"], "measured_by": ["B:row0"], "report": False},
        "row1": {"sum_of": ["c2", "c3"], "measured_by": ["B:row1"], "report": False},
    }
    r = Combiner(
        [A, B], {f"c{i}": [f"A:c{i}"] for i in range(4)}, {("A:lumi", "B:lumi"): 1.0}, linear=linear
    ).combine()
    design = np.vstack([np.eye(4), [[1, 1, 0, 0], [0, 0, 1, 1]]])
    y = np.concatenate([a_vals, [9.5, 15.0]])
    u = np.concatenate([0.02 * a_vals, [0.2, 0.3]])
    V = np.diag(np.concatenate([a_err, [0.5, 0.8]]) ** 2) + np.outer(u, u)
    from conftest import gls

    x, cov, _ = gls(y, design, V)
    np.testing.assert_allclose([r.values[f"c{i}"] for i in range(4)], x, rtol=1e-10)
    np.testing.assert_allclose(r.covariance.matrix, cov, rtol=1e-9)


def test_pseudo_experiments_and_compat_refuse_linear_maps() -> None:
    from hepcombine import compatibility
    from hepcombine.exceptions import InvalidArgument
    from hepcombine.toys import run_toys

    F, G = _inputs()[:2]
    from hepcombine.inputs.histograms import differential_spec

    spec = differential_spec(
        [F.differential(), G.differential()], CORR_FG, binning={"match": "finest"}
    )
    with pytest.raises(InvalidArgument, match="not supported yet"):
        run_toys(spec.combiner(), 10, seed=1)
    with pytest.raises(InvalidArgument, match="not supported yet"):
        compatibility(spec.combiner())


def test_yaml_per_bin_contents_and_linear_errors(tmp_path: Path) -> None:
    """content: per_bin in YAML merges by summing (the per-bin reference); a bad linear entry
    is a ConfigError naming the file, the block and the name."""
    from hepcombine import load_config
    from hepcombine.exceptions import ConfigError

    raws = _inputs(per_bin=True)[:2]
    text = _yaml_text(raws).split("  T:\n")[0]
    text = text.replace("    binning: {edges:", "    content: per_bin\n    binning: {edges:")
    text += (
        "correlations:\n  - {a: 'F:lumi', b: 'G:lumi', rho: 1.0}\n"
        "  - {a: 'F:shape', b: 'G:model', rho: 0.4}\nbinning: {match: coarsest}\n"
    )
    (tmp_path / "c.yaml").write_text(text)
    spec = load_config(tmp_path / "c.yaml")
    r = spec.combiner().combine()
    x, V = reference(raws, np.array([0.0, 2.0, 8.0]), CORR_FG, per_bin=True)
    np.testing.assert_allclose([r.values[o] for o in spec.observables], x, rtol=1e-9)
    np.testing.assert_allclose(r.covariance.sub(list(spec.observables)).matrix, V, rtol=1e-8)

    mixed = text.replace("    content: per_bin\n", "", 1)
    (tmp_path / "m.yaml").write_text(mixed)
    with pytest.raises(ConfigError, match=r"m.yaml.*binning.*densities but 'G' per-bin"):
        load_config(tmp_path / "m.yaml")
    bad = text + "linear:\n  total: {sum_of: [bin0, bin7], measured_by: []}\n"
    (tmp_path / "b.yaml").write_text(bad)
    with pytest.raises(ConfigError, match=r"b.yaml, line \d+, at linear/total/sum_of: 'bin7'"):
        load_config(tmp_path / "b.yaml")
    bad = text + "linear:\n  total: {sum_of: all, measured_by: ['G:nothing']}\n"
    (tmp_path / "n.yaml").write_text(bad)
    with pytest.raises(ConfigError, match=r"n.yaml, line \d+, at linear/total/measured_by/0"):
        load_config(tmp_path / "n.yaml")
