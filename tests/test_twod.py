"""2-d differential measurements (TH2, issue 20): reading, rebinning, outputs.

Independent reference: the generalised least squares written here. Cells are numbered
``k = ix + nx * iy`` (ROOT's order, x inner) by loops written in this file; per axis, the 1-d
merge matrix from a measurement's edges to combined edges (or back) is written out from the
edges (:func:`merge_1d`), and the cells' matrix is ``np.kron(M_y, M_x)``. A measurement finer
than the combined cells on an axis is reduced by ``M`` on that axis (R); one coarser measures
``M`` of the combined cells (D). Then, with y = [R_m y_m], C = blockdiag(R_m S_m R_mᵀ) +
(R U) ρ (R U)ᵀ (U the shifts, ρ the sources' correlation), x̂ = (DᵀC⁻¹D)⁻¹DᵀC⁻¹y and the
pulls λ̂ = −ρ (R U)ᵀ C⁻¹ (y − D x̂) (method.md: the prediction is D x̄ − U λ).
"""

from __future__ import annotations

from dataclasses import dataclass

import hist
import numpy as np
import pytest

from hepcombine.binning import Binning2D
from hepcombine.exceptions import InvalidMeasurement
from hepcombine.inputs.histograms import (
    combine_differential,
    differential_spec,
    measurement_from_histograms,
)


# --------------------------------------------------------------------------- the reference
def cells(grid: np.ndarray) -> np.ndarray:
    """(nx, ny) → cell vector, k = ix + nx * iy, by loops."""
    nx, ny = grid.shape
    out = np.zeros(nx * ny)
    for ix in range(nx):
        for iy in range(ny):
            out[ix + nx * iy] = grid[ix, iy]
    return out


def merge_1d(fine: list[float], coarse: list[float], per_bin: bool) -> np.ndarray:
    """coarse bins × fine bins: the fine bins inside each coarse bin, width-weighted (density)
    or summed (per bin)."""
    M = np.zeros((len(coarse) - 1, len(fine) - 1))
    for g in range(len(coarse) - 1):
        a, b = coarse[g], coarse[g + 1]
        for j in range(len(fine) - 1):
            c, d = fine[j], fine[j + 1]
            if c >= a - 1e-9 and d <= b + 1e-9:
                M[g, j] = 1.0 if per_bin else (d - c) / (b - a)
    assert np.all(M.sum(axis=0) <= 1 + 1e-12)
    return M


@dataclass
class Raw:
    name: str
    xe: list[float]
    ye: list[float]
    values: np.ndarray  # (nx, ny)
    sigma: np.ndarray  # (nx, ny)
    shifts: dict[str, np.ndarray]  # source -> (nx, ny), symmetric

    def hist(self) -> hist.Hist:
        h = hist.Hist(
            hist.axis.Variable(self.xe, name="pt", label="p_T"),
            hist.axis.Variable(self.ye, name="y", label="|y|"),
            storage=hist.storage.Weight(),
        )
        h.view().value = self.values
        h.view().variance = self.sigma**2
        return h

    def measurement(self):
        return measurement_from_histograms(
            self.hist(), name=self.name, systematics=self.shifts, kind="shift"
        )


def axis_maps(own: list[float], comb: list[float], per_bin: bool):
    """(R, D) on one axis: R reduces the measurement's bins to the combined ones where it is
    finer, D maps the combined bins to its bins where it is coarser."""
    if set(np.round(comb, 9)) <= set(np.round(own, 9)):  # finer or equal: merge
        return merge_1d(own, comb, per_bin), np.eye(len(comb) - 1)
    return np.eye(len(own) - 1), merge_1d(comb, own, per_bin)


def reference(raws, cx, cy, corr, per_bin=False, kron_order="yx"):
    ys, Ds, Ss, Us = [], [], [], []
    sources = [f"{r.name}:{s}" for r in raws for s in r.shifts]
    for r in raws:
        Rx, Dx = axis_maps(r.xe, cx, per_bin)
        Ry, Dy = axis_maps(r.ye, cy, per_bin)
        R, D = (
            (np.kron(Ry, Rx), np.kron(Dy, Dx))
            if kron_order == "yx"
            else (np.kron(Rx, Ry), np.kron(Dx, Dy))
        )
        ys.append(R @ cells(r.values))
        Ds.append(D)
        Ss.append(R @ np.diag(cells(r.sigma) ** 2) @ R.T)
        U = np.zeros((len(ys[-1]), len(sources)))
        for s, u in r.shifts.items():
            U[:, sources.index(f"{r.name}:{s}")] = R @ cells(u)
        Us.append(U)
    y, D, U = np.concatenate(ys), np.vstack(Ds), np.vstack(Us)
    n = len(y)
    S = np.zeros((n, n))
    off = 0
    for s in Ss:
        S[off : off + len(s), off : off + len(s)] = s
        off += len(s)
    rho = np.eye(len(sources))
    for (a, b), v in corr.items():
        rho[sources.index(a), sources.index(b)] = rho[sources.index(b), sources.index(a)] = v
    C = S + U @ rho @ U.T
    Ci = np.linalg.inv(C)
    V = np.linalg.inv(D.T @ Ci @ D)
    x = V @ D.T @ Ci @ y
    pulls = -rho @ U.T @ Ci @ (y - D @ x)
    return x, V, dict(zip(sources, pulls, strict=True))


def combine(raws, corr, binning, content="density"):
    spec = differential_spec(
        [r.measurement() for r in raws], corr, binning=binning, content=content
    )
    result = spec.combiner().combine(intervals=False)
    obs = list(spec.observables)
    return (
        spec,
        result,
        np.array([result.values[o] for o in obs]),
        result.covariance.sub(obs).matrix,
    )


# --------------------------------------------------------------------------- reading
VALUES = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])  # [ix, iy]: 2 x bins, 3 y bins
XE, YE = [0.0, 1.0, 3.0], [0.0, 2.0, 4.0, 5.0]


def _h(values=VALUES, variances=None, xe=XE, ye=YE):
    h = hist.Hist(
        hist.axis.Variable(xe, name="pt", label="p_T"),
        hist.axis.Variable(ye, name="eta"),
        storage=hist.storage.Weight(),
    )
    h.view().value = values
    h.view().variance = 0.01 * np.ones_like(values) if variances is None else variances
    return h


def test_cells_are_flattened_x_inner_with_a_binning_of_both_axes():
    m = measurement_from_histograms(_h(), name="a", systematics={"s": 0.1 * VALUES}, kind="shift")
    # written out: x inner — (x0,y0), (x1,y0), (x0,y1), (x1,y1), (x0,y2), (x1,y2)
    np.testing.assert_array_equal(m.measurement.estimates, [1.0, 4.0, 2.0, 5.0, 3.0, 6.0])
    np.testing.assert_allclose(
        m.measurement.shifts_up[:, 0], [0.1, 0.4, 0.2, 0.5, 0.3, 0.6], rtol=1e-14
    )
    b = m.binning
    assert isinstance(b, Binning2D) and b.shape == (2, 3)
    np.testing.assert_array_equal(b.x.edges, XE)
    np.testing.assert_array_equal(b.y.edges, YE)
    assert (b.x.name, b.x.label, b.y.name) == ("pt", "p_T", "eta")
    assert b.bin_label(3) == "cell 3 (pt [1, 3), eta [2, 4))"
    np.testing.assert_allclose(b.widths, [2.0, 4.0, 2.0, 4.0, 1.0, 2.0])
    assert Binning2D.from_dict(b.to_dict()) == b


def test_a_stat_covariance_of_the_cells_and_per_cell_errors():
    rng = np.random.default_rng(3)
    A = rng.normal(size=(6, 6))
    cov = A @ A.T + 6 * np.eye(6)
    m = measurement_from_histograms(_h(), name="a", stat_covariance=cov)
    np.testing.assert_allclose(m.measurement.stat_information @ cov, np.eye(6), atol=1e-10)
    sig = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    m = measurement_from_histograms(_h(), name="a", stat=sig)
    np.testing.assert_allclose(
        np.diag(m.measurement.stat_information), 1 / np.array([0.1, 0.4, 0.2, 0.5, 0.3, 0.6]) ** 2
    )
    with pytest.raises(InvalidMeasurement, match=r"2 × 3 = 6 cells.*expected \(6, 6\)"):
        measurement_from_histograms(_h(), name="a", stat_covariance=np.eye(5))


def test_uproot_and_pyroot_th2_read_as_the_hist(tmp_path, pyroot):
    import uproot

    path = tmp_path / "in.root"
    with uproot.recreate(path) as f:
        f["nom"] = _h(variances=np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]))
    from_uproot = measurement_from_histograms("nom", name="a", file=path)
    h = pyroot.TH2D("nom2", "", 2, np.array(XE), 3, np.array(YE))
    h.Sumw2()
    for ix in range(2):
        for iy in range(3):
            h.SetBinContent(ix + 1, iy + 1, VALUES[ix, iy])
            h.SetBinError(ix + 1, iy + 1, np.sqrt([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]][ix][iy]))
    from_pyroot = measurement_from_histograms(h, name="a")
    for m in (from_uproot, from_pyroot):
        np.testing.assert_allclose(m.measurement.estimates, [1, 4, 2, 5, 3, 6])
        np.testing.assert_allclose(
            np.diag(m.measurement.stat_information), 1 / np.array([0.1, 0.4, 0.2, 0.5, 0.3, 0.6])
        )
        assert m.binning.shape == (2, 3)
        np.testing.assert_allclose(m.binning.y.edges, YE)


def test_bad_2d_input_is_named():
    with pytest.raises(InvalidMeasurement, match=r"3 × 2 cells but nominal .* 2 × 3"):
        measurement_from_histograms(
            _h(), name="a", systematics={"s": _h(VALUES.T, xe=YE, ye=XE)}, kind="shift"
        )
    bad = VALUES.copy()
    bad[1, 2] = np.nan
    with pytest.raises(InvalidMeasurement, match=r"cell 5 \(x \[1, 3\), y \[4, 5\)\).*NaN"):
        measurement_from_histograms(_h(bad), name="a")
    one = hist.Hist(hist.axis.Variable(XE), storage=hist.storage.Weight())
    one.view().value, one.view().variance = [1.0, 2.0], [0.1, 0.1]
    with pytest.raises(InvalidMeasurement, match="two-dimensional .*one-dimensional"):
        measurement_from_histograms(_h(), name="a", systematics={"s": one})
    a = measurement_from_histograms(_h(), name="a")
    b = measurement_from_histograms(one, name="b")
    for binning in (None, {"match": "coarsest"}):
        with pytest.raises(InvalidMeasurement, match="two-dimensional.*one-dimensional"):
            combine_differential([a, b], binning=binning)
    c = measurement_from_histograms(_h(xe=[0.0, 1.0, 2.0]), name="c")
    with pytest.raises(InvalidMeasurement, match="different 2-d binnings.*coarsest"):
        combine_differential([a, c])


# --------------------------------------------------------------------------- fixed case
def _pair(seed=1):
    """A fine in both axes, B coarse in both, a correlated source in both (pulled)."""
    rng = np.random.default_rng(seed)
    ax, ay = [0.0, 1.0, 2.0, 4.0], [0.0, 1.0, 3.0]
    bx, by = [0.0, 2.0, 4.0], [0.0, 3.0]
    truth = lambda xe, ye: np.add.outer(np.diff(xe), np.diff(ye)) + 2.0  # noqa: E731
    a = Raw(
        "a", ax, ay, truth(ax, ay) + 0.3, rng.uniform(0.1, 0.3, (3, 2)),
        {"s": rng.uniform(0.1, 0.3, (3, 2)), "u": rng.uniform(0.0, 0.1, (3, 2))},
    )  # fmt: skip
    b = Raw(
        "b", bx, by, truth(bx, by) - 0.4, rng.uniform(0.1, 0.2, (2, 1)),
        {"s": rng.uniform(0.1, 0.3, (2, 1))},
    )  # fmt: skip
    return a, b


CORR = {("a:s", "b:s"): 0.7}


@pytest.mark.parametrize(
    ("binning", "cx", "cy"),
    [
        ({"match": "coarsest"}, [0.0, 2.0, 4.0], [0.0, 3.0]),
        ({"match": "finest"}, [0.0, 1.0, 2.0, 4.0], [0.0, 1.0, 3.0]),
        ({"edges": {"x": [0.0, 2.0, 4.0], "y": [0.0, 1.0, 3.0]}}, [0.0, 2.0, 4.0], [0.0, 1.0, 3.0]),
    ],
)
@pytest.mark.parametrize("content", ["density", "per_bin"])
def test_two_nested_2d_measurements_equal_the_gls(binning, cx, cy, content):
    a, b = _pair()
    spec, result, values, cov = combine([a, b], CORR, binning, content)
    x, V, pulls = reference([a, b], cx, cy, CORR, content == "per_bin")
    assert isinstance(spec.binning, Binning2D)
    np.testing.assert_allclose(spec.binning.x.edges, cx)
    np.testing.assert_allclose(spec.binning.y.edges, cy)
    np.testing.assert_allclose(values, x, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(cov, V, rtol=1e-8, atol=1e-14)
    for src, p in pulls.items():
        assert result.pulls[src] == pytest.approx(p, rel=1e-7, abs=1e-10)
    assert abs(pulls["a:s"]) > 0.1  # the correlated source is pulled


def test_a_wrong_merge_matrix_fails_the_reference():
    a, b = _pair()
    _, _, values, _ = combine([a, b], CORR, {"match": "coarsest"})
    x, _, _ = reference([a, b], [0.0, 2.0, 4.0], [0.0, 3.0], CORR, per_bin=True)  # sums
    assert not np.allclose(values, x, rtol=1e-3)
    # cells x inner: kron(M_x, M_y) instead of kron(M_y, M_x) is another result
    x_t, _, _ = reference([a, b], [0.0, 2.0, 4.0], [0.0, 3.0], CORR, kron_order="xy")
    assert not np.allclose(values, x_t, rtol=1e-3)


def test_an_edge_of_one_axis_that_does_not_nest_is_named():
    a, b = _pair()
    b2 = Raw("b", b.xe, [0.0, 2.0, 3.0], np.ones((2, 2)), 0.1 * np.ones((2, 2)), {})
    with pytest.raises(
        InvalidMeasurement, match=r"y axis \('y'\): .*edge 1 .*'a' falls inside bin \[0, 2\) of 'b'"
    ):
        combine([a, b2], {}, {"edges": {"y": [0.0, 1.0, 3.0]}})
    # fine in x only and fine in y only: no cell measured alone
    c = Raw("c", a.xe, [0.0, 3.0], np.ones((3, 1)), 0.1 * np.ones((3, 1)), {})
    d = Raw("d", [0.0, 4.0], a.ye, np.ones((1, 2)), 0.1 * np.ones((1, 2)), {})
    with pytest.raises(InvalidMeasurement, match=r"cell 0 .*measured by no measurement alone"):
        combine([c, d], {}, {"match": "finest"})


# --------------------------------------------------------------------------- outputs
def test_the_combined_th2d_read_by_root_and_the_2d_hist(tmp_path, pyroot):
    from conftest import expect_objects, judge_root_file

    from hepcombine.outputs.hist import to_hist
    from hepcombine.outputs.root import differential_objects, write_root

    a, b = _pair()
    result = combine_differential(
        [a.measurement(), b.measurement()], CORR, binning={"match": "finest"}
    )
    cx, cy = [0.0, 1.0, 2.0, 4.0], [0.0, 1.0, 3.0]
    x, V, _ = reference([a, b], cx, cy, CORR)
    err = np.sqrt(np.diag(V))
    path = tmp_path / "out.root"
    write_root(path, result)
    judge_root_file(path, expect_objects(differential_objects(result)))
    f = pyroot.TFile.Open(str(path))
    try:
        h = f.Get("combined")
        assert h.ClassName() == "TH2D"
        assert (h.GetNbinsX(), h.GetNbinsY()) == (3, 2)
        assert [h.GetXaxis().GetBinLowEdge(i) for i in range(1, 5)] == cx
        assert [h.GetYaxis().GetBinLowEdge(i) for i in range(1, 4)] == cy
        for ix in range(3):
            for iy in range(2):
                k = ix + 3 * iy
                assert h.GetBinContent(ix + 1, iy + 1) == pytest.approx(x[k], rel=1e-9)
                assert h.GetBinError(ix + 1, iy + 1) == pytest.approx(err[k], rel=1e-8)
        c = f.Get("covariance")
        for i in range(6):
            for j in range(6):
                assert c.GetBinContent(i + 1, j + 1) == pytest.approx(V[i, j], rel=1e-7, abs=1e-14)
    finally:
        f.Close()
    hh = to_hist(result)
    assert hh.ndim == 2 and [ax.name for ax in hh.axes] == ["pt", "y"]
    for ix in range(3):
        for iy in range(2):
            assert hh.values()[ix, iy] == pytest.approx(x[ix + 3 * iy], rel=1e-9)
            assert hh.variances()[ix, iy] == pytest.approx(err[ix + 3 * iy] ** 2, rel=1e-8)


# --------------------------------------------------------------------------- campaign
def _subset(edges, rng):
    inner = [e for e in edges[1:-1] if rng.random() < 0.5]
    return [edges[0], *inner, edges[-1]]


def _campaign_case(seed):
    rng = np.random.default_rng(seed)
    fine = []
    for _ in range(2):
        n = int(rng.integers(2, 5))
        fine.append(list(np.round(np.cumsum([rng.uniform(-1, 1), *rng.uniform(0.5, 2, n)]), 3)))
    mode = ["coarsest", "finest", "edges"][seed % 3]
    per_bin = bool(rng.random() < 0.4)
    if mode == "coarsest":
        edges_a = [_subset(e, rng) if rng.random() < 0.5 else e for e in fine]
    else:  # a is the finest on both axes: every combined cell is measured alone
        edges_a = fine
    edges_b = [_subset(e, rng) for e in fine]
    if mode == "coarsest":
        comb = [sorted(set(ea) & set(eb)) for ea, eb in zip(edges_a, edges_b, strict=True)]
        binning = {"match": "coarsest"}
    elif mode == "finest":
        comb = fine
        binning = {"match": "finest"}
    else:
        # nested with both: every edge (a's), b's, or fewer than b's
        comb = [
            [e, eb, _subset(eb, rng)][int(rng.integers(3))]
            for e, eb in zip(fine, edges_b, strict=True)
        ]
        binning = {"edges": {"x": comb[0], "y": comb[1]}}
    raws = []
    for name, (xe, ye) in (("a", edges_a), ("b", edges_b)):
        shape = (len(xe) - 1, len(ye) - 1)
        widths = np.outer(np.diff(xe), np.diff(ye))
        level = 5.0 * (widths if per_bin else 1.0)
        raws.append(
            Raw(
                name,
                xe,
                ye,
                level * (1 + 0.1 * rng.normal(size=shape)),
                level * rng.uniform(0.03, 0.1, shape),
                {
                    "s": level * rng.uniform(0.02, 0.08, shape),
                    "own": level * rng.uniform(0.0, 0.05, shape),
                },
            )
        )
    corr = {("a:s", "b:s"): float(rng.uniform(-0.5, 0.95))}
    return raws, comb, corr, binning, per_bin


@pytest.mark.parametrize("seed", range(20))
def test_campaign_random_nested_2d_binnings(seed):
    raws, comb, corr, binning, per_bin = _campaign_case(seed)
    _, result, values, cov = combine(raws, corr, binning, "per_bin" if per_bin else "density")
    x, V, pulls = reference(raws, comb[0], comb[1], corr, per_bin)
    np.testing.assert_allclose(values, x, rtol=1e-8, atol=1e-10 * np.abs(x).max())
    np.testing.assert_allclose(cov, V, rtol=1e-7, atol=1e-10 * np.abs(V).max())
    for src, p in pulls.items():
        assert result.pulls[src] == pytest.approx(p, rel=1e-6, abs=1e-8)


def _yaml_config(tmp_path, binning):
    import uproot

    a, b = _pair()
    with uproot.recreate(tmp_path / "in.root") as f:
        for r in (a, b):
            f[f"{r.name}_nom"] = r.hist()
            for s, u in r.shifts.items():
                f[f"{r.name}_{s}"] = Raw(r.name, r.xe, r.ye, u, r.sigma, {}).hist()
    blocks = []
    for r in (a, b):
        syst = ", ".join(f"{s}: {r.name}_{s}" for s in r.shifts)
        blocks.append(
            f"  {r.name}:\n    root:\n      file: in.root\n      histogram: {r.name}_nom\n"
            f"      kind: shift\n      systematics: {{{syst}}}\n"
        )
    text = (
        "measurements:\n" + "".join(blocks) + f"binning: {binning}\n"
        "correlations:\n  - {a: 'a:s', b: 'b:s', rho: 0.7}\n"
    )
    (tmp_path / "c.yaml").write_text(text)
    return a, b, text


def test_yaml_root_th2_inputs_with_a_binning(tmp_path):
    from hepcombine.exceptions import ConfigError
    from hepcombine.inputs import load_config

    a, b, text = _yaml_config(tmp_path, "{edges: {x: [0, 2, 4], y: [0, 1, 3]}}")
    spec = load_config(tmp_path / "c.yaml")
    result = spec.combiner().combine(intervals=False)
    x, V, _ = reference([a, b], [0.0, 2.0, 4.0], [0.0, 1.0, 3.0], CORR)
    obs = list(spec.observables)
    np.testing.assert_allclose([result.values[o] for o in obs], x, rtol=1e-9)
    np.testing.assert_allclose(result.covariance.sub(obs).matrix, V, rtol=1e-8, atol=1e-14)
    (tmp_path / "bad.yaml").write_text(
        text.replace("kind: shift", "kind: shift\n      axis_unit: GeV", 1)
    )
    with pytest.raises(ConfigError, match="axis_unit.*2-d histogram"):
        load_config(tmp_path / "bad.yaml")
    (tmp_path / "bad2.yaml").write_text(text.replace("y: [0, 1, 3]", "y: [0, 2, 3]"))
    with pytest.raises(
        ConfigError, match=r"at binning: y axis .*edge 2 falls inside bin \[1, 3\) of 'a'"
    ):
        load_config(tmp_path / "bad2.yaml")


def test_text_tables_label_the_cells():
    from hepcombine.formatting import result_table

    a, b = _pair()
    result = combine_differential(
        [a.measurement(), b.measurement()], CORR, binning={"match": "coarsest"}
    )
    table = result_table(result)
    assert "pt [0, 2), y [0, 3)" in table and "pt [2, 4), y [0, 3)" in table


def test_json_of_a_2d_result_is_schema_valid():
    import json

    import jsonschema

    from hepcombine.outputs.json import dumps, load_schema, result_to_dict

    a, b = _pair()
    result = combine_differential(
        [a.measurement(), b.measurement()], CORR, binning={"match": "coarsest"}
    )
    data = json.loads(dumps(result_to_dict(result.result, differential=result)))
    jsonschema.Draft202012Validator(load_schema()).validate(data)
    got = data["differential"]["binning"]
    assert got["x"]["low"] == [0.0, 2.0] and got["y"]["high"] == [3.0]
    assert Binning2D.from_dict(got) == result.binning


def test_every_cli_output_of_a_2d_combination(tmp_path, monkeypatch):
    import json

    from hepcombine.cli import main

    a, b, _ = _yaml_config(tmp_path, "{match: finest}")
    monkeypatch.chdir(tmp_path)
    args = ["combine", "c.yaml", "--json", "r.json", "--markdown", "r.md", "--plots"]
    args += ["--hepdata", "hd", "--yoda", "r.yoda", "--latex", "r.tex", "--hs", "hs3.json"]
    assert main(args) == 0
    x, _, _ = reference([a, b], [0.0, 1.0, 2.0, 4.0], [0.0, 1.0, 3.0], CORR)
    data = json.loads((tmp_path / "r.json").read_text())
    got = [data["combined"][f"bin{k}"]["value"] for k in range(6)]
    np.testing.assert_allclose(got, x, rtol=1e-9)
    assert len(data["differential"]["binning"]["x"]["low"]) == 3
    assert "[2, 4), yaxis [1, 3)" in (tmp_path / "r.md").read_text()  # cell 5
    assert (tmp_path / "spectrum.png").is_file() and (tmp_path / "hd").is_dir()


# --------------------------------------------------------------------------- Hessian inputs
def reference_quadratic(raws, cx, cy, corr, per_bin=False, hessians=None):
    """The combined χ² written as a quadratic form in (combined cells, free fine shapes,
    sources) and solved: a measurement finer on an axis keeps its own χ² with the shape inside
    each combined cell free (f = R⁺ D c + N s, N the null space of its merge R); a Hessian
    input ``hessians[name] = (H, pulls)`` enters as (θ − θ̂)ᵀ H (θ − θ̂) without its unit
    prior (the sources' prior λᵀρ⁻¹λ is added once)."""
    hessians = hessians or {}
    sources = [f"{r.name}:{s}" for r in raws for s in r.shifts]
    n_c = (len(cx) - 1) * (len(cy) - 1)
    parts = []
    for r in raws:
        Rx, Dx = axis_maps(r.xe, cx, per_bin)
        Ry, Dy = axis_maps(r.ye, cy, per_bin)
        R, D = np.kron(Ry, Rx), np.kron(Dy, Dx)
        _, sv, vt = np.linalg.svd(R)  # numpy's: N spans the shapes R does not see
        parts.append((np.linalg.pinv(R) @ D, vt[int(np.sum(sv > 1e-12)) :].T))
    n_s = sum(N.shape[1] for _, N in parts)
    n = n_c + n_s + len(sources)
    Q, b = np.zeros((n, n)), np.zeros(n)
    off = n_c
    for r, (G, N) in zip(raws, parts, strict=True):
        y = cells(r.values)
        P = np.zeros((len(y), n))
        P[:, :n_c], P[:, off : off + N.shape[1]] = G, N
        off += N.shape[1]
        L = np.zeros((len(r.shifts), n))
        for i, s in enumerate(r.shifts):
            L[i, n_c + n_s + sources.index(f"{r.name}:{s}")] = 1.0
        if r.name in hessians:
            H, pulls = hessians[r.name]
            T = np.vstack([P, L])
            theta = np.concatenate([y, [pulls[s] for s in r.shifts]])
            Q += T.T @ H @ T - L.T @ L
            b += T.T @ H @ theta
        else:
            U = np.array([cells(u) for u in r.shifts.values()]).T
            Res = P - U @ L
            W = np.diag(1.0 / cells(r.sigma) ** 2)
            Q += Res.T @ W @ Res
            b += Res.T @ W @ y
    rho = np.eye(len(sources))
    for (a, c), v in corr.items():
        rho[sources.index(a), sources.index(c)] = rho[sources.index(c), sources.index(a)] = v
    Q[n_c + n_s :, n_c + n_s :] += np.linalg.inv(rho)
    z = np.linalg.solve(Q, b)
    return z[:n_c], np.linalg.inv(Q)[:n_c, :n_c]


def _hessian_measurement(r, H, pulls):
    from hepcombine.measurement import DifferentialMeasurement, Measurement

    bins = [f"{r.name}_bin{k}" for k in range(r.values.size)]
    m = Measurement.from_hessian(
        H,
        bins + list(r.shifts),
        dict(zip(bins, cells(r.values), strict=True)),
        nuisance_values=pulls,
        name=r.name,
    )
    return DifferentialMeasurement(m, Binning2D.from_edges(r.xe, r.ye))


@pytest.mark.parametrize(
    ("binning", "cx", "cy"),
    [
        ({"match": "coarsest"}, [0.0, 2.0, 4.0], [0.0, 3.0]),
        ({"match": "finest"}, [0.0, 1.0, 2.0, 4.0], [0.0, 1.0, 3.0]),
        ({"edges": {"x": [0.0, 2.0, 4.0], "y": [0.0, 1.0, 3.0]}}, [0.0, 2.0, 4.0], [0.0, 1.0, 3.0]),
    ],
)
def test_a_pulled_hessian_2d_input_equals_the_written_chi2(binning, cx, cy):
    a, b = _pair()
    # the quadratic form agrees with the GLS for inputs given by uncertainties
    x_q, V_q = reference_quadratic([a, b], cx, cy, CORR)
    x_g, V_g, _ = reference([a, b], cx, cy, CORR)
    np.testing.assert_allclose(x_q, x_g, rtol=1e-9)
    np.testing.assert_allclose(V_q, V_g, rtol=1e-8, atol=1e-14)
    # a: the Hessian of its own fit (cells, then its sources), pulled sources
    rng = np.random.default_rng(11)
    U = np.array([cells(u) for u in a.shifts.values()]).T
    M = np.diag(1.0 / cells(a.sigma) ** 2)
    K = rng.normal(size=(2, 2))
    H = np.block([[M, -M @ U], [-(M @ U).T, U.T @ M @ U + np.eye(2) + 0.3 * K @ K.T]])
    pulls = {"s": 0.4, "u": -0.7}
    spec = differential_spec(
        [_hessian_measurement(a, H, pulls), b.measurement()], CORR, binning=binning
    )
    result = spec.combiner().combine(intervals=False)
    obs = list(spec.observables)
    x, V = reference_quadratic([a, b], cx, cy, CORR, hessians={"a": (H, pulls)})
    np.testing.assert_allclose([result.values[o] for o in obs], x, rtol=1e-9)
    np.testing.assert_allclose(result.covariance.sub(obs).matrix, V, rtol=1e-8, atol=1e-14)
    assert not np.allclose(x, x_g, rtol=1e-3)  # the Hessian and its pulls matter
