"""Statistics of pseudo-experiments: bias, pull width, coverage, χ²_min distribution, failures.

Per combined value x̄ with Hesse error σ of each successful pseudo-experiment and truth t:

* bias = (mean(x̄) − t)/σ₀ ± std(x̄)/(σ₀√n), in units of the nominal combination's
  uncertainty σ₀ (a fixed scale, as the Convino paper's Δx̄/σ);
* pull p = (x̄ − t)/σ with each pseudo-experiment's own σ: pull mean = mean(p) ± std(p)/√n,
  pull width = std(p) ± std(p)/√(2(n − 1)) (for a quadratic χ², σ = σ₀ and bias = pull mean);
* coverage = fraction of pseudo-experiments whose 68 % profile interval [low, high] contains
  t, over those with a valid interval, ± √(c(1 − c)/n) (binomial); expected 0.6827;
* χ²_min: mean ± std/√n (expected ndf) and the Kolmogorov–Smirnov p-value of its
  distribution against χ²(ndf);
* failures: the number of failed pseudo-experiments per reason (the error message).

With a second χ² definition (``compare=True``) the same pseudo-experiments recombined with it
are summarised the same way (``result.other``) and their difference per observable is
mean((x̄_other − x̄)/σ₀) ± its error, over pseudo-experiments where both succeeded.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["COVERAGE_68", "GaussianFit", "ToyResult", "fit_gaussian"]

#: probability content of ±1σ of a Gaussian
COVERAGE_68 = math.erf(1.0 / math.sqrt(2.0))

Array = NDArray[np.float64]


def _frozen(arrays: Mapping[str, NDArray[Any]]) -> Mapping[str, NDArray[Any]]:
    for a in arrays.values():
        a.setflags(write=False)
    return MappingProxyType(dict(arrays))


def _num(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None


@dataclass(frozen=True, eq=False, repr=False)
class ToyResult:
    """Pseudo-experiments of a combination and their statistics, keyed by observable name.

    Attributes
    ----------
    n: number of pseudo-experiments.
    seed: the seed (item i used child i of ``numpy.random.SeedSequence(seed)``).
    chi2_definition: ``"neyman"`` or ``"pearson"``: how the pseudo-experiments were combined.
    stat, nuisance: the statistical and nuisance models of the generation
        (:mod:`hepcombine.toys.model`).
    observables: the combined observables.
    truth: ``{observable: true value}``.
    ndf: degrees of freedom of the combination.
    values, errors, interval_low, interval_high: ``{observable: array of n}`` per
        pseudo-experiment (NaN where it failed; interval NaN where not valid).
    interval_valid: ``{observable: bool array}``: whether the profile interval is valid.
    chi2: χ²_min per pseudo-experiment (NaN where it failed).
    failed: whether each pseudo-experiment failed; ``reasons`` says why (``""`` if not).
    sigma: ``{observable: σ₀}``, the nominal combination's uncertainty (the unit of the bias).
    bias, bias_error: (mean(x̄) − truth)/σ₀ and its error.
    pull_mean, pull_mean_error: mean of the pulls (x̄ − truth)/σ (each toy's σ) and its error.
    pull_width, pull_width_error: standard deviation of the pulls and its error.
    coverage, coverage_error: coverage of the 68 % profile interval (binomial error), over
        ``n_intervals`` pseudo-experiments with a valid interval (NaN if none).
    chi2_mean, chi2_mean_error, chi2_ks_pvalue: the χ²_min distribution against χ²(ndf).
    failures: ``{reason: count}``.
    other: the same pseudo-experiments combined with the other χ² definition (or None).
    difference: ``{observable: (mean, error)}`` of (x̄_other − x̄)/σ₀ (empty without ``other``).
    output: the run directory, if the run was written to one.
    """

    n: int
    seed: int
    chi2_definition: str
    stat: str
    nuisance: str
    observables: tuple[str, ...]
    truth: Mapping[str, float]
    ndf: int
    values: Mapping[str, Array]
    errors: Mapping[str, Array]
    interval_low: Mapping[str, Array]
    interval_high: Mapping[str, Array]
    interval_valid: Mapping[str, NDArray[np.bool_]]
    chi2: Array
    failed: NDArray[np.bool_]
    reasons: tuple[str, ...]
    sigma: Mapping[str, float]
    bias: Mapping[str, float]
    bias_error: Mapping[str, float]
    pull_mean: Mapping[str, float]
    pull_mean_error: Mapping[str, float]
    pull_width: Mapping[str, float]
    pull_width_error: Mapping[str, float]
    coverage: Mapping[str, float]
    coverage_error: Mapping[str, float]
    n_intervals: Mapping[str, int]
    chi2_mean: float
    chi2_mean_error: float
    chi2_ks_pvalue: float
    failures: Mapping[str, int]
    other: ToyResult | None = None
    difference: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    output: str | None = None

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_arrays(
        cls,
        arrays: Mapping[str, NDArray[Any]],
        meta: Mapping[str, Any],
        *,
        seed: int,
        output: str | None = None,
        prefix: str = "",
    ) -> ToyResult:
        """Summarise the per-pseudo-experiment ``arrays`` of a run (fields as written by
        :class:`~hepcombine.toys.study.ToyTask`; ``prefix="other_"`` for the second χ²
        definition). ``meta`` is the task's description."""
        from scipy import stats

        obs = tuple(meta["observables"])
        truth_v = np.asarray(meta["truth"], dtype=float)
        ndf = int(meta["ndf"])
        failed = np.asarray(arrays[prefix + "failed"], dtype=bool)
        reasons = tuple(str(r) for r in arrays[prefix + "reason"])
        n = len(failed)

        def cols(name: str) -> NDArray[Any]:
            return np.asarray(arrays[prefix + name])

        values, errors, low, high = cols("values"), cols("errors"), cols("low"), cols("high")
        valid = cols("interval").astype(bool) & ~failed[:, None]
        ok = ~failed
        n_ok = int(ok.sum())
        sigma = np.asarray(meta["sigma"], dtype=float)
        pulls = (values[ok] - truth_v) / errors[ok]
        shift = (values[ok] - truth_v) / sigma
        nan = np.full(len(obs), np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            bias = shift.mean(axis=0) if n_ok else nan
            pull_mean = pulls.mean(axis=0) if n_ok else nan
            if n_ok >= 2:
                bias_err = shift.std(axis=0, ddof=1) / math.sqrt(n_ok)
                width = pulls.std(axis=0, ddof=1)
                pull_err = width / math.sqrt(n_ok)
                width_err = width / math.sqrt(2.0 * (n_ok - 1))
            else:
                bias_err = width = pull_err = width_err = nan
            inside = (low <= truth_v) & (truth_v <= high) & valid
            n_iv = valid.sum(axis=0)
            cover = np.where(n_iv > 0, inside.sum(axis=0) / np.maximum(n_iv, 1), np.nan)
            cover_err = np.sqrt(cover * (1.0 - cover) / np.maximum(n_iv, 1))
        chi2 = cols("chi2").astype(float)
        good = chi2[ok]
        chi2_mean = float(good.mean()) if n_ok else math.nan
        chi2_err = float(good.std(ddof=1) / math.sqrt(n_ok)) if n_ok >= 2 else math.nan
        ks = (
            float(stats.kstest(good, "chi2", args=(ndf,)).pvalue)
            if ndf > 0 and n_ok >= 1
            else math.nan
        )
        per_obs = {
            "sigma": sigma,
            "bias": bias,
            "bias_error": bias_err,
            "pull_mean": pull_mean,
            "pull_mean_error": pull_err,
            "pull_width": width,
            "pull_width_error": width_err,
            "coverage": cover,
            "coverage_error": cover_err,
        }
        other = None
        difference: dict[str, tuple[float, float]] = {}
        if not prefix and "other_failed" in arrays:
            other = cls.from_arrays(
                arrays, {**meta, "chi2": meta["other"]}, seed=seed, output=output, prefix="other_"
            )
            both = ok & ~other.failed
            d = (np.asarray(arrays["other_values"])[both] - values[both]) / sigma
            m = int(both.sum())
            for k, o in enumerate(obs):
                mean = float(d[:, k].mean()) if m else math.nan
                err = float(d[:, k].std(ddof=1) / math.sqrt(m)) if m >= 2 else math.nan
                difference[o] = (mean, err)

        def by_obs(a: NDArray[Any]) -> dict[str, NDArray[Any]]:
            return {o: np.array(a[:, k]) for k, o in enumerate(obs)}

        return cls(
            n=n,
            seed=int(seed),
            chi2_definition=str(meta["chi2"]),
            stat=str(meta["stat"]),
            nuisance=str(meta["nuisance"]),
            observables=obs,
            truth=MappingProxyType({o: float(t) for o, t in zip(obs, truth_v, strict=True)}),
            ndf=ndf,
            values=_frozen(by_obs(values)),
            errors=_frozen(by_obs(errors)),
            interval_low=_frozen(by_obs(low)),
            interval_high=_frozen(by_obs(high)),
            interval_valid=_frozen(by_obs(valid)),
            chi2=_frozen({"chi2": chi2})["chi2"],
            failed=_frozen({"failed": failed})["failed"],
            reasons=reasons,
            **{
                k: MappingProxyType({o: float(v[i]) for i, o in enumerate(obs)})
                for k, v in per_obs.items()
            },
            n_intervals=MappingProxyType({o: int(n_iv[i]) for i, o in enumerate(obs)}),
            chi2_mean=chi2_mean,
            chi2_mean_error=chi2_err,
            chi2_ks_pvalue=ks,
            failures=MappingProxyType(
                dict(Counter(r for r, f in zip(reasons, failed, strict=True) if f))
            ),
            other=other,
            difference=MappingProxyType(difference),
            output=output,
        )

    # ------------------------------------------------------------------ access
    @property
    def n_failed(self) -> int:
        """Number of failed pseudo-experiments."""
        return int(self.failed.sum())

    def pulls(self, observable: str | None = None) -> Array:
        """(x̄ − truth)/σ of the successful pseudo-experiments, of one observable or of all
        (pooled, observable after observable)."""
        names = self.observables if observable is None else (observable,)
        ok = ~self.failed
        out = []
        for o in names:
            if o not in self.values:
                from ..exceptions import UnknownName

                raise UnknownName(
                    f"{o!r} is not a combined observable; observables are {list(self.observables)[:10]}"
                )
            out.append((self.values[o][ok] - self.truth[o]) / self.errors[o][ok])
        return np.concatenate(out) if out else np.zeros(0)

    # ------------------------------------------------------------------ output
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (statistics, not the per-pseudo-experiment arrays; NaN → null)."""
        out: dict[str, Any] = {
            "n": self.n,
            "seed": self.seed,
            "chi2_definition": self.chi2_definition,
            "stat": self.stat,
            "nuisance": self.nuisance,
            "ndf": self.ndf,
            "observables": {
                o: {
                    "truth": _num(self.truth[o]),
                    "sigma": _num(self.sigma[o]),
                    "bias": _num(self.bias[o]),
                    "bias_error": _num(self.bias_error[o]),
                    "pull_mean": _num(self.pull_mean[o]),
                    "pull_mean_error": _num(self.pull_mean_error[o]),
                    "pull_width": _num(self.pull_width[o]),
                    "pull_width_error": _num(self.pull_width_error[o]),
                    "coverage": _num(self.coverage[o]),
                    "coverage_error": _num(self.coverage_error[o]),
                    "n_intervals": self.n_intervals[o],
                }
                for o in self.observables
            },
            "chi2": {
                "mean": _num(self.chi2_mean),
                "mean_error": _num(self.chi2_mean_error),
                "ks_pvalue": _num(self.chi2_ks_pvalue),
            },
            "failed": {"count": self.n_failed, "reasons": dict(self.failures)},
            "other": self.other.to_dict() if self.other is not None else None,
            "difference": {o: [_num(m), _num(e)] for o, (m, e) in self.difference.items()},
            "output": self.output,
        }
        return out

    def summary(self, max_rows: int = 20) -> str:
        """A plain-text table of the statistics (at most ``max_rows`` observables)."""
        lines = [
            f"hepcombine pseudo-experiments: {self.n} toys (seed {self.seed}), "
            f"{self.chi2_definition} χ², stat {self.stat!r}, nuisance {self.nuisance!r}, "
            f"{self.n_failed} failed"
        ]
        lines.extend(self._table(max_rows))
        lines.append(
            f"  χ²_min: mean {self.chi2_mean:.4g} ± {self.chi2_mean_error:.2g} for ndf {self.ndf}; "
            f"KS p-value vs χ²({self.ndf}) = {self.chi2_ks_pvalue:.3g}"
        )
        for reason, count in sorted(self.failures.items(), key=lambda kv: -kv[1])[:5]:
            lines.append(f"  failed {count}×: {reason}")
        if self.other is not None:
            lines.append(f"  the same toys combined with the {self.other.chi2_definition} χ²:")
            lines.extend("  " + line for line in self.other._table(max_rows))
            lines.append(
                f"    χ²_min: mean {self.other.chi2_mean:.4g} ± {self.other.chi2_mean_error:.2g}; "
                f"KS p-value {self.other.chi2_ks_pvalue:.3g}; {self.other.n_failed} failed"
            )
            shown = list(self.difference.items())[:max_rows]
            diffs = ", ".join(f"{o} {m:+.3f} ± {e:.3f}" for o, (m, e) in shown)
            lines.append(
                f"  ({self.other.chi2_definition} − {self.chi2_definition})/σ₀: {diffs}"
                + (" …" if len(self.difference) > max_rows else "")
            )
        return "\n".join(lines)

    def _table(self, max_rows: int) -> list[str]:
        width = max([len(o) for o in self.observables] + [10])
        rows = [
            f"  {'observable':<{width}}  {'truth':>11}  {'bias (σ₀)':>16}  {'pull mean':>16}  "
            f"{'pull width':>16}  {'coverage (0.683)':>16}"
        ]
        for o in self.observables[:max_rows]:
            rows.append(
                f"  {o:<{width}}  {self.truth[o]:>11.5g}  "
                f"{_pm(self.bias[o], self.bias_error[o], '+')}  "
                f"{_pm(self.pull_mean[o], self.pull_mean_error[o], '+')}  "
                f"{_pm(self.pull_width[o], self.pull_width_error[o])}  "
                f"{_pm(self.coverage[o], self.coverage_error[o], none='not computed')}"
            )
        if len(self.observables) > max_rows:
            rows.append(f"  … {len(self.observables) - max_rows} more observables (to_dict())")
        return rows

    def __repr__(self) -> str:
        return self.summary()


def _pm(value: float, error: float, sign: str = "", none: str = "—") -> str:
    """``value ± error`` in a 16-character column of the summary table (``none`` if the value
    is undefined: no interval computed, fewer than two successful pseudo-experiments)."""
    if not math.isfinite(value):
        return f"{none:>16}"
    return f"{value:>{sign}8.3f} ± {error:<5.3f}"


# --------------------------------------------------------------------------- pull fit
@dataclass(frozen=True)
class GaussianFit:
    """A Gaussian fitted to a distribution of pulls (binned maximum likelihood, iminuit)."""

    mean: float
    mean_error: float
    sigma: float
    sigma_error: float
    valid: bool


def fit_gaussian(values: Array, edges: Array) -> GaussianFit:
    """Fit N(μ, σ) to ``values`` histogrammed in ``edges`` (:class:`iminuit.cost.BinnedNLL`
    with the normal cdf truncated to the histogram's range, so empty bins, the bin width and
    values outside the range are treated exactly)."""
    from iminuit import Minuit
    from iminuit.cost import BinnedNLL
    from scipy.stats import norm

    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size < 2:
        return GaussianFit(math.nan, math.nan, math.nan, math.nan, False)
    counts, _ = np.histogram(values, bins=edges)

    lo, hi = float(edges[0]), float(edges[-1])

    def cdf(x: Array, mu: float, sigma: float) -> Array:
        # normalised to the histogram's range, as BinnedNLL requires
        a, b = norm.cdf([lo, hi], mu, sigma)
        return (norm.cdf(x, mu, sigma) - a) / max(b - a, 1e-300)

    m = Minuit(BinnedNLL(counts, edges, cdf), mu=float(values.mean()), sigma=float(values.std()))
    m.limits["sigma"] = (1e-6 * float(values.std()) + 1e-300, None)
    m.migrad()
    return GaussianFit(
        float(m.values["mu"]),
        float(m.errors["mu"]),
        float(m.values["sigma"]),
        float(m.errors["sigma"]),
        bool(m.valid),
    )


def __dir__() -> list[str]:
    return list(__all__)
