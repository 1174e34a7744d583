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


def test_scan_output_resumes_an_interrupted_run(tmp_path, capsys):
    """``hepcombine scan --output RUNDIR``: a run directory left by an interrupted scan (the
    first chunk of points, as the library leaves it) is resumed by the command, whose files are
    byte-identical to an uninterrupted command's; another scan into it is exit 1, one line."""
    from hepcombine.inputs import load_config
    from hepcombine.scan import scan_all

    run_dir = tmp_path / "run"

    class Stop(Exception):
        pass

    def stop(done, total):
        raise Stop

    with pytest.raises(Stop):
        scan_all(load_config(CONVINO), n_points=5, output=run_dir, chunk_size=2, progress=stop)
    assert len(list(run_dir.glob("chunk-*.npz"))) == 1
    files = {}
    for name, extra in (("plain", []), ("resumed", ["--output", run_dir])):
        out = tmp_path / name
        argv = ["--points", 5, "--no-plots", "--output-dir", out, "--json", out / "s.json"]
        code, _, err = scan(CONVINO, *argv, *extra, capsys=capsys)
        assert code == 0, err
        files[name] = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    assert files["resumed"] == files["plain"]
    assert (run_dir / "scan.npz").exists() and not list(run_dir.glob("chunk-*.npz"))
    code, _, err = scan(CONVINO, "--points", 6, "--no-plots", "--output-dir", tmp_path / "x",
                        "--output", run_dir, capsys=capsys)  # fmt: skip
    assert code == 1 and err.count("\n") == 1 and "holds another run" in err


def test_combine_scan_on_dask_writes_the_same_files(tmp_path, capsys, dask_client):
    """``hepcombine combine -s --scheduler ADDRESS``: the scan's points on a running cluster,
    the same result.txt and scan_result.txt as in-process; --workers without -s is exit 2."""
    files = {}
    for name, extra in (("serial", []), ("dask", ["--scheduler", dask_client.scheduler.address])):
        out = tmp_path / name
        code, _, err = run(["combine", CONVINO, "-s", "--output-dir", out, *extra], capsys)
        assert code == 0, err
        files[name] = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    assert sorted(files["serial"]) == ["result.txt", "scan_result.txt"]
    assert files["dask"] == files["serial"]
    code, _, err = run(["combine", CONVINO, "--workers", 2, "--output-dir", tmp_path], capsys)
    assert code == 2 and err.count("\n") == 1 and "use them with -s" in err
