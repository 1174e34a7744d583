"""BLUE inputs: every accepted table form → :class:`BlueInputs`.

``data`` is a table with one row per measurement: a pandas ``DataFrame`` (pandas is optional
and never imported here), a mapping ``measurement -> row mapping``, a mapping of columns, or a
2-d array. ``correlations`` maps each source to a scalar (the same correlation for every pair
of inputs), a full n×n matrix, its upper triangle, or a mapping ``(a, b) -> rho``. The CSV
files of ``data/`` are read by :mod:`hepcombine.inputs.csv`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..exceptions import InvalidCorrelation, InvalidMeasurement, UnknownName

__all__ = ["BlueInputs", "Scaling"]

FloatArray = NDArray[np.float64]
Scaling = str | tuple[float, float, float] | Mapping[str, tuple[float, float, float]]

_VALUE_COLUMNS = ("value", "Value")
_SCALINGS = ("absolute", "linear", "sqrt")
_RHO_SLACK = 1e-9


@dataclass(frozen=True, eq=False)
class BlueInputs:
    """The inputs of a BLUE combination, checked and in arrays.

    Attributes
    ----------
    names: the measurements (rows of every array over inputs).
    sources: the uncertainty sources.
    observables: the combined observables; ``observable_of`` the one of each measurement.
    values: the measured values y (n).
    sigma: per-input, per-source uncertainties (n × sources).
    rho: per-source correlation matrices (sources × n × n).
    results_column: the name of the value column of the table.
    statistical: the statistical sources.
    modes: per source, how its uncertainties scale in iterative BLUE.
    iterative: whether ``scaling`` was given (implies iteration).
    """

    names: tuple[str, ...]
    sources: tuple[str, ...]
    observables: tuple[str, ...]
    observable_of: tuple[str, ...]
    values: FloatArray
    sigma: FloatArray
    rho: FloatArray
    results_column: str
    statistical: frozenset[str]
    modes: Mapping[str, Any]
    iterative: bool

    @classmethod
    def from_table(
        cls,
        data: Any,
        correlations: Mapping[str, Any] | Any,
        *,
        observables: Mapping[str, Iterable[str]] | None = None,
        results_column: str | None = None,
        measurements: Sequence[str] | None = None,
        columns: Sequence[str] | None = None,
        scaling: Mapping[str, Scaling] | None = None,
        statistical: Iterable[str] | None = None,
    ) -> BlueInputs:
        """Check and convert a table and its correlations (the arguments of
        :class:`~hepcombine.blue.Blue`)."""
        names, table = _table_columns(data, measurements, columns)
        if len(set(names)) != len(names):
            dupes = sorted({m for m in names if names.count(m) > 1})
            raise InvalidMeasurement(f"measurement names are not unique: {dupes}")
        if not names:
            raise InvalidMeasurement("the data table has no measurements")
        corr = _correlation_mapping(correlations)

        obs_column = table.pop("observable", None)
        if results_column is None:
            results_column = _guess_value_column(table, corr)
        if results_column not in table:
            raise UnknownName(
                f"value column {results_column!r} not in the data (columns: {list(table)})"
            )
        raw_values = table.pop(results_column)
        values = np.array(
            [_to_float(v, m, results_column) for v, m in zip(raw_values, names, strict=True)]
        )
        sources = list(table)
        missing = [s for s in sources if s not in corr]
        if missing:
            raise InvalidCorrelation(
                f"no correlation assumption for source(s) {missing}; give 0 for uncorrelated"
            )
        extra = [s for s in corr if s not in table]
        if extra:
            raise UnknownName(
                f"correlations given for source(s) {extra} that are not columns of the data "
                f"(sources: {sources})"
            )
        sigma = np.array(
            [[_to_float(table[s][i], names[i], s) for s in sources] for i in range(len(names))],
            dtype=float,
        ).reshape(len(names), len(sources))
        rho = np.array([_correlation_matrix(corr[s], s, names) for s in sources]).reshape(
            len(sources), len(names), len(names)
        )

        if observables is not None:
            obs_names, obs_of = _observable_map(observables, names)
        elif obs_column is not None:
            obs_of = [str(o) for o in obs_column]
            obs_names = list(dict.fromkeys(obs_of))
        else:
            obs_names = [results_column]
            obs_of = [results_column] * len(names)

        stat = (
            {s for s in sources if s.lower().startswith("stat")}
            if statistical is None
            else {str(s) for s in statistical}
        )
        unknown = sorted((stat | set(scaling or {})) - set(sources))
        if unknown:
            raise UnknownName(f"scaling/statistical given for unknown source(s) {unknown}")
        modes: dict[str, Any] = {}
        for s in sources:
            spec = (scaling or {}).get(s, "sqrt" if s in stat else "linear")
            modes[s] = _check_scaling(spec, s, names)

        return cls(
            names=tuple(names),
            sources=tuple(sources),
            observables=tuple(obs_names),
            observable_of=tuple(obs_of),
            values=values,
            sigma=sigma,
            rho=rho,
            results_column=results_column,
            statistical=frozenset(stat),
            modes=modes,
            iterative=scaling is not None,
        )


def _is_dataframe(obj: Any) -> bool:
    return hasattr(obj, "columns") and hasattr(obj, "index") and hasattr(obj, "to_numpy")


def _to_float(value: Any, measurement: str, column: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise InvalidMeasurement(
            f"measurement {measurement!r}, column {column!r}: {value!r} is not a number"
        ) from None
    if not math.isfinite(out):
        raise InvalidMeasurement(
            f"measurement {measurement!r}, column {column!r}: value is {out!r}; "
            "every value and uncertainty must be a finite number"
        )
    return out


def _table_columns(
    data: Any, measurements: Sequence[str] | None, columns: Sequence[str] | None
) -> tuple[list[str], dict[str, list[Any]]]:
    """Reduce every accepted table form to (measurement names, column name -> list)."""
    if _is_dataframe(data):
        table = {str(c): list(data[c].tolist()) for c in data.columns}
        if "measurement" in table:
            names = [str(v) for v in table.pop("measurement")]
        else:
            names = [str(i) for i in data.index]
        return names, table
    if isinstance(data, Mapping):
        if not data:
            raise InvalidMeasurement("the data table is empty")
        first = next(iter(data.values()))
        if isinstance(first, Mapping):  # measurement -> row
            names = [str(k) for k in data]
            cols: list[str] = []
            for row in data.values():
                if not isinstance(row, Mapping):
                    raise InvalidMeasurement(
                        "data: mixes rows given as mappings with other entries"
                    )
                cols.extend(str(c) for c in row if str(c) not in cols)
            table = {}
            for c in cols:
                table[c] = []
                for name, row in data.items():
                    row = {str(k): v for k, v in row.items()}
                    if c not in row:
                        raise InvalidMeasurement(f"measurement {name!r} has no column {c!r}")
                    table[c].append(row[c])
            return names, table
        # column -> values
        table = {}
        for c, v in data.items():
            arr = np.atleast_1d(np.asarray(v, dtype=object))
            if arr.ndim != 1:
                raise InvalidMeasurement(f"data column {c!r} is not one-dimensional")
            table[str(c)] = list(arr)
        lengths = {c: len(v) for c, v in table.items()}
        if len(set(lengths.values())) != 1:
            raise InvalidMeasurement(f"data columns have different lengths: {lengths}")
        n = next(iter(lengths.values()))
        if "measurement" in table:
            names = [str(v) for v in table.pop("measurement")]
        elif measurements is not None:
            names = [str(m) for m in measurements]
        else:
            names = [f"m{i}" for i in range(n)]
        if len(names) != n:
            raise InvalidMeasurement(f"{len(names)} measurement names for {n} rows")
        return names, table
    # array: first column values, then one column per source
    arr = np.asarray(data, dtype=float)
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise InvalidMeasurement(
            f"data array has shape {arr.shape}; expected (measurements, 1 + sources)"
        )
    n, c = arr.shape
    names = (
        [str(m) for m in measurements] if measurements is not None else [f"m{i}" for i in range(n)]
    )
    if len(names) != n:
        raise InvalidMeasurement(f"{len(names)} measurement names for {n} rows of data")
    if columns is None:
        raise InvalidMeasurement("an array needs column names: pass columns=[value, sources...]")
    if len(columns) != c:
        raise InvalidMeasurement(f"{len(columns)} column names for {c} columns of data")
    return names, {str(col): list(arr[:, j]) for j, col in enumerate(columns)}


def _correlation_matrix(spec: Any, source: str, names: Sequence[str]) -> FloatArray:
    """One source's n×n correlation matrix from a scalar, matrix, upper triangle or pair map."""
    n = len(names)
    where = f"correlation of source {source!r}"
    if isinstance(spec, Mapping):
        rho = np.eye(n)
        index = {m: i for i, m in enumerate(names)}
        for key, value in spec.items():
            if not (isinstance(key, tuple) and len(key) == 2):
                raise InvalidCorrelation(
                    f"{where}: keys must be pairs of measurement names, got {key!r}"
                )
            a, b = (str(k) for k in key)
            for x in (a, b):
                if x not in index:
                    raise UnknownName(f"{where}: unknown measurement {x!r}")
            r = _to_rho(value, where, a, b)
            if a == b and r != 1.0:
                raise InvalidCorrelation(f"{where}: ({a}, {a}) must be 1, got {r}")
            rho[index[a], index[b]] = rho[index[b], index[a]] = r
        return rho
    if _is_dataframe(spec):  # a labelled matrix: put it in the order of the measurements
        spec = spec.rename(index=str, columns=str)
        if set(spec.index) == set(names) and set(spec.columns) == set(names):
            spec = spec.loc[list(names), list(names)]
        spec = spec.to_numpy()
    try:
        arr = np.asarray(spec, dtype=float)
    except (TypeError, ValueError):
        raise InvalidCorrelation(f"{where}: {spec!r} is not a number or matrix") from None
    if not np.all(np.isfinite(arr)):
        raise InvalidCorrelation(f"{where}: contains NaN or infinite entries")
    if arr.ndim == 0:
        r = _to_rho(float(arr), where, "all", "pairs")
        rho = np.full((n, n), r)
        np.fill_diagonal(rho, 1.0)
        return rho
    if arr.ndim == 1:
        iu = np.triu_indices(n, 1)
        if arr.size == len(iu[0]):
            rho = np.eye(n)
            rho[iu] = arr
        elif arr.size == n * (n + 1) // 2:
            rho = np.zeros((n, n))
            rho[np.triu_indices(n)] = arr
        else:
            raise InvalidCorrelation(
                f"{where}: a flat upper triangle for {n} measurements has "
                f"{n * (n - 1) // 2} (without diagonal) or {n * (n + 1) // 2} entries, "
                f"got {arr.size}"
            )
        arr = rho
    if arr.shape != (n, n):
        raise InvalidCorrelation(f"{where}: shape {arr.shape}, expected ({n}, {n})")
    if not np.allclose(arr, arr.T, atol=1e-12):
        if np.all(np.tril(arr, -1) == 0.0):  # upper triangle given as a matrix
            arr = np.triu(arr) + np.triu(arr, 1).T
        else:
            i, j = (int(k) for k in np.unravel_index(np.argmax(np.abs(arr - arr.T)), arr.shape))
            raise InvalidCorrelation(
                f"{where}: matrix is neither symmetric nor upper triangular "
                f"({names[i]}, {names[j]}) = {arr[i, j]:g} but "
                f"({names[j]}, {names[i]}) = {arr[j, i]:g}"
            )
    diag = np.diag(arr)
    if not np.allclose(diag, 1.0, atol=1e-12):
        i = int(np.argmax(np.abs(diag - 1.0)))
        raise InvalidCorrelation(f"{where}: diagonal entry of {names[i]!r} is {diag[i]:g}, not 1")
    bad = np.argwhere(np.abs(arr) > 1.0 + _RHO_SLACK)
    if bad.size:
        i, j = bad[0]
        raise InvalidCorrelation(
            f"{where}: ({names[i]}, {names[j]}) = {arr[i, j]:g} is outside [-1, 1]"
        )
    out = 0.5 * (arr + arr.T)
    np.fill_diagonal(out, 1.0)
    return out


def _to_rho(value: Any, where: str, a: str, b: str) -> float:
    try:
        r = float(value)
    except (TypeError, ValueError):
        raise InvalidCorrelation(f"{where} ({a}, {b}): {value!r} is not a number") from None
    if not math.isfinite(r) or abs(r) > 1.0 + _RHO_SLACK:
        raise InvalidCorrelation(f"{where} ({a}, {b}): {r!r} is outside [-1, 1]")
    return max(-1.0, min(1.0, r))


def _correlation_mapping(correlations: Any) -> dict[str, Any]:
    if hasattr(correlations, "items"):
        return {str(k): v for k, v in correlations.items()}
    raise InvalidCorrelation(
        f"correlations must map each source to its correlation, got {type(correlations).__name__}"
    )


def _guess_value_column(table: Mapping[str, Any], corr: Mapping[str, Any]) -> str:
    for c in _VALUE_COLUMNS:
        if c in table and c not in corr:
            return c
    rest = [c for c in table if c not in corr]
    if len(rest) == 1:
        return rest[0]
    raise InvalidMeasurement(
        "cannot tell which column holds the measured values: "
        + (f"candidates {rest}" if rest else "every column is a source in the correlations")
        + "; pass results_column="
    )


def _observable_map(
    observables: Mapping[str, Iterable[str]], names: Sequence[str]
) -> tuple[list[str], list[str]]:
    of: dict[str, str] = {}
    for o, members in observables.items():
        if isinstance(members, str):
            members = [members]
        for mm in members:
            mm = str(mm)
            if mm not in names:
                raise UnknownName(f"observable {o!r}: unknown measurement {mm!r}")
            if mm in of:
                raise InvalidMeasurement(
                    f"measurement {mm!r} is mapped to both {of[mm]!r} and {o!r}"
                )
            of[mm] = str(o)
    unmapped = [mm for mm in names if mm not in of]
    if unmapped:
        raise InvalidMeasurement(f"measurement(s) {unmapped} are not mapped to an observable")
    return [str(o) for o in observables if any(v == str(o) for v in of.values())], [
        of[mm] for mm in names
    ]


def _check_scaling(spec: Any, source: str, names: Sequence[str]) -> Any:
    if isinstance(spec, str):
        if spec not in _SCALINGS:
            raise InvalidMeasurement(
                f"source {source!r}: scaling {spec!r} is not one of {_SCALINGS} or (a0, a1, a2)"
            )
        return spec
    if isinstance(spec, Mapping):
        unknown = [m for m in spec if m not in names]
        if unknown:
            raise UnknownName(f"source {source!r}: scaling for unknown measurement(s) {unknown}")
        missing = [m for m in names if m not in spec]
        if missing:
            raise InvalidMeasurement(
                f"source {source!r}: scaling coefficients missing for measurement(s) {missing}"
            )
        return [_coefficients(spec[m], source) for m in names]
    c = _coefficients(spec, source)
    return [c] * len(names)


def _coefficients(spec: Any, source: str) -> tuple[float, float, float]:
    try:
        a = tuple(float(v) for v in spec)
    except (TypeError, ValueError):
        raise InvalidMeasurement(
            f"source {source!r}: scaling {spec!r} is not a name or (a0, a1, a2)"
        ) from None
    if len(a) != 3 or not all(math.isfinite(v) for v in a):
        raise InvalidMeasurement(f"source {source!r}: scaling needs three finite (a0, a1, a2)")
    return (a[0], a[1], a[2])


def __dir__() -> list[str]:
    return list(__all__)
