"""The bins of several measurements of one distribution, matched by their edges.

:func:`match_bins` pairs the bins of differential measurements (ROOT histograms and graphs,
HEPData tables, YAML measurements with a ``binning``) by their edges, never by their position:
bin ``[2.0, 2.125)`` of one measurement is combined with bin ``[2.0, 2.125)`` of the others,
wherever it sits in each. :func:`common_quantity` is what the combined values are, from what
the measurements say.

Both raise :class:`~hepcombine.exceptions.InvalidMeasurement` naming the two measurements and
the bin (or the units) that disagree; the readers add file, line and key.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..binning import Binning, Binning2D, Qualifier, Quantity
from ..exceptions import InvalidMeasurement
from ..measurement import DifferentialMeasurement

__all__ = ["BinMismatch", "MatchedBins", "common_quantity", "match_bins"]

log = logging.getLogger(__name__)

#: Edges closer than this (relative to the edge, plus 1e-9 of the whole axis) are equal.
RTOL = 1e-6


class BinMismatch(InvalidMeasurement):
    """The bins of two measurements do not match; ``measurement`` is the one named first."""

    def __init__(self, message: str, measurement: str) -> None:
        super().__init__(message)
        self.measurement = measurement


@dataclass(frozen=True)
class MatchedBins:
    """The combined bins: ``observables`` ``{f"{prefix}{k}": ["measurement:estimate", …]}`` in
    bin order, their ``binning``, and per combined bin the measurements that have it."""

    observables: dict[str, list[str]]
    binning: Binning | Binning2D
    members: tuple[tuple[str, ...], ...]


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _origin(name: str, m: DifferentialMeasurement) -> str:
    return f"{name!r} ({m.origin})" if m.origin else repr(name)


def _keys(name: str, m: DifferentialMeasurement, n_measurements: int) -> list[tuple[float, float]]:
    """(low, high) of each bin, or (x, x) for measurements whose bins are only points."""
    b = m.binning
    assert isinstance(b, Binning)  # 2-d binnings: _match_cells
    if not b.is_index:
        return list(zip(b.low.tolist(), b.high.tolist(), strict=True))
    if b.centers is not None:
        return [(c, c) for c in b.centers.tolist()]
    if n_measurements == 1:
        return list(zip(b.low.tolist(), b.high.tolist(), strict=True))
    raise BinMismatch(
        f"measurement {_origin(name, m)}: its bins are only numbered (no edges), so they cannot "
        "be matched with the bins of the other measurements by edge; give its bin edges",
        name,
    )


def match_bins(
    measurements: Mapping[str, DifferentialMeasurement],
    *,
    union: bool = False,
    prefix: str = "bin",
) -> MatchedBins:
    """Combined bins of ``measurements`` (by name), matched by edges.

    Two bins are the same bin when both edges agree to 10⁻⁶ (relative; 10⁻⁹ of the axis
    range absolute). Bins that overlap without being the same are an error naming both
    measurements and bins. With ``union=False`` (default) every measurement must have every
    bin; the error names the measurement that lacks one. With ``union=True`` the combined bins
    are all bins of all measurements (gaps allowed), each combined from the measurements that
    have it. Axis name, label and unit are the first measurement's; axis units that differ
    (ignoring case and spaces) are an error. Graphs' points (``Binning.is_index`` with
    centres) are matched by their x.
    """
    names = list(measurements)
    if not names:
        raise InvalidMeasurement("a differential combination needs at least one measurement")
    if any(isinstance(m.binning, Binning2D) for m in measurements.values()):
        return _match_cells(measurements, union, prefix)
    keys = {n: _keys(n, m, len(names)) for n, m in measurements.items()}
    points = {n: measurements[n].binning.is_index for n in names}
    if len(set(points.values())) > 1:
        a = next(n for n in names if points[n])
        b = next(n for n in names if not points[n])
        raise BinMismatch(
            f"measurement {_origin(a, measurements[a])} has points without bin edges but "
            f"{_origin(b, measurements[b])} has bins; they cannot be matched by edge",
            a,
        )
    first = measurements[names[0]].binning
    for n in names[1:]:
        other = measurements[n].binning
        if first.unit and other.unit and _fold(first.unit) != _fold(other.unit):
            raise BinMismatch(
                f"measurements {_origin(names[0], measurements[names[0]])} and "
                f"{_origin(n, measurements[n])} have their bins in different units "
                f"({first.unit!r} and {other.unit!r}); give both in one unit",
                n,
            )
        if other.label != first.label:
            log.info(
                "axis labels differ (%r of %r, %r of %r); the first one is used",
                other.label,
                n,
                first.label,
                names[0],
            )
    every = np.array([v for ks in keys.values() for k in ks for v in k])
    span = float(every.max() - every.min()) if every.size else 0.0

    def same(x: float, y: float) -> bool:
        return abs(x - y) <= RTOL * max(abs(x), abs(y)) + 1e-9 * span

    # every bin of every measurement, by low edge; equal bins are one combined bin
    entries = sorted(
        ((lo, hi, n, i) for n in names for i, (lo, hi) in enumerate(keys[n])),
        key=lambda e: (e[0], e[1]),
    )
    combined: list[list[tuple[float, float, str, int]]] = []
    reach: tuple[float, str, int] | None = None  # the highest upper edge so far, and its bin
    for entry in entries:
        lo, hi, n, i = entry
        if combined:
            ref = combined[-1][0]
            if same(lo, ref[0]) and same(hi, ref[1]):
                if any(e[2] == n for e in combined[-1]):  # two bins of one measurement
                    raise BinMismatch(
                        f"measurement {_origin(n, measurements[n])} has two bins at "
                        f"[{lo:g}, {hi:g})",
                        n,
                    )
                combined[-1].append(entry)
                continue
            if reach is not None and lo < reach[0] and not same(lo, reach[0]):
                _, pn, pi = reach
                raise BinMismatch(
                    f"{measurements[n].binning.bin_label(i)} of measurement "
                    f"{_origin(n, measurements[n])} overlaps "
                    f"{measurements[pn].binning.bin_label(pi)} of measurement "
                    f"{_origin(pn, measurements[pn])} without being the same bin; bins are "
                    "matched by their edges: combine them in different binnings with "
                    "'binning: {match: coarsest}' (or 'finest', or 'edges: [...]')",
                    n,
                )
        combined.append([entry])
        if hi > lo and (reach is None or hi > reach[0]):
            reach = (hi, n, i)
    if not union:
        for group in combined:
            have = {e[2] for e in group}
            if len(have) == len(names):
                continue
            lo, hi, n, i = group[0]
            lacking = next(x for x in names if x not in have)
            other = measurements[lacking].binning
            raise BinMismatch(
                f"{measurements[n].binning.bin_label(i)} of measurement "
                f"{_origin(n, measurements[n])} is not a bin of measurement "
                f"{_origin(lacking, measurements[lacking])} ({other.describe()}); bins are "
                "matched by their edges: leave the bin out (HEPData: drop_bins), combine the "
                "union of the bins (binning: {match: union}), or rebin "
                "(binning: {match: coarsest | finest})",
                n,
            )
    low = np.array([g[0][0] for g in combined])
    high = np.array([g[0][1] for g in combined])
    observables = {
        f"{prefix}{k}": [
            f"{n}:{measurements[n].bin_names[i]}"
            for n in names
            for (_, _, gn, i) in group
            if gn == n
        ]
        for k, group in enumerate(combined)
    }
    members = tuple(tuple(n for n in names if any(e[2] == n for e in g)) for g in combined)
    partial = [k for k, mem in enumerate(members) if len(mem) < len(names)]
    if partial:
        log.info(
            "%d of %d combined bins are measured by only some of the measurements (union of "
            "the bins): %s",
            len(partial),
            len(combined),
            ", ".join(f"bin{k} {list(members[k])}" for k in partial[:6]),
        )
    if first.is_index:  # points: matched by x
        centers = low
        binning = Binning(
            np.arange(len(low), dtype=float),
            np.arange(1, len(low) + 1, dtype=float),
            first.name,
            first.label,
            first.unit,
            True,
            centers if first.centers is not None else None,
        )
    else:
        lead = measurements[names[0]]
        centers = None
        if lead.binning.centers is not None and len(members) == lead.n_bins:
            centers = lead.binning.centers
        binning = Binning(low, high, first.name, first.label, first.unit, False, centers)
    return MatchedBins(observables, binning, members)


def _match_cells(
    measurements: Mapping[str, DifferentialMeasurement], union: bool, prefix: str
) -> MatchedBins:
    """2-d measurements: all on the same cells (x inner, :class:`Binning2D`)."""
    names = list(measurements)
    flat = [n for n in names if not isinstance(measurements[n].binning, Binning2D)]
    two = [n for n in names if n not in flat]
    if flat:
        raise BinMismatch(
            f"measurement {_origin(two[0], measurements[two[0]])} is two-dimensional (TH2) but "
            f"{_origin(flat[0], measurements[flat[0]])} is one-dimensional; combine "
            "measurements of one distribution, all 1-d or all 2-d",
            flat[0],
        )
    if union:
        raise BinMismatch(
            "binning: match: union is for 1-d measurements; combine 2-d ones in different "
            "binnings with 'binning: {match: coarsest | finest}' or edges per axis",
            names[0],
        )
    first = measurements[names[0]].binning
    assert isinstance(first, Binning2D)
    for n in names[1:]:
        other = measurements[n].binning
        if not first.same_bins(other):
            assert isinstance(other, Binning2D)
            raise BinMismatch(
                f"measurement {_origin(n, measurements[n])} ({other.describe()}) is not on the "
                f"cells of {_origin(names[0], measurements[names[0]])} ({first.describe()}); "
                "combine them in different binnings with 'binning: {match: coarsest | "
                "finest}' or 'binning: {edges: {x: [...], y: [...]}}'",
                n,
            )
    observables = {
        f"{prefix}{k}": [f"{n}:{measurements[n].bin_names[k]}" for n in names]
        for k in range(first.n_bins)
    }
    members = tuple(tuple(names) for _ in range(first.n_bins))
    return MatchedBins(observables, first, members)


def common_quantity(
    quantities: Mapping[str, Quantity] | Sequence[tuple[str, Quantity]],
) -> Quantity:
    """What the combined values are, from the quantities of the measurements (by name).

    The label is the first non-empty one; the unit the first non-empty one, and units that
    differ (ignoring case and spaces) are an error naming both measurements (pb and fb are not
    combined silently); the qualifiers are those that every measurement with qualifiers has
    (same name and value), the others are dropped and logged.
    """
    items = list(quantities.items()) if isinstance(quantities, Mapping) else list(quantities)
    label = next((q.label for _, q in items if q.label), "")
    unit_of = [(n, q.unit) for n, q in items if q.unit]
    for n, u in unit_of[1:]:
        if _fold(u) != _fold(unit_of[0][1]):
            raise InvalidMeasurement(
                f"measurements {unit_of[0][0]!r} and {n!r} are in different units "
                f"({unit_of[0][1]!r} and {u!r}); bring them to one unit (HEPData: scale, or "
                "quantity: {unit: ...} when only the spelling differs)"
            )
    unit = unit_of[0][1] if unit_of else ""
    with_quals = [(n, q.qualifiers) for n, q in items if q.qualifiers]
    kept: list[Qualifier] = []
    if with_quals:

        def key(q: Qualifier) -> tuple[str, str]:
            return _fold(q.name), _fold(q.value)

        common = set.intersection(*({key(q) for q in qs} for _, qs in with_quals))
        kept = [q for q in with_quals[0][1] if key(q) in common]
        dropped = sorted(
            {f"{q.name}={q.value}" for _, qs in with_quals for q in qs if key(q) not in common}
        )
        if dropped:
            log.info(
                "qualifiers that not every measurement has are left out of the combination: %s",
                ", ".join(dropped[:8]),
            )
    return Quantity(label, unit, tuple(kept))


def __dir__() -> list[str]:
    return list(__all__)
