"""What the combination of a :class:`~hepcombine.spec.CombinationSpec` writes, decided by the
specification (not by the command line): the normalised distribution when it asks for one,
the result as a distribution (its bins, binning and quantity) when it is differential, and the
ROOT objects and HEPData tables of a differential or of any other combination.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ..differential import DifferentialResult, NormalisedDistribution
    from ..result import CombinationResult
    from ..spec import CombinationSpec
    from .hepdata import HEPDataTables

__all__ = ["differential_result", "hepdata_tables", "normalised", "root_objects"]


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
    from .hepdata import prepare_hepdata

    dr = differential_result(result, spec)
    obs = list(dr.observables) if dr is not None else list(result.observables)
    errors: Literal["profile", "hesse"] = (
        "profile" if _profile_ok(result, obs, "the HEPData table") else "hesse"
    )
    if dr is None:
        return prepare_hepdata(result, obs, errors=errors)
    return prepare_hepdata(result, obs, binning=dr.binning, quantity=dr.quantity, errors=errors)


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
    :func:`~hepcombine.outputs.root.differential_objects` on the specification's binning (the
    graph ``combined_profile`` has the profile intervals where every bin has one, else the
    symmetric errors, with a warning; ``normalised`` and ``normalised_covariance`` when the
    specification normalises); otherwise :func:`~hepcombine.outputs.root.result_objects`.
    """
    from .root import result_objects

    dr = differential_result(result, spec)
    if dr is None:
        return result_objects(result)
    ok = _profile_ok(result, list(dr.observables), "the ROOT graph 'combined_profile'")
    return dr.root_objects(normalised=spec.normalise, graph_errors="profile" if ok else "symmetric")


def __dir__() -> list[str]:
    return list(__all__)
