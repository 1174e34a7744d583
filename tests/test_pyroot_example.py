"""notebooks/pyroot_analysis.py runs: a PyROOT analysis end to end (ROOT histograms in, the
combination as ROOT objects out, drawn with ROOT's TCanvas and with mplhep)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from conftest import assert_root_object, expect_distribution, judge_root_file

SCRIPT = Path(__file__).resolve().parent.parent / "notebooks" / "pyroot_analysis.py"


def test_pyroot_analysis_runs(pyroot, tmp_path):
    spec = importlib.util.spec_from_file_location("pyroot_analysis", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = module.main(tmp_path)
    combination, objects = out["combination"], out["objects"]

    # the inputs as hepcombine read them from ROOT: the numbers the script put in
    A, B = out["inputs"]
    np.testing.assert_allclose(
        np.diag(A.measurement.stat_covariance) ** 0.5,
        0.03 * module.TRUTH * (module.TRUTH[0] / module.TRUTH) ** 0.25,
        rtol=1e-12,
    )
    assert B.origin == "nominal 'inputs_B.root:pt'"
    assert B.quantity.label == "d#sigma/dp_{T} [fb/GeV]" and B.binning.label == "p_{T} [GeV]"

    expected = expect_distribution(combination)
    judge_root_file(tmp_path / "combination.root", expected, directory="combination")
    for key, obj in objects.items():
        if key == "combined":  # the script retitles the histogram it draws
            assert obj.GetTitle().startswith("hepcombine")
            continue
        assert_root_object(obj, expected[key], key)

    for png in (out["root_png"], out["mplhep_png"]):
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000, png
