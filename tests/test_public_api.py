"""The public API is pinned: a change to it is a visible diff here (as in pyhf).

``dir()`` of every public module is listed below; each module defines ``__dir__`` to return its
``__all__``. A module that is added, removed or renamed, and a name that is added to or dropped
from a module, fails :func:`test_public_module_api` or :func:`test_every_public_module_is_pinned`
until this file says so.
"""

import importlib
import pkgutil
import subprocess
import sys

import pytest

import hepcombine

PUBLIC_API: dict[str, list[str]] = {
    "hepcombine": [
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
    ],
    "hepcombine.adapters": [
        "DifferentialMeasurement",
        "Systematic",
        "differential_observables",
        "measurement_from_graph",
        "measurement_from_histograms",
    ],
    "hepcombine.binning": ["Binning", "Quantity"],
    "hepcombine.blue": ["Blue", "Compatibility", "CorrelationScan", "blue_from_csv"],
    "hepcombine.chi2": ["CombinedChi2", "MeasurementBlock"],
    "hepcombine.cli": ["main"],
    "hepcombine.combiner": ["Combiner"],
    "hepcombine.config": ["CombinationSpec", "ScanGroup", "load_config", "read_yaml"],
    "hepcombine.convino": ["read_convino", "read_measurement_file", "write_convino"],
    "hepcombine.correlations": [
        "CorrelationFactor",
        "factorize_correlations",
        "nearest_correlation_matrix",
    ],
    "hepcombine.differential": [
        "DifferentialResult",
        "NormalisedDistribution",
        "combine_differential",
        "normalise",
        "root_key",
    ],
    "hepcombine.exceptions": [
        "ConfigError",
        "FitError",
        "HepCombineError",
        "IntervalError",
        "InvalidCorrelation",
        "InvalidMeasurement",
        "UnknownName",
    ],
    "hepcombine.jsonio": [
        "SCHEMA_VERSION",
        "dumps",
        "finite_or_none",
        "load_schema",
        "result_to_dict",
    ],
    "hepcombine.measurement": ["DifferentialMeasurement", "Measurement"],
    "hepcombine.plots": [],
    "hepcombine.plots.blue": [
        "plot_correlation_scan",
        "plot_correlation_scan_values",
        "plot_summary",
        "plot_summary_values",
    ],
    "hepcombine.plots.result": [
        "inputs_for",
        "plot_correlation",
        "plot_pulls",
        "plot_spectrum",
        "plot_summary",
    ],
    "hepcombine.plots.scan": ["plot_scan"],
    "hepcombine.report": ["MAX_MATRIX", "PAIR_THRESHOLD", "format_result", "normalised_arrays"],
    "hepcombine.result": ["CombinationResult", "NamedMatrix", "Table"],
    "hepcombine.rootio": [
        "TESTED_UPROOT_VERSIONS",
        "GraphAsymmErrors",
        "GraphErrors",
        "write_root",
    ],
    "hepcombine.scan": ["ScanResult", "scan_all", "scan_correlations"],
    "hepcombine.solver": ["TOLERANCE", "Solution", "make_minuit", "minimise", "profile_intervals"],
}

#: The engine modules (rewritten in parallel) pin their ``__all__`` only; they define no
#: ``__dir__`` yet.
ALL_ONLY = {"hepcombine.chi2", "hepcombine.solver"}


def _public_modules() -> list[str]:
    names = ["hepcombine"]
    for info in pkgutil.walk_packages(hepcombine.__path__, "hepcombine."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def test_every_public_module_is_pinned():
    assert _public_modules() == sorted(PUBLIC_API)


@pytest.mark.parametrize("module", sorted(PUBLIC_API))
def test_public_module_api(module):
    mod = importlib.import_module(module)
    expected = sorted(PUBLIC_API[module])
    assert sorted(mod.__all__) == expected
    if module not in ALL_ONLY:
        assert dir(mod) == expected
    for name in mod.__all__:
        assert getattr(mod, name) is not None, name


def test_import_is_light():
    """``import hepcombine`` must not pull in scipy, matplotlib or uproot (CLI start-up)."""
    code = "import sys, hepcombine; print(sorted(m for m in ('scipy', 'matplotlib', 'uproot', 'iminuit') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_version_is_written_once():
    """The installed distribution's version is read from ``hepcombine.__version__`` (hatch's
    ``[tool.hatch.version]``), not written a second time in pyproject.toml."""
    import importlib.metadata
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]
    assert pyproject["project"]["dynamic"] == ["version"]
    assert importlib.metadata.version("hepcombine") == hepcombine.__version__
