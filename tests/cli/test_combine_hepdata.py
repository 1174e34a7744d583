"""Acceptance of issue 10: two real HEPData measurements → YAML configuration → command line →
ROOT and HEPData outputs → read back (uproot; the HEPData reader) → the same numbers, equal to a
generalised-least-squares combination written out here from the records (read with plain
PyYAML). Malformed inputs and failing outputs leave no output at all.

The example, data/lhcb_z_8tev_ee_mumu.yaml: LHCb 8 TeV dσ/dy_Z, Z→ee (ins1347133, dσ/dy in pb)
and Z→μμ (ins1406555, σ per bin in pb, divided here by the bin width), 17 common bins; the
luminosity fully correlated between the channels, everything else uncorrelated between them;
ee 'sys,uncorr' and the statistical uncertainties independent bin by bin, the other sources
fully correlated between bins.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import uproot
import yaml
from conftest import DATA, REPO, expect_distribution, judge_root_file
from hepdata_validator.full_submission_validator import FullSubmissionValidator

from hepcombine.cli import main
from hepcombine.exceptions import HEPDataError
from hepcombine.inputs import load_config
from hepcombine.inputs.hepdata import read_hepdata_matrix, read_hepdata_table
from hepcombine.outputs.combination import differential_result

EXAMPLE = DATA / "lhcb_z_8tev_ee_mumu.yaml"
LHCB = DATA / "hepdata" / "lhcb_z_8tev_ee_mumu"
N = 17


def columns(path):
    """Values, {label: symmetric error} and bin widths of the first 17 bins of a record."""
    with open(path, encoding="utf-8") as fh:
        table = yaml.safe_load(fh)
    dv, iv = table["dependent_variables"][0], table["independent_variables"][0]
    low = np.array([v["low"] for v in iv["values"]])[:N]
    high = np.array([v["high"] for v in iv["values"]])[:N]
    x = np.array([v["value"] for v in dv["values"]], dtype=float)[:N]
    errs: dict[str, list[float]] = {}
    for v in dv["values"][:N]:
        for e in v["errors"]:
            errs.setdefault(e["label"], []).append(float(e["symerror"]))
    return x, {k: np.array(u) for k, u in errs.items()}, low, high


def gls():
    """The GLS combination of the two records under the example's assumptions: combined
    values, covariance, and the luminosity part of the covariance."""
    x_ee, e_ee, low, high = columns(LHCB / "ee_ins1347133" / "Table2.yaml")
    x_mm, e_mm, _, _ = columns(LHCB / "mumu_ins1406555" / "HEPData-ins1406555-v1-Table_2.yaml")
    w = high - low
    x_mm, e_mm = x_mm / w, {k: u / w for k, u in e_mm.items()}
    v_ee = np.diag(e_ee["stat"] ** 2 + e_ee["sys,uncorr"] ** 2)
    v_ee += np.outer(e_ee["sys,corr"], e_ee["sys,corr"])
    v_mm = np.diag(e_mm["stat"] ** 2)
    for k in ("sys", "sys,beam"):
        v_mm += np.outer(e_mm[k], e_mm[k])
    lumi = np.concatenate([e_ee["sys,lumi"], e_mm["sys,lumi"]])
    v_lumi = np.outer(lumi, lumi)  # the luminosity, one source for both channels
    zero = np.zeros((N, N))
    v = np.block([[v_ee, zero], [zero, v_mm]]) + v_lumi
    design = np.vstack([np.eye(N), np.eye(N)])
    vinv = np.linalg.inv(v)
    cov = np.linalg.inv(design.T @ vinv @ design)
    weights = cov @ design.T @ vinv
    x = weights @ np.concatenate([x_ee, x_mm])
    return x, cov, weights @ v_lumi @ weights.T, (low, high)


@functools.cache
def expected_root() -> dict:
    """What ROOT must read in the example's ROOT file: the numbers of the same combination
    through the API (the distribution on the configuration's bins, binning and quantity)."""
    spec = load_config(EXAMPLE)
    dr = differential_result(spec.combiner().combine(), spec)
    assert dr is not None
    return expect_distribution(dr, normalised=spec.normalise)


def test_one_command_gives_root_and_hepdata_that_read_back_as_the_gls(tmp_path):
    code = main(
        [
            "combine",
            str(EXAMPLE),
            "--root",
            str(tmp_path / "out.root"),
            "--hepdata",
            str(tmp_path / "out_hepdata"),
            "--output-dir",
            str(tmp_path),
        ]
    )
    assert code == 0
    assert sorted(os.listdir(tmp_path)) == [
        "out.root",
        "out_hepdata",
        "out_hepdata.tar.gz",
        "result.txt",
    ]
    x, cov, cov_lumi, (low, high) = gls()
    sigma = np.sqrt(np.diag(cov))

    # ROOT, read with uproot
    with uproot.open(tmp_path / "out.root") as f:
        h = f["combination/combined"]
        np.testing.assert_array_equal(h.axis().edges(), np.append(low, high[-1]))
        np.testing.assert_allclose(h.values(), x, rtol=1e-9)
        np.testing.assert_allclose(h.errors(), sigma, rtol=1e-8)
        np.testing.assert_allclose(f["combination/covariance"].values(), cov, rtol=1e-8)
        lumi = f["combination/breakdown_luminosity"].values()
    np.testing.assert_allclose(lumi, np.sqrt(np.diag(cov_lumi)), rtol=1e-8)
    judge_root_file(tmp_path / "out.root", expected_root(), directory="combination")

    # HEPData, validated and read with the reader
    sub = tmp_path / "out_hepdata"
    for kwargs in ({"directory": str(sub)}, {"archive": str(tmp_path / "out_hepdata.tar.gz")}):
        validator = FullSubmissionValidator()
        assert validator.validate(**kwargs), validator.get_messages()
    total = read_hepdata_table(sub, "Combination", 0)
    np.testing.assert_array_equal(total.binning.low, low)
    np.testing.assert_array_equal(total.binning.high, high)
    assert total.binning.label == "$y_{Z}$"
    assert total.quantity.unit == "pb"
    assert ("SQRT(S)", "8000.0", "GeV") in total.quantity.qualifiers
    np.testing.assert_allclose(total.values, x, rtol=1e-9)
    # a quadratic χ²: the profile interval is exactly ± the symmetric error
    np.testing.assert_allclose(total.errors["total"][0], sigma, rtol=1e-8)
    np.testing.assert_allclose(total.errors["total"][1], -sigma, rtol=1e-8)
    parts = read_hepdata_table(sub, "Combination", 1)
    np.testing.assert_allclose(parts.errors["luminosity"][0], np.sqrt(np.diag(cov_lumi)), rtol=1e-8)
    in_quadrature = np.sqrt(sum(u**2 for u, _ in parts.errors.values()))
    np.testing.assert_allclose(in_quadrature, sigma, rtol=1e-8)
    matrix = read_hepdata_matrix(sub, "Combination covariance", binning=total.binning)
    np.testing.assert_allclose(matrix, cov, rtol=1e-8)
    corr = read_hepdata_matrix(sub, "Combination correlation", binning=total.binning)
    np.testing.assert_allclose(corr, cov / np.outer(sigma, sigma), rtol=1e-8, atol=1e-12)


def test_the_installed_command(tmp_path):
    """The Quickstart way: the ``hepcombine`` entry point, from the repository root."""
    exe = shutil.which("hepcombine") or pytest.skip("hepcombine is not on PATH")
    out = subprocess.run(
        [
            exe,
            "combine",
            "data/lhcb_z_8tev_ee_mumu.yaml",
            "--root",
            str(tmp_path / "out.root"),
            "--hepdata",
            str(tmp_path / "out_hepdata"),
            "--output-dir",
            str(tmp_path),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""  # no warning either (PyROOT, imported by hepdata_lib, has one)
    assert f"wrote {tmp_path / 'out_hepdata.tar.gz'}" in out.stdout
    judge_root_file(tmp_path / "out.root", expected_root(), directory="combination")


BROKEN = [
    # (old, new) in the example, the (first) line with this text is the one the message names
    ("variable: 0                  #", "#", "hepdata:"),  # the first: ee's
    ("drop_bins: [17]", "drop_bins: []", "mumu:"),
    ("drop_bins: [17]", "drop_bins: [17, 40]", "drop_bins:"),
    ("uncorrelated: ['sys,uncorr']", "uncorrelated: ['sys,uncorrelated']", "uncorrelated:"),
    ("per_bin_width: true", "per_bin_width: 1", "per_bin_width:"),
    ("{a: 'ee:sys,lumi'", "{a: 'ee:sys,luminosity'", "{a: 'ee:sys,luminosity'"),
    ("Table2.yaml", "Table3.yaml", "Table3.yaml"),
    ("binning: {name: yZ", "binning: {edges: [0, 1], name: yZ", "binning:"),
]


@pytest.mark.parametrize(("old", "new", "needle"), BROKEN)
def test_a_malformed_entry_is_one_line_and_writes_nothing(tmp_path, capsys, old, new, needle):
    text = EXAMPLE.read_text()
    assert old in text
    config = tmp_path / "config.yaml"
    config.write_text(text.replace(old, new, 1).replace("path: hepdata/", f"path: {DATA}/hepdata/"))
    out = tmp_path / "out"
    code = main(
        [
            "combine",
            str(config),
            "--root",
            str(out / "out.root"),
            "--hepdata",
            str(out / "out_hepdata"),
            "--json",
            str(out / "r.json"),
            "--output-dir",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert err.count("\n") == 1 and err.startswith(f"hepcombine: error: {config}, line ")
    line = next(i for i, t in enumerate(config.read_text().splitlines(), 1) if needle in t)
    assert f"{config}, line {line}, at " in err, err
    assert not out.exists()


def test_an_output_that_fails_last_leaves_no_output(tmp_path, capsys, monkeypatch):
    """The HEPData submission is staged with the other outputs: when the validator rejects it
    (made to here), or the directory may not be replaced, result.txt and the ROOT file are not
    written either."""
    from hepcombine.outputs import hepdata

    def reject(_validator_class, directory):
        raise HEPDataError("the HEPData validator rejects the submission (nothing was written): x")

    argv = [
        "combine",
        str(EXAMPLE),
        "--root",
        str(tmp_path / "out.root"),
        "--output-dir",
        str(tmp_path),
    ]
    with monkeypatch.context() as m:
        m.setattr(hepdata, "_validate", reject)
        assert main([*argv, "--hepdata", str(tmp_path / "sub")]) == 1
    assert "validator rejects" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep")
    assert main([*argv, "--hepdata", str(tmp_path / "mine")]) == 1
    assert "not a directory hepcombine may replace" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["mine"] and os.listdir(tmp_path / "mine") == [
        "notes.txt"
    ]
    # a previous submission is replaced, like result.txt
    assert main([*argv, "--hepdata", str(tmp_path / "sub")]) == 0
    assert main([*argv, "--hepdata", str(tmp_path / "sub"), "--no-hepdata-validation"]) == 0
    assert sorted(os.listdir(tmp_path)) == ["mine", "out.root", "result.txt", "sub", "sub.tar.gz"]
    judge_root_file(tmp_path / "out.root", expected_root(), directory="combination")


def test_without_profile_intervals_the_symmetric_errors_are_written(tmp_path, caplog):
    argv = ["combine", str(EXAMPLE), "--pearson", "--no-intervals", "--output-dir", str(tmp_path)]
    assert main([*argv, "--hepdata", str(tmp_path / "sub")]) == 0
    assert "the HEPData table uses the symmetric errors" in caplog.text
    total = read_hepdata_table(tmp_path / "sub", "Combination", 0)
    up, down = total.errors["total"]
    np.testing.assert_array_equal(up, -down)  # written as symerror


def test_a_combination_that_is_not_a_distribution(tmp_path):
    """data/ttbar_8tev_emu.yaml: one combined cross-section, a table with one numbered bin."""
    argv = ["combine", str(DATA / "ttbar_8tev_emu.yaml"), "--output-dir", str(tmp_path)]
    assert main([*argv, "--hepdata", str(tmp_path / "sub")]) == 0
    total = read_hepdata_table(tmp_path / "sub", "Combination", 0)
    assert total.values[0] == pytest.approx(241.46454, rel=1e-7)  # data/README: the seed BLUE
    assert total.binning.n_bins == 1


def test_help_lists_the_option():
    out = subprocess.run(
        [sys.executable, "-m", "hepcombine", "combine", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--hepdata DIR" in out.stdout and "--no-hepdata-validation" in out.stdout
