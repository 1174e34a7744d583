"""hepcombine: combine measurements in high-energy physics.

Two methods:

* the χ² method of the Convino paper (:class:`Combiner`) for inputs from simultaneous
  nuisance-parameter fits (Hessians, correlation matrices) or tables of orthogonal
  uncertainties, with exact ±1 correlations and profile-likelihood intervals;
* BLUE (:class:`Blue`) with weights, per-source breakdown and information weights.

The pipeline, one subpackage or module per stage: input forms (:mod:`hepcombine.inputs`:
Convino text files and YAML configs via :func:`load_config`, histograms and graphs via
:func:`measurement_from_histograms` and :func:`measurement_from_graph`, BLUE tables) → one
specification (:class:`CombinationSpec`, :mod:`hepcombine.spec`) → canonical measurements
(:class:`Measurement`) → combined χ² (:mod:`hepcombine.chi2`) → solver
(:mod:`hepcombine.solver`) → result (:class:`CombinationResult`) → outputs
(:mod:`hepcombine.outputs`: text, JSON, ROOT, hist, Convino) and plots
(:mod:`hepcombine.plots`); :mod:`hepcombine.cli` only parses and calls the library.

Submodules are imported on first use, so ``import hepcombine`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # the canonical measurement and its binning
    "Measurement": "measurement",
    "DifferentialMeasurement": "measurement",
    "Binning": "binning",
    "Quantity": "binning",
    "Qualifier": "binning",
    # the specification every input form produces
    "CombinationSpec": "spec",
    "ScanGroup": "spec",
    # the χ² method
    "Combiner": "combiner",
    "CombinationResult": "result",
    "NamedMatrix": "result",
    "Table": "result",
    # BLUE
    "Blue": "blue",
    "BlueResult": "blue",
    "blue_from_csv": "blue",
    "CorrelationScan": "blue",
    "Compatibility": "blue",
    # input forms
    "load_config": "inputs",
    "read_yaml": "inputs.yaml",
    "read_convino": "inputs.convino",
    "read_measurement_file": "inputs.convino",
    "Systematic": "inputs.histograms",
    "differential_observables": "inputs.histograms",
    "measurement_from_graph": "inputs.histograms",
    "measurement_from_histograms": "inputs.histograms",
    "combine_differential": "inputs.histograms",
    "read_hepdata": "inputs.hepdata",
    "HEPDataMatrix": "inputs.hepdata",
    "HEPDataBreakdown": "inputs.hepdata",
    # correlation scans
    "ScanResult": "scan",
    "scan_all": "scan",
    "scan_correlations": "scan",
    # errors on errors
    "ErrorOnError": "errors_on_errors",
    "EpsScanResult": "eps_scan",
    "scan_errors_on_errors": "eps_scan",
    "read_gvm": "inputs.gvm",
    # differential results
    "DifferentialResult": "differential",
    "NormalisedDistribution": "differential",
    "normalise": "differential",
    # outputs
    "write_convino": "outputs.convino",
    "write_root": "outputs.root",
    "write_hepdata": "outputs.hepdata",
    "HEPDataOptions": "outputs.hepdata",
    "GraphAsymmErrors": "outputs.root",
    "GraphErrors": "outputs.root",
    # errors
    "HepCombineError": "exceptions",
    "ConfigError": "exceptions",
    "FitError": "exceptions",
    "HEPDataError": "exceptions",
    "IntervalError": "exceptions",
    "InvalidArgument": "exceptions",
    "InvalidCorrelation": "exceptions",
    "InvalidMeasurement": "exceptions",
    "OutputError": "exceptions",
    "UnknownName": "exceptions",
}

__all__ = [
    "Binning",
    "Blue",
    "BlueResult",
    "CombinationResult",
    "CombinationSpec",
    "Combiner",
    "Compatibility",
    "ConfigError",
    "CorrelationScan",
    "DifferentialMeasurement",
    "DifferentialResult",
    "EpsScanResult",
    "ErrorOnError",
    "FitError",
    "GraphAsymmErrors",
    "GraphErrors",
    "HEPDataBreakdown",
    "HEPDataError",
    "HEPDataMatrix",
    "HEPDataOptions",
    "HepCombineError",
    "IntervalError",
    "InvalidArgument",
    "InvalidCorrelation",
    "InvalidMeasurement",
    "Measurement",
    "NamedMatrix",
    "NormalisedDistribution",
    "OutputError",
    "Qualifier",
    "Quantity",
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
    "read_gvm",
    "read_hepdata",
    "read_measurement_file",
    "read_yaml",
    "scan_all",
    "scan_correlations",
    "scan_errors_on_errors",
    "write_convino",
    "write_hepdata",
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
    from .binning import Binning, Qualifier, Quantity
    from .blue import Blue, BlueResult, Compatibility, CorrelationScan, blue_from_csv
    from .combiner import Combiner
    from .differential import DifferentialResult, NormalisedDistribution, normalise
    from .eps_scan import EpsScanResult, scan_errors_on_errors
    from .errors_on_errors import ErrorOnError
    from .exceptions import (
        ConfigError,
        FitError,
        HepCombineError,
        HEPDataError,
        IntervalError,
        InvalidArgument,
        InvalidCorrelation,
        InvalidMeasurement,
        OutputError,
        UnknownName,
    )
    from .inputs import load_config
    from .inputs.convino import read_convino, read_measurement_file
    from .inputs.gvm import read_gvm
    from .inputs.hepdata import HEPDataBreakdown, HEPDataMatrix, read_hepdata
    from .inputs.histograms import (
        Systematic,
        combine_differential,
        differential_observables,
        measurement_from_graph,
        measurement_from_histograms,
    )
    from .inputs.yaml import read_yaml
    from .measurement import DifferentialMeasurement, Measurement
    from .outputs.convino import write_convino
    from .outputs.hepdata import HEPDataOptions, write_hepdata
    from .outputs.root import GraphAsymmErrors, GraphErrors, write_root
    from .result import CombinationResult, NamedMatrix, Table
    from .scan import ScanResult, scan_all, scan_correlations
    from .spec import CombinationSpec, ScanGroup
