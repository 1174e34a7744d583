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
        "Binning",
        "Blue",
        "BlueResult",
        "CombinationResult",
        "CombinationSpec",
        "Combiner",
        "Compatibility",
        "CompatibilityResult",
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
        "compatibility",
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
    ],
    "hepcombine.binning": ["Binning", "Binning2D", "Qualifier", "Quantity", "as_1d"],
    "hepcombine.blue": [
        "Blue",
        "BlueInputs",
        "BlueResult",
        "Compatibility",
        "CorrelationScan",
        "blue_from_csv",
    ],
    "hepcombine.blue.inputs": ["BlueInputs", "Scaling"],
    "hepcombine.blue.method": ["Blue", "Compatibility", "CorrelationScan", "blue_from_csv"],
    "hepcombine.blue.result": ["BlueResult"],
    "hepcombine.chi2": ["CombinedChi2", "GammaConstraint", "MeasurementBlock"],
    "hepcombine.eps_scan": ["EpsScanResult", "scan_errors_on_errors"],
    "hepcombine.errors_on_errors": ["KINDS", "ErrorOnError", "ErrorOnErrorTerm"],
    "hepcombine.cli": ["COMMANDS", "build_parser", "main"],
    "hepcombine.cli.blue": ["register", "run"],
    "hepcombine.cli.combine": ["register", "run"],
    "hepcombine.cli.compat": ["register", "run"],
    "hepcombine.cli.plot": ["register", "run"],
    "hepcombine.cli.scan": ["register", "run"],
    "hepcombine.cli.toys": ["register", "run"],
    "hepcombine.combiner": ["Combiner"],
    "hepcombine.compat": [
        "CompatibilityResult",
        "Contribution",
        "InputPull",
        "LeaveOneOut",
        "ToyCalibration",
        "ToyPValue",
        "combiner_without",
        "compatibility",
        "scaled_combiner",
    ],
    "hepcombine.compat.diagnostics": ["combiner_without", "scaled_combiner"],
    "hepcombine.compat.linear": [
        "DataCovariance",
        "Layout",
        "LinearCombination",
        "constraint_shares",
        "data_covariance",
        "layout",
        "response",
    ],
    "hepcombine.compat.result": [
        "CompatibilityResult",
        "Contribution",
        "InputPull",
        "LeaveOneOut",
        "ToyCalibration",
        "ToyPValue",
    ],
    "hepcombine.compat.study": ["compatibility"],
    "hepcombine.compat.toys": ["CompatibilityTask", "LinearToys", "calibrate"],
    "hepcombine.correlations": [
        "CorrelationFactor",
        "factorize_correlations",
        "nearest_correlation_matrix",
    ],
    "hepcombine.differential": ["DifferentialResult", "NormalisedDistribution", "normalise"],
    "hepcombine.exceptions": [
        "ConfigError",
        "FitError",
        "GenerationError",
        "HEPDataError",
        "HepCombineError",
        "IntervalError",
        "InvalidArgument",
        "InvalidCorrelation",
        "InvalidMeasurement",
        "OutputError",
        "RunError",
        "UnknownName",
    ],
    "hepcombine.execution": [
        "ChunkTask",
        "check_execution",
        "content_fingerprint",
        "item_rng",
        "run_chunks",
    ],
    "hepcombine.formatting": [
        "Rounded",
        "breakdown_table",
        "degrees_of_freedom",
        "format_value",
        "latex_escape",
        "pdg_digits",
        "pdg_precision",
        "pdg_round",
        "result_table",
        "stat_error",
        "total_errors",
        "value_cell",
    ],
    "hepcombine.inputs": ["load_config"],
    "hepcombine.inputs.hepdata": [
        "HEPDataBreakdown",
        "HEPDataMatrix",
        "HEPDataVariable",
        "hepdata_tables",
        "read_hepdata",
        "read_hepdata_matrix",
        "read_hepdata_table",
    ],
    "hepcombine.inputs.convino": ["read_convino", "read_measurement_file"],
    "hepcombine.inputs.csv": ["read_blue_csv"],
    "hepcombine.inputs.histograms": [
        "Systematic",
        "combine_differential",
        "differential_observables",
        "differential_spec",
        "measurement_from_graph",
        "measurement_from_histograms",
    ],
    "hepcombine.inputs.gvm": ["is_gvm_file", "read_gvm"],
    "hepcombine.inputs.yaml": ["read_yaml"],
    "hepcombine.inputs.yoda": ["YodaObject", "read_yoda", "read_yoda_measurement", "yoda_objects"],
    "hepcombine.linear_maps": ["LinearQuantity", "linear_quantities"],
    "hepcombine.measurement": ["DifferentialMeasurement", "Measurement"],
    "hepcombine.names": ["Names", "Ref", "SHOWN", "did_you_mean", "some_names"],
    "hepcombine.outputs": [],
    "hepcombine.outputs.atomic": ["OutputSet", "atomic_write_text", "output_set"],
    "hepcombine.outputs.combination": [
        "contour_graph",
        "contour_objects",
        "differential_result",
        "hepdata_tables",
        "normalised",
        "root_objects",
    ],
    "hepcombine.outputs.compat": [
        "SCHEMA_VERSION",
        "compatibility_tables",
        "compatibility_to_dict",
        "format_compatibility",
        "leave_one_out_table",
        "load_schema",
        "measurements_table",
        "pulls_table",
    ],
    "hepcombine.outputs.convino": ["write_convino"],
    "hepcombine.outputs.hepdata": [
        "HEPDataOptions",
        "HEPDataSubmission",
        "HEPDataTables",
        "prepare_hepdata",
        "write_hepdata",
    ],
    "hepcombine.outputs.hs3": ["HS3Model", "hs3_model"],
    "hepcombine.outputs.hist": [
        "distribution_hist",
        "distribution_hist_2d",
        "is_uniform",
        "matrix_hist",
        "regular_or_variable_axis",
        "result_hist",
        "result_matrix_hist",
        "to_hist",
    ],
    "hepcombine.outputs.json": [
        "SCHEMA_VERSION",
        "blue_to_dict",
        "differential_to_dict",
        "dumps",
        "finite_or_none",
        "load_schema",
        "result_to_dict",
        "scans_to_dict",
    ],
    "hepcombine.outputs.root": [
        "Graph",
        "GraphAsymmErrors",
        "GraphErrors",
        "TESTED_UPROOT_VERSIONS",
        "VALUE_LABEL",
        "breakdown_keys",
        "differential_objects",
        "result_objects",
        "root_key",
        "to_pyroot",
        "write_root",
    ],
    "hepcombine.outputs.simplified": [
        "SimplifiedLikelihood",
        "quadratic_model",
        "simplified_likelihood",
    ],
    "hepcombine.outputs.text": [
        "MAX_MATRIX",
        "PAIR_THRESHOLD",
        "format_blue",
        "format_result",
        "is_quadratic",
        "normalised_arrays",
    ],
    "hepcombine.outputs.yoda": [
        "combination_object",
        "combination_yoda",
        "format_yoda",
        "measurement_objects",
    ],
    "hepcombine.plots": [],
    "hepcombine.plots.blue": [
        "plot_correlation_scan",
        "plot_correlation_scan_values",
        "plot_summary",
        "plot_summary_values",
    ],
    "hepcombine.plots.combination": ["MAX_SUMMARY_PLOTS", "combination_figures", "file_stem"],
    "hepcombine.plots.compat": ["plot_ideogram", "plot_leave_one_out", "plot_pulls"],
    "hepcombine.plots.toys": ["plot_chi2_distribution", "plot_coverage", "plot_pull_distribution"],
    "hepcombine.plots.result": [
        "display_names",
        "inputs_for",
        "plot_breakdown",
        "plot_correlation",
        "plot_differential",
        "plot_pulls",
        "plot_spectrum",
        "plot_summary",
    ],
    "hepcombine.plots.contour": ["contour_label", "plot_contour"],
    "hepcombine.plots.scan": ["plot_eps_scan", "plot_scan"],
    "hepcombine.plots.style": [
        "COMBINED",
        "INPUT",
        "STAT",
        "STYLES",
        "THEORY",
        "ExperimentLabel",
        "draw_label",
        "use_style",
    ],
    "hepcombine.rebinning": [
        "CONTENTS",
        "MATCHES",
        "Rebinned",
        "merge_matrix",
        "merge_measurement",
        "rebin",
    ],
    "hepcombine.result": ["BartlettCorrection", "CombinationResult", "NamedMatrix", "Table"],
    "hepcombine.scan": ["ScanResult", "scan_all", "scan_correlations"],
    "hepcombine.solver": [
        "EDM_GOAL",
        "Solution",
        "blas_threads",
        "make_minuit",
        "minimise",
        "profile_intervals",
    ],
    "hepcombine.solver.bartlett": ["Bartlett", "bartlett_factors", "intervals_at"],
    "hepcombine.solver.gvm": [
        "SCREEN",
        "Quadratic",
        "branch_profile",
        "candidates",
        "lowest_minimum",
        "verify_intervals",
    ],
    "hepcombine.solver.contours": ["DEFAULT_CL", "Contour", "Profile", "contour", "delta_chi2_for"],
    "hepcombine.solver.intervals": ["Endpoint", "profile_intervals"],
    "hepcombine.solver.minuit": ["TOLERANCE", "make_minuit", "migrad", "minos"],
    "hepcombine.solver.kinkscreen": ["KinkScreen", "PointBounds"],
    "hepcombine.solver.path": ["PathEnd", "follow"],
    "hepcombine.solver.batched": [
        "BatchedChi2",
        "batched_newton",
        "far_side_screens",
        "quadratic_starts",
    ],
    "hepcombine.solver.newton": [
        "EDM_GOAL",
        "KinkGroups",
        "Minimum",
        "global_minimise",
        "improve_once",
        "newton_minimise",
    ],
    "hepcombine.spec": ["CombinationSpec", "FORMATS", "ScanGroup"],
    "hepcombine.toys": [
        "COVERAGE_68",
        "ChunkTask",
        "GaussianFit",
        "GenerationError",
        "PseudoExperiment",
        "RunError",
        "ToyModel",
        "ToyResult",
        "ToyTask",
        "fit_gaussian",
        "item_rng",
        "load_toys",
        "run_chunks",
        "run_toys",
    ],
    "hepcombine.toys.batched": ["BATCH", "Recombined", "batched_applies", "recombine_batched"],
    "hepcombine.toys.linear": ["BLOCK", "LinearRecombination", "linear_recombination"],
    "hepcombine.toys.model": [
        "RESPONSES",
        "PseudoExperiment",
        "ToyModel",
        "combiner_with_definition",
        "estimate_parameters",
    ],
    "hepcombine.toys.study": ["ToyTask", "load_toys", "run_toys"],
    "hepcombine.toys.summary": ["COVERAGE_68", "GaussianFit", "ToyResult", "fit_gaussian"],
}

#: The 0.1 module paths, deprecated re-exports in the wave before 0.3, removed in 0.3.
REMOVED = ("hepcombine.adapters", "hepcombine.config", "hepcombine.convino", "hepcombine.rootio")

#: The engine modules (rewritten in parallel) pin their ``__all__`` only; they define no
#: ``__dir__`` yet.
ALL_ONLY: set[str] = set()


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


@pytest.mark.parametrize("module", REMOVED)
def test_removed_paths_do_not_import(module):
    """The four 0.1 paths are gone in 0.3 (CHANGELOG): importing one is an ImportError, not a
    silent success."""
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module(module)


def test_import_is_light():
    """``import hepcombine`` must not pull in scipy, matplotlib or uproot (CLI start-up)."""
    code = "import sys, hepcombine; print(sorted(m for m in ('scipy', 'matplotlib', 'uproot', 'iminuit') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_version_is_written_once():
    """The installed distribution's version is read from ``hepcombine/_version.py`` (hatch's
    ``[tool.hatch.version]``; no module needs the package root for it), not written a second
    time in pyproject.toml."""
    import importlib.metadata
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert "version" not in pyproject["project"]
    assert pyproject["project"]["dynamic"] == ["version"]
    assert pyproject["tool"]["hatch"]["version"]["path"] == "hepcombine/_version.py"
    assert importlib.metadata.version("hepcombine") == hepcombine.__version__


def test_results_know_no_writers():
    """Results carry numbers; the outputs are functions of a result in ``hepcombine.outputs``
    (0.3): no writer methods on the result types, and the functions that replace them, with
    their keywords."""
    import dataclasses
    import inspect

    from hepcombine import BlueResult, CombinationResult, DifferentialResult
    from hepcombine.outputs.hist import to_hist
    from hepcombine.outputs.root import breakdown_keys, to_pyroot, write_root

    writers = ("to_root", "to_hist", "root_objects", "write_root", "write_hepdata")
    for cls in (CombinationResult, DifferentialResult, BlueResult):
        assert [w for w in (*writers, "breakdown_keys") if hasattr(cls, w)] == [], cls
    assert not hasattr(BlueResult, "summary")  # hepcombine.outputs.text.format_blue

    def params(f):
        return list(inspect.signature(f).parameters)

    assert params(to_pyroot) == ["objects", "normalised", "graph_errors"]
    assert params(write_root) == ["path", "objects", "directory", "normalised", "graph_errors"]
    assert params(to_hist) == ["result", "normalised"]
    assert params(breakdown_keys) == ["result"]
    assert "quantity" in params(DifferentialResult.from_result)
    assert [f.name for f in dataclasses.fields(DifferentialResult)][-1] == "quantity"
