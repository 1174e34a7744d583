"""The result of a BLUE combination: immutable, keyed by name, in the vocabulary of
:class:`~hepcombine.result.CombinationResult`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from ..result import NamedMatrix, Table

__all__ = ["BlueResult"]


@dataclass(frozen=True, eq=False, repr=False)
class BlueResult:
    """What a BLUE combination reports (method.md §4). All mappings are keyed by name and
    read-only.

    Attributes
    ----------
    observables: the combined observables.
    measurements: the inputs, by name.
    sources: the uncertainty sources.
    values: combined value of each observable.
    errors: its total uncertainty √V_jj.
    covariance, correlation: of the combined observables (:class:`~hepcombine.result.NamedMatrix`).
    breakdown: :class:`~hepcombine.result.Table` ``{source: {observable: σ}}``: sign(V_k)·√|V_k|
        with V_k = Λᵀ C_k Λ; the entries add up in quadrature to ``errors`` exactly (negative
        only for sources whose assumed correlation matrix is not positive semi-definite).
    weights: :class:`~hepcombine.result.Table` ``{observable: {measurement: λ}}``, the BLUE
        weights Λ (inputs of other observables can have non-zero weight when correlated).
    chi2, ndf, pvalue: χ² of the inputs with respect to the combination, ndf = n − m, its
        p-value (NaN for ndf = 0, as for the χ² method: there is nothing to test).
    method: ``"blue"`` or ``"iterative blue"``.
    iterations: re-evaluations of the uncertainties (0 without iteration).
    statistical_sources: the sources that are statistical (the ``stat`` part of the
        statistical/systematic split of :meth:`to_latex`).
    """

    observables: tuple[str, ...]
    measurements: tuple[str, ...]
    sources: tuple[str, ...]
    values: Mapping[str, float]
    errors: Mapping[str, float]
    covariance: NamedMatrix
    correlation: NamedMatrix
    breakdown: Table
    weights: Table
    chi2: float
    ndf: int
    pvalue: float
    method: str
    iterations: int = 0
    statistical_sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("values", "errors"):
            object.__setattr__(self, name, MappingProxyType(dict(getattr(self, name))))

    def to_latex(self, *, breakdown: bool = False, **options: Any) -> str:
        """A LaTeX table of the combined values (statistical and systematic uncertainties,
        PDG-rounded, χ²/ndf), or with ``breakdown=True`` of the uncertainty per source; see
        :func:`hepcombine.formatting.result_table` and
        :func:`~hepcombine.formatting.breakdown_table` for ``options``."""
        from ..formatting import breakdown_table, result_table

        return (breakdown_table if breakdown else result_table)(self, "latex", **options)

    def to_markdown(self, *, breakdown: bool = False, **options: Any) -> str:
        """The table of :meth:`to_latex` as Markdown."""
        from ..formatting import breakdown_table, result_table

        return (breakdown_table if breakdown else result_table)(self, "markdown", **options)

    def __repr__(self) -> str:
        p = "n/a" if math.isnan(self.pvalue) else f"{self.pvalue:.4g}"
        vals = ", ".join(
            f"{o} = {self.values[o]:.6g} ± {self.errors[o]:.4g}" for o in self.observables
        )
        return f"BlueResult({vals}; χ²/ndf = {self.chi2:.4g}/{self.ndf}, p = {p})"


def __dir__() -> list[str]:
    return list(__all__)
