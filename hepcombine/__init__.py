"""hepcombine: combine measurements in high-energy physics.

Two methods:

* the χ² method of the Convino paper (:class:`Combiner`) for inputs from simultaneous
  nuisance-parameter fits (Hessians, correlation matrices) or tables of orthogonal
  uncertainties, with exact ±1 correlations and profile-likelihood intervals;
* BLUE (:class:`Blue`) with weights, per-source breakdown and information weights.
"""

from __future__ import annotations

from .combiner import Combiner
from .exceptions import (
    ConfigError,
    FitError,
    HepCombineError,
    IntervalError,
    InvalidCorrelation,
    InvalidMeasurement,
    UnknownName,
)
from .measurement import Measurement
from .result import CombinationResult, NamedMatrix

__version__ = "0.1.0"

__all__ = [
    "CombinationResult",
    "Combiner",
    "ConfigError",
    "FitError",
    "HepCombineError",
    "IntervalError",
    "InvalidCorrelation",
    "InvalidMeasurement",
    "Measurement",
    "NamedMatrix",
    "UnknownName",
    "__version__",
]
