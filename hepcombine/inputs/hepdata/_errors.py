"""Errors and units (stage 3 of :mod:`hepcombine.inputs.hepdata`): what the uncertainties of a
table mean.

:class:`HEPDataMatrix` and :class:`HEPDataBreakdown` say what a covariance, correlation or
breakdown table is (a file rarely does); :class:`_Labels` turns error labels into sources (the
statistical ones by :data:`_STAT`, repeated labels by position), :func:`_as_correlation` and
:func:`_definite` check matrices (a singular or indefinite one names the bins of its offending
direction), and :func:`_breakdown_sources` reads the sources of a breakdown table.
"""

from __future__ import annotations

import difflib
import logging
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ...exceptions import HEPDataError
from ._files import PathLike, _companion
from ._tables import FloatArray, HEPDataVariable, _clean_label, _header, _number, _shift, _variables

__all__ = ["HEPDataBreakdown", "HEPDataMatrix"]

log = logging.getLogger(__name__)


_STAT = re.compile(
    r"^(stat|stats|statistical|statistics)\.?(\s+(unc\.?|uncertainty|error))?$", re.I
)


# ====================================================================== public specifications
@dataclass(frozen=True)
class HEPDataMatrix:
    """A covariance or correlation table that belongs to the distribution being read.

    Parameters
    ----------
    content:
        ``"stat"`` (statistical), ``"syst"`` (systematic) or ``"total"``. A file rarely says
        which (the description, if anything, does): it must be stated.
    kind:
        ``"covariance"`` (absolute, in the distribution's units squared, or in %² of the values
        with ``percent=True``) or ``"correlation"`` (1 on the diagonal, or 100 in percent).
    table:
        The table, by name or 0-based index, in ``path``.
    path:
        Where the table is; default: the record being read (for a single data file, ``table``
        then names a file next to it).
    variable:
        The dependent variable holding the entries, if the table has several.
    indices:
        For matrices whose bins are numbers (``{value: 1..22}`` or ``bin number`` intervals
        0.5–1.5, …): the numbers of the distribution's bins, in bin order, when the matrix has
        more bins than the distribution (CMS W⁺/W⁻: ``range(12, 23)`` for W⁻).
    percent:
        Whether the entries are in percent; default: for a correlation, from its diagonal (100
        or 1); for a covariance, no.
    scale:
        Factor for the entries, to bring them into the units the distribution's file is in.
    replaces:
        ``"syst"``/``"total"``: the error labels whose information the matrix carries (they
        are not used as sources); default every label that is not statistical.
    name:
        Prefix of the sources made from a systematic or total matrix (``cov0``, ``cov1``, …).
    """

    content: Literal["stat", "syst", "total"]
    kind: Literal["covariance", "correlation"]
    table: str | int | None = None
    path: PathLike | None = None
    variable: str | int | None = None
    indices: Sequence[float] | None = None
    percent: bool | None = None
    scale: float = 1.0
    replaces: Sequence[str] | None = None
    name: str = "cov"

    def __post_init__(self) -> None:
        if self.content not in ("stat", "syst", "total"):
            raise HEPDataError(
                f"HEPDataMatrix: content must be 'stat', 'syst' or 'total', not {self.content!r}"
            )
        if self.kind not in ("covariance", "correlation"):
            raise HEPDataError(
                f"HEPDataMatrix: kind must be 'covariance' or 'correlation', not {self.kind!r}"
            )
        if not (isinstance(self.scale, int | float) and math.isfinite(self.scale) and self.scale):
            raise HEPDataError(
                f"HEPDataMatrix: scale must be a finite non-zero number, not {self.scale!r}"
            )
        if self.content == "stat" and self.replaces is not None:
            raise HEPDataError(
                "HEPDataMatrix: replaces applies to 'syst' and 'total' matrices only"
            )


@dataclass(frozen=True)
class HEPDataBreakdown:
    """A transposed breakdown table: its independent variable is the source names, and it has
    one dependent variable per bin of the distribution, in bin order (CMS 8 TeV tt̄ Table 17).

    Only the order of the dependent variables says which bin each one is: their number must
    equal the number of bins of the distribution's table. Values are signed shifts of the +1σ
    variation (unsigned values are taken as positive).

    Parameters
    ----------
    table, path:
        As for :class:`HEPDataMatrix`.
    percent:
        Whether the entries are percent of the bin's value; default: ``'%'`` in the units of
        the dependent variables.
    replaces:
        The error labels of the distribution that the breakdown replaces; default every label
        that is not statistical.
    """

    table: str | int | None = None
    path: PathLike | None = None
    percent: bool | None = None
    replaces: Sequence[str] | None = None


def _as_correlation(m: FloatArray, percent: bool | None, where: str) -> FloatArray:
    d = np.diag(m)
    if percent is None:
        if np.allclose(d, 100.0, rtol=1e-3, atol=0):
            percent = True
            log.info("%s: correlation in percent (diagonal 100)", where)
        elif np.allclose(d, 1.0, rtol=1e-3, atol=0):
            percent = False
        else:
            raise HEPDataError(
                f"{where}: a correlation has 1 (or 100 in percent) on its diagonal, this one has "
                f"{', '.join(f'{v:g}' for v in d[:4])}…; is it a covariance?"
            )
    rho = m / 100.0 if percent else m.copy()
    if not np.allclose(np.diag(rho), 1.0, rtol=1e-3, atol=0):
        raise HEPDataError(
            f"{where}: diagonal {', '.join(f'{v:g}' for v in np.diag(m)[:4])}… does not fit "
            f"percent={percent}"
        )
    if np.abs(rho).max() > 1.0 + 1e-3:
        a, b = np.unravel_index(np.argmax(np.abs(rho)), rho.shape)
        raise HEPDataError(f"{where}: correlation entry [{a}, {b}] = {m[a, b]:g} is out of range")
    np.fill_diagonal(rho, 1.0)
    return np.clip(rho, -1.0, 1.0)


def _definite(
    matrix: FloatArray,
    bins: Sequence[str],
    drop: Sequence[int],
    what: str,
    where: str,
    *,
    strict: bool,
    hint: str = "",
) -> tuple[FloatArray, FloatArray]:
    """Eigen-decomposition of a symmetric matrix, checked: ``strict`` (positive definite) for a
    statistical matrix; positive semi-definite up to rounding (eigenvalues ≥ −10⁻⁶ of the
    largest, after scaling to unit diagonal) otherwise."""
    d = np.sqrt(np.clip(np.diag(matrix), 0.0, None))
    if strict and np.any(d <= 0):
        i = int(np.flatnonzero(d <= 0)[0])
        raise HEPDataError(
            f"{where}: the {what} has a zero or negative diagonal entry in {bins[i]}"
        )
    s = np.where(d > 0, 1.0 / np.where(d > 0, d, 1.0), 0.0)
    w, v = np.linalg.eigh(matrix * np.outer(s, s))
    top = max(float(w[-1]), 1e-300)
    bad = w[0] <= 1e-10 * top if strict else w[0] < -1e-6 * top
    if bad:
        involved = [int(i) for i in np.argsort(-np.abs(v[:, 0]))[:4] if abs(v[i, 0]) > 0.1]
        state = "singular" if w[0] > -1e-10 * top else "not positive semi-definite"
        hint = hint or (
            "; a normalised spectrum (bins summing to a constant) has such a matrix: leave one "
            f"bin out, e.g. drop_bins=[{drop[-1]}]"
        )
        raise HEPDataError(
            f"{where}: the {what} is {state} (smallest eigenvalue {w[0]:.3g}, largest "
            f"{top:.3g}, after scaling to unit diagonal); the direction involves "
            f"{', '.join(bins[i] for i in involved)}{hint}"
        )
    return np.linalg.eigh(matrix)


# ====================================================================== the measurement
class _Labels:
    """Resolves user references to error labels (as written or cleaned)."""

    def __init__(self, var: HEPDataVariable, names: Iterable[str]) -> None:
        self.var = var
        self.names = list(names)

    def __call__(self, ref: str, argument: str) -> str:
        if ref in self.names:
            return ref
        clean = _clean_label(ref)
        if clean in self.names:
            return clean
        numbered = [n for n in self.names if n.startswith(f"{clean}#")]
        if numbered:
            raise HEPDataError(
                f"{self.var.where}: label {ref!r} ({argument}=) occurs several times within a bin; "
                f"its entries are {', '.join(numbered[:4])}{', …' if len(numbered) > 4 else ''}"
            )
        close = difflib.get_close_matches(clean, self.names, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
        raise HEPDataError(
            f"{self.var.where} has no error label {ref!r} ({argument}=){hint} Labels are "
            f"{', '.join(self.names[:12])}{', …' if len(self.names) > 12 else ''}"
        )


def _sigma(up: FloatArray, down: FloatArray) -> FloatArray:
    """Symmetric size of a (up, down) pair: |up| if symmetric, else (|up| + |down|)/2."""
    return 0.5 * (np.abs(up) + np.abs(down))


def _breakdown_sources(
    spec: HEPDataBreakdown, path: PathLike, var: HEPDataVariable
) -> dict[str, tuple[FloatArray, FloatArray]]:
    ref = _companion(path, spec.path, spec.table)
    data = ref.load()
    ivs, dvs = _variables(data, ref.where)
    where = ref.where
    n = var.binning.n_bins
    if len(ivs) != 1:
        raise HEPDataError(
            f"{where}: a breakdown table has one independent variable (the source names), this "
            f"one has {len(ivs)}"
        )
    _, _, names = _header(ivs[0], "independent variable 0", where)
    sources = [_clean_label(v.get("value") if isinstance(v, dict) else v) for v in names]
    if len(set(sources)) != len(sources):
        dupes = sorted({s for s in sources if sources.count(s) > 1})
        raise HEPDataError(f"{where}: source names {dupes} repeat in the breakdown")
    if len(dvs) != n:
        raise HEPDataError(
            f"{where}: a breakdown table has one dependent variable per bin; it has {len(dvs)} "
            f"but {var.where} has {n} bins"
        )
    out = {s: (np.zeros(n), np.zeros(n)) for s in sources}
    position = {int(r): i for i, r in enumerate(var.rows)}
    for k, dv in enumerate(dvs):
        i = position[k]
        _, units, items = _header(dv, f"dependent variable {k}", where)
        percent = ("%" in units) if spec.percent is None else spec.percent
        if len(items) != len(sources):
            raise HEPDataError(
                f"{where}, dependent variable {k}: {len(items)} values for {len(sources)} sources"
            )
        for s, item in zip(sources, items, strict=True):
            raw = item.get("value") if isinstance(item, dict) else None
            at = f"{where}, dependent variable {k} (bin {i}), source {s!r}"
            if isinstance(raw, str) and raw.strip().endswith("%"):
                u = _shift(raw, var.values[i], at)
            else:
                u = _number(raw, at)
                if percent:
                    u = u / 100.0 * var.values[i]
            if np.isnan(var.values[i]):
                u = 0.0
            out[s][0][i], out[s][1][i] = u, -u
    log.info("%s: %d sources from the breakdown %s", var.where, len(sources), where)
    return out
