"""What the combination of a :class:`~hepcombine.spec.CombinationSpec` writes, decided by the
specification (not by the command line): the normalised distribution when it asks for one,
the result as a distribution (its bins, binning and quantity) when it is differential, the
ROOT objects and HEPData tables of a differential or of any other combination (for every
combination a ``TGraphAsymmErrors`` of the combined values, as the original program's ``-r``),
and the ROOT graphs of 2-D contours.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..differential import DifferentialResult, NormalisedDistribution
    from ..result import CombinationResult
    from ..solver.contours import Contour
    from ..spec import CombinationSpec
    from .hepdata import HEPDataTables
    from .root import Graph

__all__ = [
    "contour_graph",
    "contour_objects",
    "differential_result",
    "hepdata_tables",
    "normalised",
    "root_objects",
]


def differential_result(
    result: CombinationResult, spec: CombinationSpec
) -> DifferentialResult | None:
    """The combination as a distribution when ``spec`` is differential: the observables in the
    order of the specification's bins, with its ``binning`` and ``quantity``; else ``None``."""
    if not spec.differential:
        return None
    from ..binning import Quantity
    from ..differential import DifferentialResult

    bins = list(spec.observables) if spec.observables else list(result.observables)
    return DifferentialResult.from_result(
        result,
        bins,
        title="combined",
        binning=spec.binning,
        quantity=spec.quantity if spec.quantity is not None else Quantity(),
    )


def _profile_ok(result: CombinationResult, observables: list[str], output: str) -> bool:
    ok = all(result.has_interval(o) for o in observables)
    if not ok:
        import logging

        logging.getLogger(__name__).warning(
            "some profile intervals are not available; %s uses the symmetric errors", output
        )
    return ok


def hepdata_tables(result: CombinationResult, spec: CombinationSpec) -> HEPDataTables:
    """The HEPData tables of the combination (:func:`~hepcombine.outputs.hepdata.prepare_hepdata`),
    built before any file is written: for a differential specification the bins with its
    binning and quantity; otherwise one numbered bin per observable. The ``total`` error is the
    profile interval where every observable has one, else the symmetric error (with a
    warning)."""
    from .hepdata import HEPDataOptions, prepare_hepdata

    dr = differential_result(result, spec)
    obs = list(dr.observables) if dr is not None else list(result.observables)
    errors: Literal["profile", "hesse"] = (
        "profile" if _profile_ok(result, obs, "the HEPData table") else "hesse"
    )
    if dr is None:
        return prepare_hepdata(result, HEPDataOptions(observables=obs, errors=errors))
    return prepare_hepdata(dr, HEPDataOptions(errors=errors))


def normalised(result: CombinationResult, spec: CombinationSpec) -> NormalisedDistribution | None:
    """The shape of the combined distribution (unit sum, exactly propagated covariance) when
    ``spec.normalise`` asks for it, else ``None``."""
    if not spec.normalise:
        return None
    from ..differential import normalise

    # the bins of the specification (after any rebinning), never the reported linear
    # quantities (a total beside the bins) that the result also carries
    obs = list(spec.observables) or [o for o in result.observables if o not in spec.linear]
    return normalise([result.values[o] for o in obs], result.covariance.sub(obs).matrix)


def root_objects(result: CombinationResult, spec: CombinationSpec) -> dict[str, Any]:
    """The objects of the ROOT output, built before any file is written.

    For a differential specification the objects of
    :func:`~hepcombine.outputs.root.differential_objects` on the specification's binning
    (``normalised`` and ``normalised_covariance`` when the specification normalises); otherwise
    :func:`~hepcombine.outputs.root.result_objects`. The graph ``combined_profile`` has the
    profile intervals where every observable has one, else the symmetric errors, with a warning.
    """
    from .root import differential_objects, result_objects

    dr = differential_result(result, spec)
    obs = list(dr.observables) if dr is not None else list(result.observables)
    ok = _profile_ok(result, obs, "the ROOT graph 'combined_profile'")
    graph_errors: Literal["profile", "symmetric"] = "profile" if ok else "symmetric"
    if dr is None:
        return result_objects(result, graph_errors=graph_errors)
    return differential_objects(dr, normalised=spec.normalise, graph_errors=graph_errors)


def contour_graph(contour: Contour) -> Graph:
    """A contour as a closed ``TGraph`` (the first point repeated at the end), titled with its
    level, axis titles the two quantities."""
    from .root import Graph

    x, y = contour.closed()
    title = (
        f"{contour.y_name} vs {contour.x_name}: Delta chi2 = {contour.delta_chi2:.4g} "
        f"({100 * contour.cl:.4g}% CL)"
    )
    return Graph(x, y, title=title, x_title=contour.x_name, y_title=contour.y_name)


def contour_objects(contours: Sequence[Contour]) -> dict[str, Graph]:
    """``{key: TGraph}`` of several contours; keys ``contour_<a>_<b>_dchi2_<level>`` (ROOT-safe,
    see :func:`~hepcombine.outputs.root.root_key`; the level with ``p`` for the decimal
    point, e.g. ``dchi2_2p3``)."""
    from .root import root_key

    out: dict[str, Graph] = {}
    for c in contours:
        level = f"{c.delta_chi2:.3g}".replace(".", "p")
        base = root_key(f"contour_{c.x_name}_{c.y_name}_dchi2_{level}")
        key, k = base, 2
        while key in out:
            key, k = f"{base}_{k}", k + 1
        out[key] = contour_graph(c)
    return out


def __dir__() -> list[str]:
    return list(__all__)
