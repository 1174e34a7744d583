"""Table parsing (stage 2 of :mod:`hepcombine.inputs.hepdata`): the numbers, labels and bins of
one table.

:func:`read_hepdata_table` reads one dependent variable with its bins (:func:`_binning`: edges
matched to a :class:`~hepcombine.binning.Binning`, points, or bin numbers), values and labelled
uncertainties (:class:`HEPDataVariable`; percent strings relative to the value, missing values
as NaN); :func:`read_hepdata_matrix` reads a covariance or correlation table into the bin order
of a binning (bins matched by edge, or by number with ``indices=``).
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...binning import Binning, Qualifier, Quantity
from ...exceptions import HEPDataError, InvalidMeasurement
from ._files import PathLike, _choose, _found, _table, _TableRef

__all__ = ["HEPDataVariable", "read_hepdata_matrix", "read_hepdata_table"]

log = logging.getLogger(__name__)


FloatArray = NDArray[np.float64]


_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


_SYS_PREFIX = re.compile(r"^syst?\s*,\s*(.+)$", re.I)


_MISSING = ("-", "")


@dataclass(frozen=True, eq=False)
class HEPDataVariable:
    """One dependent variable of a HEPData table with its bins, as written in the file
    (nothing dropped, scaled or symmetrised).

    Attributes
    ----------
    table, variable:
        Table name and the dependent variable's header name.
    where:
        File and table, for messages.
    binning:
        All bins of the table (sorted by edge), including bins without a value.
    quantity:
        The variable's header name, units and qualifiers.
    values:
        Value per bin; NaN marks a missing value (``'-'``).
    errors:
        ``{source: (up, down)}``: signed absolute shifts per bin for the +1σ and −1σ variation
        (percent converted with the bin's value; 0 where the bin does not list the label).
        Keys are the cleaned, unique labels (module docstring).
    labels:
        ``{source: label as written in the file}``.
    rows:
        The position in the file of each bin (they differ only if the file's bins were not in
        increasing order).
    record, description:
        Record id and version (``"ins1404878 v2"``) when the file or submission says, and the
        table's description from ``submission.yaml``.
    """

    table: str
    variable: str
    where: str
    binning: Binning
    quantity: Quantity
    values: FloatArray
    errors: Mapping[str, tuple[FloatArray, FloatArray]]
    labels: Mapping[str, str]
    rows: NDArray[np.intp]
    record: str = ""
    description: str = ""

    @property
    def missing(self) -> NDArray[np.bool_]:
        """Per bin: whether its value is missing."""
        return np.isnan(self.values)

    def __repr__(self) -> str:
        return (
            f"HEPDataVariable({self.variable!r} of {self.table!r}, {self.binning.n_bins} bins, "
            f"{len(self.errors)} error labels)"
        )


# ====================================================================== numbers, labels
def _number(raw: Any, where: str) -> float:
    if isinstance(raw, bool):
        raise HEPDataError(f"{where}: {raw!r} is not a number")
    if isinstance(raw, int | float) or (isinstance(raw, str) and _NUMBER.match(raw.strip())):
        v = float(raw)
    else:
        raise HEPDataError(f"{where}: {raw!r} is not a number")
    if not math.isfinite(v):
        raise HEPDataError(f"{where}: {raw!r} is not a finite number")
    return v


def _shift(raw: Any, value: float, where: str) -> float:
    """An uncertainty entry in absolute units: a number, a numeric string, or a percent string
    of ``value``; ``''`` (an empty side) is 0."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return 0.0
    if isinstance(raw, str) and raw.strip().endswith("%"):
        pct = _number(raw.strip()[:-1].strip(), where)
        return pct / 100.0 * value
    return _number(raw, where)


def _clean_label(raw: Any) -> str:
    if raw is None:
        return "unlabelled"
    text = " ".join(str(raw).split())
    m = _SYS_PREFIX.match(text)
    if m:
        text = m.group(1)
    return text or "unlabelled"


def _header(var: Any, what: str, where: str) -> tuple[str, str, list[Any]]:
    if not isinstance(var, dict):
        raise HEPDataError(f"{where}: {what} is {_found(var)}, not a variable")
    head = var.get("header") or {}
    if not isinstance(head, dict):
        raise HEPDataError(f"{where}: {what} has a header that is not a mapping")
    values = var.get("values")
    if values is None:
        values = []
    if not isinstance(values, list):
        raise HEPDataError(f"{where}: {what} has 'values' that are not a list")
    return str(head.get("name", "") or ""), str(head.get("units", "") or "").strip(), values


def _variables(data: dict[str, Any], where: str) -> tuple[list[Any], list[Any]]:
    ivs = data.get("independent_variables") or []
    dvs = data.get("dependent_variables") or []
    if not isinstance(ivs, list) or not isinstance(dvs, list):
        raise HEPDataError(f"{where}: independent_variables and dependent_variables must be lists")
    return ivs, dvs


def _root_key(name: str) -> str:
    key = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")
    return key or "x"


# ====================================================================== one variable
def _looks_like_matrix(ivs: list[Any], n: int) -> bool:
    """Two independent variables over the same k bins, k² rows: a flattened matrix."""
    if len(ivs) != 2 or n < 1 or math.isqrt(n) ** 2 != n:
        return False
    sets = []
    for iv in ivs:
        values = iv.get("values") if isinstance(iv, dict) else None
        if not isinstance(values, list):
            return False
        sets.append({repr(sorted(v.items())) if isinstance(v, dict) else repr(v) for v in values})
    return sets[0] == sets[1] and len(sets[0]) ** 2 == n


def _binning(
    ivs: list[Any], n: int, x: str | int | None, where: str
) -> tuple[Binning, NDArray[np.intp]]:
    if not ivs:
        log.info("%s: no independent variable; the %d value(s) are numbered", where, n)
        return Binning.index(n), np.arange(n, dtype=np.intp)
    parsed = []
    for k, iv in enumerate(ivs):
        name, units, values = _header(iv, f"independent variable {k}", where)
        if len(values) != n:
            raise HEPDataError(
                f"{where}: independent variable {name!r} has {len(values)} values but the "
                f"dependent variable has {n}"
            )
        kinds = []
        for i, v in enumerate(values):
            if isinstance(v, dict) and "low" in v and "high" in v:
                kinds.append("edges")
            elif isinstance(v, dict) and "value" in v:
                kinds.append("value")
            else:
                raise HEPDataError(
                    f"{where}: independent variable {name!r}, bin {i}: {v!r} has neither "
                    "low/high nor value"
                )
        parsed.append((name, units, values, kinds))
    if x is None and _looks_like_matrix(ivs, n):
        raise HEPDataError(
            f"{where} is a flattened matrix (two independent variables over the same "
            f"{math.isqrt(n)} bins, {n} rows), not a distribution: pass it as a HEPDataMatrix "
            "(matrices=) of the distribution it belongs to"
        )
    if x is not None:
        idx = _choose([p[0] for p in parsed], x, "independent variable", "x", where)
    else:
        binned = [k for k, p in enumerate(parsed) if all(kd == "edges" for kd in p[3])]
        if len(binned) == 1:
            idx = binned[0]
        elif len(binned) > 1:
            raise HEPDataError(
                f"{where} has {len(binned)} binned independent variables "
                f"({', '.join(repr(parsed[k][0]) for k in binned)}): hepcombine reads "
                "one-dimensional distributions; choose the axis with x= if the others are constant"
            )
        elif len(parsed) == 1:
            idx = 0
        else:
            raise HEPDataError(
                f"{where} has {len(parsed)} independent variables and none is binned; choose "
                "one with x="
            )
    name, units, values, kinds = parsed[idx]
    axis = {"name": _root_key(name), "label": name, "unit": units}
    if all(kd == "edges" for kd in kinds):
        low = np.array(
            [_number(v["low"], f"{where}, {name!r} bin {i} low edge") for i, v in enumerate(values)]
        )
        high = np.array(
            [
                _number(v["high"], f"{where}, {name!r} bin {i} high edge")
                for i, v in enumerate(values)
            ]
        )
        rows = np.argsort(low, kind="stable").astype(np.intp)
        if np.any(rows != np.arange(n)):
            log.info("%s: the bins of %r are not in increasing order; they are sorted", where, name)
        centers = None
        for k, (oname, _, ovalues, okinds) in enumerate(parsed):
            if k == idx or not all(kd == "value" for kd in okinds):
                continue
            try:
                c = np.array([_number(v["value"], where) for v in ovalues])
            except HEPDataError:
                continue
            if np.all((c >= low) & (c <= high)):
                centers = c[rows]
                log.debug("%s: bin centres from %r", where, oname)
                break
        try:
            binning = Binning(
                low[rows],
                high[rows],
                name=axis["name"],
                label=axis["label"],
                unit=axis["unit"],
                centers=centers,
            )
            return binning, rows
        except InvalidMeasurement as e:
            raise HEPDataError(f"{where}: independent variable {name!r}: {e}") from None
    if any(kd == "edges" for kd in kinds):
        i = kinds.index("value")
        raise HEPDataError(
            f"{where}: independent variable {name!r} mixes bins and points: bin {i} is "
            f"{values[i]!r} without low/high edges"
        )
    raw = [v["value"] for v in values]
    try:
        centers = np.array([_number(v, where) for v in raw])
    except HEPDataError:
        centers = None
        log.info(
            "%s: independent variable %r has text values (%s); the bins are numbered",
            where,
            name,
            ", ".join(repr(v) for v in raw[:4]) + (", …" if n > 4 else ""),
        )
    binning = Binning(
        np.arange(n, dtype=float),
        np.arange(1, n + 1, dtype=float),
        axis["name"] if name else "bin",
        name or "bin",
        units,
        True,
        centers,
    )
    return binning, np.arange(n, dtype=np.intp)


def _describe_dv(dvs: list[Any]) -> Callable[[int], str]:
    def describe(i: int) -> str:
        dv = dvs[i] if isinstance(dvs[i], dict) else {}
        name = str((dv.get("header") or {}).get("name", ""))
        quals = [
            f"{q.get('name', '')}={q.get('value', '')}"
            for q in dv.get("qualifiers") or []
            if isinstance(q, dict)
        ]
        return repr(name) + (f" ({'; '.join(quals[:2])})" if quals else "")

    return describe


def read_hepdata_table(
    path: PathLike,
    table: str | int | None = None,
    variable: str | int | None = None,
    *,
    x: str | int | None = None,
) -> HEPDataVariable:
    """One dependent variable of a HEPData table, as written (see :class:`HEPDataVariable`).

    Parameters
    ----------
    path:
        A submission directory, ``submission.yaml``, single-file submission, data file or
        hepdata.net JSON table export.
    table:
        Table name (as in ``submission.yaml``, or its data file name) or 0-based index; may be
        omitted when the record has one table.
    variable:
        Dependent variable, by header name or 0-based index; may be omitted when there is one.
    x:
        The independent variable that holds the bins (name or index); default: the only binned
        one (a second, point-valued one within the bins gives the bin centres).

    Raises
    ------
    HEPDataError
        For anything malformed or ambiguous; the message names file, table, variable and bin.
    """
    ref = _table(path, table)
    return _read_variable(ref, variable, x)


def _read_variable(
    ref: _TableRef, variable: str | int | None, x: str | int | None
) -> HEPDataVariable:
    data = ref.load()
    ivs, dvs = _variables(data, ref.where)
    names = [
        str((d.get("header") or {}).get("name", "")) if isinstance(d, dict) else "" for d in dvs
    ]
    k = _choose(
        names, variable, "dependent variable", "variable", ref.where, describe=_describe_dv(dvs)
    )
    dv_name, dv_units, items = _header(dvs[k], f"dependent variable {k}", ref.where)
    where = f"{ref.where}, variable {dv_name!r}" if dv_name else f"{ref.where}, variable {k}"
    n = len(items)
    if n == 0:
        raise HEPDataError(f"{where} has no values")
    binning, rows = _binning(ivs, n, x, where)
    quals: list[Qualifier] = []
    for q in dvs[k].get("qualifiers") or []:
        if isinstance(q, dict):
            quals.append(
                Qualifier(
                    str(q.get("name", "")).strip(),
                    str(q.get("value", "")),
                    str(q.get("units", "") or ""),
                )
            )
    values = np.full(n, np.nan)
    per_bin: list[list[tuple[str, str, float, float]]] = []
    for i, item in enumerate(items):
        at = f"{where}, bin {i}"
        if not isinstance(item, dict) or "value" not in item:
            raise HEPDataError(f"{at}: {item!r} has no 'value'")
        raw = item["value"]
        entries: list[tuple[str, str, float, float]] = []
        if isinstance(raw, str) and raw.strip() in _MISSING:
            per_bin.append(entries)
            continue
        value = _number(raw, at)
        values[i] = value
        listed = item.get("errors") or []
        if not isinstance(listed, list):
            raise HEPDataError(f"{at}: 'errors' is not a list")
        for e in listed:
            if not isinstance(e, dict):
                raise HEPDataError(f"{at}: error entry {e!r} is not a mapping")
            label = e.get("label")
            at_e = f"{at}, error {label!r}"
            if "symerror" in e:
                s = _shift(e["symerror"], value, at_e)
                up, down = s, -s
            elif "asymerror" in e:
                a = e["asymerror"]
                if not isinstance(a, dict):
                    raise HEPDataError(f"{at_e}: asymerror {a!r} is not a mapping with plus/minus")
                up = _shift(a.get("plus"), value, f"{at_e} (plus)")
                down = _shift(a.get("minus"), value, f"{at_e} (minus)")
            else:
                raise HEPDataError(f"{at_e}: the entry has neither symerror nor asymerror")
            entries.append((_clean_label(label), "" if label is None else str(label), up, down))
        per_bin.append(entries)
    repeated = {
        name for entries in per_bin for name, c in Counter(e[0] for e in entries).items() if c > 1
    }
    errors: dict[str, tuple[FloatArray, FloatArray]] = {}
    labels: dict[str, str] = {}
    cleaned: dict[str, str] = {}
    for i, entries in enumerate(per_bin):
        seen: Counter[str] = Counter()
        for clean, raw_label, up, down in entries:
            seen[clean] += 1
            key = f"{clean}#{seen[clean]}" if clean in repeated else clean
            if key not in errors:
                errors[key] = (np.zeros(n), np.zeros(n))
                labels[key] = raw_label
            if raw_label.strip() != clean and raw_label:
                cleaned[raw_label] = clean
            errors[key][0][i] += up
            errors[key][1][i] += down
    if cleaned:
        shown = ", ".join(f"{r!r} → {c!r}" for r, c in list(cleaned.items())[:4])
        log.info("%s: labels cleaned: %s%s", where, shown, ", …" if len(cleaned) > 4 else "")
    if repeated:
        log.info(
            "%s: labels %s occur several times within a bin; they are numbered by position "
            "(e.g. %r)",
            where,
            sorted(repeated),
            f"{sorted(repeated)[0]}#1",
        )
    errors = {key: (pair[0][rows], pair[1][rows]) for key, pair in errors.items()}
    for pair in errors.values():
        pair[0].setflags(write=False)
        pair[1].setflags(write=False)
    values = values[rows]
    values.setflags(write=False)
    return HEPDataVariable(
        table=ref.name,
        variable=dv_name,
        where=where,
        binning=binning,
        quantity=Quantity(dv_name, dv_units, tuple(quals)),
        values=values,
        errors=errors,
        labels=labels,
        rows=rows,
        record=ref.record,
        description=ref.description,
    )


def _coordinates(values: list[Any], name: str, where: str) -> list[tuple[float, float] | float]:
    out: list[tuple[float, float] | float] = []
    for r, v in enumerate(values):
        at = f"{where}, {name!r} row {r}"
        if isinstance(v, dict) and "low" in v and "high" in v:
            out.append((_number(v["low"], at), _number(v["high"], at)))
        elif isinstance(v, dict) and "value" in v:
            out.append(_number(v["value"], at))
        else:
            raise HEPDataError(f"{at}: {v!r} has neither low/high nor value")
    return out


def _bin_of_edges(binning: Binning, lo: float, hi: float) -> int:
    tol = 1e-6 * binning.widths
    hits = np.flatnonzero((np.abs(binning.low - lo) <= tol) & (np.abs(binning.high - hi) <= tol))
    return int(hits[0]) if hits.size == 1 else -1


def read_hepdata_matrix(
    path: PathLike,
    table: str | int | None = None,
    variable: str | int | None = None,
    *,
    binning: Binning,
    indices: Sequence[float] | None = None,
) -> FloatArray:
    """A flattened 2-D HEPData table (two independent variables, one dependent variable) as
    the ``n × n`` matrix over the bins of ``binning``, entries as written.

    Rows are matched by their independent-variable values, in any order: by bin edges when
    they are the distribution's edges; by bin number when they are numbers ``{value: k}`` or
    ``bin number`` intervals ``k ± 0.5`` (sorted numbers ↔ bins in order, or ``indices``: the
    numbers of the distribution's bins). Only one triangle may be given. Matrix bins that are
    not bins of the distribution are left out (logged).

    Raises
    ------
    HEPDataError
        If the table is not such a matrix, a bin of the distribution has no row or column,
        entries are duplicated with different values, or the matrix is not symmetric.
    """
    return _read_matrix(_table(path, table), variable, binning, indices)


def _read_matrix(
    ref: _TableRef, variable: str | int | None, binning: Binning, indices: Sequence[float] | None
) -> FloatArray:
    data = ref.load()
    ivs, dvs = _variables(data, ref.where)
    where = ref.where
    if len(ivs) != 2:
        raise HEPDataError(
            f"{where}: a matrix table has two independent variables (row and column bin), this "
            f"one has {len(ivs)}"
        )
    names = [
        str((d.get("header") or {}).get("name", "")) if isinstance(d, dict) else "" for d in dvs
    ]
    k = _choose(
        names, variable, "dependent variable", "variable", where, describe=_describe_dv(dvs)
    )
    _, _, items = _header(dvs[k], f"dependent variable {k}", where)
    entries = []
    for r, item in enumerate(items):
        raw = item.get("value") if isinstance(item, dict) else None
        entries.append(_number(raw, f"{where}, row {r}"))
    coords = []
    for c, iv in enumerate(ivs):
        name, _, values = _header(iv, f"independent variable {c}", where)
        if len(values) != len(entries):
            raise HEPDataError(
                f"{where}: independent variable {name!r} has {len(values)} values but the matrix "
                f"has {len(entries)} entries"
            )
        coords.append(_coordinates(values, name, where))
    n = binning.n_bins
    keys: list[tuple[float, float] | float] = sorted(
        {c for col in coords for c in col}, key=lambda c: c if isinstance(c, tuple) else (c, c)
    )
    mapping: dict[Any, int] = {}
    edge_keys = [c for c in keys if isinstance(c, tuple)]
    point_keys = [c for c in keys if not isinstance(c, tuple)]
    if edge_keys and not point_keys:
        matched = {c: _bin_of_edges(binning, *c) for c in edge_keys}
        if any(b >= 0 for b in matched.values()) and indices is None:
            mapping = dict(matched)
            mode = "edges"
        elif all(
            abs(hi - lo - 1.0) < 1e-9 and abs(lo + 0.5 - round(lo + 0.5)) < 1e-9
            for lo, hi in edge_keys
        ):
            numbers = {c: round(c[0] + 0.5) for c in edge_keys}
            mapping = _number_mapping(numbers, n, indices, where)
            mode = "bin numbers"
        else:
            shown = ", ".join(f"[{lo:g}, {hi:g})" for lo, hi in edge_keys[:4])
            raise HEPDataError(
                f"{where}: the matrix bins ({shown}, …) are not bins of the distribution "
                f"({binning.describe()}) nor bin numbers"
            )
    elif point_keys and not edge_keys:
        if any(abs(c - round(c)) > 1e-9 for c in point_keys):
            shown = ", ".join(f"{c:g}" for c in point_keys[:4])
            raise HEPDataError(
                f"{where}: the matrix bins are points ({shown}, …), not bin edges or bin numbers"
            )
        mapping = _number_mapping({c: round(c) for c in point_keys}, n, indices, where)
        mode = "bin numbers"
    else:
        raise HEPDataError(f"{where}: the matrix mixes bin edges and point values")
    found = sorted({b for b in mapping.values() if b >= 0})
    if len(found) != n:
        lacking = [binning.bin_label(i) for i in range(n) if i not in found]
        raise HEPDataError(
            f"{where}: the matrix ({mode}) has no row for {', '.join(lacking[:4])} of the "
            "distribution"
        )
    extra = [c for c, b in mapping.items() if b < 0]
    if extra:
        log.warning(
            "%s: the matrix has %d bins that are not bins of the distribution; the %d that are "
            "are used",
            where,
            len(extra),
            n,
        )
    m = np.full((n, n), np.nan)
    for r, value in enumerate(entries):
        a, b = mapping[coords[0][r]], mapping[coords[1][r]]
        if a < 0 or b < 0:
            continue
        if not np.isnan(m[a, b]) and m[a, b] != value:
            raise HEPDataError(
                f"{where}, row {r}: entry ({binning.bin_label(a)}, {binning.bin_label(b)}) is "
                f"given twice ({m[a, b]:g} and {value:g})"
            )
        m[a, b] = value
    gaps = np.isnan(m)
    m[gaps] = m.T[gaps]
    if np.isnan(m).any():
        a, b = (int(i) for i in np.argwhere(np.isnan(m))[0])
        raise HEPDataError(
            f"{where}: the matrix has no entry for ({binning.bin_label(a)}, {binning.bin_label(b)})"
        )
    scale = np.sqrt(np.abs(np.outer(np.diag(m), np.diag(m)))) + 1e-300
    asym = np.abs(m - m.T) / scale
    if asym.max() > 1e-6:
        a, b = (int(i) for i in np.unravel_index(np.argmax(asym), m.shape))
        raise HEPDataError(
            f"{where}: the matrix is not symmetric: ({binning.bin_label(a)}, "
            f"{binning.bin_label(b)}) = {m[a, b]:g} but the transposed entry is {m[b, a]:g}"
        )
    return 0.5 * (m + m.T)


def _number_mapping(
    numbers: Mapping[Any, int], n: int, indices: Sequence[float] | None, where: str
) -> dict[Any, int]:
    distinct = sorted(set(numbers.values()))
    if indices is None:
        if len(distinct) != n:
            lo = distinct[0]
            raise HEPDataError(
                f"{where}: the matrix numbers {len(distinct)} bins ({distinct[0]}…{distinct[-1]}) "
                f"but the distribution has {n}: say which numbers are its bins with indices= "
                f"(e.g. range({lo}, {lo + n}) for the first {n})"
            )
        order = {num: i for i, num in enumerate(distinct)}
    else:
        wanted = [round(float(v)) for v in indices]
        if len(wanted) != n or len(set(wanted)) != n:
            raise HEPDataError(
                f"{where}: indices= must give {n} different bin numbers, one per bin of the "
                f"distribution; got {len(wanted)}"
            )
        unknown = [w for w in wanted if w not in distinct]
        if unknown:
            raise HEPDataError(
                f"{where}: indices {unknown[:4]} are not bin numbers of the matrix "
                f"({distinct[0]}…{distinct[-1]})"
            )
        order = {num: i for i, num in enumerate(wanted)}
    return {c: order.get(num, -1) for c, num in numbers.items()}
