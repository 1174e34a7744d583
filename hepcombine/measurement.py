"""Measurements in canonical form (method.md §1).

Every input form (a Hessian of a nuisance-parameter fit, a correlation matrix with
constraints, a table of orthogonal uncertainties, or a Hessian plus extra orthogonal sources) is
reduced to one object, :class:`Measurement`, holding

* ``estimates`` x̂ and their names,
* ``stat_information`` M: the inverse statistical covariance of the estimates (the x-block of
  the original fit's Hessian),
* ``shifts_up`` U (and ``shifts_down``): the shift of each estimate had the analysis assumed the
  +1σ (−1σ) variation of each source, i.e. ``U = -M⁻¹ H_xλ`` for Hessian input,
* ``source_information`` D = S − 1: what the measurement's own data know about the sources beyond
  their unit Gaussian prior (S is the Schur complement ``H_λλ − Uᵀ M U``),
* ``nuisance_values`` λ̂: the best-fit source values of the original fit (zero by default),
* ``relative``: the sources whose shifts scale with the combined value,
* ``lognormal``: the sources that scale the prediction log-normally (a positive quantity such as
  a luminosity or an efficiency with a large relative uncertainty: the prediction never changes
  sign; method.md §1).

Sign convention: ``u_i`` is the result the analysis would have reported had it assumed the +1σ
variation of source ``i``, minus the nominal result. Two sources that describe the same
physical variation are then correlated with ρ = +1, whatever form each measurement came in.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .binning import Binning, Binning2D, Quantity
from .exceptions import InvalidMeasurement

__all__ = ["DifferentialMeasurement", "Measurement"]

log = logging.getLogger(__name__)

Shift = float | tuple[float, float]


def _finite(name: str, array: NDArray[np.float64], where: str) -> NDArray[np.float64]:
    if not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))
        raise InvalidMeasurement(
            f"{where}: {name} contains NaN or infinite entries at {bad[:5].tolist()}"
        )
    return array


def _numbers(
    values: Mapping[str, Any], names: Sequence[str], what: str, where: str
) -> NDArray[np.float64]:
    """``values[n]`` for each name as floats; a value that is not a number names itself."""
    out = np.empty(len(names))
    for i, n in enumerate(names):
        try:
            out[i] = float(values[n])
        except (TypeError, ValueError):
            raise InvalidMeasurement(
                f"{where}: {what} of {n!r} is {values[n]!r}, not a number"
            ) from None
    return out


def _unique(names: Sequence[str], what: str, where: str) -> tuple[str, ...]:
    names = tuple(str(n) for n in names)
    seen: set[str] = set()
    dupes = [n for n in names if n in seen or seen.add(n)]  # type: ignore[func-returns-value]
    if dupes:
        raise InvalidMeasurement(f"{where}: {what} names are not unique: {sorted(set(dupes))}")
    return names


def _symmetric_matrix(matrix: ArrayLike, n: int, what: str, where: str) -> NDArray[np.float64]:
    m = np.array(matrix, dtype=float)
    if m.shape != (n, n):
        raise InvalidMeasurement(f"{where}: {what} has shape {m.shape}, expected ({n}, {n})")
    _finite(what, m, where)
    scale = np.max(np.abs(m)) if m.size else 1.0
    if not np.allclose(m, m.T, rtol=1e-7, atol=1e-10 * scale):
        i, j = np.unravel_index(np.argmax(np.abs(m - m.T)), m.shape)
        raise InvalidMeasurement(
            f"{where}: {what} is not symmetric (entry [{i}, {j}] = {m[i, j]:g} but [{j}, {i}] = {m[j, i]:g})"
        )
    return 0.5 * (m + m.T)


def _cholesky_or_raise(
    matrix: NDArray[np.float64], names: Sequence[str], what: str, where: str
) -> None:
    """Raise unless ``matrix`` is positive definite (checked after scaling to unit diagonal,
    so that parameters of very different size do not matter)."""
    diag = np.diag(matrix)
    if np.any(diag <= 0):
        bad = [names[int(i)] for i in np.flatnonzero(diag <= 0)]
        raise InvalidMeasurement(
            f"{where}: {what} is not positive definite: non-positive diagonal entries for {bad}"
        )
    scale = 1.0 / np.sqrt(diag)
    scaled = matrix * np.outer(scale, scale)
    try:
        np.linalg.cholesky(scaled)
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(scaled)
        k = int(np.argmin(w))
        involved = [names[i] for i in np.argsort(-np.abs(v[:, k]))[:4] if abs(v[:, k][i]) > 0.1]
        raise InvalidMeasurement(
            f"{where}: {what} is not positive definite (smallest eigenvalue {w[k]:.3g} after "
            f"scaling to unit diagonal); the offending direction involves {involved}"
        ) from None


@dataclass(frozen=True, eq=False, repr=False)
class Measurement:
    """One measurement in canonical form. Build it with one of the ``from_*`` constructors.

    All arrays are read-only; the rows of the estimate arrays follow ``estimate_names``, the
    columns of the source arrays follow ``source_names``.
    """

    estimate_names: tuple[str, ...]
    estimates: NDArray[np.float64]
    source_names: tuple[str, ...]
    stat_information: NDArray[np.float64]
    shifts_up: NDArray[np.float64]
    shifts_down: NDArray[np.float64]
    source_information: NDArray[np.float64]
    nuisance_values: NDArray[np.float64]
    relative: frozenset[str] = frozenset()
    name: str | None = None
    origin: str = field(default="", compare=False)
    lognormal: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        where = self._where()
        n_e, n_s = len(self.estimate_names), len(self.source_names)
        if n_e == 0:
            raise InvalidMeasurement(f"{where}: a measurement needs at least one estimate")
        _unique(self.estimate_names, "estimate", where)
        _unique(self.source_names, "source", where)
        clash = set(self.estimate_names) & set(self.source_names)
        if clash:
            raise InvalidMeasurement(
                f"{where}: names used both as estimate and as source: {sorted(clash)}"
            )
        shapes = {
            "estimates": (self.estimates, (n_e,)),
            "stat_information": (self.stat_information, (n_e, n_e)),
            "shifts_up": (self.shifts_up, (n_e, n_s)),
            "shifts_down": (self.shifts_down, (n_e, n_s)),
            "source_information": (self.source_information, (n_s, n_s)),
            "nuisance_values": (self.nuisance_values, (n_s,)),
        }
        for what, (arr, shape) in shapes.items():
            arr = np.array(arr, dtype=float)
            object.__setattr__(self, what, arr)
            if arr.shape != shape:
                raise InvalidMeasurement(f"{where}: {what} has shape {arr.shape}, expected {shape}")
            _finite(what, arr, where)
            arr.setflags(write=False)
        object.__setattr__(self, "relative", frozenset(self.relative))
        object.__setattr__(self, "lognormal", frozenset(self.lognormal))
        for kind, chosen in (("relative", self.relative), ("log-normal", self.lognormal)):
            unknown = set(chosen) - set(self.source_names)
            if unknown:
                raise InvalidMeasurement(
                    f"{where}: {kind} sources {sorted(unknown)} are not sources of this measurement"
                )
        both = self.relative & self.lognormal
        if both:
            raise InvalidMeasurement(
                f"{where}: sources {sorted(both)} are declared both relative and log-normal; "
                "choose one"
            )
        self._check_lognormal(where)
        _cholesky_or_raise(
            self.stat_information,
            self.estimate_names,
            "the statistical information (Hessian of the estimates)",
            where,
        )

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_hessian(
        cls,
        hessian: ArrayLike,
        names: Sequence[str],
        estimates: Mapping[str, float],
        relative: Iterable[str] = (),
        nuisance_values: Mapping[str, float] | None = None,
        *,
        name: str | None = None,
        lognormal: Iterable[str] = (),
    ) -> Measurement:
        """A measurement from the Hessian of a simultaneous nuisance-parameter fit.

        Parameters
        ----------
        hessian:
            ½ ∂²χ²/∂θ∂θ of the original fit (= its inverse covariance) in the parameters
            ``names``, estimates and sources mixed in any order, *including* the unit Gaussian
            priors of the sources.
        names:
            The parameter of each row/column of ``hessian``.
        estimates:
            ``{estimate name: best-fit value}``; every other name is a source (nuisance
            parameter, λ = ±1 its ±1σ variation).
        relative:
            Sources whose effect scales with the value of the estimate.
        lognormal:
            Sources whose effect is a log-normal factor on the estimate (method.md §1): with the
            shift u of the +1σ variation the prediction is scaled by (1 + u/x̂)^(−λ), so it can
            never change sign.
        nuisance_values:
            Best-fit values λ̂ of the sources in the original fit (default 0). Pulled nuisance
            parameters must be given here, or the combination is biased.
        """
        where = f"measurement {name!r}" if name else "measurement"
        names = _unique(names, "parameter", where)
        h = _symmetric_matrix(hessian, len(names), "the Hessian", where)
        unknown = [e for e in estimates if e not in names]
        if unknown:
            raise InvalidMeasurement(
                f"{where}: estimates {unknown} are not among the Hessian's names {list(names)}"
            )
        est_names = tuple(n for n in names if n in estimates)
        src_names = tuple(n for n in names if n not in estimates)
        _cholesky_or_raise(h, names, "the Hessian", where)
        ie = [names.index(n) for n in est_names]
        is_ = [names.index(n) for n in src_names]
        m = h[np.ix_(ie, ie)]
        h_xl = h[np.ix_(ie, is_)]
        h_ll = h[np.ix_(is_, is_)]
        u = np.asarray(-np.linalg.solve(m, h_xl), dtype=np.float64)
        s = h_ll - h_xl.T @ np.linalg.solve(m, h_xl)
        d = 0.5 * (s + s.T) - np.eye(len(src_names))
        if len(src_names):
            w, v = np.linalg.eigh(0.5 * (s + s.T))
            if w[0] < 1.0 - 1e-6:
                involved = [src_names[i] for i in np.flatnonzero(np.abs(v[:, 0]) > 0.1)]
                log.warning(
                    "%s: the Hessian leaves less than the unit prior on sources %s (curvature %.3g < 1); "
                    "the Hessian must include the fit's unit Gaussian priors on the sources",
                    where,
                    involved,
                    w[0],
                )
        x = _numbers(estimates, est_names, "the estimate", where)
        lam = cls._nuisance_vector(nuisance_values, src_names, where)
        return cls(
            est_names,
            x,
            src_names,
            m,
            u,
            -u.copy(),
            d,
            lam,
            frozenset(relative),
            name,
            "hessian",
            frozenset(lognormal),
        )

    @classmethod
    def from_correlation_matrix(
        cls,
        correlation: ArrayLike,
        constraints: Mapping[str, float] | Sequence[float],
        names: Sequence[str],
        estimates: Mapping[str, float],
        relative: Iterable[str] = (),
        nuisance_values: Mapping[str, float] | None = None,
        *,
        name: str | None = None,
        lognormal: Iterable[str] = (),
    ) -> Measurement:
        """A measurement from the post-fit correlation matrix of a nuisance-parameter fit.

        ``constraints`` gives, per parameter, the post-fit σ: for a source in units of its prior
        (1 = not constrained), for an estimate its absolute total uncertainty. The covariance is
        ``ρ_ij σ_i σ_j`` and its inverse is used as the Hessian.
        """
        where = f"measurement {name!r}" if name else "measurement"
        names = _unique(names, "parameter", where)
        rho = _symmetric_matrix(correlation, len(names), "the correlation matrix", where)
        if not np.allclose(np.diag(rho), 1.0, atol=1e-9):
            raise InvalidMeasurement(
                f"{where}: the correlation matrix must have 1 on its diagonal, got {np.diag(rho).tolist()}"
            )
        if np.any(np.abs(rho) > 1 + 1e-12):
            raise InvalidMeasurement(f"{where}: correlation matrix entries must lie in [-1, 1]")
        if isinstance(constraints, Mapping):
            missing = [n for n in names if n not in constraints]
            if missing:
                raise InvalidMeasurement(f"{where}: no constraint given for {missing}")
            sigma = _numbers(constraints, names, "the constraint", where)
        else:
            sigma = np.asarray(constraints, dtype=float)
            if sigma.shape != (len(names),):
                raise InvalidMeasurement(
                    f"{where}: {len(sigma)} constraints for {len(names)} parameters"
                )
        _finite("the constraints", sigma, where)
        if np.any(sigma <= 0):
            bad = [n for n, s in zip(names, sigma, strict=True) if s <= 0]
            raise InvalidMeasurement(
                f"{where}: constraints must be positive, got non-positive values for {bad}"
            )
        cov = rho * np.outer(sigma, sigma)
        _cholesky_or_raise(cov, names, "the correlation matrix", where)
        m = cls.from_hessian(
            np.linalg.inv(cov),
            names,
            estimates,
            relative,
            nuisance_values,
            name=name,
            lognormal=lognormal,
        )
        return m._replace(origin="correlation matrix")

    @classmethod
    def from_uncertainties(
        cls,
        estimates: Mapping[str, float],
        stat: Mapping[str, float],
        systematics: Mapping[str, Mapping[str, Shift]] | None = None,
        stat_correlation: ArrayLike | None = None,
        relative: Iterable[str] = (),
        *,
        name: str | None = None,
        lognormal: Iterable[str] = (),
    ) -> Measurement:
        """A measurement with orthogonal ("not fitted") uncertainties.

        Parameters
        ----------
        estimates:
            ``{estimate: value}``.
        stat:
            ``{estimate: statistical uncertainty}`` (absolute, positive).
        systematics:
            ``{source: {estimate: u}}`` with ``u`` the absolute shift of the estimate for the
            +1σ variation of the source, or ``(up, down)``: the signed shifts for +1σ and −1σ
            (usually ``up > 0 > down``; both signs are kept as given). Estimates a source does
            not list are not affected by it.
        stat_correlation:
            Statistical correlation matrix of the estimates (in the order of ``estimates``).
        relative:
            Sources whose shifts scale with the combined value.
        lognormal:
            Sources whose shifts are log-normal factors on the prediction: ``(up, down)`` give
            the factors (1 + up/x̂)^(−λ) for λ ≥ 0 and (1 + down/x̂)^(λ) for λ < 0; a symmetric
            ``u`` gives (1 + u/x̂)^(−λ) on both sides (so its −1σ result is x̂/(1 + u/x̂), not
            x̂ − u).
        """
        where = f"measurement {name!r}" if name else "measurement"
        est_names = _unique(list(estimates), "estimate", where)
        x = _numbers(estimates, est_names, "the estimate", where)
        _finite("the estimates", x, where)
        missing = [n for n in est_names if n not in stat]
        extra = [n for n in stat if n not in estimates]
        if missing or extra:
            raise InvalidMeasurement(
                f"{where}: statistical uncertainties must be given for exactly the estimates; "
                f"missing {missing}, unknown {extra}"
            )
        sigma = _numbers(stat, est_names, "the statistical uncertainty", where)
        _finite("the statistical uncertainties", sigma, where)
        if np.any(sigma <= 0):
            bad = [n for n, s in zip(est_names, sigma, strict=True) if not s > 0]
            raise InvalidMeasurement(
                f"{where}: statistical uncertainties must be positive, not for {bad}"
            )
        if stat_correlation is None:
            rho = np.eye(len(est_names))
        else:
            rho = _symmetric_matrix(
                stat_correlation, len(est_names), "the statistical correlation", where
            )
            if not np.allclose(np.diag(rho), 1.0):
                raise InvalidMeasurement(
                    f"{where}: the statistical correlation must have 1 on its diagonal"
                )
        cov = rho * np.outer(sigma, sigma)
        _cholesky_or_raise(cov, est_names, "the statistical covariance", where)
        m_info = np.linalg.inv(cov)
        m_info = 0.5 * (m_info + m_info.T)
        base = cls(
            est_names,
            x,
            (),
            m_info,
            np.zeros((len(x), 0)),
            np.zeros((len(x), 0)),
            np.zeros((0, 0)),
            np.zeros(0),
            frozenset(),
            name,
            "uncertainties",
        )
        return base.with_uncertainties(systematics or {}, relative, lognormal)

    def with_uncertainties(
        self,
        systematics: Mapping[str, Mapping[str, Shift]],
        relative: Iterable[str] = (),
        lognormal: Iterable[str] = (),
    ) -> Measurement:
        """This measurement plus extra orthogonal sources (uncorrelated with the fitted ones).

        ``systematics``, ``relative`` and ``lognormal`` have the form of
        :meth:`from_uncertainties`.
        """
        where = self._where()
        relative = frozenset(relative)
        lognormal = frozenset(lognormal)
        unknown_ln = lognormal - set(systematics)
        if unknown_ln:
            raise InvalidMeasurement(
                f"{where}: log-normal sources {sorted(unknown_ln)} are not among the new sources "
                f"{list(systematics)}"
            )
        new = _unique(list(systematics), "source", where)
        clash = set(new) & (set(self.source_names) | set(self.estimate_names))
        if clash:
            raise InvalidMeasurement(
                f"{where}: sources {sorted(clash)} are already defined in this measurement"
            )
        unknown_rel = relative - set(new)
        if unknown_rel:
            raise InvalidMeasurement(
                f"{where}: relative sources {sorted(unknown_rel)} are not among the new sources {list(new)}"
            )
        n_e = len(self.estimate_names)
        up = np.zeros((n_e, len(new)))
        down = np.zeros((n_e, len(new)))
        index = {n: i for i, n in enumerate(self.estimate_names)}
        for j, src in enumerate(new):
            entries = systematics[src]
            if not isinstance(entries, Mapping):
                raise InvalidMeasurement(
                    f"{where}: source {src!r} must map estimate names to shifts, got {type(entries).__name__}"
                )
            for est, value in entries.items():
                if est not in index:
                    raise InvalidMeasurement(
                        f"{where}: source {src!r} names unknown estimate {est!r}; estimates are {list(self.estimate_names)}"
                    )
                if isinstance(value, tuple | list | np.ndarray) and len(value) != 2:
                    raise InvalidMeasurement(
                        f"{where}: source {src!r}, estimate {est!r}: an asymmetric shift is (up, down), got {value!r}"
                    )
                try:
                    if isinstance(value, tuple | list | np.ndarray):
                        u, d = float(value[0]), float(value[1])
                    else:
                        u = float(value)
                        d = -u
                except (TypeError, ValueError):
                    raise InvalidMeasurement(
                        f"{where}: source {src!r}, estimate {est!r}: shift {value!r} is not a number"
                    ) from None
                if not (np.isfinite(u) and np.isfinite(d)):
                    raise InvalidMeasurement(
                        f"{where}: source {src!r}, estimate {est!r}: shift is NaN or infinite"
                    )
                up[index[est], j] = u
                down[index[est], j] = d
        n_old = len(self.source_names)
        info = np.zeros((n_old + len(new),) * 2)
        info[:n_old, :n_old] = self.source_information
        return Measurement(
            self.estimate_names,
            self.estimates,
            self.source_names + new,
            self.stat_information,
            np.hstack([self.shifts_up, up]),
            np.hstack([self.shifts_down, down]),
            info,
            np.concatenate([self.nuisance_values, np.zeros(len(new))]),
            self.relative | relative,
            self.name,
            self.origin
            if not n_old and self.origin == "uncertainties"
            else f"{self.origin} + uncertainties",
            self.lognormal | lognormal,
        )

    # ------------------------------------------------------------------ derived
    def named(self, name: str) -> Measurement:
        """The same measurement under another name."""
        return self._replace(name=name)

    @property
    def is_asymmetric(self) -> NDArray[np.bool_]:
        """Per source: whether its +1σ and −1σ shifts differ from ±u anywhere."""
        total = self.shifts_up + self.shifts_down
        if not total.any():  # symmetric everywhere (the common case): nothing to compare
            return np.zeros(total.shape[1], dtype=bool)
        scale = np.maximum(np.abs(self.shifts_up), np.abs(self.shifts_down))
        return np.any(np.abs(total) > 1e-12 * np.maximum(scale, 1e-300), axis=0)

    @property
    def shifts(self) -> NDArray[np.float64]:
        """Symmetrised shifts (up − down)/2 per estimate and source."""
        out: NDArray[np.float64] = 0.5 * (self.shifts_up - self.shifts_down)
        return out

    @property
    def stat_covariance(self) -> NDArray[np.float64]:
        """Statistical covariance of the estimates, M⁻¹."""
        return np.asarray(np.linalg.inv(self.stat_information), dtype=np.float64)

    @property
    def covariance(self) -> NDArray[np.float64]:
        """Total covariance of the estimates (symmetrised shifts, sources with their constraints)."""
        u = self.shifts
        n_s = len(self.source_names)
        # covariance of the sources given the measurement's own data: (1 + D)^-1 = S^-1
        cov_l = np.linalg.inv(np.eye(n_s) + self.source_information) if n_s else np.zeros((0, 0))
        return self.stat_covariance + u @ cov_l @ u.T

    @property
    def errors(self) -> dict[str, float]:
        """Total (symmetrised) uncertainty of each estimate."""
        return dict(
            zip(self.estimate_names, np.sqrt(np.diag(self.covariance)).tolist(), strict=True)
        )

    def to_hessian(self) -> tuple[NDArray[np.float64], tuple[str, ...]]:
        """The Hessian (estimates first, then sources) equivalent to this measurement's
        symmetrised form; the inverse of :meth:`from_hessian`."""
        m, u = self.stat_information, self.shifts
        n_s = len(self.source_names)
        h_xl = -m @ u
        h_ll = np.eye(n_s) + self.source_information + u.T @ m @ u
        h = np.block([[m, h_xl], [h_xl.T, h_ll]])
        return h, self.estimate_names + self.source_names

    def __repr__(self) -> str:
        return (
            f"Measurement(name={self.name!r}, estimates={len(self.estimate_names)}, "
            f"sources={len(self.source_names)}, relative={sorted(self.relative)}, "
            + (f"lognormal={sorted(self.lognormal)}, " if self.lognormal else "")
            + f"origin={self.origin!r})"
        )

    # ------------------------------------------------------------------ helpers
    def _check_lognormal(self, where: str) -> None:
        """A log-normal source needs positive estimates and ±1σ results x̂ + u_± > 0."""
        for j, src in enumerate(self.source_names):
            if src not in self.lognormal:
                continue
            affected = (self.shifts_up[:, j] != 0) | (self.shifts_down[:, j] != 0)
            for i in np.flatnonzero(affected):
                x = self.estimates[i]
                e = self.estimate_names[i]
                if not x > 0:
                    raise InvalidMeasurement(
                        f"{where}: log-normal source {src!r} acts on estimate {e!r} = {x:g}; a "
                        "log-normal response needs a positive estimate (declare the source "
                        "relative or absolute instead)"
                    )
                up, down = self.shifts_up[i, j], self.shifts_down[i, j]
                # a symmetric log-normal source has one factor κ = 1 + u/x̂ for both sides
                sides = [("+1σ", up)] if down == -up else [("+1σ", up), ("−1σ", down)]
                for what, u in sides:
                    if not x + u > 0:
                        raise InvalidMeasurement(
                            f"{where}: log-normal source {src!r}, estimate {e!r}: the {what} "
                            f"result x̂ + u = {x:g} + {u:g} is not positive, which no log-normal "
                            "factor can give"
                        )

    def _where(self) -> str:
        return f"measurement {self.name!r}" if self.name else "measurement"

    def _replace(self, **changes: Any) -> Measurement:
        values = {f: getattr(self, f) for f in self.__dataclass_fields__}
        values.update(changes)
        return Measurement(**values)

    @staticmethod
    def _nuisance_vector(
        values: Mapping[str, float] | None, sources: Sequence[str], where: str
    ) -> NDArray[np.float64]:
        lam = np.zeros(len(sources))
        if values:
            unknown = [k for k in values if k not in sources]
            if unknown:
                raise InvalidMeasurement(
                    f"{where}: nuisance values given for {unknown}, which are not sources ({list(sources)})"
                )
            for i, s in enumerate(sources):
                lam[i] = float(values.get(s, 0.0))
        return lam


@dataclass(frozen=True, eq=False)
class DifferentialMeasurement:
    """A :class:`Measurement` of a binned distribution, with the binning it came from.

    Attributes
    ----------
    measurement:
        The canonical measurement; its estimates are the bins, in order.
    binning:
        The bins (edges, axis name, label and unit; :class:`~hepcombine.binning.Binning`), or
        the cells of a 2-d distribution (:class:`~hepcombine.binning.Binning2D`, x inner).
    quantity:
        What the values are (label and unit), when the input says.
    title:
        Title of the input (histogram title, HEPData table name).
    origin:
        Where the nominal came from, e.g. ``"nominal 'data.root:h_pt'"`` (used in messages).
    """

    measurement: Measurement
    binning: Binning | Binning2D
    quantity: Quantity = field(default_factory=Quantity)
    title: str = ""
    origin: str = ""

    def __post_init__(self) -> None:
        n = len(self.measurement.estimate_names)
        if self.binning.n_bins != n:
            raise InvalidMeasurement(
                f"{self.measurement._where()}: {n} estimates but the binning has "
                f"{self.binning.n_bins} bins"
            )

    @property
    def name(self) -> str | None:
        """The measurement's name."""
        return self.measurement.name

    @property
    def n_bins(self) -> int:
        """Number of bins (= estimates)."""
        return self.binning.n_bins

    @property
    def bin_names(self) -> tuple[str, ...]:
        """The estimate name of each bin (``measurement.estimate_names``)."""
        return self.measurement.estimate_names

    @property
    def edges(self) -> NDArray[np.float64] | None:
        """The ``n + 1`` bin edges; ``None`` when the bins are only numbered or have gaps."""
        b = self.binning
        if isinstance(b, Binning2D):
            return None
        return None if b.is_index or not b.is_contiguous else b.edges

    @property
    def centers(self) -> NDArray[np.float64]:
        """x of each bin (a graph's points; else the middle of each bin)."""
        b = self.binning
        return b.flat().bin_centers if isinstance(b, Binning2D) else b.bin_centers

    @property
    def axis_name(self) -> str:
        """Name of the x axis."""
        return self.binning.name

    @property
    def axis_label(self) -> str:
        """Label (title) of the x axis."""
        return self.binning.label

    def __repr__(self) -> str:
        return (
            f"DifferentialMeasurement(name={self.name!r}, bins={self.n_bins}, "
            f"sources={len(self.measurement.source_names)}, origin={self.origin!r})"
        )


def __dir__() -> list[str]:
    return list(__all__)
