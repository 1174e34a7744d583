"""The figures of a combination, as the command line writes them (``--plots``, ``plot``).

:func:`combination_figures` returns ``{file stem: Figure}``; nothing here fits or writes
anything.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from ..binning import Binning
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
    combiner: Combiner, result: CombinationResult, *, binning: Binning | None = None
) -> dict[str, Figure]:
    """``{file stem: Figure}``: ``summary`` (one per observable, ``summary_<observable>`` when
    there are several, for at most :data:`MAX_SUMMARY_PLOTS` observables), ``pulls`` (when
    there are sources), ``correlation`` and, for a differential combination (``binning``
    given), ``spectrum`` on its bins."""
    from .result import inputs_for, plot_correlation, plot_pulls, plot_spectrum, plot_summary

    obs = list(result.observables)
    inputs = inputs_for(combiner, result)
    figs: dict[str, Any] = {}
    if len(obs) == 1:
        figs["summary"] = plot_summary(result, inputs=inputs, observable=obs[0])
    elif len(obs) <= MAX_SUMMARY_PLOTS:
        for o in obs:
            figs[f"summary_{file_stem(o)}"] = plot_summary(result, inputs=inputs, observable=o)
    else:
        log.info("%d observables: no summary plot per observable", len(obs))
    if result.pulls:
        figs["pulls"] = plot_pulls(result)
    figs["correlation"] = plot_correlation(result)
    if binning is not None:
        n = len(obs)
        per_measurement: dict[str, tuple[Any, Any]] = {}
        for j, o in enumerate(obs):
            for ref, (v, e) in inputs.get(o, {}).items():
                m = ref.split(":", 1)[0]
                if m not in per_measurement:
                    per_measurement[m] = (np.full(n, np.nan), np.full(n, np.nan))
                per_measurement[m][0][j] = v
                per_measurement[m][1][j] = e
        values = np.array([result.values[o] for o in obs])
        errors = np.array([result.errors[o] for o in obs])
        low = np.array([result.intervals[o][0] for o in obs])
        high = np.array([result.intervals[o][1] for o in obs])
        ok = np.array([result.has_interval(o) for o in obs])
        err_low = np.where(ok, values - low, errors)
        err_high = np.where(ok, high - values, errors)
        edges = binning.edges if binning.is_contiguous else np.arange(n + 1, dtype=float)
        figs["spectrum"] = plot_spectrum(
            edges, per_measurement, (values, err_low, err_high), axis_label=binning.title
        )
    return figs


def __dir__() -> list[str]:
    return list(__all__)
