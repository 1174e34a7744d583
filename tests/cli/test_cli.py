"""Tests of the ``hepcombine`` command line (hepcombine.cli) and its text/JSON/ROOT outputs.

Reference numbers:

* the combination of the Convino files written here is checked against the Python API on the
  same inputs and against a direct minimisation (scipy) of the combined χ² written out in this
  file from method.md §1–2: per measurement ``‖X − x̂‖²_M + λᵀDλ`` with the prediction
  ``X = x̄ · Π_rel(1 − s_i(λ_i)/x̂) − Σ_abs s_i(λ_i)``, Convino's piecewise-linear shift
  ``s(λ) = up·λ (λ ≥ 0), −down·λ (λ < 0)``, for a Hessian or correlation-matrix input
  M, U, D from the Gaussian conditioning of the fit's covariance, plus the prior λᵀC⁻¹λ; with
  Pearson, M scaled by √(x̂_μ/X_μ · x̂_ν/X_ν);
* the BLUE numbers of the tt̄ 8 TeV combination are the published ones of the seed notebook
  (241.46454 pb, weights 0.72487 / 0.27513, χ² 0.05403).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from conftest import (
    expect_combination,
    expect_distribution,
    judge_root_file,
    minimise_chi2,
    profile_interval,
    write,
)

from hepcombine.cli import main
from hepcombine.combiner import Combiner
from hepcombine.inputs import load_config
from hepcombine.outputs.json import load_schema

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "data"


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------- inputs
# measurement b: Hessian of (xb0, lumiB) from this covariance
V_B = np.array([[16.0, 1.2], [1.2, 0.8]])
# measurement c: correlation matrix of (xc0, jesC) with these constraints
SIG_C = np.array([5.0, 0.9])
RHO_C = 0.4
V_C = np.array([[1.0, RHO_C], [RHO_C, 1.0]]) * np.outer(SIG_C, SIG_C)
X_HAT = {"xa0": 100.0, "xa1": 50.0, "xb0": 104.0, "xc0": 97.0}


def convino_files(tmp: Path) -> Path:
    """A base file with an orthogonal measurement (asymmetric and relative entries, rows from an
    included file, a spectator), a Hessian and a correlation-matrix measurement, correlation
    assumptions with a scan range, and impact groups."""
    write(
        tmp / "a.txt",
        """
        [estimates]
          n_estimates = 2
          name_0 = xa0
          value_0 = 100
          name_1 = xa1
          value_1 = 50
        [end estimates]
        [not fitted]
                lumiA   jesA      stat
          #!FILE = a_rows.txt
        [end not fitted]
        [systematics]
          lumiA = relative
        [end systematics]
        """,
    )
    write(
        tmp / "a_rows.txt",
        """
          xa0   2.0     (+3-2)    4
          xa1   1.0     1.5       3
        """,
    )
    h = np.linalg.inv(V_B)
    write(
        tmp / "b.txt",
        f"""
        Measurement b: a Hessian.
        [hessian]
          xb0    {float(h[0, 0])!r}
          lumiB  {float(h[1, 0])!r}  {float(h[1, 1])!r}
        [end hessian]
        [estimates]
          n_estimates = 1
          name_0 = xb0
          value_0 = 104
        [end estimates]
        """,
    )
    write(
        tmp / "c.txt",
        f"""
        [correlation matrix]
          xc0   ({float(SIG_C[0])!r})   1
          jesC  ({float(SIG_C[1])!r})   {RHO_C!r}  1
        [end correlation matrix]
        [estimates]
          n_estimates = 1
          name_0 = xc0
          value_0 = 97
        [end estimates]
        """,
    )
    return write(
        tmp / "base.txt",
        """
        [global]
        [end global]
        [inputs]
          nFiles = 3
          file0 = a.txt
          file1 = b.txt
          file2 = c.txt
        [end inputs]
        [observables]
          x0 = xa0 + xb0 + xc0
        [end observables]
        [correlations]
          lumiA = (0.5) lumiB
          jesA = (0.8 & 0 : 1) jesC
        [end correlations]
        [uncertainty impacts]
          lumi = lumiA + lumiB
          jes = jesA + jesC
          statistics = stat
        [end uncertainty impacts]
        """,
    )


def conditional(v: np.ndarray) -> tuple[float, float, float]:
    """(M, U, D) of a 2×2 covariance of (estimate, source) (method.md §1)."""
    u = v[0, 1] / v[1, 1]
    m = 1.0 / (v[0, 0] - u * v[0, 1])
    d = 1.0 / v[1, 1] - 1.0
    return m, u, d


def direct_chi2(pearson: bool):
    """χ²(x0, xa1, λ_lumiA, λ_jesA, λ_lumiB, λ_jesC) of the files above, written out."""
    c = np.eye(4)
    c[0, 2] = c[2, 0] = 0.5  # lumiA ~ lumiB
    c[1, 3] = c[3, 1] = 0.8  # jesA ~ jesC
    c_inv = np.linalg.inv(c)
    mb, ub, db = conditional(V_B)
    mc, uc, dc = conditional(V_C)

    def scale(x_hat: float, pred: float) -> float:
        return x_hat / pred if pearson else 1.0

    def f(p: np.ndarray) -> float:
        x0, xa1, la, ja, lb, jc = p
        jes_shift = 3.0 * ja if ja >= 0 else 2.0 * ja  # (+3-2): up 3, down -2
        pa0 = x0 * (1 - 2.0 * la / 100.0) - jes_shift
        pa1 = xa1 * (1 - 1.0 * la / 50.0) - 1.5 * ja
        chi2 = (pa0 - 100.0) ** 2 / 16.0 * scale(100.0, pa0)
        chi2 += (pa1 - 50.0) ** 2 / 9.0 * scale(50.0, pa1)
        pb = x0 - ub * lb
        chi2 += mb * (pb - 104.0) ** 2 * scale(104.0, pb) + db * lb**2
        pc = x0 - uc * jc
        chi2 += mc * (pc - 97.0) ** 2 * scale(97.0, pc) + dc * jc**2
        lam = np.array([la, ja, lb, jc])
        return float(chi2 + lam @ c_inv @ lam)

    return f


def direct_fit(pearson: bool) -> dict[str, float]:
    f = direct_chi2(pearson)
    best = minimise_chi2(f, [100.0, 50.0, 0.1, 0.1, 0.1, 0.1])
    p = best.x
    # symmetric error of x0 from the curvature (central differences, step small against |λ_jesA|)
    h = 1e-3
    n = len(p)
    hess = np.zeros((n, n))
    for i in range(n):
        for j in range(n):
            e_i, e_j = np.eye(n)[i] * h, np.eye(n)[j] * h
            hess[i, j] = (
                f(p + e_i + e_j) - f(p + e_i - e_j) - f(p - e_i + e_j) + f(p - e_i - e_j)
            ) / (4 * h * h)
    cov = 2.0 * np.linalg.inv(hess)
    err = float(np.sqrt(cov[0, 0]))
    low, high = profile_interval(f, best, 0, 3 * err)
    return {
        "x0": p[0],
        "xa1": p[1],
        "chi2": best.fun,
        "error": err,
        "low": low,
        "high": high,
        "lumiA": p[2],
        "jesA": p[3],
    }


@pytest.fixture(scope="module")
def direct_neyman() -> dict[str, float]:
    return direct_fit(pearson=False)


@pytest.fixture(scope="module")
def direct_pearson() -> dict[str, float]:
    return direct_fit(pearson=True)


# --------------------------------------------------------------------------- combine
@pytest.mark.parametrize(("flag", "chi2"), [(None, "pearson"), ("--neyman", "neyman")])
def test_combine_convino_matches_api_and_direct_minimisation(
    tmp_path, capsys, flag, chi2, direct_neyman, direct_pearson
):
    base = convino_files(tmp_path / "in")
    out = tmp_path / "out"
    argv = ["combine", base, "--output-dir", out, "--json", out / "r.json"]
    if flag:
        argv.append(flag)
    code, stdout, err = run(argv, capsys)
    assert code == 0, err
    assert "x0" in stdout
    data = json.loads((out / "r.json").read_text())
    # Convino base files default to Pearson as the convino program does
    assert data["chi2_definition"] == chi2
    jsonschema.Draft202012Validator(load_schema()).validate(data)

    # the Python API on the same inputs
    spec = load_config(base)
    groups = {"lumi": ["a:lumiA", "b:lumiB"], "jes": ["a:jesA", "c:jesC"]}
    assert spec.groups() == groups  # the file's impact groups, without the stat-only group
    api = spec.combiner(chi2=chi2, groups=groups).combine()
    c = data["combined"]["x0"]
    assert c["value"] == pytest.approx(api.values["x0"], rel=1e-12)
    assert c["error"] == pytest.approx(api.errors["x0"], rel=1e-12)
    assert c["interval"] == pytest.approx(list(api.intervals["x0"]), rel=1e-12)
    assert data["chi2"] == pytest.approx(api.chi2, rel=1e-12)
    assert data["breakdown"] == {
        r: pytest.approx(v, rel=1e-12) for r, v in api.breakdown.to_dict().items()
    }
    assert data["impacts"]["lumi"]["x0"] == pytest.approx(api.impacts["lumi", "x0"], rel=1e-12)
    assert data["sources"]["a:lumiA"]["pull"] == pytest.approx(api.pulls["a:lumiA"], rel=1e-12)

    # an independent minimisation of the χ² written out above
    ref = direct_pearson if chi2 == "pearson" else direct_neyman
    assert c["value"] == pytest.approx(ref["x0"], rel=1e-6)
    assert data["spectators"]["a:xa1"]["value"] == pytest.approx(ref["xa1"], rel=1e-6)
    assert data["chi2"] == pytest.approx(ref["chi2"], rel=1e-5, abs=1e-8)
    assert c["error"] == pytest.approx(ref["error"], rel=1e-4)
    assert c["interval"][0] == pytest.approx(ref["low"], abs=1e-4 * ref["error"])
    assert c["interval"][1] == pytest.approx(ref["high"], abs=1e-4 * ref["error"])
    assert data["sources"]["a:jesA"]["pull"] == pytest.approx(ref["jesA"], abs=1e-5)

    # the breakdown adds up in quadrature, the text report carries the same numbers
    bd = data["breakdown"]
    assert set(bd) >= {"stat", "lumi", "jes"}
    text = (out / "result.txt").read_text()
    for section in (
        "Combined values",
        "Correlation of the combined values",
        "Covariance of the combined values",
        "Pre-fit correlations of the sources",
        "Post-fit correlations of the sources",
        "Pulls and constraints",
        "Uncertainty breakdown",
        "Impacts",
        "Spectators",
    ):
        assert section in text
    assert f"{c['value']:.6g}" in text
    assert "stat [statistics]" in text  # the stat-only impacts group labels the stat component
    assert sorted(p.name for p in out.iterdir()) == ["r.json", "result.txt"]


def test_neyman_quadratic_breakdown_adds_up_exactly(tmp_path, capsys):
    """With only symmetric absolute sources and Neyman, the breakdown adds up exactly (method.md
    §3) and the profile interval is the symmetric one."""
    base = convino_files(tmp_path)
    (tmp_path / "a_rows.txt").write_text("xa0 2.0 3.0 4\nxa1 1.0 1.5 3\n")
    (tmp_path / "a.txt").write_text(
        (tmp_path / "a.txt").read_text().replace("lumiA = relative", "lumiA = absolute")
    )
    code, _, err = run(
        ["combine", base, "--neyman", "--json", tmp_path / "q.json", "--output-dir", tmp_path],
        capsys,
    )
    assert code == 0, err
    data = json.loads((tmp_path / "q.json").read_text())
    c = data["combined"]["x0"]
    total = sum(np.sign(v["x0"]) * v["x0"] ** 2 for v in data["breakdown"].values())
    assert np.sqrt(total) == pytest.approx(c["error"], rel=1e-10)
    assert c["interval_status"] == "exact"
    assert c["interval"] == pytest.approx([c["value"] - c["error"], c["value"] + c["error"]])


def test_yaml_defaults_to_neyman_and_chi2_entry(tmp_path, capsys):
    yaml_text = """
        measurements:
          A:
            estimates: {xs: 10.0}
            stat: 1.0
            uncertainties: {lumi: 0.5}
          B:
            estimates: {xs: 11.0}
            stat: 1.5
            uncertainties: {lumi: 0.4}
        correlations:
          - {a: A:lumi, b: B:lumi, rho: 1.0}
        """
    cfg = write(tmp_path / "c.yaml", yaml_text)
    cfg_p = write(tmp_path / "p.yaml", yaml_text + "chi2: pearson\n")
    results = {}
    for name, argv in {
        "default": ["combine", cfg],
        "file": ["combine", cfg_p],
        "flag": ["combine", cfg_p, "--neyman"],
    }.items():
        code, _, err = run(
            [*argv, "--output-dir", tmp_path / name, "--json", tmp_path / f"{name}.json"], capsys
        )
        assert code == 0, err
        results[name] = json.loads((tmp_path / f"{name}.json").read_text())
    assert results["default"]["chi2_definition"] == "neyman"
    assert results["file"]["chi2_definition"] == "pearson"
    assert results["flag"]["chi2_definition"] == "neyman"
    # Neyman with orthogonal absolute inputs is BLUE: lumi fully correlated, closed form
    s = np.array([[1.0 + 0.25, 0.2], [0.2, 2.25 + 0.16]])
    w = np.linalg.solve(s, np.ones(2))
    w /= w.sum()
    assert results["default"]["combined"]["xs"]["value"] == pytest.approx(
        w @ [10.0, 11.0], rel=1e-10
    )


def test_no_intervals_gives_null_and_valid_json(tmp_path, capsys):
    base = convino_files(tmp_path)
    code, _, err = run(
        [
            "combine",
            base,
            "--no-intervals",
            "--json",
            tmp_path / "r.json",
            "--output-dir",
            tmp_path,
        ],
        capsys,
    )
    assert code == 0, err
    text = (tmp_path / "r.json").read_text()
    assert "NaN" not in text
    data = json.loads(text)
    assert data["combined"]["x0"]["interval"] == [None, None]
    assert data["combined"]["x0"]["interval_status"] == "not computed"
    jsonschema.Draft202012Validator(load_schema()).validate(data)


def test_prefix(tmp_path, capsys):
    base = convino_files(tmp_path / "in")
    code, _, err = run(
        ["combine", base, "--prefix", "ny", "--neyman", "--output-dir", tmp_path / "o"], capsys
    )
    assert code == 0, err
    assert [p.name for p in (tmp_path / "o").iterdir()] == ["ny_result.txt"]


# --------------------------------------------------------------------------- errors
# file, text replaced, replacement, problem in the message, text of the line it must name
BAD_CASES = {
    "missing end": ("b.txt", "[end hessian]\n", "", "expected [end hessian]", "[estimates]"),
    "duplicate key": (
        "a.txt",
        "value_1 = 50",
        "value_1 = 50\n  value_1 = 51",
        "'value_1' is given twice",
        "value_1 = 51",
    ),
    "unknown observable": (
        "base.txt",
        "x0 = xa0 + xb0 + xc0",
        "x0 = xa0 + xb0 + xq0",
        "unknown estimate 'xq0'",
        "xq0",
    ),
    "unknown correlation": (
        "base.txt",
        "lumiA = (0.5) lumiB",
        "lumiA = (0.5) lumiQ",
        "unknown source 'lumiQ'",
        "lumiQ",
    ),
    "non-numeric": ("a.txt", "value_0 = 100", "value_0 = 1o0", "expected a number", "1o0"),
    "wrong shape": ("b.txt", "\n  lumiB", "\n  lumiB 0.5", "entries, expected", "lumiB"),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_malformed_inputs(tmp_path, capsys, case):
    fname, old, new, problem, needle = BAD_CASES[case]
    base = convino_files(tmp_path / "in")
    f = tmp_path / "in" / fname
    text = f.read_text()
    assert text.count(old) == 1
    text = text.replace(old, new)
    f.write_text(text)
    line = [i for i, t in enumerate(text.splitlines(), 1) if needle in t]
    assert len(line) == 1
    out = tmp_path / "out"
    code, _, err = run(
        ["combine", base, "--output-dir", out, "--json", out / "r.json", "--root", out / "r.root"],
        capsys,
    )
    assert code == 1
    assert err.startswith("hepcombine: error: ")
    assert err.count("\n") == 1  # one line, no traceback
    assert "Traceback" not in err
    assert f"{fname}, line {line[0]}, block [" in err
    assert problem in err
    assert not out.exists() or list(out.iterdir()) == []


def test_error_while_writing_leaves_no_partial_output(tmp_path, capsys):
    base = convino_files(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    (out / "taken").mkdir()  # --json points at a directory: fails after result.txt is staged
    code, _, err = run(["combine", base, "--output-dir", out, "--json", out / "taken"], capsys)
    assert code == 1
    assert err.startswith("hepcombine: error: ") and err.count("\n") == 1
    assert sorted(p.name for p in out.iterdir()) == ["taken"]


def test_usage_errors(tmp_path, capsys):
    code, _, err = run(["combine"], capsys)
    assert code == 2 and err.startswith("hepcombine: error: ") and err.count("\n") == 1
    code, _, err = run(["combine", tmp_path / "nope.txt"], capsys)
    assert code == 1 and "nope.txt" in err and "does not exist" in err
    code, _, err = run(["scan", tmp_path / "x.txt", "--points", "1"], capsys)
    assert code == 2 and "at least 2" in err
    code, _, err = run([], capsys)
    assert code == 2
    code, _, err = run(["combine", "x", "--neyman", "--pearson"], capsys)
    assert code == 2 and "not allowed with" in err


def test_debug_shows_traceback(tmp_path):
    with pytest.raises(Exception, match="does not exist"):
        main(["combine", str(tmp_path / "nope.txt"), "--debug"])


def test_help_and_version(capsys):
    for argv in (
        ["--help"],
        ["combine", "--help"],
        ["scan", "--help"],
        ["blue", "--help"],
        ["plot", "--help"],
    ):
        code, out, _ = run(argv, capsys)
        assert code == 0
        assert "example" in out
    code, out, _ = run(["--version"], capsys)
    from hepcombine import __version__

    assert code == 0 and out.strip() == f"hepcombine {__version__}"


# --------------------------------------------------------------------------- BLUE
def test_blue_ttbar(tmp_path, capsys):
    code, out, err = run(
        [
            "blue",
            DATA / "lhc_ttbar_xsec_emu_8tev.csv",
            "--correlations",
            DATA / "lhc_ttbar_xsec_emu_8tev_corr.csv",
            "--json",
            tmp_path / "b.json",
        ],
        capsys,
    )
    assert code == 0, err
    data = json.loads((tmp_path / "b.json").read_text())
    c = data["combined"]["sigma_tt"]
    # published numbers of the ATLAS+CMS 8 TeV eμ combination (seed notebook)
    assert c["value"] == pytest.approx(241.46454, abs=5e-6)
    assert data["weights"]["sigma_tt"] == pytest.approx(
        {"ATLAS": 0.72487, "CMS": 0.27513}, abs=5e-6
    )
    assert data["chi2"] == pytest.approx(0.05403, abs=5e-6)
    assert data["ndf"] == 1
    # the per-source breakdown adds up in quadrature to the total
    total = sum(v**2 for v in data["breakdown"]["sigma_tt"].values())
    assert np.sqrt(total) == pytest.approx(c["error"], rel=1e-10)
    assert "241.46454" in out and "ATLAS" in out and "chi2/ndf" in out


def test_blue_bad_input(tmp_path, capsys):
    table = write(tmp_path / "t.csv", "measurement,value,Stat\nA,1.0,0.1\nB,x,0.2\n")
    corr = write(tmp_path / "c.csv", "source,measurement_a,measurement_b,rho\nStat,A,B,0\n")
    code, _, err = run(
        ["blue", table, "--correlations", corr, "--json", tmp_path / "o.json"], capsys
    )
    assert code == 1 and "t.csv" in err and "not a number" in err and err.count("\n") == 1
    assert not (tmp_path / "o.json").exists()


# --------------------------------------------------------------------------- subprocess
def test_subprocess_matches_in_process(tmp_path, capsys):
    base = convino_files(tmp_path / "in")
    code, _, err = run(
        [
            "combine",
            base,
            "--neyman",
            "--json",
            tmp_path / "a.json",
            "--output-dir",
            tmp_path / "a",
        ],
        capsys,
    )
    assert code == 0, err
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "hepcombine",
            "combine",
            str(base),
            "--neyman",
            "--json",
            str(tmp_path / "b.json"),
            "--output-dir",
            str(tmp_path / "b"),
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    a = json.loads((tmp_path / "a.json").read_text())
    b = json.loads((tmp_path / "b.json").read_text())
    assert a["combined"] == b["combined"] and a["chi2"] == b["chi2"]
    # an error in a real process: one line, exit status 1
    (tmp_path / "in" / "b.txt").write_text("[hessian]\n xb0 1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "hepcombine", "combine", str(base)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=tmp_path,
    )
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "b.txt, line 1, block [hessian]" in proc.stderr
    assert not (tmp_path / "result.txt").exists()


# --------------------------------------------------------------------------- scan, plots, ROOT
def differential_files(tmp: Path) -> Path:
    """Two measurements of a 3-bin distribution (orthogonal tables), one correlated source
    with a scan range, normalisation requested."""
    for name, values, shifts, stats, src in (
        ("d1", (100.0, 60.0, 20.0), ("3.0", "2.0", "(+1-0.5)"), (5.0, 4.0, 2.0), "jes1"),
        ("d2", (95.0, 63.0, 22.0), ("2.0", "2.5", "1.0"), (6.0, 4.0, 3.0), "jes2"),
    ):
        est = "\n".join(
            f"  name_{i} = {name}_{i}\n  value_{i} = {v!r}" for i, v in enumerate(values)
        )
        rows = "\n".join(f"  {name}_{i}  {shifts[i]}  {stats[i]!r}" for i in range(3))
        (tmp / f"{name}.txt").parent.mkdir(parents=True, exist_ok=True)
        (tmp / f"{name}.txt").write_text(
            f"[estimates]\n  n_estimates = 3\n{est}\n[end estimates]\n"
            f"[not fitted]\n  {src} stat\n{rows}\n[end not fitted]\n"
        )
    return write(
        tmp / "diff.txt",
        """
        [global]
          isDifferential = true
          normalise = true
        [end global]
        [inputs]
          nFiles = 2
          file0 = d1.txt
          file1 = d2.txt
        [end inputs]
        [observables]
          bin0 = d1_0 + d2_0
          bin1 = d1_1 + d2_1
          bin2 = d1_2 + d2_2
        [end observables]
        [correlations]
          jes1 = (0.5 & 0 : 1) jes2
        [end correlations]
        """,
    )


def test_differential_normalised_root_and_plots(tmp_path, capsys):
    uproot = pytest.importorskip("uproot")
    base = differential_files(tmp_path / "in")
    out = tmp_path / "out"
    code, _, err = run(
        [
            "combine",
            base,
            "--neyman",
            "--output-dir",
            out,
            "--json",
            out / "d.json",
            "--root",
            out / "d.root",
            "--plots",
        ],
        capsys,
    )
    assert code == 0, err
    data = json.loads((out / "d.json").read_text())
    jsonschema.Draft202012Validator(load_schema()).validate(data)
    names = ["bin0", "bin1", "bin2"]
    values = np.array([data["combined"][n]["value"] for n in names])
    cov = np.array(data["covariance"]["matrix"])
    # normalisation to unit sum, by its definition: n = v / Σv, J = (1 − n 1ᵀ) / Σv
    s = values.sum()
    jac = (np.eye(3) - np.outer(values / s, np.ones(3))) / s
    norm = data["normalised"]
    assert [norm["values"][n] for n in names] == pytest.approx(values / s, rel=1e-12)
    assert np.array(norm["covariance"]["matrix"]) == pytest.approx(
        jac @ cov @ jac.T, rel=1e-9, abs=1e-15
    )
    assert "Normalised values" in (out / "result.txt").read_text()

    # ROOT reads the file: the numbers of the same combination through the API
    from hepcombine.differential import DifferentialResult

    spec = load_config(base)
    dr = DifferentialResult.from_result(
        spec.combiner(chi2="neyman").combine(), binning=spec.binning, title="combined"
    )
    judge_root_file(
        out / "d.root", expect_distribution(dr, normalised=True), directory="combination"
    )
    with uproot.open(out / "d.root") as f:
        h = f["combination/combined"]
        assert h.values() == pytest.approx(values, rel=1e-12)
        assert h.errors() == pytest.approx([data["combined"][n]["error"] for n in names], rel=1e-12)
        assert f["combination/normalised"].values() == pytest.approx(values / s, rel=1e-12)
        g = f["combination/combined_profile"]
        lo = [data["combined"][n]["value"] - data["combined"][n]["interval"][0] for n in names]
        assert g.errors("low")[1] == pytest.approx(lo, rel=1e-9)

    for stem in ("breakdown", "pulls", "correlation", "spectrum"):
        for ext in ("png", "pdf"):
            p = out / f"{stem}.{ext}"
            assert p.stat().st_size > 1000, p
    assert (out / "spectrum.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "spectrum.pdf").read_bytes()[:5] == b"%PDF-"
    assert not list(out.glob("summary*"))  # no summary per bin
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_root_non_differential_one_bin_per_observable(tmp_path, capsys):
    uproot = pytest.importorskip("uproot")
    base = convino_files(tmp_path / "in")
    out = tmp_path / "out"
    code, _, err = run(
        ["combine", base, "--output-dir", out, "--json", out / "r.json", "--root", out / "r.root"],
        capsys,
    )
    assert code == 0, err
    data = json.loads((out / "r.json").read_text())
    expected = expect_combination(load_config(base).combiner().combine())
    judge_root_file(out / "r.root", expected, directory="combination")
    with uproot.open(out / "r.root") as f:
        h = f["combination/combined"]
        assert list(h.axis().labels()) == ["x0"]
        assert h.values() == pytest.approx([data["combined"]["x0"]["value"]], rel=1e-12)
        assert h.errors() == pytest.approx([data["combined"]["x0"]["error"]], rel=1e-12)
        assert f["combination/covariance"].values() == pytest.approx(
            np.array(data["covariance"]["matrix"])
        )


def test_scan_writes_table_json_and_plots(tmp_path, capsys):
    base = differential_files(tmp_path / "in")
    out = tmp_path / "out"
    code, stdout, err = run(
        ["scan", base, "--points", "3", "--neyman", "--output-dir", out, "--json", out / "s.json"],
        capsys,
    )
    assert code == 0, err
    assert err == ""  # stderr is not a terminal: no progress bar
    assert "correlation scan 'jes1'" in stdout
    data = json.loads((out / "s.json").read_text())
    (scan,) = data["scans"]
    assert scan["name"] == "jes1"
    assert [r[0] for r in scan["rho"]] == pytest.approx([0.0, 0.5, 1.0])
    # each point is the combination with that assumption (the API, fresh)
    spec = load_config(base)
    for i, rho in enumerate((0.0, 0.5, 1.0)):
        corr = {("d1:jes1", "d2:jes2"): rho}
        args = {**spec.combiner_arguments(chi2="neyman"), "correlations": corr}
        api = Combiner(**args).combine()
        assert scan["observables"]["bin1"]["value"][i] == pytest.approx(
            api.values["bin1"], rel=1e-9
        )
        assert scan["chi2"][i] == pytest.approx(api.chi2, rel=1e-9, abs=1e-12)
    table = (out / "scan_result.txt").read_text()
    assert "jes1" in table and "bin2" in table and "chi2" in table
    for o in ("bin0", "bin1", "bin2"):
        for ext in ("png", "pdf"):
            assert (out / f"scan_jes1_{o}.{ext}").stat().st_size > 1000


def test_scan_without_scan_groups_is_an_error(tmp_path, capsys):
    base = convino_files(tmp_path / "in")
    text = base.read_text().replace("(0.8 & 0 : 1)", "(0.8)")
    base.write_text(text)
    code, _, err = run(["scan", base, "--output-dir", tmp_path / "out"], capsys)
    assert code == 1 and "defines no scan" in err
    assert not (tmp_path / "out").exists()


def test_progress_bar_only_on_a_terminal():
    import io

    from hepcombine.cli._common import Progress as _Progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        bar = _Progress("scanning", stream=stream, width=10)
        bar(1, 4)
        bar(4, 4)
        bar.close()
    assert pipe.getvalue() == ""
    assert "[##########] 4/4" in tty.getvalue() and tty.getvalue().endswith("\n")


def test_two_outputs_naming_one_file_are_an_error(tmp_path, capsys):
    """``--json result.txt`` names the report's file: a one-line error, exit 1, nothing written
    (was "internal error")."""
    base = convino_files(tmp_path / "in")
    out = tmp_path / "out"
    code, _, err = run(["combine", base, "--output-dir", out, "--json", out / "result.txt"], capsys)
    assert code == 1
    assert err.startswith("hepcombine: error: ") and err.count("\n") == 1
    assert "written twice" in err and "internal error" not in err
    assert not out.exists()


def test_plot_subcommand_writes_only_plots(tmp_path, capsys):
    base = convino_files(tmp_path / "in")
    out = tmp_path / "out"
    code, _, err = run(["plot", base, "--neyman", "--prefix", "p", "--output-dir", out], capsys)
    assert code == 0, err
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        f"p_{stem}.{ext}" for stem in ("summary", "breakdown", "pulls") for ext in ("png", "pdf")
    )


def test_latex_and_markdown_tables(tmp_path, capsys):
    """--latex / --markdown: the values table (PDG-rounded from the JSON's full precision) and
    the breakdown table, all or none with the other outputs; BLUE too."""
    from hepcombine.formatting import format_value

    base = differential_files(tmp_path / "in")
    out = tmp_path / "out"
    argv = ["combine", base, "--neyman", "--output-dir", out, "--json", out / "d.json"]
    code, _, err = run([*argv, "--latex", out / "t.tex", "--markdown", out / "t.md"], capsys)
    assert code == 0, err
    data = json.loads((out / "d.json").read_text())
    tex = (out / "t.tex").read_text()
    md = (out / "t.md").read_text()
    assert tex.count("\\begin{tabular}") == tex.count("\\end{tabular}") == 2
    assert md.count("| --- |") == 2
    for i, n in enumerate(["bin0", "bin1", "bin2"]):
        c = data["combined"][n]
        stat = data["breakdown"]["stat"][n]
        low, high = c["value"] - c["interval"][0], c["interval"][1] - c["value"]
        syst = ((low**2 - stat**2) ** 0.5, (high**2 - stat**2) ** 0.5)  # per side
        cell = format_value(c["value"], stat, syst, labels=("stat", "syst"), style="markdown")
        assert f"| bin {i} | {cell} |" in md
    assert "| Total |" in md and "\\midrule\nTotal &" in tex
    # the JSON keeps full precision
    assert any(len(repr(c["value"])) > 8 for c in data["combined"].values())

    code, _, err = run(
        [
            "blue",
            DATA / "lhc_ttbar_xsec_emu_8tev.csv",
            "--correlations",
            DATA / "lhc_ttbar_xsec_emu_8tev_corr.csv",
            "--markdown",
            tmp_path / "b.md",
        ],
        capsys,
    )
    assert code == 0, err
    md = (tmp_path / "b.md").read_text()
    assert "| sigma_tt | 241.5 ± 1.4 (stat) ± 8.4 (syst) |" in md  # the seed: 241.5, stat 1.4
    assert "| Lumi | 5.1 |" in md and "| Total | 8.5 |" in md


def test_plot_style_and_experiment_label(tmp_path, capsys):
    """--style/--experiment/--label/--sqrt-s/--lumi reach every plot; an unknown style is a
    one-line error and nothing is written."""
    import matplotlib as mpl

    base = convino_files(tmp_path / "in")
    out = tmp_path / "out"
    argv = [
        "plot",
        base,
        "--output-dir",
        out,
        "--experiment",
        "ATLAS+CMS",
        "--label",
        "Preliminary",
    ]
    try:
        code, _, err = run([*argv, "--style", "ATLAS", "--sqrt-s", "8", "--lumi", "20.3"], capsys)
        assert code == 0, err
        assert (out / "summary.png").stat().st_size > 1000
        code, _, err = run([*argv, "--style", "nope", "--output-dir", tmp_path / "bad"], capsys)
        assert code == 1 and "unknown plot style 'nope'" in err and err.count("\n") == 1
        assert not (tmp_path / "bad").exists()
    finally:
        mpl.rcdefaults()
        mpl.use("Agg")
