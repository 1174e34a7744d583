"""Tests of the Convino text-format reader and writer (hepcombine.inputs.convino and
hepcombine.outputs.convino).

Reference values are computed here from the covariance the test starts from, with the Gaussian
conditioning formulas (independent of the Hessian algebra in hepcombine.measurement):
for θ = (x, λ) with covariance V,

* the shift of x when λ is fixed: U = V_xλ V_λλ⁻¹,
* the statistical information: M = (V_xx − V_xλ V_λλ⁻¹ V_λx)⁻¹,
* what the fit knows about λ beyond the prior: D = V_λλ⁻¹ − 1.
"""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import line_of, write
from convino_files import COV, NAMES, combination_files, orthogonal, shared_setup

from hepcombine.exceptions import ConfigError
from hepcombine.inputs.convino import read_convino, read_measurement_file
from hepcombine.spec import CombinationSpec


def conditional(cov: np.ndarray, n_x: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(M, U, D) for a covariance whose first n_x parameters are the estimates."""
    vxx, vxl, vll = cov[:n_x, :n_x], cov[:n_x, n_x:], cov[n_x:, n_x:]
    u = vxl @ np.linalg.inv(vll)
    m = np.linalg.inv(vxx - u @ vxl.T)
    d = np.linalg.inv(vll) - np.eye(len(vll))
    return m, u, d


def lower_triangle(names: list[str], matrix: np.ndarray) -> str:
    return "\n".join(
        f"  {name} " + " ".join(repr(float(v)) for v in matrix[i, : i + 1])
        for i, name in enumerate(names)
    )


def hessian_file(path: Path, order: list[int], extra: str = "") -> Path:
    """A measurement file with the Hessian of COV, rows in the given order of NAMES."""
    h = np.linalg.inv(COV)
    names = [NAMES[i] for i in order]
    h = h[np.ix_(order, order)]
    return write(
        path,
        f"""
        Header text outside blocks is ignored.
        [hessian]
        {textwrap.indent(lower_triangle(names, h), "        ").lstrip()}
        [end hessian]
        [estimates]
          n_estimates = 2
          name_0 = xs0
          value_0 = 101.5
          name_1 = xs1   # a comment
          value_1 = 55.0;
        [end estimates]
        {extra}
        """,
    )


# --------------------------------------------------------------------------- measurement files
def test_hessian_lower_triangle_matches_conditional_gaussian(tmp_path):
    # rows in mixed order: systematics and estimates interleaved
    path = hessian_file(tmp_path / "meas.txt", [2, 0, 3, 1])
    m = read_measurement_file(path)
    assert m.name == "meas"
    # estimate order follows the Hessian rows, sources too
    assert m.estimate_names == ("xs0", "xs1")
    assert m.source_names == ("jes", "lumi")
    np.testing.assert_allclose(m.estimates, [101.5, 55.0])
    ref_m, ref_u, ref_d = conditional(COV, 2)
    np.testing.assert_allclose(m.stat_information, ref_m, rtol=1e-10)
    np.testing.assert_allclose(m.shifts_up, ref_u, rtol=1e-10)
    np.testing.assert_allclose(m.shifts_down, -ref_u, rtol=1e-10)
    np.testing.assert_allclose(m.source_information, ref_d, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(m.nuisance_values, [0.0, 0.0])
    # total covariance of the estimates is the x-block of COV
    np.testing.assert_allclose(m.covariance, COV[:2, :2], rtol=1e-10)


def test_hessian_full_square_equals_lower_triangle(tmp_path):
    h = np.linalg.inv(COV)
    rows = "\n".join(
        f"  {n} " + " ".join(repr(float(v)) for v in h[i]) for i, n in enumerate(NAMES)
    )
    square = write(
        tmp_path / "square.txt",
        "[hessian]\n"
        + rows
        + "\n[end hessian]\n[estimates]\nn_estimates = 2\nname_0 = xs0\nvalue_0 = 1\n"
        "name_1 = xs1\nvalue_1 = 2\n[end estimates]\n",
    )
    m = read_measurement_file(square)
    ref_m, ref_u, _ = conditional(COV, 2)
    np.testing.assert_allclose(m.stat_information, ref_m, rtol=1e-10)
    np.testing.assert_allclose(m.shifts_up, ref_u, rtol=1e-10)


def test_correlation_matrix_with_constraints(tmp_path):
    sigma = np.sqrt(np.diag(COV))
    rho = COV / np.outer(sigma, sigma)
    order = [2, 3, 0, 1]
    lines = []
    for i, k in enumerate(order):
        entries = " ".join(repr(float(rho[k, order[j]])) for j in range(i + 1))
        lines.append(f"  {NAMES[k]} ({float(sigma[k])!r}) {entries}")
    path = write(
        tmp_path / "corr.txt",
        "[correlation matrix]\n" + "\n".join(lines) + "\n[end correlation matrix]\n"
        "[estimates]\nn_estimates = 2\nname_0 = xs0\nvalue_0 = 10\nname_1 = xs1\nvalue_1 = 20\n"
        "[end estimates]\n",
    )
    m = read_measurement_file(path)
    assert m.source_names == ("jes", "lumi")
    ref_m, ref_u, ref_d = conditional(COV, 2)
    np.testing.assert_allclose(m.stat_information, ref_m, rtol=1e-10)
    np.testing.assert_allclose(m.shifts_up, ref_u, rtol=1e-10)
    np.testing.assert_allclose(m.source_information, ref_d, rtol=1e-10, atol=1e-12)


def test_not_fitted_orthogonal_with_asymmetric_and_relative(tmp_path):
    path = write(
        tmp_path / "orth.txt",
        """
        [not fitted]
                   scale   pdf           stat   shape
          xs_bin0  4.0     (+2-1.5)      3.1    ( -0.5 +0.25 )
          xs_bin1  2.2     1.0           2.4    0
        [end not fitted]
        [systematics]
          pdf = relative
          scale = absolute
        [end systematics]
        [estimates]
          n_estimates = 2
          name_0 = xs_bin0
          value_0 = 101.5
          name_1 = xs_bin1
          value_1 = 55.0
        [end estimates]
        """,
    )
    m = read_measurement_file(path)
    assert m.estimate_names == ("xs_bin0", "xs_bin1")
    assert m.source_names == ("scale", "pdf", "shape")
    np.testing.assert_allclose(m.stat_information, np.diag([1 / 3.1**2, 1 / 2.4**2]))
    # (+X-Y): +X for λ=+1 and -Y for λ=-1, signs kept as written, also for (-X+Y)
    np.testing.assert_array_equal(m.shifts_up, [[4.0, 2.0, -0.5], [2.2, 1.0, 0.0]])
    np.testing.assert_array_equal(m.shifts_down, [[-4.0, -1.5, 0.25], [-2.2, -1.0, 0.0]])
    np.testing.assert_array_equal(m.source_information, np.zeros((3, 3)))
    assert m.relative == frozenset({"pdf"})


def test_hessian_plus_not_fitted_ignores_stat_with_warning(tmp_path, caplog):
    extra = """
        [not fitted]
          extra  stat
          xs1    0.7   99
        [end not fitted]
        [nuisance values]
          jes = 0.25
          extra = -0.5
        [end nuisance values]
    """
    path = hessian_file(tmp_path / "mixed.txt", [0, 1, 2, 3], textwrap.dedent(extra))
    with caplog.at_level(logging.WARNING, logger="hepcombine.inputs.convino"):
        m = read_measurement_file(path)
    assert any(
        r.name == "hepcombine.inputs.convino" and "stat column" in r.getMessage()
        for r in caplog.records
    )
    assert m.source_names == ("jes", "lumi", "extra")
    ref_m, ref_u, ref_d = conditional(COV, 2)
    # the stat column (99) is ignored: M comes from the Hessian
    np.testing.assert_allclose(m.stat_information, ref_m, rtol=1e-10)
    np.testing.assert_allclose(m.shifts_up[:, :2], ref_u, rtol=1e-10)
    np.testing.assert_array_equal(m.shifts_up[:, 2], [0.0, 0.7])
    # the orthogonal source knows nothing beyond its prior and is uncorrelated with the rest
    np.testing.assert_allclose(m.source_information[:2, :2], ref_d, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(m.source_information[2], 0.0)
    np.testing.assert_array_equal(m.source_information[:, 2], 0.0)
    np.testing.assert_array_equal(m.nuisance_values, [0.25, 0.0, -0.5])


def test_include_relative_to_including_file(tmp_path):
    h = np.linalg.inv(COV)
    write(
        tmp_path / "parts" / "rows.txt",
        lower_triangle(NAMES[:2], h[:2, :2]) + "\n#!FILE = more.txt\n",
    )
    write(tmp_path / "parts" / "more.txt", lower_triangle(NAMES, h).split("\n", 2)[2] + "\n")
    path = write(
        tmp_path / "inc.txt",
        """
        [hessian]
        #!FILE = parts/rows.txt
        [end hessian]
        [estimates]
        n_estimates = 2
        name_0 = xs0
        value_0 = 1
        name_1 = xs1
        value_1 = 2
        [end estimates]
        """,
    )
    m = read_measurement_file(path)
    ref_m, ref_u, _ = conditional(COV, 2)
    np.testing.assert_allclose(m.stat_information, ref_m, rtol=1e-10)
    np.testing.assert_allclose(m.shifts_up, ref_u, rtol=1e-10)


def test_marker_whitespace_and_case_is_ignored(tmp_path):
    path = write(
        tmp_path / "ws.txt",
        """
        [ not   fitted ]
          a  stat
          x  1.0  2.0
        [ end not fitted ]   # closing
        [estimates]
          n_estimates = 1
          name_0 = x
          value_0 = 3
        [end estimates]
        """,
    )
    m = read_measurement_file(path)
    assert m.source_names == ("a",)
    np.testing.assert_allclose(m.stat_information, [[0.25]])


# --------------------------------------------------------------------------- base file
@pytest.fixture
def combination(tmp_path) -> Path:
    return combination_files(tmp_path)


def test_base_file(combination):
    spec = read_convino(combination, scan_points=5)
    assert isinstance(spec, CombinationSpec)
    assert list(spec.measurements) == ["atlas", "cms"]
    assert spec.measurements["cms"].estimate_names == ("c0", "c1", "c_extra")
    # qualified references; c_extra is a spectator and appears in no observable
    assert spec.observables == {"bin0": ["atlas:a0", "cms:c0"], "bin1": ["atlas:a1", "cms:c1"]}
    assert spec.correlations == {
        ("atlas:jes_a", "cms:jes_c"): 0.5,
        ("atlas:lumi_a", "cms:lumi_c"): 1.0,
    }
    assert len(spec.scans) == 1
    group = spec.scans[0]
    assert group.name == "jes_a"
    assert group.pairs == [("atlas:jes_a", "cms:jes_c", 0.0, 1.0)]
    assert group.n_points == 5
    assert [p[("atlas:jes_a", "cms:jes_c")] for p in group.points()] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert spec.impacts == {"lumi": ["atlas:lumi_a", "cms:lumi_c"], "statistics": ["stat"]}
    assert spec.differential is True
    assert spec.normalise is False
    assert spec.chi2 is None
    assert spec.source == str(combination)
    np.testing.assert_array_equal(spec.measurements["atlas"].shifts_down[:, 0], [-0.5, -0.6])


def test_scan_group_takes_all_ranged_pairs_of_a_line(tmp_path):
    for name in ("m1", "m2", "m3"):
        orthogonal(
            tmp_path / f"{name}.txt",
            {f"x_{name}": 1.0},
            {"stat": {f"x_{name}": "1"}, f"s_{name}": {f"x_{name}": "0.1"}},
        )
    base = write(
        tmp_path / "base.txt",
        """
        [global]
        [end global]
        [inputs]
        nFiles = 3
        file0 = m1.txt
        file1 = m2.txt
        file2 = m3.txt
        [end inputs]
        [observables]
        x = x_m1 + x_m2 + x_m3
        [end observables]
        [correlations]
        s_m1 = (0.2 & -0.5 : 0.5) s_m2 + (0.3) s_m3
        s_m2 = (0.1 & 0 : 1) s_m3
        [end correlations]
        """,
    )
    spec = read_convino(base)
    assert [g.name for g in spec.scans] == ["s_m1", "s_m2"]
    assert spec.scans[0].pairs == [("m1:s_m1", "m2:s_m2", -0.5, 0.5)]
    assert spec.scans[0].n_points == 6
    assert spec.correlations[("m1:s_m1", "m3:s_m3")] == 0.3
    assert spec.observables == {"x": ["m1:x_m1", "m2:x_m2", "m3:x_m3"]}


def test_repeated_systematic_name_is_an_error_naming_both_files(tmp_path):
    base = shared_setup(tmp_path, "")
    with pytest.raises(ConfigError) as info:
        read_convino(base)
    msg = str(info.value)
    assert "'lumi'" in msg and "m1.txt" in msg and "m2.txt" in msg and "sharedNames" in msg


def test_shared_names_correlates_same_named_sources(tmp_path):
    spec = read_convino(shared_setup(tmp_path, "sharedNames = true"))
    assert spec.correlations == {
        ("m1:lumi", "m2:lumi"): 1.0,
        ("m1:a", "m1:lumi"): 0.5,
        ("m1:a", "m2:lumi"): 0.5,
    }
    assert spec.impacts == {"lumi": ["m1:lumi", "m2:lumi"]}


# --------------------------------------------------------------------------- malformed input
EST = "[estimates]\nn_estimates = 1\nname_0 = x\nvalue_0 = 1\n[end estimates]\n"
NF = "[not fitted]\n a stat\n x 1 2\n[end not fitted]\n"


@pytest.mark.parametrize(
    ("text", "needle", "block", "expected"),
    [
        (EST + "[hessian]\n x 1\n", "[hessian]", "hessian", "missing [end hessian]"),
        (
            "[hessian]\n x 1\n[systematics]\n[end hessian]\n" + EST,
            "[systematics]",
            "hessian",
            "expected [end hessian]",
        ),
        (
            NF
            + "[estimates]\nn_estimates = 1\nname_0 = x\nvalue_0 = 1\nname_0 = y\n[end estimates]\n",
            "name_0 = y",
            "estimates",
            "given twice",
        ),
        (
            "[hessian]\n x 1\n a 0.1 abc\n[end hessian]\n" + EST,
            "abc",
            "hessian",
            "expected a number",
        ),
        ("[hessian]\n x 1\n a 0.1\n[end hessian]\n" + EST, "a 0.1", "hessian", "expected 2"),
        (
            "[hessian]\n x 1 2\n a 2 3\n[end hessian]\n" + EST,
            "[hessian]",
            "hessian",
            "positive definite",
        ),
        (
            "[correlation matrix]\n x 1\n[end correlation matrix]\n" + EST,
            "x 1",
            "correlation matrix",
            "constraint",
        ),
        (
            NF + "[systematics]\n a = gamma\n[end systematics]\n" + EST,
            "gamma",
            "systematics",
            "expected absolute",
        ),
        (
            "[not fitted]\n a b\n x 1 2\n[end not fitted]\n" + EST,
            " a b",
            "not fitted",
            "stat column is required",
        ),
        (
            "[not fitted]\n a stat\n x 1 0\n[end not fitted]\n" + EST,
            "x 1 0",
            "not fitted",
            "positive",
        ),
        (
            "[not fitted]\n a stat\n x (+1*2) 1\n[end not fitted]\n" + EST,
            "(+1*2)",
            "not fitted",
            "asymmetric",
        ),
        (
            "[not fitted]\n a stat\n x 1 2 3\n[end not fitted]\n" + EST,
            "x 1 2 3",
            "not fitted",
            "expected 2",
        ),
        ("[not fitted]\n a stat\n y 1 2\n[end not fitted]\n" + EST, "y 1 2", "not fitted", "'y'"),
        (
            NF + "[nuisance values]\n b = 1\n[end nuisance values]\n" + EST,
            "b = 1",
            "nuisance values",
            "'b'",
        ),
        (
            NF + "[nuisance values]\n a = one\n[end nuisance values]\n" + EST,
            "a = one",
            "nuisance values",
            "number",
        ),
        (
            NF + "[estimates]\nn_estimates = 2\nname_0 = x\nvalue_0 = 1\n[end estimates]\n",
            "n_estimates",
            "estimates",
            "name_1",
        ),
        (NF + NF + EST, "[not fitted]", "not fitted", "given twice"),
    ],
)
def test_malformed_measurement_names_file_line_block(tmp_path, text, needle, block, expected):
    path = write(tmp_path / "bad.txt", text)
    number = [i for i, line in enumerate(text.splitlines(), 1) if needle in line][-1]
    with pytest.raises(ConfigError) as info:
        read_measurement_file(path)
    msg = str(info.value)
    assert str(path) in msg
    assert f"line {number}," in msg
    assert f"block [{block}]" in msg
    assert expected in msg


def test_malformed_include_names_the_included_file(tmp_path):
    inc = write(tmp_path / "rows.txt", " x 1\n a 0.1 zz\n")
    path = write(tmp_path / "m.txt", "[hessian]\n#!FILE = rows.txt\n[end hessian]\n" + EST)
    with pytest.raises(ConfigError, match=rf"{inc}, line 2, block \[hessian\]: .*'zz'"):
        read_measurement_file(path)


BASE = """
[global]
{glob}
[end global]
[inputs]
nFiles = 2
file0 = m1.txt
file1 = m2.txt
[end inputs]
[observables]
{obs}
[end observables]
[correlations]
{corr}
[end correlations]
"""


@pytest.mark.parametrize(
    ("glob", "obs", "corr", "needle", "block", "expected"),
    [
        ("", "x = x1 + nope", "", "nope", "observables", "unknown estimate 'nope'"),
        ("", "x = x1\ny = x1", "", "y = x1", "observables", "already mapped"),
        ("", "x = x1 + x2", "a = (0.5) nope", "nope", "correlations", "unknown source 'nope'"),
        ("", "x = x1 + x2", "a = (1.5) b", "(1.5)", "correlations", "outside [-1, 1]"),
        (
            "",
            "x = x1 + x2",
            "a = (0.5 & 0 : 2) b",
            "(0.5 & 0 : 2)",
            "correlations",
            "outside [-1, 1]",
        ),
        ("", "x = x1 + x2", "a = (0.5 & 0) b", "(0.5 & 0)", "correlations", "scan range"),
        ("", "x = x1 + x2", "a = 0.5 b", "0.5 b", "correlations", "expected '(nominal) source'"),
        (
            "",
            "x = x1 + x2",
            "a = (0.5) b\nb = (0.5) a",
            "b = (0.5) a",
            "correlations",
            "given twice",
        ),
        ("", "x = x1 + x2", "a = (x) b", "(x)", "correlations", "expected a number"),
        ("isDifferential = yes", "x = x1", "", "yes", "global", "true or false"),
    ],
)
def test_malformed_base_names_file_line_block(tmp_path, glob, obs, corr, needle, block, expected):
    orthogonal(tmp_path / "m1.txt", {"x1": 1.0}, {"stat": {"x1": "1"}, "a": {"x1": "0.2"}})
    orthogonal(tmp_path / "m2.txt", {"x2": 1.0}, {"stat": {"x2": "1"}, "b": {"x2": "0.2"}})
    text = BASE.format(glob=glob, obs=obs, corr=corr)
    path = write(tmp_path / "base.txt", text)
    number = line_of(path, needle)
    with pytest.raises(ConfigError) as info:
        read_convino(path)
    msg = str(info.value)
    assert str(path) in msg
    assert f"line {number}," in msg
    assert f"block [{block}]" in msg
    assert expected in msg


def test_missing_input_file_and_missing_block(tmp_path):
    base = write(tmp_path / "base.txt", BASE.format(glob="", obs="", corr=""))
    with pytest.raises(
        ConfigError, match=rf"line {line_of(base, 'file0')}, block \[inputs\].*m1.txt"
    ):
        read_convino(base)
    no_corr = write(
        tmp_path / "b2.txt", BASE.format(glob="", obs="", corr="").split("[correlations]")[0]
    )
    with pytest.raises(ConfigError, match=r"missing the required block \[correlations\]"):
        read_convino(no_corr)


# --------------------------------------------------------------------------- end to end
def test_convino_config_combines_like_a_directly_minimised_chi2(tmp_path):
    """Read orthogonal Convino inputs and combine them; reference: the χ² of method.md §2
    written out from the numbers in the files and minimised with scipy."""
    from scipy.optimize import minimize

    orthogonal(
        tmp_path / "a.txt",
        {"a0": 10.0, "a1": 20.0},
        {"stat": {"a0": "1", "a1": "2"}, "jes_a": {"a0": "0.5", "a1": "0.8"}},
    )
    orthogonal(
        tmp_path / "c.txt",
        {"c0": 11.0, "c1": 19.0, "spec": 5.0},
        {"stat": {"c0": "1.5", "c1": "2.5", "spec": "1"}, "jes_c": {"c0": "0.3", "c1": "-0.6"}},
    )
    base = write(
        tmp_path / "base.txt",
        """
        [global]
        [end global]
        [inputs]
        nFiles = 2
        file0 = a.txt
        file1 = c.txt
        [end inputs]
        [observables]
        bin0 = a0 + c0
        bin1 = a1 + c1
        [end observables]
        [correlations]
        jes_a = (0.5) jes_c
        [end correlations]
        """,
    )
    spec = read_convino(base)
    result = spec.combiner(chi2="neyman").combine()

    x_hat = np.array([10.0, 20.0, 11.0, 19.0, 5.0])
    sigma = np.array([1.0, 2.0, 1.5, 2.5, 1.0])
    # parameters: bin0, bin1, spectator, λ_jes_a, λ_jes_c
    design = np.array(
        [
            [1, 0, 0, 0.5, 0],
            [0, 1, 0, 0.8, 0],
            [1, 0, 0, 0, 0.3],
            [0, 1, 0, 0, -0.6],
            [0, 0, 1, 0, 0],
        ]
    )
    c_inv = np.linalg.inv(np.array([[1.0, 0.5], [0.5, 1.0]]))

    def chi2(p):
        r = (x_hat - design @ p) / sigma
        return r @ r + p[3:] @ c_inv @ p[3:]

    best = minimize(chi2, np.zeros(5), method="BFGS", options={"gtol": 1e-10})
    # χ² is quadratic: its Hessian by central differences is exact up to rounding
    h, step = np.zeros((5, 5)), 1e-2
    for i in range(5):
        for j in range(5):
            e_i, e_j = np.eye(5)[i] * step, np.eye(5)[j] * step
            h[i, j] = (
                chi2(best.x + e_i + e_j)
                - chi2(best.x + e_i - e_j)
                - chi2(best.x - e_i + e_j)
                + chi2(best.x - e_i - e_j)
            ) / (4 * step**2)
    cov = 2 * np.linalg.inv(h)
    for k, name in enumerate(["bin0", "bin1"]):
        assert result.values[name] == pytest.approx(best.x[k], rel=1e-6)
        assert result.errors[name] == pytest.approx(np.sqrt(cov[k, k]), rel=1e-6)
    assert result.chi2 == pytest.approx(best.fun, rel=1e-6, abs=1e-9)
    assert result.spectators["c:spec"][0] == pytest.approx(5.0)


# --------------------------------------------------------------------------- the original's quirks
# Each accepted quirk of docs/convino-format.md is read as the original program reads it, with a
# warning (file and line) where the original silently ignores something. References: the same
# content written without the quirk.
ROWS = "      a stat\n  x 1 2\n"
PLAIN = "[not fitted]\n" + ROWS + "[end not fitted]\n" + EST


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def _same_as_plain(tmp_path: Path, text: str) -> None:
    from conftest import assert_same_measurement

    plain = read_measurement_file(write(tmp_path / "plain" / "m.txt", PLAIN))
    quirky = read_measurement_file(write(tmp_path / "m.txt", text))
    assert_same_measurement(quirky, plain)


def test_empty_blocks_are_no_blocks(tmp_path, caplog):
    """Convino's own example measurement: an empty [correlation matrix] (comments only) next
    to a filled [hessian] and a [not fitted] table whose stat column is then ignored; and the
    CMS shape: empty [hessian], [not fitted] and [systematics] next to a full-square
    [correlation matrix]."""
    cov = COV[:2, :2]
    h = np.linalg.inv(cov)
    example = write(
        tmp_path / "example.txt",
        f"""
        [hessian]
          # the Hessian
          xs0 {float(h[0, 0])!r}
          xs1 {float(h[1, 0])!r} {float(h[1, 1])!r}
        [end hessian]
        [correlation matrix]
          # empty in this example
        [end correlation matrix]
        [not fitted]
                sys_d  stat
          xs0   5      6
          xs1   3      2
        [end not fitted]
        [estimates]
          n_estimates = 2
          name_0 = xs0
          value_0 = 800;
          name_1 = xs1
          value_1 = 300;
        [end estimates]
        """,
    )
    with caplog.at_level(logging.WARNING):
        m = read_measurement_file(example)
    assert m.source_names == ("sys_d",)
    np.testing.assert_allclose(m.stat_information, h, rtol=1e-12)
    np.testing.assert_allclose(m.shifts_up[:, 0], [5.0, 3.0])
    assert any("stat column of [not fitted] is ignored" in w for w in _warnings(caplog))

    sig = np.sqrt(np.diag(cov))
    rho = cov / np.outer(sig, sig)
    cms = write(
        tmp_path / "cms.txt",
        f"""
        [hessian]

        [end hessian]
        [estimates]
        n_estimates = 2
        name_0 = xs0
        value_0 = 100
        name_1 = xs1
        value_1 = 50
        [end estimates]
        [not fitted]
        [end not fitted]
        [correlation matrix]
        xs0 ({float(sig[0])!r}) 1.0 {float(rho[0, 1])!r}
        xs1 ({float(sig[1])!r}) {float(rho[1, 0])!r} 1.0
        [end correlation matrix]
        [systematics]
        [end systematics]
        """,
    )
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        m = read_measurement_file(cms)
    assert _warnings(caplog) == []
    np.testing.assert_allclose(m.stat_information, h, rtol=1e-10)
    assert m.source_names == ()


def test_stray_end_marker_outside_blocks_is_ignored_with_a_warning(tmp_path, caplog):
    text = "[not fitted]\n" + ROWS + "[end not fitted]\n\n[end systematics]\n" + EST
    with caplog.at_level(logging.WARNING):
        _same_as_plain(tmp_path, text)
    (w,) = _warnings(caplog)
    line = line_of(tmp_path / "m.txt", "[end systematics]")
    assert f"{tmp_path / 'm.txt'}, line {line}:" in w and "'[end systematics]'" in w


def test_two_equals_signs_take_the_text_between_the_first_two(tmp_path, caplog):
    text = PLAIN + "[systematics]\n a = relative = something\n[end systematics]\n"
    with caplog.at_level(logging.WARNING):
        m = read_measurement_file(write(tmp_path / "m.txt", text))
    assert m.relative == {"a"}
    (w,) = _warnings(caplog)
    line = line_of(tmp_path / "m.txt", "= something")
    assert f"line {line}, block [systematics]" in w and "'= something' is ignored" in w


def test_lines_without_equals_or_key_are_skipped_with_a_warning(tmp_path, caplog):
    text = (
        "[not fitted]\n" + ROWS + "[end not fitted]\n"
        "[estimates]\nthe estimate of this analysis\nn_estimates = 1\n= 3\nname_0 = x\n"
        "value_0 = 1\n[end estimates]\n"
    )
    with caplog.at_level(logging.WARNING):
        _same_as_plain(tmp_path, text)
    first, second = _warnings(caplog)
    prose, empty = line_of(tmp_path / "m.txt", "the estimate"), line_of(tmp_path / "m.txt", "= 3")
    assert f"line {prose}, block [estimates]" in first and "has no '='" in first
    assert f"line {empty}, block [estimates]" in second and "nothing before its '='" in second


def test_a_block_given_twice_counts_once_when_one_is_empty(tmp_path, caplog):
    text = "[not fitted]\n# nothing\n[end not fitted]\n" + PLAIN + "[hessian]\n[end hessian]\n"
    with caplog.at_level(logging.WARNING):
        _same_as_plain(tmp_path, text)
    assert _warnings(caplog) == []


def test_utf8_byte_order_mark_and_crlf_line_ends(tmp_path):
    path = tmp_path / "m.txt"
    path.write_bytes(b"\xef\xbb\xbf" + PLAIN.replace("\n", "\r\n").encode())
    from conftest import assert_same_measurement

    plain = read_measurement_file(write(tmp_path / "plain" / "m.txt", PLAIN))
    assert_same_measurement(read_measurement_file(path), plain)


def test_hessian_and_correlation_matrix_both_filled_uses_the_hessian(tmp_path, caplog):
    """As the original program: the Hessian wins (warning); the correlation matrix here is a
    different one, so using it would change the statistical information."""
    h = np.array([[4.0]])
    text = (
        "[hessian]\n x 4.0\n[end hessian]\n"
        "[correlation matrix]\n x (3.0) 1.0\n[end correlation matrix]\n" + EST
    )
    with caplog.at_level(logging.WARNING):
        m = read_measurement_file(write(tmp_path / "m.txt", text))
    np.testing.assert_allclose(m.stat_information, h)
    (w,) = _warnings(caplog)
    assert "line 1" in w and "(line 4)" in w and "the Hessian is used" in w


def base_with(tmp_path: Path, body: str, *, glob: str = "[global]\n[end global]\n") -> Path:
    orthogonal(
        tmp_path / "m1.txt",
        {"x1": 1.0},
        {"stat": {"x1": "1"}, "a1": {"x1": "0.2"}, "c1": {"x1": "0.1"}, "lumi_a": {"x1": "0.1"}},
    )
    orthogonal(
        tmp_path / "m2.txt",
        {"x2": 1.0},
        {"stat": {"x2": "1"}, "b2": {"x2": "0.2"}, "c2": {"x2": "0.3"}, "lumi_b": {"x2": "0.1"}},
    )
    return write(
        tmp_path / "base.txt",
        glob + "[inputs]\nnFiles = 2\nfile0 = m1.txt\nfile1 = m2.txt\n[end inputs]\n" + body,
    )


OBS = "[observables]\nx = x1 + x2\n[end observables]\n"


def test_repeated_left_hand_names_in_correlations_are_scan_groups(tmp_path):
    """Convino's example base file: two [correlations] lines start with the same name (no
    [global] block, as files for earlier releases); each line is one scan group."""
    base = base_with(
        tmp_path,
        OBS + "[correlations]\n"
        "  a1 =  (0 & -0.9 : 0.9) b2\n"
        "  a1 = (0.2 & -0.9 : 0.9) c2 + (0.2 & 0.4 : -0.4) lumi_b\n"
        "  c1 = (0.5) c2\n"
        "[end correlations]\n",
        glob="",
    )
    spec = read_convino(base)
    assert (spec.differential, spec.normalise) == (False, False)  # no [global]: an empty one
    assert spec.correlations == {
        ("m1:a1", "m2:b2"): 0.0,
        ("m1:a1", "m2:c2"): 0.2,
        ("m1:a1", "m2:lumi_b"): 0.2,
        ("m1:c1", "m2:c2"): 0.5,
    }
    first, second = line_of(base, "(0 & -0.9"), line_of(base, "(0.2 & -0.9")
    assert [g.name for g in spec.scans] == [f"a1 (line {first})", f"a1 (line {second})"]
    assert spec.scans[0].pairs == [("m1:a1", "m2:b2", -0.9, 0.9)]
    assert spec.scans[1].pairs == [
        ("m1:a1", "m2:c2", -0.9, 0.9),
        ("m1:a1", "m2:lumi_b", 0.4, -0.4),
    ]
    assert len(spec.scans[0].points()) == 6  # the original's number, a parameter here


def test_empty_entries_of_plus_lists_are_dropped_with_a_warning(tmp_path, caplog):
    base = base_with(
        tmp_path,
        "[observables]\nx = x1 + x2 +\n[end observables]\n"
        "[correlations]\na1 = (0.5) b2 +\n[end correlations]\n"
        "[uncertainty impacts]\nlumi = lumi_a + lumi_b +\nrest = a1 + + b2\n"
        "[end uncertainty impacts]\n",
    )
    with caplog.at_level(logging.WARNING):
        spec = read_convino(base)
    assert spec.observables == {"x": ["m1:x1", "m2:x2"]}
    assert spec.correlations == {("m1:a1", "m2:b2"): 0.5}
    assert spec.impacts == {"lumi": ["m1:lumi_a", "m2:lumi_b"], "rest": ["m1:a1", "m2:b2"]}
    lines = [line_of(base, needle) for needle in ("x1 + x2 +", "(0.5) b2 +", "lumi_b +", "+ +")]
    warned = _warnings(caplog)
    assert len(warned) == 4
    for number, w in zip(lines, warned, strict=True):
        assert f"line {number}, block [" in w and "empty entries" in w


def test_prose_in_an_included_correlations_file_is_skipped(tmp_path, caplog):
    write(
        tmp_path / "extra_correlations.txt",
        "these correlations come from the combination group\na1 = (0.3) b2\n",
    )
    write(tmp_path / "empty_include.txt", "")
    base = base_with(
        tmp_path,
        OBS + "[correlations]\n#!FILE = extra_correlations.txt\n#!FILE = empty_include.txt\n"
        "[end correlations]\n",
    )
    with caplog.at_level(logging.WARNING):
        spec = read_convino(base)
    assert spec.correlations == {("m1:a1", "m2:b2"): 0.3}
    (w,) = _warnings(caplog)
    assert f"{tmp_path / 'extra_correlations.txt'}, line 1, block [correlations]" in w


def test_a_real_base_with_only_an_empty_include(tmp_path):
    write(tmp_path / "extra_correlations.txt", "")
    base = base_with(
        tmp_path, OBS + "[correlations]\n\t#!FILE  =  extra_correlations.txt\n[end correlations]\n"
    )
    assert read_convino(base).correlations == {}


# --------------------------------------------------------------------------- what stays an error
@pytest.mark.parametrize(
    ("text", "needle", "block", "expected"),
    [
        # the case: a typo leaves a relative source absolute in the original program
        (
            "[not fitted]\n lumi_a stat\n x 1 2\n[end not fitted]\n"
            "[systematics]\n lumi_q = relative\n[end systematics]\n" + EST,
            "lumi_q",
            "systematics",
            "'lumi_q' is not a systematic of this measurement (did you mean 'lumi_a'?)",
        ),
        (
            NF + "[systematics]\n a = relativ\n[end systematics]\n" + EST,
            "relativ",
            "systematics",
            "did you mean 'relative'?",
        ),
        (
            NF + "[nuisance values]\n aa = 0.5\n[end nuisance values]\n" + EST,
            "aa = 0.5",
            "nuisance values",
            "did you mean 'a'?",
        ),
        (NF + NF.replace(" a stat", " b stat") + EST, "[not fitted]", "not fitted", "given twice"),
        (
            "[not fitted]\n a stat\n y 1 2\n[end not fitted]\n" + EST,
            "y 1 2",
            "not fitted",
            "'y' is not defined in [estimates]",
        ),
        (
            "[not fitted]\n a stat\n x 1 2\n[end not fitted]\n[end estimates]\n" + EST,
            "[end estimates]",
            "not fitted",
            "",
        ),
    ],
)
def test_still_rejected_measurement_names_file_line_block(tmp_path, text, needle, block, expected):
    path = write(tmp_path / "bad.txt", text)
    number = [i for i, line in enumerate(text.splitlines(), 1) if needle in line][-1]
    if not expected:  # a stray [end x] outside blocks is fine; this one is after a block: ok
        read_measurement_file(path)
        return
    with pytest.raises(ConfigError) as info:
        read_measurement_file(path)
    msg = str(info.value)
    assert f"{path}, line {number}, block [{block}]" in msg
    assert expected in msg


def test_marker_of_another_block_inside_a_block_is_an_error(tmp_path):
    text = "[not fitted]\n a stat\n x 1 2\n[end estimates]\n[end not fitted]\n" + EST
    path = write(tmp_path / "bad.txt", text)
    with pytest.raises(ConfigError, match=rf"{path}, line 4, block \[not fitted\]: expected"):
        read_measurement_file(path)


@pytest.mark.parametrize(
    ("body", "needle", "block", "expected"),
    [
        (
            OBS + "[correlations]\n[end correlations]\n"
            "[uncertainty impacts]\ng1 = a1 + b2\ng2 = c1 + a1\n[end uncertainty impacts]\n",
            "g2 = c1 + a1",
            "uncertainty impacts",
            "'m1:a1' is already in group 'g1' (line",
        ),
        (
            OBS + "[correlations]\n[end correlations]\n"
            "[uncertainty impacts]\ng1 = stat + b2\n[end uncertainty impacts]\n",
            "g1 = stat",
            "uncertainty impacts",
            "mixes 'stat' with sources",
        ),
        (
            OBS + "[correlations]\n[end correlations]\n"
            "[uncertainty impacts]\nstat = b2\n[end uncertainty impacts]\n",
            "stat = b2",
            "uncertainty impacts",
            "reserved",
        ),
        (
            OBS + "[correlations]\n[end correlations]\n"
            "[uncertainty impacts]\ng1 = lumi_c\n[end uncertainty impacts]\n",
            "lumi_c",
            "uncertainty impacts",
            "unknown source 'lumi_c' (did you mean",
        ),
        (
            "[observables]\nx = +\n[end observables]\n[correlations]\n[end correlations]\n",
            "x = +",
            "observables",
            "'x' lists nothing",
        ),
        (
            OBS + "[correlations]\na1 = (0.5) b2\na1 = (0.2) b2\n[end correlations]\n",
            "a1 = (0.2) b2",
            "correlations",
            "given twice",
        ),
        (
            OBS + "[correlations]\n[end correlations]\n[correlations]\na1 = (0.5) b2\n"
            "[end correlations]\n[correlations]\nc1 = (0.5) c2\n[end correlations]\n",
            "c1 = (0.5) c2",
            "correlations",
            "given twice",
        ),
    ],
)
def test_still_rejected_base_names_file_line_block(tmp_path, body, needle, block, expected):
    base = base_with(tmp_path, body)
    number = line_of(base, needle)
    if "given twice" in expected and "[correlations]" in body.split("[end correlations]")[1]:
        number = line_of(base, needle) - 1  # the second filled block's opening line
    with pytest.raises(ConfigError) as info:
        read_convino(base)
    msg = str(info.value)
    assert f"{base}, line {number}, block [{block}]" in msg
    assert expected in msg


def test_unknown_name_among_143_sources_is_one_short_line(tmp_path):
    """The issue's 6 kB message: now a handful of names and the near miss."""
    sources = {f"ATLAS_13TeV_pdf_{90900 + i}": {"x1": "0.1"} for i in range(143)}
    orthogonal(tmp_path / "m1.txt", {"x1": 1.0}, {"stat": {"x1": "1"}, **sources})
    base = write(
        tmp_path / "base.txt",
        "[inputs]\nnFiles = 1\nfile0 = m1.txt\n[end inputs]\n[observables]\nx = x1\n"
        "[end observables]\n[correlations]\n[end correlations]\n[uncertainty impacts]\n"
        "pdf = ATLAS_13TeV_pdf_9O910\n[end uncertainty impacts]\n",
    )
    with pytest.raises(ConfigError) as info:
        read_convino(base)
    msg = str(info.value)
    assert len(msg) < 600, len(msg)
    assert "did you mean 'ATLAS_13TeV_pdf_90910'" in msg
    assert "(143 in all)" in msg
    assert f"line {line_of(base, 'pdf =')}, block [uncertainty impacts]" in msg


@pytest.mark.parametrize(
    "content", [b"\x93\x05\xffbinary", b"[estimates]\x00\x00\x00", "µ".encode("latin-1")]
)
def test_a_file_that_is_not_utf8_text_is_one_line_naming_it(tmp_path, content):
    path = tmp_path / "m.bin"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        read_measurement_file(path)
    msg = str(info.value)
    assert msg.startswith(f"{path} is not a text file") and "\n" not in msg
    # included from a base file: the including file and line are named too
    inc = tmp_path / "inc.txt"
    inc.write_bytes(content)
    base = base_with(tmp_path, OBS + "[correlations]\n#!FILE = inc.txt\n[end correlations]\n")
    with pytest.raises(ConfigError) as info:
        read_convino(base)
    msg = str(info.value)
    line = line_of(base, "#!FILE")
    assert msg.startswith(f"{base}, line {line}, block [correlations]: {inc} is not a text file")


def test_unknown_global_option_is_ignored_with_a_near_miss(tmp_path, caplog):
    base = base_with(
        tmp_path,
        OBS + "[correlations]\n[end correlations]\n",
        glob="[global]\nisDiferential = true\n[end global]\n",
    )
    with caplog.at_level(logging.WARNING):
        spec = read_convino(base)
    assert spec.differential is False
    (w,) = _warnings(caplog)
    assert f"line {line_of(base, 'isDiferential')}, block [global]" in w
    assert "did you mean 'isDifferential'?" in w


def test_lognormal_sources_combine_as_the_written_chi2(tmp_path):
    """``lumi = lognormal`` in two orthogonal tables sharing the luminosity (ρ = 1), one with an
    asymmetric log-normal source too: the written χ² of method.md §1 (prediction x·κ^(−λ), κ =
    1 + u/x̂; asymmetric: ln κ from the side of λ), minimised by scipy from several starts."""
    from scipy.optimize import minimize

    write(
        tmp_path / "a.txt",
        "[not fitted]\n      stat  lumi  eff\n  x_a  2.0   10.0  (+3.0-2.0)\n[end not fitted]\n"
        "[systematics]\n lumi = lognormal\n eff = lognormal\n[end systematics]\n"
        "[estimates]\n n_estimates = 1\n name_0 = x_a\n value_0 = 100.0\n[end estimates]\n",
    )
    write(
        tmp_path / "b.txt",
        "[not fitted]\n      stat  lumi_b\n  x_b  3.0   8.0\n[end not fitted]\n"
        "[systematics]\n lumi_b = lognormal\n[end systematics]\n"
        "[estimates]\n n_estimates = 1\n name_0 = x_b\n value_0 = 92.0\n[end estimates]\n",
    )
    base = write(
        tmp_path / "comb.txt",
        "[inputs]\n nFiles = 2\n file0 = a.txt\n file1 = b.txt\n[end inputs]\n"
        "[observables]\n x = x_a + x_b\n[end observables]\n"
        "[correlations]\n lumi = (1) lumi_b\n[end correlations]\n",
    )
    spec = read_convino(base)
    assert {m.name: set(m.lognormal) for m in spec.measurements.values()} == {
        "a": {"lumi", "eff"},
        "b": {"lumi_b"},
    }
    res = spec.combiner(chi2="neyman").combine()

    def chi2(p):
        x, lam, e = p
        ja = (1 + 3.0 / 100.0) ** (-e) if e >= 0 else (1 - 2.0 / 100.0) ** e
        xa = x * (1 + 10.0 / 100.0) ** (-lam) * ja
        xb = x * (1 + 8.0 / 92.0) ** (-lam)
        return ((xa - 100.0) / 2.0) ** 2 + ((xb - 92.0) / 3.0) ** 2 + lam**2 + e**2

    opts = {"xatol": 1e-10, "fatol": 1e-14, "maxiter": 40000}
    best = min(
        (minimize(chi2, [96.0, 0.0, e0], method="Nelder-Mead", options=opts) for e0 in (-1, 1)),
        key=lambda r: r.fun,
    )
    assert res.chi2 == pytest.approx(best.fun, abs=1e-8)
    assert res.values["x"] == pytest.approx(best.x[0], abs=1e-6 * res.errors["x"])


def test_a_lognormal_impact_below_minus_100_percent_names_its_line(tmp_path):
    path = write(
        tmp_path / "m.txt",
        "[not fitted]\n      stat  lumi\n  x  2.0   (+1.0-120.0)\n[end not fitted]\n"
        "[systematics]\n lumi = lognormal\n[end systematics]\n"
        "[estimates]\n n_estimates = 1\n name_0 = x\n value_0 = 100.0\n[end estimates]\n",
    )
    with pytest.raises(ConfigError) as err:
        read_measurement_file(path)
    message = str(err.value)
    assert f"{path}, line {line_of(path, 'lumi = lognormal')}" in message
    assert "[systematics]" in message and "lumi" in message
