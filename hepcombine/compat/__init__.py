"""Compatibility diagnostics of a combination (issue 19): when the inputs disagree.

* :func:`compatibility` — per input (every estimate of every measurement, every bin) its pull
  against the combination with the variance of the difference, correlations included; the
  combination without each measurement (shift of every value and its significance, the
  likelihood-ratio test of the measurement against the rest); each measurement's share of
  χ²_min; the PDG scale factor S = √(χ²/ndf) and the S-scaled combination; p-values calibrated
  with pseudo-experiments. Definitions and derivations: :mod:`.diagnostics` and :mod:`.linear`.
* :class:`CompatibilityResult` and its parts (:class:`InputPull`, :class:`Contribution`,
  :class:`LeaveOneOut`, :class:`ToyCalibration`, :class:`ToyPValue`), keyed by name.
* :func:`combiner_without`, :func:`scaled_combiner` — the combinations behind them.

Tables and JSON: :mod:`hepcombine.outputs.compat`; plots (pulls, ideogram, leave-one-out):
:mod:`hepcombine.plots.compat`; the command line: ``hepcombine compat CONFIG``.

Example::

    from hepcombine import load_config
    from hepcombine.compat import compatibility

    diag = compatibility(load_config("data/ttbar_8tev_emu.yaml"), scale=True, toys=2000, seed=1)
    diag.pulls["ATLAS:sigma_tt"].pull, diag.leave_one_out["CMS"].significance["sigma_tt"]
    diag.scale_factor, diag.toys.chi2.pvalue
"""

from __future__ import annotations

from .diagnostics import combiner_without, scaled_combiner
from .result import (
    CompatibilityResult,
    Contribution,
    InputPull,
    LeaveOneOut,
    ToyCalibration,
    ToyPValue,
)
from .study import compatibility

__all__ = [
    "CompatibilityResult",
    "Contribution",
    "InputPull",
    "LeaveOneOut",
    "ToyCalibration",
    "ToyPValue",
    "combiner_without",
    "compatibility",
    "scaled_combiner",
]


def __dir__() -> list[str]:
    return list(__all__)
