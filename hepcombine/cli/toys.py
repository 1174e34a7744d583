"""``hepcombine toys``: pseudo-experiments of a configuration's combination (bias, pull width,
coverage, χ²_min), in-process or on a Dask cluster (:func:`hepcombine.toys.run_toys`)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from . import _common as c

__all__ = ["register", "run"]

HELP = "pseudo-experiments of a combination: bias, pull width, coverage, chi2_min"

DESCRIPTION = """\
Generate N pseudo-experiments from the combination of CONFIG, recombine each with the same
assumptions (correlations, chi2 definition, asymmetry interpolation) and summarise per combined
value: the bias (mean of (x - truth)/sigma0, in units of the nominal uncertainty sigma0) and the
pull mean and width ((x - truth)/sigma with each toy's own error), with their errors; the
coverage of the 68 % profile interval with its binomial error; the chi2_min distribution
against chi2(ndf) (mean and Kolmogorov-Smirnov p-value); the number of failed toys and why.

Each pseudo-measurement is drawn from the measurement's own model: the true combined values
(--truth; default the nominal combined values), the sources drawn from their priors with the
assumed correlations (--nuisance), the statistical fluctuation (--stat). Toy i uses child i of
numpy.random.SeedSequence(S): the numbers are identical for any --workers and --chunk-size.
The toys of a quadratic chi2 (Neyman, absolute symmetric sources, no errors on errors, --stat
fixed) are recombined by linear algebra, a whole chunk at once: the combined values are one
product with the nominal solution's gain matrix, chi2_min one quadratic form (the same numbers
as combining each toy, to rounding); 10,000 toys of a 100-bin combination take about a second.

Outputs (written at the end, all or none):
  DIR/[P_]toys_result.txt    the summary table (as printed; every observable)
  --json FILE                the summary as JSON (statistics, no per-toy arrays)
  --plots [PDIR]             [P_]toys_pulls (all observables pooled) and, for 2 to 12
                             observables, [P_]toys_pulls_<observable>, each with a Gaussian
                             fitted by iminuit; [P_]toys_coverage per observable;
                             [P_]toys_chi2 with the chi2(ndf) density; .png and .pdf in PDIR
                             (default: --output-dir)
  --output RUNDIR            the run itself, streamed while it runs: a chunk file per finished
                             chunk of toys next to manifest.json; at the end toys.npz (every
                             toy's values, errors, intervals, chi2_min, failures) and
                             summary.json. Rerunning the same command resumes an interrupted
                             run: only the toys not yet in RUNDIR are computed, with the same
                             result as one uninterrupted run; a larger --n extends a finished
                             run. A RUNDIR of another run (other config, options or seed) is an
                             error

A progress bar is shown on stderr when stderr is a terminal. --workers and --scheduler need
Dask: python -m pip install 'hepcombine[dask]'.
"""

EPILOG = """\
examples:
  hepcombine toys base.txt --n 1000 --seed 1
  hepcombine toys base.txt --n 1000 --seed 1 --compare --json toys.json --plots plots
  hepcombine toys base.txt --n 100000 --seed 1 --workers 2 --output run1   # rerun to resume
  hepcombine toys base.txt --n 1000 --seed 1 --truth xsec=240 --nuisance zero
  hepcombine toys diff.yaml --n 5000 --seed 7 --scheduler tcp://10.0.0.1:8786 --no-intervals
"""

#: How many observables get a pull plot of their own.
PULL_PLOTS = 12


# --------------------------------------------------------------------------- argument types
def seed(text: str) -> int:
    """A non-negative integer (``--seed``)."""
    return c.integer(text, 0, "the seed")


def truth_item(text: str) -> tuple[str, float]:
    """``NAME=VALUE`` with a finite VALUE (``--truth``)."""
    name, sep, value = text.rpartition("=")
    name = name.strip()
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} in {text!r} is not a number") from None
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"the true value in {text!r} is not finite")
    return name, number


def register(sub: Any) -> None:
    p = sub.add_parser(
        "toys", help=HELP, description=DESCRIPTION, epilog=EPILOG, formatter_class=c.FORMATTER
    )
    c.add_config(p)
    p.add_argument(
        "--n", metavar="N", type=c.positive, required=True, help="number of pseudo-experiments"
    )
    p.add_argument(
        "--seed",
        metavar="S",
        type=seed,
        required=True,
        help="seed of the random numbers (required, so that every run can be repeated and "
        "resumed); toy i uses child i of numpy.random.SeedSequence(S)",
    )
    chi2 = c.add_chi2(p)
    chi2.add_argument(
        "--chi2",
        choices=("neyman", "pearson"),
        help="the same as --neyman / --pearson (default: the config's, as 'hepcombine combine')",
    )
    p.add_argument(
        "--compare",
        action="store_true",
        help="also recombine every toy with the other chi2 definition; the summary shows its "
        "statistics and the mean difference (x_other - x)/sigma0",
    )
    model = p.add_argument_group("generation model")
    model.add_argument(
        "--truth",
        metavar="NAME=VALUE",
        type=truth_item,
        action="append",
        default=[],
        help="true value of a combined observable (or of a spectator, 'measurement:estimate'); "
        "repeatable; observables not given are at their nominal combined value",
    )
    model.add_argument(
        "--nuisance",
        choices=("prior", "zero", "pulls"),
        default="prior",
        help="true source values: drawn per toy from their priors with the assumed "
        "correlations ('prior', default), all 0 ('zero'), or the nominal post-fit pulls "
        "('pulls'); fixed sources give a conditional study (pull widths below 1)",
    )
    model.add_argument(
        "--stat",
        choices=("fixed", "scaled", "poisson"),
        default=None,
        help="statistical fluctuation: Gaussian with the measured covariance ('fixed', default "
        "for Neyman), its variance scaled with the prediction ('scaled', default for Pearson), "
        "or Poisson counts as in the Convino paper's Sect. 3 ('poisson')",
    )
    p.add_argument(
        "--no-intervals",
        action="store_true",
        help="skip the profile intervals of a non-quadratic chi2 (faster; no coverage then). "
        "For a quadratic chi2 they are exact and free",
    )
    run_group = c.add_execution(p)
    run_group.add_argument(
        "--chunk-size",
        metavar="N",
        type=c.positive,
        help="toys per task (default: about 8 tasks per worker, at most 500); the numbers do "
        "not depend on it",
    )
    run_group.add_argument(
        "--output",
        metavar="RUNDIR",
        type=Path,
        help="stream the toys to RUNDIR as chunks finish; rerunning the same command resumes "
        "an interrupted run (and a larger --n extends it)",
    )
    c.add_output(p)
    p.add_argument("--json", metavar="FILE", type=Path, help="write the summary as JSON to FILE")
    p.add_argument(
        "--plots",
        metavar="PDIR",
        nargs="?",
        const=True,
        type=Path,
        help="write the pull, coverage and chi2_min plots to PDIR (default: --output-dir)",
    )
    p.add_argument(
        "-q", "--quiet", action="store_true", help="do not print the summary table on stdout"
    )
    c.add_combiner(p)
    c.add_debug(p)
    p.set_defaults(func=run)


# --------------------------------------------------------------------------- run
def _truth(args: argparse.Namespace, combiner: Any) -> dict[str, float] | None:
    """``--truth`` as ``{name: value}``, every name checked against the combination."""
    from ..names import did_you_mean, some_names

    known = list(combiner.observables) + list(combiner.spectators)
    out: dict[str, float] = {}
    for name, value in args.truth:
        if name not in known:
            raise c.UsageError(
                f"--truth {name}: not a combined observable or spectator of {args.config}"
                f"{did_you_mean(name, known)}; they are {some_names(known)}"
            )
        if name in out:
            raise c.UsageError(f"--truth {name} is given twice")
        out[name] = value
    return out or None


def _figures(result: Any) -> dict[str, Any]:
    c.quiet_matplotlib()
    from ..plots.combination import file_stem
    from ..plots.toys import plot_chi2_distribution, plot_coverage, plot_pull_distribution

    obs = result.observables
    figs = {"toys_pulls": plot_pull_distribution(result, obs[0] if len(obs) == 1 else None)}
    if 1 < len(obs) <= PULL_PLOTS:
        for o in obs:
            figs[f"toys_pulls_{file_stem(o)}"] = plot_pull_distribution(result, o)
    figs["toys_coverage"] = plot_coverage(result)
    figs["toys_chi2"] = plot_chi2_distribution(result)
    return figs


def run(args: argparse.Namespace) -> int:
    from ..outputs.atomic import output_set
    from ..outputs.json import dumps
    from ..toys import run_toys

    c.check_dask(args)
    spec = c.load(args)
    combiner = c.combiner(args, spec)
    truth = _truth(args, combiner)
    progress = c.Progress("toys")
    try:
        result = run_toys(
            combiner,
            args.n,
            seed=args.seed,
            truth=truth,
            nuisance=args.nuisance,
            stat=args.stat,
            intervals=not args.no_intervals,
            compare=args.compare,
            chunk_size=args.chunk_size,
            workers=args.workers,
            scheduler=args.scheduler,
            output=args.output,
            progress=progress,
        )
    finally:
        progress.close()

    text = result.summary(max_rows=len(result.observables)) + "\n"
    json_text = None
    if args.json is not None:
        json_text = dumps({"config": str(args.config), **result.to_dict()})
    figs = _figures(result) if args.plots is not None else {}
    plot_args = args
    if isinstance(args.plots, Path):
        plot_args = argparse.Namespace(**{**vars(args), "output_dir": args.plots})

    written: list[Path] = []
    with output_set() as out:
        written.append(out.write_text(c.out_name(args, "toys_result.txt"), text))
        if json_text is not None:
            written.append(out.write_text(args.json, json_text))
        c.stage_figures(out, plot_args, figs, written)
    if not args.quiet:
        print(result.summary())
    c.report_written(written)
    return 0


def __dir__() -> list[str]:
    return list(__all__)
