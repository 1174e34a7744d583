"""The configurations shipped in data/ run and give their published numbers."""

from pathlib import Path

import pytest

from hepcombine import Combiner, ConfigError, load_config, write_convino

DATA = Path(__file__).parent.parent / "data"


def test_ttbar_yaml_reproduces_the_seed_combination():
    """Reference: data/README — BLUE with these inputs 241.46454 pb, χ² 0.05403 (1 dof)."""
    spec = load_config(DATA / "ttbar_8tev_emu.yaml")
    res = Combiner(**spec.combiner_arguments()).combine()
    assert res.values["sigma_tt"] == pytest.approx(241.46454, rel=1e-7)
    assert res.errors["sigma_tt"] == pytest.approx(8.5325, abs=5e-4)
    assert res.chi2 == pytest.approx(0.05403, abs=5e-6)


def test_names_with_convino_separators_cannot_be_written_as_convino(tmp_path):
    spec = load_config(DATA / "ttbar_8tev_emu.yaml")  # has sources 'MC+PS' and 'Z+j'
    with pytest.raises(ConfigError, match=r"MC\+PS.*separators"):
        write_convino(spec, tmp_path / "out")
    assert not (tmp_path / "out").exists()
