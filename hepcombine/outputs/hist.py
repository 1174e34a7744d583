"""``hist`` output: combined distributions and combinations as ``hist.Hist`` objects.

:func:`to_hist` is the histogram of a result: of a
:class:`~hepcombine.differential.DifferentialResult` on the edges of its binning, of any
:class:`~hepcombine.result.CombinationResult` one labelled bin per observable.
:func:`regular_or_variable_axis` is the ``hist`` axis of bin edges (``Regular`` for uniform
bins, else ``Variable``; the axis name and label kept); :func:`distribution_hist` and
:func:`matrix_hist` fill 1-d (``Weight`` storage) and 2-d histograms on it;
:func:`result_hist` and :func:`result_matrix_hist` give one labelled bin per observable of any
combination. ``hist`` is imported when a histogram is made.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    import hist

    from ..binning import Binning2D
    from ..differential import DifferentialResult
    from ..result import CombinationResult

__all__ = [
    "distribution_hist",
    "distribution_hist_2d",
    "is_uniform",
    "matrix_hist",
    "regular_or_variable_axis",
    "result_hist",
    "result_matrix_hist",
    "to_hist",
]


def is_uniform(edges: NDArray[np.float64]) -> bool:
    """Whether ``edges`` are equally spaced (to rounding)."""
    d = np.diff(edges)
    span = edges[-1] - edges[0]
    regular = edges[0] + span * np.arange(len(edges)) / (len(edges) - 1)
    return bool(np.allclose(d, d[0], rtol=1e-12, atol=0)) and bool(
        np.allclose(edges, regular, rtol=0, atol=1e-12 * abs(span))
    )


def regular_or_variable_axis(edges: ArrayLike, name: str, label: str) -> Any:
    """A ``hist.axis.Regular`` for uniform ``edges``, else a ``hist.axis.Variable``."""
    import hist

    e = np.asarray(edges, dtype=float)
    if is_uniform(e):
        return hist.axis.Regular(len(e) - 1, float(e[0]), float(e[-1]), name=name, label=label)
    return hist.axis.Variable(e, name=name, label=label)


def distribution_hist(
    edges: ArrayLike, values: ArrayLike, variances: ArrayLike, *, name: str, label: str, title: str
) -> hist.Hist:
    """A 1-d ``Weight`` histogram: ``values`` with ``variances`` on the bins ``edges``."""
    import hist

    h = hist.Hist(
        regular_or_variable_axis(edges, name, label), storage=hist.storage.Weight(), label=title
    )
    view: Any = h.view()
    view.value = values
    view.variance = variances
    return h


def distribution_hist_2d(
    binning: Binning2D, values: ArrayLike, variances: ArrayLike, *, title: str
) -> hist.Hist:
    """A 2-d ``Weight`` histogram of the cells of ``binning`` (``values`` and ``variances`` in
    cell order, x inner, as :class:`~hepcombine.binning.Binning2D`); each axis with its name,
    edges and ``"label [unit]"``. Axes with gaps get the gaps as extra, empty bins."""
    import hist

    axes, where = [], []
    for b in (binning.x, binning.y):
        if b.is_contiguous:
            edges, at = np.asarray(b.edges), np.arange(b.n_bins)
        else:
            edges, at = b.filled_edges()
        axes.append(regular_or_variable_axis(edges, b.name, b.title if b.label or b.unit else ""))
        where.append(at)
    h = hist.Hist(*axes, storage=hist.storage.Weight(), label=title)
    full_v = np.zeros((len(axes[0]), len(axes[1])))
    full_var = np.zeros_like(full_v)
    full_v[np.ix_(where[0], where[1])] = binning.unflatten(values)
    full_var[np.ix_(where[0], where[1])] = binning.unflatten(variances)
    view: Any = h.view()
    view.value = full_v
    view.variance = full_var
    return h


def matrix_hist(edges: ArrayLike, matrix: ArrayLike, *, name: str, label: str, title: str) -> Any:
    """A 2-d histogram of a bin × bin ``matrix`` (axes ``<name>_1`` and ``<name>_2``)."""
    import hist

    name = name or "x"
    h: Any = hist.Hist(
        regular_or_variable_axis(edges, f"{name}_1", label),
        regular_or_variable_axis(edges, f"{name}_2", label),
        label=title,
    )
    h[...] = matrix
    return h


def _category_hist(names: Sequence[str], *axes: str, label: str) -> Any:
    import hist

    cats = [hist.axis.StrCategory(list(names), name=a, label="observable") for a in axes]
    return hist.Hist(*cats, storage=hist.storage.Weight(), label=label)


def result_hist(result: CombinationResult) -> Any:
    """One bin per observable (category axis ``observable``, labels = names): the combined
    values with variance = error² (Hesse)."""
    names = list(result.observables)
    h = _category_hist(names, "observable", label="combined")
    h.view().value = [result.values[n] for n in names]
    h.view().variance = [result.errors[n] ** 2 for n in names]
    return h


def result_matrix_hist(result: CombinationResult, which: str) -> Any:
    """The ``"covariance"`` or ``"correlation"`` of the observables as a 2-d category
    histogram (axes ``x`` and ``y``)."""
    matrix = {"covariance": result.covariance, "correlation": result.correlation}[which]
    h = _category_hist(list(result.observables), "x", "y", label=which)
    h.view().value = matrix.matrix
    h.view().variance = 0.0
    return h


def to_hist(
    result: DifferentialResult | CombinationResult, *, normalised: bool = False
) -> hist.Hist:
    """The result as a ``hist.Hist`` with ``Weight`` storage.

    A :class:`~hepcombine.differential.DifferentialResult`: a 1-d histogram with value and
    variance = error² (Hesse) of each bin on the edges of the binning (``Regular`` if the bins
    are uniform, else ``Variable``), the axis name, the axis label with its unit
    (``"$p_T$ [GeV]"``: hist axes have no unit of their own), and the title (else the
    quantity's title) as label. Bins with gaps between them: each gap is an extra bin with
    value and variance 0 (the bins of the distribution are ``h[binning.filled_edges()[1]]``);
    bins known only by number: the bin numbers as edges. ``normalised=True``: the shape from
    :meth:`~hepcombine.differential.DifferentialResult.normalised` (sum normalisation).

    A 2-d distribution (:class:`~hepcombine.binning.Binning2D`): a 2-d ``Weight`` histogram
    on both axes (:func:`distribution_hist_2d`; ``h.values()[ix, iy]``).

    A :class:`~hepcombine.result.CombinationResult`: :func:`result_hist`, one bin per
    observable on a category axis (``normalised=True`` needs the bins of a distribution:
    wrap it with ``DifferentialResult.from_result``).
    """
    from ..binning import Binning2D
    from ..differential import DifferentialResult
    from ..exceptions import InvalidArgument
    from ..result import CombinationResult

    if isinstance(result, CombinationResult):
        if normalised:
            raise InvalidArgument(
                "to_hist(normalised=True) needs the bins of a distribution: wrap the result "
                "with DifferentialResult.from_result(result, ...)"
            )
        return result_hist(result)
    if not isinstance(result, DifferentialResult):
        raise InvalidArgument(
            f"to_hist needs a DifferentialResult or a CombinationResult, not "
            f"{type(result).__name__}"
        )
    if normalised:
        shape = result.normalised()
        values, variances = shape.values, shape.errors**2
    else:
        values, variances = result.values, result.errors**2
    b = result.binning
    if isinstance(b, Binning2D):
        return distribution_hist_2d(
            b, values, variances, title=result.title or result.quantity.title
        )
    edges = result.histogram_edges()
    if not b.is_contiguous and not b.is_index:
        edges, where = b.filled_edges()
        full_v, full_var = np.zeros(len(edges) - 1), np.zeros(len(edges) - 1)
        full_v[where], full_var[where] = values, variances
        values, variances = full_v, full_var
    return distribution_hist(
        edges,
        values,
        variances,
        name=result.axis_name,
        label=b.title if b.label or b.unit else "",
        title=result.title or result.quantity.title,
    )


def __dir__() -> list[str]:
    return list(__all__)
