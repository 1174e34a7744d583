"""The original Convino program's command line in ``hepcombine`` (issue 9): its option names
as aliases (``--neyman``, ``--prefix``, ``-s``, ``-p``, ``-c``, ``-r``, ``-d``, also without
the ``combine`` command), the ROOT graph of every combination, contours, the normalised result
first, and bad input as a one-line error with nothing written.

References: every number written here is compared with the Python API on the same inputs (the
API's numbers are checked against independent references in tests/test_convino_setups.py and
tests/solver/test_contours.py), so these tests check what the options write, not the numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import (
    expect_combination,
    expect_contours,
    expect_distribution,
    judge_root_file,
    write,
)

from cli.test_cli import convino_files, differential_files, run
from hepcombine.inputs import load_config
from hepcombine.outputs.combination import differential_result

# the three levels of -c: Δχ² = 1 (convino's curve), 68.27 % and 95 % CL for two parameters
LEVELS = ({"delta_chi2": 1.0}, {"cl": 0.6827}, {"cl": 0.95})


def expect_differential(base: Path, chi2: str) -> dict:
    """What ROOT must read in the ROOT file of the differential ``base``: the numbers of the
    same combination through the API (normalised, as the configuration asks)."""
    spec = load_config(base)
    dr = differential_result(spec.combiner(chi2=chi2).combine(), spec)
    assert dr is not None and spec.normalise
    return expect_distribution(dr, normalised=True)


def files(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir()) if path.exists() else []


def test_convino_command_line_works_unchanged(tmp_path, capsys, monkeypatch):
    """``convino -sp --neyman --prefix ny base.txt`` with ``hepcombine`` in place of convino
    (no command given): combine + scan (table and plots), Neyman, the prefix; plus ``-r``."""
    base = differential_files(tmp_path / "in")
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["-sp", "--neyman", "--prefix", "ny", "-r", base], capsys)
    assert code == 0, err
    stems = ["ny_result.root", "ny_result.txt", "ny_scan_result.txt"]
    stems += [f"ny_scan_jes1_bin{i}.{ext}" for i in range(3) for ext in ("pdf", "png")]
    assert files(tmp_path) == sorted([*stems, "in"])
    # the same as the long forms
    code, _, err = run(
        ["scan", base, "--neyman", "--prefix", "long", "--no-plots", "--output-dir", "scan"],
        capsys,
    )
    assert code == 0, err
    assert (tmp_path / "ny_scan_result.txt").read_text() == (
        tmp_path / "scan" / "long_scan_result.txt"
    ).read_text()
    assert "neyman" in (tmp_path / "ny_result.txt").read_text()
    expected = expect_differential(base, "neyman")
    judge_root_file(tmp_path / "ny_result.root", expected, directory="combination")


def test_r_writes_a_graph_of_the_combined_values_of_any_combination(tmp_path, capsys):
    uproot = pytest.importorskip("uproot")
    base = convino_files(tmp_path / "in")  # not differential
    out = tmp_path / "out"
    code, _, err = run(
        ["combine", "-r", base, "--output-dir", out, "--json", out / "r.json"], capsys
    )
    assert code == 0, err
    data = json.loads((out / "r.json").read_text())
    comb = data["combined"]["x0"]
    with uproot.open(out / "result.root") as f:
        g = f["combination/combined_profile"]
        assert g.classname == "TGraphAsymmErrors"
        x, y = g.values()
        assert x.tolist() == [0.5] and y == pytest.approx([comb["value"]], rel=1e-12)
        assert g.errors("low")[1] == pytest.approx([comb["value"] - comb["interval"][0]], rel=1e-9)
        assert g.errors("high")[1] == pytest.approx([comb["interval"][1] - comb["value"]], rel=1e-9)
        # the observable of point i is bin i's label of the TH1D 'combined'
        assert list(f["combination/combined"].axis().labels()) == ["x0"]
        assert f["combination/combined"].values() == pytest.approx([comb["value"]], rel=1e-12)
    expected = expect_combination(load_config(base).combiner().combine())
    judge_root_file(out / "result.root", expected, directory="combination")


def test_contours_as_json_root_graphs_and_plots(tmp_path, capsys):
    """``--contour A B`` (a combined value and a source): the three levels of ``-c`` in
    contours.json, as TGraphs in contours.root and in one plot; the same points as the API."""
    uproot = pytest.importorskip("uproot")
    base = differential_files(tmp_path / "in")
    out = tmp_path / "out"
    argv = ["combine", base, "--neyman", "--output-dir", out, "--contour-points", "12"]
    code, _, err = run([*argv, "--contour", "bin0", "jes1"], capsys)
    assert code == 0, err
    assert files(out) == [
        "contour_bin0_d1_jes1.pdf",
        "contour_bin0_d1_jes1.png",
        "contours.json",
        "contours.root",
        "result.txt",
    ]
    data = json.loads((out / "contours.json").read_text())["contours"]
    levels = [1.0, -2 * np.log(1 - 0.6827), -2 * np.log(1 - 0.95)]  # Δχ² = 1, 2.30, 5.99
    assert [c["delta_chi2"] for c in data] == pytest.approx(levels, rel=1e-12)
    result = load_config(base).combiner(chi2="neyman").combine()
    api = result.contour("bin0", "jes1", cl=0.95, n_points=12)
    assert data[2]["y_name"] == "d1:jes1"
    np.testing.assert_allclose(data[2]["x"], api.x, rtol=1e-10)
    np.testing.assert_allclose(data[2]["y"], api.y, rtol=1e-10, atol=1e-12)
    with uproot.open(out / "contours.root") as f:
        keys = sorted(k.split(";")[0] for k in f["contours"].keys())  # noqa: SIM118
        assert keys == [f"contour_bin0_d1_jes1_dchi2_{v}" for v in ("1", "2p3", "5p99")]
        g = f["contours/contour_bin0_d1_jes1_dchi2_5p99"]
        assert g.classname == "TGraph"
        x, y = g.values()
        assert len(x) == 13 and (x[0], y[0]) == (x[-1], y[-1])  # closed
        np.testing.assert_allclose(x[:-1], api.x, rtol=1e-12)
    assert (out / "contour_bin0_d1_jes1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # ROOT reads every graph: the API's contours at the three levels
    api_levels = [result.contour("bin0", "jes1", n_points=12, **level) for level in LEVELS]
    assert [c.delta_chi2 for c in api_levels] == pytest.approx(levels, rel=1e-12)
    graphs = [f"contour_bin0_d1_jes1_dchi2_{v}" for v in ("1", "2p3", "5p99")]
    expected = expect_contours(dict(zip(graphs, api_levels, strict=True)))
    judge_root_file(out / "contours.root", expected, directory="contours")


def test_c_draws_every_pair_of_combined_values_up_to_a_limit(tmp_path, capsys):
    base = differential_files(tmp_path / "in")
    out = tmp_path / "out"
    code, _, err = run(
        ["combine", base, "-c", "--neyman", "--output-dir", out, "--contour-points", "8"], capsys
    )
    assert code == 0, err
    pngs = [n for n in files(out) if n.endswith(".png")]
    assert pngs == [f"contour_bin{a}_bin{b}.png" for a, b in ((0, 1), (0, 2), (1, 2))]
    assert len(json.loads((out / "contours.json").read_text())["contours"]) == 9
    result = load_config(base).combiner(chi2="neyman").combine()
    by_suffix = {"1": LEVELS[0], "2p3": LEVELS[1], "5p99": LEVELS[2]}
    api = {
        f"contour_bin{a}_bin{b}_dchi2_{v}": result.contour(f"bin{a}", f"bin{b}", n_points=8, **lv)
        for a, b in ((0, 1), (0, 2), (1, 2))
        for v, lv in by_suffix.items()
    }
    judge_root_file(out / "contours.root", expect_contours(api), directory="contours")
    # one combined value: -c has no pair to draw
    single = convino_files(tmp_path / "single")
    code, _, err = run(["combine", single, "-c", "--output-dir", tmp_path / "o2"], capsys)
    assert code == 1 and "--contour" in err and err.count("\n") == 1
    assert files(tmp_path / "o2") == []


def test_c_with_many_combined_values_asks_for_pairs(tmp_path, capsys):
    stats = {f"x{i}": str(1.0 + i) for i in range(9)}
    text = "[not fitted]\n  stat\n" + "".join(f"  x{i} {s}\n" for i, s in enumerate(stats.values()))
    text += "[end not fitted]\n[estimates]\n  n_estimates = 9\n"
    text += "".join(f"  name_{i} = x{i}\n  value_{i} = {10 + i}\n" for i in range(9))
    write(tmp_path / "m.txt", text + "[end estimates]\n")
    base = write(
        tmp_path / "base.txt",
        "[inputs]\nnFiles = 1\nfile0 = m.txt\n[end inputs]\n[observables]\n[end observables]\n"
        "[correlations]\n[end correlations]\n",
    )
    code, _, err = run(["combine", base, "-c", "--output-dir", tmp_path / "o"], capsys)
    assert code == 1 and "36 contours" in err and "--contour A B" in err
    assert files(tmp_path / "o") == []


def test_normalised_result_is_printed_and_written_first(tmp_path, capsys):
    base = differential_files(tmp_path / "in")  # normalise = true
    out = tmp_path / "out"
    code, stdout, err = run(
        ["combine", base, "--output-dir", out, "--json", out / "r.json"], capsys
    )
    assert code == 0, err
    assert stdout.startswith("normalised to unit sum")
    norm = json.loads((out / "r.json").read_text())["normalised"]
    first = stdout.splitlines()[1].split()
    assert first[0] == "bin0" and float(first[2]) == pytest.approx(norm["values"]["bin0"], rel=1e-5)
    assert float(first[4]) == pytest.approx(norm["errors"]["bin0"], rel=1e-5)
    assert stdout.index("normalised") < stdout.index("hepcombine combination")
    text = (out / "result.txt").read_text()
    assert text.index("Normalised values") < text.index("Combined values")


def test_unknown_systematics_entry_is_an_error_and_writes_nothing(tmp_path, capsys):
    """The issue's case: ``lumi_q = relative`` for ``lumi_a`` left the source absolute."""
    base = convino_files(tmp_path / "in")
    a = tmp_path / "in" / "a.txt"
    a.write_text(a.read_text().replace("lumiA = relative", "lumiQ = relative"))
    out = tmp_path / "out"
    code, _, err = run(["combine", base, "--output-dir", out, "--json", out / "r.json"], capsys)
    assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
    assert f"{a}, line " in err and "block [systematics]" in err
    assert "'lumiQ' is not a systematic" in err and "did you mean 'lumiA'?" in err
    assert files(out) == []


@pytest.mark.parametrize("where", ["base", "measurement", "yaml"])
def test_a_binary_input_is_one_line_naming_the_file(tmp_path, capsys, where):
    base = convino_files(tmp_path / "in")
    bad = {"base": base, "measurement": tmp_path / "in" / "b.txt", "yaml": tmp_path / "c.yaml"}
    bad[where].write_bytes(b"\x89HDF\r\n\x1a\n\x00\x00\xff\xfe" * 8)
    config = bad[where] if where == "yaml" else base
    out = tmp_path / "out"
    code, _, err = run(["combine", config, "--output-dir", out], capsys)
    assert code == 1, err
    assert err.startswith("hepcombine: error: ") and err.count("\n") == 1
    assert f"{bad[where]} is not a text file" in err and "internal error" not in err
    assert files(out) == []


def test_json_and_root_naming_one_file_fail_before_any_work(tmp_path, capsys, monkeypatch):
    from hepcombine.combiner import Combiner

    def never(*args, **kwargs):
        raise AssertionError("the combination must not run")

    monkeypatch.setattr(Combiner, "combine", never)
    base = convino_files(tmp_path / "in")
    out = tmp_path / "out"
    same = out / "x.out"
    code, _, err = run(
        ["combine", base, "--output-dir", out, "--json", same, "--root", same], capsys
    )
    assert code == 1 and err.count("\n") == 1 and "internal error" not in err
    assert "written twice" in err and "--json and --root" in err and str(same) in err
    assert files(out) == []
    # -r names DIR/result.txt's sibling result.root: --json there clashes too
    code, _, err = run(
        ["combine", base, "--output-dir", out, "-r", "--json", out / "result.root"], capsys
    )
    assert code == 1 and "--json and -r" in err


def test_unknown_command_is_still_a_usage_error(tmp_path, capsys):
    code, _, err = run(["combin", "base.txt"], capsys)
    assert code == 2 and "invalid choice" in err
    code, _, err = run(["--neyman", tmp_path / "nope.txt"], capsys)  # an option: combine
    assert code == 1 and "does not exist" in err


def test_d_is_debug(tmp_path):
    from hepcombine.cli import main

    with pytest.raises(Exception, match="does not exist"):
        main(["combine", "-d", str(tmp_path / "nope.txt")])
