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
                             (isDifferential = true / differential: true, or measurements from
                             ROOT or HEPData) the combined TH1D 'combined', TGraphAsymmErrors
                             'combined_profile', TH2D 'covariance'/'correlation',
                             'breakdown_<component>' and, when normalised,
                             'normalised'/'normalised_covariance', on the bins of the inputs
                             (Convino files: numbered 0..n). Otherwise a TH1D 'combined' with one
                             bin per observable (bin labels = names, bin errors = symmetric
                             errors) and TH2D 'covariance'/'correlation' with labelled bins
  --hepdata DIR              a HEPData submission: directory DIR (submission.yaml and one file
                             per table) and DIR.tar.gz; table 'Combination' (the bins with their
                             edges, axis label and unit; the values with their profile interval
                             as 'total' error and the breakdown), 'Combination covariance' and
                             'Combination correlation'; validated with hepdata-validator (needs
                             hepcombine[hepdata]). An existing DIR is replaced only if it is a
                             submission directory
  --latex FILE, --markdown FILE
                             tables of the combined values (PDG-rounded, statistical and
                             systematic uncertainties, chi2/ndf; bins labelled by their ranges
                             for a differential config) and of the uncertainty breakdown
  --plots                    DIR/[P_]summary and [P_]breakdown (one observable) or
                             [P_]summary_<observable> and [P_]breakdown_<observable> (up to 12
                             observables); for a differential config [P_]spectrum (inputs,
                             combination, ratio) and [P_]breakdown (per bin) instead;
                             [P_]pulls; [P_]correlation (two or more observables); each as
                             .png and .pdf (--style, --experiment, ... set their look)

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
  hepcombine combine data/lhcb_z_8tev_ee_mumu.yaml --root out.root --hepdata out_hepdata
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
    c.add_tables(p)
    p.add_argument(
        "--hepdata",
        metavar="DIR",
        type=Path,
        help="write the result as a HEPData submission DIR and DIR.tar.gz",
    )
    p.add_argument(
        "--no-hepdata-validation",
        action="store_true",
        help="do not check the HEPData submission with hepdata-validator (its cost grows with "
        "the square of the number of bins: ~5 s for 100 bins)",
    )
    p.add_argument(
        "--plots", action="store_true", help="write summary, pulls and correlation plots"
    )
    c.add_combiner(p)
    c.add_plot_style(p)
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
    distribution = combination.differential_result(result, spec)

    # everything is computed before anything is written
    text = format_result(result, spec=spec, normalised=norm)
    json_text = None
    if args.json is not None:
        json_text = dumps(
            result_to_dict(
                result, normalised=norm, config=str(args.config), differential=distribution
            )
        )
    root_objects = combination.root_objects(result, spec) if args.root is not None else None
    hepdata = combination.hepdata_tables(result, spec) if args.hepdata is not None else None
    figs = c.figures(spec, combiner, result, args) if args.plots else {}
    tables = c.tables(args, c.for_tables(spec, result))

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
        if hepdata is not None:
            sub = hepdata.stage(
                out, args.hepdata, overwrite=True, validate=not args.no_hepdata_validation
            )
            written += [sub.directory, sub.archive]
        for path, table in tables.items():
            written.append(out.write_text(path, table))
        c.stage_figures(out, args, figs, written)
    print(result.summary())
    c.report_written(written)
    return 0


def __dir__() -> list[str]:
    return list(__all__)
