"""The same configuration through the Python API and the command line gives identical numbers,
one test per input form the command line reads (YAML, Convino base file, BLUE CSV).

The API path is what a user writes (``load_config(path).combiner().combine()``, or
``blue_from_csv``); the CLI path is ``hepcombine combine/blue`` in process. Both must agree
exactly (same code path: :meth:`CombinationSpec.combiner`), and the Convino file's numbers are
also checked against the χ² of ``data/convino_example`` written out and minimised by scipy
(``tests/test_data_configs.py``), so the shared default (Pearson, the file's impact groups) is
the right one and not merely the same one. Histograms have no CLI route yet (issue 10 adds ROOT
inputs to the YAML configuration); their API paths are compared with each other below.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import DATA, minimise_chi2
from test_data_configs import example_chi2

from hepcombine import blue_from_csv, combine_differential, load_config
from hepcombine.cli import main
from hepcombine.inputs.histograms import differential_spec
from hepcombine.outputs.json import result_to_dict
from hepcombine.outputs.text import format_blue, format_result


def _cli(tmp_path, config, *extra):
    out = tmp_path / "out"
    code = main(
        ["combine", str(config), "--output-dir", str(out), "--json", str(out / "r.json"), *extra]
    )
    assert code == 0
    return json.loads((out / "r.json").read_text()), (out / "result.txt").read_text()


def _same(tmp_path, config):
    data, text = _cli(tmp_path, config)
    spec = load_config(config)
    api = spec.combiner().combine()
    # the JSON and the text report of the API result are the CLI's, to the last digit
    assert data == result_to_dict(api, config=str(config))
    assert text == format_result(api, spec=spec)
    return api, data


def test_yaml(tmp_path):
    api, data = _same(tmp_path, DATA / "ttbar_8tev_emu.yaml")
    assert data["chi2_definition"] == "neyman"  # the YAML default
    # reference: data/README, the published BLUE combination of these inputs
    assert api.values["sigma_tt"] == pytest.approx(241.46454, rel=1e-7)


def test_convino_base_file(tmp_path):
    api, data = _same(tmp_path, DATA / "convino_example" / "combination.txt")
    # Convino's default (Pearson) and the file's impact groups, in the API as in the CLI
    assert data["chi2_definition"] == "pearson"
    groups = load_config(DATA / "convino_example" / "combination.txt").groups()
    assert groups and set(api.breakdown.rows) >= {"stat", *groups}
    best = minimise_chi2(example_chi2(), [239.0, 0, 0, 0, 0])
    assert api.values["xsec"] == pytest.approx(best.x[0], abs=1e-4)
    assert api.chi2 == pytest.approx(best.fun, abs=1e-6)


def test_blue_csv(tmp_path, capsys):
    table, corr = DATA / "lhc_ttbar_xsec_emu_8tev.csv", DATA / "lhc_ttbar_xsec_emu_8tev_corr.csv"
    code = main(
        ["blue", str(table), "--correlations", str(corr), "--json", str(tmp_path / "b.json")]
    )
    assert code == 0
    printed = capsys.readouterr().out
    data = json.loads((tmp_path / "b.json").read_text())
    api = blue_from_csv(table, corr).result
    assert printed.startswith(format_blue(api))
    assert data["combined"] == {
        o: {"value": api.values[o], "error": api.errors[o]} for o in api.observables
    }
    assert data["weights"] == api.weights.to_dict()
    assert data["breakdown"] == {o: api.breakdown.column(o) for o in api.observables}
    assert (data["chi2"], data["ndf"], data["pvalue"]) == (api.chi2, api.ndf, api.pvalue)
    # published: ATLAS-CONF-2014-054 (seed notebook)
    assert api.values["sigma_tt"] == pytest.approx(241.46454, abs=5e-6)


def test_histograms_api_paths_agree():
    """combine_differential and its specification (differential_spec → combiner) are one path."""
    from hepcombine import Measurement
    from hepcombine.binning import Binning
    from hepcombine.measurement import DifferentialMeasurement

    edges = [0.0, 10.0, 30.0]
    binning = Binning.from_edges(edges, name="pt", label="p_T", unit="GeV")
    ms = [
        DifferentialMeasurement(
            Measurement.from_uncertainties(
                {f"{n}0": v0, f"{n}1": v1},
                {f"{n}0": 1.0, f"{n}1": 2.0},
                {"jes": {f"{n}0": 0.5, f"{n}1": 0.8}},
                name=n,
            ),
            binning,
        )
        for n, v0, v1 in (("a", 10.0, 20.0), ("b", 11.0, 19.0))
    ]
    corr = {("a:jes", "b:jes"): 1.0}
    res = combine_differential(ms, corr)
    spec = differential_spec(ms, corr)
    direct = spec.combiner().combine()
    assert res.binning == binning == spec.binning
    np.testing.assert_array_equal(res.values, [direct.values[o] for o in spec.observables])
    # reference: GLS of the four inputs with jes fully correlated between a and b
    u = np.array([0.5, 0.8, 0.5, 0.8])
    v = np.diag([1.0, 4.0, 1.0, 4.0]) + np.outer(u, u)
    a = np.array([[1, 0], [0, 1], [1, 0], [0, 1]], dtype=float)
    vinv = np.linalg.inv(v)
    x = np.linalg.solve(a.T @ vinv @ a, a.T @ vinv @ np.array([10.0, 20.0, 11.0, 19.0]))
    np.testing.assert_allclose(res.values, x, rtol=1e-10)


def test_convino_scan(tmp_path):
    """``hepcombine scan`` and ``scan_all(spec)`` on the same file: the same JSON."""
    from hepcombine import scan_all
    from hepcombine.outputs.json import scans_to_dict

    config = DATA / "convino_example" / "combination.txt"
    out = tmp_path / "out"
    code = main(
        [
            "scan",
            str(config),
            "--points",
            "3",
            "--no-plots",
            "--output-dir",
            str(out),
            "--json",
            str(out / "s.json"),
        ]
    )
    assert code == 0
    spec = load_config(config)
    api = scan_all(spec, n_points=3)
    data = json.loads((out / "s.json").read_text())
    assert data == scans_to_dict(api, spec.chi2_definition(), config=str(config))
    # each valid point is the combination with that assumption, done afresh
    (scan,) = api
    a, b, _, _ = scan.pairs[0]
    for i, rho in enumerate(scan.rho[:, 0]):
        if scan.valid[i]:
            fresh = spec.combiner().with_correlations({**spec.correlations, (a, b): rho}).combine()
            assert scan.values["xsec"][i] == pytest.approx(fresh.values["xsec"], rel=1e-10)
