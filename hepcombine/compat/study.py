"""The compatibility study: set up, diagnose the data, calibrate with pseudo-experiments,
report (:func:`compatibility`; the definitions are in :mod:`.diagnostics`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidArgument
from ..names import some_names
from .diagnostics import NOT_MEASURED, OK, Setup, build_result, diagnose, profile, scaled_combiner
from .result import CompatibilityResult
from .toys import calibrate

if TYPE_CHECKING:
    from ..combiner import Combiner
    from ..result import CombinationResult
    from ..spec import CombinationSpec

__all__ = ["compatibility"]


def _combiner_of(combination: Combiner | CombinationSpec) -> Combiner:
    if hasattr(combination, "combiner_arguments"):  # a CombinationSpec
        return combination.combiner()  # type: ignore[union-attr]
    from ..combiner import Combiner

    if not isinstance(combination, Combiner):
        raise InvalidArgument(
            f"compatibility() takes a Combiner or a CombinationSpec, not a "
            f"{type(combination).__name__}"
        )
    return combination


def compatibility(
    combination: Combiner | CombinationSpec,
    *,
    leave_out: Sequence[str] | None = None,
    scale: bool = False,
    toys: int = 0,
    seed: int | None = None,
    nominal: CombinationResult | None = None,
    intervals: bool = True,
    chunk_size: int | None = None,
    workers: int | None = None,
    client: Any = None,
    scheduler: str | None = None,
    output: Any = None,
    progress: Any = None,
) -> CompatibilityResult:
    """Compatibility diagnostics of a combination (module docstring for the definitions).

    Parameters
    ----------
    combination:
        A :class:`~hepcombine.combiner.Combiner`, or a specification (combined with its
        default options).
    leave_out:
        The measurements to leave out one at a time (default: every measurement); an unknown
        name is an :class:`~hepcombine.exceptions.UnknownName` naming the closest ones.
    scale:
        Also compute the PDG-scaled combination (``result.scaled``).
    toys, seed:
        Number of pseudo-experiments that calibrate the p-values (0: none), and their seed
        (toy i uses child i of ``numpy.random.SeedSequence(seed)``; ``None`` draws one, reported
        in ``result.toys.seed``).
    nominal:
        The combination's result, if already computed (by ``Combiner.combine``).
    intervals:
        Compute the profile intervals of the nominal (and scaled) combination.
    chunk_size, workers, client, scheduler, output, progress:
        How the pseudo-experiments run, as for :func:`hepcombine.toys.run_toys` (in-process by
        default; Dask with ``workers=``/``client=``/``scheduler=``; ``output=`` a run directory
        that a rerun resumes).

    Returns
    -------
    CompatibilityResult
    """
    combiner = _combiner_of(combination)
    if combiner.linear:
        raise InvalidArgument(
            "compatibility diagnostics of a combination with linear maps (merged or summed "
            f"bins, totals: linear quantities {list(combiner.linear)}) are not supported yet"
        )
    setup = Setup.of(combiner, leave_out)
    if nominal is None:
        nominal = combiner.combine(intervals=intervals)
    diagnosis = diagnose(setup, nominal)
    model = profile(nominal).model
    notes = list(diagnosis.notes)
    chi2, ndf = float(nominal.chi2), int(nominal.ndf)
    s_factor = math.sqrt(max(chi2, 0.0) / ndf) if ndf > 0 else math.nan
    scaled = None
    if scale:
        if not math.isfinite(s_factor):
            notes.append("no degrees of freedom: the scale factor S is undefined, nothing scaled")
        elif s_factor > 1.0:
            scaled = scaled_combiner(combiner, s_factor).combine(intervals=intervals)
        else:
            scaled = nominal
            notes.append(f"S = {s_factor:.3g} ≤ 1: the errors are not scaled (PDG)")
    smooth_asym = model.asymmetry == "smooth" and any(b.asym.any() for b in model.blocks)
    if scaled is not None and scaled is not nominal and smooth_asym:
        notes.append(
            "the smooth interpolation of asymmetric sources is scaled by multiplying the "
            "shifts by S, which is not exactly the χ² divided by S²"
        )
    alone = [
        f"{m}:{e}"
        for p, (_, _, _, m, e) in zip(diagnosis.pull, setup.inputs, strict=True)
        if not math.isfinite(p)
    ]
    if alone:
        notes.append(
            f"no pull for {len(alone)} input(s) that alone determine their combined value "
            f"(x̂ − x̄ has no variance): {some_names(alone)}"
        )
    for m, sub in diagnosis.subs.items():
        if sub.status != OK:
            notes.append(f"without {m!r}: {sub.status}")
        else:
            lost = [
                o
                for o, s in zip(combiner.observables, sub.value_status, strict=True)
                if s == NOT_MEASURED
            ]
            if lost:
                notes.append(f"without {m!r}: {some_names(lost)} not measured")
    calibration = None
    if toys:
        calibration = calibrate(
            setup,
            diagnosis,
            int(toys),
            seed=seed,
            chunk_size=chunk_size,
            workers=workers,
            client=client,
            scheduler=scheduler,
            output=output,
            progress=progress,
        )
    return build_result(setup, diagnosis, s_factor, scaled, calibration, notes)


def __dir__() -> list[str]:
    return list(__all__)
