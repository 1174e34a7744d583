"""The HEPData writer: validated output, all-or-nothing writing, round trips through the reader,
and an end-to-end combination of two real records checked against generalised least squares
written out here."""

from __future__ import annotations

import os
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from hepdata_validator.full_submission_validator import FullSubmissionValidator
from hypothesis import given, settings
from hypothesis import strategies as st

from hepcombine import Combiner, Measurement
from hepcombine.binning import Binning, Qualifier, Quantity
from hepcombine.exceptions import HEPDataError, IntervalError, InvalidArgument
from hepcombine.inputs.hepdata import (
    HEPDataMatrix,
    read_hepdata,
    read_hepdata_matrix,
    read_hepdata_table,
)
from hepcombine.outputs import hepdata as writer
from hepcombine.outputs.hepdata import HEPDataOptions, prepare_hepdata, write_hepdata

DATA = Path(__file__).resolve().parents[2] / "data" / "hepdata"
LHCB = DATA / "lhcb_z_8tev_ee_mumu"

BINS = Binning.from_edges([0.0, 20.0, 50.0, 100.0, 200.0], name="pt", label="$p_T$", unit="GeV")
QUANTITY = Quantity(r"$d\sigma/dp_T$", "pb/GeV", (("SQRT(S)", "13", "TeV"),))


def two_measurements(asymmetric: bool = False) -> tuple[Measurement, Measurement, dict]:
    """Two 4-bin measurements with statistical correlations, a shared luminosity (ρ = 1) and
    own shape systematics; every input also returned as plain arrays for the GLS below."""
    rng = np.random.default_rng(7)
    truth = np.array([10.0, 6.0, 2.0, 0.5])
    out = {}
    ms = []
    for name, lumi in (("A", 0.02), ("B", 0.025)):
        stat = truth * rng.uniform(0.02, 0.06, 4)
        rho = np.eye(4) + 0.2 * (np.eye(4, k=1) + np.eye(4, k=-1))
        x = truth * (1 + rng.normal(0, 0.03, 4))
        shape = truth * rng.uniform(-0.04, 0.04, 4)
        syst = {"lumi": lumi * x, "shape": shape}
        est = [f"b{i}" for i in range(4)]
        systematics = {s: dict(zip(est, u.tolist(), strict=True)) for s, u in syst.items()}
        if asymmetric:
            systematics["shape"] = {e: (u, -0.6 * u) for e, u in zip(est, shape, strict=True)}
        ms.append(
            Measurement.from_uncertainties(
                dict(zip(est, x, strict=True)),
                dict(zip(est, stat, strict=True)),
                systematics,
                stat_correlation=rho,
                name=name,
            )
        )
        out[name] = {"x": x, "stat": np.outer(stat, stat) * rho, **syst}
    return ms[0], ms[1], out


def gls(parts: dict) -> tuple[np.ndarray, np.ndarray]:
    """Generalised least squares of the two measurements of the same 4 values: lumi fully
    correlated between A and B, everything else uncorrelated between them."""
    a, b = parts["A"], parts["B"]
    v_aa = a["stat"] + np.outer(a["lumi"], a["lumi"]) + np.outer(a["shape"], a["shape"])
    v_bb = b["stat"] + np.outer(b["lumi"], b["lumi"]) + np.outer(b["shape"], b["shape"])
    v_ab = np.outer(a["lumi"], b["lumi"])
    v = np.block([[v_aa, v_ab], [v_ab.T, v_bb]])
    design = np.vstack([np.eye(4), np.eye(4)])
    y = np.concatenate([a["x"], b["x"]])
    w = np.linalg.inv(v)
    cov = np.linalg.inv(design.T @ w @ design)
    return cov @ design.T @ w @ y, cov


def combine(asymmetric: bool = False):
    """The GLS combination, or (``asymmetric``) a non-quadratic one with a Pearson χ² and
    asymmetric shifts, whose profile intervals are asymmetric."""
    a, b, parts = two_measurements(asymmetric)
    result = Combiner(
        [a, b],
        observables={f"b{i}": [f"A:b{i}", f"B:b{i}"] for i in range(4)},
        correlations={("A:lumi", "B:lumi"): 1.0},
        chi2="pearson" if asymmetric else "neyman",
    ).combine()
    return result, parts


def test_combination_under_test_is_the_gls_one():
    result, parts = combine()
    x, cov = gls(parts)
    names = [f"b{i}" for i in range(4)]
    np.testing.assert_allclose([result.values[n] for n in names], x, rtol=1e-9)
    np.testing.assert_allclose(result.covariance.sub(names).matrix, cov, rtol=1e-8)


def test_written_submission_is_valid_and_complete(tmp_path, monkeypatch):
    result, _ = combine()
    monkeypatch.chdir(tmp_path)  # hepdata_lib's create_files would leave submission.tar.gz here
    out = write_hepdata(
        result, tmp_path / "out" / "combined", HEPDataOptions(binning=BINS, quantity=QUANTITY)
    )
    assert out.directory == tmp_path / "out" / "combined"
    assert out.archive == tmp_path / "out" / "combined.tar.gz"
    assert sorted(os.listdir(tmp_path)) == ["out"]
    assert sorted(os.listdir(tmp_path / "out")) == ["combined", "combined.tar.gz"]
    assert sorted(os.listdir(out.directory)) == [
        "combination.yaml",
        "combination_correlation.yaml",
        "combination_covariance.yaml",
        "submission.yaml",
    ]
    for kwargs in ({"directory": str(out.directory)}, {"archive": str(out.archive)}):
        validator = FullSubmissionValidator()
        assert validator.validate(**kwargs), validator.get_messages()
    with tarfile.open(out.archive) as tar:
        assert sorted(tar.getnames()) == sorted(os.listdir(out.directory))
    with open(out.directory / "submission.yaml", encoding="utf-8") as fh:
        docs = [d for d in yaml.safe_load_all(fh) if d]
    assert [d.get("name") for d in docs[1:]] == list(out.tables)


def test_round_trip_reproduces_values_errors_breakdown_covariance(tmp_path):
    result, _ = combine(asymmetric=True)  # non-quadratic: profile intervals are asymmetric
    names = list(result.observables)
    out = write_hepdata(result, tmp_path / "sub", HEPDataOptions(binning=BINS, quantity=QUANTITY))
    values = np.array([result.values[n] for n in names])
    lo = np.array([result.interval(n)[0] for n in names])
    hi = np.array([result.interval(n)[1] for n in names])
    assert np.all(np.abs((hi - values) + (lo - values)) > 1e-3 * (hi - lo))
    total = read_hepdata_table(out.directory, "Combination", 0)
    assert total.binning == BINS.select(range(4)) or total.binning.same_bins(BINS)
    assert total.binning.unit == "GeV" and total.binning.label == "$p_T$"
    assert total.quantity.unit == "pb/GeV" and ("SQRT(S)", "13", "TeV") in total.quantity.qualifiers
    np.testing.assert_allclose(total.values, values, rtol=1e-6)
    np.testing.assert_allclose(total.errors["total"][0], hi - values, rtol=1e-6)
    np.testing.assert_allclose(total.errors["total"][1], lo - values, rtol=1e-6)
    parts = read_hepdata_table(out.directory, "Combination", 1)
    assert list(parts.errors) == list(result.breakdown.rows)
    for comp in result.breakdown.rows:
        want = [result.breakdown[comp][n] for n in names]
        np.testing.assert_allclose(parts.errors[comp][0], want, rtol=1e-6)
    cov = read_hepdata_matrix(out.directory, "Combination covariance", binning=total.binning)
    np.testing.assert_allclose(cov, result.covariance.sub(names).matrix, rtol=1e-6)
    corr = read_hepdata_matrix(out.directory, "Combination correlation", binning=total.binning)
    np.testing.assert_allclose(corr, result.correlation.sub(names).matrix, rtol=1e-6, atol=1e-12)
    # read back as a measurement (for a later combination): the published covariance exactly.
    # Its statistical part is correlated between bins, so "total minus stat" is not a valid
    # covariance (a named error); the whole matrix is taken as the measurement's covariance.
    with pytest.raises(HEPDataError, match="probably correlated between bins"):
        read_hepdata(
            out.directory,
            "Combination",
            1,
            matrices=[HEPDataMatrix("total", "covariance", "Combination covariance")],
        )
    again = read_hepdata(
        out.directory,
        "Combination",
        1,
        sources=dict.fromkeys(parts.errors),
        stat=[],
        matrices=[HEPDataMatrix("stat", "covariance", "Combination covariance")],
    )
    np.testing.assert_allclose(again.measurement.estimates, values, rtol=1e-6)
    np.testing.assert_allclose(
        again.measurement.covariance, result.covariance.sub(names).matrix, rtol=1e-6
    )


def test_digits_control_the_written_precision(tmp_path):
    result, _ = combine()
    names = list(result.observables)
    values = np.array([result.values[n] for n in names])
    errs = {}
    for digits in (5, 10):
        out = write_hepdata(
            result, tmp_path / f"d{digits}", HEPDataOptions(binning=BINS, digits=digits)
        )
        back = read_hepdata_table(out.directory, 0, 0).values
        errs[digits] = np.max(np.abs(back / values - 1))
    assert 1e-8 < errs[5] < 1e-4  # hepdata_lib's default 5 digits loses precision
    assert errs[10] < 1e-9


def test_hesse_errors_and_subsets(tmp_path):
    result, _ = combine()
    out = write_hepdata(
        result,
        tmp_path / "s",
        HEPDataOptions(
            observables=["b2", "b0"],
            errors="hesse",
            breakdown=False,
            correlation=False,
            name="Two bins",
        ),
    )
    assert out.tables == ("Two bins", "Two bins covariance")
    back = read_hepdata_table(out.directory, "Two bins")
    assert back.binning.is_index is False and back.binning.low.tolist() == [0.0, 1.0]
    np.testing.assert_allclose(back.values, [result.values["b2"], result.values["b0"]], rtol=1e-9)
    np.testing.assert_allclose(
        back.errors["total"][0], [result.errors["b2"], result.errors["b0"]], rtol=1e-9
    )
    cov = read_hepdata_matrix(out.directory, "Two bins covariance", binning=back.binning)
    np.testing.assert_allclose(cov, result.covariance.sub(["b2", "b0"]).matrix, rtol=1e-9)


def test_invalid_intervals_need_hesse(tmp_path):
    a, b, _ = two_measurements(asymmetric=True)
    mapping = {f"b{i}": [f"A:b{i}", f"B:b{i}"] for i in range(4)}
    result = Combiner([a, b], observables=mapping).combine(intervals=False)
    with pytest.raises(IntervalError, match="errors='hesse'"):
        write_hepdata(result, tmp_path / "x", HEPDataOptions(binning=BINS))
    assert not (tmp_path / "x").exists()


def test_bad_requests_write_nothing(tmp_path):
    result, _ = combine()
    with pytest.raises(HEPDataError, match="at most 64"):
        write_hepdata(
            result, tmp_path / "a", HEPDataOptions(name="x" * 60)
        )  # "… covariance" is too long
    with pytest.raises(HEPDataError, match="cannot be a file name"):
        write_hepdata(result, tmp_path / "a", HEPDataOptions(name="a/b"))
    with pytest.raises(HEPDataError, match="4 observables but the binning has 2"):
        write_hepdata(result, tmp_path / "a", HEPDataOptions(binning=Binning.from_edges([0, 1, 2])))
    assert os.listdir(tmp_path) == []
    first = write_hepdata(result, tmp_path / "a", HEPDataOptions(binning=BINS))
    before = (first.directory / "combination.yaml").read_text()
    with pytest.raises(HEPDataError, match="exists; pass overwrite=True"):
        write_hepdata(result, tmp_path / "a", HEPDataOptions(binning=BINS, name="Other"))
    assert sorted(os.listdir(first.directory))[0] == "combination.yaml"
    assert (first.directory / "combination.yaml").read_text() == before
    again = write_hepdata(
        result, tmp_path / "a", HEPDataOptions(binning=BINS, name="Other"), overwrite=True
    )
    assert "other.yaml" in os.listdir(again.directory) and "combination.yaml" not in os.listdir(
        again.directory
    )
    assert sorted(os.listdir(tmp_path)) == ["a", "a.tar.gz"]  # no staging or backup left


def test_one_options_object_for_building_and_writing(tmp_path):
    """prepare_hepdata and write_hepdata take the same HEPDataOptions (no repeated keyword
    lists); the options are checked when made, frozen, and equal by value."""
    import dataclasses
    import inspect

    assert list(inspect.signature(prepare_hepdata).parameters) == ["result", "options"]
    assert list(inspect.signature(write_hepdata).parameters) == [
        "result",
        "directory",
        "options",
        "archive",
        "overwrite",
        "validate",
    ]
    result, _ = combine()
    options = HEPDataOptions(binning=BINS, qualifiers=[("SQRT(S)", "13000", "GeV")], digits=7)
    assert options.qualifiers == (Qualifier("SQRT(S)", "13000", "GeV"),)
    assert options == HEPDataOptions(
        binning=BINS, qualifiers=[Qualifier("SQRT(S)", "13000", "GeV")], digits=7
    )
    assert options.tables == ("Combination", "Combination covariance", "Combination correlation")
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.digits = 3  # type: ignore[misc]
    assert prepare_hepdata(result, options).tables == options.tables
    out = write_hepdata(result, tmp_path / "s", options)
    back = read_hepdata_table(out.directory, "Combination", 0)
    assert back.quantity.qualifiers == (Qualifier("SQRT(S)", "13000", "GeV"),)
    for bad, error, match in [
        (dict(errors="minos"), HEPDataError, "errors must be 'profile' or 'hesse'"),
        (dict(digits=0), HEPDataError, "digits must be an integer from 1 to 17"),
        (dict(qualifiers=["SQRT(S)"]), HEPDataError, "a qualifier is"),
        (dict(observables="b0"), InvalidArgument, "a list of names"),
        (dict(binning=[0, 1, 2]), InvalidArgument, "binning must be a Binning"),
    ]:
        with pytest.raises(error, match=match):
            HEPDataOptions(**bad)
    # the 0.1 call with the observables third is a clear error, not a wrong submission
    with pytest.raises(InvalidArgument, match="fields of HEPDataOptions"):
        write_hepdata(result, tmp_path / "old", ["b0", "b1"])  # type: ignore[arg-type]
    assert not (tmp_path / "old").exists()


def test_missing_hepdata_lib_is_a_one_line_error(tmp_path, monkeypatch):
    result, _ = combine()
    monkeypatch.setitem(sys.modules, "hepdata_lib", None)  # as if not installed
    with pytest.raises(HEPDataError, match=r'pip install "hepcombine\[hepdata\]"'):
        write_hepdata(result, tmp_path / "a")
    assert not (tmp_path / "a").exists()


# ---------------------------------------------------------------------- end to end
def test_lhcb_ee_mumu_read_combined_written_read_back_equals_gls(tmp_path):
    """LHCb 8 TeV Z rapidity, ee (dσ/dy) and μμ (σ per bin ÷ bin width), 17 common bins.

    Assumed correlations: the luminosity fully correlated between the channels (one
    luminosity for both data sets); every other source uncorrelated between the channels; within
    a channel ``sys,uncorr`` is independent bin by bin, the other sources fully correlated
    between bins, statistical uncertainties uncorrelated.
    """
    ee_path = LHCB / "ee_ins1347133" / "Table2.yaml"
    mm_path = LHCB / "mumu_ins1406555" / "HEPData-ins1406555-v1-Table_2.yaml"
    ee = read_hepdata(ee_path, variable=0, name="ee", uncorrelated=["sys,uncorr"])
    mm = read_hepdata(mm_path, variable=0, name="mm", per_bin_width=True, drop_bins=[17])
    assert ee.binning.same_bins(mm.binning)
    result = Combiner(
        {"ee": ee.measurement, "mm": mm.measurement},
        observables={f"y{i}": [f"ee:bin{i}", f"mm:bin{i}"] for i in range(17)},
        correlations={("ee:lumi", "mm:lumi"): 1.0},
    ).combine()

    # GLS from the YAML, read here independently
    def columns(path):
        with open(path, encoding="utf-8") as fh:
            table = yaml.safe_load(fh)
        dv, iv = table["dependent_variables"][0], table["independent_variables"][0]
        width = np.array([v["high"] - v["low"] for v in iv["values"]])[:17]
        x = np.array([v["value"] for v in dv["values"]])[:17]
        errs = {}
        for v in dv["values"][:17]:
            for e in v["errors"]:
                errs.setdefault(e["label"], []).append(e["symerror"])
        return x, {k: np.array(u) for k, u in errs.items()}, width

    x_ee, e_ee, _ = columns(ee_path)
    x_mm, e_mm, w = columns(mm_path)
    x_mm, e_mm = x_mm / w, {k: u / w for k, u in e_mm.items()}
    v_ee = np.diag(e_ee["stat"] ** 2 + e_ee["sys,uncorr"] ** 2)
    v_ee += np.outer(e_ee["sys,corr"], e_ee["sys,corr"]) + np.outer(
        e_ee["sys,lumi"], e_ee["sys,lumi"]
    )
    v_mm = np.diag(e_mm["stat"] ** 2)
    for k in ("sys", "sys,beam", "sys,lumi"):
        v_mm += np.outer(e_mm[k], e_mm[k])
    cross = np.outer(e_ee["sys,lumi"], e_mm["sys,lumi"])
    v = np.block([[v_ee, cross], [cross.T, v_mm]])
    design = np.vstack([np.eye(17), np.eye(17)])
    wv = np.linalg.inv(v)
    cov = np.linalg.inv(design.T @ wv @ design)
    x = cov @ design.T @ wv @ np.concatenate([x_ee, x_mm])

    names = [f"y{i}" for i in range(17)]
    np.testing.assert_allclose([result.values[n] for n in names], x, rtol=1e-9)
    np.testing.assert_allclose(result.covariance.sub(names).matrix, cov, rtol=1e-8)

    out = write_hepdata(
        result,
        tmp_path / "lhcb",
        HEPDataOptions(
            observables=names, binning=ee.binning, quantity=ee.quantity, name="Z rapidity"
        ),
    )
    assert FullSubmissionValidator().validate(archive=str(out.archive))
    back = read_hepdata_table(out.directory, "Z rapidity", 0)
    assert back.binning.same_bins(ee.binning) and back.quantity.unit == "pb"
    np.testing.assert_allclose(back.values, x, rtol=1e-6)
    np.testing.assert_allclose(back.errors["total"][0], np.sqrt(np.diag(cov)), rtol=1e-6)
    back_cov = read_hepdata_matrix(out.directory, "Z rapidity covariance", binning=back.binning)
    np.testing.assert_allclose(back_cov, cov, rtol=1e-6)


# ---------------------------------------------------------------------- the data-file text

TEXT = st.text(
    st.characters(blacklist_categories=("Cs",)),  # lone surrogates cannot be UTF-8 at all
    max_size=12,
)
NUMBER = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(10**12), 10**12),
    st.sampled_from([0.0, -0.0, 1e-300, 5e-324, 1e22, 1e16, 0.1, 1e-05, -2.5e-07]),
)


@st.composite
def data_files(draw):
    """Data files as hepdata_lib's make_dict makes them: binned and unbinned independent
    variables, dependent variables with qualifiers and symmetric/asymmetric labelled errors,
    names and labels with LaTeX, quotes, colons, '%', unicode."""

    def header():
        h = {"name": draw(TEXT)}
        if draw(st.booleans()):
            h["units"] = draw(TEXT)
        return h

    n = draw(st.integers(0, 4))
    ivs = []
    for _ in range(draw(st.integers(1, 2))):
        binned = draw(st.booleans())
        values = [
            {"low": draw(NUMBER), "high": draw(NUMBER)}
            if binned
            else {"value": draw(st.one_of(NUMBER, TEXT))}
            for _ in range(n)
        ]
        ivs.append({"header": header(), "values": values})
    dvs = []
    for _ in range(draw(st.integers(0, 2))):
        var = {"header": header()}
        if draw(st.booleans()):
            var["qualifiers"] = [
                {"name": draw(TEXT), "value": draw(st.one_of(TEXT, NUMBER)), "units": draw(TEXT)}
                for _ in range(draw(st.integers(1, 2)))
            ]
        values = []
        for _ in range(n):
            item = {"value": draw(NUMBER)}
            errors = []
            for _ in range(draw(st.integers(0, 2))):
                if draw(st.booleans()):
                    errors.append({"symerror": draw(NUMBER), "label": draw(TEXT)})
                else:
                    errors.append(
                        {
                            "asymerror": {"minus": draw(NUMBER), "plus": draw(NUMBER)},
                            "label": draw(TEXT),
                        }
                    )
            if errors:
                item = {"errors": errors, **item}
            values.append(item)
        var["values"] = values
        dvs.append(var)
    return {"independent_variables": ivs, "dependent_variables": dvs}


@settings(max_examples=300, deadline=None)
@given(data_files())
def test_data_file_text_reads_back_as_the_data(data):
    """PyYAML (the validator's and HEPData's loader) reads the text back as exactly the data:
    floats stay floats (YAML 1.1 reads '1e-05' as a string), strings stay strings."""
    text = writer._data_file_text(data)
    assert yaml.safe_load(text) == data
    assert yaml.load(text, Loader=yaml.CSafeLoader) == data


def test_data_file_text_has_the_layout_of_the_records():
    data = {
        "independent_variables": [
            {"header": {"name": "$y$"}, "values": [{"low": 2.0, "high": 2.125}]}
        ],
        "dependent_variables": [
            {
                "header": {"name": "dσ/dy", "units": "pb"},
                "qualifiers": [{"name": "SQRT(S)", "value": "8000.0", "units": "GeV"}],
                "values": [{"errors": [{"symerror": 0.37, "label": "stat"}], "value": 8.27}],
            }
        ],
    }
    assert writer._data_file_text(data) == (
        "independent_variables:\n"
        '- header: {name: "$y$"}\n'
        "  values:\n"
        "  - {low: 2.0, high: 2.125}\n"
        "dependent_variables:\n"
        '- header: {name: "dσ/dy", units: "pb"}\n'
        "  qualifiers:\n"
        '  - {name: "SQRT(S)", value: "8000.0", units: "GeV"}\n'
        "  values:\n"
        "  - errors:\n"
        '    - {symerror: 0.37, label: "stat"}\n'
        "    value: 8.27\n"
    )


def test_overwrite_replaces_only_a_submission_directory(tmp_path):
    result, _ = combine()
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("precious")
    with pytest.raises(HEPDataError, match="not a directory hepcombine may replace"):
        write_hepdata(result, home, HEPDataOptions(binning=BINS), overwrite=True)
    assert os.listdir(home) == ["thesis.tex"] and sorted(os.listdir(tmp_path)) == ["home"]


def test_numbered_bins_name_the_observables(tmp_path):
    """A combination that is not a distribution: one numbered bin per observable, and the
    description says which is which."""
    result, _ = combine()
    out = write_hepdata(
        result, tmp_path / "s", HEPDataOptions(observables=["b3", "b1"], breakdown=False)
    )
    with open(out.directory / "submission.yaml", encoding="utf-8") as fh:
        docs = [d for d in yaml.safe_load_all(fh) if d]
    assert (
        "The bins are the combined observables in order (0: b3, 1: b1)." in docs[1]["description"]
    )
    assert read_hepdata_table(out.directory, "Combination").binning.is_index is False


def test_a_data_file_too_large_for_hepdata_is_an_error(tmp_path, monkeypatch):
    """HEPData accepts at most 10 MiB per data file (about 350 bins for a matrix table); the
    limit is lowered here so that the 4-bin matrices exceed it."""
    result, _ = combine()
    monkeypatch.setattr(writer, "_FILE_LIMIT", 1500)
    with pytest.raises(
        HEPDataError,
        match=r"table 'Combination covariance' would be a data file of .* MiB; HEPData accepts at most",
    ):
        write_hepdata(result, tmp_path / "big", HEPDataOptions(binning=BINS), validate=False)
    assert os.listdir(tmp_path) == []
    out = write_hepdata(
        result, tmp_path / "big", HEPDataOptions(binning=BINS, covariance=False, correlation=False)
    )
    assert out.tables == ("Combination",)
