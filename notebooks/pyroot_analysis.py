"""A PyROOT analysis with hepcombine: histograms built in ROOT, combined, back as ROOT objects.

Two experiments measure the same pT spectrum (pseudo-data). Experiment A's histograms are made
in memory with PyROOT (``TH1D`` with ``Sumw2`` errors, jet-energy-scale variations); experiment B
keeps its histograms in a ``TFile`` written by ROOT (nominal, a ``TH2D`` statistical covariance,
variations), read by name. hepcombine combines them bin by bin with the JES and luminosity
variations fully correlated, returns the combination as ROOT objects (``to_pyroot``), and the
result is drawn twice: with ROOT's own ``TCanvas`` (batch mode) and with mplhep.

Run it as ``python notebooks/pyroot_analysis.py OUTDIR``: it writes ``OUTDIR/inputs_B.root``
(ROOT), ``OUTDIR/combination.root`` (hepcombine), ``OUTDIR/combination_root.png`` (ROOT) and
``OUTDIR/combination_mplhep.png`` (mplhep). It needs ``pip install "hepcombine[root]"``.
"""

from __future__ import annotations

import sys
from array import array
from pathlib import Path
from typing import Any

import numpy as np

EDGES = [0.0, 50.0, 100.0, 150.0, 250.0, 400.0]  # GeV
TRUTH = np.array([80.0, 45.0, 18.0, 5.0, 0.9])  # fb/GeV


def th1(ROOT: Any, name: str, values: Any, errors: Any = None) -> Any:
    """A TH1D on EDGES (dσ/dpT in fb/GeV), owned by Python (no TDirectory)."""
    h = ROOT.TH1D(name, "pseudo-data;p_{T} [GeV];d#sigma/dp_{T} [fb/GeV]", 5, array("d", EDGES))
    h.SetDirectory(ROOT.nullptr)
    if errors is not None:
        h.Sumw2()
    for i, v in enumerate(values, start=1):
        h.SetBinContent(i, float(v))
        if errors is not None:
            h.SetBinError(i, float(errors[i - 1]))
    return h


def main(outdir: Path) -> dict[str, Any]:
    import ROOT

    from hepcombine import combine_differential, measurement_from_histograms, write_root
    from hepcombine.outputs.root import to_pyroot

    ROOT.gROOT.SetBatch(True)
    outdir.mkdir(parents=True, exist_ok=True)
    low_edges = np.array(EDGES[:-1])

    # experiment A: histograms in memory
    a_nominal = TRUTH * np.array([1.03, 0.98, 1.04, 0.95, 1.10])
    a_stat = 0.03 * TRUTH * (TRUTH[0] / TRUTH) ** 0.25
    a_jes = (0.02 + 0.03 * low_edges / 400) * a_nominal
    a = {
        "nominal": th1(ROOT, "A_pt", a_nominal, a_stat),
        "jes_up": th1(ROOT, "A_pt_jes_up", a_nominal + a_jes),
        "jes_down": th1(ROOT, "A_pt_jes_down", a_nominal - 0.8 * a_jes),
        "lumi_up": th1(ROOT, "A_pt_lumi_up", 1.021 * a_nominal),
        "lumi_down": th1(ROOT, "A_pt_lumi_down", 0.979 * a_nominal),
    }

    # experiment B: a ROOT file, statistical covariance with 30 % between neighbouring bins
    b_nominal = TRUTH * np.array([0.97, 1.02, 0.99, 1.06, 0.93])
    b_stat = 0.04 * TRUTH * (TRUTH[0] / TRUTH) ** 0.25
    b_cov = (np.eye(5) + 0.3 * (np.eye(5, k=1) + np.eye(5, k=-1))) * np.outer(b_stat, b_stat)
    b_jes = (0.015 + 0.04 * low_edges / 400) * b_nominal
    b_file = outdir / "inputs_B.root"
    f = ROOT.TFile.Open(str(b_file), "RECREATE")
    cov = ROOT.TH2D("pt_statcov", "", 5, array("d", EDGES), 5, array("d", EDGES))
    for i in range(5):
        for j in range(5):
            cov.SetBinContent(i + 1, j + 1, float(b_cov[i, j]))
    for h in (
        th1(ROOT, "pt", b_nominal, np.sqrt(np.diag(b_cov))),
        th1(ROOT, "pt_jes_up", b_nominal + b_jes),
        th1(ROOT, "pt_jes_down", b_nominal - 0.9 * b_jes),
        th1(ROOT, "pt_lumi_up", 1.016 * b_nominal),
        th1(ROOT, "pt_lumi_down", 0.984 * b_nominal),
        cov,
    ):
        h.Write()
    f.Close()

    # hepcombine reads the PyROOT objects and the TFile's objects by name
    A = measurement_from_histograms(
        a["nominal"],
        name="A",
        systematics={"JES": (a["jes_up"], a["jes_down"]), "lumi": (a["lumi_up"], a["lumi_down"])},
    )
    f = ROOT.TFile.Open(str(b_file))
    B = measurement_from_histograms(
        "pt",
        name="B",
        stat_covariance="pt_statcov",
        systematics={"JES": ("pt_jes_up", "pt_jes_down"), "lumi": ("pt_lumi_up", "pt_lumi_down")},
        file=f,
    )
    f.Close()
    combination = combine_differential(
        [A, B], correlations={("A:JES", "B:JES"): 1.0, ("A:lumi", "B:lumi"): 1.0}
    )
    write_root(outdir / "combination.root", combination, directory="combination")
    objects = to_pyroot(combination)  # TH1D, TGraphAsymmErrors, TH2D, breakdown TH1Ds

    # ROOT's own drawing, batch mode: the combination as a line with the band of its profile
    # intervals, the inputs as points with their total uncertainties (spread within the bin)
    a_total = np.sqrt(np.diag(A.measurement.covariance))
    b_total = np.sqrt(np.diag(B.measurement.covariance))
    ROOT.gStyle.SetOptStat(0)
    canvas = ROOT.TCanvas("c", "combination", 800, 700)
    canvas.SetLogy()
    canvas.SetLeftMargin(0.13)
    line = objects["combined"]
    line.SetTitle("hepcombine: A + B, JES and luminosity correlated")
    line.SetLineColor(ROOT.kOrange + 7)
    line.SetLineWidth(2)
    line.SetMinimum(0.3)
    line.SetMaximum(400.0)
    line.Draw("hist")
    band = objects["combined_profile"]
    band.SetFillColorAlpha(ROOT.kOrange + 7, 0.4)
    band.SetLineColor(ROOT.kOrange + 7)
    band.Draw("2 same")
    centers = 0.5 * (np.array(EDGES[1:]) + low_edges)
    shift = 0.12 * np.diff(EDGES)
    points = []
    for values, total, dx, style, color in (
        (a_nominal, a_total, -shift, 20, ROOT.kBlack),
        (b_nominal, b_total, shift, 21, ROOT.kAzure + 2),
    ):
        g = ROOT.TGraphErrors(5, centers + dx, values, np.zeros(5), total)
        g.SetMarkerStyle(style)
        g.SetMarkerColor(color)
        g.SetLineColor(color)
        g.Draw("P same")
        points.append(g)
    line.Draw("hist same")
    legend = ROOT.TLegend(0.5, 0.72, 0.88, 0.88)
    legend.AddEntry(points[0], "A (total unc.)", "pe")
    legend.AddEntry(points[1], "B (total unc.)", "pe")
    legend.AddEntry(band, "Combination (profile interval)", "lf")
    legend.Draw()
    root_png = outdir / "combination_root.png"
    canvas.SaveAs(str(root_png))

    # the same result with mplhep
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hepcombine.plots.result import plot_spectrum

    low, high = combination.asymmetric_errors()
    fig = plot_spectrum(
        EDGES,
        {
            "A (total unc.)": (a_nominal, a_total),
            "B (total unc.)": (b_nominal, b_total),
        },
        (combination.values, low, high),
        axis_label=r"$p_\mathrm{T}$ [GeV]",
        ylabel=r"$\mathrm{d}\sigma/\mathrm{d}p_\mathrm{T}$ [fb/GeV]",
        logy=True,
    )
    mplhep_png = outdir / "combination_mplhep.png"
    fig.savefig(mplhep_png, dpi=80)
    plt.close(fig)
    return {
        "combination": combination,
        "objects": objects,
        "root_png": root_png,
        "mplhep_png": mplhep_png,
        "inputs": (A, B),
    }


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("pyroot_analysis"))
