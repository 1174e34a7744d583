r"""Compatibility diagnostics of a combination: pulls of the inputs, leave-one-out combinations,
χ² contributions, the PDG scale factor, and p-values from pseudo-experiments.

Definitions (data y, response R = ∂x̄/∂y and data covariance Σ_y of :mod:`.linear`):

**Pull of an input.** For estimate μ of measurement α that measures the combined value c,

    pull_μ = (x̂_μ − x̄_c) / √Var(x̂_μ − x̄_c),   Var(x̂_μ − x̄_c) = (e_μ − R_c)ᵀ Σ_y (e_μ − R_c),

the variance of the difference itself, with every correlation: between the inputs (shared
sources), between x̂_μ and x̄_c (x̂_μ is one of the data x̄_c is made of), and within α. For a
quadratic χ² the combination is the generalised least-squares estimate of the model, and
Gauss–Markov gives Cov(x̂_μ, x̄_c) = Var(x̄_c), so that

    Var(x̂_μ − x̄_c) = Var(x̂_μ) − σ²(x̄_c),   Var(x̂_μ) = [M⁻¹ + U(1+D)⁻¹(D + C_αα)(1+D)⁻¹Uᵀ]_μμ,

exactly: σ²_in − σ²_comb holds when σ²_in is the input's variance *under the combination's
model* — its statistical part, plus its sources with their data constraint D and the
correlation C_αα the combination assumes between them (the measurement's own total
uncertainty when those are uncorrelated) — and when x̂_μ measures x̄_c itself. This is BLUE's
pull (method.md §4) for orthogonal Neyman inputs. Both the general form and this identity are
checked in the tests against computations written there.

**Leave-one-out.** x̄^(−α) is the combination without measurement α: its data terms removed,
its sources dropped with their correlation assumptions (for Gaussian priors this is
marginalising them, so the remaining sources keep their assumed correlations). Its shift
Δ = x̄^(−α) − x̄ has, under the nominal model,

    Var(Δ_c) = (R_c^(−α) − R_c)ᵀ Σ_y (R_c^(−α) − R_c),

and for a quadratic χ² (x̄ efficient, x̄^(−α) unbiased on a subset of the data)
Var(Δ) = V^(−α) − V exactly: the significance of a shift is Δ_c / √(σ²_c(−α) − σ²_c). A value
only α measures is reported as not measured without it; the others are still computed. The
likelihood-ratio statistic χ²_min − χ²_min^(−α) tests α against the rest (χ²(Δndf) for a
quadratic χ²).

**χ² contributions.** χ²_min = Σ_α χ²_α(θ̂) + λ̂ᵀC⁻¹λ̂ splits by measurement into its data term
χ²_α and its sources' share of the prior, λ_i (C⁺λ)_i per source (half of each cross term of
correlated sources goes to either side); see :class:`~.result.Contribution`.

**Scale factor.** S = √(χ²_min/ndf). PDG (Review of Particle Physics, Introduction,
"Averaging procedures"): when S > 1 every input uncertainty is multiplied by S. hepcombine
applies one S to the whole combination — a multi-value or differential combination is one fit
with one χ²_min, and its bins share sources, so there is no per-value χ² to take a per-value S
from: every statistical covariance is multiplied by S², every shift by S and every fitted
source value divided by S (so the data constraints D keep their meaning). For Gaussian
statistics with absolute, relative (piecewise-linear) and log-normal sources (their factor κ
becomes κ^S) this is exactly the χ² divided by S²: the values do not move, the covariance of the
combined values is multiplied by S² (correlations unchanged) and the profile intervals are those
at Δχ² = S². PDG's further rule of computing S from the inputs with δx_i < 3√N δx̄ only is not
applied: it is defined for independent inputs of one quantity.

**Pseudo-experiments.** With ``toys=N`` every statistic is recomputed on N pseudo-experiments
drawn from the nominal combination's own model (:mod:`hepcombine.toys.model`: combined values
at their nominal values, sources from their priors) and its p-value is the fraction of
pseudo-experiments at least as extreme; the look-elsewhere-corrected test of the pulls is that
of the largest |pull|. Runs in-process or on Dask through :func:`hepcombine.execution.run_chunks`.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..chi2 import CombinedChi2
from ..exceptions import HepCombineError, InvalidArgument, InvalidMeasurement, UnknownName
from ..names import Ref, did_you_mean, some_names
from ..result import NamedMatrix
from .linear import (
    Layout,
    constraint_shares,
    data_covariance,
    layout,
    response,
)
from .result import (
    NOT_AFFECTED,
    NOT_MEASURED,
    OK,
    CompatibilityResult,
    Contribution,
    InputPull,
    LeaveOneOut,
)

if TYPE_CHECKING:
    from ..combiner import Combiner
    from ..result import CombinationResult
    from ..solver.contours import Profile
    from ..toys.model import PseudoExperiment

__all__ = ["combiner_without", "scaled_combiner"]

log = logging.getLogger(__name__)

Array = NDArray[np.float64]

#: A variance below this fraction of the variances it is made of counts as zero.
_ZERO_VARIANCE = 1e-10
NOTHING_LEFT = "nothing left to combine"
NOTHING_MEASURED = "no combined value is measured without it"


# --------------------------------------------------------------------------- combiners
def combiner_without(combiner: Combiner, measurements: Iterable[str]) -> Combiner:
    """The same combination without ``measurements``: their estimates and sources removed,
    the correlation assumptions involving their sources dropped, combined values that only they
    measure dropped; everything else (χ² definition, asymmetry, groups, repair, minimiser) as
    in ``combiner``.

    Raises
    ------
    UnknownName
        A name is not a measurement of the combination.
    InvalidMeasurement
        No measurement, or no combined value, would be left.
    """
    from ..combiner import Combiner

    drop = set(_known_measurements(combiner, measurements))
    keep = {m: meas for m, meas in combiner.measurements.items() if m not in drop}
    if not keep:
        raise InvalidMeasurement(f"without {sorted(drop)} no measurement is left to combine")
    names = combiner._names
    param = np.asarray(combiner._param_of_estimate)
    observables: dict[str, list[tuple[str, str]]] = {o: [] for o in combiner.observables}
    for i, (m, e) in enumerate(names.estimates):
        if m not in drop and param[i] < len(combiner.observables):
            observables[combiner.observables[param[i]]].append((m, e))
    observables = {o: refs for o, refs in observables.items() if refs}
    if not observables:
        raise InvalidMeasurement(
            f"without {sorted(drop)} no combined value is measured (the rest are spectators only)"
        )
    sources = names.sources
    correlations: dict[tuple[Ref, Ref], float] = {
        (sources[i], sources[j]): rho
        for (i, j), rho in combiner.correlations.items()
        if sources[i][0] not in drop and sources[j][0] not in drop
    }
    groups: dict[str, list[tuple[str, str]]] = {}
    for g, idx in combiner.groups.items():
        members = [sources[i] for i in idx if sources[i][0] not in drop]
        if members:
            groups[g] = members
    options = combiner.options()
    # errors on errors: an entry whose sources all belong to dropped measurements goes; the
    # others name the same kept sources again (a pattern or bare name matches what is left)
    options["errors_on_errors"] = {
        ref: value
        for (ref, value), (_, idx, _) in zip(
            combiner.errors_on_errors.items(), combiner._eoe, strict=True
        )
        if any(sources[i][0] not in drop for i in idx)
    }
    return Combiner(keep, observables, correlations, groups=groups, **options)


def _known_measurements(combiner: Combiner, names: Iterable[str]) -> list[str]:
    known = list(combiner.measurements)
    out = []
    for n in names:
        if not isinstance(n, str):
            raise InvalidArgument(f"measurements are named by strings, not {n!r}")
        if n not in combiner.measurements:
            raise UnknownName(
                f"{n!r} is not a measurement of this combination{did_you_mean(n, known)}; "
                f"measurements are {some_names(known)}"
            )
        if n not in out:
            out.append(n)
    return out


def _scaled_measurement(meas: Any, s: float) -> Any:
    """Every uncertainty of ``meas`` multiplied by ``s`` (module docstring)."""
    up = np.array(meas.shifts_up) * s
    down = np.array(meas.shifts_down) * s
    if meas.lognormal:
        x = np.asarray(meas.estimates)[:, None]
        cols = [j for j, n in enumerate(meas.source_names) if n in meas.lognormal]
        for arr, orig in ((up, meas.shifts_up), (down, meas.shifts_down)):
            o = np.asarray(orig)[:, cols]
            # κ → κ^s (exactly the χ² divided by s²); zero shifts stay zero
            arr[:, cols] = np.where(o != 0.0, x * (np.power(1.0 + o / x, s) - 1.0), 0.0)
    return meas._replace(
        stat_information=np.asarray(meas.stat_information) / (s * s),
        shifts_up=up,
        shifts_down=down,
        nuisance_values=np.asarray(meas.nuisance_values) / s,
    )


def scaled_combiner(combiner: Combiner, factor: float) -> Combiner:
    """The same combination with every input uncertainty multiplied by ``factor`` (the PDG
    scale factor; module docstring): statistical covariances × factor², shifts × factor
    (log-normal factors κ → κ^factor), fitted source values ÷ factor."""
    s = float(factor)
    if not (math.isfinite(s) and s > 0):
        raise InvalidArgument(f"the scale factor must be a positive number, not {factor!r}")
    new = copy.copy(combiner)
    new.measurements = {
        m: _scaled_measurement(meas, s) for m, meas in combiner.measurements.items()
    }
    return new


# --------------------------------------------------------------------------- set-up
@dataclass(frozen=True, eq=False)
class Setup:
    """A combination and what its diagnostics need, built once: the inputs (estimates that
    measure a combined value), and per measurement left out its combiner or why there is none.
    :meth:`with_data` gives the same set-up for a pseudo-experiment."""

    combiner: Combiner
    leave_out: tuple[str, ...]
    subs: Mapping[str, Combiner | str]
    inputs: tuple[tuple[int, int, int, str, str], ...] = field(init=False)

    def __post_init__(self) -> None:
        param = np.asarray(self.combiner._param_of_estimate)
        n_obs = len(self.combiner.observables)
        inputs = []
        i = 0
        for k, (m, meas) in enumerate(self.combiner.measurements.items()):
            for j, e in enumerate(meas.estimate_names):
                if param[i] < n_obs:
                    inputs.append((k, j, int(param[i]), m, e))
                i += 1
        object.__setattr__(self, "inputs", tuple(inputs))

    @classmethod
    def of(cls, combiner: Combiner, leave_out: Sequence[str] | None) -> Setup:
        names = (
            list(combiner.measurements)
            if leave_out is None
            else _known_measurements(combiner, leave_out)
        )
        subs: dict[str, Combiner | str] = {}
        for m in names:
            if len(combiner.measurements) == 1:
                subs[m] = NOTHING_LEFT
                continue
            try:
                subs[m] = combiner_without(combiner, [m])
            except InvalidMeasurement:
                subs[m] = NOTHING_MEASURED
        return cls(combiner, tuple(names), subs)

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(f"{m}:{e}" for *_, m, e in self.inputs)

    def with_data(self, pseudo: PseudoExperiment, stat: bool) -> Setup:
        """The set-up of a pseudo-experiment's data (``stat``: the pseudo-measurements report
        their own statistical information)."""
        info = pseudo.stat_information if stat else None

        def part(d: Mapping[str, Any] | None, keep: Mapping[str, Any]) -> Any:
            return None if d is None else {m: v for m, v in d.items() if m in keep}

        comb = self.combiner.with_estimates(pseudo.estimates, pseudo.nuisance_values, info)
        subs: dict[str, Combiner | str] = {}
        for m, sub in self.subs.items():
            if isinstance(sub, str):
                subs[m] = sub
                continue
            keep = sub.measurements
            subs[m] = sub.with_estimates(
                part(pseudo.estimates, keep),
                part(pseudo.nuisance_values, keep),
                part(info, keep),
            )
        return Setup(comb, self.leave_out, subs)


# --------------------------------------------------------------------------- one diagnosis
@dataclass(frozen=True, eq=False)
class _Sub:
    """The combination without one measurement, in arrays over the nominal observables."""

    status: str
    values: Array
    errors: Array
    shifts: Array
    shift_errors: Array
    value_status: tuple[str, ...]
    chi2: float
    ndf: int
    shift_chi2: float
    shift_ndf: int


@dataclass(frozen=True, eq=False)
class Diagnosis:
    """Every statistic of one data set (the data or a pseudo-experiment), in arrays:
    per input (the set-up's order) ``x_hat``, ``difference``, ``error``, ``input_error``, ``pull``; per
    measurement ``data`` and ``constraints``; per measurement left out a :class:`_Sub`."""

    result: CombinationResult
    x_hat: Array
    difference: Array
    error: Array
    input_error: Array
    pull: Array
    pull_cov: Array | None
    data: Array
    constraints: Array
    subs: Mapping[str, _Sub]
    notes: tuple[str, ...]

    @property
    def chi2(self) -> float:
        return float(self.result.chi2)

    @property
    def max_pull(self) -> float:
        finite = np.abs(self.pull[np.isfinite(self.pull)])
        return float(finite.max()) if finite.size else math.nan


def profile(result: CombinationResult) -> Profile:
    prof = result._profile
    if prof is None:
        raise InvalidArgument(
            "compatibility diagnostics need a result made by Combiner.combine (it carries the χ² "
            "and its minimum)"
        )
    return prof


def _embedded_response(
    sub_result: CombinationResult, setup: Setup, sub: Combiner, full: Layout
) -> Array:
    """The sub-combination's response of the nominal observables to the nominal data: rows
    in the order of the nominal observables (zero for values it does not measure), columns in
    the nominal layout ``full`` (zero for the measurement left out)."""
    prof = profile(sub_result)
    r_sub = response(prof.model, prof.solution)
    sub_lay = layout(prof.model)
    order = list(setup.combiner.measurements)
    out = np.zeros((len(setup.combiner.observables), full.size))
    rows = [setup.combiner.observables.index(o) for o in sub.observables]
    for (soff, n_e, n_s), m in zip(sub_lay.blocks, sub.measurements, strict=True):
        off = full.blocks[order.index(m)][0]
        out[rows, off : off + n_e + n_s] = r_sub[: len(sub.observables), soff : soff + n_e + n_s]
    return out


def _data_terms(model: CombinedChi2, theta: Array) -> Array:
    """χ²_α(θ) of every measurement block: its χ² alone minus the prior it is evaluated with."""
    n_p = model.n_params
    eta = theta[n_p:]
    prior = float(eta @ eta)
    out = []
    for b in model.blocks:
        alone = CombinedChi2([b], n_p, model.L, pearson=model.pearson, asymmetry=model.asymmetry)
        out.append(alone(theta) - prior)
    return np.array(out)


def _constraint_shares(model: CombinedChi2, theta: Array) -> Array:
    """λ_i (C⁺λ)_i per source at θ, summed per measurement block (they add up to ηᵀη)."""
    return constraint_shares(model.L, theta[model.n_params :], [b.src for b in model.blocks])


def diagnose(
    setup: Setup,
    result: CombinationResult | None = None,
    *,
    correlation: bool = True,
) -> Diagnosis:
    """Every statistic of the set-up's data (``result``: its nominal combination, if already
    computed; ``correlation``: also the covariance of the pulls)."""
    comb = setup.combiner
    if result is None:
        result = comb.combine(intervals=False, decompositions=False)
    prof = profile(result)
    model, sol = prof.model, prof.solution
    theta = sol.theta
    lay = layout(model)
    obs = comb.observables
    values = np.array([result.values[o] for o in obs])
    n_in = len(setup.inputs)
    x_hat = np.array([float(comb.measurements[m].estimates[j]) for (_, j, _, m, _) in setup.inputs])
    par = np.array([c for (_, _, c, _, _) in setup.inputs], dtype=np.intp)
    difference = x_hat - values[par]
    notes: list[str] = []
    pull_cov = None
    R = response(model, sol)
    cov = data_covariance(model, sol)
    for m, neg in zip(comb.measurements, cov.negative, strict=True):
        if neg < 0:
            notes.append(
                f"measurement {m!r}: its source information D has the negative eigenvalue "
                f"{neg:.3g} (its Hessian leaves less than the unit prior on some sources); the "
                "variances treat that direction as unconstrained by its data"
            )
    rows = np.zeros((n_in, lay.size))
    at = np.array([lay.estimate(k, j) for (k, j, *_rest) in setup.inputs], dtype=np.intp)
    rows[np.arange(n_in), at] = 1.0
    input_var = cov.variance(rows) if n_in else np.zeros(0)
    rows -= R[par]
    if correlation and n_in:
        pull_cov = cov.covariance(rows)
        var = np.diag(pull_cov).copy()
    else:
        var = cov.variance(rows) if n_in else np.zeros(0)
    error = np.sqrt(np.clip(var, 0.0, None))
    input_error = np.sqrt(np.clip(input_var, 0.0, None))
    ok = error > math.sqrt(_ZERO_VARIANCE) * np.maximum(input_error, 1e-300)
    pull = np.full(n_in, math.nan)
    pull[ok] = difference[ok] / error[ok]

    data = _data_terms(model, theta)
    constraints = _constraint_shares(model, theta)

    subs: dict[str, _Sub] = {}
    n_obs = len(obs)
    nominal_var = np.array([result.errors[o] ** 2 for o in obs])
    nan_ = math.nan
    for m in setup.leave_out:
        sub = setup.subs[m]
        nan = np.full(n_obs, math.nan)
        if isinstance(sub, str):
            subs[m] = _Sub(sub, nan, nan, nan, nan, (NOT_MEASURED,) * n_obs, nan_, 0, nan_, 0)
            continue
        try:
            sub_res = sub.combine(intervals=False, decompositions=False)
        except HepCombineError as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            subs[m] = _Sub(
                f"failed: {reason}", nan, nan, nan, nan, ("failed",) * n_obs, nan_, 0, nan_, 0
            )
            continue
        measured = np.array([o in sub_res.values for o in obs])
        sv = np.array([sub_res.values.get(o, math.nan) for o in obs])
        se = np.array([sub_res.errors.get(o, math.nan) for o in obs])
        shifts = sv - values
        d_rows = _embedded_response(sub_res, setup, sub, lay) - R[:n_obs]
        d_rows[~measured] = 0.0
        s_cov = cov.covariance(d_rows)
        shift_err = np.sqrt(np.clip(np.diag(s_cov), 0.0, None))
        affected = shift_err > math.sqrt(_ZERO_VARIANCE) * np.sqrt(nominal_var)
        status = tuple(
            NOT_MEASURED if not measured[c] else (OK if affected[c] else NOT_AFFECTED)
            for c in range(n_obs)
        )
        good = np.array([s == OK for s in status])
        shift_chi2, shift_ndf = math.nan, 0
        if good.any():
            shift_chi2, shift_ndf = _joint_chi2(shifts[good], s_cov[np.ix_(good, good)])
        subs[m] = _Sub(
            OK,
            sv,
            se,
            shifts,
            np.where(measured, shift_err, math.nan),
            status,
            float(sub_res.chi2),
            int(sub_res.ndf),
            shift_chi2,
            shift_ndf,
        )
    return Diagnosis(
        result,
        x_hat,
        difference,
        error,
        input_error,
        pull,
        pull_cov,
        data,
        constraints,
        subs,
        tuple(notes),
    )


def _joint_chi2(delta: Array, cov: Array) -> tuple[float, int]:
    """Δᵀ cov⁺ Δ over the directions where cov is not zero, and their number."""
    w, v = np.linalg.eigh(0.5 * (cov + cov.T))
    keep = w > _ZERO_VARIANCE * max(float(w.max(initial=0.0)), 1e-300)
    proj = v[:, keep].T @ delta
    return float(np.sum(proj * proj / w[keep])), int(keep.sum())


def build_result(
    setup: Setup,
    diagnosis: Diagnosis,
    s_factor: float,
    scaled: CombinationResult | None,
    calibration: Any,
    notes: Sequence[str],
) -> CompatibilityResult:
    """The :class:`CompatibilityResult` of a diagnosis."""
    from scipy.special import chdtrc
    from scipy.stats import norm

    comb = setup.combiner
    res = diagnosis.result
    obs = comb.observables
    pulls = {}
    for i, (_, _, c, m, e) in enumerate(setup.inputs):
        p = float(diagnosis.pull[i])
        ok = math.isfinite(p)
        pulls[f"{m}:{e}"] = InputPull(
            measurement=m,
            estimate=e,
            observable=obs[c],
            value=float(diagnosis.x_hat[i]),
            input_error=float(diagnosis.input_error[i]),
            combined=float(res.values[obs[c]]),
            difference=float(diagnosis.difference[i]),
            error=float(diagnosis.error[i]) if ok else 0.0,
            pull=p,
            pvalue=float(2.0 * norm.sf(abs(p))) if ok else math.nan,
            status=OK if ok else f"x̂ − x̄ has no variance: it alone determines {obs[c]!r}",
        )
    names = setup.input_names
    if diagnosis.pull_cov is not None:
        d = np.sqrt(np.clip(np.diag(diagnosis.pull_cov), 0.0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = diagnosis.pull_cov / np.outer(d, d)
        bad = ~np.isfinite(diagnosis.pull)
        corr[bad, :] = math.nan
        corr[:, bad] = math.nan
    else:
        corr = np.full((len(names), len(names)), math.nan)
    contributions = {
        m: Contribution(
            m,
            float(diagnosis.data[k]),
            float(diagnosis.constraints[k]),
            len(comb.measurements[m].estimate_names),
        )
        for k, m in enumerate(comb.measurements)
    }
    unattributed = float(res.chi2 - sum(c.chi2 for c in contributions.values()))
    loo = {}
    for m, s in diagnosis.subs.items():
        ok = s.status == OK
        delta = float(res.chi2 - s.chi2) if ok else math.nan
        d_ndf = int(res.ndf - s.ndf) if ok else 0
        loo[m] = LeaveOneOut(
            measurement=m,
            status=s.status,
            values=dict(zip(obs, s.values.tolist(), strict=True)),
            errors=dict(zip(obs, s.errors.tolist(), strict=True)),
            shifts=dict(zip(obs, s.shifts.tolist(), strict=True)),
            shift_errors=dict(zip(obs, s.shift_errors.tolist(), strict=True)),
            significance={
                o: (float(s.shifts[c] / s.shift_errors[c]) if s.value_status[c] == OK else math.nan)
                for c, o in enumerate(obs)
            },
            value_status=dict(zip(obs, s.value_status, strict=True)),
            chi2=float(s.chi2),
            ndf=int(s.ndf),
            delta_chi2=delta,
            delta_ndf=d_ndf,
            pvalue=float(chdtrc(d_ndf, max(delta, 0.0))) if ok and d_ndf > 0 else math.nan,
            shift_chi2=s.shift_chi2,
            shift_ndf=s.shift_ndf,
        )
    model = profile(res).model
    return CompatibilityResult(
        observables=tuple(obs),
        measurements=tuple(comb.measurements),
        combination=res,
        pulls=pulls,
        pull_correlation=NamedMatrix(names, corr),
        contributions=contributions,
        unattributed=unattributed,
        leave_one_out=loo,
        chi2=float(res.chi2),
        ndf=int(res.ndf),
        pvalue=float(res.pvalue),
        scale_factor=s_factor,
        scaled=scaled,
        toys=calibration,
        linearised=not model.is_quadratic,
        notes=tuple(notes),
    )


def __dir__() -> list[str]:
    return list(__all__)
