"""BLUE tables from CSV files: a table of measurements and a long-form table of correlations
(the files of ``data/``), read into the arguments of :class:`~hepcombine.blue.Blue`.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path
from typing import Any

from ..exceptions import ConfigError, InvalidCorrelation, UnknownName

__all__ = ["read_blue_csv"]


def _read_csv(path: Path) -> list[tuple[int, dict[str, str]]]:
    try:
        with path.open(newline="") as fh:
            reader = csv.DictReader(fh)
            rows = [(reader.line_num, row) for row in reader]
            header = reader.fieldnames
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror})") from None
    if not header:
        raise ConfigError(f"{path}: empty file")
    for line, row in rows:
        if None in row or any(v is None for v in row.values()):
            raise ConfigError(f"{path}:{line}: wrong number of fields")
    return rows


def read_blue_csv(
    table: str | os.PathLike[str], correlations: str | os.PathLike[str] | None = None
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[tuple[str, str], float]]]:
    """Read a BLUE table and its correlations: ``(data, correlations)`` for
    :class:`~hepcombine.blue.Blue` (``Blue(data, correlations, results_column="value")``).

    ``table``: one row per measurement with columns ``measurement``, optionally
    ``observable``, ``value``, then one column per source (absolute uncertainties).
    ``correlations``: long form with columns ``source, measurement_a, measurement_b, rho``;
    pairs (and sources) not listed are uncorrelated. Without it every source is uncorrelated.
    Problems raise :class:`~hepcombine.exceptions.ConfigError` (or ``UnknownName`` /
    ``InvalidCorrelation``) naming the file and line.
    """
    table = Path(table)
    rows = _read_csv(table)
    header = list(rows[0][1]) if rows else []
    if "measurement" not in header or "value" not in header:
        raise ConfigError(f"{table}: header must contain 'measurement' and 'value', got {header}")
    data: dict[str, dict[str, Any]] = {}
    for line, row in rows:
        name = row["measurement"].strip()
        if name in data:
            raise ConfigError(f"{table}:{line}: measurement {name!r} appears twice")
        entry: dict[str, Any] = {}
        for col, text in row.items():
            if col == "measurement":
                continue
            if col == "observable":
                entry[col] = text.strip()
                continue
            try:
                entry[col] = float(text)
            except ValueError:
                raise ConfigError(
                    f"{table}:{line}: measurement {name!r}, column {col!r}: "
                    f"{text!r} is not a number"
                ) from None
        data[name] = entry
    sources = [c for c in header if c not in ("measurement", "observable", "value")]
    names = list(data)
    pairs: dict[str, dict[tuple[str, str], float]] = {s: {} for s in sources}
    if correlations is not None:
        cpath = Path(correlations)
        crows = _read_csv(cpath)
        need = ["source", "measurement_a", "measurement_b", "rho"]
        if crows and any(c not in crows[0][1] for c in need):
            raise ConfigError(f"{cpath}: header must be {need}, got {list(crows[0][1])}")
        for line, row in crows:
            s, a, b = (row[c].strip() for c in need[:3])
            if s not in pairs:
                raise UnknownName(f"{cpath}:{line}: source {s!r} is not a column of {table}")
            for x in (a, b):
                if x not in data:
                    raise UnknownName(f"{cpath}:{line}: measurement {x!r} is not a row of {table}")
            try:
                rho = float(row["rho"])
            except ValueError:
                raise ConfigError(f"{cpath}:{line}: rho {row['rho']!r} is not a number") from None
            if not math.isfinite(rho) or abs(rho) > 1.0:
                raise InvalidCorrelation(
                    f"{cpath}:{line}: source {s!r} ({a}, {b}): rho = {rho} is outside [-1, 1]"
                )
            key = (a, b) if names.index(a) <= names.index(b) else (b, a)
            if key in pairs[s] and pairs[s][key] != rho:
                raise ConfigError(
                    f"{cpath}:{line}: source {s!r} ({a}, {b}) given twice with different rho"
                )
            pairs[s][key] = rho
    return data, pairs


def __dir__() -> list[str]:
    return list(__all__)
