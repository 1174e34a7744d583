"""What the combination of a :class:`~hepcombine.spec.CombinationSpec` writes, decided by the
specification (not by the command line): the normalised distribution when it asks for one,
and the ROOT objects of a differential or of any other combination.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ..differential import NormalisedDistribution
    from ..result import CombinationResult
    from ..spec import CombinationSpec

__all__ = ["normalised", "root_objects"]


def normalised(result: CombinationResult, spec: CombinationSpec) -> NormalisedDistribution | None:
    """The shape of the combined distribution (unit sum, exactly propagated covariance) when
    ``spec.normalise`` asks for it, else ``None``."""
    if not spec.normalise:
        return None
    from ..differential import normalise

    return normalise([result.values[o] for o in result.observables], result.covariance.matrix)


def root_objects(result: CombinationResult, spec: CombinationSpec) -> dict[str, Any]:
    """The objects of the ROOT output, built before any file is written.

    For a differential specification the objects of
    :func:`~hepcombine.outputs.root.differential_objects` on the specification's binning
    (``normalised`` and ``normalised_covariance`` when the specification normalises); otherwise
    :func:`~hepcombine.outputs.root.result_objects`. The graph ``combined_profile`` has the
    profile intervals where every observable has one, else the symmetric errors, with a warning.
    """
    import logging

    from ..differential import DifferentialResult
    from .root import result_objects

    ok = all(result.has_interval(o) for o in result.observables)
    if not ok:
        logging.getLogger(__name__).warning(
            "some profile intervals are not available; the ROOT graph 'combined_profile' "
            "uses the symmetric errors"
        )
    graph_errors: Literal["profile", "symmetric"] = "profile" if ok else "symmetric"
    if not spec.differential:
        return result_objects(result, graph_errors=graph_errors)
    dr = DifferentialResult.from_result(result, binning=spec.binning, title="combined")
    return dr.root_objects(normalised=spec.normalise, graph_errors=graph_errors)


def __dir__() -> list[str]:
    return list(__all__)
