"""The gvm-combinations YAML files: the ATLAS+CMS top-quark mass (data/top_mass_lhc) read
unchanged and combined, against BLUE and a likelihood written out here; every quirk of the file
and bad input with a message naming file, entry and values."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from hepcombine import ConfigError, load_config, read_gvm
from hepcombine.cli import main
from hepcombine.correlations import nearest_correlation_matrix

DATA = Path(__file__).resolve().parents[2] / "data" / "top_mass_lhc"
FILE = DATA / "LHC_comb.yaml"
MODELLING = ["ME", "LHCrad", "LHChad", "CMSbHad", "CR", "UE", "PDF"]


def top_mass():
    return load_config(FILE, symmetrise=True, repair_correlations=True)


def raw():
    d = yaml.safe_load(FILE.read_text())
    y = np.array([m["central"] for m in d["data"]["measurements"]])
    stat = np.array([m["stat_error"] for m in d["data"]["measurements"]])
    systs = []
    for s in d["syst"]:
        c = np.loadtxt(DATA / "correlations" / s["shift"]["correlation"])
        c = 0.5 * (c + c.T)
        u = np.array(s["shift"]["value"])
        m = u != 0
        sub = c[np.ix_(m, m)]
        if np.linalg.eigvalsh(sub)[0] < -1e-9:
            sub = nearest_correlation_matrix(sub)  # the opt-in repair, as the combiner's
        systs.append((s["name"], u, m, sub))
    return y, stat, systs


def test_layout_is_recognised_and_the_quirks_are_errors_by_default():
    with pytest.raises(
        ConfigError,
        match=r"LHCJES2\.txt: not a valid correlation matrix .*"
        r"smallest eigenvalue -0\.001477.*\['d', 'f', 'e'\].*--repair-correlations",
    ):
        load_config(FILE)
    with pytest.raises(ConfigError) as err:
        load_config(FILE, repair_correlations=True)
    msg = str(err.value)
    assert "ptmiss.txt" in msg and "not symmetric" in msg
    assert "e–f (row 5, column 6: 0.36; row 6, column 5: 0.86)" in msg
    assert "--symmetrise-correlations" in msg


def test_reads_measurements_sources_and_correlations(caplog):
    with caplog.at_level(logging.WARNING):
        spec = top_mass()
    assert "ptmiss" in caplog.text and "mean of the two entries" in caplog.text
    assert list(spec.measurements) == list("abcdefghijklmno")
    assert spec.observables == {"LHC": [f"{m}:LHC" for m in "abcdefghijklmno"]}
    # zero shifts make no source: measurement n has no LHCJES1
    assert "LHCJES1" not in spec.measurements["n"].source_names
    assert "LHCJES1" in spec.measurements["a"].source_names
    # ±1 entries exactly; the symmetrised ptmiss entry is the mean
    assert spec.correlations[("j:LHCJES1", "k:LHCJES1")] == -1.0
    assert spec.correlations[("e:ptmiss", "f:ptmiss")] == pytest.approx(0.61)
    assert spec.errors_on_errors == {}  # every ε is 0 in the file


def test_every_eps_zero_is_blue_and_the_published_combination():
    """BLUE written out here with the same (repaired) correlation matrices; the published
    172.52 ± 0.33 GeV (arXiv:2402.08713) within the rounding of the file's inputs."""
    y, stat, systs = raw()
    V = np.diag(stat**2)
    for _, u, m, c in systs:
        V[np.ix_(m, m)] += np.outer(u[m], u[m]) * c
    Vi = np.linalg.inv(V)
    x = Vi.sum(axis=1) @ y / Vi.sum()
    err = 1 / np.sqrt(Vi.sum())
    res = top_mass().combiner(repair=True).combine()
    assert res.values["LHC"] == pytest.approx(x, abs=1e-9)
    assert res.errors["LHC"] == pytest.approx(err, rel=1e-9)
    r = y - x
    assert res.chi2 == pytest.approx(r @ Vi @ r, rel=1e-9)
    assert abs(res.values["LHC"] - 172.52) < 0.01 and round(res.errors["LHC"], 2) == 0.33


def test_eps_on_the_modelling_sources_against_a_written_likelihood():
    """ε = 0.3 (dependent) on the seven modelling sources: the minimum of −2 ln L written out
    here (Gaussian sources as a covariance, the uncertain ones as parameters z of their own
    correlation matrices), minimised with scipy from many starts."""
    from scipy.optimize import minimize

    y, stat, systs = raw()
    eps = 0.3
    V = np.diag(stat**2)
    parts = []
    for name, u, m, c in systs:
        if name in MODELLING:
            w, v = np.linalg.eigh(c)
            keep = w > 1e-9 * len(w)
            G = np.zeros((len(y), int(keep.sum())))
            G[m] = u[m, None] * (v[:, keep] * np.sqrt(w[keep]))
            parts.append(G)
        else:
            V[np.ix_(m, m)] += np.outer(u[m], u[m]) * c
    Vi = np.linalg.inv(V)
    G = np.hstack(parts)
    sizes = [p.shape[1] for p in parts]

    def nll(p):
        r = y - p[0] - G @ p[1:]
        val, o = float(r @ Vi @ r), 1
        for n in sizes:
            q = float(p[o : o + n] @ p[o : o + n])
            val += (n + 1 / (2 * eps**2)) * np.log1p(2 * eps**2 * q)
            o += n
        return val

    rng = np.random.default_rng(0)
    best = min(
        (
            minimize(nll, np.r_[172.5, rng.normal(0, 2 if k else 0, G.shape[1])], method="BFGS")
            for k in range(12)
        ),
        key=lambda r: r.fun,
    )
    res = top_mass().combiner(repair=True, errors_on_errors=dict.fromkeys(MODELLING, eps)).combine()
    assert res.chi2 == pytest.approx(best.fun, abs=1e-6)
    assert res.values["LHC"] == pytest.approx(best.x[0], abs=1e-5)
    assert [t.n for t in res.errors_on_errors] == sizes


def test_error_on_error_entries_of_the_file(tmp_path):
    d = yaml.safe_load(FILE.read_text())
    shutil.copytree(DATA / "correlations", tmp_path / "correlations")
    for s in d["syst"]:
        if s["name"] == "LHCrad":
            s["error-on-error"] = {"value": 0.4, "type": "dependent"}
        if s["name"] == "trigger":  # diagonal? no: independent needs its own parameters
            s["shift"]["correlation"] = "diagonal"
            s["error-on-error"] = {"value": [0.2] * 15, "type": "independent"}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(d))
    spec = load_config(path, symmetrise=True, repair_correlations=True)
    assert spec.errors_on_errors["LHCrad"].eps == 0.4
    trig = [k for k in spec.errors_on_errors if k.endswith(":trigger")]
    assert len(trig) == 7  # the measurements with a non-zero trigger shift
    res = spec.combiner(repair=True).combine()
    assert sorted({t.kind for t in res.errors_on_errors}) == ["dependent", "independent"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["global"].update(n_meas=14), "n_meas is 14 but data/measurements lists 15"),
        (lambda d: d["global"].update(n_syst=3), "n_syst is 3 but syst lists 25"),
        (lambda d: d["syst"][0]["shift"]["value"].pop(), "expected 15 shifts"),
        (
            lambda d: d["syst"][0]["error-on-error"].update(value=-0.2),
            "ε must be a finite number ≥ 0",
        ),
        (lambda d: d["syst"][0]["error-on-error"].update(value="x"), "ε must be a number"),
        (
            lambda d: d["syst"][0]["error-on-error"].update(type="both"),
            "type must be 'dependent' or",
        ),
        (
            lambda d: d["syst"][0]["shift"].update(correlation="missing.txt"),
            "cannot read the matrix",
        ),
        (lambda d: d["data"]["measurements"][3].update(central="abc"), "measurements/3/central"),
    ],
)
def test_bad_files(tmp_path, change, message):
    d = yaml.safe_load(FILE.read_text())
    shutil.copytree(DATA / "correlations", tmp_path / "correlations")
    change(d)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(d))
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace("?", r"\?")):
        read_gvm(path, symmetrise=True, repair_correlations=True)


def test_command_line(tmp_path, capsys):
    out = tmp_path / "r.json"
    args = [
        "combine",
        str(FILE),
        "--symmetrise-correlations",
        "--repair-correlations",
        "--eps",
        "LHCrad=0.3",
        "--eps",
        "PDF=0.3",
        "--bartlett",
        "--json",
        str(out),
        "--output-dir",
        str(tmp_path),
    ]
    assert main(args) == 0
    data = json.loads(out.read_text())
    import jsonschema

    from hepcombine.outputs.json import load_schema

    jsonschema.validate(data, load_schema())
    assert data["schema_version"] == "1.2"
    b = data["bartlett"]
    assert b["applied"] and data["combined"]["LHC"]["delta_chi2"] == b["profile"]["LHC"] > 1
    assert [t["entry"] for t in data["errors_on_errors"]] == ["LHCrad", "PDF"]
    assert "Bartlett factors" in capsys.readouterr().out
    # bad --eps: a one-line usage error
    assert main(["combine", str(FILE), "--eps", "LHCrad=-1"]) == 2
    assert "ε must be a finite number ≥ 0" in capsys.readouterr().err


def test_eps_scan_command(tmp_path):
    out = tmp_path / "s.json"
    args = [
        "scan",
        str(FILE),
        "--symmetrise-correlations",
        "--repair-correlations",
        "--eps-scan",
        "LHCrad",
        "--eps-range",
        "0",
        "0.6",
        "--points",
        "3",
        "--json",
        str(out),
        "--output-dir",
        str(tmp_path),
    ]
    assert main(args) == 0
    data = json.loads(out.read_text())
    assert data["eps"] == [0.0, 0.3, 0.6]
    assert (tmp_path / "eps_scan_result.txt").is_file() and (
        tmp_path / "eps_scan_LHC.png"
    ).is_file()
    # the ε = 0 point is the Gaussian combination
    gauss = top_mass().combiner(repair=True).combine()
    assert data["observables"]["LHC"]["value"][0] == pytest.approx(gauss.values["LHC"], abs=1e-12)
