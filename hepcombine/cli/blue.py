"""``hepcombine blue``: the BLUE combination of a CSV table."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import _common as c

__all__ = ["register", "run"]

HELP = "BLUE combination of a CSV table with a CSV of correlations"

DESCRIPTION = """\
BLUE combination of a table of measurements (CSV: columns 'measurement', optionally
'observable', 'value', then one column per uncertainty source with absolute uncertainties) with
the correlations of a long-form CSV (columns 'source, measurement_a, measurement_b, rho'; pairs
not listed are uncorrelated). Prints the combined value(s), the uncertainty per source, the
weights, chi2/ndf and the p-value.
"""

EPILOG = """\
example:
  hepcombine blue data/lhc_ttbar_xsec_emu_8tev.csv \\
      --correlations data/lhc_ttbar_xsec_emu_8tev_corr.csv --json blue.json
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "blue", help=HELP, description=DESCRIPTION, epilog=EPILOG, formatter_class=c.FORMATTER
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
    c.add_tables(p)
    c.add_debug(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..blue import blue_from_csv
    from ..outputs.atomic import output_set
    from ..outputs.json import blue_to_dict, dumps
    from ..outputs.text import format_blue

    result = blue_from_csv(args.table, args.correlations).result
    text = format_blue(result)
    tables = c.tables(args, result)
    written: list[Path] = []
    with output_set() as out:
        if args.json is not None:
            files = {"table": str(args.table), "correlations_file": str(args.correlations)}
            written.append(out.write_text(args.json, dumps(blue_to_dict(result, **files))))
        for path, table in tables.items():
            written.append(out.write_text(path, table))
    print(text, end="")
    c.report_written(written)
    return 0


def __dir__() -> list[str]:
    return list(__all__)
