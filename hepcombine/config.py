"""Deprecated: moved to hepcombine.spec and hepcombine.inputs (this module re-exports the 0.1 names for one
release and will be removed in 0.3)."""

from __future__ import annotations

import warnings

from .inputs import load_config
from .inputs.yaml import read_yaml
from .spec import CombinationSpec, ScanGroup

__all__ = ["CombinationSpec", "ScanGroup", "load_config", "read_yaml"]

warnings.warn(
    "hepcombine.config is deprecated; import from hepcombine.spec and hepcombine.inputs (or from hepcombine)",
    DeprecationWarning,
    stacklevel=2,
)


def __dir__() -> list[str]:
    return list(__all__)
