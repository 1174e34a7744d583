"""Building the measurement (stage 4 of :mod:`hepcombine.inputs.hepdata`): :func:`read_hepdata`
puts one dependent variable, its matrices and breakdown tables, the scale and the bin width
together into a :class:`~hepcombine.measurement.DifferentialMeasurement`.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np

from ...binning import Quantity
from ...exceptions import HEPDataError
from ...measurement import DifferentialMeasurement, Measurement
from ._errors import (
    _STAT,
    HEPDataBreakdown,
    HEPDataMatrix,
    _as_correlation,
    _breakdown_sources,
    _definite,
    _Labels,
    _sigma,
)
from ._files import PathLike, _companion, _table
from ._tables import FloatArray, _read_matrix, _read_variable

__all__ = ["read_hepdata"]

log = logging.getLogger(__name__)


def read_hepdata(
    path: PathLike,
    table: str | int | None = None,
    variable: str | int | None = None,
    *,
    name: str | None = None,
    x: str | int | None = None,
    stat: str | Sequence[str] | None = None,
    sources: Mapping[str, str | None] | None = None,
    relative: Iterable[str] | bool = (),
    uncorrelated: Iterable[str] = (),
    scale: float = 1.0,
    per_bin_width: bool = False,
    asymmetric: Literal["keep", "symmetrise", "shift"] = "keep",
    matrices: Sequence[HEPDataMatrix] = (),
    breakdown: HEPDataBreakdown | None = None,
    drop_bins: Sequence[int] = (),
    quantity: Quantity | None = None,
    axis_label: str | None = None,
    axis_unit: str | None = None,
    bin_prefix: str = "bin",
) -> DifferentialMeasurement:
    """A differential measurement from one dependent variable of a HEPData table.

    Parameters
    ----------
    path, table, variable, x:
        As for :func:`read_hepdata_table`.
    name:
        Name of the measurement; default: the table name.
    stat:
        The label(s) that are statistical; default: those called ``stat`` (module docstring).
        Uncorrelated between bins unless a statistical :class:`HEPDataMatrix` is given.
    sources:
        ``{label: new name}`` renames sources, ``{label: None}`` leaves a label out (e.g. a
        total ``sys`` when the breakdown is read as well).
    relative:
        Sources (new names) whose shifts scale with the combined value; ``True``: all.
    uncorrelated:
        Sources that are independent in each bin: each becomes one source per bin, named
        ``f"{source}_{bin_prefix}{i}"``. Every other source is one nuisance parameter for all
        bins.
    scale:
        Factor for values and uncertainties that the file does not state (``1e-3`` for values
        written × 10³); covariances are multiplied by its square.
    per_bin_width:
        Divide values, uncertainties (and covariances by ``w_i w_j``) by the bin width, for a
        record that gives σ per bin where dσ/dx is wanted.
    asymmetric:
        ``"keep"``, ``"symmetrise"`` or ``"shift"`` (module docstring).
    matrices:
        Covariance or correlation tables of this distribution (:class:`HEPDataMatrix`): at
        most one statistical, and systematic or total ones.
    breakdown:
        A transposed breakdown table of this distribution (:class:`HEPDataBreakdown`).
    drop_bins:
        0-based positions of bins to leave out (for a singular matrix of a normalised spectrum,
        one bin).
    quantity, axis_label, axis_unit:
        Replace what the file says (the variable's name, units and qualifiers; the bins' axis
        label and unit); the file often says nothing about units.
    bin_prefix:
        Estimates are named ``f"{bin_prefix}{i}"``, ``i`` the bin's position in the table.

    Returns
    -------
    DifferentialMeasurement
        With the bins that have a value (missing ones are left out, logged) and are not
        dropped; ``title`` the table name, ``origin`` file, table, variable and record.

    Raises
    ------
    HEPDataError
        For malformed or ambiguous input, unknown labels, a statistical uncertainty that is
        missing or zero, or a singular or indefinite matrix; the message names file, table,
        variable and bin.
    """
    if asymmetric not in ("keep", "symmetrise", "shift"):
        raise HEPDataError(
            f"asymmetric must be 'keep', 'symmetrise' or 'shift', not {asymmetric!r}"
        )
    if not (isinstance(scale, int | float) and math.isfinite(scale) and scale != 0):
        raise HEPDataError(f"scale must be a finite non-zero number, not {scale!r}")
    ref = _table(path, table)
    var = _read_variable(ref, variable, x)
    where = var.where
    n = var.binning.n_bins
    bins = [var.binning.bin_label(i) for i in range(n)]
    if not var.errors and breakdown is None and not matrices:
        raise HEPDataError(
            f"{where} has no uncertainties in any bin; a prediction, or a matrix or breakdown "
            "table (give those as matrices= or breakdown= of the distribution they belong to)?"
        )
    # ------------------------------------------------------------ bins kept
    drop = sorted({int(b) for b in drop_bins})
    if drop and (drop[0] < 0 or drop[-1] >= n):
        raise HEPDataError(f"{where}: drop_bins {drop} must be bin positions 0…{n - 1}")
    missing = var.missing
    if missing.any():
        log.warning(
            "%s: %s %s no value ('-') and %s left out of the measurement",
            where,
            ", ".join(bins[i] for i in np.flatnonzero(missing)),
            "has" if missing.sum() == 1 else "have",
            "is" if missing.sum() == 1 else "are",
        )
    keep = np.array([i for i in range(n) if not missing[i] and i not in drop], dtype=np.intp)
    if keep.size == 0:
        raise HEPDataError(f"{where}: no bin with a value is left")
    kept_bins = [bins[i] for i in keep]
    x_raw = var.values
    # ------------------------------------------------------------ labels
    shifts: dict[str, tuple[FloatArray, FloatArray]] = {
        k: (u.copy(), d.copy()) for k, (u, d) in var.errors.items()
    }
    resolve = _Labels(var, shifts)
    if stat is None:
        stat_labels = [k for k in shifts if _STAT.match(k.split("#")[0])]
    else:
        stat_labels = [resolve(s, "stat") for s in ([stat] if isinstance(stat, str) else stat)]
    stat_labels = list(dict.fromkeys(stat_labels))
    stat_parts = {k: shifts.pop(k) for k in stat_labels}
    for k, (u, d) in stat_parts.items():
        if np.any(np.abs(u[keep] + d[keep]) > 1e-12 * np.abs(u[keep] - d[keep])):
            log.info("%s: statistical %r is asymmetric; (|plus| + |minus|)/2 is used", where, k)
    if len(stat_parts) > 1:
        log.info("%s: statistical labels %s add in quadrature", where, list(stat_parts))
    sigma_raw = np.sqrt(sum((_sigma(u, d) ** 2 for u, d in stat_parts.values()), np.zeros(n)))
    others = _Labels(var, shifts)
    if breakdown is not None:
        replaced = (
            list(shifts)
            if breakdown.replaces is None
            else [others(r, "breakdown replaces") for r in breakdown.replaces]
        )
        for r in replaced:
            shifts.pop(r, None)
        extra = _breakdown_sources(breakdown, path, var)
        clash = set(extra) & set(shifts)
        if clash:
            raise HEPDataError(f"{where}: breakdown sources {sorted(clash)} are also error labels")
        shifts.update(extra)
    # ------------------------------------------------------------ factors
    factor = np.full(n, float(scale))
    if per_bin_width:
        if var.binning.is_index:
            raise HEPDataError(
                f"{where}: per_bin_width needs bin edges; the bins are only numbered"
            )
        factor = factor / var.binning.widths
    fk = factor[keep]
    # ------------------------------------------------------------ matrices
    stat_specs = [m for m in matrices if m.content == "stat"]
    syst_specs = [m for m in matrices if m.content != "stat"]
    if len(stat_specs) > 1:
        raise HEPDataError(f"{where}: at most one statistical matrix can be given")
    if any(m.content == "total" for m in syst_specs) and len(syst_specs) > 1:
        raise HEPDataError(f"{where}: a total matrix cannot be combined with other systematic ones")
    rho = None
    cov_stat_raw = None
    if stat_specs:
        spec = stat_specs[0]
        mref = _companion(path, spec.path, spec.table)
        m = (
            _read_matrix(mref, spec.variable, var.binning, spec.indices)[np.ix_(keep, keep)]
            * spec.scale
        )
        mwhere = f"{mref.where} (statistical {spec.kind} of {var.table!r})"
        if spec.kind == "covariance":
            if spec.percent:
                m = m * np.outer(x_raw[keep], x_raw[keep]) / 1e4
            _definite(m, kept_bins, list(keep), "statistical covariance", mwhere, strict=True)
            s = np.sqrt(np.diag(m))
            if stat_parts:
                off = np.abs(sigma_raw[keep] - s) > 0.01 * s
                if off.any():
                    log.warning(
                        "%s: the statistical uncertainty of %s differs from √(diagonal) of %s by "
                        "more than 1%%; the matrix is used",
                        where,
                        ", ".join(kept_bins[i] for i in np.flatnonzero(off)[:4]),
                        mref.where,
                    )
            sigma_k = s
            rho = m / np.outer(s, s)
            cov_stat_raw = m
        else:
            rho = _as_correlation(m, spec.percent, mwhere)
            _definite(rho, kept_bins, list(keep), "statistical correlation", mwhere, strict=True)
            if not stat_parts:
                raise HEPDataError(
                    f"{where}: a statistical correlation needs the statistical uncertainties, "
                    "and no label is statistical (say which with stat=)"
                )
            sigma_k = sigma_raw[keep]
    else:
        if not stat_parts:
            raise HEPDataError(
                f"{where}: no statistical uncertainty: none of the labels "
                f"{list(var.errors)[:8]} is recognised as statistical; say which with stat=, or "
                "give a statistical covariance in matrices="
            )
        sigma_k = sigma_raw[keep]
    if cov_stat_raw is None:
        cov_stat_raw = (rho if rho is not None else np.eye(keep.size)) * np.outer(sigma_k, sigma_k)
    zero = np.flatnonzero(~(sigma_k > 0))
    if zero.size:
        raise HEPDataError(
            f"{where}, {kept_bins[zero[0]]}: the statistical uncertainty "
            f"({', '.join(stat_labels) or 'matrix'}) is zero; a measurement needs a positive one "
            f"(drop the bin with drop_bins=[{keep[zero[0]]}] or say which label is statistical)"
        )
    eigen: dict[str, FloatArray] = {}
    used: set[str] = set()
    for spec in syst_specs:
        mref = _companion(path, spec.path, spec.table)
        mwhere = f"{mref.where} ({spec.content} {spec.kind} of {var.table!r})"
        labels = _Labels(var, shifts)
        replaced = (
            list(shifts)
            if spec.replaces is None
            else [labels(r, "replaces") for r in spec.replaces]
        )
        if used & set(replaced):
            raise HEPDataError(
                f"{where}: labels {sorted(used & set(replaced))} are replaced by two matrices"
            )
        used |= set(replaced)
        parts = {r: shifts.pop(r) for r in replaced}
        m = (
            _read_matrix(mref, spec.variable, var.binning, spec.indices)[np.ix_(keep, keep)]
            * spec.scale
        )
        if spec.kind == "covariance":
            if spec.percent:
                m = m * np.outer(x_raw[keep], x_raw[keep]) / 1e4
            cov = m
        else:
            rho_m = _as_correlation(m, spec.percent, mwhere)
            s2 = sum((0.5 * (u - d)) ** 2 for u, d in parts.values()) if parts else np.zeros(n)
            s2 = np.asarray(s2)[keep]
            if spec.content == "total":
                s2 = s2 + np.diag(cov_stat_raw)
            if not np.any(s2 > 0):
                raise HEPDataError(
                    f"{mwhere}: a correlation needs the uncertainties it correlates, and the "
                    f"labels it replaces ({replaced}) are zero"
                )
            cov = rho_m * np.sqrt(np.outer(s2, s2))
        if spec.content == "total":
            cov = cov - cov_stat_raw
            what = "total covariance minus the statistical one"
        else:
            what = f"systematic {spec.kind}"
        cov = cov * np.outer(fk, fk)
        hint = (
            "; the statistical uncertainties are probably correlated between bins: give the "
            "statistical covariance too (matrices=), or use the matrix whole as "
            "HEPDataMatrix('stat', ...) (then no source of this measurement can be correlated "
            "with another measurement)"
            if spec.content == "total"
            else ""
        )
        w, v = _definite(cov, kept_bins, list(keep), what, mwhere, strict=False, hint=hint)
        top = max(float(w[-1]), 1e-300)
        count = 0
        for j in range(len(w) - 1, -1, -1):
            if w[j] <= 1e-12 * top:
                continue
            vec = v[:, j] * math.sqrt(w[j])
            if vec[np.argmax(np.abs(vec))] < 0:
                vec = -vec
            key = f"{spec.name}{count}"
            count += 1
            eigen[key] = vec
        log.info(
            "%s: %s %s → %d orthogonal sources %s0…; it replaces %s",
            where,
            spec.content,
            spec.kind,
            count,
            spec.name,
            replaced or "no label",
        )
    # ------------------------------------------------------------ renames, splits
    final: dict[str, tuple[FloatArray, FloatArray]] = {}
    rename = dict(sources or {})
    labels = _Labels(var, [*shifts, *eigen])
    targets = {labels(k, "sources"): v for k, v in rename.items()}
    for key, (u, d) in shifts.items():
        new = targets.get(key, key)
        if new is None:
            continue
        if new in final:
            raise HEPDataError(f"{where}: two sources are named {new!r} (sources= renames)")
        final[new] = (u[keep] * fk, d[keep] * fk)
    for key, vec in eigen.items():
        new = targets.get(key, key)
        if new is None:
            continue
        if new in final:
            raise HEPDataError(f"{where}: two sources are named {new!r}")
        final[new] = (vec, -vec)
    estimates = [f"{bin_prefix}{i}" for i in keep]

    def final_name(ref: str, argument: str) -> str:
        if ref in final:
            return ref
        label = labels(ref, argument)
        new = targets.get(label, label)
        if new is None or new not in final:
            raise HEPDataError(f"{where}: {argument}= names {ref!r}, which is not a source")
        return new

    if relative is True:
        rel = set(final)
    elif relative is False:
        rel = set()
    else:
        rel = {final_name(r, "relative") for r in relative}
    for ref_name in uncorrelated:
        key = final_name(ref_name, "uncorrelated")
        u, d = final.pop(key)
        was_relative = key in rel
        rel.discard(key)
        for j, est in enumerate(estimates):
            if u[j] or d[j]:
                up, down = np.zeros(keep.size), np.zeros(keep.size)
                up[j], down[j] = u[j], d[j]
                final[f"{key}_{est}"] = (up, down)
                if was_relative:
                    rel.add(f"{key}_{est}")
    # ------------------------------------------------------------ asymmetric
    xk = x_raw[keep] * fk
    if asymmetric != "keep":
        moved = np.zeros(keep.size)
        for key, (u, d) in list(final.items()):
            moved += 0.5 * (u + d)
            half = 0.5 * (u - d)
            final[key] = (half, -half)
        if asymmetric == "shift":
            xk = xk + moved
            log.info(
                "%s: centres shifted by Σ(plus + minus)/2 (largest |shift| %.3g)",
                where,
                np.abs(moved).max(),
            )
    systematics: dict[str, dict[str, float | tuple[float, float]]] = {}
    for key, (u, d) in final.items():
        entry: dict[str, float | tuple[float, float]] = {}
        for j, est in enumerate(estimates):
            if u[j] == 0 and d[j] == 0:
                continue
            entry[est] = float(u[j]) if u[j] == -d[j] else (float(u[j]), float(d[j]))
        systematics[key] = entry
    mname = (name or var.table).replace(":", "_")
    sigma = sigma_k * np.abs(fk)
    measurement = Measurement.from_uncertainties(
        dict(zip(estimates, xk.tolist(), strict=True)),
        dict(zip(estimates, sigma.tolist(), strict=True)),
        systematics,
        stat_correlation=rho
        if rho is not None and not np.allclose(rho, np.eye(keep.size))
        else None,
        relative=rel,
        name=mname,
    )
    binning = var.binning.select(keep.tolist())
    changes: dict[str, Any] = {}
    if axis_label is not None:
        changes["label"] = axis_label
    if axis_unit is not None:
        changes["unit"] = axis_unit
    if changes:
        binning = dataclasses.replace(binning, **changes)
    if quantity is None:
        quantity = var.quantity
        if per_bin_width and quantity.unit and binning.unit:
            quantity = dataclasses.replace(quantity, unit=f"{quantity.unit}/{binning.unit}")
    origin = f"HEPData {ref.where}, variable {var.variable!r}" + (
        f", {var.record}" if var.record else ""
    )
    return DifferentialMeasurement(measurement, binning, quantity, var.table, origin)
