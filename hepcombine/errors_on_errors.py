"""Errors on errors (the gamma variance model, method.md §2c): named sources → χ² terms.

The user names sources whose size σ is itself uncertain, with a relative uncertainty ε
(``{"JES1": 0.3, "lumi": (0.5, "independent")}``, YAML ``errors_on_errors:``, ``--eps``), and
this module turns those names into the :class:`~hepcombine.chi2.GammaConstraint` terms of the
χ², on the decorrelated source parameters η of :mod:`hepcombine.correlations`:

* ``dependent`` (the default): one ε, one variance factor for all the sources an entry names.
  Their Gaussian prior λ_gᵀ C_g⁺ λ_g must be a separate piece of the prior λᵀC⁺λ, so the
  entry must name whole correlated blocks of C: a named source correlated with a source the
  entry does not name is an error that names both. The term's N is the number of independent
  directions of the group (the rank of its correlation matrix: 1 for sources correlated with
  ρ = ±1, which are one nuisance parameter).
* ``independent``: one term per source (each with its own variance factor), so each must be
  its own nuisance parameter: uncorrelated with the others, or correlated only with ρ = ±1
  (and then named together with its partners).

Entries are given per source or pattern: a bare name stands for every source of that name
(``"JES1"`` = ``a:JES1``, ``b:JES1``, …), a qualified name ``"a:JES1"`` for one, a pattern
(``"JES*"``, ``"atlas:*"``) for all it matches. ε = 0 is the Gaussian term exactly.

This module knows nothing about files, solvers or results.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from .chi2 import GammaConstraint
from .correlations import CorrelationFactor
from .exceptions import InvalidArgument, InvalidCorrelation
from .names import Names, Ref, some_names

__all__ = ["KINDS", "ErrorOnError", "ErrorOnErrorTerm"]

Kind = Literal["dependent", "independent"]
#: the kinds of errors-on-errors terms
KINDS: tuple[str, ...] = ("dependent", "independent")


@dataclass(frozen=True)
class ErrorOnError:
    """The relative uncertainty ``eps`` (ε ≥ 0) of the size of the sources an entry names, and
    whether they share it (``"dependent"``: one variance factor for all) or each has its own
    (``"independent"``)."""

    eps: float
    kind: Kind = "dependent"

    def __post_init__(self) -> None:
        eps = self.eps
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real):
            raise InvalidArgument(f"ε must be a number, not {eps!r}")
        if not math.isfinite(float(eps)) or float(eps) < 0.0:
            raise InvalidArgument(f"ε must be a finite number ≥ 0, not {eps!r}")
        object.__setattr__(self, "eps", float(eps))
        if self.kind not in KINDS:
            raise InvalidArgument(
                f"the kind of an error on errors is 'dependent' or 'independent', not {self.kind!r}"
            )


@dataclass(frozen=True)
class ErrorOnErrorTerm:
    """One errors-on-errors term of a combination, as the result reports it.

    Attributes
    ----------
    entry: the name or pattern the user gave.
    kind: ``"dependent"`` or ``"independent"``.
    eps: ε.
    sources: the sources (``"measurement:source"``) the term covers.
    n: N, the number of independent directions (nuisance parameters) of the term.
    variance_factor: ŝ = (1 + 2ε²Q̂)/(1 + 2Nε²) at the minimum (Q̂ = λ̂ᵀρ⁻¹λ̂ of the group):
        the factor on the sources' variance σ² that the data prefer; √ŝ scales their σ.
    """

    entry: str
    kind: str
    eps: float
    sources: tuple[str, ...]
    n: int
    variance_factor: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready ``{"entry", "kind", "eps", "sources", "n", "variance_factor"}``."""
        return {
            "entry": self.entry,
            "kind": self.kind,
            "eps": self.eps,
            "sources": list(self.sources),
            "n": self.n,
            "variance_factor": self.variance_factor,
        }


def _spec(value: Any, label: str) -> ErrorOnError:
    """``0.3``, ``(0.3, "independent")``, ``{"eps": 0.3, "type": "independent"}`` or an
    :class:`ErrorOnError` → :class:`ErrorOnError`."""
    try:
        if isinstance(value, ErrorOnError):
            return value
        if isinstance(value, Mapping):
            unknown = [k for k in value if k not in ("eps", "value", "type", "kind")]
            if unknown:
                raise InvalidArgument(f"unknown keys {unknown} (give 'eps' and 'type')")
            eps = value.get("eps", value.get("value"))
            if eps is None:
                raise InvalidArgument("give its 'eps'")
            return ErrorOnError(eps, value.get("type", value.get("kind", "dependent")))
        if isinstance(value, tuple | list):
            if len(value) != 2:
                raise InvalidArgument(f"give (ε, kind), not {value!r}")
            return ErrorOnError(value[0], value[1])
        return ErrorOnError(value)
    except InvalidArgument as exc:
        raise InvalidArgument(f"errors on errors of {label!r}: {exc}") from None


def resolve(names: Names, entries: Mapping[Ref, Any]) -> list[tuple[str, list[int], ErrorOnError]]:
    """The entries as ``(label, source indices, ErrorOnError)``, checked: every name known,
    every ε a number ≥ 0, no source named by two entries."""
    out: list[tuple[str, list[int], ErrorOnError]] = []
    owner: dict[int, str] = {}
    for ref, value in entries.items():
        label = ":".join(map(str, ref)) if isinstance(ref, tuple) else str(ref)
        spec = _spec(value, label)
        idx = names.matching(ref)
        for i in idx:
            if i in owner:
                raise InvalidArgument(
                    f"source {names.source_name(i)} is given an error on errors twice, by "
                    f"{owner[i]!r} and {label!r}"
                )
            owner[i] = label
        out.append((label, list(idx), spec))
    return out


def gamma_terms(
    entries: Sequence[tuple[str, list[int], ErrorOnError]],
    factor: CorrelationFactor,
) -> tuple[list[GammaConstraint], list[ErrorOnErrorTerm]]:
    """The χ² terms of the entries on the η of ``factor`` (C = L Lᵀ), and their description.

    Entries with ε = 0 give no term (the Gaussian prior is the ε → 0 limit exactly); they are
    still described."""
    if not entries:
        return [], []
    L = factor.L
    names = factor.names
    block_of = np.full(len(names), -1, dtype=np.intp)
    for k, comp in enumerate(factor.components):
        block_of[comp] = k
    columns = [np.flatnonzero(np.any(L[comp] != 0.0, axis=0)) for comp in factor.components]
    terms: list[GammaConstraint] = []
    described: list[ErrorOnErrorTerm] = []
    for label, idx, spec in entries:
        chosen = set(idx)
        blocks = sorted({int(block_of[i]) for i in idx})
        for k in blocks:
            outside = [int(j) for j in factor.components[k] if int(j) not in chosen]
            if outside:
                inside = next(int(j) for j in factor.components[k] if int(j) in chosen)
                C = factor.matrix
                partner = max(outside, key=lambda j: abs(C[inside, j]))
                raise InvalidCorrelation(
                    f"errors on errors of {label!r}: the source {names[inside]} is correlated "
                    f"with {names[partner]} (ρ = {C[inside, partner]:.3g}), which the entry "
                    f"does not name; an error on errors needs the whole correlated group of "
                    f"sources ({some_names([names[j] for j in outside])} missing): name them "
                    "too, e.g. with a pattern, or remove the correlation"
                )
        groups = [blocks] if spec.kind == "dependent" else [[k] for k in blocks]
        for group in groups:
            cols = np.concatenate([columns[k] for k in group])
            members = tuple(names[int(j)] for k in group for j in factor.components[k])
            if spec.kind == "independent" and len(cols) > 1:
                k = group[0]
                C = factor.matrix[np.ix_(factor.components[k], factor.components[k])]
                a, b = np.unravel_index(
                    np.argmax(np.abs(C - np.eye(len(C)) * 2.0) * (np.abs(C) < 1.0 - 1e-12)),
                    C.shape,
                )
                pair = f"{names[factor.components[k][a]]} ~ {names[factor.components[k][b]]}"
                raise InvalidCorrelation(
                    f"errors on errors of {label!r}: 'independent' gives each nuisance "
                    f"parameter its own ε, but the sources {some_names(members)} are one "
                    f"correlated group ({pair}: ρ = {C[a, b]:.3g}) with {len(cols)} parameters; "
                    "use 'dependent' (one ε for the group)"
                )
            described.append(ErrorOnErrorTerm(label, spec.kind, spec.eps, members, len(cols)))
            if spec.eps > 0.0:
                basis = np.zeros((L.shape[1], len(cols)))
                basis[cols, np.arange(len(cols))] = 1.0
                terms.append(GammaConstraint(basis, spec.eps))
    return terms, described


def with_variance_factors(
    described: Sequence[ErrorOnErrorTerm],
    terms: Sequence[GammaConstraint],
    eta: NDArray[np.float64],
) -> tuple[ErrorOnErrorTerm, ...]:
    """The descriptions with ŝ at ``eta`` (terms with ε = 0: ŝ = 1)."""
    from dataclasses import replace

    out = []
    it = iter(terms)
    for d in described:
        if d.eps > 0.0:
            t = next(it)
            z = t.basis.T @ eta
            out.append(replace(d, variance_factor=float(t.variance_factor(float(z @ z)))))
        else:
            out.append(replace(d, variance_factor=1.0))
    return tuple(out)


def __dir__() -> list[str]:
    return list(__all__)
