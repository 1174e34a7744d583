"""The public API is pinned: a change to it is a visible diff here (as in pyhf)."""

import subprocess
import sys

import hepcombine

EXPECTED = {
    "Blue",
    "CombinationResult",
    "CombinationSpec",
    "Combiner",
    "Compatibility",
    "ConfigError",
    "CorrelationScan",
    "DifferentialMeasurement",
    "DifferentialResult",
    "NormalisedDistribution",
    "combine_differential",
    "normalise",
    "FitError",
    "GraphAsymmErrors",
    "GraphErrors",
    "HepCombineError",
    "IntervalError",
    "InvalidCorrelation",
    "InvalidMeasurement",
    "Measurement",
    "NamedMatrix",
    "ScanGroup",
    "ScanResult",
    "scan_all",
    "scan_correlations",
    "Systematic",
    "Table",
    "UnknownName",
    "__version__",
    "blue_from_csv",
    "differential_observables",
    "load_config",
    "measurement_from_graph",
    "measurement_from_histograms",
    "read_convino",
    "read_measurement_file",
    "read_yaml",
    "write_convino",
    "write_root",
}


def test_all_is_pinned():
    assert set(hepcombine.__all__) == EXPECTED


def test_every_export_resolves():
    for name in hepcombine.__all__:
        assert getattr(hepcombine, name) is not None


def test_import_is_light():
    """``import hepcombine`` must not pull in scipy, matplotlib or uproot (CLI start-up)."""
    code = "import sys, hepcombine; print(sorted(m for m in ('scipy', 'matplotlib', 'uproot', 'iminuit') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
