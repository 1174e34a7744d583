"""``hepcombine scan --workers / --scheduler``: the points as Dask tasks, the same files.

The numbers of a scan on Dask are checked against the in-process scan in tests/test_scan.py;
here: ``--workers 2`` (a real local cluster started by the command) writes byte-identical
``scan_result.txt`` and ``--json`` files to the in-process command on the real Convino example
with profile intervals; without Dask both options are one line and exit status 2, before any
work.
"""

from __future__ import annotations

import sys

import pytest
from conftest import DATA

from .test_cli import run

CONVINO = DATA / "convino_example" / "combination.txt"


def scan(config, *options, capsys):
    """Run ``hepcombine scan``; returns (exit code, stdout, stderr)."""
    return run(["scan", config, *options], capsys)


@pytest.mark.parametrize(
    "how",
    # the default run hands the scan to a running scheduler (the session's cluster); the slow
    # run also lets hepcombine start its own (toys --workers 2 does in the default run)
    ["scheduler", pytest.param("workers", marks=pytest.mark.slow)],
)
def test_dask_writes_the_same_scan_files(tmp_path, capsys, request, how):
    pytest.importorskip("distributed")
    if how == "scheduler":
        dask = ["--scheduler", request.getfixturevalue("dask_client").scheduler.address]
    else:
        dask = ["--workers", 2]
    outputs = {}
    for name, extra in (("serial", []), ("dask", dask)):
        out = tmp_path / name
        argv = ["--points", 5, "--intervals", "--no-plots", "--output-dir", out]
        code, stdout, err = scan(CONVINO, *argv, "--json", out / "s.json", *extra, capsys=capsys)
        assert code == 0, err
        stdout = stdout.replace(str(out), "OUT")  # the list of files written names the directory
        outputs[name] = (stdout, {p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert sorted(outputs["serial"][1]) == ["s.json", "scan_result.txt"]
    assert b"correlation scan 'jes_a'" in outputs["serial"][1]["scan_result.txt"]
    assert outputs["dask"] == outputs["serial"]


def test_workers_without_dask_exit_2_before_any_work(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    for option in (["--workers", 2], ["--scheduler", "tcp://127.0.0.1:8786"]):
        # the configuration does not exist: the option is checked first
        code, _, err = scan(tmp_path / "nope.txt", *option, capsys=capsys)
        assert code == 2 and err.count("\n") == 1
        assert f"{option[0]} needs Dask: python -m pip install 'hepcombine[dask]'" in err
    code, _, err = scan(CONVINO, "--workers", 2, "--scheduler", "tcp://x:1", capsys=capsys)
    assert code == 2 and "not allowed with argument" in err and err.count("\n") == 1


def test_help_documents_the_options(capsys):
    code, text, _ = run(["scan", "--help"], capsys)
    assert code == 0
    for w in ("--workers N", "--scheduler ADDRESS", "hepcombine[dask]"):
        assert w in text, w
