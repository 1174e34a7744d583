"""YODA output (hepcombine.outputs.yoda): what is written reads back exactly, the combined
object carries the breakdown that adds up to the total, the inputs written and read back
combine to the same numbers, and what YODA cannot hold is refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import gls, write

from hepcombine import Binning, Combiner, Measurement
from hepcombine.cli import main
from hepcombine.exceptions import IntervalError, OutputError
from hepcombine.inputs import load_config
from hepcombine.inputs.yoda import read_yoda, read_yoda_measurement, yoda_objects
from hepcombine.outputs.yoda import (
    combination_object,
    combination_yoda,
    format_yoda,
    measurement_objects,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "yoda"


def _same(a, b):
    """Same path, kind, bins (YODA has no axis name or unit), values and errors."""
    assert (a.path, a.kind, a.bin_labels) == (b.path, b.kind, b.bin_labels)
    np.testing.assert_array_equal(a.binning.low, b.binning.low)
    np.testing.assert_array_equal(a.binning.high, b.binning.high)
    np.testing.assert_array_equal(a.values, b.values)
    assert list(a.errors) == list(b.errors)
    for lab in a.errors:
        for x, y in zip(a.errors[lab], b.errors[lab], strict=True):
            np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("name", ["ATLAS_2020_I1790439_excerpt.yoda", "MC_KROLL_WADA_m_ee.yoda"])
def test_real_files_round_trip_exactly(name):
    objects = read_yoda(DATA / name)
    again = yoda_objects(format_yoda(objects.values()))
    assert list(again) == list(objects)
    for path in objects:
        _same(objects[path], again[path])
        assert again[path].title == objects[path].title


def _pair() -> tuple[dict[str, Measurement], dict]:
    a = Measurement.from_uncertainties(
        {"b0": 10.0, "b1": 8.0, "b2": 5.0},
        {"b0": 0.5, "b1": 0.4, "b2": 0.3},
        {"lumi": {"b0": 0.3, "b1": 0.25, "b2": 0.2}, "jes": {"b0": 0.2, "b1": -0.1, "b2": 0.15}},
    )
    b = Measurement.from_uncertainties(
        {"b0": 10.6, "b1": 7.7, "b2": 5.2},
        {"b0": 0.6, "b1": 0.5, "b2": 0.3},
        {"lumi": {"b0": 0.4, "b1": 0.3, "b2": 0.1}},
    )
    return {"a": a, "b": b}, {("a:lumi", "b:lumi"): 1.0}


def test_combined_object_carries_the_breakdown_and_reads_back():
    ms, rho = _pair()
    result = Combiner(ms, correlations=rho).combine()
    binning = Binning.from_edges([0.0, 1.0, 2.5, 4.0], name="x", unit="GeV")
    obs = ["b0", "b1", "b2"]
    for fmt in ("yoda2", "yoda1"):
        obj = combination_object(result, obs, binning=binning, format=fmt, path="/REF/T/d01")
        back = yoda_objects(format_yoda([obj]))["/REF/T/d01"]
        _same(obj, back)
        assert list(back.errors) == ["stat", "sys,lumi", "sys,jes"]
        # a quadratic χ²: the components add up in quadrature to the symmetric error, which is
        # the GLS uncertainty of the covariance written out here
        y = np.array([10.0, 8.0, 5.0, 10.6, 7.7, 5.2])
        lum = np.array([0.3, 0.25, 0.2, 0.4, 0.3, 0.1])
        jes = np.array([0.2, -0.1, 0.15, 0, 0, 0])
        v = np.diag(np.array([0.5, 0.4, 0.3, 0.6, 0.5, 0.3]) ** 2) + np.outer(lum, lum)
        v += np.outer(jes, jes)
        x, cov, _ = gls(y, np.vstack([np.eye(3), np.eye(3)]), v)
        np.testing.assert_allclose(back.values, x, rtol=1e-12)
        total = np.sqrt(sum(u**2 for u, _ in back.errors.values()))
        np.testing.assert_allclose(total, np.sqrt(np.diag(cov)), rtol=1e-10)
        np.testing.assert_array_equal(back.binning.edges, [0.0, 1.0, 2.5, 4.0])
    # the profile interval as the total (exact here: ± the symmetric error)
    obj = combination_object(result, obs, binning=binning, errors="profile")
    u, d = obj.errors["total"]
    np.testing.assert_allclose(u, np.sqrt(np.diag(cov)), rtol=1e-9)
    np.testing.assert_allclose(d, -np.sqrt(np.diag(cov)), rtol=1e-9)
    # not a distribution: the observables' names are a discrete axis
    obj = combination_object(result)
    back = yoda_objects(format_yoda([obj]))[obj.path]
    assert back.kind == "BINNEDESTIMATE<S>" and back.bin_labels == ("b0", "b1", "b2")


def test_what_yoda_cannot_hold_is_refused():
    ms, _ = _pair()
    # an anti-correlation across groups gives a negative "correlations between groups" term
    result = Combiner(
        ms, correlations={("a:lumi", "b:lumi"): 0.5, ("a:jes", "b:lumi"): -0.8}
    ).combine()
    assert "correlations between groups" in result.breakdown.rows
    cross = [result.breakdown["correlations between groups", o] for o in result.observables]
    assert min(cross) < 0
    with pytest.raises(
        OutputError,
        match=r"'correlations between groups' has a negative variance.*errors='profile'",
    ):
        combination_object(result)
    combination_object(result, errors="hesse")  # the total is fine
    with pytest.raises(OutputError, match="starts with '/'"):
        combination_object(result, path="REF/x", errors="hesse")
    with pytest.raises(OutputError, match="format must be"):
        combination_object(result, format="yoda3", errors="hesse")  # type: ignore[arg-type]
    pearson = Combiner(ms, chi2="pearson").combine(intervals=False)
    with pytest.raises(IntervalError, match="no valid profile interval"):
        combination_object(pearson, errors="profile")


def test_gaps_are_masked_bins_and_read_back_as_gaps(tmp_path):
    ms, rho = _pair()
    result = Combiner(ms, correlations=rho).combine()
    binning = Binning(np.array([0.0, 1.0, 4.0]), np.array([1.0, 2.0, 8.0]))
    text = format_yoda(
        [combination_object(result, ["b0", "b1", "b2"], binning=binning, path="/T/g")]
    )
    assert "MaskedBins: [3]" in text
    back = yoda_objects(text)["/T/g"]
    np.testing.assert_array_equal(back.values[2], np.nan)
    dm_path = write(tmp_path / "g.yoda", text)
    dm = read_yoda_measurement(dm_path, stat="stat")
    np.testing.assert_array_equal(dm.binning.low, [0.0, 1.0, 4.0])
    np.testing.assert_array_equal(dm.binning.high, [1.0, 2.0, 8.0])


CONFIG = """\
measurements:
  a: {yoda: {path: a.yoda}}
  b: {yoda: {path: b.yoda}}
correlations:
  - {a: 'a:lumi', b: 'b:lumi', rho: 1.0}
"""


def test_write_read_combine_gives_the_same_numbers(tmp_path):
    """Inputs written as YODA (measurement_objects), read back as measurements and combined
    again give the combination of the original ones, to the last digit."""
    ms, rho = _pair()
    result = Combiner(ms, correlations=rho).combine()
    from hepcombine.spec import CombinationSpec

    spec = CombinationSpec(
        ms,
        observables={o: [f"a:{o}", f"b:{o}"] for o in ("b0", "b1", "b2")},
        correlations=rho,
        differential=True,
        binning=Binning.from_edges([0.0, 1.0, 2.5, 4.0]),
    )
    for fmt in ("yoda2", "yoda1"):
        objs = measurement_objects(spec, ["b0", "b1", "b2"], binning=spec.binning, format=fmt)
        assert [o.path for o in objs] == ["/REF/HEPCOMBINE/a", "/REF/HEPCOMBINE/b"]
        text = format_yoda(objs)
        for o in objs:
            write(tmp_path / f"{o.name}.yoda", format_yoda([o]))
        again = load_config(write(tmp_path / "c.yaml", CONFIG)).combiner().combine()
        for i, o in enumerate(result.observables):
            assert again.values[f"bin{i}"] == pytest.approx(result.values[o], rel=1e-14, abs=0)
        np.testing.assert_allclose(again.covariance.matrix, result.covariance.matrix, rtol=1e-12)
        assert again.chi2 == pytest.approx(result.chi2, rel=1e-11)
        assert "HepcombineNote" not in text  # orthogonal inputs: nothing left out
    # the whole file of a specification: combination and inputs
    text = combination_yoda(result, spec, analysis="MYANA")
    assert list(yoda_objects(text)) == [
        "/REF/MYANA/combined",
        "/REF/MYANA/a",
        "/REF/MYANA/b",
    ]
    with pytest.raises(OutputError, match="one word"):
        combination_yoda(result, spec, analysis="MY ANA")


def test_hessian_inputs_say_what_yoda_leaves_out():
    h = np.array([[2.0, 0.4, -0.5], [0.4, 3.0, 0.2], [-0.5, 0.2, 1.6]])
    m = Measurement.from_hessian(h, ["x0", "x1", "s"], {"x0": 1.0, "x1": 2.0})
    from hepcombine.spec import CombinationSpec

    spec = CombinationSpec(
        {"m": m}, differential=True, observables={"x0": ["m:x0"], "x1": ["m:x1"]}
    )
    (obj,) = measurement_objects(spec, ["x0", "x1"], binning=spec.binning)
    assert "statistical correlations" in obj.annotations["HepcombineNote"]
    assert "constraints on its sources" in obj.annotations["HepcombineNote"]


def test_cli_writes_yoda(tmp_path, capsys):
    _ms, _ = _pair()
    spec_yaml = write(
        tmp_path / "c.yaml",
        """\
measurements:
  a:
    estimates: {b0: 10.0, b1: 8.0}
    stat: {b0: 0.5, b1: 0.4}
    uncertainties: {lumi: {b0: 0.3, b1: 0.25}}
    binning: {edges: [0.0, 1.0, 2.5]}
  b:
    estimates: {b0: 10.6, b1: 7.7}
    stat: {b0: 0.6, b1: 0.5}
    uncertainties: {lumi: {b0: 0.4, b1: 0.3}}
    binning: {edges: [0.0, 1.0, 2.5]}
correlations:
  - {a: 'a:lumi', b: 'b:lumi', rho: 1.0}
""",
    )
    out = tmp_path / "out.yoda"
    code = main(["combine", str(spec_yaml), "--yoda", str(out), "--output-dir", str(tmp_path)])
    assert code == 0
    objects = read_yoda(out)
    assert list(objects) == ["/REF/HEPCOMBINE/combined", "/REF/HEPCOMBINE/a", "/REF/HEPCOMBINE/b"]
    result = load_config(spec_yaml).combiner().combine()
    combined = objects["/REF/HEPCOMBINE/combined"]
    np.testing.assert_array_equal(combined.values, [result.values[o] for o in result.observables])
    out1 = tmp_path / "out1.yoda"
    code = main(
        [
            "combine",
            str(spec_yaml),
            "--yoda",
            str(out1),
            "--yoda-format",
            "yoda1",
            "--yoda-errors",
            "profile",
            "--output-dir",
            str(tmp_path),
        ]
    )
    assert code == 0
    assert "BEGIN YODA_SCATTER2D_V2 /REF/HEPCOMBINE/combined" in out1.read_text()
    capsys.readouterr()


def _random_case(rng: np.random.Generator):
    """Measurements users meet: 1 to 150 bins, values from 1e-9 to 1e9, statistical errors from
    1e-8 to 10 of the value, asymmetric (also same-sign) and relative sources, ρ = ±1."""
    n = int(rng.choice([1, 3, 17, 150]))
    scale = 10.0 ** rng.uniform(-9, 9)
    truth = scale * rng.uniform(1.0, 3.0, n)
    measurements = {}
    relative: dict[str, list[str]] = {}
    for name in ("a", "b", "c")[: int(rng.integers(2, 4))]:
        rel_stat = 10.0 ** rng.uniform(-8, 1)
        stat = truth * rel_stat * rng.uniform(0.5, 1.5, n)
        systematics = {}
        for src in ("lumi", "jes", "pdf"):
            up = truth * rng.uniform(-0.05, 0.1, n)
            down = (
                -up * rng.uniform(0.5, 1.5, n) if src != "pdf" else up * rng.uniform(-1.5, 0.5, n)
            )
            systematics[src] = {f"b{i}": (float(up[i]), float(down[i])) for i in range(n)}
        rel = ["lumi"] if rng.random() < 0.5 else []
        relative[name] = rel
        x = truth + stat * rng.normal(size=n)
        measurements[name] = Measurement.from_uncertainties(
            {f"b{i}": float(x[i]) for i in range(n)},
            {f"b{i}": float(stat[i]) for i in range(n)},
            systematics,
            relative=rel,
            name=name,
        )
    names = list(measurements)
    rho = {(f"{m1}:lumi", f"{m2}:lumi"): 1.0 for i, m1 in enumerate(names) for m2 in names[i + 1 :]}
    rho[(f"{names[0]}:jes", f"{names[1]}:jes")] = float(rng.choice([-1.0, 0.5, 1.0]))
    return n, measurements, relative, rho


@pytest.mark.parametrize("seed", range(10))
def test_random_inputs_round_trip_through_yoda(tmp_path, seed):
    from hepcombine.spec import CombinationSpec

    rng = np.random.default_rng(1000 + seed)
    n, measurements, relative, rho = _random_case(rng)
    fmt = "yoda1" if seed % 2 else "yoda2"
    asymmetry = "smooth" if seed % 3 == 0 else "convino"
    obs = [f"b{i}" for i in range(n)]
    edges = np.cumsum(np.concatenate([[0.0], rng.uniform(0.5, 2.0, n)]))
    spec = CombinationSpec(
        measurements,
        observables={o: [f"{m}:{o}" for m in measurements] for o in obs},
        correlations=rho,
        differential=True,
        binning=Binning.from_edges(edges),
    )
    direct = Combiner(measurements, spec.observables, rho, asymmetry=asymmetry).combine(
        intervals=False
    )
    read = {}
    for obj in measurement_objects(spec, obs, binning=spec.binning, format=fmt):
        path = write(tmp_path / f"{obj.name}.yoda", format_yoda([obj]))
        dm = read_yoda_measurement(path, relative=relative[obj.name], bin_prefix="b")
        np.testing.assert_array_equal(dm.binning.low, edges[:-1])
        read[obj.name] = dm.measurement
    again = Combiner(read, spec.observables, rho, asymmetry=asymmetry).combine(intervals=False)
    for o in obs:
        assert again.values[o] == pytest.approx(direct.values[o], rel=1e-9, abs=0)
        assert again.errors[o] == pytest.approx(direct.errors[o], rel=1e-8)
    assert again.chi2 == pytest.approx(direct.chi2, rel=1e-8, abs=1e-9)
