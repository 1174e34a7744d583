"""YAML measurements from HEPData tables and ROOT files, inline binnings, bins matched by edges.

Each ``hepdata:`` and ``root:`` key maps one to one onto ``read_hepdata`` /
``measurement_from_histograms`` / ``measurement_from_graph``: the measurement a configuration
gives is compared with the one the function gives for the same arguments (every array), and
the functions' own numbers are checked against the files in tests/inputs/test_hepdata.py and
test_histograms.py. Every malformed entry is a ConfigError naming file, line and key (and,
for a bad table, the HEPData file, table, variable and bin).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import uproot
from conftest import DATA, assert_same_measurement, hist2d, line_of, weighted_hist, write

from hepcombine import Binning, Quantity
from hepcombine.exceptions import ConfigError, HEPDataError
from hepcombine.inputs.hepdata import HEPDataBreakdown, HEPDataMatrix, read_hepdata
from hepcombine.inputs.histograms import (
    Systematic,
    measurement_from_graph,
    measurement_from_histograms,
)
from hepcombine.inputs.yaml import read_yaml
from hepcombine.outputs.root import GraphAsymmErrors, write_root

HEPDATA = DATA / "hepdata"
LHCB = HEPDATA / "lhcb_z_8tev_ee_mumu"
EE = LHCB / "ee_ins1347133" / "Table2.yaml"
MM = LHCB / "mumu_ins1406555" / "HEPData-ins1406555-v1-Table_2.yaml"
TT8 = HEPDATA / "ttbar_8tev_toppt_atlas_cms"
EDGES = np.array([0.0, 1.0, 3.0, 7.0, 15.0])


def config(tmp_path: Path, text: str) -> Path:
    """A configuration in tmp_path whose relative paths reach data/ as ``DATA/...``."""
    return write(tmp_path / "c.yaml", text.replace("DATA/", f"{DATA}/"))


def error_of(path: Path, needle: str | int, match: str) -> str:
    """The ConfigError message of reading ``path``; it names the file, the line of ``needle``
    (or line ``needle``) and matches ``match``."""
    with pytest.raises(ConfigError) as err:
        read_yaml(path)
    msg = str(err.value)
    line = needle if isinstance(needle, int) else line_of(path, needle)
    assert msg.startswith(f"{path}, line {line}, at "), msg
    assert re.search(match, msg), msg
    return msg


# ---------------------------------------------------------------------- HEPData
def test_hepdata_keys_map_onto_read_hepdata(tmp_path):
    path = config(
        tmp_path,
        """
        measurements:
          ee:
            hepdata:
              path: DATA/hepdata/lhcb_z_8tev_ee_mumu/ee_ins1347133/Table2.yaml
              variable: 0
              uncorrelated: ['sys,uncorr']
              relative: ['sys,lumi']
              sources: {'sys,corr': ee_corr}
          mumu:
            hepdata:
              path: DATA/hepdata/lhcb_z_8tev_ee_mumu/mumu_ins1406555/HEPData-ins1406555-v1-Table_2.yaml
              variable: '$\\sigma_{Z \\to \\mu^{+}\\mu^{-}}$'
              per_bin_width: true
              drop_bins: [17]
              scale: 1000.0
              quantity: {label: 'dσ/dy', unit: fb}
        correlations:
          - {a: 'ee:sys,lumi', b: 'mumu:lumi', rho: 1.0}
        quantity: {label: 'dσ/dy', unit: fb}
        """,
    )
    # the ee channel is in pb, the μμ one in fb after scale: the combination's quantity must
    # be given (the measurements' units differ, see test_units_that_differ_are_an_error)
    spec = read_yaml(path)
    ee = read_hepdata(
        EE,
        variable=0,
        name="ee",
        uncorrelated=["sys,uncorr"],
        relative=["sys,lumi"],
        sources={"sys,corr": "ee_corr"},
    )
    mm = read_hepdata(
        MM,
        variable="$\\sigma_{Z \\to \\mu^{+}\\mu^{-}}$",
        name="mumu",
        per_bin_width=True,
        drop_bins=[17],
        scale=1000.0,
        quantity=Quantity("dσ/dy", "fb"),
    )
    assert_same_measurement(spec.measurements["ee"], ee.measurement)
    assert_same_measurement(spec.measurements["mumu"], mm.measurement)
    assert "ee_corr" in ee.measurement.source_names and ee.measurement.relative  # renamed
    # the label as written in the file reaches the (cleaned) source
    assert spec.correlations == {("ee:lumi", "mumu:lumi"): 1.0}
    assert spec.differential and spec.format == "yaml"
    assert spec.observables == {f"bin{i}": [f"ee:bin{i}", f"mumu:bin{i}"] for i in range(17)}
    assert spec.binning.same_bins(ee.binning) and spec.binning.label == "$y_{Z}$"
    assert spec.quantity == Quantity("dσ/dy", "fb")


def test_hepdata_matrices_and_breakdown_map_onto_read_hepdata(tmp_path):
    path = config(
        tmp_path,
        """
        measurements:
          atlas:
            hepdata:
              path: DATA/hepdata/ttbar_8tev_toppt_atlas_cms/atlas_ins1404878
              table: Table 30
              variable: DSIG/DPT_TOP (breakdown of systematics)
              matrices:
                - {content: stat, kind: correlation, table: Table 100}
              drop_bins: [7]
          cms:
            hepdata:
              path: DATA/hepdata/ttbar_8tev_toppt_atlas_cms/cms_ins1370682/Table15.yaml
              matrices:
                - {content: stat, kind: covariance, table: Table16.yaml}
              breakdown: {table: Table17.yaml}
              drop_bins: [7]
        """,
    )
    spec = read_yaml(path)
    atlas = read_hepdata(
        TT8 / "atlas_ins1404878",
        "Table 30",
        "DSIG/DPT_TOP (breakdown of systematics)",
        name="atlas",
        matrices=[HEPDataMatrix("stat", "correlation", "Table 100")],
        drop_bins=[7],
    )
    cms = read_hepdata(
        TT8 / "cms_ins1370682" / "Table15.yaml",
        name="cms",
        matrices=[HEPDataMatrix("stat", "covariance", "Table16.yaml")],
        breakdown=HEPDataBreakdown("Table17.yaml"),
        drop_bins=[7],
    )
    assert_same_measurement(spec.measurements["atlas"], atlas.measurement)
    assert_same_measurement(spec.measurements["cms"], cms.measurement)
    # both records: 0-60-100-150-200-260-320-400(-500) GeV; ATLAS without units, CMS in GeV
    np.testing.assert_array_equal(spec.binning.low, [0, 60, 100, 150, 200, 260, 320])
    assert len(spec.observables) == 7


def test_a_matrix_in_another_file_is_found_relative_to_the_configuration(tmp_path):
    path = config(
        tmp_path,
        """
        measurements:
          wel:
            hepdata:
              path: DATA/hepdata/cms_wel_7tev_gap_bins/HEPData-ins1118047-v1-Table_1.yaml
              variable: 0
              scale: 1.0e-3
              matrices:
                - {content: total, kind: covariance,
                   path: DATA/hepdata/cms_wel_7tev_gap_bins/HEPData-ins1118047-v1-Table_2.yaml}
        """,
    )
    spec = read_yaml(path)
    d = read_hepdata(
        HEPDATA / "cms_wel_7tev_gap_bins" / "HEPData-ins1118047-v1-Table_1.yaml",
        variable=0,
        name="wel",
        scale=1e-3,
        matrices=[
            HEPDataMatrix(
                "total",
                "covariance",
                path=HEPDATA / "cms_wel_7tev_gap_bins" / "HEPData-ins1118047-v1-Table_2.yaml",
            )
        ],
    )
    assert_same_measurement(spec.measurements["wel"], d.measurement)
    assert not spec.binning.is_contiguous  # the gap at 1.4 < |η| < 1.6 is kept
    assert spec.binning == d.binning


# ---------------------------------------------------------------------- ROOT
JES_UP = np.array([1.0, 0.5, -0.5, 0.2])
JES_DOWN = np.array([-0.8, -0.4, 0.3, -0.1])
COV = np.array(
    [[4.0, 0.8, 0.3, 0.0], [0.8, 1.0, 0.2, 0.1], [0.3, 0.2, 2.25, 0.4], [0.0, 0.1, 0.4, 1.0]]
)


@pytest.fixture(scope="module")
def rootfile(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("yaml_root") / "inputs.root"
    nominal = np.array([10.0, 6.0, 5.0, 2.0])
    sigma = np.sqrt(np.diag(COV))
    with uproot.recreate(path) as f:
        f["nominal"] = weighted_hist(nominal, [4.0, 1.0, 2.25, 1.0], EDGES)
        f["other"] = weighted_hist(nominal * 1.05, [5.0, 1.2, 2.0, 1.5], EDGES)
        f["jes_up"] = (nominal + JES_UP, EDGES)
        f["jes_down"] = (nominal + JES_DOWN, EDGES)
        f["jes_up_shift"] = (JES_UP, EDGES)
        f["lumi_fraction"] = (np.full(4, 0.02), EDGES)
        f["stat_cov"] = hist2d(COV, EDGES)
        f["stat_corr"] = hist2d(COV / np.outer(sigma, sigma), EDGES)
        f["rebinned"] = weighted_hist(nominal, [1.0] * 4, [0.0, 1.0, 3.0, 7.0, 16.0])
    write_root(
        path.with_name("graph.root"),
        {
            "g": GraphAsymmErrors(
                0.5 * (EDGES[1:] + EDGES[:-1]),
                nominal,
                0.5 * np.diff(EDGES),
                0.5 * np.diff(EDGES),
                [3.0, 1.5, 2.0, 1.2],
                [3.5, 1.6, 2.5, 1.3],
            ),
            "stat": GraphAsymmErrors(
                0.5 * (EDGES[1:] + EDGES[:-1]),
                nominal,
                0.5 * np.diff(EDGES),
                0.5 * np.diff(EDGES),
                [2.0, 1.0, 1.5, 1.0],
                [2.0, 1.0, 1.5, 1.0],
            ),
        },
    )
    return path


def test_root_keys_map_onto_measurement_from_histograms_and_graph(tmp_path, rootfile):
    path = write(
        tmp_path / "c.yaml",
        f"""
        measurements:
          A:
            root:
              file: {rootfile}
              histogram: nominal
              systematics:
                jes: [jes_up, jes_down]
                lumi: {{up: lumi_fraction, kind: fraction}}
              relative: [lumi]
          B:
            root:
              file: {rootfile}
              histogram: other
              stat_covariance: stat_cov
              kind: shift
              systematics: {{jes: jes_up_shift}}
              axis_unit: GeV
          C:
            root:
              file: {rootfile.with_name("graph.root")}
              graph: g
              errors: total
              stat: stat
              error_source: C_syst
              error_source_correlated: false
              bin_prefix: p
        correlations:
          - {{a: 'A:jes', b: 'B:jes', rho: 1.0}}
        """,
    )
    spec = read_yaml(path)
    a = measurement_from_histograms(
        "nominal",
        name="A",
        systematics={
            "jes": ("jes_up", "jes_down"),
            "lumi": Systematic("lumi_fraction", kind="fraction"),
        },
        relative=["lumi"],
        file=rootfile,
    )
    b = measurement_from_histograms(
        "other",
        name="B",
        stat_covariance="stat_cov",
        kind="shift",
        systematics={"jes": "jes_up_shift"},
        file=rootfile,
    )
    c = measurement_from_graph(
        "g",
        name="C",
        errors="total",
        stat="stat",
        error_source="C_syst",
        error_source_correlated=False,
        bin_prefix="p",
        file=rootfile.with_name("graph.root"),
    )
    for name, d in (("A", a), ("B", b), ("C", c)):
        assert_same_measurement(spec.measurements[name], d.measurement)
    assert spec.observables["bin2"] == ["A:A_bin2", "B:B_bin2", "C:p2"]
    # the first histogram's axis (uproot writes a hist axis as TAxis 'xaxis' with its label)
    np.testing.assert_array_equal(spec.binning.edges, EDGES)
    assert (spec.binning.name, spec.binning.label) == ("xaxis", "p_{T} [GeV]")
    assert spec.correlations == {("A:jes", "B:jes"): 1.0}


def test_root_errors_name_file_line_and_key(tmp_path, rootfile):
    cases = [
        (
            "histogram: missing",
            "histogram: missing",
            r"root/histogram: .*no object 'missing' in inputs\.root",
        ),
        ("histogram: nominal\n      errors: total", "errors: total", "applies to a graph only"),
        (
            "histogram: nominal\n      systematics: {jes: rebinned}",
            "jes: rebinned",
            r"at measurements/A/root/systematics/jes: .*binning of .*rebinned.* differs",
        ),
        ("graph: nominal", "graph: nominal", "expected a TGraphAsymmErrors"),
    ]
    for i, (body, needle, match) in enumerate(cases):
        path = write(
            tmp_path / f"c{i}.yaml",
            f"measurements:\n  A:\n    root:\n      file: {rootfile}\n      {body}\n",
        )
        error_of(path, needle, match)
    missing = write(
        tmp_path / "m.yaml",
        "measurements:\n  A:\n    root:\n      file: nope.root\n      histogram: h\n",
    )
    error_of(missing, "file: nope.root", "no ROOT file")
    both = write(
        tmp_path / "b.yaml",
        f"measurements:\n  A:\n    root:\n      file: {rootfile}\n      histogram: h\n      graph: g\n",
    )
    error_of(both, "graph: g", "'histogram' .* or 'graph' .*, one of them")


# ---------------------------------------------------------------------- inline binnings
def test_inline_measurements_with_a_binning_are_matched_by_edges(tmp_path):
    path = write(
        tmp_path / "c.yaml",
        """
        measurements:
          A:
            estimates: {a0: 10.0, a1: 5.0, a2: 1.0}
            stat: {a0: 1.0, a1: 0.5, a2: 0.2}
            binning: {edges: [0, 10, 20, 40], name: pt, label: '$p_T$', unit: GeV}
          B:   # its bins [10, 20) and [20, 40) are A's bins 1 and 2; [40, 60) A has not
            estimates: {b0: 5.5, b1: 1.1, b2: 0.3}
            stat: {b0: 0.5, b1: 0.1, b2: 0.1}
            binning: {low: [10, 20, 40], high: [20, 40, 60], unit: GeV}
        binning: {match: union}
        """,
    )
    spec = read_yaml(path)
    assert spec.observables == {
        "bin0": ["A:a0"],
        "bin1": ["A:a1", "B:b0"],
        "bin2": ["A:a2", "B:b1"],
        "bin3": ["B:b2"],
    }
    np.testing.assert_array_equal(spec.binning.edges, [0, 10, 20, 40, 60])
    assert (spec.binning.name, spec.binning.label, spec.binning.unit) == ("pt", "$p_T$", "GeV")
    res = spec.combiner().combine()
    # closed form: inverse-variance means where both measure a bin, the one value elsewhere
    assert res.values["bin0"] == pytest.approx(10.0, rel=1e-12)
    assert res.values["bin1"] == pytest.approx((5.0 / 0.25 + 5.5 / 0.25) / 8.0, rel=1e-12)
    w = np.array([1 / 0.04, 1 / 0.01])
    assert res.values["bin2"] == pytest.approx(w @ [1.0, 1.1] / w.sum(), rel=1e-12)
    assert res.values["bin3"] == pytest.approx(0.3, rel=1e-12)
    # without match: union the bin B has alone is an error naming both
    exact = write(tmp_path / "e.yaml", path.read_text().replace("binning: {match: union}\n", ""))
    msg = error_of(exact, "A:", r"bin 0 \[0, 10\) GeV of measurement 'A'")
    assert "not a bin of measurement 'B'" in msg and "match: union" in msg


def test_top_level_binning_of_inline_observables(tmp_path):
    path = write(
        tmp_path / "c.yaml",
        """
        measurements:
          A: {estimates: {y0: 1.0, y1: 2.0}, stat: {y0: 0.1, y1: 0.1}}
          B: {estimates: {y0: 1.1, y1: 2.1}, stat: {y0: 0.1, y1: 0.1}}
        binning: {edges: [2.0, 2.5, 4.5], name: y, label: '$y$'}
        quantity: {label: 'dσ/dy', unit: pb, qualifiers: [{name: SQRT(S), value: 8000, unit: GeV}]}
        """,
    )
    spec = read_yaml(path)
    assert spec.differential and list(spec.observables) == ["y0", "y1"]
    assert spec.binning == Binning.from_edges([2.0, 2.5, 4.5], name="y", label="$y$")
    assert spec.quantity == Quantity("dσ/dy", "pb", (("SQRT(S)", "8000", "GeV"),))
    numbered = write(tmp_path / "n.yaml", path.read_text().replace("edges: [2.0, 2.5, 4.5], ", ""))
    b = read_yaml(numbered).binning
    assert b.is_index and b.label == "$y$" and b.n_bins == 2
    # no binning at all: differential: true numbers the bins, as before
    plain = write(
        tmp_path / "p.yaml",
        path.read_text().split("binning:")[0] + "differential: true\n",
    )
    assert read_yaml(plain).binning == Binning.index(2)


# ---------------------------------------------------------------------- malformed entries
LHCB_CONFIG = """
measurements:
  ee:
    hepdata:
      path: DATA/hepdata/lhcb_z_8tev_ee_mumu/ee_ins1347133/Table2.yaml
      variable: 0
  mumu:
    hepdata:
      path: DATA/hepdata/lhcb_z_8tev_ee_mumu/mumu_ins1406555/HEPData-ins1406555-v1-Table_2.yaml
      variable: 0
      per_bin_width: true
      drop_bins: [17]
"""


@pytest.mark.parametrize(
    ("change", "needle", "match"),
    [
        # the HEPData reader's message, after the configuration's file, line and key
        (
            ("      variable: 0\n  mumu", "  mumu"),
            3,  # ee's 'hepdata:' line
            r"at measurements/ee/hepdata: .*Table2\.yaml has 2 dependent variables.*variable=",
        ),
        (
            ("drop_bins: [17]", "drop_bins: [18]"),
            "drop_bins",
            r"at measurements/mumu/hepdata/drop_bins: .*Table_2\.yaml, variable .*: drop_bins "
            r"\[18\] must be bin positions",
        ),
        (
            ("variable: 0\n  mumu", "variable: 0\n      stat: nostat\n  mumu"),
            "stat: nostat",
            "at measurements/ee/hepdata/stat: .*Table2.yaml, variable .* no error label 'nostat'",
        ),
        (
            ("variable: 0\n  mumu", "variable: 0\n      uncorrelated: ['sys,uncor']\n  mumu"),
            "uncorrelated:",
            r"did you mean 'uncorr'",
        ),
        (("Table2.yaml", "Table9.yaml"), "Table9.yaml", "no HEPData record at"),
        (
            ("per_bin_width: true", "per_bin_width: yes please"),
            "per_bin_width",
            "is not of type 'boolean'",
        ),
        (("variable: 0\n  mumu", "variable: 0\n      colour: red\n  mumu"), "colour", "colour"),
        (
            ("  ee:\n    hepdata:", "  ee:\n    stat: 1.0\n    hepdata:"),
            "stat: 1.0",
            "belongs to an inline",
        ),
        (
            ("  ee:\n    hepdata:", "  ee:\n    estimates: {x: 1}\n    hepdata:"),
            4,  # ee's 'hepdata:'
            "give one of",
        ),
        # bins: the 18th μμ bin (4.25–4.5) kept
        (("      drop_bins: [17]\n", ""), "mumu:", r"bin 17 \[4\.25, 4\.5\) of measurement 'mumu'"),
        # the per-bin σ of μμ against dσ/dy of ee: not the same bins? yes, the same; units too
        (
            (
                "      per_bin_width: true\n",
                "      per_bin_width: true\n      quantity: {unit: fb}\n",
            ),
            "measurements:",
            r"'ee' and 'mumu' are in different units \('pb' and 'fb'\)",
        ),
    ],
)
def test_malformed_hepdata_entries_name_file_line_and_key(tmp_path, change, needle, match):
    old, new = change
    assert old in LHCB_CONFIG
    path = config(tmp_path, LHCB_CONFIG.replace(old, new, 1))
    error_of(path, needle, match)


def test_malformed_combination_entries(tmp_path):
    base = LHCB_CONFIG
    cases = [
        (
            base + "observables: {y: ['ee:bin0', 'mumu:bin0']}\n",
            "observables:",
            "leave 'observables' out",
        ),
        (base + "differential: false\n", "differential:", "make a differential combination"),
        # edges choose the combined bins (issue 20); these lie outside every measurement
        (base + "binning: {edges: [0, 1]}\n", "binning:", "is measured by no measurement"),
        (
            base + "binning: {low: [0], high: [1]}\n",
            "binning:",
            "the bins come from the measurements",
        ),
        (
            base + "  x: {estimates: {x: 1.0}, stat: 0.1}\n",
            "  x:",
            "'x' has no binning",
        ),
        (
            base + "correlations:\n  - {a: 'ee:sys,lumen', b: 'mumu:sys,lumi', rho: 1}\n",
            "- {a:",
            "measurement 'ee' has no source 'lumen'",
        ),
        (
            base + "binning: {match: some}\n",
            "binning:",
            r"is not one of \['exact', 'union', 'coarsest', 'finest', 'edges'\]",
        ),
    ]
    for i, (text, needle, match) in enumerate(cases):
        error_of(config(tmp_path / str(i), text), needle, match)
    inline = """
        measurements:
          A:
            estimates: {a0: 1.0, a1: 2.0}
            stat: {a0: 0.1, a1: 0.1}
            binning: {edges: [0, 1, 2, 3]}
        """
    error_of(
        write(tmp_path / "i.yaml", inline),
        "binning:",
        "3 bins, but the measurement has estimates 2",
    )
    overlap = (
        inline.replace("[0, 1, 2, 3]", "[0, 1, 2]")
        + """
          B:
            estimates: {b0: 1.0}
            stat: 0.1
            binning: {edges: [0.5, 1.5]}
        """
    )
    error_of(
        write(tmp_path / "o.yaml", overlap),
        "  B:",
        r"bin 0 \[0\.5, 1\.5\) of measurement 'B'.* overlaps bin 0 \[0, 1\) of measurement 'A'",
    )


def test_hepdata_errors_keep_the_readers_location():
    """The HEPData part of a message names file, table, variable and bin (read_hepdata)."""
    with pytest.raises(HEPDataError) as err:
        read_hepdata(EE, variable=0, stat="stat", drop_bins=list(range(17)))
    assert "Table2.yaml" in str(err.value)


def test_impact_groups_take_patterns(tmp_path):
    """The one-source-per-bin sources of 'uncorrelated' labels are grouped by a pattern."""
    path = config(
        tmp_path,
        LHCB_CONFIG.replace(
            "variable: 0\n  mumu", "variable: 0\n      uncorrelated: ['sys,uncorr']\n  mumu"
        )
        + "impacts:\n  ee syst: ['ee:corr', 'ee:uncorr_*']\n  none: ['mumu:uncorr_*']\n",
    )
    error_of(path, "none:", "the pattern 'mumu:uncorr_\\*' matches no source")
    path.write_text(path.read_text().replace("  none: ['mumu:uncorr_*']\n", ""))
    spec = read_yaml(path)
    assert spec.impacts == {"ee syst": ["ee:corr", *(f"ee:uncorr_bin{i}" for i in range(17))]}


def test_the_documented_examples_follow_the_schema():
    """Both examples of read_yaml's docstring are valid configurations (schema)."""
    import textwrap

    import jsonschema
    import yaml

    from hepcombine.inputs.yaml import _schema

    doc = read_yaml.__doc__
    blocks = [b.split("\n\n    ")[0] for b in doc.split("::\n\n")[1:]]
    assert len(blocks) == 2
    validator = jsonschema.Draft202012Validator(_schema())
    for block in blocks:
        data = yaml.safe_load(textwrap.dedent(block))
        errors = [e.message for e in validator.iter_errors(data)]
        assert errors == [], errors
