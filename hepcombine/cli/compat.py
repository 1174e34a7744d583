"""``hepcombine compat``: compatibility diagnostics of a configuration's combination
(:func:`hepcombine.compat.compatibility`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import _common as c
from .toys import seed

__all__ = ["register", "run"]

HELP = "compatibility of the inputs: pulls, leave-one-out, chi2 contributions, PDG scale factor"

DESCRIPTION = """\
Diagnose how well the inputs of CONFIG agree with their combination:

  - the pull of every input (every estimate of every measurement, every bin),
    (x - x_comb) / sqrt(Var(x - x_comb)), the variance of the difference under the
    combination's model with every correlation (between the inputs, within a measurement,
    and between an input and the combination it enters);
  - each measurement's share of chi2_min (its data term plus its sources' constraints);
  - the combination without each measurement: the shift of every value with its significance
    shift / sqrt(Var(shift)) (sqrt(sigma_without^2 - sigma^2) for a quadratic chi2), and the
    likelihood-ratio test chi2_min - chi2_min(without it) of the measurement against the rest;
    a value only that measurement measures is reported as such;
  - the PDG scale factor S = sqrt(chi2/ndf) and, with --scale, the combination with every
    input uncertainty multiplied by S when S > 1 (one S for all values of a multi-value or
    differential combination: the chi2 divided by S^2);
  - with --toys N, p-values of all of these from N pseudo-experiments drawn from the
    combination's own model (as 'hepcombine toys'), and the look-elsewhere-corrected p-value
    of the largest |pull|.

For a chi2 that is not quadratic (Pearson, relative, asymmetric, log-normal sources) the errors
are linearised at the minimum and the chi2(ndf) and normal p-values asymptotic; --toys
calibrates them.

Outputs (written at the end, all or none):
  DIR/[P_]compat_result.txt   the report (as printed, every row)
  --json FILE                 everything, by name (schema hepcombine/schemas/compat.json)
  --latex FILE, --markdown FILE
                              tables of the pulls, of the measurements and of the shifts
  --plots [PDIR]              [P_]compat_pulls and [P_]compat_leave_one_out (against the bins for
                              a differential combination) and, for up to 12 values that are not
                              bins, [P_]compat_ideogram_<value>; .png and .pdf in PDIR
                              (default: --output-dir)
"""

EPILOG = """\
examples:
  hepcombine compat data/ttbar_8tev_emu.yaml
  hepcombine compat data/lhcb_z_8tev_ee_mumu.yaml --scale --plots --json compat.json
  hepcombine compat base.txt --toys 2000 --seed 1 --workers 2 --latex compat.tex
  hepcombine compat base.txt --leave-out fit_a --leave-out fit_b
"""

#: how many combined values get an ideogram of their own
IDEOGRAMS = 12


def register(sub: Any) -> None:
    p = sub.add_parser(
        "compat", help=HELP, description=DESCRIPTION, epilog=EPILOG, formatter_class=c.FORMATTER
    )
    c.add_config(p)
    c.add_chi2(p)
    p.add_argument(
        "--leave-out",
        metavar="NAME",
        action="append",
        default=None,
        help="leave out this measurement (repeatable; default: each measurement in turn)",
    )
    p.add_argument(
        "--no-leave-out", action="store_true", help="no leave-one-out combinations at all"
    )
    p.add_argument(
        "--scale",
        action="store_true",
        help="also combine with every input uncertainty multiplied by the PDG scale factor S "
        "when S > 1",
    )
    toys = p.add_argument_group("pseudo-experiments")
    toys.add_argument(
        "--toys", metavar="N", type=c.positive, help="calibrate the p-values with N toys"
    )
    toys.add_argument(
        "--seed",
        metavar="S",
        type=seed,
        help="seed of the toys (required with --toys); toy i uses child i of "
        "numpy.random.SeedSequence(S)",
    )
    run_group = c.add_execution(p)
    run_group.add_argument(
        "--chunk-size", metavar="N", type=c.positive, help="toys per task (numbers do not change)"
    )
    run_group.add_argument(
        "--output",
        metavar="RUNDIR",
        type=Path,
        help="stream the toys to RUNDIR; rerunning the same command resumes the run",
    )
    c.add_output(p)
    p.add_argument("--json", metavar="FILE", type=Path, help="write everything as JSON to FILE")
    p.add_argument("--latex", metavar="FILE", type=Path, help="write LaTeX (booktabs) tables")
    p.add_argument("--markdown", metavar="FILE", type=Path, help="write Markdown tables")
    p.add_argument(
        "--plots",
        metavar="PDIR",
        nargs="?",
        const=True,
        type=Path,
        help="write the pull, leave-one-out and ideogram plots to PDIR (default: --output-dir)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="do not print the report")
    c.add_combiner(p)
    c.add_plot_style(p)
    c.add_debug(p)
    p.set_defaults(func=run)


def _figures(args: argparse.Namespace, spec: Any, result: Any) -> dict[str, Any]:
    c.quiet_matplotlib()
    from ..plots.combination import file_stem
    from ..plots.compat import plot_ideogram, plot_leave_one_out, plot_pulls

    label = c.exp_label(args)
    binning = spec.binning if spec.differential else None
    figs = {"compat_pulls": plot_pulls(result, binning=binning, exp_label=label)}
    if result.leave_one_out:
        figs["compat_leave_one_out"] = plot_leave_one_out(result, binning=binning, exp_label=label)
    if binning is None and len(result.observables) <= IDEOGRAMS:
        for o in result.observables:
            figs[f"compat_ideogram_{file_stem(o)}"] = plot_ideogram(result, o, exp_label=label)
    return figs


def _check_names(args: argparse.Namespace, combiner: Any) -> None:
    """``--leave-out`` names measurements of the combination (a usage error otherwise)."""
    from ..names import did_you_mean, some_names

    known = list(combiner.measurements)
    for name in args.leave_out or ():
        if name not in known:
            raise c.UsageError(
                f"--leave-out {name}: not a measurement of {args.config}"
                f"{did_you_mean(name, known)}; they are {some_names(known)}"
            )


def run(args: argparse.Namespace) -> int:
    from ..compat import compatibility
    from ..outputs.atomic import output_set
    from ..outputs.compat import (
        compatibility_tables,
        compatibility_to_dict,
        format_compatibility,
    )
    from ..outputs.json import dumps

    if args.toys is not None and args.seed is None:
        raise c.UsageError("--toys needs --seed S, so that the run can be repeated and resumed")
    if args.toys is None:
        for option in ("workers", "scheduler", "chunk_size", "output"):
            if getattr(args, option) is not None:
                flag = "--" + option.replace("_", "-")
                raise c.UsageError(f"{flag} is for the pseudo-experiments: give --toys N")
    if args.no_leave_out and args.leave_out:
        raise c.UsageError("--leave-out and --no-leave-out exclude each other")
    c.check_dask(args)
    report = c.out_name(args, "compat_result.txt")
    c.check_distinct(
        {
            "compat_result.txt": report,
            "--json": args.json,
            "--latex": args.latex,
            "--markdown": args.markdown,
        }
    )
    spec = c.load(args)
    combiner = c.combiner(args, spec)
    _check_names(args, combiner)
    progress = c.Progress("toys")
    try:
        result = compatibility(
            combiner,
            leave_out=[] if args.no_leave_out else args.leave_out,
            scale=args.scale,
            toys=args.toys or 0,
            seed=args.seed,
            chunk_size=args.chunk_size,
            workers=args.workers,
            scheduler=args.scheduler,
            output=args.output,
            progress=progress,
        )
    finally:
        progress.close()
    text = format_compatibility(result) + "\n"
    outputs: dict[Path, str] = {report: text}
    if args.json is not None:
        outputs[args.json] = dumps(compatibility_to_dict(result, config=str(args.config)))
    if args.latex is not None:
        outputs[args.latex] = compatibility_tables(result, "latex")
    if args.markdown is not None:
        outputs[args.markdown] = compatibility_tables(result, "markdown")
    figs = _figures(args, spec, result) if args.plots is not None else {}
    plot_args = args
    if isinstance(args.plots, Path):
        plot_args = argparse.Namespace(**{**vars(args), "output_dir": args.plots})
    written: list[Path] = []
    with output_set() as out:
        for path, content in outputs.items():
            written.append(out.write_text(path, content))
        c.stage_figures(out, plot_args, figs, written)
    if not args.quiet:
        print(text, end="")
    c.report_written(written)
    return 0


def __dir__() -> list[str]:
    return list(__all__)
