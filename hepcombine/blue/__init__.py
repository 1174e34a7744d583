"""The Best Linear Unbiased Estimate (BLUE), by stage: :mod:`~hepcombine.blue.inputs` (tables →
:class:`BlueInputs`), :mod:`~hepcombine.blue.method` (:class:`Blue`: the solve, iterations,
information weights, scans, the seed notebook's interface) and :mod:`~hepcombine.blue.result`
(:class:`BlueResult`, frozen and keyed by name). CSV tables are read by
:mod:`hepcombine.inputs.csv`.
"""

from __future__ import annotations

from .inputs import BlueInputs
from .method import Blue, Compatibility, CorrelationScan, blue_from_csv
from .result import BlueResult

__all__ = [
    "Blue",
    "BlueInputs",
    "BlueResult",
    "Compatibility",
    "CorrelationScan",
    "blue_from_csv",
]


def __dir__() -> list[str]:
    return list(__all__)
