"""Shared pieces of the subcommands: argument groups, loading, the combiner, output names,
the progress bar. Nothing heavy is imported at the top level (``hepcombine --help`` stays
fast)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

if TYPE_CHECKING:
    from ..combiner import Combiner
    from ..outputs.atomic import OutputSet
    from ..spec import CombinationSpec

PROG = "hepcombine"
FORMATTER = argparse.RawDescriptionHelpFormatter


class UsageError(Exception):
    """Wrong command-line usage (exit status 2)."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are :class:`UsageError` (one line, exit status 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


# --------------------------------------------------------------------------- argument groups
def integer(text: str, minimum: int, what: str) -> int:
    """An integer ≥ ``minimum`` (an :class:`argparse.ArgumentTypeError` naming ``what``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{what} must be at least {minimum}, got {value}")
    return value


def positive(text: str) -> int:
    """An integer ≥ 1 (``--n``, ``--workers``, ``--chunk-size``)."""
    return integer(text, 1, "it")


def points(text: str) -> int:
    """``--points N``: an integer ≥ 2."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if n < 2:
        raise argparse.ArgumentTypeError(f"a scan needs at least 2 points, got {n}")
    return n


def eps_entry(text: str) -> tuple[str, Any]:
    """``--eps SOURCE=EPS[,dependent|independent]`` → ``(SOURCE, ErrorOnError)``."""
    from ..errors_on_errors import ErrorOnError
    from ..exceptions import InvalidArgument

    source, sep, value = text.rpartition("=")
    if not sep or not source.strip():
        raise argparse.ArgumentTypeError(
            f"expected SOURCE=EPS or SOURCE=EPS,independent, got {text!r}"
        )
    number, _, kind = value.partition(",")
    try:
        eps = float(number)
    except ValueError:
        raise argparse.ArgumentTypeError(f"ε of {source!r} is not a number: {number!r}") from None
    try:
        return source.strip(), ErrorOnError(eps, kind.strip() or "dependent")  # type: ignore[arg-type]
    except InvalidArgument as exc:
        raise argparse.ArgumentTypeError(f"{source}: {exc}") from None


def add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "config", metavar="CONFIG", type=Path, help="Convino base file or YAML config"
    )


def add_debug(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-d",
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show debug messages and the full traceback of an error (-d as convino)",
    )


def add_chi2(parser: argparse.ArgumentParser) -> Any:
    """``--neyman`` / ``--pearson`` (dest ``chi2``); returns their mutually exclusive group."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--neyman",
        dest="chi2",
        action="store_const",
        const="neyman",
        help="Neyman chi2 (statistical uncertainties fixed); as convino's --neyman",
    )
    group.add_argument(
        "--pearson",
        dest="chi2",
        action="store_const",
        const="pearson",
        help="Pearson chi2 (statistical uncertainties scale with the prediction); the default "
        "for Convino base files",
    )
    return group


def add_output(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--prefix",
        metavar="P",
        default="",
        help="prefix of the file names written to the output directory (P_result.txt, ...), "
        "as convino's --prefix",
    )
    parser.add_argument(
        "--output-dir",
        metavar="DIR",
        default=".",
        type=Path,
        help="directory for the text report (result.txt, scan_result.txt, toys_result.txt) and "
        "the plots (default: the current directory; created if missing)",
    )


def add_execution(parser: argparse.ArgumentParser) -> Any:
    """``--workers N`` / ``--scheduler ADDRESS`` (mutually exclusive) in an argument group
    "execution", which is returned for more options; :func:`check_dask` checks them."""
    group = parser.add_argument_group("execution (in-process by default)")
    where = group.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        metavar="N",
        type=positive,
        help="start a local Dask cluster of N single-threaded worker processes for the run",
    )
    where.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on an existing Dask cluster, e.g. tcp://10.0.0.1:8786",
    )
    return group


def check_dask(args: argparse.Namespace) -> None:
    """--workers and --scheduler need dask.distributed: say so in one line before any work."""
    if getattr(args, "workers", None) is None and getattr(args, "scheduler", None) is None:
        return
    try:
        import distributed  # noqa: F401
    except ImportError:
        from ..execution import INSTALL_DASK

        option = "--workers" if args.workers is not None else "--scheduler"
        raise UsageError(f"{option} needs Dask: {INSTALL_DASK}") from None


def add_combiner(parser: argparse.ArgumentParser) -> None:
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
    parser.add_argument(
        "--symmetrise-correlations",
        action="store_true",
        help="use the mean of the two entries of a correlation-matrix file that is not "
        "symmetric (gvm-combinations files) instead of stopping with an error",
    )
    parser.add_argument(
        "--eps",
        metavar="SOURCE=EPS",
        action="append",
        type=eps_entry,
        default=[],
        help="errors on errors: the relative uncertainty EPS of the size of SOURCE (a source, "
        "a bare name for all sources of that name, or a pattern such as 'JES*'); "
        "SOURCE=EPS,independent gives each source its own; repeatable; replaces the config's "
        "entry of the same name",
    )
    parser.add_argument(
        "--bartlett",
        action="store_true",
        help="with errors on errors, the Bartlett-corrected intervals (at delta chi2 = b) and "
        "goodness of fit",
    )


# --------------------------------------------------------------------------- library calls
def load(args: argparse.Namespace) -> CombinationSpec:
    """The specification of ``args.config``."""
    from ..inputs import load_config

    return load_config(
        args.config,
        symmetrise=bool(getattr(args, "symmetrise_correlations", False)),
        repair_correlations=bool(getattr(args, "repair_correlations", False)),
    )


def combiner_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options of :meth:`CombinationSpec.combiner <hepcombine.spec.CombinationSpec.combiner>`
    given on the command line."""
    options: dict[str, Any] = {
        "chi2": args.chi2,
        "asymmetry": args.asymmetry,
        "repair": args.repair_correlations,
    }
    if getattr(args, "eps", None):
        options["errors_on_errors"] = dict(args.eps)
    if getattr(args, "bartlett", False):
        options["bartlett"] = True
    return options


def combiner(args: argparse.Namespace, spec: CombinationSpec) -> Combiner:
    return spec.combiner(**combiner_options(args))


def out_name(args: argparse.Namespace, name: str) -> Path:
    """``DIR/[P_]name``."""
    prefix = f"{args.prefix}_" if args.prefix else ""
    return Path(args.output_dir) / f"{prefix}{name}"


def check_distinct(outputs: dict[str, Path | None]) -> None:
    """Stop before any work when two outputs (``{option: path}``) name the same file."""
    from ..exceptions import OutputError

    seen: dict[Path, str] = {}
    for option, path in outputs.items():
        if path is None:
            continue
        key = Path(path).resolve()
        if key in seen:
            raise OutputError(
                f"{path} would be written twice ({seen[key]} and {option} name the same file); "
                "give each output its own file name"
            )
        seen[key] = option


def scan_outputs(
    spec: CombinationSpec,
    args: argparse.Namespace,
    *,
    n_points: int | None,
    intervals: bool,
    plots: bool,
) -> tuple[list[Any], str, dict[str, Any]]:
    """The correlation scans of ``spec`` (:func:`hepcombine.scan.scan_all`, with a progress
    bar, on Dask with ``args.workers`` / ``args.scheduler`` and into the run directory
    ``args.output`` where given), the text of ``scan_result.txt`` and, with ``plots``, the figures
    ``scan_<group>_<observable>``."""
    from ..scan import scan_all

    progress = Progress("scanning")
    try:
        scans = scan_all(
            spec,
            n_points=n_points,
            progress=progress,
            intervals=intervals,
            combiner_options=combiner_options(args),
            workers=getattr(args, "workers", None),
            scheduler=getattr(args, "scheduler", None),
            output=getattr(args, "output", None),
        )
    finally:
        progress.close()
    table = "\n\n".join(s.to_table() for s in scans) + "\n"
    figs: dict[str, Any] = {}
    if plots:
        quiet_matplotlib()
        from ..plots.combination import file_stem
        from ..plots.scan import plot_scan

        label = exp_label(args)
        for s in scans:
            for o in s.observables:
                figs[f"scan_{file_stem(s.name)}_{file_stem(o)}"] = plot_scan(s, o, exp_label=label)
    return scans, table, figs


def quiet_matplotlib() -> None:
    """Use Agg unless MPLBACKEND says otherwise. (The plots enter no style context, so no
    text is drawn with another style's fonts and matplotlib has no font warning to hide.)"""
    import matplotlib

    if "MPLBACKEND" not in os.environ:
        matplotlib.use("Agg")


def add_plot_style(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("plot style and experiment label (none by default)")
    group.add_argument(
        "--style",
        metavar="NAME",
        help="mplhep style of the plots: ATLAS, CMS, LHCb, ALICE, ROOT (default: matplotlib's)",
    )
    group.add_argument("--experiment", metavar="TEXT", default="", help="e.g. 'ATLAS+CMS'")
    group.add_argument(
        "--label", metavar="TEXT", default="", help="text after it, e.g. 'Preliminary'"
    )
    group.add_argument("--sqrt-s", metavar="TEV", default=None, help="centre-of-mass energy, TeV")
    group.add_argument(
        "--lumi", metavar="FB", default=None, help="integrated luminosity in fb^-1 (or text)"
    )


def exp_label(args: argparse.Namespace) -> dict[str, Any]:
    """The experiment label of the plots from the command line (and applies ``--style``)."""
    from ..plots.style import use_style

    if getattr(args, "style", None):
        use_style(args.style)

    def number(text: str | None) -> float | str | None:
        if text is None:
            return None
        try:
            return float(text)
        except ValueError:
            return text

    return {
        "experiment": getattr(args, "experiment", ""),
        "text": getattr(args, "label", ""),
        "sqrt_s": number(getattr(args, "sqrt_s", None)),
        "lumi": number(getattr(args, "lumi", None)),
    }


def figures(
    spec: CombinationSpec, combiner: Combiner, result: Any, args: argparse.Namespace | None = None
) -> dict[str, Any]:
    """The plots of a combination (:func:`hepcombine.plots.combination.combination_figures`)."""
    quiet_matplotlib()
    from ..plots.combination import combination_figures

    binning = spec.binning if spec.differential else None
    label = exp_label(args) if args is not None else None
    quantity = spec.quantity
    return combination_figures(
        combiner,
        result,
        binning=binning,
        exp_label=label,
        quantity=quantity,
        distributions=spec.distributions or None,
    )


def stage_figures(
    out: OutputSet, args: argparse.Namespace, figs: dict[str, Any], written: list[Path]
) -> None:
    """Stage each figure as ``DIR/[P_]<stem>.png`` and ``.pdf``; the figures are closed."""
    if not figs:
        return
    import matplotlib.pyplot as plt

    try:
        for name, fig in figs.items():
            for ext in ("png", "pdf"):
                written.append(out.save_figure(out_name(args, f"{name}.{ext}"), fig))
    finally:
        for fig in figs.values():
            plt.close(fig)


def report_written(paths: list[Path]) -> None:
    for p in paths:
        print(f"wrote {p}")


# --------------------------------------------------------------------------- progress bar
class Progress:
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


# --------------------------------------------------------------------------- tables
def add_tables(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--latex",
        metavar="FILE",
        type=Path,
        help="write LaTeX tables (booktabs) of the combined values, PDG-rounded with their "
        "statistical and systematic uncertainties and chi2/ndf, and of the uncertainty "
        "breakdown to FILE",
    )
    parser.add_argument(
        "--markdown",
        metavar="FILE",
        type=Path,
        help="write the same tables as Markdown to FILE",
    )


def for_tables(spec: CombinationSpec, result: Any) -> Any:
    """What the tables show: the result on its bins for a differential specification."""
    if not (spec.differential and spec.binning is not None):
        return result
    from ..differential import DifferentialResult

    bins = list(spec.observables) or None  # not the reported linear quantities (totals)
    return DifferentialResult.from_result(result, bins, binning=spec.binning)


def tables(args: argparse.Namespace, result: Any) -> dict[Path, str]:
    """``{path: text}`` of the ``--latex`` / ``--markdown`` tables of ``result`` (a
    combination, differential result or BLUE result): the values, then the breakdown."""
    out: dict[Path, str] = {}
    for path, method in ((args.latex, "to_latex"), (args.markdown, "to_markdown")):
        if path is not None:
            render = getattr(result, method)
            out[path] = render() + "\n" + render(breakdown=True)
    return out
