"""Deprecated: moved to hepcombine.inputs.convino and hepcombine.outputs.convino (this module re-exports the 0.1 names for one
release and will be removed in 0.3)."""

from __future__ import annotations

import warnings

from .inputs.convino import read_convino, read_measurement_file
from .outputs.convino import write_convino

__all__ = ["read_convino", "read_measurement_file", "write_convino"]

warnings.warn(
    "hepcombine.convino is deprecated; import from hepcombine.inputs.convino and hepcombine.outputs.convino (or from hepcombine)",
    DeprecationWarning,
    stacklevel=2,
)


def __dir__() -> list[str]:
    return list(__all__)
