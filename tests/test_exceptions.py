"""Errors a user can cause are hepcombine exceptions (with the builtin a caller may expect),
never a plain ValueError/TypeError from deep inside."""

import numpy as np
import pytest

from hepcombine import Combiner, Measurement, ScanGroup, scan_all
from hepcombine.differential import DifferentialResult
from hepcombine.exceptions import HepCombineError, InvalidArgument, OutputError
from hepcombine.outputs.hist import to_hist
from hepcombine.outputs.root import differential_objects, to_pyroot
from hepcombine.outputs.text import normalised_arrays
from hepcombine.result import Table


def _combiner():
    return Combiner([Measurement.from_uncertainties({"x": 1.0}, {"x": 0.1}, name="A")])


CASES = {
    "chi2": lambda: Combiner(_combiner().measurements, chi2="poisson"),
    "asymmetry": lambda: Combiner(_combiner().measurements, asymmetry="cubic"),
    "scan points": lambda: ScanGroup("g", [], n_points=1),
    "scan_all type": lambda: scan_all(42),
    "scan_all groups": lambda: scan_all(_combiner()),
    "table shape": lambda: Table(("a",), ("b", "c"), np.zeros((1, 1))),
    "normalised": lambda: normalised_arrays(_combiner().combine(), ([1.0, 2.0], [[1.0]])),
    "invalid=": lambda: DifferentialResult.from_result(_combiner().combine()).asymmetric_errors(
        invalid="zero"
    ),
    "graph_errors=": lambda: differential_objects(
        DifferentialResult.from_result(_combiner().combine()), graph_errors="none"
    ),
    "normalised= of a result": lambda: to_hist(_combiner().combine(), normalised=True),
    "to_hist of a table": lambda: to_hist(Table(("a",), ("b",), np.zeros((1, 1)))),
    "options of given objects": lambda: to_pyroot({}, graph_errors="symmetric"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_arguments_are_invalid_argument(case):
    with pytest.raises(InvalidArgument) as info:
        CASES[case]()
    assert isinstance(info.value, HepCombineError)
    assert isinstance(info.value, ValueError) and isinstance(info.value, TypeError)


def test_output_error_is_a_hepcombine_error():
    assert issubclass(OutputError, HepCombineError) and issubclass(OutputError, ValueError)
