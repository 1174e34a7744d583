"""Pseudo-experiments of a combination: bias, pull width, coverage, χ²_min (issue 11).

* :func:`run_toys` — generate pseudo-measurements from a combination's own model, recombine
  each with the same assumptions, and summarise (:class:`ToyResult`); in-process or on Dask,
  streaming to a directory that a restarted run resumes from.
* :class:`ToyModel` — the generation model (:mod:`hepcombine.toys.model` derives it).
* :func:`run_chunks`, :func:`item_rng` — the generic chunked runner (any task of the form
  ``task(start, stop, seed) -> {field: array}``), also for large correlation scans.

Example::

    from hepcombine import Combiner
    from hepcombine.toys import run_toys

    result = run_toys(Combiner(measurements, correlations=rho), 2000, seed=1)
    print(result)                      # bias, pull width, coverage per observable
    result.bias["sigma_tt"], result.coverage["sigma_tt"]
"""

from __future__ import annotations

from ..exceptions import GenerationError, RunError
from ..execution import ChunkTask, item_rng, run_chunks
from .model import PseudoExperiment, ToyModel
from .study import ToyTask, load_toys, run_toys
from .summary import COVERAGE_68, GaussianFit, ToyResult, fit_gaussian

__all__ = [
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
]


def __dir__() -> list[str]:
    return list(__all__)
