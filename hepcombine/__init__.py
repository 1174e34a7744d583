"""hepcombine: combine measurements in high-energy physics.

Two methods:

* the χ² method of the Convino paper (:class:`Combiner`) for inputs from simultaneous
  nuisance-parameter fits (Hessians, correlation matrices) or tables of orthogonal
  uncertainties, with exact ±1 correlations and profile-likelihood intervals;
* BLUE (:class:`Blue`) with weights, per-source breakdown and information weights.

Inputs: :class:`Measurement` (Hessian, correlation matrix, orthogonal table), Convino text
files and YAML configs (:func:`load_config`), histograms and graphs from ROOT files or
``hist`` (:func:`measurement_from_histograms`, :func:`measurement_from_graph`).

Submodules are imported on first use, so ``import hepcombine`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # the χ² engine
    "Measurement": "measurement",
    "Combiner": "combiner",
    "CombinationResult": "result",
    "NamedMatrix": "result",
    "Table": "result",
    # BLUE
    "Blue": "blue",
    "blue_from_csv": "blue",
    "CorrelationScan": "blue",
    "Compatibility": "blue",
    # configuration and text formats
    "CombinationSpec": "config",
    "ScanGroup": "config",
    "load_config": "config",
    "read_yaml": "config",
    "read_convino": "convino",
    "read_measurement_file": "convino",
    "write_convino": "convino",
    # differential inputs
    "DifferentialMeasurement": "adapters",
    "Systematic": "adapters",
    "differential_observables": "adapters",
    "measurement_from_graph": "adapters",
    "measurement_from_histograms": "adapters",
    # correlation scans
    "ScanResult": "scan",
    "scan_all": "scan",
    "scan_correlations": "scan",
    # differential results
    "DifferentialResult": "differential",
    "NormalisedDistribution": "differential",
    "combine_differential": "differential",
    "normalise": "differential",
    # ROOT output
    "write_root": "rootio",
    "GraphAsymmErrors": "rootio",
    "GraphErrors": "rootio",
    # errors
    "HepCombineError": "exceptions",
    "ConfigError": "exceptions",
    "FitError": "exceptions",
    "IntervalError": "exceptions",
    "InvalidCorrelation": "exceptions",
    "InvalidMeasurement": "exceptions",
    "UnknownName": "exceptions",
}

__all__ = [
    "Blue",
    "CombinationResult",
    "CombinationSpec",
    "Combiner",
    "Compatibility",
    "ConfigError",
    "CorrelationScan",
    "DifferentialMeasurement",
    "DifferentialResult",
    "FitError",
    "GraphAsymmErrors",
    "GraphErrors",
    "HepCombineError",
    "IntervalError",
    "InvalidCorrelation",
    "InvalidMeasurement",
    "Measurement",
    "NamedMatrix",
    "NormalisedDistribution",
    "ScanGroup",
    "ScanResult",
    "Systematic",
    "Table",
    "UnknownName",
    "__version__",
    "blue_from_csv",
    "combine_differential",
    "differential_observables",
    "load_config",
    "measurement_from_graph",
    "measurement_from_histograms",
    "normalise",
    "read_convino",
    "read_measurement_file",
    "read_yaml",
    "scan_all",
    "scan_correlations",
    "write_convino",
    "write_root",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'hepcombine' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from .adapters import (
        DifferentialMeasurement,
        Systematic,
        differential_observables,
        measurement_from_graph,
        measurement_from_histograms,
    )
    from .blue import Blue, Compatibility, CorrelationScan, blue_from_csv
    from .combiner import Combiner
    from .config import CombinationSpec, ScanGroup, load_config, read_yaml
    from .convino import read_convino, read_measurement_file, write_convino
    from .differential import (
        DifferentialResult,
        NormalisedDistribution,
        combine_differential,
        normalise,
    )
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
    from .result import CombinationResult, NamedMatrix, Table
    from .rootio import GraphAsymmErrors, GraphErrors, write_root
    from .scan import ScanResult, scan_all, scan_correlations
