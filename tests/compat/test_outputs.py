"""Tables, report and JSON of the compatibility diagnostics: they hold the result's numbers (read
back from the text), the JSON validates against its schema and round-trips every number by name
(null for what was not computed), and the plots are PNGs with content that draw into the axes
they are given and leave matplotlib's global state alone."""

from __future__ import annotations

import json
import math

import jsonschema
import matplotlib
import numpy as np
import pytest
from conftest import DATA

from hepcombine import InvalidArgument, UnknownName, load_config
from hepcombine.compat import compatibility
from hepcombine.outputs.compat import (
    compatibility_tables,
    compatibility_to_dict,
    format_compatibility,
    leave_one_out_table,
    load_schema,
    measurements_table,
    pulls_table,
)
from hepcombine.outputs.json import dumps
from hepcombine.plots.compat import plot_ideogram, plot_leave_one_out, plot_pulls

LHCB = DATA / "lhcb_z_8tev_ee_mumu.yaml"


@pytest.fixture(scope="module")
def lhcb():
    spec = load_config(LHCB)
    return spec, compatibility(spec, scale=True, toys=30, seed=1)


@pytest.fixture(scope="module")
def example():
    return compatibility(load_config(DATA / "convino_example" / "combination.txt"), scale=True)


def test_json_validates_and_round_trips(lhcb, example):
    _, diag = lhcb
    schema = load_schema()
    for d in (
        diag,
        example,
        compatibility(load_config(DATA / "convino_setups" / "ATLAS13Only" / "rho_config.txt")),
    ):
        data = json.loads(dumps(compatibility_to_dict(d, config="c.yaml")))
        jsonschema.Draft202012Validator(schema).validate(data)
    data = json.loads(dumps(compatibility_to_dict(diag)))
    for key, p in diag.pulls.items():
        assert data["pulls"][key]["pull"] == p.pull and data["pulls"][key]["error"] == p.error
        assert data["toys"]["pulls"][key]["exceeded"] == diag.toys.pulls[key].exceeded
    for m, loo in diag.leave_one_out.items():
        for o in diag.observables:
            assert data["leave_one_out"][m]["values"][o]["significance"] == loo.significance[o]
    assert data["scaled"]["scale_factor"] == diag.scale_factor
    assert data["scaled"]["combined"]["bin3"]["error"] == diag.scaled.errors["bin3"]
    assert data["chi2"] == diag.chi2 and data["ndf"] == 17 and data["linearised"] is False
    # a value nobody else measures: null, with its status
    one = compatibility(
        load_config(
            DATA / "convino_setups" / "Combination_ATLAS813CMS13_corrV2_statonly" / "rho_config.txt"
        )
    )
    data = json.loads(dumps(compatibility_to_dict(one)))
    first = next(iter(data["pulls"].values()))
    assert first["pull"] is None and first["status"].startswith("x̂ − x̄ has no variance")
    loo = data["leave_one_out"]["CMS_13TeV_2016_dil_inputs"]["values"]
    cms = [o for o in loo if o.startswith("CMS")]
    assert all(
        loo[o]["value"] is None and loo[o]["status"] == "not measured without it" for o in cms
    )


def test_report_holds_the_numbers(lhcb):
    _, diag = lhcb
    text = format_compatibility(diag)
    assert f"χ²_min = {diag.chi2:.5g} for 17 degrees of freedom" in text
    assert f"S = √(χ²/ndf) = {diag.scale_factor:.4g}" in text
    worst = max(diag.pulls.values(), key=lambda p: abs(p.pull))
    assert f"largest |pull| = {abs(worst.pull):.2f} ({worst.name}" in text
    rows = {
        ln.split()[0]: ln
        for ln in text.splitlines()
        if ln.startswith("  ee:") or ln.startswith("  mumu:")
    }
    assert len(rows) == 34
    for key, p in diag.pulls.items():
        assert f"{p.pull:+.2f}".replace("-", "−") in rows[key]
    assert "Combination with every input uncertainty scaled by S" in text
    short = format_compatibility(diag, max_rows=5)
    assert "… 29 more (largest |pull| first" in short
    assert repr(diag).startswith("CompatibilityResult(χ²/ndf = 23.35/17, p = 0.138, S = 1.17; ")
    assert f"largest |pull| {abs(worst.pull):.2f} ({worst.name})" in repr(diag)


def test_tables_in_three_styles(example):
    latex = compatibility_tables(example, "latex")
    assert latex.count("\\toprule") == 3 and latex.count("\\bottomrule") == 3
    assert "$\\chi^2/\\mathrm{ndf} = 0.81/2$" in latex
    p = example.pulls["fit_b:xs_b"]
    assert f"$-{abs(p.pull):.2f}$" in pulls_table(example, "latex")
    md = measurements_table(example, "markdown")
    assert md.startswith("| Measurement |") and "| fit_a | 1 |" in md
    text = leave_one_out_table(example, "text")
    sig = example.leave_one_out["fit_b"].significance["xsec"]
    assert f"+{sig:.2f}" in text
    assert "fit_a:xs_a → xsec" in pulls_table(example, "text")
    assert "A label" in pulls_table(example, "markdown", names={"fit_a:xs_a": "A label"})
    with pytest.raises(InvalidArgument, match="style"):
        pulls_table(example, "html")  # type: ignore[arg-type]


def _png(fig, path):
    import matplotlib.image

    fig.savefig(path, dpi=80)
    image = matplotlib.image.imread(path)
    assert image.shape[0] > 150 and image.shape[1] > 300
    assert image[..., :3].std() > 0.05
    return image


def test_plots_render_and_respect_axes(lhcb, example, tmp_path):
    import matplotlib.pyplot as plt

    spec, diag = lhcb
    before = dict(matplotlib.rcParams)
    interactive = matplotlib.is_interactive()
    _png(plot_pulls(diag, binning=spec.binning), tmp_path / "pulls_bins.png")
    _png(plot_leave_one_out(diag, binning=spec.binning), tmp_path / "loo_bins.png")
    _png(plot_pulls(example), tmp_path / "pulls_rows.png")
    _png(plot_leave_one_out(example), tmp_path / "loo_rows.png")
    _png(plot_ideogram(example, unit="pb"), tmp_path / "ideogram.png")
    _png(plot_ideogram(diag, "bin0"), tmp_path / "ideogram_scaled.png")
    fig, axes = plt.subplots(1, 2)
    assert plot_pulls(example, ax=axes[0]) is fig
    assert plot_ideogram(example, ax=axes[1]) is fig
    assert len(axes[1].lines) == 5  # three inputs, their sum, the combined value
    assert dict(matplotlib.rcParams) == before and matplotlib.is_interactive() == interactive
    plt.close("all")
    with pytest.raises(UnknownName, match="did you mean 'bin1'"):
        plot_ideogram(diag, "bin1x")
    with pytest.raises(InvalidArgument, match="17 combined values"):
        plot_pulls(diag, binning=load_config(LHCB).binning.select([0, 1]))
    with pytest.raises(InvalidArgument, match="no measurement was left out"):
        plot_leave_one_out(compatibility(load_config(LHCB), leave_out=[]))
    plt.close("all")


def test_ideogram_areas_are_proportional_to_one_over_sigma(example):
    import matplotlib.pyplot as plt

    fig = plot_ideogram(example)
    ax = fig.axes[0]
    inputs = example.inputs_of("xsec")
    curves = ax.lines[: len(inputs)]
    for line, p in zip(curves, inputs, strict=True):
        x, y = line.get_data()
        area = float(np.sum(0.5 * (y[1:] + y[:-1]) * np.diff(x)))
        cdf = [
            0.5 * (1 + math.erf((t - p.value) / p.input_error / math.sqrt(2)))
            for t in (x[0], x[-1])
        ]
        inside = cdf[1] - cdf[0]
        assert area == pytest.approx(inside / p.input_error, rel=2e-3)
    plt.close(fig)
