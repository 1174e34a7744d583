"""Deprecated: moved to hepcombine.outputs.root (this module re-exports the 0.1 names for one
release and will be removed in 0.3)."""

from __future__ import annotations

import warnings

from .outputs.root import TESTED_UPROOT_VERSIONS, GraphAsymmErrors, GraphErrors, write_root

__all__ = ["TESTED_UPROOT_VERSIONS", "GraphAsymmErrors", "GraphErrors", "write_root"]

warnings.warn(
    "hepcombine.rootio is deprecated; import from hepcombine.outputs.root (or from hepcombine)",
    DeprecationWarning,
    stacklevel=2,
)


def __dir__() -> list[str]:
    return list(__all__)
