"""The binning and the quantity travel from every input form to the specification, the
DifferentialResult and the JSON, hist and HEPData outputs.

Per input form the expected bins, axis label and unit and the quantity are written here from
the input itself (the HEPData file's independent variable and header read with plain PyYAML,
the edges the test writes into a ROOT file or a YAML file, bin numbers for Convino files); the
outputs are read back independently (``json``/jsonschema, the ``hist`` axis, the HEPData
reader on the written submission).
"""

from __future__ import annotations

import json

import jsonschema
import numpy as np
import pytest
import uproot
import yaml
from conftest import DATA, weighted_hist, write
from convino_files import combination_files

from hepcombine import Binning, Quantity, combine_differential, load_config, read_hepdata
from hepcombine.inputs.hepdata import read_hepdata_table
from hepcombine.inputs.histograms import measurement_from_histograms
from hepcombine.outputs import combination
from hepcombine.outputs.hepdata import HEPDataOptions, write_hepdata
from hepcombine.outputs.hist import to_hist
from hepcombine.outputs.json import dumps, load_schema, result_to_dict

LHCB = DATA / "hepdata" / "lhcb_z_8tev_ee_mumu"
EE = LHCB / "ee_ins1347133" / "Table2.yaml"


def check_outputs(dr, binning: Binning, quantity: Quantity, tmp_path, *, hepdata=True) -> None:
    """``dr`` (a DifferentialResult) carries ``binning`` and ``quantity``, and JSON, hist and
    HEPData outputs show them."""
    assert dr.binning == binning
    assert dr.quantity == quantity
    # JSON: schema-valid, the binning and the quantity written out
    data = json.loads(dumps(result_to_dict(dr.result, differential=dr)))
    jsonschema.Draft202012Validator(load_schema()).validate(data)
    entry = data["differential"]
    assert entry["bins"] == list(dr.observables)
    assert Binning.from_dict(entry["binning"]) == binning
    assert entry["quantity"] == {
        "label": quantity.label,
        "unit": quantity.unit,
        "qualifiers": [
            {"name": q.name, "value": q.value, "unit": q.unit} for q in quantity.qualifiers
        ],
    }
    # hist: the edges (gaps as empty bins), the label with the unit
    h = to_hist(dr)
    if binning.is_contiguous:
        np.testing.assert_array_equal(h.axes[0].edges, binning.edges)
        np.testing.assert_allclose(h.values(), dr.values, rtol=1e-15)
    else:
        edges, where = binning.filled_edges()
        np.testing.assert_array_equal(h.axes[0].edges, edges)
        np.testing.assert_allclose(h.values()[where], dr.values, rtol=1e-15)
        assert np.count_nonzero(h.values()) == dr.n_bins
    if binning.unit:
        assert h.axes[0].label == f"{binning.label or binning.name} [{binning.unit}]"
    # HEPData: read back with the reader
    if hepdata:
        out = write_hepdata(dr, tmp_path / "sub", HEPDataOptions(errors="hesse"))
        back = read_hepdata_table(out.directory, "Combination", 0)
        assert back.binning.same_bins(binning)
        assert back.binning.label == (binning.label or binning.name)
        assert back.binning.unit == binning.unit
        assert back.quantity.label == (quantity.label or "combined value")
        assert back.quantity.unit == quantity.unit
        assert back.quantity.qualifiers == quantity.qualifiers
        np.testing.assert_allclose(back.values, dr.values, rtol=1e-9)


def ee_binning_and_quantity() -> tuple[Binning, Quantity]:
    """From the ee record, read here with PyYAML."""
    with open(EE, encoding="utf-8") as fh:
        table = yaml.safe_load(fh)
    iv = table["independent_variables"][0]
    dv = table["dependent_variables"][0]
    low = [v["low"] for v in iv["values"]]
    high = [v["high"] for v in iv["values"]]
    return Binning(low, high, "yZ", "$y_{Z}$", iv["header"].get("units", "")), Quantity(
        dv["header"]["name"], dv["header"]["units"]
    )


def test_yaml_hepdata_measurements(tmp_path):
    spec = load_config(DATA / "lhcb_z_8tev_ee_mumu.yaml")
    binning, _ = ee_binning_and_quantity()
    quantity = Quantity(
        r"${\rm d}\sigma / {\rm d} y_{Z}$",
        "pb",
        (
            ("SQRT(S)", "8000.0", "GeV"),
            ("RE", "P P --> Z0 < L+ L- > X"),
            ("M(L+ L-)", "60.0-120.0", "GeV"),
        ),
    )  # the file's 'binning:' and 'quantity:' (data/lhcb_z_8tev_ee_mumu.yaml)
    assert spec.binning == binning and spec.quantity == quantity
    dr = combination.differential_result(spec.combiner().combine(), spec)
    check_outputs(dr, binning, quantity, tmp_path)


def test_yaml_hepdata_without_overrides_takes_the_records_quantity(tmp_path):
    text = (DATA / "lhcb_z_8tev_ee_mumu.yaml").read_text().split("binning:")[0]
    path = write(tmp_path / "c.yaml", text.replace("path: hepdata/", f"path: {DATA}/hepdata/"))
    spec = load_config(path)
    binning, quantity = ee_binning_and_quantity()
    binning = Binning(binning.low, binning.high, "y_Z", "$y_{Z}$")  # the reader's axis name
    # the label of ee (the first), its unit; of the qualifiers only √s is in both records
    quantity = Quantity(quantity.label, "pb", (("SQRT(S)", "8000.0", "GeV"),))
    dr = combination.differential_result(spec.combiner().combine(), spec)
    check_outputs(dr, binning, quantity, tmp_path)


def test_yaml_root_histograms(tmp_path):
    edges = np.array([0.0, 20.0, 50.0, 100.0])
    with uproot.recreate(tmp_path / "in.root") as f:
        f["a"] = weighted_hist([10.0, 5.0, 1.0], [1.0, 0.25, 0.04], edges, label="p_{T}")
        f["b"] = weighted_hist([11.0, 4.5, 1.1], [1.0, 0.25, 0.04], edges, label="p_{T}")
    path = write(
        tmp_path / "c.yaml",
        """
        measurements:
          A: {root: {file: in.root, histogram: a, axis_unit: GeV}}
          B: {root: {file: in.root, histogram: b}}
        quantity: {label: 'dσ/dp_T', unit: pb/GeV}
        """,
    )
    spec = load_config(path)
    binning = Binning.from_edges(edges, name="xaxis", label="p_{T}", unit="GeV")
    dr = combination.differential_result(spec.combiner().combine(), spec)
    check_outputs(dr, binning, Quantity("dσ/dp_T", "pb/GeV"), tmp_path)


def test_yaml_inline_with_gaps(tmp_path):
    path = write(
        tmp_path / "c.yaml",
        """
        measurements:
          A:
            estimates: {a0: 1.0, a1: 2.0}
            stat: {a0: 0.1, a1: 0.2}
            binning: {low: [0.0, 1.6], high: [1.4, 2.4], name: eta, label: '|η|'}
          B:
            estimates: {b0: 1.1, b1: 2.2}
            stat: {b0: 0.1, b1: 0.2}
            binning: {low: [0.0, 1.6], high: [1.4, 2.4]}
        """,
    )
    spec = load_config(path)
    binning = Binning([0.0, 1.6], [1.4, 2.4], "eta", "|η|")
    dr = combination.differential_result(spec.combiner().combine(), spec)
    check_outputs(dr, binning, Quantity(), tmp_path)


def test_convino_files_know_only_the_bin_numbers(tmp_path):
    spec = load_config(combination_files(tmp_path))
    assert spec.binning == Binning.index(2) and spec.quantity == Quantity()
    dr = combination.differential_result(spec.combiner().combine(), spec)
    check_outputs(dr, Binning.index(2), Quantity(), tmp_path)


def test_python_hepdata_and_histograms(tmp_path):
    mm_path = LHCB / "mumu_ins1406555" / "HEPData-ins1406555-v1-Table_2.yaml"
    ee = read_hepdata(EE, variable=0, name="ee")
    mm = read_hepdata(mm_path, variable=0, name="mm", per_bin_width=True, drop_bins=[17])
    dr = combine_differential([ee, mm], {("ee:lumi", "mm:lumi"): 1.0})
    binning, quantity = ee_binning_and_quantity()
    binning = Binning(binning.low, binning.high, "y_Z", "$y_{Z}$")
    check_outputs(
        dr, binning, Quantity(quantity.label, "pb", (("SQRT(S)", "8000.0", "GeV"),)), tmp_path
    )
    edges = [0.0, 1.0, 3.0]
    hists = [
        measurement_from_histograms(
            weighted_hist(v, [0.01, 0.04], edges, name="pt", label="p_T"), name=n
        )
        for n, v in (("A", [1.0, 2.0]), ("B", [1.2, 2.1]))
    ]
    check_outputs(
        combine_differential(hists),
        Binning.from_edges(edges, name="pt", label="p_T"),
        Quantity(),
        tmp_path / "h",
    )


def test_cli_json_carries_the_binning(tmp_path):
    from hepcombine.cli import main

    out = tmp_path / "r.json"
    assert (
        main(
            [
                "combine",
                str(DATA / "lhcb_z_8tev_ee_mumu.yaml"),
                "--output-dir",
                str(tmp_path),
                "--json",
                str(out),
            ]
        )
        == 0
    )
    data = json.loads(out.read_text())
    assert data["schema_version"] == "1.1"
    assert (
        Binning.from_dict(data["differential"]["binning"])
        == load_config(DATA / "lhcb_z_8tev_ee_mumu.yaml").binning
    )
    assert data["differential"]["quantity"]["unit"] == "pb"


def test_spec_quantity_defaults_and_checks():
    from hepcombine import CombinationSpec, Measurement
    from hepcombine.exceptions import InvalidArgument

    ms = {"A": Measurement.from_uncertainties({"x": 1.0}, {"x": 0.1}, name="A")}
    assert CombinationSpec(ms, {"x": ["A:x"]}).quantity is None
    assert CombinationSpec(ms, {"x": ["A:x"]}, differential=True).quantity == Quantity()
    with pytest.raises(InvalidArgument, match="quantity must be a Quantity"):
        CombinationSpec(ms, quantity="pb")


def test_write_hepdata_of_a_distribution_takes_its_own_bins(tmp_path):
    from hepcombine.exceptions import InvalidArgument

    spec = load_config(DATA / "lhcb_z_8tev_ee_mumu.yaml")
    dr = combination.differential_result(spec.combiner().combine(), spec)
    with pytest.raises(InvalidArgument, match="binning= comes from the DifferentialResult"):
        write_hepdata(dr, tmp_path / "x", HEPDataOptions(binning=Binning.index(17)))
    with pytest.raises(InvalidArgument, match="quantity must be a Quantity"):
        type(dr)(dr.result, dr.observables, dr.binning, quantity="pb")
    assert not (tmp_path / "x").exists()
