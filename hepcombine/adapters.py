"""Deprecated: moved to hepcombine.inputs.histograms (this module re-exports the 0.1 names for one
release and will be removed in 0.3)."""

from __future__ import annotations

import warnings

from .inputs.histograms import (
    Systematic,
    differential_observables,
    measurement_from_graph,
    measurement_from_histograms,
)
from .measurement import DifferentialMeasurement

__all__ = [
    "DifferentialMeasurement",
    "Systematic",
    "differential_observables",
    "measurement_from_graph",
    "measurement_from_histograms",
]

warnings.warn(
    "hepcombine.adapters is deprecated; import from hepcombine.inputs.histograms (or from hepcombine)",
    DeprecationWarning,
    stacklevel=2,
)


def __dir__() -> list[str]:
    return list(__all__)
