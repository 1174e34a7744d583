"""The ROOT judge of tests/conftest.py can fail: wrong numbers, titles, edges, objects, ROOT's own
warnings and errors, and a ROOT file a test leaves behind without judging it."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import sys
from pathlib import Path

import hist
import numpy as np
import pytest
from conftest import (
    TH1,
    Graph,
    expect_objects,
    judge_root_file,
    root_messages,
    root_reads,
)

from hepcombine.outputs.root import Graph as Points
from hepcombine.outputs.root import GraphAsymmErrors, write_root

ERRORS = ("exl", "exh", "eyl", "eyh")


@pytest.fixture
def written(tmp_path, pyroot):
    h = hist.Hist(
        hist.axis.Variable([0.0, 1.0, 3.0], name="pt", label="p_{T} [GeV]"),
        storage=hist.storage.Weight(),
        label="xs",
    )
    h.view().value = [2.0, 1.0]
    h.view().variance = [0.25, 0.04]
    g = GraphAsymmErrors([0.5, 2.0], [2.0, 1.0], [0.5, 1.0], [0.5, 1.0], [0.4, 0.1], [0.6, 0.3])
    p = Points([1.0, 2.0, 1.5, 1.0], [0.0, 0.0, 1.0, 0.0], "a contour", "a", "b")
    objects = {"h": h, "g": g, "p": p}
    path = tmp_path / "w.root"
    write_root(path, objects, directory="d")
    expected = expect_objects(objects)
    judge_root_file(path, expected, directory="d")  # right: passes
    return path, expected


@pytest.mark.parametrize(
    ("key", "change", "message"),
    [
        ("h", {"values": [2.0, 1.0 + 1e-10]}, "contents"),
        ("h", {"errors": [0.5, 0.2 * (1 + 1e-10)]}, "errors"),
        ("h", {"edges": [0.0, 1.0, 3.000001]}, "x edges"),
        ("h", {"title": "other"}, "title"),
        ("h", {"x_title": "p_{T}"}, "x title"),
        ("h", {"x_name": "xaxis"}, "x name"),
        ("h", {"y_title": "events"}, "y title"),
        ("h", {"flow": (0.0, 1.0)}, "flow"),
        ("g", {"eyh": [0.6, 0.3000001]}, "eyh"),
        ("g", {"cls": "TGraphErrors"}, "a TGraphAsymmErrors"),
        ("g", {"cls": "TGraph", **dict.fromkeys(ERRORS)}, "a TGraphAsymmErrors, expected TGraph"),
        ("p", {"x": [1.0, 2.0, 1.5, 1.0 + 1e-10]}, "p: x"),
        ("p", {"y": [0.0, 0.0, 1.0]}, "p: y: shape"),
        ("p", {"title": "a contour "}, "title"),
        ("p", {"y_title": "a"}, "p: y title"),
        ("p", {"x_title": "b"}, "p: x title"),
        ("p", {"cls": "TGraphErrors", **dict.fromkeys(ERRORS, [0.0] * 4)}, "a TGraph, expected"),
    ],
)
def test_wrong_expectations_fail(written, key, change, message):
    path, expected = written
    wrong = {**expected, key: dataclasses.replace(expected[key], **change)}
    with pytest.raises(AssertionError, match=message):
        judge_root_file(path, wrong, directory="d")


def test_missing_and_extra_objects_fail(written):
    path, expected = written
    with pytest.raises(AssertionError, match="ROOT finds"):
        judge_root_file(path, {"h": expected["h"]}, directory="d")
    extra = TH1([1.0], [1.0], [0.0, 1.0])
    with pytest.raises(AssertionError, match="ROOT finds"):
        judge_root_file(path, {**expected, "x": extra}, directory="d")
    with pytest.raises(AssertionError, match="ROOT finds"):
        judge_root_file(path, expected)  # not in the directory
    assert isinstance(expected["g"], Graph)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # PyROOT passes ROOT's warnings on too
def test_root_messages_fail(written, tmp_path):
    path, expected = written
    damaged = tmp_path / "truncated.root"
    damaged.write_bytes(path.read_bytes()[:-200])  # ROOT: "file is truncated", recovers
    with pytest.raises(AssertionError, match="ROOT complained") as err:
        root_reads(damaged)
    assert "truncated" in str(err.value)
    with pytest.raises(AssertionError, match="ROOT complained"):
        judge_root_file(damaged, expected, directory="d")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_messages_are_recorded(pyroot):
    with root_messages() as got:
        pyroot.Warning("hepcombine_tests", "a warning")
        pyroot.Info("hepcombine_tests", "information is not a complaint")
    assert got == ["hepcombine_tests: a warning"]


def test_a_file_left_unjudged_fails_the_test(tmp_path, pyroot):
    """A pytest run of a test that writes a ROOT file and never judges it: the test errors in
    its teardown, naming the file."""
    tests = Path(__file__).parent
    shutil.copy(tests / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_unjudged.py").write_text(
        "import hist\n"
        "from hepcombine.outputs.root import write_root\n\n"
        "def test_writes(tmp_path):\n"
        "    write_root(tmp_path / 'left.root', {'h': hist.Hist(hist.axis.Regular(2, 0, 1))})\n"
    )
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 1, out.stdout
    assert "1 passed, 1 error" in out.stdout
    assert "left unjudged" in out.stdout and "left.root" in out.stdout
    np.testing.assert_equal(out.stdout.count("ERROR at teardown"), 1)
