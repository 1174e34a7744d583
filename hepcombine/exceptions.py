"""The exceptions hepcombine raises for problems a user can cause.

Every error a user can trigger with bad input is a subclass of :class:`HepCombineError`, and its
message says what is wrong, where (measurement, source, file, line) and, when possible, what to
do about it.
"""

from __future__ import annotations

__all__ = [
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
]


class HepCombineError(Exception):
    """Base class of all hepcombine errors."""


class InvalidMeasurement(HepCombineError, ValueError):
    """A measurement's inputs are inconsistent: NaN, wrong shape, not positive definite, ..."""


class UnknownName(HepCombineError, KeyError):
    """A name (estimate, source, observable, measurement) that is not defined."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class InvalidCorrelation(HepCombineError, ValueError):
    """A correlation assumption is out of range or the assumed matrix is not positive
    semi-definite."""


class FitError(HepCombineError, RuntimeError):
    """The minimisation did not converge, or its covariance is not usable."""


class IntervalError(HepCombineError, RuntimeError):
    """A profile-likelihood (Minos) interval could not be determined."""


class ConfigError(HepCombineError, ValueError):
    """A configuration or input file is malformed; the message names file, line and block."""


class HEPDataError(ConfigError):
    """A HEPData record is malformed or ambiguous, or does not hold what was asked for; the
    message names file, table, variable and bin."""


class InvalidArgument(HepCombineError, ValueError, TypeError):
    """An argument or option has a value or type hepcombine does not accept (an unknown χ²
    definition, too few scan points, an object of the wrong kind). It is a ``ValueError`` and a
    ``TypeError``, so code written against the builtin exceptions keeps working."""


class OutputError(HepCombineError, ValueError):
    """An output cannot be written as asked: an object the format cannot hold, an invalid or
    repeated output name. Nothing is written then. (Failures of the file system itself are
    ``OSError``.)"""


class RunError(HepCombineError, RuntimeError):
    """A run of many tasks (pseudo-experiments, scans) cannot be carried out as asked: bad
    arguments, an output directory that cannot be written or holds another run, an
    unreachable Dask scheduler, Dask not installed, a chunk that failed on the cluster."""


class GenerationError(HepCombineError):
    """A pseudo-experiment that cannot be generated (recorded as a failed toy, with its
    message)."""


def __dir__() -> list[str]:
    return list(__all__)
