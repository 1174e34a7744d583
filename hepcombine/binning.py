"""The binning of a differential combination: bins, the axis they live on, and the quantity.

A :class:`Binning` travels from every input form (histograms, graphs, HEPData tables, Convino
and YAML files) through the combination to every output (ROOT, ``hist``, HEPData, JSON,
plots), so that a combined spectrum keeps its edges, axis name, label and units. Bins are
``[low, high)`` intervals in increasing order; they need not be contiguous (real records skip
ranges, e.g. a gap at 1.4 < |η| < 1.6). Where nothing but the bin order is known, the binning is
the bin numbers (:meth:`Binning.index`) and says so (``is_index``).

This module knows nothing about files or fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .exceptions import InvalidMeasurement

__all__ = ["Binning", "Binning2D", "Qualifier", "Quantity", "as_1d"]

FloatArray = NDArray[np.float64]


def _readonly(values: ArrayLike, what: str, n: int | None = None) -> FloatArray:
    try:
        a = np.array(values, dtype=float)
    except (TypeError, ValueError):
        raise InvalidMeasurement(f"binning: {what} must be numbers, got {values!r}") from None
    if a.ndim != 1 or (n is not None and a.shape != (n,)):
        expected = f"({n},)" if n is not None else "one-dimensional"
        raise InvalidMeasurement(f"binning: {what} has shape {a.shape}, expected {expected}")
    if not np.all(np.isfinite(a)):
        bad = np.flatnonzero(~np.isfinite(a))[:5].tolist()
        raise InvalidMeasurement(f"binning: {what} has NaN or infinite entries at {bad}")
    a.setflags(write=False)
    return a


class Qualifier(NamedTuple):
    """A condition of a measured quantity, as HEPData records it:
    ``Qualifier("SQRT(S)", "8000.0", "GeV")``."""

    name: str
    value: str
    unit: str = ""


@dataclass(frozen=True)
class Quantity:
    """What the combined values are: a label for axes and tables, its unit, and the conditions
    it was measured under (√s, phase space; :class:`Qualifier`).

    ``Quantity(r"$d\\sigma/dp_{T}$", "pb/GeV")``; label and unit may be empty (unknown).
    ``qualifiers`` also accepts ``(name, value)`` or ``(name, value, unit)`` tuples.
    """

    label: str = ""
    unit: str = ""
    qualifiers: tuple[Qualifier, ...] = ()

    def __post_init__(self) -> None:
        quals = tuple(Qualifier(*(str(part) for part in q)) for q in self.qualifiers)
        object.__setattr__(self, "qualifiers", quals)

    @property
    def title(self) -> str:
        """``"label [unit]"``, ``"label"`` or ``""``."""
        return _title(self.label, self.unit)


def _title(label: str, unit: str) -> str:
    if label and unit:
        return f"{label} [{unit}]"
    return label or (f"[{unit}]" if unit else "")


@dataclass(frozen=True, eq=False)
class Binning:
    """The bins of a differential distribution, in order.

    Attributes
    ----------
    low, high:
        Lower and upper edge of each bin, shape ``(n,)``; ``low < high``, increasing, and a bin
        never overlaps the next (gaps are allowed).
    name:
        Axis name, an identifier (``"pt"``; ROOT's ``TAxis::fName``, hist's ``name``).
    label:
        Axis label for plots and tables (``"$p_{T}^{t}$"``; ROOT's axis title).
    unit:
        Unit of the axis (``"GeV"``), or ``""``.
    is_index:
        True when only the bin numbers are known (edges ``0, 1, …, n``).
    centers:
        A representative x per bin when the input gives one (a graph's points, a HEPData
        bin-centre variable); by default the middle of each bin.
    """

    low: FloatArray
    high: FloatArray
    name: str = "x"
    label: str = ""
    unit: str = ""
    is_index: bool = False
    centers: FloatArray | None = field(default=None)

    def __post_init__(self) -> None:
        low = _readonly(self.low, "low edges")
        high = _readonly(self.high, "high edges", len(low))
        if len(low) == 0:
            raise InvalidMeasurement("binning: at least one bin is needed")
        bad = np.flatnonzero(~(high > low))
        if bad.size:
            i = int(bad[0])
            raise InvalidMeasurement(
                f"binning: bin {i} has low edge {low[i]:g} not below its high edge {high[i]:g}"
            )
        overlap = np.flatnonzero(low[1:] < high[:-1] - 1e-12 * np.maximum(1.0, np.abs(high[:-1])))
        if overlap.size:
            i = int(overlap[0])
            raise InvalidMeasurement(
                f"binning: bins {i} [{low[i]:g}, {high[i]:g}) and {i + 1} "
                f"[{low[i + 1]:g}, {high[i + 1]:g}) overlap or are not in increasing order"
            )
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        if self.centers is not None:
            object.__setattr__(self, "centers", _readonly(self.centers, "centres", len(low)))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_edges(cls, edges: ArrayLike, **axis: Any) -> Binning:
        """Contiguous bins from ``n + 1`` edges; ``axis`` are the other fields."""
        e = _readonly(edges, "edges")
        if len(e) < 2:
            raise InvalidMeasurement(f"binning: {len(e)} edge(s) make no bin; give n + 1 edges")
        return cls(e[:-1], e[1:], **axis)

    @classmethod
    def index(cls, n: int, name: str = "bin", label: str = "bin") -> Binning:
        """The bin numbers ``0, 1, …, n`` as edges, for inputs that know nothing better."""
        return cls.from_edges(np.arange(n + 1, dtype=float), name=name, label=label, is_index=True)

    # ------------------------------------------------------------------ derived
    @property
    def n_bins(self) -> int:
        """Number of bins."""
        return len(self.low)

    def __len__(self) -> int:
        return self.n_bins

    @property
    def is_contiguous(self) -> bool:
        """Whether every bin starts where the previous one ends."""
        return bool(np.allclose(self.low[1:], self.high[:-1], rtol=1e-12, atol=0.0))

    @property
    def edges(self) -> FloatArray:
        """The ``n + 1`` edges of contiguous bins.

        Raises :class:`~hepcombine.InvalidMeasurement` for bins with gaps: use
        :meth:`filled_edges` (the gaps as extra bins) or ``low``/``high``.
        """
        if not self.is_contiguous:
            gaps = [
                f"[{self.high[i]:g}, {self.low[i + 1]:g})"
                for i in range(self.n_bins - 1)
                if self.low[i + 1] != self.high[i]
            ]
            raise InvalidMeasurement(
                f"binning {self.name!r} has gaps at {', '.join(gaps[:3])}; its bins have no "
                "single set of edges (use filled_edges() or low/high)"
            )
        e = np.append(self.low, self.high[-1])
        e.setflags(write=False)
        return e

    def filled_edges(self) -> tuple[FloatArray, NDArray[np.intp]]:
        """Edges with every gap filled by an extra bin, and the position of each real bin in
        them (for outputs such as TH1D that need contiguous bins: the gap bins stay empty)."""
        edges = [float(self.low[0])]
        where = []
        for i in range(self.n_bins):
            if i and self.low[i] != self.high[i - 1]:
                edges.append(float(self.low[i]))
            where.append(len(edges) - 1)
            edges.append(float(self.high[i]))
        return np.array(edges), np.array(where, dtype=np.intp)

    @property
    def widths(self) -> FloatArray:
        """``high − low`` per bin."""
        return self.high - self.low

    @property
    def bin_centers(self) -> FloatArray:
        """The given centres, else the middle of each bin."""
        if self.centers is not None:
            return self.centers
        return 0.5 * (self.low + self.high)

    @property
    def title(self) -> str:
        """Axis title, ``"label [unit]"`` (the name when there is no label)."""
        return _title(self.label or self.name, self.unit)

    def bin_label(self, i: int) -> str:
        """``"bin 3 [20, 30) GeV"`` (``"bin 3"`` for index binnings), for messages and tables."""
        if self.is_index:
            return f"bin {i}"
        unit = f" {self.unit}" if self.unit else ""
        return f"bin {i} [{self.low[i]:g}, {self.high[i]:g}){unit}"

    def same_bins(self, other: Binning, rtol: float = 1e-9) -> bool:
        """Whether both have the same bins (edges equal to ``rtol`` of the axis range)."""
        if self.n_bins != other.n_bins:
            return False
        scale = rtol * max(1.0, float(np.max(np.abs(self.high))), float(np.max(np.abs(self.low))))
        return bool(
            np.all(np.abs(self.low - other.low) <= scale)
            and np.all(np.abs(self.high - other.high) <= scale)
        )

    def describe(self, limit: int = 6) -> str:
        """A short description of the bins for messages: ``"5 bins [0, 10, 20, …, 100)"``."""
        if self.is_contiguous:
            e = self.edges
            shown = ", ".join(f"{v:g}" for v in e[:limit])
            more = f", …, {e[-1]:g}" if len(e) > limit else ""
            return f"{self.n_bins} bins with edges [{shown}{more}]"
        pairs = ", ".join(
            f"[{a:g}, {b:g})" for a, b in zip(self.low[:limit], self.high[:limit], strict=True)
        )
        return f"{self.n_bins} bins {pairs}{', …' if self.n_bins > limit else ''}"

    def select(self, indices: Sequence[int]) -> Binning:
        """The binning of the bins ``indices`` (in increasing order), e.g. after dropping bins."""
        idx = np.asarray(indices, dtype=np.intp)
        if idx.size == 0 or np.any(np.diff(idx) <= 0) or idx[0] < 0 or idx[-1] >= self.n_bins:
            raise InvalidMeasurement(
                f"binning: select() needs increasing bin indices in 0…{self.n_bins - 1}, got "
                f"{list(indices)[:8]}"
            )
        return Binning(
            self.low[idx],
            self.high[idx],
            self.name,
            self.label,
            self.unit,
            self.is_index,
            None if self.centers is None else self.centers[idx],
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``from_dict`` reads it back)."""
        out: dict[str, Any] = {
            "low": self.low.tolist(),
            "high": self.high.tolist(),
            "name": self.name,
            "label": self.label,
            "unit": self.unit,
            "is_index": self.is_index,
        }
        if self.centers is not None:
            out["centers"] = self.centers.tolist()
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Binning:
        """The inverse of :meth:`to_dict`."""
        return cls(
            data["low"],
            data["high"],
            data.get("name", "x"),
            data.get("label", ""),
            data.get("unit", ""),
            bool(data.get("is_index", False)),
            data.get("centers"),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Binning):
            return NotImplemented
        same_centers = (self.centers is None and other.centers is None) or (
            self.centers is not None
            and other.centers is not None
            and np.array_equal(self.centers, other.centers)
        )
        return (
            np.array_equal(self.low, other.low)
            and np.array_equal(self.high, other.high)
            and (self.name, self.label, self.unit, self.is_index)
            == (other.name, other.label, other.unit, other.is_index)
            and same_centers
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        what = "bin numbers" if self.is_index else self.describe(4)
        return f"Binning({self.name!r}, {what}, unit={self.unit!r})"


@dataclass(frozen=True, eq=False)
class Binning2D:
    """The cells of a two-dimensional distribution (a TH2): the bins of two axes.

    The cells are flattened in **ROOT's order**, x inner (fastest) and y outer: cell
    ``k = ix + nx * iy`` is x bin ``ix`` and y bin ``iy`` (``TH2::GetBin(ix + 1, iy + 1)`` without
    the flow bins). A ``(nx, ny)`` array indexed ``[ix, iy]`` (``hist`` and uproot's
    ``values()``) flattens to this order with ``values.ravel(order="F")``
    (:meth:`flatten`) and comes back with :meth:`unflatten`.

    Attributes
    ----------
    x, y:
        The bins of each axis (:class:`Binning`: edges, name, label, unit).
    """

    x: Binning
    y: Binning

    def __post_init__(self) -> None:
        for axis, b in (("x", self.x), ("y", self.y)):
            if not isinstance(b, Binning):
                raise InvalidMeasurement(
                    f"binning: the {axis} axis of a 2-d binning must be a Binning, not "
                    f"{type(b).__name__}"
                )

    @classmethod
    def from_edges(
        cls,
        x_edges: ArrayLike,
        y_edges: ArrayLike,
        *,
        x: dict[str, Any] | None = None,
        y: dict[str, Any] | None = None,
    ) -> Binning2D:
        """Contiguous cells from the edges of both axes; ``x`` and ``y`` are the other fields of
        each axis' :class:`Binning` (``{"name": "pt", "unit": "GeV"}``)."""
        return cls(
            Binning.from_edges(x_edges, **{"name": "x", **(x or {})}),
            Binning.from_edges(y_edges, **{"name": "y", **(y or {})}),
        )

    # ------------------------------------------------------------------ derived
    @property
    def shape(self) -> tuple[int, int]:
        """``(nx, ny)``."""
        return self.x.n_bins, self.y.n_bins

    @property
    def n_bins(self) -> int:
        """Number of cells, ``nx * ny``."""
        return self.x.n_bins * self.y.n_bins

    def __len__(self) -> int:
        return self.n_bins

    #: a 2-d binning always has edges on both axes
    is_index = False
    centers = None

    @property
    def name(self) -> str:
        """``"x_name:y_name"``."""
        return f"{self.x.name}:{self.y.name}"

    @property
    def label(self) -> str:
        """``"x label, y label"`` (empty when neither axis has a label)."""
        return ", ".join(b.label for b in (self.x, self.y) if b.label)

    @property
    def unit(self) -> str:
        """The x axis' unit (each axis keeps its own in ``x.unit``, ``y.unit``)."""
        return self.x.unit

    @property
    def title(self) -> str:
        """``"x title vs y title"``."""
        return f"{self.x.title} vs {self.y.title}"

    @property
    def is_contiguous(self) -> bool:
        """Whether both axes are contiguous."""
        return self.x.is_contiguous and self.y.is_contiguous

    @property
    def widths(self) -> FloatArray:
        """The area (width × height) of each cell, in cell order."""
        return self.flatten(np.outer(self.x.widths, self.y.widths))

    def cell(self, k: int) -> tuple[int, int]:
        """``(ix, iy)`` of cell ``k``."""
        return k % self.x.n_bins, k // self.x.n_bins

    def index(self, ix: int, iy: int) -> int:
        """The cell number of x bin ``ix`` and y bin ``iy``: ``ix + nx * iy``."""
        return ix + self.x.n_bins * iy

    def flatten(self, values: ArrayLike) -> FloatArray:
        """A ``(nx, ny)`` array indexed ``[ix, iy]`` as the ``nx * ny`` cells in order."""
        a = np.asarray(values, dtype=float)
        return np.ravel(a, order="F")

    def unflatten(self, values: ArrayLike) -> FloatArray:
        """The ``nx * ny`` cells as a ``(nx, ny)`` array indexed ``[ix, iy]``."""
        return np.reshape(np.asarray(values, dtype=float), self.shape, order="F")

    def bin_label(self, k: int) -> str:
        """``"cell 5 (x [0, 10) GeV, y [1, 2))"``, for messages and tables."""
        ix, iy = self.cell(k)
        parts = []
        for b, i in ((self.x, ix), (self.y, iy)):
            unit = f" {b.unit}" if b.unit else ""
            parts.append(f"{b.name} [{b.low[i]:g}, {b.high[i]:g}){unit}")
        return f"cell {k} ({', '.join(parts)})"

    def same_bins(self, other: object, rtol: float = 1e-9) -> bool:
        """Whether ``other`` is a 2-d binning with the same bins on both axes."""
        return (
            isinstance(other, Binning2D)
            and self.x.same_bins(other.x, rtol)
            and self.y.same_bins(other.y, rtol)
        )

    def describe(self, limit: int = 6) -> str:
        """``"3 × 2 cells: x 3 bins with edges [...], y 2 bins with edges [...]"``."""
        return (
            f"{self.x.n_bins} × {self.y.n_bins} cells: {self.x.name} {self.x.describe(limit)}, "
            f"{self.y.name} {self.y.describe(limit)}"
        )

    def flat(self) -> Binning:
        """The cells as numbered bins ``0 … nx·ny − 1`` (x inner), for outputs and plots that
        only know 1-d bins."""
        return Binning.index(self.n_bins, name="cell", label="cell")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``from_dict`` reads it back)."""
        return {"x": self.x.to_dict(), "y": self.y.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Binning2D:
        """The inverse of :meth:`to_dict`."""
        return cls(Binning.from_dict(data["x"]), Binning.from_dict(data["y"]))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Binning2D):
            return NotImplemented
        return self.x == other.x and self.y == other.y

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Binning2D(x={self.x!r}, y={self.y!r})"


def as_1d(binning: Binning | Binning2D) -> Binning:
    """``binning``, or the numbered cells of a 2-d one (:meth:`Binning2D.flat`)."""
    return binning.flat() if isinstance(binning, Binning2D) else binning


def __dir__() -> list[str]:
    return list(__all__)
