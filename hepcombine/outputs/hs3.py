"""A combination as a statistical model in HS3 (the HEP Statistics Serialization Standard).

:func:`hs3_model` writes the likelihood of a combination as an HS3 workspace (JSON), which
HS3 readers (pyhs3, ROOT's RooFit JSON interface) evaluate. It holds two likelihoods, each with
an analysis of the same name:

``gaussian``
    The combined values as a multivariate normal: parameters ``μ`` (the true combined values),
    data the combined values ``x̂`` with their covariance ``V``:
    −2 ln L(μ) = (x̂ − μ)ᵀ V⁻¹ (x̂ − μ) + const. Exact for a quadratic χ² (Neyman, absolute,
    symmetric sources), where it is the profile χ² of the combination; the Gaussian
    approximation at the minimum otherwise (flagged).
``full``
    The χ² of the combination itself (method.md §2), with the combined values, spectators and
    the decorrelated sources η (λ = L η) as parameters: per measurement the prediction of each
    estimate (relative, asymmetric and log-normal sources, and λ̂ as the combiner defines
    them), its statistical covariance, and the Gaussian constraints of the sources (the unit
    prior of η, the measurements' own constraints D and their pulls λ̂). −2 ln L(θ) − χ²(θ) is
    a constant: differences of −2 ln L are differences of the combination's χ².

Encoding (only HS3 standard elements: ``gaussian_dist``, ``generic_function``, ``unbinned``
data): a correlated Gaussian is written in its whitened form. With M = Rᵀ R (Cholesky), the
χ² term (x̂ − X(θ))ᵀ M (x̂ − X(θ)) is Σ_k (t_k − m_k(θ))² with the observables t = R x̂ and the
functions m_k(θ) = (R X(θ))_k, each a ``gaussian_dist`` of unit width; the observables' range
is t_k ± 15 (their unit is their standard deviation), which holds the Gaussian to 10⁻⁵⁰ as long
as |t_k − m_k| < 5. Names are made identifiers (``ATLAS:lumi`` → ``ATLAS_lumi``); ``misc``
holds the original names, the χ² definition and the flags.

What HS3 cannot express, and is flagged (``HS3Model.flags``, ``misc.hepcombine.flags``) rather
than written wrongly:

* **Pearson χ²**: the statistical variance scales with the prediction. No HS3 distribution of
  the measured values has that log-likelihood (a Gaussian whose width depends on the
  parameters adds its normalisation, ln σ(θ)², to −2 ln L). The χ² is written exactly as a
  function of the parameters, with auxiliary observables fixed at 0 (z_k = (R r(θ))_k,
  r = √(x̂/X)(X − x̂)): −2 ln L reproduces the χ², but the model does not *generate* the measured
  values (sampling it gives no pseudo-measurements). Its continuation for predictions of the
  opposite sign (X/x̂ ≤ 10⁻⁶, where the combiner switches to the Neyman form) is not written:
  the expression holds for X > 0.
* **Gaussian approximation**: for a combination whose χ² is not quadratic the ``gaussian``
  likelihood is an approximation (its covariance is the Hesse matrix at the minimum; the
  profile intervals are asymmetric); the ``full`` likelihood is exact.
* Convino's asymmetric interpolation has a kink at λ = λ̂, written exactly with ``abs``; readers
  that differentiate the expression get one-sided derivatives there.
* **Errors on errors** (the gamma variance model, method.md §2c): the constraint
  (N + 1/(2ε²)) ln(1 + 2ε²Q) of a group of sources is −2 ln of a multivariate Student-t with
  1/(2ε²) degrees of freedom, and HS3 has no such distribution (a ``generic_dist`` would be
  normalised numerically over its observables by readers, which a heavy-tailed density whose
  location moves with the parameters does not survive). Such a combination gets the
  ``gaussian`` likelihood only, flagged; ``full`` is not written.

A measurement whose own source constraints make the constraint matrix of η indefinite (a
Hessian input that does not include the unit priors, logged by
:meth:`~hepcombine.Measurement.from_hessian`) cannot be written as Gaussian constraints:
:class:`~hepcombine.exceptions.OutputError`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..exceptions import InvalidArgument, OutputError

if TYPE_CHECKING:
    from ..chi2 import CombinedChi2, MeasurementBlock
    from ..result import CombinationResult

__all__ = ["HS3Model", "hs3_model"]

FloatArray = NDArray[np.float64]
#: the observables' range in units of their standard deviation, around the observed value
RANGE = 15.0
#: Pearson: below this X/x̂ the combiner continues with the Neyman form (chi2.py)
_PEARSON_FLOOR = 1e-6


@dataclass(frozen=True)
class HS3Model:
    """An HS3 workspace of a combination.

    Attributes
    ----------
    workspace:
        The HS3 document (JSON-ready ``dict``).
    flags:
        What the file cannot express exactly (module docstring); empty when it is exact.
    parameters:
        ``{HS3 parameter name: name in the combination}`` (combined values, spectators,
        decorrelated sources ``η``).
    offset:
        ``χ²(θ) − (−2 ln L_full(θ))``, the same at every θ (so the ``full`` likelihood's
        −2 ln L plus ``offset`` is the χ²); NaN when there is no ``full`` likelihood.
    """

    workspace: dict[str, Any]
    flags: tuple[str, ...]
    parameters: dict[str, str]
    offset: float

    def to_json(self) -> str:
        """The workspace as JSON text."""
        return json.dumps(self.workspace, indent=1, allow_nan=False) + "\n"


def _identifier(name: str, used: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not base or base[0].isdigit():
        base = f"p_{base}"
    out, k = base, 2
    while out in used:
        out, k = f"{base}_{k}", k + 1
    used.add(out)
    return out


def _c(v: float) -> str:
    """A coefficient as expression text (in parentheses when negative)."""
    text = repr(float(v))
    return f"({text})" if text.startswith("-") or "e" in text else text


def _linear(coefficients: FloatArray, terms: Sequence[str], constant: float = 0.0) -> str:
    parts = [f"{_c(a)}*{t}" for a, t in zip(coefficients, terms, strict=True) if a != 0.0]
    if constant != 0.0 or not parts:
        parts.insert(0, _c(constant))
    return " + ".join(parts)


def _upper_factor(m: FloatArray, what: str) -> FloatArray:
    """R with m = Rᵀ R (R upper triangular)."""
    try:
        return np.asarray(np.linalg.cholesky(0.5 * (m + m.T)).T)
    except np.linalg.LinAlgError:
        raise OutputError(
            f"{what} is not positive definite; it cannot be written as Gaussians"
        ) from None


class _Writer:
    def __init__(self) -> None:
        self.used: set[str] = set()
        self.functions: list[dict[str, Any]] = []
        self.distributions: list[dict[str, Any]] = []
        self.data: list[dict[str, Any]] = []

    def name(self, text: str) -> str:
        return _identifier(text, self.used)

    def function(self, hint: str, expression: str) -> str:
        name = self.name(hint)
        self.functions.append({"name": name, "type": "generic_function", "expression": expression})
        return name

    def gaussian(self, hint: str, observed: float, mean: str) -> str:
        """A unit-width Gaussian of an observable ``observed`` around the function ``mean``;
        returns the distribution's name (its datum is ``<name>_data``)."""
        dist = self.name(hint)
        obs = self.name(f"obs_{hint}")
        data = self.name(f"{dist}_data")
        self.distributions.append(
            {"name": dist, "type": "gaussian_dist", "x": obs, "mean": mean, "sigma": 1.0}
        )
        self.data.append(
            {
                "name": data,
                "type": "unbinned",
                "entries": [[float(observed)]],
                "axes": [{"name": obs, "min": observed - RANGE, "max": observed + RANGE}],
            }
        )
        return dist

    def whitened(
        self, hint: str, info: FloatArray, observed: FloatArray, predictions: Sequence[str]
    ) -> list[str]:
        """Σ_k (t_k − m_k)² = (x̂ − X)ᵀ M (x̂ − X) for M = ``info``, X = ``predictions``."""
        r = _upper_factor(info, f"the statistical information of {hint}")
        t = r @ observed
        names = []
        for k in range(len(t)):
            mean = self.function(f"{hint}_m{k}", _linear(r[k], predictions))
            names.append(self.gaussian(f"{hint}_t{k}", float(t[k]), mean))
        return names


def _shift_expression(a_up: float, a_down: float, delta: str, asym: bool, asymmetry: str) -> str:
    """s(δ) as the combiner interpolates it (chi2.py): u·δ symmetric; Convino a δ + c |δ|;
    smooth a δ + c (δ² − max(|δ| − 1, 0)²), with a = (up − down)/2, c = (up + down)/2."""
    if not asym:
        return f"{_c(a_up)}*{delta}"
    a, c = 0.5 * (a_up - a_down), 0.5 * (a_up + a_down)
    if asymmetry == "convino":
        return f"({_c(a)}*{delta} + {_c(c)}*abs({delta}))"
    outside = f"((abs({delta}) - 1 + abs(abs({delta}) - 1))/2)"
    return f"({_c(a)}*{delta} + {_c(c)}*({delta}**2 - {outside}**2))"


def _prediction(block: MeasurementBlock, mu: int, x: str, delta: list[str], asymmetry: str) -> str:
    """X_μ(θ) of chi2.py: x̄ · Π_rel (1 − s/x̂) · exp(Σ_lognormal ℓ) − Σ_abs s − Σ_lin u δ."""
    factors = [x]
    subtract = []
    for j, i in enumerate(block.nl):
        s = _shift_expression(
            float(block.a_up[mu, j]),
            float(block.a_down[mu, j]),
            delta[i],
            bool(block.nl_asym[j]),
            asymmetry,
        )
        if block.a_up[mu, j] == 0.0 and block.a_down[mu, j] == 0.0:
            continue
        kind = int(block.kind[j])
        if kind == 1:  # relative
            factors.append(f"(1 - {s}/{_c(float(block.x_hat[mu]))})")
        elif kind == 2:  # log-normal: ℓ interpolated like s
            factors.append(f"exp({s})")
        else:
            subtract.append(s)
    lin = [(float(block.up[mu, i]), delta[i]) for i in block.lin if block.up[mu, i] != 0.0]
    text = "*".join(factors)
    for s in subtract:
        text += f" - {s}"
    for u, d in lin:
        text += f" - {_c(u)}*{d}"
    return text


def hs3_model(result: CombinationResult, *, name: str = "combination") -> HS3Model:
    """The HS3 workspace of a combination (module docstring).

    Parameters
    ----------
    result:
        A result of :meth:`Combiner.combine <hepcombine.Combiner.combine>` (it carries its χ²).
    name:
        Prefix of nothing but the metadata's description.

    Raises
    ------
    InvalidArgument
        If the result carries no χ² (it was not made by ``Combiner.combine``).
    OutputError
        If a constraint is not positive definite (module docstring).
    """
    profile = result._profile
    if profile is None:
        raise InvalidArgument("this result carries no χ² (it was not made by Combiner.combine)")
    model: CombinedChi2 = profile.model
    theta_hat = np.asarray(profile.solution.theta, dtype=float)
    w = _Writer()
    flags: list[str] = []
    parameters: dict[str, str] = {}
    # ------------------------------------------------------------ parameters
    x_names = []
    for n in profile.names:
        p = w.name(n)
        parameters[p] = n
        x_names.append(p)
    L = model.L
    eta_names = []
    for k in range(model.rank):
        col = np.flatnonzero(L[:, k] != 0.0)
        hint = profile.sources[col[0]] if col.size == 1 else f"eta{k}"
        p = w.name(f"eta_{hint}")
        parameters[p] = f"eta[{k}]" if col.size != 1 else f"eta[{k}] = {profile.sources[col[0]]}"
        eta_names.append(p)
    # λ_i = Σ_k L_ik η_k: the η itself when the row is one unit entry, else a function
    lam = []
    for i, src in enumerate(profile.sources):
        nz = np.flatnonzero(L[i] != 0.0)
        if nz.size == 1 and L[i, nz[0]] == 1.0:
            lam.append(eta_names[nz[0]])
        else:
            lam.append(w.function(f"lambda_{src}", _linear(L[i], eta_names)))
    # ------------------------------------------------------------ full: measurements
    full: list[str] = []
    pearson = model.pearson
    for b_index, block in enumerate(model.blocks):
        label = f"m{b_index}"
        delta = []
        for j, g in enumerate(block.src):
            lh = float(block.lam_hat[j])
            delta.append(lam[g] if lh == 0.0 else f"({lam[g]} - {_c(lh)})")
        preds = []
        for mu in range(len(block.x_hat)):
            if block.linear is None:
                x_mu = x_names[block.param[mu]]
            else:  # an estimate of a linear combination of combined values
                x_mu = f"({_linear(block.linear[mu], x_names)})"
            text = _prediction(block, mu, x_mu, delta, model.asymmetry)
            preds.append(w.function(f"{label}_X{mu}", text))
        if not pearson:
            full += w.whitened(label, block.M, block.x_hat, preds)
        else:
            r = _upper_factor(block.M, f"the statistical information of measurement {b_index}")
            resid = [
                w.function(
                    f"{label}_r{mu}",
                    f"sqrt({_c(float(block.x_hat[mu]))}/{p})*({p} - {_c(float(block.x_hat[mu]))})",
                )
                for mu, p in enumerate(preds)
            ]
            for k in range(len(resid)):
                z = w.function(f"{label}_z{k}", _linear(r[k], resid))
                full.append(w.gaussian(f"{label}_pearson{k}", 0.0, z))
    if pearson:
        flags.append(
            "Pearson chi2: the statistical variance scales with the prediction, which no HS3 "
            "distribution of the measured values expresses; the chi2 is written exactly as a "
            "function of the parameters with auxiliary observables fixed at 0, so -2 ln L "
            "reproduces it but the model does not generate pseudo-measurements"
        )
        flags.append(
            f"Pearson chi2: written for positive predictions only (the combiner continues with "
            f"the Neyman form where X/x_hat <= {_PEARSON_FLOOR:g})"
        )
    # ------------------------------------------------------------ full: source constraints
    n_lam = model.n_lambda
    D = np.zeros((n_lam, n_lam))
    lam_hat = np.zeros(n_lam)
    for block in model.blocks:
        D[np.ix_(block.src, block.src)] += block.D
        lam_hat[block.src] = block.lam_hat
    S = D + np.eye(n_lam)
    A = np.eye(model.rank) + L.T @ D @ L
    bvec = L.T @ S @ lam_hat
    try:
        eta0 = np.linalg.solve(A, bvec) if model.rank else np.zeros(0)
    except np.linalg.LinAlgError:
        raise OutputError(
            "the constraints of the sources are singular; they cannot be written"
        ) from None
    if model.rank:
        R = _upper_factor(A, "the constraint matrix of the sources (1 + Lᵀ D L)")
        g = R @ eta0
        for k in range(model.rank):
            if np.count_nonzero(R[k]) == 1 and R[k, k] == 1.0:
                mean = eta_names[k]
            else:
                mean = w.function(f"constraint_m{k}", _linear(R[k], eta_names))
            full.append(w.gaussian(f"constraint_{eta_names[k]}", float(g[k]), mean))
    # offset: χ² − (−2 ln L_full), the same at every θ. The data terms are equal; the source
    # part of the χ², Σ_α [δᵀDδ − 2λ̂ᵀδ − λ̂ᵀλ̂] + ηᵀη = ηᵀAη − 2bᵀη + λ̂ᵀSλ̂, is the constraint
    # terms (η − η₀)ᵀA(η − η₀) plus λ̂ᵀSλ̂ − bᵀη₀; each unit Gaussian adds ln 2π to −2 ln L.
    offset = float(lam_hat @ S @ lam_hat - bvec @ eta0) - len(full) * math.log(2 * math.pi)
    # ------------------------------------------------------------ gaussian: combined values
    obs = list(result.fitted_observables)  # not the reported linear quantities (totals)
    x_hat = np.array([result.values[o] for o in obs])
    info = np.asarray(np.linalg.inv(result.covariance.sub(obs).matrix), dtype=np.float64)
    mu_names = [x_names[profile.names.index(o)] for o in obs]
    gauss = w.whitened("combined", info, x_hat, mu_names)
    gvm = bool(model.constraints)
    if gvm:
        flags.append(
            "errors on errors (gamma variance model): the constraint "
            "(N + 1/(2 eps^2)) ln(1 + 2 eps^2 Q) of a group of sources is -2 ln of a "
            "multivariate Student-t with 1/(2 eps^2) degrees of freedom, for which HS3 has no "
            "distribution; the 'full' likelihood is not written, only the 'gaussian' "
            "approximation"
        )
    elif not model.is_quadratic:
        flags.append(
            "the 'gaussian' likelihood approximates a chi2 that is not quadratic (Hesse "
            "covariance at the minimum); the 'full' likelihood is exact"
        )
    if model.asymmetry == "convino" and any(np.any(b.nl_asym) for b in model.blocks):
        flags.append(
            "Convino's asymmetric interpolation has a kink at lambda = lambda_hat (written with "
            "abs); derivatives there are one-sided"
        )
    # ------------------------------------------------------------ the document
    errors = [result.errors[o] for o in obs]
    axes = []
    for p, v, e in zip(mu_names, x_hat, errors, strict=True):
        axes.append({"name": p, "min": float(v - 100 * e), "max": float(v + 100 * e)})
    spect = [x for x in x_names if x not in mu_names]
    for p in spect:
        i = x_names.index(p)
        v, e = result.spectators[profile.names[i]]
        axes.append({"name": p, "min": float(v - 100 * e), "max": float(v + 100 * e)})
    for p in eta_names:
        axes.append({"name": p, "min": -50.0, "max": 50.0})
    best = [{"name": p, "value": float(theta_hat[i])} for i, p in enumerate(x_names)]
    best += [
        {"name": p, "value": float(theta_hat[model.n_params + k])} for k, p in enumerate(eta_names)
    ]
    if gvm:  # only the Gaussian of the combined values
        keep = set(gauss)
        w.distributions = [d for d in w.distributions if d["name"] in keep]
        means = {d["mean"] for d in w.distributions}
        w.functions = [f for f in w.functions if f["name"] in means]
        w.data = [d for d in w.data if d["name"] in {f"{k}_data" for k in keep}]
        axes = axes[: len(x_names)]
        best = best[: len(x_names)]
        parameters = {p: n for p, n in parameters.items() if p in x_names}
        full = []
    data_of = {d["name"]: f"{d['name']}_data" for d in w.distributions}
    available = {d["name"] for d in w.data}
    for dist, datum in data_of.items():
        assert datum in available, (dist, datum)
    from .. import __version__

    workspace: dict[str, Any] = {
        "metadata": {
            "hs3_version": "0.2",
            "packages": [{"name": "hepcombine", "version": __version__}],
            "description": f"{name}: the {result.chi2_definition} chi2 of a hepcombine combination",
        },
        "distributions": w.distributions,
        "functions": w.functions,
        "data": w.data,
        "likelihoods": [
            {"name": "full", "distributions": full, "data": [data_of[d] for d in full]},
            {"name": "gaussian", "distributions": gauss, "data": [data_of[d] for d in gauss]},
        ][gvm:],
        "domains": [{"name": "parameters", "type": "product_domain", "axes": axes}],
        "parameter_points": [{"name": "best_fit", "parameters": best}],
        "analyses": [
            {
                "name": "full",
                "likelihood": "full",
                "parameters_of_interest": mu_names,
                "domains": ["parameters"],
                "init": "best_fit",
            },
            {
                "name": "gaussian",
                "likelihood": "gaussian",
                "parameters_of_interest": mu_names,
                "domains": ["parameters"],
                "init": "best_fit",
            },
        ][gvm:],
        "misc": {
            "hepcombine": {
                "chi2_definition": result.chi2_definition,
                "asymmetry": model.asymmetry,
                "chi2_min": float(result.chi2),
                "ndf": int(result.ndf),
                "chi2_minus_minus2lnL_full": None if gvm else offset,
                "parameters": parameters,
                "sources": {f"lambda[{i}]": s for i, s in enumerate(profile.sources)},
                "flags": flags,
                "observables_range_sigma": RANGE,
            }
        },
    }
    return HS3Model(workspace, tuple(flags), parameters, math.nan if gvm else offset)


def __dir__() -> list[str]:
    return list(__all__)
