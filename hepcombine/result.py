"""The result of a combination: immutable, documented field by field, looked up by name."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .correlations import repairs_summary
from .exceptions import IntervalError, InvalidArgument, UnknownName
from .names import did_you_mean, some_names

if TYPE_CHECKING:
    from iminuit import Minuit

    from .errors_on_errors import ErrorOnErrorTerm
    from .solver.contours import Contour, Profile

__all__ = ["BartlettCorrection", "CombinationResult", "NamedMatrix", "Table"]

_VALID_INTERVALS = ("exact", "minos", "profile", "profile scan")
_MAPPINGS = (
    "values",
    "errors",
    "intervals",
    "interval_status",
    "spectators",
    "pulls",
    "constraints",
    "correlation_repairs",
)


def _valid(status: str) -> bool:
    """Whether an interval status is one of the valid kinds (``"profile scan"`` may carry the
    reason in parentheses)."""
    return status in _VALID_INTERVALS or status.startswith("profile scan (")


@dataclass(frozen=True, eq=False)
class NamedMatrix:
    """A square matrix whose rows and columns carry names.

    ``m["a", "b"]`` is one entry, ``m.matrix`` the array, ``m.names`` the order.
    """

    names: tuple[str, ...]
    matrix: NDArray[np.float64]

    def __post_init__(self) -> None:
        self.matrix.setflags(write=False)

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise UnknownName(
                f"{name!r} is not in this matrix{did_you_mean(name, self.names)}; names are "
                f"{some_names(self.names)}"
            ) from None

    def __getitem__(self, key: tuple[str, str]) -> float:
        a, b = key
        return float(self.matrix[self.index(a), self.index(b)])

    def sub(self, names: list[str] | tuple[str, ...]) -> NamedMatrix:
        """The sub-matrix of ``names``."""
        idx = [self.index(n) for n in names]
        return NamedMatrix(tuple(names), self.matrix[np.ix_(idx, idx)].copy())

    def to_dict(self) -> dict[str, Any]:
        """``{"names": [...], "matrix": [[...]]}`` (JSON-ready)."""
        return {"names": list(self.names), "matrix": self.matrix.tolist()}

    def __repr__(self) -> str:
        return (
            f"NamedMatrix(names={list(self.names)},\n{np.array2string(self.matrix, precision=4)})"
        )


class Table(Mapping[str, Mapping[str, float]]):
    """A labelled table of numbers (rows × columns), read as a mapping of mappings.

    ``t["Lumi"]["sigma_tt"]`` or ``t["Lumi", "sigma_tt"]`` is one entry, ``t["Lumi"]`` a row as
    a dict, ``t.matrix`` the array, ``t.rows`` / ``t.columns`` the labels.
    """

    def __init__(
        self, rows: tuple[str, ...], columns: tuple[str, ...], matrix: NDArray[np.float64]
    ) -> None:
        self.rows = tuple(rows)
        self.columns = tuple(columns)
        self.matrix = np.asarray(matrix, dtype=float)
        self.matrix.setflags(write=False)
        if self.matrix.shape != (len(self.rows), len(self.columns)):
            raise InvalidArgument(
                f"table shape {self.matrix.shape} does not match its labels "
                f"({len(self.rows)} rows, {len(self.columns)} columns)"
            )
        self._row = {r: i for i, r in enumerate(self.rows)}
        self._col = {c: i for i, c in enumerate(self.columns)}

    def __getitem__(self, key: str | tuple[str, str]) -> Any:
        if isinstance(key, tuple):
            r, c = key
            if c not in self._col:
                raise UnknownName(
                    f"{c!r} is not a column of this table{did_you_mean(c, self.columns)}; "
                    f"columns are {some_names(self.columns)}"
                )
            return float(self.matrix[self._row_index(r), self._col[c]])
        return dict(zip(self.columns, self.matrix[self._row_index(key)].tolist(), strict=True))

    def _row_index(self, r: str) -> int:
        try:
            return self._row[r]
        except KeyError:
            raise UnknownName(
                f"{r!r} is not a row of this table{did_you_mean(r, self.rows)}; rows are "
                f"{some_names(self.rows)}"
            ) from None

    def __contains__(self, key: object) -> bool:
        return key in self._row

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def column(self, name: str) -> dict[str, float]:
        """One column as ``{row: value}``."""
        return dict(zip(self.rows, self.matrix[:, self._col[name]].tolist(), strict=True))

    def to_dict(self) -> dict[str, dict[str, float]]:
        """``{row: {column: value}}`` (JSON-ready)."""
        return {r: self[r] for r in self.rows}

    def __repr__(self) -> str:
        return f"Table(rows={len(self.rows)}, columns={len(self.columns)})"


@dataclass(frozen=True)
class BartlettCorrection:
    """Bartlett factors of a combination with errors on errors (method.md §2c,
    :mod:`hepcombine.solver.bartlett`), computed from the Fisher information at the minimum.

    Attributes
    ----------
    profile: ``{observable: b}``, the expected value of its profile statistic (1 for a
        Gaussian χ²); the Bartlett-corrected 68.3 % interval is at Δχ² = b.
    chi2: b_χ², the expected value of χ²_min (ndf for a Gaussian χ²).
    applied: whether the result's intervals are the corrected ones (``bartlett=True``).
    goodness_of_fit: the corrected goodness-of-fit statistic χ²_min · ndf / b_χ².
    pvalue: its p-value for ndf degrees of freedom.
    """

    profile: Mapping[str, float]
    chi2: float
    applied: bool
    goodness_of_fit: float
    pvalue: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "profile", MappingProxyType(dict(self.profile)))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``{"profile", "chi2", "applied", "goodness_of_fit", "pvalue"}``."""
        return {
            "profile": dict(self.profile),
            "chi2": self.chi2,
            "applied": self.applied,
            "goodness_of_fit": self.goodness_of_fit,
            "pvalue": self.pvalue,
        }


@dataclass(frozen=True, eq=False, repr=False)
class CombinationResult:
    """What a combination reports (method.md §3). All mappings are keyed by name and read-only
    (``types.MappingProxyType``); matrices and tables are read-only arrays.

    Attributes
    ----------
    values: combined value of each observable.
    errors: symmetric (Hesse) uncertainty of each observable.
    intervals: ``(low, high)`` endpoints of the 68 % profile-likelihood interval (Δχ² = 1) of
        each observable; exact for a quadratic χ², from Minos otherwise.
    interval_status: per observable ``"exact"`` (quadratic χ²), ``"minos"`` (valid Minos
        interval), ``"profile"`` (Minos failed on one side and that limit was found as the
        Δχ² = 1 crossing of the profiled χ² by a bracketed root search; logged), or a
        description of why no interval could be found (then :meth:`interval` raises).
    covariance, correlation: of the combined observables.
    spectators: ``{"measurement:estimate": (value, error)}`` of estimates mapped to no
        observable (each fitted as its own free parameter).
    pulls: post-fit value of every source λ (qualified ``"measurement:source"``); +1 means the
        fit moved the source by its full +1σ variation.
    constraints: post-fit uncertainty of every source in units of its prior σ.
    full_correlation: post-fit correlation of observables, spectators and sources.
    chi2, ndf, pvalue: χ²_min, number of estimates − number of fitted values, its p-value.
    breakdown: :class:`Table` ``{component: {observable: σ}}`` — statistical (``"stat"``, the data of all
        measurements), one entry per source group and, when sources of different groups are
        assumed correlated, a signed ``"correlations between groups"`` term. The entries add
        up in quadrature to ``errors`` exactly for a quadratic χ² only (Neyman with absolute,
        symmetric sources; then every ``interval_status`` is ``"exact"``). Otherwise it is the
        decomposition of the χ² linearised at the minimum and adds up only approximately (the
        curvature terms of a Pearson/relative/asymmetric χ² are not attributed; e.g. 3.432 vs
        3.449 in a Pearson case with relative and asymmetric sources).
        A component whose variance is negative is reported with a negative sign.
    weights: :class:`Table` ``{observable: {"measurement:estimate": w}}``: ∂(combined value)/∂(estimate), the
        weights of the inputs (BLUE weights for orthogonal Neyman inputs; linearised at the
        minimum otherwise). Negative weights are reported as they are.
    impacts: Convino-style impacts (:class:`Table`) ``{group: {observable: σ}}``: √(σ² − σ²(group fixed)), and
        for ``"stat"`` the uncertainty with all sources fixed. They do not add up in
        quadrature; they are a separate table.
    chi2_definition: ``"neyman"`` or ``"pearson"``.
    method: how the minimum was found (``"linear solve"`` or ``"iminuit migrad"``).
    edm: estimated distance to the minimum, ½ gᵀH⁻¹g, at the reported minimum (Migrad's
        convergence criterion; computed analytically for the linear solve).
    correlation_repairs: ``{(a, b): (assumed, used)}`` when the opt-in repair of an indefinite
        correlation assumption changed anything (empty otherwise).
    correlation_assumptions: the assumed correlation matrix of all sources (after repair).
    notes: what else the solver wants a user to know, e.g. sources that sit exactly on the
        kink of their asymmetric (Convino) interpolation at the minimum, whose curvature-based
        quantities (errors, constraints) use one side of the kink.
    errors_on_errors: the errors-on-errors terms of the χ²
        (:class:`~hepcombine.errors_on_errors.ErrorOnErrorTerm`: sources, ε, kind, N and the
        fitted variance factor); empty for a Gaussian χ². With them ``chi2`` is −2 ln L of the
        gamma variance model at the minimum.
    bartlett: the Bartlett factors (:class:`BartlettCorrection`) when there are errors on
        errors, else ``None``.
    interval_levels: ``{observable: Δχ²}`` at which each interval in ``intervals`` was found:
        1, or the Bartlett factor with ``bartlett=True``.
    linear_quantities: the observables that are reported linear quantities of the others
        (``Combiner(linear=...)``: a total beside the bins), last in ``observables``; the
        covariance including them is singular. ``fitted_observables`` are the others.
    """

    observables: tuple[str, ...]
    values: Mapping[str, float]
    errors: Mapping[str, float]
    intervals: Mapping[str, tuple[float, float]]
    interval_status: Mapping[str, str]
    covariance: NamedMatrix
    correlation: NamedMatrix
    spectators: Mapping[str, tuple[float, float]]
    pulls: Mapping[str, float]
    constraints: Mapping[str, float]
    full_correlation: NamedMatrix
    chi2: float
    ndf: int
    pvalue: float
    breakdown: Table
    weights: Table
    impacts: Table
    chi2_definition: str
    method: str
    edm: float
    correlation_repairs: Mapping[tuple[str, str], tuple[float, float]]
    correlation_assumptions: NamedMatrix
    _minuit_factory: Callable[[], Minuit] = field(repr=False)
    _minuit_cache: list[Minuit] = field(default_factory=list, repr=False)
    notes: tuple[str, ...] = ()
    #: what :meth:`contour` needs (the χ², its minimum, the names); set by the combiner
    _profile: Profile | None = field(default=None, repr=False)
    errors_on_errors: tuple[ErrorOnErrorTerm, ...] = ()
    bartlett: BartlettCorrection | None = None
    interval_levels: Mapping[str, float] = field(default_factory=dict)
    linear_quantities: tuple[str, ...] = ()

    def __post_init__(self) -> None:  # the mappings are read-only, as documented
        for name in _MAPPINGS:
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))
        levels = dict(self.interval_levels) or dict.fromkeys(self.observables, 1.0)
        object.__setattr__(self, "interval_levels", MappingProxyType(levels))

    # ------------------------------------------------------------------ access
    @property
    def fitted_observables(self) -> tuple[str, ...]:
        """The observables that are fitted parameters (all but the reported linear
        quantities); their covariance is the inverse of the χ²'s curvature."""
        return tuple(o for o in self.observables if o not in self.linear_quantities)

    def interval(self, name: str) -> tuple[float, float]:
        """(low, high) endpoints of the 68 % profile-likelihood interval of ``name``."""
        self._check(name)
        status = self.interval_status[name]
        if not _valid(status):
            raise IntervalError(f"no valid profile interval for {name!r}: {status}")
        return self.intervals[name]

    def has_interval(self, name: str) -> bool:
        """Whether a valid profile interval exists for ``name`` (see ``interval_status``)."""
        self._check(name)
        return _valid(self.interval_status[name])

    def asymmetric_errors(self, name: str) -> tuple[float, float]:
        """(−low, +high) distances of the profile interval from the value (both ≥ 0)."""
        lo, hi = self.interval(name)
        v = self.values[name]
        return v - lo, hi - v

    @property
    def minuit(self) -> Minuit:
        """The iminuit object of this χ² in (combined values, decorrelated sources), at the
        minimum, for your own scans and contours (built on first access)."""
        if not self._minuit_cache:
            self._minuit_cache.append(self._minuit_factory())
        return self._minuit_cache[0]

    def contour(
        self,
        a: str,
        b: str,
        cl: float | None = 0.6827,
        *,
        delta_chi2: float | None = None,
        n_points: int = 64,
    ) -> Contour:
        """The 2-D profile-likelihood contour of two combined values, spectators or sources.

        Parameters
        ----------
        a, b:
            Names of combined values or spectators, or sources (``"measurement:source"``, or
            the bare name where unique).
        cl:
            Probability content for two parameters; the level is Δχ² = −2 ln(1 − cl):
            2.30 for the default 68.27 %, 5.99 for 0.95.
        delta_chi2:
            The level Δχ² directly, instead of ``cl`` (``1.0``: the curve the original Convino
            program draws, whose extent along each axis is the 1-D 68 % interval).
        n_points:
            Number of points of the contour (at least 8).

        Returns
        -------
        :class:`~hepcombine.solver.contours.Contour` (points, level, centre;
        ``to_dict()`` for JSON; :func:`hepcombine.plots.contour.plot_contour` draws it,
        :func:`hepcombine.outputs.combination.contour_graph` makes the ROOT ``TGraph``).

        See :mod:`hepcombine.solver.contours` for the algorithm (exact ellipse for a quadratic
        χ², rays and root searches of the profiled χ² otherwise).
        """
        if self._profile is None:
            raise InvalidArgument(
                "this result carries no χ² to profile (it was not made by Combiner.combine)"
            )
        from .solver.contours import contour

        return contour(self._profile, a, b, cl=cl, delta_chi2=delta_chi2, n_points=n_points)

    def _check(self, name: str) -> None:
        if name not in self.values:
            raise UnknownName(
                f"{name!r} is not a combined observable{did_you_mean(name, self.observables)}; "
                f"observables are {some_names(self.observables)}"
            )

    # ------------------------------------------------------------------ display
    def summary(self) -> str:
        """A plain-text summary: each value PDG-rounded with its profile interval (printed as
        ``±`` when symmetric at that precision) or its symmetric error and why the interval is
        missing; χ²/ndf and the p-value (``values``, ``errors`` and ``intervals`` keep full
        precision)."""
        from .formatting import degrees_of_freedom, format_value

        lines = [f"hepcombine combination ({self.chi2_definition} χ², {self.method})"]
        width = max(len(n) for n in self.observables)
        for n in self.observables:
            lo, hi = self.intervals[n]
            v = self.values[n]
            status = self.interval_status[n]
            if _valid(status):
                shown = format_value(v, (v - lo, hi - v))
                where = f"  ({status} interval)"
            else:
                shown = format_value(v, self.errors[n])
                where = f"  (Hesse error; interval: {status})"
            lines.append(f"  {n:<{width}} = {shown}{where}")
        lines.append(
            f"  χ² = {self.chi2:.5g} for {degrees_of_freedom(self.ndf)} (p = {self.pvalue:.4g})"
        )
        if self.spectators:
            lines.append(f"  spectators: {len(self.spectators)}")
        if self.correlation_repairs:
            lines.append(
                f"  correlation assumptions repaired: {repairs_summary(self.correlation_repairs)}"
            )
        if self.errors_on_errors:
            terms = ", ".join(
                f"{t.entry} (ε = {t.eps:g}, {t.kind}, N = {t.n})" for t in self.errors_on_errors
            )
            lines.append(f"  errors on errors: {terms}; χ² is −2 ln L of the gamma variance model")
        b = self.bartlett
        if b is not None:
            factors = ", ".join(f"{o}: {v:.4g}" for o, v in b.profile.items())
            used = "intervals at Δχ² = b" if b.applied else "not applied (bartlett=True)"
            lines.append(
                f"  Bartlett factors: profile {factors}; χ² {b.chi2:.4g} ({used}); corrected "
                f"goodness of fit {b.goodness_of_fit:.4g} for {degrees_of_freedom(self.ndf)} "
                f"(p = {b.pvalue:.4g})"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        import html  # only for notebooks

        from .formatting import format_value

        rows = []
        for n in self.observables:
            lo, hi = self.intervals[n]
            v = self.values[n]
            ok = _valid(self.interval_status[n])
            interval = (
                html.escape(format_value(v, (v - lo, hi - v)))
                if ok
                else html.escape(self.interval_status[n])
            )
            rows.append(
                f"<tr><td>{html.escape(n)}</td><td>{html.escape(format_value(v, self.errors[n]))}"
                f"</td><td>{interval}</td></tr>"
            )
        return (
            f"<p><b>hepcombine combination</b> ({self.chi2_definition} χ², {html.escape(self.method)}): "
            f"χ² = {self.chi2:.4g} / {self.ndf} (p = {self.pvalue:.3g})</p>"
            "<table><tr><th>observable</th><th>value ± Hesse error</th><th>profile interval</th></tr>"
            + "".join(rows)
            + "</table>"
        )

    # ------------------------------------------------------------------ tables
    def to_latex(self, *, breakdown: bool = False, **options: Any) -> str:
        """A LaTeX (booktabs) table of the combined values with their statistical and
        systematic uncertainties, PDG-rounded, and χ²/ndf (``breakdown=True``: the uncertainty
        breakdown instead). ``options`` go to :func:`hepcombine.formatting.result_table` or
        :func:`~hepcombine.formatting.breakdown_table` (``observables``, ``names``,
        ``caption``, ``relative``, ...)."""
        from .formatting import breakdown_table, result_table

        return (breakdown_table if breakdown else result_table)(self, "latex", **options)

    def to_markdown(self, *, breakdown: bool = False, **options: Any) -> str:
        """The table of :meth:`to_latex` as Markdown (GitHub/MyST pipe table)."""
        from .formatting import breakdown_table, result_table

        return (breakdown_table if breakdown else result_table)(self, "markdown", **options)


def __dir__() -> list[str]:
    return list(__all__)
