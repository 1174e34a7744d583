"""What :func:`~hepcombine.compat.compatibility` reports: immutable, documented field by
field, keyed by name (measurement, ``"measurement:estimate"``, combined value)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from ..exceptions import UnknownName
from ..names import did_you_mean, some_names

if TYPE_CHECKING:
    from ..result import CombinationResult, NamedMatrix

__all__ = [
    "CompatibilityResult",
    "Contribution",
    "InputPull",
    "LeaveOneOut",
    "ToyCalibration",
    "ToyPValue",
]

#: ``status`` of everything that was computed.
OK = "ok"


def _frozen(obj: object, *names: str) -> None:
    for name in names:
        object.__setattr__(obj, name, MappingProxyType(dict(getattr(obj, name))))


@dataclass(frozen=True)
class InputPull:
    """The pull of one input (an estimate of a measurement) against the combination.

    Attributes
    ----------
    measurement, estimate: the input.
    observable: the combined value it measures.
    value: the estimate x̂ as the measurement reports it.
    input_error: √Var(x̂) under the combination's model (statistical, plus the measurement's
        sources with their constraints and the correlations assumed between them); for a
        measurement whose sources are assumed uncorrelated with each other, its own total
        uncertainty.
    combined: the combined value x̄.
    difference: x̂ − x̄.
    error: √Var(x̂ − x̄), correlations included (module docstring of
        :mod:`hepcombine.compat`).
    pull: difference / error; NaN when ``status`` is not ``"ok"``.
    pvalue: two-sided p-value of the pull for a standard normal, 2 Φ(−|pull|).
    status: ``"ok"``, or why there is no pull (the input alone determines the combined value,
        so x̂ − x̄ has no variance).
    """

    measurement: str
    estimate: str
    observable: str
    value: float
    input_error: float
    combined: float
    difference: float
    error: float
    pull: float
    pvalue: float
    status: str = OK

    @property
    def name(self) -> str:
        """``"measurement:estimate"``."""
        return f"{self.measurement}:{self.estimate}"


@dataclass(frozen=True)
class Contribution:
    """How much of χ²_min one measurement carries.

    χ²_min = Σ_α (data_α + constraints_α) + the combination's ``unattributed`` remainder
    (zero up to rounding for Gaussian constraints). ``data`` is the measurement's data term
    χ²_α at the minimum (method.md §1: its statistical part, the data constraint D of its
    sources and the terms of its fitted source values λ̂). ``constraints`` is its sources' share
    of the prior λᵀC⁻¹λ: source i carries λ_i (C⁺λ)_i, i.e. its own λ_i² when it is correlated
    with nothing and half of every cross term λ_i C⁻¹_ij λ_j it has with another source
    (the share can be negative for correlated sources).

    Attributes
    ----------
    measurement: its name.
    data, constraints: the two parts; ``chi2`` is their sum.
    n_estimates: its number of estimates (its nominal share of the degrees of freedom).
    """

    measurement: str
    data: float
    constraints: float
    n_estimates: int

    @property
    def chi2(self) -> float:
        """data + constraints."""
        return self.data + self.constraints


@dataclass(frozen=True)
class LeaveOneOut:
    """The combination without one measurement, against the nominal one.

    Attributes
    ----------
    measurement: the measurement left out.
    status: ``"ok"``, or why there is no combination without it
        (``"nothing left to combine"``, ``"no combined value is measured without it"``, or
        ``"failed: "`` and the error of the combination without it); then every number is NaN.
    values, errors: combined values and Hesse errors without the measurement (NaN for a value
        it alone measures).
    shifts: values − nominal values (what removing the measurement does to each value).
    shift_errors: √Var(shift) under the nominal combination's model, correlations included;
        for a quadratic χ² exactly √(σ²_without − σ²_nominal).
    significance: shift / shift_error.
    value_status: per combined value ``"ok"``, ``"not measured without it"`` or
        ``"not affected"`` (the measurement carries no weight for it: its shift has no
        variance).
    chi2, ndf: χ²_min and ndf of the combination without it.
    delta_chi2, delta_ndf: nominal χ²_min − chi2 and ndf − ndf: the likelihood-ratio test of
        the measurement against the rest (χ²(delta_ndf)-distributed for a quadratic χ²).
    pvalue: the p-value of delta_chi2 for χ²(delta_ndf) (NaN for delta_ndf ≤ 0).
    shift_chi2, shift_ndf: the shifts of all values jointly, Δᵀ Var(Δ)⁺ Δ, with the rank of
        Var(Δ) as its degrees of freedom.
    """

    measurement: str
    status: str
    values: Mapping[str, float]
    errors: Mapping[str, float]
    shifts: Mapping[str, float]
    shift_errors: Mapping[str, float]
    significance: Mapping[str, float]
    value_status: Mapping[str, str]
    chi2: float
    ndf: int
    delta_chi2: float
    delta_ndf: int
    pvalue: float
    shift_chi2: float
    shift_ndf: int

    def __post_init__(self) -> None:
        _frozen(self, "values", "errors", "shifts", "shift_errors", "significance", "value_status")

    @property
    def unmeasured(self) -> tuple[str, ...]:
        """The combined values that only this measurement measures."""
        return tuple(o for o, s in self.value_status.items() if s == NOT_MEASURED)


NOT_MEASURED = "not measured without it"
NOT_AFFECTED = "not affected"


@dataclass(frozen=True)
class ToyPValue:
    """A p-value from pseudo-experiments: the fraction of toys whose statistic is at least the
    observed one.

    Attributes
    ----------
    pvalue: exceeded / n (0 when no toy reaches the observed value: then p < 1/n).
    error: its binomial error √(p(1 − p)/n).
    exceeded: the number of toys at least as extreme as the data.
    n: the number of toys in which the statistic could be computed.
    """

    pvalue: float
    error: float
    exceeded: int
    n: int

    @classmethod
    def of(cls, samples: NDArray[np.float64], observed: float) -> ToyPValue:
        """From the per-toy statistics (NaN: not computed in that toy) and the observed one."""
        s = np.asarray(samples, dtype=float)
        s = s[np.isfinite(s)]
        n = int(s.size)
        if n == 0 or not math.isfinite(observed):
            return cls(math.nan, math.nan, 0, n)
        k = int(np.count_nonzero(s >= observed))
        p = k / n
        return cls(p, math.sqrt(p * (1.0 - p) / n), k, n)

    @property
    def upper_limit(self) -> bool:
        """No toy reached the observed value: the p-value is below 1/n."""
        return self.n > 0 and self.exceeded == 0


@dataclass(frozen=True)
class ToyCalibration:
    """p-values calibrated with pseudo-experiments drawn from the nominal combination's own
    model (:mod:`hepcombine.toys.model`: truth at the combined values, sources from their
    priors) and analysed exactly as the data.

    Attributes
    ----------
    n, n_failed: pseudo-experiments run, and those whose nominal combination failed
        (``failures``: reason → count).
    seed: the seed (toy i uses child i of ``numpy.random.SeedSequence(seed)``).
    chi2: of χ²_min.
    max_pull: of the largest |pull| of all inputs (the look-elsewhere-corrected test of the
        pulls).
    pulls: per input, of |pull|.
    contributions: per measurement, of its χ² contribution.
    leave_one_out: per measurement left out, of delta_chi2.
    shifts: per measurement left out, per combined value, of |significance|.
    samples: per-toy arrays ``"chi2"`` and ``"max_pull"`` (NaN for failed toys).
    """

    n: int
    n_failed: int
    seed: int
    failures: Mapping[str, int]
    chi2: ToyPValue
    max_pull: ToyPValue
    pulls: Mapping[str, ToyPValue]
    contributions: Mapping[str, ToyPValue]
    leave_one_out: Mapping[str, ToyPValue]
    shifts: Mapping[str, Mapping[str, ToyPValue]]
    samples: Mapping[str, NDArray[np.float64]] = field(repr=False)

    def __post_init__(self) -> None:
        _frozen(self, "failures", "pulls", "contributions", "leave_one_out", "samples")
        object.__setattr__(
            self,
            "shifts",
            MappingProxyType({k: MappingProxyType(dict(v)) for k, v in self.shifts.items()}),
        )
        for v in self.samples.values():
            v.setflags(write=False)


@dataclass(frozen=True, eq=False, repr=False)
class CompatibilityResult:
    """Compatibility diagnostics of a combination
    (:func:`~hepcombine.compat.compatibility`). Every mapping is read-only and keyed by name.

    Attributes
    ----------
    observables: the combined values.
    measurements: the measurements.
    combination: the nominal :class:`~hepcombine.result.CombinationResult`.
    pulls: ``{"measurement:estimate": InputPull}`` for every input that measures a combined
        value (spectators have none).
    pull_correlation: the correlation matrix of the pulls
        (:class:`~hepcombine.result.NamedMatrix`, names as ``pulls``; NaN rows for inputs
        without a pull).
    contributions: ``{measurement: Contribution}``.
    unattributed: χ²_min − Σ contributions (rounding for Gaussian constraints).
    leave_one_out: ``{measurement: LeaveOneOut}`` for the measurements left out.
    chi2, ndf, pvalue: of the nominal combination (χ²(ndf) p-value; NaN for ndf = 0).
    scale_factor: the PDG scale factor S = √(χ²_min/ndf) (NaN for ndf = 0).
    scaled: the combination with every input uncertainty multiplied by S when S > 1 (PDG); the
        nominal combination when S ≤ 1; ``None`` unless asked for (``scale=True``).
    toys: :class:`ToyCalibration`, or ``None`` without pseudo-experiments.
    linearised: True when the χ² is not quadratic: variances (pull errors, shift errors) are
        then those of the χ² linearised at its minimum, and the χ²(ndf) and normal p-values
        asymptotic approximations; the pseudo-experiments calibrate them.
    notes: what else a user should know (each names the measurement, input or value).
    """

    observables: tuple[str, ...]
    measurements: tuple[str, ...]
    combination: CombinationResult
    pulls: Mapping[str, InputPull]
    pull_correlation: NamedMatrix
    contributions: Mapping[str, Contribution]
    unattributed: float
    leave_one_out: Mapping[str, LeaveOneOut]
    chi2: float
    ndf: int
    pvalue: float
    scale_factor: float
    scaled: CombinationResult | None
    toys: ToyCalibration | None
    linearised: bool
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _frozen(self, "pulls", "contributions", "leave_one_out")

    def pull(self, name: str) -> InputPull:
        """The pull of input ``name`` (``"measurement:estimate"``, or the bare estimate name
        where it is unique)."""
        if name in self.pulls:
            return self.pulls[name]
        hits = [k for k, p in self.pulls.items() if p.estimate == name]
        if len(hits) == 1:
            return self.pulls[hits[0]]
        if hits:
            raise UnknownName(f"input {name!r} is ambiguous: {some_names(hits)}")
        raise UnknownName(
            f"{name!r} is not an input of this combination{did_you_mean(name, self.pulls)}; "
            f"inputs are {some_names(self.pulls)}"
        )

    def inputs_of(self, observable: str) -> tuple[InputPull, ...]:
        """The pulls of the inputs of one combined value."""
        if observable not in self.observables:
            raise UnknownName(
                f"{observable!r} is not a combined value{did_you_mean(observable, self.observables)}"
                f"; they are {some_names(self.observables)}"
            )
        return tuple(p for p in self.pulls.values() if p.observable == observable)

    def __repr__(self) -> str:
        """One line: χ²/ndf with its p-value, S, the largest pull (the report is
        :func:`hepcombine.outputs.compat.format_compatibility`)."""
        finite = [(abs(p.pull), k) for k, p in self.pulls.items() if math.isfinite(p.pull)]
        worst = f"; largest |pull| {max(finite)[0]:.2f} ({max(finite)[1]})" if finite else ""
        p = f"{self.pvalue:.3g}" if math.isfinite(self.pvalue) else "n/a"
        s = f"{self.scale_factor:.3g}" if math.isfinite(self.scale_factor) else "n/a"
        toys = f"; {self.toys.n} toys" if self.toys is not None else ""
        return (
            f"CompatibilityResult(χ²/ndf = {self.chi2:.4g}/{self.ndf}, p = {p}, S = {s}{worst}; "
            f"{len(self.pulls)} inputs, {len(self.leave_one_out)} left out{toys})"
        )


def __dir__() -> list[str]:
    return list(__all__)
