"""Tests of the YAML configuration reader and CombinationSpec (hepcombine.inputs.yaml, hepcombine.spec).

The central check: a YAML file and Convino files written here for the same combination give the
same specification, measurement arrays included.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from conftest import assert_same_spec, line_of, write

from hepcombine.exceptions import ConfigError
from hepcombine.inputs import load_config
from hepcombine.inputs.yaml import read_yaml
from hepcombine.spec import ScanGroup

HESSIAN = np.array([[0.5, -0.3, 0.2], [-0.3, 2.0, 0.1], [0.2, 0.1, 1.5]])
RHO = np.array([[1.0, 0.4, -0.2], [0.4, 1.0, 0.1], [-0.2, 0.1, 1.0]])
SIGMA = [2.5, 0.8, 0.6]


def tri(matrix: np.ndarray) -> list[list[float]]:
    return [[float(v) for v in row[: i + 1]] for i, row in enumerate(matrix)]


@pytest.fixture
def convino_files(tmp_path) -> Path:
    d = tmp_path / "convino"
    rows = "\n".join(
        f"  {n} " + " ".join(repr(v) for v in r)
        for n, r in zip(["x", "jes", "lumi"], tri(HESSIAN), strict=True)
    )
    write(
        d / "fit.txt",
        "[hessian]\n"
        + rows
        + """
[end hessian]
[not fitted]
  extra
  x  (+0.3-0.2)
[end not fitted]
[systematics]
  lumi = relative
[end systematics]
[estimates]
  n_estimates = 1
  name_0 = x
  value_0 = 10.5
[end estimates]
[nuisance values]
  jes = 0.3
[end nuisance values]
""",
    )
    corr_rows = "\n".join(
        f"  {n} ({s!r}) " + " ".join(repr(v) for v in r)
        for n, s, r in zip(["y", "jes2", "scale"], SIGMA, tri(RHO), strict=True)
    )
    write(
        d / "corr.txt",
        "[correlation matrix]\n"
        + corr_rows
        + """
[end correlation matrix]
[estimates]
  n_estimates = 1
  name_0 = y
  value_0 = 9.8
[end estimates]
""",
    )
    write(
        d / "orth.txt",
        """
        [not fitted]
               stat  pdf        lumi3
          z0   0.5   (+1-0.5)   0.001
          z1   0.7   -0.2       0.002
        [end not fitted]
        [systematics]
          pdf = relative
        [end systematics]
        [estimates]
          n_estimates = 2
          name_0 = z0
          value_0 = 10.1
          name_1 = z1
          value_1 = 3.0
        [end estimates]
        """,
    )
    return write(
        d / "base.txt",
        """
        [global]
          isDifferential = false
          normalise = false
        [end global]
        [inputs]
          nFiles = 3
          file0 = fit.txt
          file1 = corr.txt
          file2 = orth.txt
        [end inputs]
        [observables]
          X = x + y + z0
        [end observables]
        [correlations]
          jes = (0.5 & 0 : 1) jes2 + (0.2) pdf
          lumi = (1) lumi3
        [end correlations]
        [uncertainty impacts]
          luminosity = lumi + lumi3
          statistics = stat
        [end uncertainty impacts]
        """,
    )


YAML = """
measurements:
  fit:
    estimates: {{x: 10.5}}
    hessian:
      names: [x, jes, lumi]
      matrix: {hessian}
    uncertainties:
      extra: [0.3, -0.2]
    relative: [lumi]
    nuisance_values: {{jes: 0.3}}
  corr:
    estimates: {{y: 9.8}}
    correlation_matrix:
      names: [y, jes2, scale]
      constraints: {sigma}
      matrix: corr.csv
  orth:
    estimates: {{z0: 10.1, z1: 3.0}}
    stat: {{z0: 0.5, z1: 0.7}}
    uncertainties:
      pdf: {{z0: [1, -0.5], z1: -0.2}}
      lumi3: {{z0: 1e-3, z1: 2e-3}}
    relative: [pdf]
observables:
  X: [x, y, orth:z0]
correlations:
  - {{a: jes, b: jes2, rho: 0.5, scan: [0, 1], group: jes}}
  - {{a: jes, b: pdf, rho: 0.2}}
  - {{a: lumi, b: lumi3, rho: 1}}
impacts:
  luminosity: [lumi, lumi3]
  statistics: [stat]
"""


@pytest.fixture
def yaml_file(tmp_path) -> Path:
    d = tmp_path / "yaml"
    d.mkdir()
    (d / "corr.csv").write_text(
        "# correlation of y, jes2, scale\n"
        + "\n".join(", ".join(repr(float(v)) for v in r) for r in RHO)
    )
    return write(d / "combination.yaml", YAML.format(hessian=tri(HESSIAN), sigma=SIGMA))


def test_yaml_and_convino_give_the_same_spec(convino_files, yaml_file):
    from_yaml = load_config(yaml_file)
    from_convino = load_config(convino_files)
    assert from_yaml.source == str(yaml_file)
    assert from_convino.source == str(convino_files)
    assert_same_spec(from_yaml, from_convino)
    fit = from_yaml.measurements["fit"]
    assert fit.source_names == ("jes", "lumi", "extra")
    np.testing.assert_array_equal(fit.nuisance_values, [0.3, 0.0, 0.0])
    # the YAML 1e-3 is a number, not a string
    np.testing.assert_array_equal(from_yaml.measurements["orth"].shifts_up[:, 1], [1e-3, 2e-3])
    assert from_yaml.scans == [ScanGroup("jes", [("fit:jes", "corr:jes2", 0.0, 1.0)])]


def test_hessian_measurement_from_yaml_matches_closed_form(yaml_file):
    fit = read_yaml(yaml_file).measurements["fit"]
    # x is the first parameter: M = H_xx, U = -H_xλ / H_xx, D = S - 1 (one estimate)
    h = HESSIAN
    u = -h[0, 1:] / h[0, 0]
    s = h[1:, 1:] - np.outer(h[0, 1:], h[0, 1:]) / h[0, 0]
    np.testing.assert_allclose(fit.stat_information, [[0.5]])
    np.testing.assert_allclose(fit.shifts_up[0, :2], u, rtol=1e-13)
    np.testing.assert_allclose(fit.source_information[:2, :2], s - np.eye(2), rtol=1e-13)
    assert fit.relative == frozenset({"lumi"})


def test_default_observables_combine_equal_names_and_options(tmp_path):
    path = write(
        tmp_path / "c.yml",
        """
        chi2: pearson
        differential: true
        normalise: true
        scan_points: 3
        shared_names: true
        measurements:
          a: {estimates: {xs: 1.0, r: 2.0}, stat: {xs: 0.1, r: 0.2}, uncertainties: {lumi: {xs: 0.05}}}
          b: {estimates: {xs: 1.1}, stat: 0.2, uncertainties: {lumi: 0.03, jes: 0.01}}
        correlations:
          - {a: jes, b: lumi, rho: 0.1, scan: [0, 0.2]}
        """,
    )
    spec = read_yaml(path)
    assert spec.observables == {"xs": ["a:xs", "b:xs"], "r": ["a:r"]}
    assert (spec.chi2, spec.differential, spec.normalise) == ("pearson", True, True)
    # shared_names: same-named sources at +1, and a bare shared name stands for all of them
    assert spec.correlations == {
        ("a:lumi", "b:lumi"): 1.0,
        ("b:jes", "a:lumi"): 0.1,
        ("b:jes", "b:lumi"): 0.1,
    }
    assert spec.scans == [
        ScanGroup("jes, lumi", [("b:jes", "a:lumi", 0.0, 0.2), ("b:jes", "b:lumi", 0.0, 0.2)], 3)
    ]
    assert spec.combiner_arguments()["chi2"] == "pearson"


def test_schema_is_valid_draft_2020_12():
    text = resources.files("hepcombine").joinpath("schemas/config.json").read_text()
    jsonschema.Draft202012Validator.check_schema(json.loads(text))


GOOD = """
measurements:
  a:
    estimates: {x: 1.0}
    stat: 0.1
    uncertainties: {s: 0.02}
  b:
    estimates: {x: 1.2, w: 3.0}
    hessian:
      names: [x, w, t]
      matrix: [[4.0], [0.5, 2.0], [0.1, 0.2, 1.5]]
observables:
  x: [a:x, b:x]
correlations:
  - {a: s, b: t, rho: 0.3}
"""


@pytest.mark.parametrize(
    ("old", "new", "needle", "expected"),
    [
        ("rho: 0.3", "rho: 1.3", "rho: 1.3", "greater than the maximum of 1"),
        ("stat: 0.1", "stat: 0.1\n    stats: 1", "stats: 1", "'stats' was unexpected"),
        ("b: t, rho", "b: nope, rho", "nope", "unknown source 'nope'"),
        ("x: [a:x, b:x]", "x: [a:x, b:y]", "b:y", "has no estimate 'y'"),
        ("x: [a:x, b:x]", "x: [x]", "x: [x]", "several measurements"),
        ("[0.1, 0.2, 1.5]", "[0.1, 0.2]", "[0.1, 0.2]", "expected 3 each"),
        ("[0.1, 0.2, 1.5]", "[0.1, 0.2, -9.5]", "hessian:", "not positive definite"),
        (
            "estimates: {x: 1.2, w: 3.0}",
            "estimates: {x: 1.2, w: 3.0}\n    stat: 1",
            "stat: 1",
            "cannot be combined",
        ),
        ("uncertainties: {s: 0.02}", "uncertainties: {s: 0.02}\n    relative: [q]", "[q]", "'q'"),
        ("estimates: {x: 1.2, w: 3.0}", "estimates: {x: 1.2, w: 3.0, x: 2}", "x: 2}", "twice"),
        ("matrix: [[4.0], [0.5, 2.0], [0.1, 0.2, 1.5]]", "matrix: m.csv", "m.csv", "cannot read"),
        ("    stat: 0.1\n", "", "  a:", "needs 'hessian'"),
        ("  x: [a:x, b:x]", "  x: y: z", "x: y: z", "not valid YAML"),
        ("estimates: {x: 1.0}", "estimates: {x: 1.0, v: 2.0}", "stat: 0.1", "single estimate"),
    ],
)
def test_yaml_errors_name_file_and_line(tmp_path, old, new, needle, expected):
    assert old in GOOD
    path = write(tmp_path / "bad.yaml", GOOD.replace(old, new, 1))
    number = line_of(path, needle)
    with pytest.raises(ConfigError) as info:
        read_yaml(path)
    msg = str(info.value)
    assert str(path) in msg
    assert f"line {number}" in msg
    assert expected in msg


def test_good_yaml_reads(tmp_path):
    spec = read_yaml(write(tmp_path / "good.yaml", GOOD))
    assert spec.correlations == {("a:s", "b:t"): 0.3}
    assert spec.measurements["b"].source_names == ("t",)


def test_load_config_dispatch(tmp_path):
    with pytest.raises(ConfigError, match="missing the required block"):
        load_config(write(tmp_path / "x.cfg", "just text\n"))
    with pytest.raises(ConfigError, match="required property"):
        load_config(write(tmp_path / "x.YML", "chi2: neyman\n"))
