"""The YODA reader (hepcombine.inputs.yoda): real files written by the YODA C++ library, the
format's corner cases, bad input (file, line, block named), and YAML ``yoda:`` measurements.

Reference numbers: the real files in ``data/yoda`` (see its README); where the tests compare
with numbers, the numbers are read off the file text itself (or the file's own point errors,
which YODA 1 computed as the quadrature sum of the ErrorBreakdown)."""

from __future__ import annotations

import gzip
import logging
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import gls, write

from hepcombine import Combiner, Measurement
from hepcombine.exceptions import ConfigError
from hepcombine.inputs import load_config
from hepcombine.inputs.yoda import read_yoda, read_yoda_measurement, yoda_objects

DATA = Path(__file__).resolve().parents[2] / "data" / "yoda"
ATLAS = DATA / "ATLAS_2020_I1790439_excerpt.yoda"
KROLL = DATA / "MC_KROLL_WADA_m_ee.yoda"


# ---------------------------------------------------------------------- real files
def test_yoda1_reference_file_with_error_breakdown():
    objects = read_yoda(ATLAS)
    assert list(objects) == [
        f"/REF/ATLAS_2020_I1790439/{n}"
        for n in ("d01-x01-y01", "d02-x01-y01", "d02-x01-y02", "d03-x01-y01", "d03-x01-y02")
    ]
    d03 = objects["/REF/ATLAS_2020_I1790439/d03-x01-y01"]
    assert (d03.kind, d03.version) == ("SCATTER2D", 2)
    assert d03.title == "doi:10.17182/hepdata.94312.v1/t3"
    assert d03.annotations["IsRef"] == 1
    np.testing.assert_array_equal(d03.binning.low, np.arange(9) + 0.5)
    np.testing.assert_array_equal(d03.binning.high, np.arange(9) + 1.5)
    np.testing.assert_array_equal(d03.binning.centers, np.arange(9) + 1.0)
    np.testing.assert_array_equal(d03.values[[0, 8]], [0.81, 5.35e4])
    assert list(d03.errors) == ["stat", "sys"]
    up, down = d03.errors["stat"]
    np.testing.assert_array_equal(up[[0, 8]], [0.12, 4900.0])
    np.testing.assert_array_equal(down[[0, 8]], [-0.12, -4900.0])
    # the file's point errors are the quadrature sum of its breakdown (6 digits)
    yerr = np.array([1.236932e-01, 1.772005e-01, 1.581139e-01, 1.529706e-01, 2.158703e-01,
                     2.184033e-01, 3.289377e-01, 3.195309e-01, 5.331041e03])  # fmt: skip
    total = np.sqrt(sum(u**2 for u, _ in d03.errors.values()))
    np.testing.assert_allclose(total, yerr, rtol=5e-7)
    # an empty ErrorBreakdown: the point errors are one source, 'total'
    d01 = objects["/REF/ATLAS_2020_I1790439/d01-x01-y01"]
    assert list(d01.errors) == ["total"]
    np.testing.assert_array_equal(d01.values, [9.0, 15.0, 26.0, 20.0, 15.0])


def test_yoda1_measurement():
    dm = read_yoda_measurement(ATLAS, "d03-x01-y01")
    m = dm.measurement
    assert m.name == "d03-x01-y01"
    assert m.estimate_names == tuple(f"bin{i}" for i in range(9))
    assert m.source_names == ("sys",)
    np.testing.assert_array_equal(np.sqrt(np.diag(m.stat_covariance))[[0, 8]], [0.12, 4900.0])
    np.testing.assert_array_equal(m.shifts_up[[0, 8], 0], [0.03, 2100.0])
    np.testing.assert_array_equal(m.shifts_down[[0, 8], 0], [-0.03, -2100.0])
    np.testing.assert_array_equal(dm.binning.edges, np.arange(10) + 0.5)
    assert "line 49" in dm.origin and "d03-x01-y01" in dm.origin
    # the same object by its full path; a label that is not 'stat' named with stat=
    other = read_yoda_measurement(ATLAS, "/REF/ATLAS_2020_I1790439/d03-x01-y02", stat="error")
    assert other.measurement.source_names == ()


def test_yoda2_estimate_written_by_rivet4():
    (obj,) = read_yoda(KROLL).values()
    assert (obj.path, obj.kind, obj.version) == ("/MC_KROLL_WADA/m_ee", "ESTIMATE1D", 3)
    assert obj.annotations["ScaledBy"] == pytest.approx(4.73695254912828093e-09, rel=1e-15)
    np.testing.assert_allclose(obj.binning.edges, np.arange(101) / 10, rtol=0, atol=1e-15)
    assert obj.binning.n_bins == 100  # the two flow rows are not bins
    text = KROLL.read_text().splitlines()
    first, last = text[10].split(), text[109].split()  # rows of bins 0 and 99
    assert obj.values[0] == float(first[0]) and obj.values[99] == float(last[0])
    up, down = obj.errors["stats"]
    assert (down[0], up[0]) == (float(first[1]), float(first[2]))
    dm = read_yoda_measurement(KROLL)  # one distribution: no object needed; 'stats' is stat
    assert dm.measurement.source_names == ()
    np.testing.assert_allclose(np.sqrt(np.diag(dm.measurement.stat_covariance)), up, rtol=1e-15)


YODA2 = """\
BEGIN YODA_ESTIMATE1D_V3 /REF/TEST/d01-x01-y01
IsRef: 1
Path: /REF/TEST/d01-x01-y01
Title: 'd\\sigma/dx: with a colon'
Type: Estimate1D
---
Edges(A1): [0.0, 1.0, 2.0, 4.0, 8.0]
MaskedBins: [3]
ErrorLabels: ["stat", "sys,lumi", "sys,jes"]
# value\terrDn(1)\terrUp(1)\terrDn(2)\terrUp(2)\terrDn(3)\terrUp(3)
nan\t---\t---\t---\t---\t---\t---
10.0\t-1.0\t1.0\t-0.5\t0.5\t-0.3\t0.2
20.0\t-2.0\t2.0\t-1.0\t1.0\t---\t---
nan\t---\t---\t---\t---\t---\t---
40.0\t-4.0\t4.0\t-2.0\t2.0\t0.1\t-0.4
5.0\t---\t---\t---\t---\t---\t---
END YODA_ESTIMATE1D_V3
"""


def test_yoda2_labels_dashes_and_masked_bins(tmp_path, caplog):
    obj = yoda_objects(YODA2)["/REF/TEST/d01-x01-y01"]
    assert obj.title == "d\\sigma/dx: with a colon"
    assert list(obj.errors) == ["stat", "sys,lumi", "sys,jes"]
    np.testing.assert_array_equal(obj.values, [10.0, 20.0, np.nan, 40.0])
    up, down = obj.errors["sys,jes"]
    np.testing.assert_array_equal(up, [0.2, 0.0, 0.0, -0.4])  # '---': no such source
    np.testing.assert_array_equal(down, [-0.3, 0.0, 0.0, 0.1])  # same-sign pair kept as written
    path = write(tmp_path / "t.yoda", YODA2)
    with caplog.at_level(logging.WARNING):
        dm = read_yoda_measurement(path)
    assert not caplog.records  # a masked bin is no missing value
    assert dm.measurement.estimate_names == ("bin0", "bin1", "bin3")
    np.testing.assert_array_equal(dm.binning.low, [0.0, 1.0, 4.0])  # the gap [2, 4) is kept
    np.testing.assert_array_equal(dm.binning.high, [1.0, 2.0, 8.0])
    assert dm.measurement.source_names == ("lumi", "jes")  # labels cleaned: 'sys,' dropped
    m = dm.measurement
    np.testing.assert_array_equal(m.shifts_up[:, 1], [0.2, 0.0, -0.4])
    np.testing.assert_array_equal(m.shifts_down[:, 1], [-0.3, 0.0, 0.1])
    # renames, dropped labels, relative and bin-by-bin sources, scale
    dm = read_yoda_measurement(
        path,
        sources={"sys,lumi": "L", "jes": None},
        relative=["L"],
        uncorrelated=["sys,lumi"],
        scale=2.0,
        axis_name="x",
        axis_unit="GeV",
    )
    m = dm.measurement
    assert m.source_names == ("L_bin0", "L_bin1", "L_bin3")
    assert m.relative == frozenset(m.source_names)
    np.testing.assert_array_equal(m.estimates, [20.0, 40.0, 80.0])
    np.testing.assert_array_equal(np.diag(m.shifts_up), [1.0, 2.0, 4.0])
    assert dm.binning.unit == "GeV"
    sym = read_yoda_measurement(path, asymmetric="symmetrise").measurement
    np.testing.assert_array_equal(sym.shifts_up[:, 1], [0.25, 0.0, -0.25])


def test_discrete_axis_and_gzip(tmp_path):
    text = """\
BEGIN YODA_BINNEDESTIMATE<S>_V3 /REF/TEST/xs
Path: /REF/TEST/xs
Type: BinnedEstimate<s>
---
Edges(A1): ["ttbar", "tW"]
ErrorLabels: ["stat"]
# value\terrDn(1)\terrUp(1)
nan\t---\t---
830.0\t-10.0\t10.0
72.0\t-4.0\t4.0
END YODA_BINNEDESTIMATE<S>_V3
"""
    path = tmp_path / "t.yoda.gz"
    path.write_bytes(gzip.compress(text.encode()))
    (obj,) = read_yoda(path).values()
    assert obj.bin_labels == ("ttbar", "tW")
    assert obj.binning.is_index
    np.testing.assert_array_equal(obj.values, [830.0, 72.0])


# ---------------------------------------------------------------------- bad input
GOOD_SCATTER = """\
BEGIN YODA_SCATTER2D_V2 /REF/A/d01
Path: /REF/A/d01
Type: Scatter2D
---
1.0\t0.5\t0.5\t3.0\t0.1\t0.1
END YODA_SCATTER2D_V2
"""

BAD = {
    "outside": ("junk line\n" + GOOD_SCATTER, 1, None, "expected 'BEGIN"),
    "no end": (
        GOOD_SCATTER.replace("END YODA_SCATTER2D_V2\n", ""),
        1,
        "SCATTER2D /REF/A/d01",
        "no END line",
    ),
    "other end": (
        GOOD_SCATTER.replace("END YODA_SCATTER2D_V2", "END YODA_HISTO1D_V2"),
        6,
        "SCATTER2D",
        "another type",
    ),
    "nested": (
        GOOD_SCATTER.replace("---\n", "---\nBEGIN YODA_SCATTER2D_V2 /x\n"),
        5,
        "SCATTER2D",
        "new BEGIN",
    ),
    "columns": (
        GOOD_SCATTER.replace("\t0.1\t0.1\n", "\t0.1\n"),
        5,
        "SCATTER2D",
        "5 columns, expected 6",
    ),
    "token": (GOOD_SCATTER.replace("3.0", "3,0"), 5, "SCATTER2D", "'3,0' is not a number"),
    "yaml": (
        GOOD_SCATTER.replace("Type: Scatter2D", "Type: [unclosed"),
        3,
        "SCATTER2D",
        "not YAML",
    ),
    "no separator": (GOOD_SCATTER.replace("---\n", ""), 1, "SCATTER2D", "no '---' line"),
    "negative error": (
        GOOD_SCATTER.replace("\t0.1\t0.1", "\t-0.1\t0.1"),
        5,
        "SCATTER2D",
        "magnitudes",
    ),
    "no path": (
        "BEGIN YODA_SCATTER2D_V2\nEND YODA_SCATTER2D_V2\n",
        1,
        None,
        "names no object path",
    ),
    "twice": (GOOD_SCATTER + GOOD_SCATTER, 7, "SCATTER2D", "second object"),
    "breakdown point": (
        GOOD_SCATTER.replace("Path:", "ErrorBreakdown: {3: {stat: {dn: -1, up: 1}}}\nPath:"),
        2,
        "SCATTER2D",
        "names point 3",
    ),
    "breakdown entry": (
        GOOD_SCATTER.replace("Path:", "ErrorBreakdown: {0: {stat: 1}}\nPath:"),
        2,
        "SCATTER2D",
        "expected {dn: …, up: …}",
    ),
    "edges decrease": (
        YODA2.replace("[0.0, 1.0, 2.0, 4.0, 8.0]", "[0.0, 2.0, 1.0, 4.0, 8.0]"),
        7,
        "ESTIMATE1D /REF/TEST",
        "increase",
    ),
    "no edges": (
        YODA2.replace("Edges(A1): [0.0, 1.0, 2.0, 4.0, 8.0]\n", ""),
        1,
        "ESTIMATE1D",
        "no 'Edges(A1)",
    ),
    "rows": (
        YODA2.replace("5.0\t---\t---\t---\t---\t---\t---\n", ""),
        15,
        "ESTIMATE1D",
        "5 rows, but 4 bins need 6",
    ),
    "estimate columns": (
        YODA2.replace("10.0\t-1.0\t1.0\t", "10.0\t-1.0\t"),
        12,
        "ESTIMATE1D",
        "6 columns, expected 7",
    ),
    "half dashes": (
        YODA2.replace("20.0\t-2.0\t2.0", "20.0\t-2.0\t---"),
        13,
        "ESTIMATE1D",
        "one of errDn/errUp",
    ),
    "estimate V2": (YODA2.replace("_V3", "_V2"), 1, "ESTIMATE1D", "need a _V3 block"),
    "two-d": (
        YODA2.replace("MaskedBins: [3]", "Edges(A2): [0.0, 1.0]"),
        8,
        "ESTIMATE1D",
        "one-dimensional",
    ),
    "masked": (
        YODA2.replace("MaskedBins: [3]", "MaskedBins: [9]"),
        8,
        "ESTIMATE1D",
        "MaskedBins [9]",
    ),
    "labels twice": (YODA2.replace('"sys,jes"', '"stat"'), 9, "ESTIMATE1D", "repeat a label"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_yoda_names_file_line_and_block(tmp_path, case):
    text, line, block, message = BAD[case]
    path = write(tmp_path / "bad.yoda", text)
    with pytest.raises(ConfigError) as info:
        read_yoda(path)
    msg = str(info.value)
    assert msg.startswith(f"{path}, line {line}"), msg
    if block is not None:
        assert f"block YODA_{block}" in msg, msg
    assert message in msg, msg


def test_unreadable_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        read_yoda(tmp_path / "missing.yoda")
    (tmp_path / "bin.yoda").write_bytes(b"BEGIN \xff\xfe")
    with pytest.raises(ConfigError, match=r"not a YODA text file: byte 0xff at offset 6"):
        read_yoda(tmp_path / "bin.yoda")
    (tmp_path / "broken.yoda.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    with pytest.raises(ConfigError, match="does not decompress"):
        read_yoda(tmp_path / "broken.yoda.gz")


def test_measurement_errors_name_what_is_wrong(tmp_path):
    with pytest.raises(ConfigError, match=r"has 5 distributions; choose one with object="):
        read_yoda_measurement(ATLAS)
    with pytest.raises(ConfigError, match=r"no object 'd03-x01-y03'.*did you mean"):
        read_yoda_measurement(ATLAS, "d03-x01-y03")
    with pytest.raises(ConfigError, match=r"none of the labels \['error'\] is recognised"):
        read_yoda_measurement(ATLAS, "d02-x01-y01")
    with pytest.raises(ConfigError, match=r"stat= names 'nope', which is not an error label"):
        read_yoda_measurement(ATLAS, "d03-x01-y01", stat="nope")
    with pytest.raises(
        ConfigError,
        match=r"line 1, block YODA_SCATTER2D /REF/ATLAS_2020_I1790439/d01-x01-y01, bin 0 \[0.5, 1.5\): the statistical uncertainty \(total\) is zero",
    ):
        read_yoda_measurement(ATLAS, "d01-x01-y01", stat="total")
    histo = write(
        tmp_path / "h.yoda", "BEGIN YODA_HISTO1D_V2 /H\nPath: /H\n---\n0 1 2\nEND YODA_HISTO1D_V2\n"
    )
    assert read_yoda(histo)["/H"].kind == "HISTO1D"
    with pytest.raises(ConfigError, match=r"a HISTO1D cannot be read as a measurement"):
        read_yoda_measurement(histo, "/H")
    colon = write(tmp_path / "c.yoda", YODA2.replace("sys,jes", "a:b"))
    with pytest.raises(ConfigError, match=r"source 'a:b' contains ':'.*rename it with sources="):
        read_yoda_measurement(colon)
    with pytest.raises(ConfigError, match=r"relative= names 'x', which is not an error label"):
        read_yoda_measurement(colon, sources={"a:b": "ab"}, relative=["x"])


# ---------------------------------------------------------------------- YAML and combination
def _estimate_text(path: str, values, stat, sys_up, sys_down, edges) -> str:
    rows = ["nan\t---\t---\t---\t---"]
    for v, s, u, d in zip(values, stat, sys_up, sys_down, strict=True):
        v, s, u, d = (float(t) for t in (v, s, u, d))
        rows.append(f"{v!r}\t{-s!r}\t{s!r}\t{d!r}\t{u!r}")
    rows.append("nan\t---\t---\t---\t---")
    return "\n".join(
        [
            f"BEGIN YODA_ESTIMATE1D_V3 {path}",
            f"Path: {path}",
            "Type: Estimate1D",
            "---",
            f"Edges(A1): [{', '.join(map(repr, edges))}]",
            'ErrorLabels: ["stat", "sys,lumi"]',
            "# value\terrDn(1)\terrUp(1)\terrDn(2)\terrUp(2)",
            *rows,
            "END YODA_ESTIMATE1D_V3\n",
        ]
    )


def test_yaml_yoda_measurements_combine_as_gls(tmp_path):
    """Two YODA measurements of the same bins (given in another order of files), luminosity
    100 % correlated: the combination is the generalised least squares of the covariance
    written out here (conftest.gls)."""
    edges = [0.0, 1.0, 2.5, 4.0]
    xa, sa, la = np.array([10.0, 8.0, 5.0]), np.array([0.5, 0.4, 0.3]), np.array([0.3, 0.25, 0.2])
    xb, sb, lb = np.array([10.6, 7.7, 5.2]), np.array([0.6, 0.5, 0.3]), np.array([0.4, 0.3, 0.1])
    write(tmp_path / "a.yoda", _estimate_text("/REF/A/d01-x01-y01", xa, sa, la, -la, edges))
    write(tmp_path / "b.yoda", _estimate_text("/REF/B/d05-x01-y01", xb, sb, lb, -lb, edges))
    config = write(
        tmp_path / "c.yaml",
        """\
measurements:
  a: {yoda: {path: a.yoda}}
  b: {yoda: {path: b.yoda, object: d05-x01-y01, axis_unit: GeV}}
correlations:
  - {a: 'a:sys,lumi', b: 'b:lumi', rho: 1.0}
""",
    )
    spec = load_config(config)
    assert spec.binning.unit == "" and spec.binning.n_bins == 3
    result = spec.combiner().combine()
    y = np.concatenate([xa, xb])
    design = np.vstack([np.eye(3), np.eye(3)])
    lum = np.concatenate([la, lb])
    v = np.diag(np.concatenate([sa, sb]) ** 2) + np.outer(lum, lum)
    x, cov, _ = gls(y, design, v)
    np.testing.assert_allclose([result.values[o] for o in result.observables], x, rtol=1e-12)
    np.testing.assert_allclose(result.covariance.matrix, cov, rtol=1e-10)
    # the same measurements built by hand give the same numbers
    by_hand = Combiner(
        {
            n: Measurement.from_uncertainties(
                {f"bin{i}": xs[i] for i in range(3)},
                {f"bin{i}": ss[i] for i in range(3)},
                {"lumi": {f"bin{i}": ls[i] for i in range(3)}},
            )
            for n, xs, ss, ls in (("a", xa, sa, la), ("b", xb, sb, lb))
        },
        correlations={("a:lumi", "b:lumi"): 1.0},
    ).combine()
    np.testing.assert_allclose([by_hand.values[o] for o in by_hand.observables], x, rtol=1e-12)


def test_yaml_yoda_errors_point_at_the_key(tmp_path):
    write(tmp_path / "a.yoda", YODA2)
    cases = {
        "object: nope": ("object: nope", "no object 'nope'"),
        "missing": ("path: missing.yoda", "no YODA file"),
        "stat": ("stat: nope", "stat= names 'nope'"),
    }
    for key, (entry, message) in cases.items():
        config = write(
            tmp_path / "c.yaml",
            f"measurements:\n  a:\n    yoda:\n      path: a.yoda\n      {entry}\n"
            if key != "missing"
            else f"measurements:\n  a:\n    yoda:\n      {entry}\n",
        )
        with pytest.raises(ConfigError) as info:
            load_config(config)
        text = str(info.value)
        assert message in text, text
        assert re.search(r"c\.yaml, line [45]", text), text
    config = write(tmp_path / "c.yaml", "measurements:\n  a:\n    yoda: {path: a.yoda, nope: 1}\n")
    with pytest.raises(ConfigError, match=r"line 3.*nope"):
        load_config(config)
