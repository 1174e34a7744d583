"""``hepcombine plot``: re-run a combination and write only its plots."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import _common as c

__all__ = ["register", "run"]

HELP = "re-run a combination and write only its plots"

DESCRIPTION = """\
Re-run the combination of CONFIG and write only its plots (the same as the plots of
'hepcombine combine CONFIG --plots', without result.txt).
"""

EPILOG = "example:\n  hepcombine plot base.txt --output-dir plots --neyman\n"


def register(sub: Any) -> None:
    p = sub.add_parser(
        "plot", help=HELP, description=DESCRIPTION, epilog=EPILOG, formatter_class=c.FORMATTER
    )
    c.add_config(p)
    c.add_chi2(p)
    c.add_output(p)
    c.add_combiner(p)
    c.add_plot_style(p)
    c.add_debug(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..outputs.atomic import output_set

    spec = c.load(args)
    combiner = c.combiner(args, spec)
    result = combiner.combine(intervals=True)
    figs = c.figures(spec, combiner, result, args)
    written: list[Path] = []
    with output_set() as out:
        c.stage_figures(out, args, figs, written)
    c.report_written(written)
    return 0


def __dir__() -> list[str]:
    return list(__all__)
