"""References to estimates and sources of named measurements: the one name resolver.

Every input form, the combiner and the plots resolve ``"measurement:name"`` with
:class:`Names`, so a reference means the same everywhere. A reference is

* a tuple ``("measurement", "name")`` (exact),
* a qualified string ``"measurement:name"``, or
* a bare ``"name"`` where that name is used by one measurement only (a bare name used by several
  measurements is an error naming the choices, unless the caller asks for all of them with
  ``shared=True``: Convino's ``sharedNames`` and YAML's ``shared_names``).

A name that itself contains ``:`` can be given bare. Problems raise
:class:`~hepcombine.exceptions.UnknownName` naming a handful of the known names and, for a
near miss, the likely intended one (:func:`did_you_mean`); readers add file and line. Every
message of hepcombine that names an unknown name uses :func:`did_you_mean` and
:func:`some_names`, so that it stays one readable line however many names there are.

This module knows nothing about files, fits or results.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Literal

from .exceptions import UnknownName

if TYPE_CHECKING:
    from .measurement import Measurement

__all__ = ["SHOWN", "Names", "Ref", "did_you_mean", "some_names"]

#: A reference to an estimate or a source (see the module docstring).
Ref = str | tuple[str, str]
Kind = Literal["estimate", "source"]

#: How many names an error message lists at most.
SHOWN = 5


def did_you_mean(name: object, candidates: Iterable[str], n: int = 3) -> str:
    """``" (did you mean 'a' or 'b'?)"`` for the candidates closest to ``name``, or ``""`` when
    none is close: ``difflib``'s close matches (case-insensitive), the fewest edits first."""
    names = list(dict.fromkeys(str(c) for c in candidates))
    text = str(name)
    lower = {c.lower(): c for c in reversed(names)}
    hits = difflib.get_close_matches(text.lower(), list(lower), n=max(50, n), cutoff=0.6)
    hits.sort(key=lambda h: _edits(text.lower(), h))  # stable: difflib's order among ties
    close = [lower[h] for h in hits if lower[h] != text][:n]
    if not close:
        return ""
    quoted = [repr(c) for c in close]
    joined = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f" (did you mean {joined}?)"


def _edits(a: str, b: str) -> int:
    """The Levenshtein distance of two strings (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def some_names(names: Iterable[str], n: int = SHOWN) -> str:
    """At most ``n`` of ``names``, comma-separated, with the total when some are left out
    (``"a, b, c, … (143 in all)"``); ``"none"`` when there are none."""
    names = list(names)
    if not names:
        return "none"
    shown = ", ".join(str(x) for x in names[:n])
    return shown if len(names) <= n else f"{shown}, … ({len(names)} in all)"


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
            near = did_you_mean(":".join(map(str, ref)), self._qualified(kind))
            raise UnknownName(f"unknown {kind} {ref!r}{near}; {self._known(kind)}")
        ref = str(ref)
        if ":" in ref:
            m, _, n = ref.partition(":")
            if (m, n) in index:
                return [index[(m, n)]]
            if m in self.measurements and ref not in self._bare[kind]:
                names = [k[1] for k in index if k[0] == m]
                raise UnknownName(
                    f"measurement {m!r} has no {kind} {n!r}{did_you_mean(n, names)}; its "
                    f"{kind}s are {some_names(names)}"
                )
        hits = self._bare[kind].get(ref)
        if hits:
            return list(hits)
        near = did_you_mean(ref, [*self._bare[kind], *self._qualified(kind)])
        raise UnknownName(
            f"unknown {kind} {ref!r}{near}; {self._known(kind)} (qualify a name as "
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

    def _qualified(self, kind: Kind) -> list[str]:
        keys = self.estimates if kind == "estimate" else self.sources
        return [f"{m}:{n}" for m, n in keys]

    def _known(self, kind: Kind) -> str:
        names = self._qualified(kind)
        if not names:
            return f"no {kind}s are defined"
        return f"known {kind}s are {some_names(names)}"

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

    def matching(self, ref: Ref) -> list[int]:
        """Indices of the sources ``ref`` stands for, where a name may mean several: a
        pattern (``*``, ``?``, ``[…]``; with a ``:`` it is matched against the qualified names
        ``"measurement:source"``, without against the bare source names), a bare name (every
        source of that name), a qualified name or a tuple (one source). A pattern that matches
        nothing raises :class:`~hepcombine.exceptions.UnknownName`."""
        import fnmatch

        if isinstance(ref, str) and any(c in ref for c in "*?["):
            pattern = ref.strip()
            if ":" in pattern:
                hits = [
                    i
                    for i, (m, s) in enumerate(self.sources)
                    if fnmatch.fnmatchcase(f"{m}:{s}", pattern)
                ]
            else:
                hits = [
                    i for i, (_, s) in enumerate(self.sources) if fnmatch.fnmatchcase(s, pattern)
                ]
            if not hits:
                raise UnknownName(f"the pattern {ref!r} matches no source; {self._known('source')}")
            return hits
        return self._find(ref, "source")

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
