"""Scans streamed to a run directory and resumed (issue 22): a correlation scan or an ε scan
interrupted after k chunks and started again gives, bit for bit, the numbers of the scan done in
one go (in-process, and with the resumed part on a Dask LocalCluster); the run directory of
another scan is an error; a scan's fingerprint is the same in another process."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import DATA
from test_errors_on_errors import orthogonal_case
from test_scan import _two_groups, assert_bit_identical

from hepcombine import scan_errors_on_errors
from hepcombine.exceptions import RunError
from hepcombine.inputs import load_config
from hepcombine.scan import scan_all, scan_correlations


class Stop(Exception):
    """Raised by the progress callback to interrupt a run."""


def stop_after(k: int):
    calls = []

    def progress(done: int, total: int) -> None:
        calls.append(done)
        if len(calls) >= k:
            raise Stop

    return progress


def chunk_files(run):
    return sorted(p.name for p in run.glob("chunk-*.npz"))


def test_interrupted_correlation_scan_resumes_bit_for_bit(tmp_path):
    comb, groups, nominal = _two_groups()
    reference = scan_all(comb, groups, nominal=nominal)
    assert reference[0].valid.tolist() == [False, False, False, True, True]  # invalid points too
    run = tmp_path / "run"
    with pytest.raises(Stop):
        scan_all(comb, groups, nominal=nominal, output=run, chunk_size=2, progress=stop_after(2))
    assert chunk_files(run) == ["chunk-000000000-000000002.npz", "chunk-000000002-000000004.npz"]
    assert json.loads((run / "manifest.json").read_text())["kind"] == "scan"
    # resumed with another chunk size: only points 4 … 8 are computed
    seen = []
    resumed = scan_all(
        comb,
        groups,
        nominal=nominal,
        output=run,
        chunk_size=3,
        progress=lambda done, total: seen.append(done),
    )
    assert seen == [4, 7, 9]
    for got, ref in zip(resumed, reference, strict=True):
        assert_bit_identical(got, ref)
    assert chunk_files(run) == [] and (run / "scan.npz").exists()
    # a finished run is read back without computing anything
    again = scan_all(comb, groups, nominal=nominal, output=run, progress=stop_after(10))
    for got, ref in zip(again, reference, strict=True):
        assert_bit_identical(got, ref)


def test_pearson_scan_resumed_on_dask(tmp_path, dask_client):
    """The Convino example (Pearson, profile intervals at every point): the first chunk
    in-process, the rest on the cluster."""
    spec = load_config(DATA / "convino_example" / "combination.txt")
    reference = scan_all(spec, n_points=5, intervals=True)
    run = tmp_path / "run"
    with pytest.raises(Stop):
        scan_all(spec, n_points=5, intervals=True, output=run, chunk_size=2, progress=stop_after(1))
    assert len(chunk_files(run)) == 1
    resumed = scan_all(spec, n_points=5, intervals=True, output=run, client=dask_client)
    for got, ref in zip(resumed, reference, strict=True):
        assert_bit_identical(got, ref)


def test_run_directory_of_another_scan_is_an_error(tmp_path):
    comb, groups, nominal = _two_groups()
    run = tmp_path / "run"
    scan_correlations(comb, groups[1], nominal=nominal, output=run)
    for other in (
        {"n_points": 5},  # other points
        {"intervals": True},  # other options
        {"nominal": {**nominal, ("A:s", "B:s"): 0.8}},  # another combination
    ):
        kwargs = {"nominal": nominal, **other}
        with pytest.raises(RunError, match="holds another run"):
            scan_correlations(comb, groups[1], output=run, **kwargs)
    with pytest.raises(RunError, match="'eps-scan' there|kind"):
        scan_errors_on_errors(orthogonal_case(0.0, "dependent")[0], "model", [0.0, 0.5], output=run)


FINGERPRINT = """
from hepcombine.inputs import load_config
from hepcombine.scan import _Scanner, _ScanTask
spec = load_config({path!r})
comb = spec.combiner()
scanner = _Scanner(comb, spec.correlations, {intervals}, 5)
plans = [scanner.plan(g, 5) for g in spec.scans]
print(_ScanTask(comb, scanner.nominal, plans, {intervals}).fingerprint())
"""


def test_fingerprint_is_the_same_in_another_process():
    path = str(DATA / "convino_example" / "combination.txt")

    def fingerprint(intervals: bool) -> str:
        code = FINGERPRINT.format(path=path, intervals=intervals)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    first = fingerprint(False)
    assert len(first) == 64
    assert fingerprint(False) == first
    assert fingerprint(True) != first


def test_interrupted_eps_scan_resumes_on_dask(tmp_path, dask_client):
    comb = orthogonal_case(0.0, "dependent")[0]
    grid = [0.0, 0.2, 0.4, 0.6, 0.8]
    reference = scan_errors_on_errors(comb, "model", grid)
    assert reference.valid.all()
    run = tmp_path / "eps"
    with pytest.raises(Stop):
        scan_errors_on_errors(comb, "model", grid, output=run, chunk_size=2, progress=stop_after(1))
    assert len(chunk_files(run)) == 1
    resumed = scan_errors_on_errors(comb, "model", grid, output=run, client=dask_client)
    assert (run / "eps-scan.npz").exists() and chunk_files(run) == []
    for field in ("values", "errors", "interval_low", "interval_high", "b_profile"):
        for o in reference.observables:
            assert getattr(resumed, field)[o].tobytes() == getattr(reference, field)[o].tobytes()
    for field in ("chi2", "pvalue", "b_chi2", "goodness_of_fit", "gof_pvalue", "valid"):
        np.testing.assert_array_equal(getattr(resumed, field), getattr(reference, field))
    assert resumed.reasons == reference.reasons
