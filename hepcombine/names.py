"""References to estimates and sources of named measurements: the one name resolver.

Every input form, the combiner and the plots resolve ``"measurement:name"`` with
:class:`Names`, so a reference means the same everywhere. A reference is

* a tuple ``("measurement", "name")`` (exact),
* a qualified string ``"measurement:name"``, or
* a bare ``"name"`` where that name is used by one measurement only (a bare name used by several
  measurements is an error naming the choices, unless the caller asks for all of them with
  ``shared=True``: Convino's ``sharedNames`` and YAML's ``shared_names``).

A name that itself contains ``:`` can be given bare. Problems raise
:class:`~hepcombine.exceptions.UnknownName` with the known names; readers add file and line.

This module knows nothing about files, fits or results.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from .exceptions import UnknownName

if TYPE_CHECKING:
    from .measurement import Measurement

__all__ = ["Names", "Ref"]

#: A reference to an estimate or a source (see the module docstring).
Ref = str | tuple[str, str]
Kind = Literal["estimate", "source"]

_SHOWN = 12


class Names:
    """The estimates and sources of ``{name: Measurement}``, in parameter order.

    Attributes
    ----------
    measurements:
        The measurements by name.
    estimates, sources:
        ``(measurement, name)`` of every estimate / source, in the order of the measurements
        and, within one, of its ``estimate_names`` / ``source_names``.
    """

    def __init__(self, measurements: Mapping[str, Measurement]) -> None:
        self.measurements = measurements
        self.estimates = tuple(
            (m, e) for m, meas in measurements.items() for e in meas.estimate_names
        )
        self.sources = tuple((m, s) for m, meas in measurements.items() for s in meas.source_names)
        self._index: dict[str, dict[tuple[str, str], int]] = {
            "estimate": {k: i for i, k in enumerate(self.estimates)},
            "source": {k: i for i, k in enumerate(self.sources)},
        }
        self._bare: dict[str, dict[str, list[int]]] = {"estimate": {}, "source": {}}
        for kind, keys in (("estimate", self.estimates), ("source", self.sources)):
            for i, (_, n) in enumerate(keys):
                self._bare[kind].setdefault(n, []).append(i)

    # ------------------------------------------------------------------ resolution
    def _find(self, ref: Ref, kind: Kind) -> list[int]:
        index = self._index[kind]
        if isinstance(ref, tuple):
            if len(ref) == 2 and (str(ref[0]), str(ref[1])) in index:
                return [index[(str(ref[0]), str(ref[1]))]]
            raise UnknownName(f"unknown {kind} {ref!r}; {self._known(kind)}")
        ref = str(ref)
        if ":" in ref:
            m, _, n = ref.partition(":")
            if (m, n) in index:
                return [index[(m, n)]]
            if m in self.measurements and ref not in self._bare[kind]:
                names = [k[1] for k in index if k[0] == m]
                raise UnknownName(f"measurement {m!r} has no {kind} {n!r}; its {kind}s are {names}")
        hits = self._bare[kind].get(ref)
        if hits:
            return list(hits)
        raise UnknownName(
            f"unknown {kind} {ref!r}; {self._known(kind)} (qualify a name as "
            f"'measurement:{kind}' when it is not unique)"
        )

    def _one(self, ref: Ref, kind: Kind) -> int:
        hits = self._find(ref, kind)
        if len(hits) > 1:
            keys = self.estimates if kind == "estimate" else self.sources
            where = [keys[i][0] for i in hits]
            options = [f"{keys[i][0]}:{keys[i][1]}" for i in hits]
            raise UnknownName(
                f"{kind} {ref!r} is ambiguous: it is defined in several measurements {where}; "
                f"write one of {options}"
            )
        return hits[0]

    def _known(self, kind: Kind) -> str:
        keys = self.estimates if kind == "estimate" else self.sources
        names = [f"{m}:{n}" for m, n in keys]
        if not names:
            return f"no {kind}s are defined"
        shown = ", ".join(names[:_SHOWN]) + (", …" if len(names) > _SHOWN else "")
        return f"known {kind}s are {shown}"

    def estimate(self, ref: Ref) -> int:
        """Index (into :attr:`estimates`) of the estimate ``ref``."""
        return self._one(ref, "estimate")

    def source(self, ref: Ref) -> int:
        """Index (into :attr:`sources`) of the source ``ref``."""
        return self._one(ref, "source")

    def sources_of(self, ref: Ref, shared: bool = False) -> list[int]:
        """Indices of the sources ``ref`` stands for: one or, with ``shared``, every source of
        that bare name."""
        if shared:
            return self._find(ref, "source")
        return [self._one(ref, "source")]

    # ------------------------------------------------------------------ qualified names
    def estimate_name(self, i: int) -> str:
        """``"measurement:estimate"`` of estimate ``i``."""
        m, e = self.estimates[i]
        return f"{m}:{e}"

    def source_name(self, i: int) -> str:
        """``"measurement:source"`` of source ``i``."""
        m, s = self.sources[i]
        return f"{m}:{s}"

    def qualified_estimate(self, ref: Ref) -> str:
        """The qualified form ``"measurement:estimate"`` of ``ref``."""
        return self.estimate_name(self.estimate(ref))

    def qualified_sources(self, ref: Ref, shared: bool = False) -> list[str]:
        """The qualified forms of :meth:`sources_of`."""
        return [self.source_name(i) for i in self.sources_of(ref, shared)]

    def shared_sources(self) -> dict[str, list[str]]:
        """``{bare name: [qualified sources]}`` for source names used by several
        measurements."""
        return {
            n: [self.source_name(i) for i in idx]
            for n, idx in self._bare["source"].items()
            if len(idx) > 1
        }


def __dir__() -> list[str]:
    return list(__all__)
