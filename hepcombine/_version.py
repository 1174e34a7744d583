"""The version of hepcombine, written once here (hatch reads it for the distribution)."""

from __future__ import annotations

__version__ = "0.1.0"
