"""The ``hepcombine`` command line: parse, validate, call the library, write the outputs.

The module imports nothing heavy at the top level (no numpy, scipy, matplotlib or uproot), so
``hepcombine --help`` starts fast; each subcommand imports what it needs.

Every subcommand computes everything first and writes its files at the end through
:func:`hepcombine._io.output_set`: either all output files are written completely or, on any
error, none of them.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

if TYPE_CHECKING:
    from .combiner import Combiner
    from .config import CombinationSpec
    from .result import CombinationResult

__all__ = ["main"]

PROG = "hepcombine"
log = logging.getLogger(__name__)

_DESCRIPTION = """\
Combine measurements in high-energy physics: the chi2 method of Convino (inputs from
nuisance-parameter fits: Hessians, correlation matrices, tables of orthogonal uncertainties)
and BLUE.

A CONFIG is a Convino base file (any name; the measurement files it lists are read too) or a
hepcombine YAML configuration (*.yaml, *.yml).
"""

_EPILOG = """\
examples:
  hepcombine combine base.txt                     # Convino base file: Pearson chi2, result.txt
  hepcombine combine base.txt --neyman --prefix ny --json ny.json
  hepcombine combine combination.yaml --plots --output-dir out --root out/combined.root
  hepcombine scan base.txt --points 11            # scan_result.txt and plots of every scan group
  hepcombine blue data/lhc_ttbar_xsec_emu_8tev.csv --correlations data/lhc_ttbar_xsec_emu_8tev_corr.csv
  hepcombine <command> --help                     # the options of one command

Exit status: 0 on success, 1 when an input is wrong or an output cannot be written (one line on
stderr says which file, line and block, and what is wrong; --debug shows the traceback), 2 for
wrong usage of the command line. On any error no output file is written.
"""

_COMBINE_DESCRIPTION = """\
Combine the measurements of CONFIG and write the result.

Outputs (written only if everything succeeds; all or none):
  DIR/[P_]result.txt         the Convino-style report: pre- and post-fit correlations of the
                             sources, combined values with asymmetric (profile) and symmetric
                             errors, their correlation and covariance, chi2_min/ndf/p-value,
                             pulls and constraints, the uncertainty breakdown (adds up in
                             quadrature), Convino's impacts, the weights; normalised values
                             when the config asks for them (normalise = true)
  --json FILE                the same as JSON (schema: hepcombine/schemas/result.json)
  --root FILE                a ROOT file, directory 'combination': for a differential config
                             (isDifferential = true / differential: true) the combined TH1D
                             'combined', TGraphAsymmErrors 'combined_profile', TH2D
                             'covariance'/'correlation', 'breakdown_<component>' and, when
                             normalised, 'normalised'/'normalised_covariance'; bins numbered
                             0..n. Otherwise a TH1D 'combined' with one bin per observable
                             (bin labels = names, bin errors = symmetric errors) and TH2D
                             'covariance'/'correlation' with labelled bins
  --plots                    DIR/[P_]summary (one observable) or [P_]summary_<observable>
                             (up to 12 observables), [P_]pulls, [P_]correlation, and
                             [P_]spectrum for a differential config; each as .png and .pdf

The chi2 definition: --neyman or --pearson if given; otherwise a Convino base file uses Pearson
(as the convino program does) and a YAML config its 'chi2:' entry or Neyman. The uncertainty
breakdown and impacts use the config's impact groups ([uncertainty impacts] / impacts:); a
group that is just 'stat' labels the statistical component. --json and --root paths are taken
as given (relative to the current directory); --output-dir and --prefix apply to result.txt and
the plots.
"""

_COMBINE_EPILOG = """\
examples:
  hepcombine combine base.txt
  hepcombine combine base.txt --neyman --prefix neyman          # writes neyman_result.txt
  hepcombine combine base.txt --json result.json --no-intervals
  hepcombine combine diff.txt --root combined.root --plots --output-dir plots
  hepcombine combine combination.yaml --asymmetry smooth --repair-correlations
"""

_SCAN_DESCRIPTION = """\
Scan the correlation assumptions of CONFIG: every scan group (a [correlations] line with
'(nominal & from : to)' ranges, or YAML correlations with 'scan:') is varied over its range and
the combination redone at each point.

Outputs (all or none): DIR/[P_]scan_result.txt, the table of value, symmetric error, profile
interval and chi2_min per point, per group and observable; DIR/[P_]scan_<group>_<observable>.png
and .pdf, each combined value against the scanned correlation; --json FILE with every scan.
A progress bar is shown on stderr when stderr is a terminal.
"""

_SCAN_EPILOG = """\
examples:
  hepcombine scan base.txt                         # 6 points per group (as convino -s)
  hepcombine scan base.txt --points 11 --neyman --output-dir scans --json scans.json
  hepcombine scan base.txt --intervals             # with profile intervals at every point
"""

_BLUE_DESCRIPTION = """\
BLUE combination of a table of measurements (CSV: columns 'measurement', optionally
'observable', 'value', then one column per uncertainty source with absolute uncertainties) with
the correlations of a long-form CSV (columns 'source, measurement_a, measurement_b, rho'; pairs
not listed are uncorrelated). Prints the combined value(s), the uncertainty per source, the
weights, chi2/ndf and the p-value.
"""

_BLUE_EPILOG = """\
example:
  hepcombine blue data/lhc_ttbar_xsec_emu_8tev.csv \\
      --correlations data/lhc_ttbar_xsec_emu_8tev_corr.csv --json blue.json
"""

_PLOT_DESCRIPTION = """\
Re-run the combination of CONFIG and write only its plots (the same as the plots of
'hepcombine combine CONFIG --plots', without result.txt).
"""


# --------------------------------------------------------------------------- errors
class _UsageError(Exception):
    """Wrong command-line usage (exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message} (see '{self.prog} --help')")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _points(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if n < 2:
        raise argparse.ArgumentTypeError(f"a scan needs at least 2 points, got {n}")
    return n


# --------------------------------------------------------------------------- progress bar
class _Progress:
    """A one-line progress bar on ``stream``, drawn only when it is a terminal."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = sys.stderr if stream is None else stream
        self.label = label
        self.width = width
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(isatty and isatty())
        self._drawn = False
        self._start = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        filled = int(self.width * done / total)
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.monotonic() - self._start
        self.stream.write(f"\r{self.label} [{bar}] {done}/{total} {elapsed:5.1f} s")
        self.stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


# --------------------------------------------------------------------------- parser
def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show debug messages and the full traceback of an error",
    )


def _chi2_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--neyman",
        dest="chi2",
        action="store_const",
        const="neyman",
        help="Neyman chi2 (statistical uncertainties fixed)",
    )
    group.add_argument(
        "--pearson",
        dest="chi2",
        action="store_const",
        const="pearson",
        help="Pearson chi2 (statistical uncertainties scale with the prediction); the default "
        "for Convino base files",
    )


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--prefix",
        metavar="P",
        default="",
        help="prefix of the file names written to the output directory (P_result.txt, ...)",
    )
    parser.add_argument(
        "--output-dir",
        metavar="DIR",
        default=".",
        type=Path,
        help="directory for result.txt / scan_result.txt and the plots (default: the current "
        "directory; created if missing)",
    )


def _combine_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--asymmetry",
        choices=("convino", "smooth"),
        default="convino",
        help="interpolation of asymmetric uncertainties: 'convino' (piecewise linear, as the "
        "original program; default) or 'smooth' (quadratic inside |lambda| <= 1)",
    )
    parser.add_argument(
        "--repair-correlations",
        action="store_true",
        help="replace an indefinite correlation assumption by the nearest valid one (the "
        "changes are reported) instead of stopping with an error",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``hepcombine`` (exposed for documentation tools)."""
    from . import __version__

    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(prog=PROG, description=_DESCRIPTION, epilog=_EPILOG, formatter_class=fmt)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show debug messages and full tracebacks"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser(
        "combine",
        help="combine the measurements of a config; write result.txt (and JSON, ROOT, plots)",
        description=_COMBINE_DESCRIPTION,
        epilog=_COMBINE_EPILOG,
        formatter_class=fmt,
    )
    p.add_argument("config", metavar="CONFIG", type=Path, help="Convino base file or YAML config")
    _chi2_options(p)
    _output_options(p)
    p.add_argument("--json", metavar="FILE", type=Path, help="write the result as JSON to FILE")
    p.add_argument("--root", metavar="FILE", type=Path, help="write the result to a ROOT file")
    p.add_argument(
        "--plots", action="store_true", help="write summary, pulls and correlation plots"
    )
    _combine_options(p)
    p.add_argument(
        "--no-intervals",
        action="store_true",
        help="skip the profile-likelihood (Minos) intervals of a non-quadratic chi2 (faster; "
        "reported as 'not computed')",
    )
    _common(p)
    p.set_defaults(func=_cmd_combine)

    p = sub.add_parser(
        "scan",
        help="scan the correlation assumptions of a config; write scan_result.txt and plots",
        description=_SCAN_DESCRIPTION,
        epilog=_SCAN_EPILOG,
        formatter_class=fmt,
    )
    p.add_argument("config", metavar="CONFIG", type=Path, help="Convino base file or YAML config")
    p.add_argument(
        "--points",
        metavar="N",
        type=_points,
        default=None,
        help="points per scan group (default: the config's, 6 for Convino files)",
    )
    _chi2_options(p)
    _output_options(p)
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
    _combine_options(p)
    _common(p)
    p.set_defaults(func=_cmd_scan)

    p = sub.add_parser(
        "blue",
        help="BLUE combination of a CSV table with a CSV of correlations",
        description=_BLUE_DESCRIPTION,
        epilog=_BLUE_EPILOG,
        formatter_class=fmt,
    )
    p.add_argument("table", metavar="TABLE.csv", type=Path, help="the measurements")
    p.add_argument(
        "--correlations",
        metavar="CORR.csv",
        type=Path,
        required=True,
        help="correlations per source and pair of measurements",
    )
    p.add_argument("--json", metavar="FILE", type=Path, help="write the result as JSON to FILE")
    _common(p)
    p.set_defaults(func=_cmd_blue)

    p = sub.add_parser(
        "plot",
        help="re-run a combination and write only its plots",
        description=_PLOT_DESCRIPTION,
        epilog="example:\n  hepcombine plot base.txt --output-dir plots --neyman\n",
        formatter_class=fmt,
    )
    p.add_argument("config", metavar="CONFIG", type=Path, help="Convino base file or YAML config")
    _chi2_options(p)
    _output_options(p)
    _combine_options(p)
    _common(p)
    p.set_defaults(func=_cmd_plot)
    return parser


# --------------------------------------------------------------------------- helpers
def _is_yaml(path: Path) -> bool:
    return path.suffix.lower() in (".yaml", ".yml")


def _chi2(args: argparse.Namespace, spec: CombinationSpec) -> str:
    """--neyman/--pearson; else the config's choice; else Pearson for Convino files (as the
    convino program's command line) and Neyman for YAML."""
    if args.chi2:
        return str(args.chi2)
    if spec.chi2:
        return spec.chi2
    return "neyman" if _is_yaml(Path(args.config)) else "pearson"


def _impact_groups(spec: CombinationSpec) -> dict[str, list[str]] | None:
    """Combiner groups from the config's impact groups; ``stat`` is the statistical component
    the result always has, so a stat-only group is not a group of sources."""
    from .exceptions import ConfigError

    if not spec.impacts:
        return None
    groups: dict[str, list[str]] = {}
    for name, members in spec.impacts.items():
        sources = [m for m in members if m != "stat"]
        if "stat" in members and sources:
            raise ConfigError(
                f"{spec.source}: impacts group {name!r} mixes 'stat' with sources {sources}; "
                "give 'stat' a group of its own"
            )
        if not sources:
            continue
        if name in ("stat", "correlations between groups"):
            raise ConfigError(
                f"{spec.source}: impacts group name {name!r} is reserved; rename the group"
            )
        groups[name] = sources
    return groups or None


def _load(args: argparse.Namespace, scan_points: int | None = None) -> CombinationSpec:
    path = Path(args.config)
    if not path.is_file():
        from .exceptions import ConfigError

        what = "is a directory" if path.is_dir() else "does not exist"
        raise ConfigError(f"{path}: the configuration file {what}")
    if scan_points is not None and not _is_yaml(path):
        from .convino import read_convino

        return read_convino(path, scan_points=scan_points)
    from .config import load_config

    return load_config(path)


def _combiner(args: argparse.Namespace, spec: CombinationSpec) -> Combiner:
    from .combiner import Combiner

    kwargs = spec.combiner_arguments()
    kwargs["chi2"] = _chi2(args, spec)
    return Combiner(
        **kwargs,
        groups=_impact_groups(spec),
        asymmetry=args.asymmetry,
        repair=args.repair_correlations,
    )


def _out_name(args: argparse.Namespace, name: str) -> Path:
    prefix = f"{args.prefix}_" if args.prefix else ""
    return Path(args.output_dir) / f"{prefix}{name}"


def _safe(name: str) -> str:
    """A file-name-safe version of ``name``."""
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", name).strip("_") or "x"


def _normalised(spec: CombinationSpec, result: CombinationResult) -> Any:
    if not spec.normalise:
        return None
    from .differential import normalise

    return normalise([result.values[o] for o in result.observables], result.covariance.matrix)


def _root_objects(spec: CombinationSpec, result: CombinationResult, normalised: bool) -> dict:
    """The objects of ``--root`` (see the ``combine`` help), built before any file is written."""
    if spec.differential:
        from .differential import DifferentialResult

        dr = DifferentialResult.from_result(result, title="combined")
        ok = all(result.has_interval(o) for o in result.observables)
        if not ok:
            log.warning(
                "some profile intervals are not available; the ROOT graph 'combined_profile' "
                "uses the symmetric errors"
            )
        return dr.root_objects(normalised=normalised, graph_errors="profile" if ok else "symmetric")
    import hist

    names = list(result.observables)
    h = hist.Hist(
        hist.axis.StrCategory(names, name="observable", label="observable"),
        storage=hist.storage.Weight(),
        label="combined",
    )
    h.view().value = [result.values[n] for n in names]
    h.view().variance = [result.errors[n] ** 2 for n in names]
    out = {"combined": h}
    for key, matrix in (
        ("covariance", result.covariance.matrix),
        ("correlation", result.correlation.matrix),
    ):
        m = hist.Hist(
            hist.axis.StrCategory(names, name="x", label="observable"),
            hist.axis.StrCategory(names, name="y", label="observable"),
            storage=hist.storage.Weight(),
            label=key,
        )
        m.view().value = matrix
        m.view().variance = 0.0
        out[key] = m
    return out


#: Up to this many observables get one summary plot each (a 100-bin spectrum gets the spectrum).
MAX_SUMMARY_PLOTS = 12


def _quiet_matplotlib() -> None:
    """Use Agg unless MPLBACKEND says otherwise; hide matplotlib's font fallback warnings."""
    import matplotlib

    if "MPLBACKEND" not in os.environ:
        matplotlib.use("Agg")
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)


def _figures(
    spec: CombinationSpec, combiner: Combiner, result: CombinationResult
) -> dict[str, Any]:
    """``{file stem: matplotlib Figure}`` of the combination plots: ``summary`` (one per
    observable, ``summary_<observable>`` when there are several, for at most
    :data:`MAX_SUMMARY_PLOTS` observables), ``pulls`` (when there are sources),
    ``correlation`` and, for a differential config, ``spectrum``."""
    _quiet_matplotlib()
    import numpy as np

    from .plots.result import inputs_for, plot_correlation, plot_pulls, plot_spectrum, plot_summary

    obs = list(result.observables)
    inputs = inputs_for(combiner, result)
    figs: dict[str, Any] = {}
    if len(obs) == 1:
        figs["summary"] = plot_summary(result, inputs=inputs, observable=obs[0])
    elif len(obs) <= MAX_SUMMARY_PLOTS:
        for o in obs:
            figs[f"summary_{_safe(o)}"] = plot_summary(result, inputs=inputs, observable=o)
    else:
        log.info("%d observables: no summary plot per observable", len(obs))
    if result.pulls:
        figs["pulls"] = plot_pulls(result)
    figs["correlation"] = plot_correlation(result)
    if spec.differential:
        n = len(obs)
        per_measurement: dict[str, tuple[Any, Any]] = {}
        for j, o in enumerate(obs):
            for ref, (v, e) in inputs.get(o, {}).items():
                m = ref.split(":", 1)[0]
                if m not in per_measurement:
                    per_measurement[m] = (np.full(n, np.nan), np.full(n, np.nan))
                per_measurement[m][0][j] = v
                per_measurement[m][1][j] = e
        values = np.array([result.values[o] for o in obs])
        errors = np.array([result.errors[o] for o in obs])
        low = np.array([result.intervals[o][0] for o in obs])
        high = np.array([result.intervals[o][1] for o in obs])
        ok = np.array([result.has_interval(o) for o in obs])
        err_low = np.where(ok, values - low, errors)
        err_high = np.where(ok, high - values, errors)
        edges = np.arange(n + 1, dtype=float)
        figs["spectrum"] = plot_spectrum(
            edges, per_measurement, (values, err_low, err_high), axis_label="bin"
        )
    return figs


def _stage_figures(out: Any, args: argparse.Namespace, figs: dict[str, Any], written: list) -> None:
    if not figs:
        return
    import matplotlib.pyplot as plt

    try:
        for name, fig in figs.items():
            for ext in ("png", "pdf"):
                written.append(out.stage(_out_name(args, f"{name}.{ext}"), fig.savefig))
    finally:
        for fig in figs.values():
            plt.close(fig)


def _report_written(paths: list[Path]) -> None:
    for p in paths:
        print(f"wrote {p}")


# --------------------------------------------------------------------------- commands
def _cmd_combine(args: argparse.Namespace) -> int:
    from ._io import output_set
    from .jsonio import dumps, result_to_dict
    from .report import format_result

    spec = _load(args)
    combiner = _combiner(args, spec)
    result = combiner.combine(intervals=not args.no_intervals)
    normalised = _normalised(spec, result)

    # everything is computed before anything is written
    text = format_result(result, spec=spec, normalised=normalised)
    json_text = None
    if args.json is not None:
        data = result_to_dict(result, normalised=normalised)
        data["config"] = str(args.config)
        json_text = dumps(data)
    root_objects = None
    if args.root is not None:
        root_objects = _root_objects(spec, result, normalised is not None)
    figs = _figures(spec, combiner, result) if args.plots else {}

    written: list[Path] = []
    with output_set() as out:
        written.append(out.write_text(_out_name(args, "result.txt"), text))
        if json_text is not None:
            written.append(out.write_text(args.json, json_text))
        if root_objects is not None:
            from .rootio import write_root

            written.append(
                out.stage(
                    args.root, lambda tmp: write_root(tmp, root_objects, directory="combination")
                )
            )
        _stage_figures(out, args, figs, written)
    print(result.summary())
    _report_written(written)
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from ._io import output_set

    spec = _load(args)
    combiner = _combiner(args, spec)
    result = combiner.combine(intervals=True)
    figs = _figures(spec, combiner, result)
    written: list[Path] = []
    with output_set() as out:
        _stage_figures(out, args, figs, written)
    _report_written(written)
    return 0


def _cmd_scan(args: argparse.Namespace) -> int:
    from ._io import output_set
    from .jsonio import dumps
    from .scan import scan_correlations

    spec = _load(args, scan_points=args.points)
    if not spec.scans:
        from .exceptions import ConfigError

        raise ConfigError(
            f"{spec.source}: the configuration defines no scan; give ranges as "
            "'(nominal & from : to) source' in [correlations] (YAML: 'scan: [from, to]')"
        )
    combiner = _combiner(args, spec)
    n_points = args.points
    total = sum(g.n_points if n_points is None else n_points for g in spec.scans)
    progress = _Progress("scanning")
    offset = 0
    scans = []
    try:
        for g in spec.scans:
            n = g.n_points if n_points is None else n_points

            def step(done: int, _total: int, offset: int = offset) -> None:
                progress(offset + done, total)

            scans.append(
                scan_correlations(
                    combiner,
                    g,
                    n_points=n,
                    nominal=spec.correlations,
                    progress=step,
                    intervals=args.intervals,
                )
            )
            offset += n
    finally:
        progress.close()

    table = "\n\n".join(s.to_table() for s in scans) + "\n"
    json_text = None
    if args.json is not None:
        from . import __version__

        json_text = dumps(
            {
                "hepcombine_version": __version__,
                "config": str(args.config),
                "chi2_definition": combiner.chi2,
                "scans": [s.to_dict() for s in scans],
            }
        )
    figs: dict[str, Any] = {}
    if not args.no_plots:
        _quiet_matplotlib()
        from .plots.scan import plot_scan

        for s in scans:
            for o in s.observables:
                figs[f"scan_{_safe(s.name)}_{_safe(o)}"] = plot_scan(s, o)

    written: list[Path] = []
    with output_set() as out:
        written.append(out.write_text(_out_name(args, "scan_result.txt"), table))
        if json_text is not None:
            written.append(out.write_text(args.json, json_text))
        _stage_figures(out, args, figs, written)
    print(table, end="")
    _report_written(written)
    return 0


def _blue_dict(blue: Any) -> dict[str, Any]:
    """JSON-ready result of a BLUE combination (by name)."""
    from . import __version__

    obs = list(blue.observables)
    one = len(obs) == 1

    def per_obs(value: Any) -> dict[str, Any]:
        return {obs[0]: value} if one else dict(value)

    values = per_obs(blue.combined_result)
    errors = per_obs(blue.combined_uncertainty)
    breakdown = per_obs(blue.combined_uncertainties)
    weights = per_obs(blue.weights_table)
    chi2, ndf = blue.chi2_ndf
    return {
        "hepcombine_version": __version__,
        "method": "blue",
        "combined": {o: {"value": values[o], "error": errors[o]} for o in obs},
        "breakdown": {o: dict(breakdown[o]) for o in obs},
        "weights": {o: dict(weights[o]) for o in obs},
        "chi2": chi2,
        "ndf": ndf,
        "pvalue": blue.p_value,
        "correlation": {
            "names": obs,
            "matrix": blue.combined_correlations.tolist(),
        },
    }


def _blue_text(data: dict[str, Any]) -> str:
    lines = []
    for o, c in data["combined"].items():
        lines.append(f"{o} = {c['value']:.8g} ± {c['error']:.6g}")
        bd = data["breakdown"][o]
        w = max(len(s) for s in bd) if bd else 0
        lines.append("  uncertainty breakdown:")
        lines += [f"    {s:<{w}}  {v:10.5g}" for s, v in bd.items()]
        wt = data["weights"][o]
        w = max(len(m) for m in wt)
        lines.append("  weights:")
        lines += [f"    {m:<{w}}  {v:+.5f}" for m, v in wt.items()]
    p = data["pvalue"]
    lines.append(
        f"chi2/ndf = {data['chi2']:.5g}/{data['ndf']}, p = " + ("n/a" if p is None else f"{p:.4g}")
    )
    return "\n".join(lines) + "\n"


def _cmd_blue(args: argparse.Namespace) -> int:
    from ._io import output_set
    from .blue import blue_from_csv
    from .jsonio import dumps, finite_or_none

    for path in (args.table, args.correlations):
        if not Path(path).is_file():
            from .exceptions import ConfigError

            raise ConfigError(f"{path}: the file does not exist")
    blue = blue_from_csv(args.table, args.correlations)
    data = finite_or_none(_blue_dict(blue))
    text = _blue_text(data)
    written: list[Path] = []
    if args.json is not None:
        data["table"] = str(args.table)
        data["correlations_file"] = str(args.correlations)
        with output_set() as out:
            written.append(out.write_text(args.json, dumps(data)))
    print(text, end="")
    _report_written(written)
    return 0


# --------------------------------------------------------------------------- entry point
class _Handler(logging.StreamHandler):
    """``hepcombine: warning: ...`` on stderr (looked up at emit time, for tests that swap it)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter(f"{PROG}: %(levelname)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        record.levelname = record.levelname.lower()
        super().emit(record)


def _setup_logging(debug: bool) -> logging.Handler:
    handler = _Handler()
    logger = logging.getLogger("hepcombine")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else logging.WARNING)
    return handler


def _message(exc: BaseException, args: argparse.Namespace | None) -> str:
    if isinstance(exc, OSError):
        where = exc.filename if exc.filename is not None else ""
        reason = exc.strerror or str(exc)
        return f"{where}: {reason}" if where else reason
    msg = str(exc) or type(exc).__name__
    config = getattr(args, "config", None) if args is not None else None
    from .exceptions import ConfigError

    if config is not None and not isinstance(exc, ConfigError) and not msg.startswith(str(config)):
        msg = f"{config}: {msg}"
    return msg


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(f"{PROG}: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    if getattr(args, "func", None) is None:
        print(
            f"{PROG}: error: a command is required: combine, scan, blue or plot "
            f"(see '{PROG} --help')",
            file=sys.stderr,
        )
        return 2
    debug = bool(getattr(args, "debug", False))
    handler = _setup_logging(debug)
    logger = logging.getLogger("hepcombine")
    previous = logger.level
    from .exceptions import HepCombineError

    try:
        return int(args.func(args))
    except (HepCombineError, OSError) as exc:
        if debug:
            raise
        print(f"{PROG}: error: {_one_line(_message(exc, args))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            raise
        print(
            f"{PROG}: internal error: {type(exc).__name__}: {_one_line(str(exc))} "
            "(run with --debug for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 3
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def __dir__() -> list[str]:
    return list(__all__)
