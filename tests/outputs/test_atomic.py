"""All-or-none file output (hepcombine.outputs.atomic), used by every writer."""

import pytest

from hepcombine import Combiner, Measurement, write_convino, write_root
from hepcombine.exceptions import ConfigError, OutputError
from hepcombine.outputs.atomic import atomic_write_text, output_set
from hepcombine.spec import CombinationSpec


def test_atomic_output_set(tmp_path):
    target = tmp_path / "new" / "sub" / "a.txt"
    with pytest.raises(RuntimeError), output_set() as out:
        out.write_text(target, "first")
        raise RuntimeError("fail after staging")
    assert not (tmp_path / "new").exists()  # created directories are removed again
    (tmp_path / "b.txt").write_text("old")
    atomic_write_text(tmp_path / "b.txt", "new")
    assert (tmp_path / "b.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.txt"]


def test_a_target_twice_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match="written twice"), output_set() as out:
        out.write_text(tmp_path / "a.txt", "1")
        out.write_text(tmp_path / "a.txt", "2")
    assert list(tmp_path.iterdir()) == []


def test_write_convino_is_all_or_none(tmp_path):
    """A measurement file and the base file of the same name: nothing is written (before, the
    measurement files were written one by one and the directory was left behind)."""
    m = Measurement.from_uncertainties({"x": 1.0}, {"x": 0.1}, name="combination")
    with pytest.raises(OutputError, match="written twice"):
        write_convino(CombinationSpec({"combination": m}), tmp_path / "out")
    assert not (tmp_path / "out").exists()
    bad = Measurement.from_uncertainties({"x y": 1.0}, {"x y": 0.1}, name="m")
    with pytest.raises(ConfigError, match="separators"):
        write_convino(CombinationSpec({"m": bad}), tmp_path / "out")
    assert not (tmp_path / "out").exists()
    base = write_convino(CombinationSpec({"m": m.named("m")}), tmp_path / "ok")
    assert sorted(p.name for p in base.parent.iterdir()) == ["combination.txt", "m.txt"]


def test_figures_and_root_files_are_staged(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure()
    with pytest.raises(RuntimeError), output_set() as out:
        out.save_figure(tmp_path / "f.png", fig)
        raise RuntimeError("later failure")
    assert list(tmp_path.iterdir()) == []
    with output_set() as out:
        out.save_figure(tmp_path / "f.png", fig)
    plt.close(fig)
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    res = Combiner([Measurement.from_uncertainties({"x": 1.0}, {"x": 0.1}, name="a")]).combine()
    from hepcombine.outputs.root import result_objects

    with pytest.raises(OutputError):
        write_root(tmp_path / "r.root", {"bad;name": result_objects(res)["combined"]})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png"]


# --------------------------------------------------------------------------- directories
def _fill(files):
    def fill(tmp):
        for name, text in files.items():
            (tmp / name).write_text(text)

    return fill


def test_a_staged_directory_appears_only_with_the_rest(tmp_path):
    old = tmp_path / "sub"
    old.mkdir()
    (old / "submission.yaml").write_text("old")
    keep = {p.name: p.read_text() for p in old.iterdir()}

    def is_submission(p):
        return (p / "submission.yaml").exists()

    with pytest.raises(RuntimeError), output_set() as out:
        out.stage_directory(
            old, _fill({"submission.yaml": "new", "t.yaml": "x"}), replace=is_submission
        )
        out.write_text(tmp_path / "r.txt", "result")
        raise RuntimeError("a later output fails")
    assert {p.name: p.read_text() for p in old.iterdir()} == keep
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub"]  # no staging left
    with output_set() as out:
        out.stage_directory(
            old, _fill({"submission.yaml": "new", "t.yaml": "x"}), replace=is_submission
        )
        out.write_text(tmp_path / "r.txt", "result")
    assert sorted(p.name for p in old.iterdir()) == ["submission.yaml", "t.yaml"]
    assert (old / "submission.yaml").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.txt", "sub"]  # the old one removed


def test_a_directory_that_may_not_be_replaced_is_an_output_error(tmp_path):
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "thesis.tex").write_text("precious")
    with (
        pytest.raises(OutputError, match="not a directory hepcombine may replace"),
        output_set() as out,
    ):
        out.stage_directory(tmp_path / "home", _fill({"a": "b"}))
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="not a directory"), output_set() as out:
        out.stage_directory(tmp_path / "file", _fill({"a": "b"}))
    assert (tmp_path / "home" / "thesis.tex").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "home"]


def test_a_failed_rename_of_a_directory_restores_the_old_one(tmp_path, monkeypatch):
    import os

    from hepcombine.outputs import atomic

    old = tmp_path / "sub"
    old.mkdir()
    (old / "keep.yaml").write_text("old")
    real = os.replace
    calls = []

    def failing(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # the new directory onto the target, after the old one moved aside
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", failing)
    with pytest.raises(OSError), output_set() as out:
        out.stage_directory(old, _fill({"new.yaml": "new"}), replace=lambda p: True)
    monkeypatch.undo()
    assert sorted(p.name for p in old.iterdir()) == ["keep.yaml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub"]
