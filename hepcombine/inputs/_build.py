"""Helpers shared by the readers of configuration files (Convino text, YAML).

Both readers build their measurements with :func:`assemble_measurement` and their correlation
assumptions with :func:`add_correlation`, and resolve names with
:class:`hepcombine.names.Names`; they turn :class:`ReaderError` and
:class:`~hepcombine.exceptions.UnknownName` into a :class:`~hepcombine.exceptions.ConfigError`
naming file and line (or key).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from ..exceptions import InvalidMeasurement
from ..measurement import Measurement, Shift

__all__ = ["BuildError", "ReaderError", "add_correlation", "assemble_measurement"]


class ReaderError(Exception):
    """A problem in an input that the reader reports with its file and line."""


class BuildError(Exception):
    """A measurement could not be built; ``stage`` says which part of its input is at fault."""

    def __init__(self, stage: str, message: str) -> None:
        super().__init__(message)
        self.stage = stage


def assemble_measurement(
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

    Raises :class:`BuildError` with the stage that failed (``"fitted"``, ``"orthogonal"`` or
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
                    raise ReaderError(
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
    except (InvalidMeasurement, ReaderError) as exc:
        raise BuildError(stage, str(exc)) from exc
    return m


def add_correlation(
    correlations: dict[tuple[str, str], float],
    origin: dict[frozenset[str], str],
    a: str,
    b: str,
    rho: float,
    where: str,
) -> None:
    """Record ``rho`` between ``a`` and ``b``; raise on self-correlation or a repeated pair."""
    if a == b:
        raise ReaderError(f"source {a!r} cannot be correlated with itself")
    if not -1.0 <= rho <= 1.0:
        raise ReaderError(f"correlation {rho:g} between {a!r} and {b!r} is outside [-1, 1]")
    key = frozenset((a, b))
    if key in origin:
        raise ReaderError(
            f"the correlation between {a!r} and {b!r} is given twice (first {origin[key]})"
        )
    origin[key] = where
    correlations[(a, b)] = float(rho)
