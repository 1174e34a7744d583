"""The HEPData reader on real records (data/hepdata/, copies of ../shared/data/hepdata/).

Every number is checked against the YAML file read independently here (PyYAML's safe loader,
libyaml's C parser where PyYAML has it: the same documents, ten times faster than its Python
parser; and arithmetic written in the test), never against the reader's own helpers.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from hepcombine.exceptions import HepCombineError, HEPDataError
from hepcombine.inputs.hepdata import (
    HEPDataBreakdown,
    HEPDataMatrix,
    hepdata_tables,
    read_hepdata,
    read_hepdata_matrix,
    read_hepdata_table,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "hepdata"
TT8 = DATA / "ttbar_8tev_toppt_atlas_cms"
ATLAS8 = TT8 / "atlas_ins1404878"
CMS8 = TT8 / "cms_ins1370682"
WMU = DATA / "cms_wmu_8tev_joint_cov"
WEL = DATA / "cms_wel_7tev_gap_bins"
LHCB = DATA / "lhcb_z_8tev_ee_mumu"
TT13 = DATA / "ttbar_13tev_atlas_cms"
VAL = DATA / "hepdata_validator_testsuite"
JSON = DATA / "hepdata_net_json_pyconvino"


# ---------------------------------------------------------------------- independent helpers
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=SAFE_LOADER)


def absolute(entry, value: float) -> float:
    """A HEPData uncertainty entry in absolute units (percent of ``value``; '' is 0)."""
    if entry == "" or entry is None:
        return 0.0
    if isinstance(entry, str) and entry.strip().endswith("%"):
        return float(entry.strip()[:-1]) / 100.0 * value
    return float(entry)


def label_name(label: str) -> str:
    text = " ".join(label.split())
    return text[4:] if text.lower().startswith("sys,") else text


def expected_shifts(dv: dict) -> tuple[list[float], dict[str, list[tuple[float, float]]]]:
    """Values and {source: [(up, down) per bin]} of a dependent variable, straight from YAML."""
    values = [float("nan") if v["value"] == "-" else float(v["value"]) for v in dv["values"]]
    out: dict[str, list[tuple[float, float]]] = {}
    for i, item in enumerate(dv["values"]):
        for e in item.get("errors", []):
            name = label_name(e["label"])
            if "symerror" in e:
                s = absolute(e["symerror"], values[i])
                pair = (s, -s)
            else:
                pair = (
                    absolute(e["asymerror"]["plus"], values[i]),
                    absolute(e["asymerror"]["minus"], values[i]),
                )
            out.setdefault(name, [(0.0, 0.0)] * len(values))
            out[name] = [*out[name][:i], pair, *out[name][i + 1 :]]
    return values, out


def shifts_of(m, source: str) -> tuple[np.ndarray, np.ndarray]:
    j = m.source_names.index(source)
    return m.shifts_up[:, j], m.shifts_down[:, j]


def stat_sigma(m) -> np.ndarray:
    return np.sqrt(np.diag(np.linalg.inv(m.stat_information)))


def stat_correlation(m) -> np.ndarray:
    cov = np.linalg.inv(m.stat_information)
    s = np.sqrt(np.diag(cov))
    return cov / np.outer(s, s)


def flattened(path: Path, key) -> dict:
    """{(key(row IV value), key(column IV value)): entry} of a flattened matrix table."""
    d = load(path)
    iv1, iv2 = d["independent_variables"]
    dv = d["dependent_variables"][0]
    return {
        (key(a), key(b)): float(v["value"])
        for a, b, v in zip(iv1["values"], iv2["values"], dv["values"], strict=True)
    }


# ---------------------------------------------------------------------- ATLAS 8 TeV tt̄ v2
def test_atlas_8tev_signed_asymmetric_percent_sources_and_index_correlation():
    table = load(ATLAS8 / "Table_30.yaml")
    dv = table["dependent_variables"][1]
    values, sources = expected_shifts(dv)
    corr = flattened(ATLAS8 / "Table_100.yaml", lambda v: int(v["value"]))
    d = read_hepdata(
        ATLAS8,
        "Table 30",
        "DSIG/DPT_TOP (breakdown of systematics)",
        matrices=[HEPDataMatrix("stat", "correlation", "Table 100")],
        drop_bins=[7],
    )
    m = d.measurement
    assert d.n_bins == 7 and m.estimate_names == tuple(f"bin{i}" for i in range(7))
    np.testing.assert_allclose(m.estimates, values[:7], rtol=1e-12)
    stat = sources.pop("stat")
    np.testing.assert_allclose(stat_sigma(m), [u for u, _ in stat[:7]], rtol=1e-10)
    assert len(sources) == 55 and set(m.source_names) == set(sources)
    opposite = 0
    for name, pairs in sources.items():
        up, down = shifts_of(m, name)
        np.testing.assert_allclose(up, [p[0] for p in pairs[:7]], rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(down, [p[1] for p in pairs[:7]], rtol=1e-12, atol=1e-300)
        opposite += sum(p[0] < 0 < p[1] for p in pairs[:7])
    assert opposite > 100  # plus < 0 < minus is kept as written
    want = np.array([[corr[(i + 1, j + 1)] for j in range(7)] for i in range(7)])
    np.testing.assert_allclose(stat_correlation(m), want, atol=1e-12)
    assert (
        d.binning.low.tolist()
        == [v["low"] for v in table["independent_variables"][0]["values"]][:7]
    )
    assert d.binning.unit == "GeV" and d.binning.label == "PT_TOP"
    assert d.quantity.qualifiers[0].value == "8000.0" and d.quantity.qualifiers[0].unit == "GeV"
    assert "ins1404878" in d.origin


def test_atlas_8tev_normalised_stat_correlation_is_singular():
    with pytest.raises(HEPDataError, match=r"singular.*drop_bins=\[7\]") as err:
        read_hepdata(
            ATLAS8 / "Table_30.yaml",
            variable=1,
            matrices=[HEPDataMatrix("stat", "correlation", "Table_100.yaml")],
        )
    assert "Table_100.yaml" in str(err.value) and "bin " in str(err.value)


def test_atlas_8tev_syst_correlation_becomes_eigen_sources():
    table = load(ATLAS8 / "Table_30.yaml")
    _values, sources = expected_shifts(table["dependent_variables"][0])
    rho = flattened(ATLAS8 / "Table_102.yaml", lambda v: int(v["value"]))
    d = read_hepdata(
        ATLAS8 / "Table_30.yaml",
        variable="1/SIG*DSIG/DPT_TOP",
        matrices=[
            HEPDataMatrix("stat", "correlation", "Table_100.yaml"),
            HEPDataMatrix("syst", "correlation", "Table_102.yaml"),
        ],
        drop_bins=[0],
    )
    m = d.measurement
    keep = range(1, 8)
    assert m.estimate_names == tuple(f"bin{i}" for i in keep)
    sys = np.array([0.5 * (sources["sys"][i][0] - sources["sys"][i][1]) for i in keep])
    want = np.array([[rho[(i + 1, j + 1)] for j in keep] for i in keep]) * np.outer(sys, sys)
    u = m.shifts  # symmetric eigen sources
    assert all(s.startswith("cov") for s in m.source_names)
    np.testing.assert_allclose(u @ u.T, want, rtol=1e-9, atol=1e-12 * np.abs(want).max())


# ---------------------------------------------------------------------- CMS 8 TeV tt̄
def test_cms_8tev_transposed_breakdown_and_edge_indexed_stat_covariance():
    t15 = load(CMS8 / "Table15.yaml")
    values = [v["value"] for v in t15["dependent_variables"][0]["values"]]
    edges = [(v["low"], v["high"]) for v in t15["independent_variables"][0]["values"]]
    cov = flattened(CMS8 / "Table16.yaml", lambda v: (v["low"], v["high"]))
    t17 = load(CMS8 / "Table17.yaml")
    names = [v["value"] for v in t17["independent_variables"][0]["values"]]
    d = read_hepdata(
        CMS8 / "Table15.yaml",
        matrices=[HEPDataMatrix("stat", "covariance", "Table16.yaml")],
        breakdown=HEPDataBreakdown("Table17.yaml"),
        drop_bins=[7],
    )
    m = d.measurement
    assert m.source_names == tuple(names)  # LEP, JES, ...; the total 'sys' is replaced
    np.testing.assert_allclose(m.estimates, values[:7], rtol=1e-12)
    want = np.array([[cov[(edges[i], edges[j])] for j in range(7)] for i in range(7)])
    np.testing.assert_allclose(m.stat_covariance, want, rtol=1e-9)
    for k, dv in enumerate(t17["dependent_variables"][:7]):
        for s, entry in zip(names, dv["values"], strict=True):
            up, down = shifts_of(m, s)
            assert up[k] == pytest.approx(entry["value"] / 100 * values[k], rel=1e-12, abs=1e-300)
            assert down[k] == pytest.approx(-up[k])
    # the bin centres come from the second independent variable
    centres = [v["value"] for v in t15["independent_variables"][1]["values"]][:7]
    np.testing.assert_allclose(d.binning.bin_centers, centres)


def test_cms_8tev_stat_covariance_is_indefinite():
    with pytest.raises(HEPDataError, match="not positive semi-definite") as err:
        read_hepdata(CMS8, "Table 15", matrices=[HEPDataMatrix("stat", "covariance", "Table 16")])
    assert "Table16.yaml" in str(err.value) and "drop_bins" in str(err.value)


def test_cms_8tev_matrix_read_directly_matches_by_edges_in_any_row_order():
    binning = read_hepdata_table(CMS8 / "Table15.yaml").binning
    cov = flattened(CMS8 / "Table16.yaml", lambda v: (v["low"], v["high"]))
    m = read_hepdata_matrix(CMS8 / "Table16.yaml", binning=binning)
    edges = list(zip(binning.low, binning.high, strict=True))
    for i in range(8):
        for j in range(8):
            assert m[i, j] == cov[(edges[i], edges[j])]


# ---------------------------------------------------------------------- LHCb Z: σ per bin vs dσ/dy
def test_lhcb_mumu_divided_by_bin_width_matches_ee_convention():
    mm = load(LHCB / "mumu_ins1406555" / "HEPData-ins1406555-v1-Table_2.yaml")
    values, sources = expected_shifts(mm["dependent_variables"][0])
    widths = [v["high"] - v["low"] for v in mm["independent_variables"][0]["values"]]
    d = read_hepdata(
        LHCB / "mumu_ins1406555" / "HEPData-ins1406555-v1-Table_2.yaml",
        variable=0,
        per_bin_width=True,
    )
    m = d.measurement
    np.testing.assert_allclose(m.estimates, np.divide(values, widths), rtol=1e-12)
    assert m.estimates[0] == pytest.approx(1.223 / 0.125)  # README: 9.784 pb against ee 8.27 pb
    np.testing.assert_allclose(
        stat_sigma(m), [s[0] / w for s, w in zip(sources["stat"], widths, strict=True)], rtol=1e-10
    )
    for name in ("sys", "beam", "lumi"):
        np.testing.assert_allclose(
            shifts_of(m, name)[0], [s[0] / w for s, w in zip(sources[name], widths, strict=True)]
        )
    ee = read_hepdata(LHCB / "ee_ins1347133" / "Table2.yaml", variable=0)
    assert ee.binning.same_bins(d.binning.select(range(17)))
    assert d.quantity.unit == "PB" and ee.quantity.unit == "pb"


# ---------------------------------------------------------------------- CMS W μ: joint % matrices
def test_cms_wmu_percent_correlation_spanning_two_tables():
    table = load(WMU / "HEPData-ins1426517-v1-Table_2.yaml")
    _values, sources = expected_shifts(table["dependent_variables"][0])
    stat_rho = flattened(WMU / "HEPData-ins1426517-v1-Table_5.yaml", lambda v: int(v["value"]))
    syst_rho = flattened(WMU / "HEPData-ins1426517-v1-Table_4.yaml", lambda v: int(v["value"]))
    d = read_hepdata(
        WMU / "HEPData-ins1426517-v1-Table_2.yaml",
        variable=0,
        matrices=[
            HEPDataMatrix("stat", "correlation", "Table_5", indices=range(12, 23)),
            HEPDataMatrix(
                "syst", "correlation", "Table_4", indices=range(12, 23), replaces=["sys"]
            ),
        ],
    )
    m = d.measurement
    idx = range(12, 23)
    want = np.array([[stat_rho[(a, b)] / 100 for b in idx] for a in idx])
    np.testing.assert_allclose(stat_correlation(m), want, atol=1e-12)
    np.testing.assert_allclose(stat_sigma(m), [s[0] for s in sources["stat"]], rtol=1e-10)
    sys = np.array([s[0] for s in sources["sys"]])
    want_sys = np.array([[syst_rho[(a, b)] / 100 for b in idx] for a in idx]) * np.outer(sys, sys)
    eig = [k for k, s in enumerate(m.source_names) if s.startswith("cov")]
    u = m.shifts[:, eig]
    np.testing.assert_allclose(u @ u.T, want_sys, rtol=1e-9, atol=1e-12 * want_sys.max())
    np.testing.assert_allclose(shifts_of(m, "lumi")[0], [s[0] for s in sources["lumi"]])


def test_cms_wmu_spanning_matrix_without_indices_is_an_error():
    with pytest.raises(HEPDataError, match=r"22 bins .*indices=.*range\(1, 12\)"):
        read_hepdata(
            WMU / "HEPData-ins1426517-v1-Table_1.yaml",
            variable=0,
            matrices=[HEPDataMatrix("stat", "correlation", "Table_5.yaml")],
        )


# ---------------------------------------------------------------------- CMS W e: gap, ×10³
def test_cms_wel_gap_bins_scale_and_total_covariance():
    table = load(WEL / "HEPData-ins1118047-v1-Table_1.yaml")
    values, sources = expected_shifts(table["dependent_variables"][0])
    edges = [(v["low"], v["high"]) for v in table["independent_variables"][0]["values"]]
    cov = flattened(WEL / "HEPData-ins1118047-v1-Table_2.yaml", lambda v: (v["low"], v["high"]))
    d = read_hepdata(
        WEL / "HEPData-ins1118047-v1-Table_1.yaml",
        variable=0,
        scale=1e-3,
        matrices=[HEPDataMatrix("total", "covariance", "Table_2")],
    )
    assert not d.binning.is_contiguous and (1.4, 1.6) not in edges
    assert [(a, b) for a, b in zip(d.binning.low, d.binning.high, strict=True)] == edges
    np.testing.assert_allclose(d.measurement.estimates, np.array(values) * 1e-3, rtol=1e-12)
    assert d.measurement.estimates[0] == pytest.approx(0.102)
    want = np.array([[cov[(a, b)] for b in edges] for a in edges]) * 1e-6
    np.testing.assert_allclose(d.measurement.covariance, want, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(
        stat_sigma(d.measurement), [s[0] * 1e-3 for s in sources["stat"]], rtol=1e-10
    )


# ---------------------------------------------------------------------- 13 TeV: total covariances
def test_atlas_13tev_total_covariance_and_signed_percent_strings():
    table = load(TT13 / "atlas_lj_ins1750330" / "Table610.yaml")
    _values, sources = expected_shifts(table["dependent_variables"][0])
    edges = [(v["low"], v["high"]) for v in table["independent_variables"][0]["values"]]
    cov = flattened(TT13 / "atlas_lj_ins1750330" / "Table611.yaml", lambda v: (v["low"], v["high"]))
    raw = read_hepdata_table(TT13 / "atlas_lj_ins1750330" / "Table610.yaml", variable=0)
    assert len(raw.errors) == 105
    for name, pairs in sources.items():
        np.testing.assert_allclose(raw.errors[name][0], [p[0] for p in pairs], atol=1e-300)
        np.testing.assert_allclose(raw.errors[name][1], [p[1] for p in pairs], atol=1e-300)
    d = read_hepdata(
        TT13 / "atlas_lj_ins1750330" / "Table610.yaml",
        variable="DSIG/DPT_T (breakdown of systematics)",
        matrices=[HEPDataMatrix("total", "covariance", "Table611.yaml")],
    )
    want = np.array([[cov[(a, b)] for b in edges] for a in edges])
    np.testing.assert_allclose(d.measurement.covariance, want, rtol=1e-9)
    np.testing.assert_allclose(
        stat_sigma(d.measurement), [s[0] for s in sources["stat"]], rtol=1e-12
    )
    with pytest.raises(HEPDataError, match="no uncertainties"):
        read_hepdata(TT13 / "atlas_lj_ins1750330" / "Table610.yaml", variable=1)


def test_cms_13tev_total_covariance_with_bin_number_intervals():
    path = TT13 / "cms_lj_ins1901295"
    with pytest.raises(HEPDataError, match="probably correlated between bins"):
        read_hepdata(
            path,
            "parton_abs_ttm",
            matrices=[HEPDataMatrix("total", "covariance", "parton_abs_ttm_covariance")],
        )
    cov = flattened(path / "parton_abs_ttm_covariance.yaml", lambda v: round(v["low"] + 0.5))
    d = read_hepdata(
        path,
        "parton_abs_ttm",
        matrices=[HEPDataMatrix("stat", "covariance", "parton_abs_ttm_covariance")],
    )
    want = np.array([[cov[(i, j)] for j in range(1, 16)] for i in range(1, 16)])
    np.testing.assert_allclose(d.measurement.stat_covariance, want, rtol=1e-9)
    assert d.measurement.source_names == ("sys",)


# ---------------------------------------------------------------------- CMS dilepton: same-sign
def test_cms_dilepton_same_sign_pairs_and_symmetrisation_options():
    table = load(TT13 / "cms_2l_ins2758138" / "ptt_abs_parton.yaml")
    values, sources = expected_shifts(table["dependent_variables"][0])
    sources.pop("stat")
    path = TT13 / "cms_2l_ins2758138"
    keep = read_hepdata(path, "ptt").measurement
    same = [(n, i) for n, p in sources.items() for i, (u, dn) in enumerate(p) if u * dn > 0]
    assert len(same) > 100
    for name, i in same[:20]:
        assert shifts_of(keep, name)[0][i] == sources[name][i][0]
        assert shifts_of(keep, name)[1][i] == sources[name][i][1]
    sym = read_hepdata(path, "ptt", asymmetric="symmetrise").measurement
    shifted = read_hepdata(path, "ptt", asymmetric="shift").measurement
    moved = np.zeros(len(values))
    for name, pairs in sources.items():
        half = np.array([0.5 * (u - dn) for u, dn in pairs])
        np.testing.assert_allclose(shifts_of(sym, name)[0], half, atol=1e-300)
        np.testing.assert_allclose(shifts_of(sym, name)[1], -half, atol=1e-300)
        moved += [0.5 * (u + dn) for u, dn in pairs]
    np.testing.assert_allclose(sym.estimates, values)
    np.testing.assert_allclose(shifted.estimates, np.array(values) + moved, rtol=1e-12)


# ---------------------------------------------------------------------- missing values
@pytest.mark.parametrize(
    ("path", "n"),
    [
        (
            DATA
            / "missing_value_examples/lhcb_z_7tev_mumu_ins1373300/HEPData-ins1373300-v1-Table_1.yaml",
            18,
        ),
        (
            DATA
            / "missing_value_examples/cdf_z_rapidity_ins856131/HEPData-ins856131-v1-Table_2.yaml",
            29,
        ),
    ],
)
def test_missing_value_is_kept_aligned_then_left_out(path, n, caplog):
    table = load(path)
    _values, sources = expected_shifts(table["dependent_variables"][0])
    raw = [v["value"] for v in table["dependent_variables"][0]["values"]]
    assert raw[-1] == "-"
    var = read_hepdata_table(path, variable=0)
    assert var.binning.n_bins == n and var.missing.tolist() == [False] * (n - 1) + [True]
    with caplog.at_level(logging.WARNING):
        d = read_hepdata(path, variable=0)
    assert "no value ('-')" in caplog.text and f"bin {n - 1}" in caplog.text
    assert d.n_bins == n - 1 and d.bin_names[-1] == f"bin{n - 2}"
    np.testing.assert_allclose(d.measurement.estimates, [float(v) for v in raw[:-1]])
    assert d.binning.high[-1] == table["independent_variables"][0]["values"][-2]["high"]
    np.testing.assert_allclose(stat_sigma(d.measurement), [s[0] for s in sources["stat"][:-1]])


def test_leading_space_in_qualifier_name_is_stripped():
    d = read_hepdata(
        DATA / "missing_value_examples/cdf_z_rapidity_ins856131/HEPData-ins856131-v1-Table_2.yaml"
    )
    assert d.quantity.qualifiers[0].name == "M(P=3_4) in GEV"
    assert d.quantity.qualifiers[0].value == "66.0-116.0"


# ---------------------------------------------------------------------- JSON exports
def test_json_export_single_value_measurement():
    with open(JSON / "jpsi__Result.json") as fh:
        doc = json.load(fh)
    y = doc["values"][0]["y"][0]
    d = read_hepdata(JSON / "jpsi__Result.json")
    m = d.measurement
    assert m.estimates.tolist() == [float(y["value"])] == [172.17]
    errs = {e["label"]: float(e["symerror"]) for e in y["errors"]}
    assert stat_sigma(m) == pytest.approx([errs["stat."]])
    assert shifts_of(m, "syst.")[0] == pytest.approx([errs["syst."]])
    assert shifts_of(m, "recoil")[0] == pytest.approx([errs["recoil"]])
    assert d.quantity.label == "Top MASS" and d.quantity.unit == "GeV"
    assert ("SQRT(s)", "13000 GeV", "") in d.quantity.qualifiers
    assert "hepdata.167264.v1/t1" in d.origin


def test_json_export_columns_without_errors():
    with pytest.raises(HEPDataError, match="no uncertainties"):
        read_hepdata(
            JSON / "boosted__Post-fit_values_and_uncertainties_for_parameters_of_interest.json",
            variable="Value",
        )
    var = read_hepdata_table(
        JSON / "boosted__Post-fit_values_and_uncertaintes_for_nuisance_parameters.json",
        variable="Post-fit uncertainty",
    )
    with open(
        JSON / "boosted__Post-fit_values_and_uncertaintes_for_nuisance_parameters.json"
    ) as fh:
        doc = json.load(fh)
    want = [float(next(y["value"] for y in row["y"] if y["group"] == 1)) for row in doc["values"]]
    assert var.values.tolist() == want and var.binning.is_index and not var.errors
    yields = read_hepdata_table(JSON / "jpsi__Table_2.json", variable=1)
    assert np.isnan(yields.values[0])  # "" is a missing value


# ---------------------------------------------------------------------- validator examples
def test_dijet_repeated_labels_and_empty_sides():
    path = VAL / "valid_data_with_percent.yaml"
    dv = load(path)["dependent_variables"][0]
    d = read_hepdata(path, variable=0)
    m = d.measurement
    value = float(dv["values"][0]["value"])
    sys_entries = [e for e in dv["values"][0]["errors"] if e["label"] == "sys"]
    for k, e in enumerate(sys_entries, start=1):
        up, down = shifts_of(m, f"sys#{k}")
        if "symerror" in e:
            assert (up[0], down[0]) == pytest.approx(
                (absolute(e["symerror"], value), -absolute(e["symerror"], value)), abs=1e-300
            )
        else:
            assert (up[0], down[0]) == pytest.approx(
                (absolute(e["asymerror"]["plus"], value), absolute(e["asymerror"]["minus"], value)),
                abs=1e-300,
            )
    empty = next(
        k for k, e in enumerate(sys_entries, 1) if e.get("asymerror", {}).get("plus") == ""
    )
    assert shifts_of(m, f"sys#{empty}")[0][0] == 0.0
    assert shifts_of(m, f"sys#{empty}")[1][0] == pytest.approx(-0.03 * value)
    with pytest.raises(HEPDataError, match=r"'sys' .*several times.*sys#1, sys#2"):
        read_hepdata(path, variable=0, sources={"sys": None})
    assert d.binning.unit == "TEV" and d.quantity.unit == "PB*TEV*-1"


def test_single_file_submission_with_unlabelled_errors():
    path = VAL / "1512299.yaml"
    assert hepdata_tables(path) == ["Table 1", "Table 2", "Table 3", "Table 4", "Table 5"]
    with pytest.raises(HEPDataError, match=r"unlabelled.*stat="):
        read_hepdata(path, "Table 1")
    with open(path, encoding="utf-8") as fh:
        docs = [d for d in yaml.load_all(fh, Loader=SAFE_LOADER) if d and "name" in d]
    dv = docs[0]["dependent_variables"][0]
    d = read_hepdata(path, "Table 1", stat="unlabelled")
    np.testing.assert_allclose(d.measurement.estimates, [v["value"] for v in dv["values"]])
    np.testing.assert_allclose(
        stat_sigma(d.measurement), [v["errors"][0]["symerror"] for v in dv["values"]]
    )
    with pytest.raises(HEPDataError, match="flattened matrix"):
        read_hepdata(path, "Table 5")


def test_zz_submission_directory():
    path = VAL / "TestHEPSubmission_yaml_only"
    dv = load(path / "data3.yaml")["dependent_variables"][0]
    values, sources = expected_shifts(dv)
    d = read_hepdata(path, "Table 3")
    assert d.measurement.estimates.tolist() == values
    assert set(d.measurement.source_names) == {"detector", "background"}
    np.testing.assert_allclose(
        shifts_of(d.measurement, "detector")[0], [s[0] for s in sources["detector"]]
    )
    one = read_hepdata(path, "Table 1", 0)  # no independent variable: one numbered bin
    assert one.n_bins == 1 and one.binning.is_index
    stat = load(path / "data1.yaml")["dependent_variables"][0]["values"][0]["errors"][0]
    assert stat_sigma(one.measurement)[0] == pytest.approx(
        0.5 * (abs(stat["asymerror"]["plus"]) + abs(stat["asymerror"]["minus"]))
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "file_with_zero_uncertainty.yaml",
            r"variable 'SIG\(total\)', bin 1: the statistical uncertainty \(stat\) is zero",
        ),
        (
            "file_with_inconsistent_values.yaml",
            r"'SQRT\(S\)' has 1 values but the dependent variable has 2",
        ),
        ("valid_file.json", r"mixes bins and points: bin 1"),
    ],
)
def test_invalid_validator_examples(name, message):
    with pytest.raises(HEPDataError, match=message) as err:
        read_hepdata(VAL / name)
    assert name in str(err.value)


# ---------------------------------------------------------------------- selection, labels
def test_selection_never_guesses():
    with pytest.raises(HEPDataError, match=r"236 tables; choose one with table=.*0: 'Table 1'"):
        read_hepdata(ATLAS8)
    with pytest.raises(HEPDataError, match="did you mean 'Table 30'"):
        read_hepdata(ATLAS8, "Tabel 30")
    with pytest.raises(HEPDataError, match="is not in"):  # listed, but not copied
        read_hepdata(ATLAS8, "Table 1")
    with pytest.raises(
        HEPDataError, match=r"2 dependent variables are named 'SIG'.*E\+ E-.*MU\+ MU-"
    ):
        read_hepdata(DATA / "atlas_zpt_8tev_ee_mumu/Table41.yaml", variable="SIG")
    with pytest.raises(HEPDataError, match="did you mean 'Electron channel Born'"):
        read_hepdata(DATA / "atlas_zpt_8tev_ee_mumu/Table29.yaml", variable="Electron chanel Born")
    with pytest.raises(HEPDataError, match=r"no dependent variable 9 \(0-based; 6 in all\)"):
        read_hepdata(DATA / "atlas_zpt_8tev_ee_mumu/Table29.yaml", variable=9)
    with pytest.raises(HEPDataError, match="did you mean 'Uncorrelated'"):
        read_hepdata(
            DATA / "atlas_zpt_8tev_ee_mumu/Table29.yaml", variable=1, uncorrelated=["Uncorelated"]
        )
    mu = read_hepdata(DATA / "atlas_zpt_8tev_ee_mumu/Table41.yaml", variable=1)
    assert mu.measurement.source_names == ("Total",)
    assert ("RE", "P P --> (Z0 + GAMMA*) < MU+ MU- > X", "") in mu.quantity.qualifiers


def test_labels_renamed_relative_and_uncorrelated():
    path = DATA / "atlas_zpt_8tev_ee_mumu" / "Table29.yaml"
    dv = load(path)["dependent_variables"][1]
    _values, sources = expected_shifts(dv)
    d = read_hepdata(
        path,
        variable="Electron channel Born",
        name="ATLAS_ee",
        sources={"sys,Correlated": "ee_corr"},
        uncorrelated=["sys,Uncorrelated"],
        relative=["ee_corr"],
        axis_unit="GeV",
        bin_prefix="pt",
    )
    m = d.measurement
    assert m.name == "ATLAS_ee" and m.relative == frozenset({"ee_corr"})
    assert m.estimate_names[:2] == ("pt0", "pt1") and d.binning.unit == "GeV"
    np.testing.assert_allclose(shifts_of(m, "ee_corr")[0], [s[0] for s in sources["Correlated"]])
    for i in range(20):
        up, _ = shifts_of(m, f"Uncorrelated_pt{i}")
        want = np.zeros(20)
        want[i] = sources["Uncorrelated"][i][0]
        np.testing.assert_allclose(up, want, atol=1e-300)
    assert len(m.source_names) == 21


# ---------------------------------------------------------------------- hand-made edge cases
def write(tmp_path: Path, name: str, doc) -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return p


def table(bins, values, errors, **dv):
    return {
        "independent_variables": [
            {
                "header": {"name": "x", "units": "GeV"},
                "values": [{"low": a, "high": b} for a, b in bins],
            }
        ],
        "dependent_variables": [
            {
                "header": {"name": "y", **dv},
                "values": [{"value": v, "errors": e} for v, e in zip(values, errors, strict=True)],
            }
        ],
    }


def matrix(bins, entries):
    rows = [(a, b) for a in range(len(bins)) for b in range(len(bins)) if (a, b) in entries]
    return {
        "independent_variables": [
            {
                "header": {"name": "x"},
                "values": [{"low": bins[a][0], "high": bins[a][1]} for a, _ in rows],
            },
            {
                "header": {"name": "x"},
                "values": [{"low": bins[b][0], "high": bins[b][1]} for _, b in rows],
            },
        ],
        "dependent_variables": [
            {"header": {"name": "cov"}, "values": [{"value": entries[r]} for r in rows]}
        ],
    }


def test_unsorted_bins_triangular_percent_covariance(tmp_path):
    bins = [(10.0, 20.0), (0.0, 10.0), (20.0, 30.0)]
    values = [2.0, 4.0, 1.0]
    stat = [[{"symerror": "5%", "label": "stat"}] for _ in values]
    main = write(tmp_path, "dist.yaml", table(bins, values, stat))
    # lower triangle only, in percent² of the values, rows in file order
    pct = {(0, 0): 25.0, (1, 0): 10.0, (1, 1): 25.0, (2, 0): 0.0, (2, 1): -5.0, (2, 2): 25.0}
    write(tmp_path, "cov.yaml", matrix(bins, pct))
    d = read_hepdata(main, matrices=[HEPDataMatrix("stat", "covariance", "cov.yaml", percent=True)])
    assert d.binning.low.tolist() == [0.0, 10.0, 20.0]
    assert d.bin_names == ("bin0", "bin1", "bin2")  # positions after sorting by edge
    order = [1, 0, 2]  # file row of each sorted bin
    full = {**pct, **{(b, a): v for (a, b), v in pct.items()}}
    want = np.array(
        [
            [
                full[(order[i], order[j])] * values[order[i]] * values[order[j]] / 1e4
                for j in range(3)
            ]
            for i in range(3)
        ]
    )
    np.testing.assert_allclose(d.measurement.stat_covariance, want, rtol=1e-12)
    np.testing.assert_allclose(d.measurement.estimates, [4.0, 2.0, 1.0])


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({(0, 0): 1.0, (0, 1): 0.5, (1, 0): 0.4, (1, 1): 1.0}, "not symmetric"),
        ({(0, 0): 1.0, (1, 1): 1.0}, r"no entry for \(bin 0 \[0, 1\) GeV, bin 1"),
    ],
)
def test_malformed_matrices(tmp_path, entries, message):
    bins = [(0.0, 1.0), (1.0, 2.0)]
    main = write(
        tmp_path, "dist.yaml", table(bins, [1.0, 1.0], [[{"symerror": 0.1, "label": "stat"}]] * 2)
    )
    write(tmp_path, "m.yaml", matrix(bins, entries))
    with pytest.raises(HEPDataError, match=message):
        read_hepdata(main, matrices=[HEPDataMatrix("stat", "covariance", "m.yaml")])


def test_malformed_files(tmp_path):
    cases = {
        "binary.yaml": b"\x89PNG\r\n\x1a\n\x00\xff",
        "broken.yaml": b"a: [1, 2\n",
        "other.yaml": b"name: something\nvalue: 3\n",
        "badvalue.yaml": yaml.safe_dump(
            table([(0, 1)], ["abc"], [[{"symerror": 1, "label": "stat"}]])
        ).encode(),
        "badpercent.yaml": yaml.safe_dump(
            table([(0, 1)], [1.0], [[{"symerror": "x%", "label": "stat"}]])
        ).encode(),
        "overlap.yaml": yaml.safe_dump(
            table([(0, 2), (1, 3)], [1, 1], [[{"symerror": 1, "label": "stat"}]] * 2)
        ).encode(),
    }
    messages = {
        "binary.yaml": "not a text file",
        "broken.yaml": "line 2: not valid YAML",
        "other.yaml": "not a HEPData record",
        "badvalue.yaml": r"bin 0: 'abc' is not a number",
        "badpercent.yaml": r"bin 0, error 'stat': 'x' is not a number",
        "overlap.yaml": "overlap",
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(HEPDataError, match=messages[name]) as err:
            read_hepdata(tmp_path / name)
        assert name in str(err.value)
    (tmp_path / "dir").mkdir()
    with pytest.raises(HEPDataError, match="no submission.yaml"):
        read_hepdata(tmp_path / "dir")
    with pytest.raises(HEPDataError, match="no such file"):
        read_hepdata(tmp_path / "missing.yaml")


# ---------------------------------------------------------------------- every saved file
# relative path → (arguments, number of bins, or the fragment of the error it must give)
OUTCOMES: dict[str, tuple[dict, int | str]] = {
    **{
        f"atlas_zpt_8tev_ee_mumu/Table{k}.yaml": ({"variable": "Combination Born"}, n)
        for k, n in [
            (29, 20),
            (30, 20),
            (31, 20),
            (32, 20),
            (33, 20),
            (34, 20),
            (35, 8),
            (36, 8),
            (37, 8),
            (38, 20),
            (39, 43),
            (40, 20),
        ]
    },
    "atlas_zpt_8tev_ee_mumu/Table41.yaml": ({"variable": 0}, 6),
    "atlas_zpt_8tev_ee_mumu/extra_not_hepdata_yaml/ZcombPt_born_m66116_y0004/chi2map.dat": (
        {},
        "not a HEPData record",
    ),
    "atlas_zpt_8tev_ee_mumu/extra_not_hepdata_yaml/ZcombPt_born_m66116_y0004/tab.dat": (
        {},
        "not valid YAML",
    ),
    "atlas_zpt_8tev_ee_mumu/extra_not_hepdata_yaml/ZcombPt_born_m66116_y0004/xsec1": (
        {},
        "not a HEPData record",
    ),
    "cms_wel_7tev_gap_bins/HEPData-ins1118047-v1-Table_1.yaml": (
        {"variable": 0, "scale": 1e-3},
        11,
    ),
    "cms_wel_7tev_gap_bins/HEPData-ins1118047-v1-Table_2.yaml": ({}, "flattened matrix"),
    "cms_wmu_8tev_joint_cov/HEPData-ins1426517-v1-Table_1.yaml": ({"variable": 0}, 11),
    "cms_wmu_8tev_joint_cov/HEPData-ins1426517-v1-Table_2.yaml": ({"variable": 0}, 11),
    "cms_wmu_8tev_joint_cov/HEPData-ins1426517-v1-Table_4.yaml": ({}, "flattened matrix"),
    "cms_wmu_8tev_joint_cov/HEPData-ins1426517-v1-Table_5.yaml": ({}, "flattened matrix"),
    "hepdata_net_json_pyconvino/boosted__Post-fit_values_and_uncertaintes_for_nuisance_parameters.json": (
        {"variable": 0},
        "no uncertainties",
    ),
    "hepdata_net_json_pyconvino/boosted__Post-fit_values_and_uncertainties_for_parameters_of_interest.json": (
        {"variable": 0},
        "no uncertainties",
    ),
    "hepdata_net_json_pyconvino/jpsi__Result.json": ({}, 1),
    "hepdata_net_json_pyconvino/jpsi__Table_2.json": ({"variable": 0}, "no uncertainties"),
    "hepdata_validator_testsuite/1512299.yaml": ({"table": "Table 2", "stat": "unlabelled"}, 10),
    "hepdata_validator_testsuite/TestHEPSubmission_yaml_only/submission.yaml": (
        {"table": "Table 7"},
        4,
    ),
    **{
        f"hepdata_validator_testsuite/TestHEPSubmission_yaml_only/data{k}.yaml": (
            {"variable": 0},
            n,
        )
        for k, n in [(1, 1), (2, 1), (3, 4), (4, 3), (5, 4), (6, 3), (7, 4), (8, 3)]
    },
    "hepdata_validator_testsuite/file_with_inconsistent_values.yaml": ({}, "has 1 values but"),
    "hepdata_validator_testsuite/file_with_zero_uncertainty.yaml": ({}, "is zero"),
    "hepdata_validator_testsuite/valid_data_with_percent.yaml": ({"variable": 2}, 21),
    "hepdata_validator_testsuite/valid_file.json": ({}, "mixes bins and points"),
    "lhcb_z_8tev_ee_mumu/ee_ins1347133/Table2.yaml": ({"variable": 0}, 17),
    "lhcb_z_8tev_ee_mumu/ee_ins1347133/extra_not_hepdata_corrmat.corr": (
        {},
        "not a HEPData record",
    ),
    "lhcb_z_8tev_ee_mumu/mumu_ins1406555/HEPData-ins1406555-v1-Table_1.yaml": ({"variable": 2}, 8),
    "lhcb_z_8tev_ee_mumu/mumu_ins1406555/HEPData-ins1406555-v1-Table_2.yaml": ({"variable": 0}, 18),
    "lhcb_z_8tev_ee_mumu/mumu_ins1406555/extra_not_hepdata_corrmat.corr": (
        {},
        "not a HEPData record",
    ),
    "missing_value_examples/cdf_z_rapidity_ins856131/HEPData-ins856131-v1-Table_2.yaml": ({}, 28),
    "missing_value_examples/lhcb_z_7tev_mumu_ins1373300/HEPData-ins1373300-v1-Table_1.yaml": (
        {"variable": 1, "stat": "unlabelled"},
        17,
    ),
    "ttbar_13tev_atlas_cms/atlas_lj_ins1750330/Table608.yaml": ({"variable": 0}, 8),
    "ttbar_13tev_atlas_cms/atlas_lj_ins1750330/Table609.yaml": ({}, "flattened matrix"),
    "ttbar_13tev_atlas_cms/atlas_lj_ins1750330/Table610.yaml": ({"variable": 0}, 8),
    "ttbar_13tev_atlas_cms/atlas_lj_ins1750330/Table611.yaml": ({}, "flattened matrix"),
    "ttbar_13tev_atlas_cms/atlas_lj_ins1750330/Table618.yaml": ({"variable": 0}, 9),
    "ttbar_13tev_atlas_cms/atlas_lj_ins1750330/Table619.yaml": ({}, "flattened matrix"),
    "ttbar_13tev_atlas_cms/cms_2l_ins2758138/mtt_abs_parton.yaml": ({}, 7),
    "ttbar_13tev_atlas_cms/cms_2l_ins2758138/mttytt-abs_parton.yaml": (
        {},
        "one-dimensional distributions",
    ),
    "ttbar_13tev_atlas_cms/cms_2l_ins2758138/ptt_abs_parton.yaml": ({}, 7),
    "ttbar_13tev_atlas_cms/cms_2l_ins2758138/submission.yaml": ({"table": "yt"}, 10),
    "ttbar_13tev_atlas_cms/cms_2l_ins2758138/yt_abs_parton.yaml": ({}, 10),
    "ttbar_13tev_atlas_cms/cms_lj_ins1901295/parton_abs_thadpth.yaml": ({}, 17),
    "ttbar_13tev_atlas_cms/cms_lj_ins1901295/parton_abs_thadpth_covariance.yaml": (
        {},
        "flattened matrix",
    ),
    "ttbar_13tev_atlas_cms/cms_lj_ins1901295/parton_abs_ttm.yaml": ({}, 15),
    "ttbar_13tev_atlas_cms/cms_lj_ins1901295/parton_abs_ttm_covariance.yaml": (
        {},
        "flattened matrix",
    ),
    "ttbar_13tev_atlas_cms/cms_lj_ins1901295/submission.yaml": (
        {"table": "parton_abs_thadpth"},
        17,
    ),
    "ttbar_8tev_toppt_atlas_cms/atlas_ins1404878/Table_100.yaml": ({}, "flattened matrix"),
    "ttbar_8tev_toppt_atlas_cms/atlas_ins1404878/Table_101.yaml": ({}, "flattened matrix"),
    "ttbar_8tev_toppt_atlas_cms/atlas_ins1404878/Table_102.yaml": ({}, "flattened matrix"),
    "ttbar_8tev_toppt_atlas_cms/atlas_ins1404878/Table_29.yaml": ({"variable": 1}, 8),
    "ttbar_8tev_toppt_atlas_cms/atlas_ins1404878/Table_30.yaml": ({"variable": 0}, 8),
    "ttbar_8tev_toppt_atlas_cms/atlas_ins1404878/Table_99.yaml": ({}, "flattened matrix"),
    "ttbar_8tev_toppt_atlas_cms/atlas_ins1404878/submission.yaml": (
        {"table": "Table 29", "variable": 0},
        8,
    ),
    "ttbar_8tev_toppt_atlas_cms/cms_ins1370682/Table15.yaml": ({}, 8),
    "ttbar_8tev_toppt_atlas_cms/cms_ins1370682/Table16.yaml": ({}, "flattened matrix"),
    "ttbar_8tev_toppt_atlas_cms/cms_ins1370682/Table17.yaml": ({"variable": 3}, "no uncertainties"),
    "ttbar_8tev_toppt_atlas_cms/cms_ins1370682/Table42.yaml": ({}, 5),
    "ttbar_8tev_toppt_atlas_cms/cms_ins1370682/submission.yaml": ({"table": "Table 42"}, 5),
}


def test_every_saved_file_has_an_outcome():
    files = {
        str(p.relative_to(DATA))
        for p in DATA.rglob("*")
        if p.is_file() and p.name not in ("README.md", "MANIFEST.tsv")
    }
    assert files == set(OUTCOMES)


@pytest.mark.parametrize("relative", sorted(OUTCOMES))
def test_every_saved_file_reads_or_fails_precisely(relative):
    kwargs, outcome = OUTCOMES[relative]
    path = DATA / relative
    if isinstance(outcome, int):
        d = read_hepdata(path, **kwargs)
        assert d.n_bins == outcome
        assert np.all(np.isfinite(d.measurement.estimates))
    else:
        with pytest.raises(HepCombineError) as err:
            read_hepdata(path, **kwargs)
        assert isinstance(err.value, HEPDataError), repr(err.value)
        assert re.search(re.escape(outcome), str(err.value)), str(err.value)
        assert path.name in str(err.value) or path.parent.name in str(err.value)
