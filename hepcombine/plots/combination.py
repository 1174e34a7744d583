"""The figures of a combination, as the command line writes them (``--plots``, ``plot``).

:func:`combination_figures` returns ``{file stem: Figure}``; nothing here fits or writes
anything.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..binning import Binning, Binning2D, Quantity
    from ..combiner import Combiner
    from ..result import CombinationResult

__all__ = ["MAX_SUMMARY_PLOTS", "combination_figures", "file_stem"]

log = logging.getLogger(__name__)

#: Up to this many observables get one summary plot each (a 100-bin spectrum gets the spectrum).
MAX_SUMMARY_PLOTS = 12


def file_stem(name: str) -> str:
    """A file-name-safe version of ``name``."""
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", name).strip("_") or "x"


def combination_figures(
    combiner: Combiner,
    result: CombinationResult,
    *,
    binning: Binning | Binning2D | None = None,
    exp_label: Any = None,
    quantity: Quantity | None = None,
    distributions: Mapping[str, Any] | None = None,
) -> dict[str, Figure]:
    """``{file stem: Figure}`` of a combination, as a paper shows it.

    * not differential: ``summary`` (one observable) or ``summary_<observable>`` (up to
      :data:`MAX_SUMMARY_PLOTS`) — inputs with total and statistical bars, the combination
      band, values, χ²/ndf — and ``breakdown`` / ``breakdown_<observable>``, the ranked
      uncertainty breakdown;
    * differential (``binning`` given): ``spectrum`` (inputs, combination, ratio panel, on the
      bins with their label and unit; the y label from ``quantity``) and ``breakdown`` (the
      relative uncertainty of each component per bin) instead of one summary per bin;
    * ``pulls`` when there are sources; ``correlation`` when there are at least two
      observables (labelled with the bin ranges for a differential combination).

    ``exp_label`` (an :class:`~hepcombine.plots.style.ExperimentLabel`, mapping or name) is
    drawn on every figure. ``distributions`` (``{name: DifferentialMeasurement}``, the inputs of
    a rebinned combination as given, ``CombinationSpec.distributions``): the spectrum shows each
    of them in its own bins.
    """
    from ..differential import DifferentialResult
    from .result import (
        inputs_for,
        plot_breakdown,
        plot_correlation,
        plot_differential,
        plot_pulls,
        plot_summary,
    )

    # the observables: reported linear quantities (a total beside the bins) are not bins
    obs = [o for o in result.observables if o not in getattr(combiner, "linear", {})]
    inputs = inputs_for(combiner, result, stat=True)
    figs: dict[str, Any] = {}
    lab = exp_label
    if binning is None:
        if len(obs) == 1:
            figs["summary"] = plot_summary(result, inputs, obs[0], exp_label=lab)
            figs["breakdown"] = plot_breakdown(result, obs[0], exp_label=lab)
        elif len(obs) <= MAX_SUMMARY_PLOTS:
            for o in obs:
                figs[f"summary_{file_stem(o)}"] = plot_summary(result, inputs, o, exp_label=lab)
                figs[f"breakdown_{file_stem(o)}"] = plot_breakdown(result, o, exp_label=lab)
        else:
            log.info("%d observables: no summary plot per observable", len(obs))
    else:
        n = len(obs)
        per_measurement: dict[str, tuple[Any, ...]] = {}
        own = distributions if binning is None or not hasattr(binning, "x") else None
        for name, d in (own or {}).items():  # in their own bins (1-d distributions)
            per_measurement[name] = (
                d.measurement.estimates,
                np.sqrt(np.clip(np.diag(d.measurement.covariance), 0.0, None)),
                d.binning,
            )
        for j, o in enumerate(obs):
            for ref, (v, e, *_) in inputs.get(o, {}).items():
                m = ref.split(":", 1)[0]
                if own and m in own:
                    continue
                if m not in per_measurement:
                    per_measurement[m] = (np.full(n, np.nan), np.full(n, np.nan))
                per_measurement[m][0][j] = v
                per_measurement[m][1][j] = e
        diff = DifferentialResult.from_result(result, obs, binning=binning)
        ylabel = quantity.title if quantity is not None and quantity.title else None
        figs["spectrum"] = plot_differential(diff, per_measurement, ylabel=ylabel, exp_label=lab)
        figs["breakdown"] = plot_breakdown(diff, exp_label=lab)
    if result.pulls:
        figs["pulls"] = plot_pulls(result, exp_label=lab)
    if len(obs) >= 2:
        if binning is not None:
            diff = DifferentialResult.from_result(result, obs, binning=binning)
            figs["correlation"] = plot_correlation(diff, exp_label=lab)
        else:
            figs["correlation"] = plot_correlation(result, exp_label=lab)
    return figs


def __dir__() -> list[str]:
    return list(__all__)
