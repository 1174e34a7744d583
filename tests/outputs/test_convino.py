"""The Convino writer (hepcombine.outputs.convino): write → read gives the same specification,
and what the format cannot express is a ConfigError (nothing written)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_same_spec
from convino_files import COV, NAMES, combination_files, shared_setup

from hepcombine.exceptions import ConfigError
from hepcombine.inputs.convino import read_convino
from hepcombine.outputs.convino import write_convino
from hepcombine.spec import CombinationSpec, ScanGroup


@pytest.fixture
def combination(tmp_path) -> Path:
    return combination_files(tmp_path)


def example_spec() -> CombinationSpec:
    from hepcombine.measurement import Measurement

    hess = Measurement.from_hessian(
        np.linalg.inv(COV),
        NAMES,
        {"xs0": 101.5, "xs1": 55.0},
        relative=["lumi"],
        nuisance_values={"jes": 0.2},
        name="hess",
    )
    mixed = Measurement.from_hessian(
        np.linalg.inv(COV) * 1.3,
        ["m0", "m1", "jes_m", "lumi_m"],
        {"m0": 99.0, "m1": 56.0},
        name="mixed",
    ).with_uncertainties({"extra": {"m0": (0.3, -0.1)}, "sym": {"m1": 0.2}}, relative=["sym"])
    mixed = Measurement(
        *(getattr(mixed, f) for f in ("estimate_names", "estimates", "source_names")),
        mixed.stat_information,
        mixed.shifts_up,
        mixed.shifts_down,
        mixed.source_information,
        np.array([0.1, -0.2, 0.0, 0.4]),  # pulls of fitted and orthogonal sources
        mixed.relative,
        mixed.name,
    )
    orth = Measurement.from_uncertainties(
        {"o0": 100.0, "o1": 54.0},
        {"o0": 3.0, "o1": 2.0},
        {"scale": {"o0": (-0.5, 0.25), "o1": 1.5}, "pdf": {"o0": 2.0}},
        relative=["pdf"],
        name="orth",
    )
    orth_corr = Measurement.from_uncertainties(
        {"p0": 100.0, "p1": 54.0},
        {"p0": 3.0, "p1": 2.0},
        {"pscale": {"p0": (0.5, -0.75)}},
        stat_correlation=[[1.0, 0.3], [0.3, 1.0]],
        name="orth_corr",
    )
    sigma = np.sqrt(np.diag(COV))
    corr = Measurement.from_correlation_matrix(
        COV / np.outer(sigma, sigma),
        sigma,
        ["c0", "c1", "jes_c", "lumi_c"],
        {"c0": 100.5, "c1": 55.5},
        name="corr",
    )
    ms = {m.name: m for m in (hess, mixed, orth, orth_corr, corr)}
    return CombinationSpec(
        measurements=ms,
        observables={
            "bin0": ["hess:xs0", "mixed:m0", "orth:o0", "orth_corr:p0", "corr:c0"],
            "bin1": ["hess:xs1", "mixed:m1", "orth:o1", "orth_corr:p1"],
        },
        correlations={
            ("hess:jes", "mixed:jes_m"): 0.8,
            ("hess:jes", "corr:jes_c"): 0.5,
            ("hess:lumi", "mixed:lumi_m"): 1.0,
            ("orth:scale", "mixed:extra"): -0.3,
        },
        scans=[
            ScanGroup(
                "jes", [("hess:jes", "mixed:jes_m", 0.5, 1.0), ("hess:jes", "corr:jes_c", 0, 1)]
            )
        ],
        impacts={"jes": ["hess:jes", "mixed:jes_m", "corr:jes_c"], "stat": ["stat"]},
        differential=True,
        normalise=True,
    )


def test_write_read_round_trip(tmp_path):
    spec = example_spec()
    base = write_convino(spec, tmp_path / "out")
    back = read_convino(base)
    assert_same_spec(spec, back, unordered_pairs=True)
    # the writer's rule: Hessian for fitted parts, [not fitted] for the orthogonal tail,
    # stat column only for orthogonal measurements with uncorrelated estimates
    blocks = {
        name: [b for b in ("[hessian]", "[not fitted]", "[nuisance values]") if b in text]
        for name in spec.measurements
        for text in [(tmp_path / "out" / f"{name}.txt").read_text()]
    }
    assert blocks == {
        "hess": ["[hessian]", "[nuisance values]"],
        "mixed": ["[hessian]", "[not fitted]", "[nuisance values]"],
        "orth": ["[not fitted]"],
        "orth_corr": ["[hessian]", "[not fitted]"],
        "corr": ["[hessian]"],
    }
    assert "(-0.5+0.25)" in (tmp_path / "out" / "orth.txt").read_text()
    # and again: the written files are a fixed point
    again = read_convino(write_convino(back, tmp_path / "again"))
    assert_same_spec(back, again, unordered_pairs=True)


def test_read_write_read_of_handwritten_files(combination, tmp_path):
    spec = read_convino(combination)
    assert_same_spec(spec, read_convino(write_convino(spec, tmp_path / "w")), unordered_pairs=True)


def test_shared_names_written_as_shared(tmp_path):
    spec = read_convino(shared_setup(tmp_path, "sharedNames = true"))
    base = write_convino(spec, tmp_path / "w")
    assert "sharedNames = true" in base.read_text()
    assert_same_spec(spec, read_convino(base), unordered_pairs=True)


def test_writer_refuses_what_convino_cannot_express(tmp_path):
    spec = example_spec()
    bad_group = ScanGroup(
        "x", [("hess:jes", "mixed:jes_m", 0, 1), ("orth:scale", "mixed:extra", 0, 1)]
    )
    with pytest.raises(ConfigError, match="share no source"):
        write_convino(CombinationSpec(**{**spec.__dict__, "scans": [bad_group]}), tmp_path / "a")
    # same-named sources of two measurements that are not fully correlated
    from hepcombine.measurement import Measurement

    m1 = Measurement.from_uncertainties({"x": 1.0}, {"x": 0.1}, {"lumi": {"x": 0.1}}, name="m1")
    m2 = Measurement.from_uncertainties({"y": 1.0}, {"y": 0.1}, {"lumi": {"y": 0.1}}, name="m2")
    two = CombinationSpec(
        {"m1": m1, "m2": m2}, {"x": ["m1:x", "m2:y"]}, {("m1:lumi", "m2:lumi"): 0.5}
    )
    with pytest.raises(ConfigError, match="'lumi'.*rename"):
        write_convino(two, tmp_path / "b")
    # an asymmetric source that the measurement's own fit constrains has no Convino form
    hess = spec.measurements["hess"]
    up = np.array(hess.shifts_up)
    up[0, 0] *= 2
    asym = Measurement(
        hess.estimate_names,
        hess.estimates,
        hess.source_names,
        hess.stat_information,
        up,
        hess.shifts_down,
        hess.source_information,
        hess.nuisance_values,
        hess.relative,
        "hess",
    )
    with pytest.raises(ConfigError, match=r"\['jes'\] are asymmetric"):
        write_convino(CombinationSpec({"hess": asym}), tmp_path / "c")


def test_lognormal_sources_written_as_lognormal(tmp_path):
    """``lognormal`` survives a write and a read, and the combination with it is unchanged."""
    spec = example_spec()
    name = next(n for n, m in spec.measurements.items() if m.source_names and not m.relative)
    m = spec.measurements[name]
    chosen = frozenset(m.source_names[:1])
    spec = dataclasses.replace(
        spec, measurements={**spec.measurements, name: dataclasses.replace(m, lognormal=chosen)}
    )
    base = write_convino(spec, tmp_path / "out")
    assert f"  {m.source_names[0]} = lognormal" in (tmp_path / "out" / f"{name}.txt").read_text()
    back = read_convino(base)
    assert back.measurements[name].lognormal == chosen
    # the same χ² definition (a Convino file's default is Pearson, a Python spec's Neyman)
    a, b = (s.combiner(chi2="pearson").combine() for s in (spec, back))
    assert b.values == pytest.approx(a.values, rel=1e-10)
    assert b.chi2 == pytest.approx(a.chi2, rel=1e-8, abs=1e-10)
