"""Read the YAML files of the gvm-combinations package (E. Canonero) unchanged.

Layout (recognised by :func:`is_gvm_file`: ``global`` with ``n_meas``, ``n_syst``, ``data`` with
``measurements``, ``syst``)::

    global: {name: LHC, n_meas: 15, n_syst: 25, corr_dir: correlations}   # or matrix_dir
    data:
      measurements:
        - {label: a, central: 173.79, stat_error: 0.54}
        ...
      stat_cov_path: stat.txt        # optional: the statistical covariance (diagonal only here)
    syst:
      - name: LHCJES1
        shift:
          value: [0.54, 0.33, ...]   # one shift per measurement (0: not affected)
          correlation: LHCJES1.txt   # or 'diagonal' or 'ones'
        error-on-error: {value: 0.0, type: dependent}   # independent: a number or one per measurement

Each measurement becomes a :class:`~hepcombine.measurement.Measurement` named by its label, with
one estimate named after ``global.name`` (all of them combined into that observable) and one
source per systematic whose shift is not zero; a source's correlation matrix gives the
correlations of its sources across the measurements (±1 exact). ``error-on-error`` values > 0
become the specification's ``errors_on_errors`` (``dependent``: one ε for the systematic's
sources; ``independent``: one per measurement, in file order, of all measurements or of those
with a non-zero shift, as gvm-combinations accepts).

Checked, with the file, the entry and what to do: the counts (``n_meas``, ``n_syst``), every
matrix's shape, diagonal and range, its symmetry (an asymmetric matrix, such as the top-mass
``ptmiss``, is an error naming both entries and values; ``symmetrise=True`` averages the two
and says so) and, on the measurements the source affects, that it is a valid correlation matrix
(positive semi-definite: the peer adds to its diagonal without saying so; here it is an error
naming the matrix, its smallest eigenvalue and the measurements carrying it, unless
``repair_correlations=True``, with which the combiner's opt-in repair
(``Combiner(repair=True)``, ``--repair-correlations``) replaces it by the nearest valid one and
reports the changes).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
from numpy.typing import NDArray

from ..errors_on_errors import ErrorOnError
from ..exceptions import ConfigError, InvalidArgument, InvalidMeasurement
from ..measurement import Measurement
from ..spec import CombinationSpec

__all__ = ["is_gvm_file", "read_gvm"]

log = logging.getLogger(__name__)

#: entries of a matrix that differ by more than this are asymmetric
_SYMMETRY_TOL = 1e-9
_EIG_TOL = 1e-9


def is_gvm_file(data: Any) -> bool:
    """Whether parsed YAML has the layout of a gvm-combinations file."""
    if not isinstance(data, Mapping):
        return False
    glob = data.get("global")
    return (
        isinstance(glob, Mapping)
        and "n_meas" in glob
        and "n_syst" in glob
        and "data" in data
        and "syst" in data
    )


class _File:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, where: str, message: str) -> NoReturn:
        raise ConfigError(f"{self.path}, at {where}: {message}")


def _number(f: _File, value: Any, where: str) -> float:
    if isinstance(value, bool):
        f.fail(where, f"expected a number, got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        f.fail(where, f"expected a number, got {value!r}")
    if not math.isfinite(out):
        f.fail(where, f"expected a finite number, got {value!r}")
    return out


def _load_matrix(f: _File, path: Path, n: int, where: str) -> NDArray[np.float64]:
    try:
        text = path.read_text()
    except OSError as exc:
        f.fail(where, f"cannot read the matrix file {path}: {exc.strerror or exc}")
    rows = []
    for number, raw in enumerate(text.splitlines(), 1):
        content = raw.split("#", 1)[0].replace(",", " ").split()
        if not content:
            continue
        try:
            rows.append([float(v) for v in content])
        except ValueError:
            f.fail(where, f"{path}, line {number}: expected numbers, got {raw.strip()!r}")
    if len(rows) != n or any(len(r) != n for r in rows):
        shape = f"{len(rows)} rows of {sorted({len(r) for r in rows})} entries"
        f.fail(where, f"{path} holds {shape}; expected {n} × {n} (one row per measurement)")
    m = np.array(rows, dtype=float)
    if not np.all(np.isfinite(m)):
        f.fail(where, f"{path} holds entries that are not finite numbers")
    return m


def read_gvm(
    path: str | Path,
    *,
    data: Mapping[str, Any] | None = None,
    symmetrise: bool = False,
    repair_correlations: bool = False,
) -> CombinationSpec:
    """Read a gvm-combinations YAML file into a :class:`~hepcombine.spec.CombinationSpec` (see
    the module docstring). ``data``: the file already parsed (by
    :func:`~hepcombine.inputs.load_config`)."""
    path = Path(path)
    f = _File(path)
    if data is None:
        import yaml

        try:
            data = yaml.safe_load(path.read_text())
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not is_gvm_file(data):
        raise ConfigError(
            f"{path} is not a gvm-combinations file (needs 'global' with 'n_meas' and "
            "'n_syst', 'data' and 'syst')"
        )
    glob = data["global"]
    name = str(glob.get("name", "mu"))
    n_meas = int(_number(f, glob["n_meas"], "global/n_meas"))
    n_syst = int(_number(f, glob["n_syst"], "global/n_syst"))
    folder = glob.get("matrix_dir", glob.get("corr_dir"))
    base = path.parent / str(folder) if folder else path.parent

    entries = (data.get("data") or {}).get("measurements")
    if not isinstance(entries, list) or not entries:
        f.fail("data/measurements", "expected a list of measurements {label, central, stat_error}")
    labels: list[str] = []
    central: list[float] = []
    stat: list[float | None] = []
    for i, m in enumerate(entries):
        where = f"data/measurements/{i}"
        if not isinstance(m, Mapping) or "label" not in m or "central" not in m:
            f.fail(where, "a measurement needs 'label' and 'central'")
        label = str(m["label"])
        if label in labels:
            f.fail(f"{where}/label", f"the label {label!r} is given twice")
        if ":" in label:
            f.fail(f"{where}/label", f"the label {label!r} must not contain ':'")
        labels.append(label)
        central.append(_number(f, m["central"], f"{where}/central"))
        stat.append(
            _number(f, m["stat_error"], f"{where}/stat_error") if "stat_error" in m else None
        )
    if len(labels) != n_meas:
        f.fail("global/n_meas", f"n_meas is {n_meas} but data/measurements lists {len(labels)}")
    stat_cov = (data.get("data") or {}).get("stat_cov_path")
    if stat_cov:
        V = _load_matrix(f, base / str(stat_cov), n_meas, "data/stat_cov_path")
        off = V - np.diag(np.diag(V))
        if np.any(off != 0.0):
            f.fail(
                "data/stat_cov_path",
                "a statistical covariance between different measurements is not supported; "
                "give the measurements' stat_error (or a diagonal matrix)",
            )
        stat = [math.sqrt(v) if v > 0 else None for v in np.diag(V)]
    bad = [labels[i] for i, s in enumerate(stat) if s is None or not s > 0]
    if bad:
        f.fail("data/measurements", f"measurements {bad} need a positive stat_error")

    systs = data.get("syst")
    if not isinstance(systs, list):
        f.fail("syst", "expected a list of systematics {name, shift, error-on-error}")
    if len(systs) != n_syst:
        f.fail("global/n_syst", f"n_syst is {n_syst} but syst lists {len(systs)}")
    shifts: dict[str, NDArray[np.float64]] = {}
    correlations: dict[tuple[str, str], float] = {}
    errors_on_errors: dict[str, ErrorOnError] = {}
    for k, s in enumerate(systs):
        where = f"syst/{k}"
        if not isinstance(s, Mapping) or "name" not in s:
            f.fail(where, "a systematic needs a 'name'")
        sname = str(s["name"])
        where = f"syst/{k} ({sname})"
        if sname in shifts:
            f.fail(where, f"the systematic {sname!r} is given twice")
        shift = s.get("shift")
        if not isinstance(shift, Mapping) or "value" not in shift or "correlation" not in shift:
            f.fail(where, "needs 'shift' with 'value' and 'correlation'")
        values = shift["value"]
        if not isinstance(values, list) or len(values) != n_meas:
            f.fail(f"{where}/shift/value", f"expected {n_meas} shifts, one per measurement")
        u = np.array([_number(f, v, f"{where}/shift/value") for v in values])
        shifts[sname] = u
        used = np.flatnonzero(u != 0.0)
        spec = shift["correlation"]
        if spec in ("diagonal", "ones"):
            rho = np.eye(n_meas) if spec == "diagonal" else np.ones((n_meas, n_meas))
            origin = spec
        else:
            file = base / str(spec)
            rho = _load_matrix(f, file, n_meas, f"{where}/shift/correlation")
            origin = str(file)
            rho = _checked(f, rho, used, labels, sname, origin, symmetrise, repair_correlations)
        for a in range(len(used)):
            for b in range(a + 1, len(used)):
                i, j = used[a], used[b]
                if rho[i, j] != 0.0:
                    correlations[(f"{labels[i]}:{sname}", f"{labels[j]}:{sname}")] = float(
                        rho[i, j]
                    )
        eoe = s.get("error-on-error") or {}
        if not isinstance(eoe, Mapping):
            f.fail(f"{where}/error-on-error", "expected {value, type}")
        kind = str(eoe.get("type", "dependent"))
        value = eoe.get("value", 0.0)
        try:
            if kind == "independent":
                eps = value if isinstance(value, list) else [value] * n_meas
                if len(eps) == n_meas:
                    per = {labels[i]: eps[i] for i in used}
                elif len(eps) == len(used):
                    per = {labels[i]: e for i, e in zip(used, eps, strict=True)}
                else:
                    f.fail(
                        f"{where}/error-on-error/value",
                        f"{len(eps)} values; give one per measurement ({n_meas}) or per "
                        f"measurement with a non-zero shift ({len(used)})",
                    )
                for label, e in per.items():
                    spec_i = ErrorOnError(e, "independent")
                    if spec_i.eps > 0.0:
                        errors_on_errors[f"{label}:{sname}"] = spec_i
            elif kind == "dependent":
                if isinstance(value, list):
                    f.fail(
                        f"{where}/error-on-error/value",
                        "a dependent error on errors is one number (one ε for the source's "
                        "correlated group)",
                    )
                spec_d = ErrorOnError(value, "dependent")
                if spec_d.eps > 0.0 and used.size:
                    errors_on_errors[sname] = spec_d
            else:
                f.fail(
                    f"{where}/error-on-error/type",
                    f"type must be 'dependent' or 'independent', not {kind!r}",
                )
        except InvalidArgument as exc:
            f.fail(f"{where}/error-on-error/value", str(exc))

    measurements: dict[str, Measurement] = {}
    for i, label in enumerate(labels):
        systematics = {sname: {name: float(u[i])} for sname, u in shifts.items() if u[i] != 0.0}
        s_i = stat[i]
        assert s_i is not None
        try:
            measurements[label] = Measurement.from_uncertainties(
                {name: central[i]}, {name: s_i}, systematics, name=label
            )
        except InvalidMeasurement as exc:
            f.fail(f"data/measurements/{i}", str(exc))
    return CombinationSpec(
        measurements=measurements,
        observables={name: [f"{label}:{name}" for label in labels]},
        correlations=correlations,
        source=str(path),
        format="gvm",
        errors_on_errors=errors_on_errors,
    )


def _checked(
    f: _File,
    rho: NDArray[np.float64],
    used: NDArray[np.intp],
    labels: list[str],
    sname: str,
    origin: str,
    symmetrise: bool,
    repair: bool,
) -> NDArray[np.float64]:
    """The correlation matrix of systematic ``sname`` from ``origin``, checked on the
    measurements it affects (``used``)."""
    where = f"systematic {sname!r}, matrix {origin}"
    sub = rho[np.ix_(used, used)]
    diag = np.diag(sub)
    off = np.flatnonzero(np.abs(diag - 1.0) > 1e-9)
    if off.size:
        i = used[off[0]]
        f.fail(where, f"the diagonal entry of {labels[i]} (row {i + 1}) is {diag[off[0]]:g}, not 1")
    out_of_range = np.argwhere(np.abs(sub) > 1.0 + 1e-12)
    if out_of_range.size:
        a, b = used[out_of_range[0]]
        f.fail(
            where,
            f"the correlation of {labels[a]} and {labels[b]} (row {a + 1}, column {b + 1}) is "
            f"{rho[a, b]:g}, outside [-1, 1]",
        )
    rho = np.clip(rho, -1.0, 1.0)  # round-off beyond ±1 (written as 1.0000000000000002)
    sub = rho[np.ix_(used, used)]
    asym = np.argwhere(np.triu(np.abs(sub - sub.T) > _SYMMETRY_TOL, 1))
    if asym.size:
        pairs = [
            f"{labels[used[a]]}–{labels[used[b]]} (row {used[a] + 1}, column {used[b] + 1}: "
            f"{rho[used[a], used[b]]:g}; row {used[b] + 1}, column {used[a] + 1}: "
            f"{rho[used[b], used[a]]:g})"
            for a, b in asym
        ]
        if not symmetrise:
            f.fail(
                where,
                f"the matrix is not symmetric: {'; '.join(pairs)}. Correct the file, or pass "
                "--symmetrise-correlations (symmetrise=True) to use the mean of the two entries",
            )
        log.warning(
            "%s: not symmetric, the mean of the two entries is used: %s", where, "; ".join(pairs)
        )
        rho = 0.5 * (rho + rho.T)
        sub = rho[np.ix_(used, used)]
    if len(used) > 1 and not repair:
        w, v = np.linalg.eigh(sub)
        if w[0] < -_EIG_TOL * len(used):
            vec = v[:, 0]
            carriers = [labels[used[k]] for k in np.argsort(-np.abs(vec)) if abs(vec[k]) > 0.05]
            f.fail(
                where,
                f"not a valid correlation matrix on the measurements the source affects (not "
                f"positive semi-definite): smallest eigenvalue {w[0]:.4g}, along a direction "
                f"carried by the measurements {carriers}. Correct the file, or pass "
                "--repair-correlations (repair_correlations=True here and repair=True for the "
                "combiner) to use the nearest valid correlation matrix; the changes are reported",
            )
    return rho


def __dir__() -> list[str]:
    return list(__all__)
