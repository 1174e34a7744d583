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
                             errors), TGraphAsymmErrors 'combined_profile' (point i at
                             x = i + 0.5, y errors the profile interval), TH2D
                             'covariance'/'correlation' and TH1D 'breakdown_<component>' with
                             labelled bins
  -r                         the ROOT file as DIR/[P_]result.root (convino's -r)
  --hepdata DIR              a HEPData submission: directory DIR (submission.yaml and one file
                             per table) and DIR.tar.gz; table 'Combination' (the bins with their
                             edges, axis label and unit; the values with their profile interval
                             as 'total' error and the breakdown), 'Combination covariance' and
                             'Combination correlation'; validated with hepdata-validator (needs
                             hepcombine[hepdata]). An existing DIR is replaced only if it is a
                             submission directory
  --yoda FILE                the combined distribution as YODA text, usable as Rivet reference
                             data: object /REF/<analysis>/combined with one error source per
                             component of the uncertainty breakdown (stat, sys,<component>;
                             --yoda-errors profile|hesse: the total only), and the input
                             measurements /REF/<analysis>/<measurement> (stat and their
                             sources) for comparison; YODA 2 (Rivet 4) or, with
                             --yoda-format yoda1, YODA 1 SCATTER2D_V2 (Rivet 3)
  --hs3 FILE                 the combination as an HS3 statistical model (JSON; pyhs3, RooFit):
                             likelihood 'gaussian' (the combined values as a multivariate
                             normal) and 'full' (the chi2 of the combination with its sources
                             as constrained nuisance parameters); what HS3 cannot express is
                             listed in misc.hepcombine.flags and printed. With --hepdata the
                             same file is an additional resource of the submission
  --simplified FILE          the CMS simplified likelihood (arXiv:1809.05548) as JSON: mean,
                             covariance and third moments of the combined values (exact for a
                             quadratic chi2, else from --simplified-toys pseudo-experiments of
                             the combination's model) and its quadratic model a, b, c, rho
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
  -s, --scan                 also scan the correlation assumptions (as 'hepcombine scan'):
                             DIR/[P_]scan_result.txt (convino's -s); --workers N or
                             --scheduler ADDRESS run its points as Dask tasks (the numbers
                             do not change; python -m pip install 'hepcombine[dask]')
  -p, --scan-plots           with the scan, its plots DIR/[P_]scan_<group>_<observable>.png
                             and .pdf (convino's -p; implies -s)
  -c, --contours             2-D profile-likelihood contours of every pair of combined values
                             (at most %(max_pairs)d pairs; else name them with --contour A B),
                             at Delta chi2 = 1 (convino's curve), 2.30 (68.27 %% CL) and
                             5.99 (95 %% CL): DIR/[P_]contours.json, DIR/[P_]contours.root
                             (one TGraph per pair and level, directory 'contours') and the
                             plots DIR/[P_]contour_<a>_<b>.png and .pdf
  --contour A B              the contour of A and B (combined values, spectators or sources
                             'measurement:source'); repeatable; implies -c for these pairs only

With normalise = true in the config, the normalised values are printed first (then the
combined values), and come first in result.txt, as convino does.

The original convino program's options work as aliases: --neyman, --prefix P, -s, -p, -c, -r,
-d (debug), combinable as in 'hepcombine combine -sp base.txt'; 'hepcombine -s base.txt'
(no command) is 'hepcombine combine -s base.txt'.

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
  hepcombine combine rivet.yaml --yoda combined.yoda --hs3 combined_hs3.json --simplified sl.json
  hepcombine combine -spc --neyman --prefix ny base.txt         # convino -sp --neyman ... + contours
  hepcombine combine -s base.txt --workers 2                    # the scan's points on 2 workers
  hepcombine combine base.txt --contour bin0 bin1 --contour bin0 lumi
"""

#: ``-c`` draws every pair of combined values up to this many pairs (8 observables).
MAX_CONTOUR_PAIRS = 28
#: the levels of ``-c``: Δχ² = 1 (the original program's curve), 68.27 % and 95 % CL
CONTOUR_LEVELS: tuple[dict[str, float], ...] = (
    {"delta_chi2": 1.0},
    {"cl": 0.6827},
    {"cl": 0.95},
)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "combine",
        help=HELP,
        description=DESCRIPTION % {"max_pairs": MAX_CONTOUR_PAIRS},
        epilog=EPILOG,
        formatter_class=c.FORMATTER,
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
        "--yoda", metavar="FILE", type=Path, help="write the combination as YODA (Rivet) text"
    )
    p.add_argument(
        "--yoda-format",
        choices=("yoda2", "yoda1"),
        default="yoda2",
        help="YODA 2 estimates (Rivet 4, default) or YODA 1 scatters (Rivet 3)",
    )
    p.add_argument(
        "--yoda-errors",
        choices=("breakdown", "profile", "hesse"),
        default="breakdown",
        help="errors of the combined object: the breakdown components (default), the profile "
        "interval or the symmetric error",
    )
    p.add_argument(
        "--yoda-analysis",
        metavar="NAME",
        default="HEPCOMBINE",
        help="the objects' paths are /REF/NAME/... (default HEPCOMBINE)",
    )
    p.add_argument(
        "--hs3", metavar="FILE", type=Path, help="write the combination as an HS3 model (JSON)"
    )
    p.add_argument(
        "--simplified",
        metavar="FILE",
        type=Path,
        help="write the CMS simplified likelihood (moments up to the third) as JSON",
    )
    p.add_argument(
        "--simplified-toys",
        metavar="N",
        type=lambda t: c.integer(t, 100, "--simplified-toys"),
        default=10_000,
        help="pseudo-experiments for the third moments of a non-quadratic chi2 (default 10000)",
    )
    p.add_argument(
        "--simplified-seed",
        metavar="S",
        type=int,
        default=1,
        help="seed of those pseudo-experiments (default 1)",
    )
    p.add_argument(
        "-r",
        dest="root_default",
        action="store_true",
        help="write the ROOT file as DIR/[P_]result.root (convino's -r)",
    )
    p.add_argument(
        "--plots", action="store_true", help="write summary, pulls and correlation plots"
    )
    p.add_argument(
        "-s",
        "--scan",
        action="store_true",
        help="also scan the correlation assumptions: DIR/[P_]scan_result.txt (convino's -s)",
    )
    p.add_argument(
        "-p",
        "--scan-plots",
        action="store_true",
        help="the scan's plots as .png and .pdf (convino's -p; implies -s)",
    )
    p.add_argument(
        "-c",
        "--contours",
        action="store_true",
        help="2-D contours of every pair of combined values at Delta chi2 = 1, 2.30, 5.99",
    )
    p.add_argument(
        "--contour",
        nargs=2,
        action="append",
        metavar=("A", "B"),
        help="the contour of A and B (combined values or sources); repeatable",
    )
    p.add_argument(
        "--contour-points",
        metavar="N",
        type=int,
        default=64,
        help="points per contour (default 64)",
    )
    c.add_execution(
        p
    ).description = "where the points of the scan (-s) run: the combination itself always runs here"
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


def _contour_pairs(args: argparse.Namespace, observables: tuple[str, ...]) -> list[tuple[str, str]]:
    from ..exceptions import InvalidArgument

    if args.contour:
        return [(a, b) for a, b in args.contour]
    if not args.contours:
        return []
    pairs = [(a, b) for i, a in enumerate(observables) for b in observables[i + 1 :]]
    if not pairs:
        raise InvalidArgument("-c needs at least two combined values; name a source with --contour")
    if len(pairs) > MAX_CONTOUR_PAIRS:
        raise InvalidArgument(
            f"-c would draw {len(pairs)} contours ({len(observables)} combined values); at most "
            f"{MAX_CONTOUR_PAIRS} are drawn at once: choose pairs with --contour A B"
        )
    return pairs


def _normalised_summary(result: Any, norm: Any) -> str:
    obs = result.observables
    width = max(len(o) for o in obs)
    lines = ["normalised to unit sum (covariance propagated exactly):"]
    for o, v, e in zip(obs, norm.values, norm.errors, strict=True):
        lines.append(f"  {o:<{width}} = {v:.6g} ± {e:.6g}")
    return "\n".join(lines)


def _reuse_outputs(
    args: argparse.Namespace, spec: Any, combiner: Any, result: Any
) -> dict[str, str]:
    """The texts of --yoda, --hs3 and --simplified (and the HS3 resource of --hepdata), built
    before anything is written; HS3 limitations are logged as warnings."""
    import logging

    log = logging.getLogger(__name__)
    out: dict[str, Any] = {}
    if args.yoda is not None:
        from ..outputs.yoda import combination_yoda

        out["yoda"] = combination_yoda(
            result,
            spec,
            analysis=args.yoda_analysis,
            errors=args.yoda_errors,
            format=args.yoda_format,
        )
    if args.hs3 is not None or args.hepdata is not None:
        from ..exceptions import OutputError
        from ..outputs.hs3 import hs3_model

        try:
            model = hs3_model(result)
        except OutputError as exc:
            if args.hs3 is not None:
                raise
            log.warning("the HEPData submission has no HS3 likelihood: %s", exc)
            model = None
        if model is not None:
            for flag in model.flags:
                log.warning("HS3: %s", flag)
            text = model.to_json()
            if args.hs3 is not None:
                out["hs3"] = text
            out["hs3_resource"] = text
    if args.simplified is not None:
        from ..outputs.simplified import simplified_likelihood

        sl = simplified_likelihood(
            result, combiner, n_toys=args.simplified_toys, seed=args.simplified_seed
        )
        for flag in sl.flags:
            log.warning("simplified likelihood: %s", flag)
        out["simplified"] = sl.to_json()
    return out


def run(args: argparse.Namespace) -> int:
    from ..outputs import combination
    from ..outputs.atomic import output_set
    from ..outputs.json import dumps, result_to_dict
    from ..outputs.text import format_result

    scan = args.scan or args.scan_plots
    if (args.workers is not None or args.scheduler is not None) and not scan:
        raise c.UsageError(
            "--workers and --scheduler run the points of a correlation scan: use them with -s"
        )
    c.check_dask(args)
    contours = bool(args.contours or args.contour)
    root_path = args.root
    if root_path is None and args.root_default:
        root_path = c.out_name(args, "result.root")
    outputs = {
        "result.txt": c.out_name(args, "result.txt"),
        "--json": args.json,
        "--root" if args.root is not None else "-r": root_path,
        "scan_result.txt": c.out_name(args, "scan_result.txt") if scan else None,
        "contours.json": c.out_name(args, "contours.json") if contours else None,
        "contours.root": c.out_name(args, "contours.root") if contours else None,
        "--hepdata": args.hepdata,
        "--yoda": args.yoda,
        "--hs3": args.hs3,
        "--simplified": args.simplified,
        "--latex": args.latex,
        "--markdown": args.markdown,
    }
    c.check_distinct(outputs)  # before any work
    if args.contour_points < 8:
        from ..exceptions import InvalidArgument

        raise InvalidArgument(f"--contour-points must be at least 8, not {args.contour_points}")

    spec = c.load(args)
    combiner = c.combiner(args, spec)
    result = combiner.combine(intervals=not args.no_intervals)
    norm = combination.normalised(result, spec)
    distribution = combination.differential_result(result, spec)
    pairs = _contour_pairs(args, result.observables)

    # everything is computed before anything is written
    text = format_result(result, spec=spec, normalised=norm)
    json_text = None
    if args.json is not None:
        json_text = dumps(
            result_to_dict(
                result, normalised=norm, config=str(args.config), differential=distribution
            )
        )
    root_objects = combination.root_objects(result, spec) if root_path is not None else None
    hepdata = combination.hepdata_tables(result, spec) if args.hepdata is not None else None
    reuse = _reuse_outputs(args, spec, combiner, result)
    if hepdata is not None and reuse.get("hs3_resource") is not None:
        hepdata = hepdata.with_resource(
            "hs3_likelihood.json",
            reuse["hs3_resource"],
            "the combination as an HS3 statistical model (hepcombine.outputs.hs3)",
        )
    figs = c.figures(spec, combiner, result, args) if args.plots else {}
    tables = c.tables(args, c.for_tables(spec, result))
    scan_table = None
    if scan:
        if spec.scans:
            _, scan_table, scan_figs = c.scan_outputs(
                spec, args, n_points=None, intervals=False, plots=args.scan_plots
            )
            figs.update(scan_figs)
        else:
            import logging

            logging.getLogger(__name__).warning(
                "%s defines no correlation scan (no '(nominal & from : to)' ranges): -s has "
                "nothing to scan",
                args.config,
            )
    contour_json = contour_root = None
    if pairs:
        drawn = [
            [
                result.contour(a, b, n_points=args.contour_points, **level)
                for level in CONTOUR_LEVELS
            ]
            for a, b in pairs
        ]
        flat = [x for levels in drawn for x in levels]
        contour_json = dumps({"contours": [x.to_dict() for x in flat]})
        contour_root = combination.contour_objects(flat)
        c.quiet_matplotlib()
        from ..plots.combination import file_stem
        from ..plots.contour import plot_contour

        for levels in drawn:
            fig = plot_contour(levels, exp_label=c.exp_label(args))
            stem = f"contour_{file_stem(levels[0].x_name)}_{file_stem(levels[0].y_name)}"
            figs[stem] = fig

    written: list[Path] = []
    with output_set() as out:
        written.append(out.write_text(outputs["result.txt"], text))
        if json_text is not None:
            written.append(out.write_text(args.json, json_text))
        if root_objects is not None:
            from ..outputs.root import write_root

            objects = root_objects
            written.append(
                out.stage(root_path, lambda tmp: write_root(tmp, objects, directory="combination"))
            )
        if scan_table is not None:
            written.append(out.write_text(c.out_name(args, "scan_result.txt"), scan_table))
        if contour_json is not None and contour_root is not None:
            from ..outputs.root import write_root

            graphs = contour_root
            written.append(out.write_text(c.out_name(args, "contours.json"), contour_json))
            written.append(
                out.stage(
                    c.out_name(args, "contours.root"),
                    lambda tmp: write_root(tmp, graphs, directory="contours"),
                )
            )
        if hepdata is not None:
            sub = hepdata.stage(
                out, args.hepdata, overwrite=True, validate=not args.no_hepdata_validation
            )
            written += [sub.directory, sub.archive]
        for option in ("yoda", "hs3", "simplified"):
            if option in reuse:
                written.append(out.write_text(getattr(args, option), reuse[option]))
        for path, table in tables.items():
            written.append(out.write_text(path, table))
        c.stage_figures(out, args, figs, written)
    if norm is not None:
        print(_normalised_summary(result, norm))
    print(result.summary())
    c.report_written(written)
    return 0


def __dir__() -> list[str]:
    return list(__all__)
