"""``hepcombine combine``: combine a configuration and write result.txt (JSON, ROOT, plots)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import _common as c

__all__ = ["register", "run"]

HELP = "combine the measurements of a config; write result.txt (and JSON, ROOT, plots)"

DESCRIPTION = """\
Combine the measurements of CONFIG and write the result.

Outputs (written only if everything succeeds; all or none):
  DIR/[P_]result.txt         the Convino-style report: pre- and post-fit correlations of the
                             sources, combined values with asymmetric (profile) and symmetric
                             errors, their correlation and covariance, chi2_min/ndf/p-value,
                             pulls and constraints, the uncertainty breakdown (adds up in
                             quadrature exactly for a quadratic chi2, approximately otherwise),
                             Convino's impacts, the weights; normalised values when the config
                             asks for them (normalise = true)
  --json FILE                the same as JSON (schema: hepcombine/schemas/result.json)
  --root FILE                a ROOT file, directory 'combination': for a differential config
                             (isDifferential = true / differential: true) the combined TH1D
                             'combined', TGraphAsymmErrors 'combined_profile', TH2D
                             'covariance'/'correlation', 'breakdown_<component>' and, when
                             normalised, 'normalised'/'normalised_covariance'; bins numbered
                             0..n. Otherwise a TH1D 'combined' with one bin per observable
                             (bin labels = names, bin errors = symmetric errors),
                             TGraphAsymmErrors 'combined_profile' (point i at x = i + 0.5),
                             TH2D 'covariance'/'correlation' and TH1D 'breakdown_<component>'
                             with labelled bins
  --plots                    DIR/[P_]summary (one observable) or [P_]summary_<observable>
                             (up to 12 observables), [P_]pulls, [P_]correlation, and
                             [P_]spectrum for a differential config; each as .png and .pdf

The chi2 definition: --neyman or --pearson if given; otherwise a Convino base file uses Pearson
(as the convino program does) and a YAML config its 'chi2:' entry or Neyman. The uncertainty
breakdown and impacts use the config's impact groups ([uncertainty impacts] / impacts:); a
group that is just 'stat' labels the statistical component. The Python API applies the same
defaults (CombinationSpec.combiner). --json and --root paths are taken as given (relative to the
current directory); --output-dir and --prefix apply to result.txt and the plots.
"""

EPILOG = """\
examples:
  hepcombine combine base.txt
  hepcombine combine base.txt --neyman --prefix neyman          # writes neyman_result.txt
  hepcombine combine base.txt --json result.json --no-intervals
  hepcombine combine diff.txt --root combined.root --plots --output-dir plots
  hepcombine combine combination.yaml --asymmetry smooth --repair-correlations
"""


def register(sub: Any) -> None:
    p = sub.add_parser(
        "combine", help=HELP, description=DESCRIPTION, epilog=EPILOG, formatter_class=c.FORMATTER
    )
    c.add_config(p)
    c.add_chi2(p)
    c.add_output(p)
    p.add_argument("--json", metavar="FILE", type=Path, help="write the result as JSON to FILE")
    p.add_argument("--root", metavar="FILE", type=Path, help="write the result to a ROOT file")
    p.add_argument(
        "--plots", action="store_true", help="write summary, pulls and correlation plots"
    )
    c.add_combiner(p)
    p.add_argument(
        "--no-intervals",
        action="store_true",
        help="skip the profile-likelihood (Minos) intervals of a non-quadratic chi2 (faster; "
        "reported as 'not computed')",
    )
    c.add_debug(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..outputs import combination
    from ..outputs.atomic import output_set
    from ..outputs.json import dumps, result_to_dict
    from ..outputs.text import format_result

    spec = c.load(args)
    combiner = c.combiner(args, spec)
    result = combiner.combine(intervals=not args.no_intervals)
    norm = combination.normalised(result, spec)

    # everything is computed before anything is written
    text = format_result(result, spec=spec, normalised=norm)
    json_text = None
    if args.json is not None:
        json_text = dumps(result_to_dict(result, normalised=norm, config=str(args.config)))
    root_objects = combination.root_objects(result, spec) if args.root is not None else None
    figs = c.figures(spec, combiner, result) if args.plots else {}

    written: list[Path] = []
    with output_set() as out:
        written.append(out.write_text(c.out_name(args, "result.txt"), text))
        if json_text is not None:
            written.append(out.write_text(args.json, json_text))
        if root_objects is not None:
            from ..outputs.root import write_root

            objects = root_objects
            written.append(
                out.stage(args.root, lambda tmp: write_root(tmp, objects, directory="combination"))
            )
        c.stage_figures(out, args, figs, written)
    print(result.summary())
    c.report_written(written)
    return 0


def __dir__() -> list[str]:
    return list(__all__)
