"""Figures in Jupyter: a real kernel (ipykernel, run by nbclient) executes a notebook that makes
two hepcombine figures and one of the user's own; all three are displayed (the figures used
to be made inside a style context whose exit switched interactive mode off, so only the
first one showed). And no font warnings reach a user at default logging levels (they came from
text laid out in one style and drawn in another)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from conftest import REPO

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

# matplotlib is first imported by the first hepcombine plot, as in a fresh notebook (that is
# when the old style context lost the inline backend's interactive mode)
CELLS = [
    "from hepcombine import blue_from_csv",
    f"comb = blue_from_csv({str(REPO / 'data/lhc_ttbar_xsec_emu_8tev.csv')!r}, "
    f"{str(REPO / 'data/lhc_ttbar_xsec_emu_8tev_corr.csv')!r})",
    "from hepcombine.plots.blue import plot_summary\nfig1 = plot_summary(comb, unit='pb')",
    "from hepcombine.plots.result import plot_breakdown\nfig2 = plot_breakdown(comb.result)",
    "import matplotlib.pyplot as plt\nfig3, ax = plt.subplots()\nax.plot([1, 2, 3], [2, 1, 3])",
    "import matplotlib\nprint(matplotlib.is_interactive(), len(plt.get_fignums()))",
]


def _images(cell) -> int:
    return sum(1 for o in cell.outputs if o.output_type == "display_data" and "image/png" in o.data)


def test_every_figure_is_displayed_in_jupyter(tmp_path, monkeypatch):
    # the kernel picks its inline backend, as in Jupyter (CI exports MPLBACKEND=Agg)
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in CELLS]
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    assert [_images(c) for c in nb.cells[2:5]] == [1, 1, 1]
    streams = [o for c in nb.cells for o in c.outputs if o.output_type == "stream"]
    assert not [o for o in streams if o.name == "stderr"], streams
    assert nb.cells[5].outputs[0].text.split()[0] == "True"  # still interactive


@pytest.mark.parametrize(
    "styles", [(None, "CMS"), pytest.param(("ATLAS",), marks=pytest.mark.slow)], ids=str
)
def test_no_font_warnings_at_default_logging(tmp_path, styles):
    """Every plot made and saved with logging at its default level (WARNING), in matplotlib's
    default style and in an mplhep style (the other experiment's style in the slow run):
    nothing on stderr. The combinations are computed once; the figures in each style."""
    script = textwrap.dedent(
        f"""
        import logging
        logging.basicConfig()
        import matplotlib
        matplotlib.use("Agg")
        import numpy as np
        from hepcombine import blue_from_csv, load_config
        from hepcombine.plots.blue import plot_summary, plot_correlation_scan
        from hepcombine.plots.combination import combination_figures
        from hepcombine.plots.scan import plot_scan
        from hepcombine.plots.style import use_style
        from hepcombine.scan import scan_all

        data = {str(REPO / "data")!r}
        comb = blue_from_csv(data + "/lhc_ttbar_xsec_emu_8tev.csv",
                             data + "/lhc_ttbar_xsec_emu_8tev_corr.csv")
        blue_scan = comb.scan_correlations("PDF", factors=[0, 0.5, 1])
        spec = load_config(data + "/convino_example/combination.txt")
        c = spec.combiner()
        result = c.combine()
        scans = scan_all(spec)
        for style in {styles!r}:
            use_style(style)
            figs = [plot_summary(comb, xlabel=r"$\\sigma_{{t\\bar{{t}}}}$", unit="pb",
                                 exp_label="ATLAS+CMS"),
                    plot_correlation_scan(blue_scan)]
            figs += combination_figures(c, result, exp_label={{"text": "Preliminary"}}).values()
            figs += [plot_scan(s, o) for s in scans for o in s.observables]
            for i, f in enumerate(figs):
                f.savefig({str(tmp_path)!r} + f"/{{style}}_{{i}}.png", dpi=30)
                f.savefig({str(tmp_path)!r} + f"/{{style}}_{{i}}.pdf")
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""
    assert len(list(tmp_path.glob("*.png"))) >= len(styles) * 6
