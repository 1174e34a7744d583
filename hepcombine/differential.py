"""Combined differential distributions: the bins of a result in order, with their binning.

A differential combination is an ordinary :class:`~hepcombine.CombinationResult` whose
observables are the bins of one distribution. :class:`DifferentialResult` adds the order of the
bins and their :class:`~hepcombine.binning.Binning` (edges, axis name, label and unit) and gives

arrays in bin order (values, symmetric errors, profile intervals, covariance, correlation,
breakdown) and the normalised shape. It knows no file format: the outputs are functions of it,
:func:`hepcombine.outputs.hist.to_hist` (a ``hist.Hist``),
:func:`hepcombine.outputs.root.write_root` (one ROOT file) and
:func:`~hepcombine.outputs.root.to_pyroot` (the same objects in PyROOT),
:func:`hepcombine.outputs.hepdata.write_hepdata` (a HEPData submission).

:func:`hepcombine.inputs.histograms.combine_differential` (``hepcombine.combine_differential``)
combines :class:`~hepcombine.measurement.DifferentialMeasurement` inputs into one;
:meth:`DifferentialResult.from_result` wraps any result (e.g. of a Convino configuration with
``isDifferential = true``). :func:`normalise` gives the shape: values divided by their sum with
the exactly propagated (singular) covariance.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .binning import Binning, Binning2D, Quantity
from .exceptions import IntervalError, InvalidArgument, InvalidMeasurement, UnknownName

if TYPE_CHECKING:
    from .result import CombinationResult

__all__ = [
    "DifferentialResult",
    "NormalisedDistribution",
    "normalise",
]


# ---------------------------------------------------------------------- normalisation
class NormalisedDistribution(NamedTuple):
    """A normalised distribution: ``values`` (summing to one, or integrating to one with bin
    widths) and their ``covariance`` (singular, see :func:`normalise`). Unpacks as
    ``values, covariance = ...``."""

    values: NDArray[np.float64]
    covariance: NDArray[np.float64]

    @property
    def errors(self) -> NDArray[np.float64]:
        """√diag(covariance)."""
        return np.sqrt(np.clip(np.diag(self.covariance), 0.0, None))

    @property
    def correlation(self) -> NDArray[np.float64]:
        """covariance / (errors ⊗ errors); NaN in the rows and columns of a bin without
        uncertainty (e.g. the only bin of a one-bin distribution)."""
        e = self.errors
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.covariance / np.outer(e, e)


def normalise(
    values: ArrayLike, covariance: ArrayLike, *, widths: ArrayLike | None = None
) -> NormalisedDistribution:
    """The shape of a distribution: ``values / S`` with its covariance.

    Without ``widths``, ``S = Σ_j v_j`` (the normalised bins sum to one). With ``widths``
    (bin widths Δx_j, for values that are densities such as dσ/dx), ``S = Σ_j v_j Δx_j`` and the
    result integrates to one (``Σ_j n_j Δx_j = 1``).

    The covariance is propagated through the exact Jacobian of ``n_i = v_i / S``::

        J_ij = ∂n_i/∂v_j = (δ_ij − n_i w_j) / S        (w_j = 1, or Δx_j)
        cov(n) = J cov(v) Jᵀ

    This is linear error propagation: exact for the linearised map, a good approximation while
    the relative uncertainty of ``S`` is small.

    The normalised covariance is **singular** (rank n − 1 for a full-rank input): the
    constraint ``Σ_i w_i n_i = 1`` holds for every variation, so ``wᵀ J = 0`` and
    ``wᵀ cov(n) w = 0``. It cannot be inverted; a χ² with it needs one bin dropped (any one:
    the χ² does not depend on which) or a pseudo-inverse.

    Returns
    -------
    NormalisedDistribution
        ``(values, covariance)``, also with ``.errors`` and ``.correlation``.

    Raises
    ------
    InvalidMeasurement
        If the shapes do not match, numbers are not finite, or ``S`` is zero.
    """
    v = np.array(values, dtype=float)
    cov = np.array(covariance, dtype=float)
    n = v.shape[0] if v.ndim == 1 else -1
    if v.ndim != 1 or n == 0:
        raise InvalidMeasurement(f"normalise: values must be a non-empty 1-d array, got {v.shape}")
    if cov.shape != (n, n):
        raise InvalidMeasurement(
            f"normalise: covariance has shape {cov.shape}, expected ({n}, {n}) for {n} values"
        )
    w = np.ones(n) if widths is None else np.array(widths, dtype=float)
    if w.shape != (n,):
        raise InvalidMeasurement(f"normalise: widths has shape {w.shape}, expected ({n},)")
    for what, arr in (("values", v), ("covariance", cov), ("widths", w)):
        if not np.all(np.isfinite(arr)):
            raise InvalidMeasurement(f"normalise: {what} contain NaN or infinite numbers")
    s = float(w @ v)
    if s == 0.0:
        raise InvalidMeasurement(
            "normalise: the values sum (integrate) to zero; the shape is undefined"
        )
    norm = v / s
    jac = (np.eye(n) - np.outer(norm, w)) / s
    out = jac @ cov @ jac.T
    out = 0.5 * (out + out.T)
    return NormalisedDistribution(norm, out)


# ---------------------------------------------------------------------- the result
def _check_edges(edges: Any, n: int) -> NDArray[np.float64]:
    try:
        e = np.array(edges, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidMeasurement(f"bin edges must be numbers ({exc})") from None
    if e.shape != (n + 1,):
        raise InvalidMeasurement(
            f"{n} bins need {n + 1} bin edges, got an array of shape {e.shape}"
        )
    if not np.all(np.isfinite(e)) or not np.all(np.diff(e) > 0):
        raise InvalidMeasurement(f"bin edges must be finite and increase, got {e.tolist()}")
    e.setflags(write=False)
    return e


@dataclass(frozen=True, eq=False)
class DifferentialResult:
    """A combination whose observables are the bins of one distribution.

    Attributes
    ----------
    result:
        The combination (everything else — pulls, χ², weights, impacts — is there).
    observables:
        The combined observables that are the bins, in bin order.
    binning:
        The bins (:class:`~hepcombine.binning.Binning`): edges, axis name, label and unit;
        :meth:`Binning.index <hepcombine.binning.Binning.index>` when only the bin order is
        known (then histograms are written with the bin numbers ``0, 1, ..., n`` as edges).
    title:
        Title of the distribution (histogram titles in the output).
    quantity:
        What the values are (:class:`~hepcombine.binning.Quantity`: label, unit, qualifiers
        such as √s; the values axis of the ROOT objects), from the inputs where they say; empty
        when they do not.
    """

    result: CombinationResult
    observables: tuple[str, ...]
    binning: Binning | Binning2D
    title: str = ""
    quantity: Quantity = field(default_factory=Quantity)

    def __post_init__(self) -> None:
        obs = tuple(str(o) for o in self.observables)
        if not obs:
            raise InvalidMeasurement("a differential result needs at least one bin")
        unknown = [o for o in obs if o not in self.result.values]
        if unknown:
            from .names import did_you_mean, some_names

            raise UnknownName(
                f"bins {unknown} are not observables of the combination"
                f"{did_you_mean(unknown[0], self.result.observables)}; its observables are "
                f"{some_names(self.result.observables)}"
            )
        if len(set(obs)) != len(obs):
            raise InvalidMeasurement(f"a bin is listed twice in {list(obs)}")
        if not isinstance(self.binning, Binning | Binning2D):
            raise InvalidArgument(
                f"binning must be a Binning, not {type(self.binning).__name__} (use "
                "DifferentialResult.from_result(result, edges=...) for plain edges)"
            )
        if self.binning.n_bins != len(obs):
            raise InvalidMeasurement(
                f"{len(obs)} bins but the binning has {self.binning.n_bins} bins"
            )
        if not isinstance(self.quantity, Quantity):
            raise InvalidArgument(
                f"quantity must be a Quantity, not {type(self.quantity).__name__}"
            )
        object.__setattr__(self, "observables", obs)
        if not isinstance(self.quantity, Quantity):
            raise InvalidArgument(
                f"quantity must be a Quantity, not {type(self.quantity).__name__}"
            )

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_result(
        cls,
        result: CombinationResult,
        observables: Sequence[str] | None = None,
        edges: ArrayLike | None = None,
        axis_name: str = "x",
        axis_label: str = "",
        title: str = "",
        *,
        binning: Binning | Binning2D | None = None,
        quantity: Quantity | None = None,
    ) -> DifferentialResult:
        """Wrap a result that did not come from histograms, e.g. of a Convino configuration
        with ``isDifferential = true`` (its specification's ``binning`` and ``quantity``).

        ``observables``: the bins in order (default: all observables of the result, in their
        order). ``binning``, or ``edges`` (default ``0, 1, ..., n``, the bin numbers) with
        ``axis_name`` and ``axis_label``; ``quantity``: what the values are (default: unknown).
        """
        obs = tuple(result.observables if observables is None else observables)
        if binning is None:
            axis = {"name": axis_name, "label": axis_label}
            if edges is None:
                binning = Binning.from_edges(np.arange(len(obs) + 1.0), is_index=True, **axis)
            else:
                binning = Binning.from_edges(_check_edges(edges, len(obs)), **axis)
        elif edges is not None:
            raise InvalidArgument("give binning= or edges=, not both")
        return cls(result, obs, binning, title, quantity if quantity is not None else Quantity())

    # ------------------------------------------------------------------ the bins
    @property
    def edges(self) -> NDArray[np.float64] | None:
        """The ``n + 1`` bin edges; ``None`` when the bins have gaps or only points are known
        (graphs whose x errors are not contiguous bins)."""
        b = self.binning
        if isinstance(b, Binning2D):
            return None
        if not b.is_contiguous or (b.is_index and b.centers is not None):
            return None
        return b.edges

    @property
    def axis_name(self) -> str:
        """Name of the x axis."""
        return self.binning.name

    @property
    def axis_label(self) -> str:
        """Label (title) of the x axis."""
        return self.binning.label

    @property
    def centers(self) -> NDArray[np.float64] | None:
        """The points' x when only points are known (see :attr:`edges`), else ``None``."""
        return self.binning.centers if self.edges is None else None

    # ------------------------------------------------------------------ arrays in bin order
    @property
    def n_bins(self) -> int:
        """Number of bins."""
        return len(self.observables)

    @property
    def values(self) -> NDArray[np.float64]:
        """Combined value of each bin."""
        return np.array([self.result.values[o] for o in self.observables])

    @property
    def errors(self) -> NDArray[np.float64]:
        """Symmetric (Hesse) uncertainty of each bin."""
        return np.array([self.result.errors[o] for o in self.observables])

    @property
    def interval_valid(self) -> NDArray[np.bool_]:
        """Whether the profile interval of each bin is valid (``result.has_interval``)."""
        return np.array([self.result.has_interval(o) for o in self.observables])

    def _interval_array(self, side: int) -> NDArray[np.float64]:
        ok = self.interval_valid
        return np.array(
            [
                self.result.intervals[o][side] if good else math.nan
                for o, good in zip(self.observables, ok, strict=True)
            ]
        )

    @property
    def intervals_low(self) -> NDArray[np.float64]:
        """Lower end of the 68 % profile interval of each bin; NaN where it is not valid (see
        :attr:`interval_valid` and the result's ``interval_status``)."""
        return self._interval_array(0)

    @property
    def intervals_high(self) -> NDArray[np.float64]:
        """Upper end of the 68 % profile interval of each bin; NaN where it is not valid."""
        return self._interval_array(1)

    def invalid_intervals(self) -> dict[str, str]:
        """``{bin: interval status}`` of the bins without a valid profile interval."""
        status = self.result.interval_status
        return {o: status[o] for o in self.observables if not self.result.has_interval(o)}

    def asymmetric_errors(
        self, *, invalid: Literal["raise", "nan"] = "raise"
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(low, high)``: distances (≥ 0) of the profile-interval ends from the values.

        Bins without a valid interval raise :class:`~hepcombine.exceptions.IntervalError`
        naming them (``invalid="raise"``) or are NaN (``invalid="nan"``); no number is made
        up for them.
        """
        if invalid not in ("raise", "nan"):
            raise InvalidArgument(f"invalid must be 'raise' or 'nan', not {invalid!r}")
        bad = self.invalid_intervals()
        if bad and invalid == "raise":
            raise IntervalError(_interval_message(bad))
        v = self.values
        return v - self.intervals_low, self.intervals_high - v

    @property
    def covariance(self) -> NDArray[np.float64]:
        """Covariance of the bins (bin order)."""
        return self.result.covariance.sub(self.observables).matrix.copy()

    @property
    def correlation(self) -> NDArray[np.float64]:
        """Correlation of the bins (bin order)."""
        return self.result.correlation.sub(self.observables).matrix.copy()

    def breakdown(self) -> dict[str, NDArray[np.float64]]:
        """``{component: σ per bin}`` from the result's breakdown table (``"stat"``, the groups,
        maybe ``"correlations between groups"``; signed: a negative variance is reported as
        a negative number)."""
        table = self.result.breakdown
        cols = [table.columns.index(o) for o in self.observables]
        return {row: np.array(table.matrix[i, cols]) for i, row in enumerate(table.rows)}

    def normalised(self, *, per_width: bool = False) -> NormalisedDistribution:
        """The shape of the combined distribution, ``(values, covariance)`` from
        :func:`normalise` (the values sum to one; with ``per_width=True`` they integrate to
        one, for densities such as dσ/dx). Linear propagation of the combined covariance; its
        covariance is singular (rank n − 1). Profile intervals are not propagated."""
        widths = None
        if per_width:
            widths = self.binning.widths
        return normalise(self.values, self.covariance, widths=widths)

    # ------------------------------------------------------------------ histograms
    def histogram_edges(self) -> NDArray[np.float64]:
        """The edges histograms are written with: :attr:`edges`, else the bin numbers."""
        if self.edges is not None:
            return self.edges
        return np.arange(self.n_bins + 1, dtype=float)

    def graph_x(self) -> NDArray[np.float64]:
        """x of each bin in graphs: the points' x, else the middle of each bin."""
        if self.centers is not None:
            return np.array(self.centers)
        e = self.histogram_edges()
        return 0.5 * (e[1:] + e[:-1])

    # ------------------------------------------------------------------ tables
    def to_latex(self, *, breakdown: bool = False, **options: Any) -> str:
        """A LaTeX table of the bins (labelled by their ranges and units) with their
        statistical and systematic uncertainties, PDG-rounded, and χ²/ndf; ``breakdown=True``:
        the uncertainty breakdown per bin. ``options``: see
        :func:`hepcombine.formatting.result_table` / :func:`~hepcombine.formatting.breakdown_table`."""
        from .formatting import breakdown_table, result_table

        return (breakdown_table if breakdown else result_table)(self, "latex", **options)

    def to_markdown(self, *, breakdown: bool = False, **options: Any) -> str:
        """The table of :meth:`to_latex` as Markdown."""
        from .formatting import breakdown_table, result_table

        return (breakdown_table if breakdown else result_table)(self, "markdown", **options)

    def __repr__(self) -> str:
        return (
            f"DifferentialResult(bins={self.n_bins}, axis={self.axis_name!r}, "
            f"title={self.title!r}, binning={self.binning!r})"
        )


def _interval_message(bad: Mapping[str, str]) -> str:
    shown = "; ".join(f"{o}: {s}" for o, s in list(bad.items())[:10])
    more = f" (and {len(bad) - 10} more)" if len(bad) > 10 else ""
    return f"no valid profile interval for bins {list(bad)}: {shown}{more}"


def __dir__() -> list[str]:
    return list(__all__)
