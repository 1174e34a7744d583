"""``hepcombine scan``: scan the correlation assumptions of a configuration."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import _common as c

__all__ = ["register", "run"]

HELP = "scan the correlation assumptions of a config; write scan_result.txt and plots"

DESCRIPTION = """\
Scan the correlation assumptions of CONFIG: every scan group (a [correlations] line with
'(nominal & from : to)' ranges, or YAML correlations with 'scan:') is varied over its range and
the combination redone at each point.

Outputs (all or none): DIR/[P_]scan_result.txt, the table of value, symmetric error, profile
interval and chi2_min per point, per group and observable; DIR/[P_]scan_<group>_<observable>.png
and .pdf, each combined value against the scanned correlation; --json FILE with every scan.
A progress bar is shown on stderr when stderr is a terminal. --workers N / --scheduler ADDRESS
run the points as Dask tasks (the numbers do not change); they need Dask:
python -m pip install 'hepcombine[dask]'. --output RUNDIR streams the points to a run directory
chunk by chunk (manifest.json, chunk-*.npz; at the end scan.npz or eps-scan.npz): rerunning the
same command resumes an interrupted scan, with the numbers of one uninterrupted scan; a RUNDIR
of another scan (other config, groups, points or options) is an error.

With --eps-scan SOURCE (repeatable; a source, a bare name or a pattern) the errors on errors of
those sources are scanned instead: epsilon from --eps-range LOW HIGH (default 0 1) in --points
(default 11) steps, with the profile interval (Bartlett-corrected with --bartlett), chi2_min and
the goodness of fit at every point: DIR/[P_]eps_scan_result.txt, the plots
DIR/[P_]eps_scan_<observable>.png and .pdf, --json FILE.
"""

EPILOG = """\
examples:
  hepcombine scan base.txt                         # 6 points per group (as convino -s)
  hepcombine scan base.txt --points 11 --neyman --output-dir scans --json scans.json
  hepcombine scan base.txt --intervals             # with profile intervals at every point
  hepcombine scan base.txt --intervals --workers 2 # the points on 2 local worker processes
  hepcombine scan base.txt --points 101 --intervals --output scan_run   # rerun to resume
  hepcombine scan LHC_comb.yaml --repair-correlations --symmetrise-correlations \
      --eps-scan LHCrad --eps-scan PDF --eps-range 0 0.6 --points 7 --bartlett
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "scan", help=HELP, description=DESCRIPTION, epilog=EPILOG, formatter_class=c.FORMATTER
    )
    c.add_config(p)
    p.add_argument(
        "--points",
        metavar="N",
        type=c.points,
        default=None,
        help="points per scan group (default: the config's, 6 for Convino files)",
    )
    c.add_chi2(p)
    c.add_output(p)
    p.add_argument("--json", metavar="FILE", type=Path, help="write the scans as JSON to FILE")
    p.add_argument(
        "--no-plots", action="store_true", help="write only the table (and --json), no plots"
    )
    p.add_argument(
        "--intervals",
        action="store_true",
        help="compute the profile-likelihood (Minos) interval at every point of a non-quadratic "
        "chi2 (slow; for a quadratic chi2 they are exact and always reported)",
    )
    p.add_argument(
        "--eps-scan",
        metavar="SOURCE",
        action="append",
        default=[],
        help="scan epsilon, the errors on errors of SOURCE (repeatable), instead of the "
        "correlations",
    )
    p.add_argument(
        "--eps-range",
        metavar=("LOW", "HIGH"),
        nargs=2,
        type=float,
        default=(0.0, 1.0),
        help="the range of epsilon of --eps-scan (default 0 1)",
    )
    p.add_argument(
        "--eps-kind",
        choices=("dependent", "independent"),
        default="dependent",
        help="the errors on errors of --eps-scan: one epsilon per name (dependent, default) or "
        "per source",
    )
    run_group = c.add_execution(p)
    run_group.add_argument(
        "--output",
        metavar="RUNDIR",
        type=Path,
        help="stream the points to RUNDIR as chunks finish; rerunning the same command resumes "
        "an interrupted scan (the numbers are those of one uninterrupted scan)",
    )
    c.add_combiner(p)
    c.add_plot_style(p)
    c.add_debug(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..outputs.atomic import output_set
    from ..outputs.json import dumps, scans_to_dict

    c.check_dask(args)
    if args.eps_scan:
        return _run_eps(args)
    table_path = c.out_name(args, "scan_result.txt")
    c.check_distinct({"scan_result.txt": table_path, "--json": args.json})
    spec = c.load(args)
    scans, table, figs = c.scan_outputs(
        spec, args, n_points=args.points, intervals=args.intervals, plots=not args.no_plots
    )
    json_text = None
    if args.json is not None:
        chi2 = spec.chi2_definition(args.chi2)
        json_text = dumps(scans_to_dict(scans, chi2, config=str(args.config)))

    written: list[Path] = []
    with output_set() as out:
        written.append(out.write_text(table_path, table))
        if json_text is not None:
            written.append(out.write_text(args.json, json_text))
        c.stage_figures(out, args, figs, written)
    print(table, end="")
    c.report_written(written)
    return 0


def _run_eps(args: argparse.Namespace) -> int:
    """``--eps-scan``: the scan over ε (:func:`hepcombine.eps_scan.scan_errors_on_errors`)."""
    import numpy as np

    from ..eps_scan import scan_errors_on_errors
    from ..outputs.atomic import output_set
    from ..outputs.json import dumps

    table_path = c.out_name(args, "eps_scan_result.txt")
    c.check_distinct({"eps_scan_result.txt": table_path, "--json": args.json})
    spec = c.load(args)
    combiner = c.combiner(args, spec)
    low, high = args.eps_range
    grid = np.linspace(low, high, args.points or 11)
    progress = c.Progress("scanning")
    try:
        scan = scan_errors_on_errors(
            combiner,
            args.eps_scan,
            grid,
            kind=args.eps_kind,
            progress=progress,
            workers=args.workers,
            scheduler=args.scheduler,
            output=args.output,
        )
    finally:
        progress.close()
    table = scan.to_table()
    figs: dict[str, Any] = {}
    if not args.no_plots:
        c.quiet_matplotlib()
        from ..plots.combination import file_stem
        from ..plots.scan import plot_eps_scan

        for o in scan.observables:
            figs[f"eps_scan_{file_stem(o)}"] = plot_eps_scan(scan, o, exp_label=c.exp_label(args))
    json_text = None if args.json is None else dumps({"config": str(args.config), **scan.to_dict()})
    written: list[Path] = []
    with output_set() as out:
        written.append(out.write_text(table_path, table))
        if json_text is not None:
            written.append(out.write_text(args.json, json_text))
        c.stage_figures(out, args, figs, written)
    print(table, end="")
    c.report_written(written)
    return 0


def __dir__() -> list[str]:
    return list(__all__)
