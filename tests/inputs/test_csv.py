"""BLUE tables from CSV files (hepcombine.inputs.csv): errors name file and line."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import DATA

from hepcombine.blue import blue_from_csv
from hepcombine.exceptions import ConfigError, InvalidCorrelation, UnknownName
from hepcombine.inputs.csv import read_blue_csv


def test_reads_the_seed_tables():
    data, pairs = read_blue_csv(
        DATA / "lhc_ttbar_xsec_emu_8tev.csv", DATA / "lhc_ttbar_xsec_emu_8tev_corr.csv"
    )
    assert list(data) == ["ATLAS", "CMS"]
    assert data["ATLAS"]["value"] == pytest.approx(242.4)  # ATLAS-CONF-2014-054, Table 1
    assert set(pairs) >= {"Lumi", "Stat"}
    assert all(set(p) <= {("ATLAS", "CMS")} for p in pairs.values())


def test_csv_errors(tmp_path) -> None:
    t = tmp_path / "t.csv"
    t.write_text("measurement,value,s\na,1.0,0.5\nb,x,0.5\n")
    with pytest.raises(ConfigError, match=r"t.csv:3: measurement 'b', column 'value'"):
        blue_from_csv(t)
    t.write_text("measurement,value,s\na,1.0,0.5\nb,2.0,0.5\n")
    c = tmp_path / "c.csv"
    c.write_text("source,measurement_a,measurement_b,rho\ns,a,b,0.5\nt,a,b,0.1\n")
    with pytest.raises(UnknownName, match=r"c.csv:3: source 't'"):
        blue_from_csv(t, c)
    c.write_text("source,measurement_a,measurement_b,rho\ns,a,z,0.5\n")
    with pytest.raises(UnknownName, match=r"c.csv:2: measurement 'z'"):
        blue_from_csv(t, c)
    c.write_text("source,measurement_a,measurement_b,rho\ns,a,b,1.5\n")
    with pytest.raises(InvalidCorrelation, match=r"c.csv:2: source 's' \(a, b\)"):
        blue_from_csv(t, c)
    with pytest.raises(ConfigError, match="cannot read"):
        blue_from_csv(tmp_path / "missing.csv")
    # pairs not listed are uncorrelated: w1 = σ2²/(σ1² + σ2²) = 1/2
    comb = blue_from_csv(t)
    np.testing.assert_allclose(comb.weights, [0.5, 0.5])


# ------------------------------------------------------------------------- misc
