"""The neutral combination specification and the configuration readers.

Both input formats — the C++ Convino program's text files (:mod:`hepcombine.convino`) and
hepcombine's YAML configuration — are read into one :class:`CombinationSpec`, which the combiner
and the command line consume. :func:`load_config` picks the reader from the file name.

References
----------
An estimate or a source is referred to by its bare name when that name is unique among all
measurements of the combination, or qualified as ``"measurement:name"``. The readers resolve
every reference to its qualified form, so a :class:`CombinationSpec` is unambiguous.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .exceptions import ConfigError, InvalidMeasurement
from .measurement import Measurement, Shift

__all__ = ["CombinationSpec", "ScanGroup", "load_config", "read_yaml"]

log = logging.getLogger(__name__)

Pair = tuple[str, str, float, float]


@dataclass(frozen=True)
class ScanGroup:
    """Correlation assumptions that are scanned together.

    Attributes
    ----------
    name:
        The group's name (in Convino files the left-hand side of its ``[correlations]`` line).
    pairs:
        ``(source_a, source_b, start, stop)`` per scanned pair, sources as qualified references.
    n_points:
        Number of scan points; point ``i`` sets every pair to
        ``start + i * (stop - start) / (n_points - 1)``. Convino uses 6, fixed.
    """

    name: str
    pairs: list[Pair]
    n_points: int = 6

    def __post_init__(self) -> None:
        if self.n_points < 2:
            raise ValueError(f"scan group {self.name!r}: n_points must be at least 2")

    def points(self) -> list[dict[tuple[str, str], float]]:
        """The correlation assumptions of each scan point, ``{(a, b): rho}``."""
        out = []
        for i in range(self.n_points):
            t = i / (self.n_points - 1)
            out.append({(a, b): start + t * (stop - start) for a, b, start, stop in self.pairs})
        return out


@dataclass(frozen=True)
class CombinationSpec:
    """Everything a combination needs, independent of the file format it was read from.

    Attributes
    ----------
    measurements:
        ``{name: Measurement}``; Convino measurements are named by their file stem.
    observables:
        ``{combined quantity: [qualified estimate references]}``. Estimates listed nowhere are
        spectators (the combiner gives them a free parameter and reports them).
    correlations:
        ``{(source_a, source_b): nominal correlation}`` between qualified source references.
    scans:
        Groups of correlation assumptions that are scanned together; every scanned pair also
        has its nominal value in ``correlations``.
    impacts:
        ``{group: [qualified source references]}``; the single keyword ``"stat"`` stands for the
        statistical uncertainty.
    differential:
        Whether the combined quantities form a differential distribution.
    normalise:
        Normalise the combined distribution to unit sum (with its covariance).
    chi2:
        ``"neyman"`` or ``"pearson"``; ``None`` leaves the choice to the tool's default.
    source:
        The file the specification was read from (for messages).
    """

    measurements: dict[str, Measurement]
    observables: dict[str, list[str]] = field(default_factory=dict)
    correlations: dict[tuple[str, str], float] = field(default_factory=dict)
    scans: list[ScanGroup] = field(default_factory=list)
    impacts: dict[str, list[str]] = field(default_factory=dict)
    differential: bool = False
    normalise: bool = False
    chi2: str | None = None
    source: str = ""

    def combiner_arguments(self) -> dict[str, Any]:
        """Keyword arguments for ``Combiner(**spec.combiner_arguments())``."""
        kwargs: dict[str, Any] = {
            "measurements": self.measurements,
            "observables": self.observables,
            "correlations": self.correlations,
        }
        if self.chi2 is not None:
            kwargs["chi2"] = self.chi2
        return kwargs


def load_config(path: str | Path) -> CombinationSpec:
    """Read a combination: ``.yaml``/``.yml`` as hepcombine YAML, anything else as a Convino
    base file."""
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        return read_yaml(path)
    from .convino import read_convino

    return read_convino(path)


def read_yaml(path: str | Path) -> CombinationSpec:
    """Read a hepcombine YAML configuration (not implemented yet)."""
    raise ConfigError(f"{path}: the YAML configuration reader is not implemented yet")


# --------------------------------------------------------------------------- shared helpers
class _ReferenceError(Exception):
    """A reference that cannot be resolved; the readers add file and line."""


class _BuildError(Exception):
    """A measurement could not be built; ``stage`` says which part of its input is at fault."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage


class _Resolver:
    """Resolves bare or qualified references to estimates and sources of the measurements."""

    def __init__(self, measurements: Mapping[str, Measurement]) -> None:
        self.measurements = measurements
        self.estimates: dict[str, list[str]] = {}
        self.sources: dict[str, list[str]] = {}
        for mname, m in measurements.items():
            for e in m.estimate_names:
                self.estimates.setdefault(e, []).append(mname)
            for s in m.source_names:
                self.sources.setdefault(s, []).append(mname)

    def _resolve(self, ref: str, what: str, index: Mapping[str, list[str]]) -> list[str]:
        ref = ref.strip()
        if ":" in ref:
            mname, _, bare = ref.partition(":")
            if mname in self.measurements:
                names = (
                    self.measurements[mname].estimate_names
                    if what == "estimate"
                    else self.measurements[mname].source_names
                )
                if bare in names:
                    return [f"{mname}:{bare}"]
                raise _ReferenceError(
                    f"measurement {mname!r} has no {what} {bare!r}; its {what}s are {list(names)}"
                )
        if ref in index:
            return [f"{m}:{ref}" for m in index[ref]]
        raise _ReferenceError(
            f"unknown {what} {ref!r}; known {what}s are {sorted(index)} (qualify a name "
            f"as 'measurement:{what}' when it is not unique)"
        )

    def estimate(self, ref: str) -> str:
        found = self._resolve(ref, "estimate", self.estimates)
        if len(found) > 1:
            where = [f.split(":")[0] for f in found]
            raise _ReferenceError(
                f"estimate {ref!r} is defined in several measurements {where}; write one of {found}"
            )
        return found[0]

    def sources_of(self, ref: str, shared: bool) -> list[str]:
        """Qualified sources a reference stands for: one, or with ``shared`` all same-named."""
        found = self._resolve(ref, "source", self.sources)
        if len(found) > 1 and not shared:
            where = [f.split(":")[0] for f in found]
            raise _ReferenceError(
                f"source {ref!r} is defined in several measurements {where}; write one of {found}"
            )
        return found


def _assemble_measurement(
    name: str,
    estimates: Mapping[str, float],
    *,
    hessian: tuple[Sequence[str], ArrayLike] | None = None,
    correlation: tuple[Sequence[str], Sequence[float], ArrayLike] | None = None,
    stat: Mapping[str, float] | None = None,
    stat_correlation: ArrayLike | None = None,
    systematics: Mapping[str, Mapping[str, Shift]] | None = None,
    relative: Iterable[str] = (),
    nuisance_values: Mapping[str, float] | None = None,
) -> Measurement:
    """Build a measurement the way both readers define it.

    Raises :class:`_BuildError` with the stage that failed (``"fitted"``, ``"orthogonal"`` or
    ``"nuisance"``) so that the reader can point at the right block.

    A fitted part (Hessian or correlation matrix) gives the estimates' statistical information
    and the fitted sources; orthogonal ``systematics`` are appended with no information of
    their own. Without a fitted part ``stat`` is required.
    """
    relative = set(relative)
    systematics = systematics or {}
    stage = "fitted"
    try:
        if hessian is not None or correlation is not None:
            names = list(hessian[0] if hessian is not None else correlation[0])  # type: ignore[index]
            rel_fit = [s for s in names if s in relative]
            if hessian is not None:
                m = Measurement.from_hessian(hessian[1], names, estimates, rel_fit, name=name)
            else:
                assert correlation is not None
                m = Measurement.from_correlation_matrix(
                    correlation[2], correlation[1], names, estimates, rel_fit, name=name
                )
            stage = "orthogonal"
            if systematics:
                m = m.with_uncertainties(systematics, [s for s in systematics if s in relative])
        else:
            stage = "orthogonal"
            m = Measurement.from_uncertainties(
                estimates,
                stat or {},
                systematics,
                stat_correlation,
                [s for s in systematics if s in relative],
                name=name,
            )
        stage = "nuisance"
        if nuisance_values:
            index = {s: i for i, s in enumerate(m.source_names)}
            lam = np.array(m.nuisance_values, dtype=float)
            for s, v in nuisance_values.items():
                if s not in index:
                    raise _ReferenceError(
                        f"nuisance value given for {s!r}, which is not a source of measurement "
                        f"{name!r} (sources: {list(m.source_names)})"
                    )
                lam[index[s]] = float(v)
            m = Measurement(
                m.estimate_names,
                m.estimates,
                m.source_names,
                m.stat_information,
                m.shifts_up,
                m.shifts_down,
                m.source_information,
                lam,
                m.relative,
                m.name,
                m.origin,
            )
    except (InvalidMeasurement, _ReferenceError) as exc:
        raise _BuildError(stage, str(exc)) from exc
    return m


def _add_correlation(
    correlations: dict[tuple[str, str], float],
    origin: dict[frozenset[str], str],
    a: str,
    b: str,
    rho: float,
    where: str,
) -> None:
    """Record ``rho`` between ``a`` and ``b``; raise on self-correlation or a repeated pair."""
    if a == b:
        raise _ReferenceError(f"source {a!r} cannot be correlated with itself")
    if not -1.0 <= rho <= 1.0:
        raise _ReferenceError(f"correlation {rho:g} between {a!r} and {b!r} is outside [-1, 1]")
    key = frozenset((a, b))
    if key in origin:
        raise _ReferenceError(
            f"the correlation between {a!r} and {b!r} is given twice (first {origin[key]})"
        )
    origin[key] = where
    correlations[(a, b)] = float(rho)


def _shared_name_correlations(
    measurements: Mapping[str, Measurement],
) -> dict[str, list[str]]:
    """``{source name: [qualified references]}`` for names used by more than one measurement."""
    seen: dict[str, list[str]] = {}
    for mname, m in measurements.items():
        for s in m.source_names:
            seen.setdefault(s, []).append(f"{mname}:{s}")
    return {s: refs for s, refs in seen.items() if len(refs) > 1}
