"""Read HEPData records into differential measurements.

A HEPData record is a set of tables; a table has independent variables (the bins) and dependent
variables (values with labelled uncertainties). :func:`read_hepdata` turns one dependent
variable of one table, plus the covariance, correlation and breakdown tables that belong to it,
into a :class:`~hepcombine.DifferentialMeasurement`. It reads

* a submission directory (``submission.yaml`` plus data files) or its ``submission.yaml``,
* a single-file submission (the table documents carry their data inline),
* a data file on its own (as hepdata.net's per-table YAML export ``HEPData-insN-vV-Table_K.yaml``
  or a copy kept by an analysis), YAML or JSON, and
* a hepdata.net JSON table export (``headers``/``values`` layout).

Only PyYAML is needed (its C loader when available: the largest saved record, 200 kB, loads in
about 0.1 s).

Conventions (each one a decision; the reasons are in the docstrings below)
---------------------------------------------------------------------------
* **Nothing is chosen silently.** A table and a dependent variable are selected by name or by
  0-based index; with more than one candidate and no selection, or an ambiguous or unknown
  name, the error lists the choices (with "did you mean" for near misses).
* **Labels become sources.** Each error label is one source (one nuisance parameter, fully
  correlated between the bins) unless listed in ``uncorrelated`` (then one source per bin).
  Labels are cleaned: surrounding and repeated spaces removed (``'sys,pdf '`` → ``pdf``), a
  leading ``sys,``/``syst,`` dropped (``sys,lumi`` → ``lumi``), a missing label named
  ``unlabelled``. A label that occurs several times within one bin (the ATLAS dijet table has
  ~60 ``sys`` per bin) becomes ``sys#1``, ``sys#2``, … by position within the bin; asking for
  the bare ``sys`` then is an error that lists them. Arguments that name labels accept the label
  as written in the file or its cleaned form.
* ``stat``, ``stat.``, ``statistical`` (any case) are statistical by default; ``stat=`` says
  otherwise. Several statistical labels add in quadrature; an asymmetric one is symmetrised as
  (|plus| + |minus|)/2 (logged).
* **Signs.** ``symerror: s`` is the shift ``s`` of the +1σ variation (and ``-s`` of −1σ);
  ``asymerror: {plus: p, minus: m}`` is ``(up, down) = (p, m)`` as written, so ``p < 0 < m`` (the
  up variation lowers the bin) and same-sign pairs keep their meaning (method.md §1). An empty
  side ``''`` is a zero shift. ``asymmetric=`` chooses how the pair is used: ``"keep"`` (passed
  on; the combiner's ``asymmetry`` option interpolates), ``"symmetrise"`` ((p − m)/2, signed),
  or ``"shift"`` (the centre moved by Σ(p + m)/2 and the shifts symmetrised).
* **Percent strings** (``'0.5%'``, ``'+0.346%'``, ``'-3.989%'``) are relative to the value of
  that variable in that bin, as written in the file.
* **Missing values** (``'-'``, or ``''`` in JSON) keep their bin in :class:`HEPDataVariable`
  (value NaN), so matrices and breakdown tables stay aligned; :func:`read_hepdata` then leaves
  the bin out of the measurement (its binning gets a gap, :meth:`Binning.select`) and logs a
  warning. The estimates are named ``f"{bin_prefix}{i}"`` with ``i`` the bin's position in the
  table, so names stay those of the table whatever is left out.
* **Units and scale.** ``scale`` (a factor the user states, e.g. ``1e-3`` for a table of A × 10³)
  multiplies values and uncertainties, covariances by its square; ``per_bin_width`` divides
  by the bin width (σ per bin → dσ/dx). Nothing is guessed from header text.
* **Bins are matched by edges**, never by position, wherever the file gives edges; matrices
  indexed by bin numbers are matched by number (``indices=`` says which numbers belong to the
  distribution when one matrix spans two tables).
* **Matrices** must be declared: :class:`HEPDataMatrix` says whether a table is a covariance or
  a correlation and whether it is statistical, systematic or total. A statistical matrix
  gives the statistical covariance (it must be positive definite); a systematic or total
  (minus the statistical part) one becomes orthogonal sources from its eigen-decomposition
  (``u_k = √w_k v_k``, named ``f"{name}{k}"``), replacing the labelled systematic uncertainties.
  A singular or indefinite matrix is a :class:`~hepcombine.exceptions.HEPDataError` naming the
  bins of the offending direction; ``drop_bins`` leaves bins out (for a normalised spectrum,
  one bin).
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import math
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import yaml
from numpy.typing import NDArray

from ..binning import Binning, Qualifier, Quantity
from ..exceptions import HEPDataError, InvalidMeasurement
from ..measurement import DifferentialMeasurement, Measurement

__all__ = [
    "HEPDataBreakdown",
    "HEPDataMatrix",
    "HEPDataVariable",
    "hepdata_tables",
    "read_hepdata",
    "read_hepdata_matrix",
    "read_hepdata_table",
]

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
FloatArray = NDArray[np.float64]

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_STAT = re.compile(
    r"^(stat|stats|statistical|statistics)\.?(\s+(unc\.?|uncertainty|error))?$", re.I
)
_SYS_PREFIX = re.compile(r"^syst?\s*,\s*(.+)$", re.I)
_EXPORT_NAME = re.compile(r"^HEPData-ins(\d+)-v(\d+)-(.+)$")
_MISSING = ("-", "")


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


# ====================================================================== files and tables
@dataclass
class _TableRef:
    name: str
    aliases: tuple[str, ...]
    where: str
    path: Path
    load: Callable[[], dict[str, Any]]
    description: str = ""
    record: str = ""


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HEPDataError(f"{path}: no such file or directory") from None
    except IsADirectoryError:
        raise HEPDataError(f"{path}: is a directory, not a file") from None
    except UnicodeDecodeError as e:
        raise HEPDataError(
            f"{path}: not a text file (byte {e.start} is not UTF-8); HEPData records are YAML or "
            "JSON text"
        ) from None
    except OSError as e:
        raise HEPDataError(f"{path}: cannot be read ({e.strerror or e})") from None


def _documents(path: Path) -> list[Any]:
    text = _read_text(path)
    try:
        return list(yaml.load_all(text, Loader=_LOADER))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise HEPDataError(
            f"{path}{line}: not valid YAML or JSON ({problem}); a HEPData record was expected"
        ) from None


def _found(doc: Any) -> str:
    if doc is None:
        return "an empty file"
    if isinstance(doc, dict):
        keys = ", ".join(repr(k) for k in list(doc)[:6])
        return f"a mapping with keys {keys}"
    if isinstance(doc, list):
        return f"a list of {len(doc)} entries"
    return f"a {type(doc).__name__} ({str(doc)[:40]!r}…)"


def _is_data(doc: Any) -> bool:
    return isinstance(doc, dict) and (
        "dependent_variables" in doc or "independent_variables" in doc
    )


def _is_json_export(doc: Any) -> bool:
    return isinstance(doc, dict) and "headers" in doc and "values" in doc


def _record_from_name(stem: str) -> tuple[str, str]:
    """``("ins1426517 v1", "Table_4")`` from a hepdata.net export name, else ``("", stem)``."""
    m = _EXPORT_NAME.match(stem)
    if m:
        return f"ins{m.group(1)} v{m.group(2)}", m.group(3)
    return "", stem


def _constant(data: dict[str, Any]) -> Callable[[], dict[str, Any]]:
    def load() -> dict[str, Any]:
        return data

    return load


def _data_table(path: Path, where: str) -> dict[str, Any]:
    """The table (independent/dependent variables) in a data file, YAML, JSON or JSON export."""
    docs = [d for d in _documents(path) if d is not None]
    if len(docs) != 1:
        raise HEPDataError(
            f"{where}: a data file holds one table (one YAML document), {path.name} has {len(docs)}"
        )
    doc = docs[0]
    if _is_data(doc):
        return doc
    if _is_json_export(doc):
        return _json_export_table(doc, where)
    raise HEPDataError(
        f"{where}: {path.name} is not a HEPData data file (independent_variables and "
        f"dependent_variables); found {_found(doc)}"
    )


def _submission_tables(sub: Path, docs: list[Any]) -> list[_TableRef]:
    tables: list[_TableRef] = []
    record = ""
    empty = 0
    for k, doc in enumerate(docs):
        if doc is None:
            empty += 1
            continue
        if not isinstance(doc, dict):
            raise HEPDataError(f"{sub}: document {k + 1} is {_found(doc)}, not a table entry")
        if "name" not in doc:
            if "data_file" in doc or _is_data(doc):
                raise HEPDataError(f"{sub}: document {k + 1} is a table without a 'name'")
            ids = doc.get("record_ids") or []
            if isinstance(ids, list):
                inspire = [
                    r.get("id") for r in ids if isinstance(r, dict) and r.get("type") == "inspire"
                ]
                if inspire:
                    record = f"ins{inspire[0]}"
            continue
        name = str(doc["name"])
        description = str(doc.get("description", "") or "").strip()
        if "data_file" in doc:
            data_file = str(doc["data_file"])
            file = sub.parent / data_file
            where = f"table {name!r} of {sub} (data file {data_file})"
            aliases = (data_file, Path(data_file).stem)

            def load(file: Path = file, where: str = where) -> dict[str, Any]:
                if not file.exists():
                    raise HEPDataError(
                        f"{where}: the data file {file.name} is not in {file.parent}"
                    )
                return _data_table(file, where)

            tables.append(_TableRef(name, aliases, where, file, load, description, record))
        elif _is_data(doc):
            where = f"table {name!r} of {sub} (inline data, document {k + 1})"
            tables.append(_TableRef(name, (), where, sub, _constant(doc), description, record))
        else:
            raise HEPDataError(
                f"{sub}: table {name!r} (document {k + 1}) has neither a data_file nor inline "
                "independent_variables/dependent_variables"
            )
    if empty:
        log.debug("%s: %d empty YAML document(s) skipped", sub, empty)
    if not tables:
        raise HEPDataError(f"{sub}: the submission lists no tables")
    return tables


def _record_tables(path: PathLike) -> list[_TableRef]:
    """The tables of whatever ``path`` is (module docstring)."""
    p = Path(path)
    if p.is_dir():
        sub = p / "submission.yaml"
        if not sub.is_file():
            files = sorted(f.name for f in p.iterdir() if f.suffix in (".yaml", ".yml", ".json"))
            shown = ", ".join(files[:8]) + (", …" if len(files) > 8 else "")
            raise HEPDataError(
                f"{p}: no submission.yaml in this directory; read one of its data files directly"
                + (f" ({shown})" if files else "")
            )
        return _submission_tables(sub, _documents(sub))
    docs = _documents(p)
    content = [d for d in docs if d is not None]
    if any(
        isinstance(d, dict) and ("data_file" in d or ("name" in d and _is_data(d))) for d in content
    ):
        return _submission_tables(p, docs)
    if len(content) == 1 and (_is_data(content[0]) or _is_json_export(content[0])):
        doc = content[0]
        record, name = _record_from_name(p.stem)
        if _is_json_export(doc):
            name = str(doc.get("name") or name)
            doi = doc.get("doi")
            record = record or (f"doi {doi}" if doi else "")
        where = f"file {p}"
        data = _json_export_table(doc, where) if _is_json_export(doc) else doc
        aliases = (p.name, p.stem, name.replace("_", " "))
        description = str(doc.get("description", "") or "") if _is_json_export(doc) else ""
        return [_TableRef(name, aliases, where, p, _constant(data), description, record)]
    raise HEPDataError(
        f"{p}: not a HEPData record: expected a submission.yaml, a single-file submission, a data "
        "file (independent_variables and dependent_variables) or a hepdata.net JSON table "
        f"export; found {_found(content[0] if len(content) == 1 else (content or None))}"
    )


def hepdata_tables(path: PathLike) -> list[str]:
    """The names of the tables in a HEPData record (submission directory or file), in order.

    A data file on its own is one table, named after the file (``Table_4`` for
    ``HEPData-ins1426517-v1-Table_4.yaml``).
    """
    return [t.name for t in _record_tables(path)]


def _fold(text: str) -> str:
    return re.sub(r"[\s_]+", " ", text).strip().casefold()


def _listing(names: Sequence[str], limit: int = 12) -> str:
    shown = ", ".join(f"{i}: {n!r}" for i, n in enumerate(names[:limit]))
    return shown + (f", … ({len(names)} in all)" if len(names) > limit else "")


def _choose(
    names: Sequence[str],
    selection: str | int | None,
    what: str,
    argument: str,
    where: str,
    aliases: Sequence[Sequence[str]] | None = None,
    describe: Callable[[int], str] | None = None,
) -> int:
    """Index of the entry ``selection`` names (by name, alias or 0-based index); never a guess."""
    aliases = aliases or [() for _ in names]
    show = [describe(i) if describe else repr(n) for i, n in enumerate(names)]
    listing = ", ".join(f"{i}: {s}" for i, s in enumerate(show[:12])) + (
        f", … ({len(names)} in all)" if len(names) > 12 else ""
    )
    if not names:
        raise HEPDataError(f"{where} has no {what}")
    if selection is None:
        if len(names) == 1:
            return 0
        raise HEPDataError(
            f"{where} has {len(names)} {what}s; choose one with {argument}= (name or 0-based "
            f"index): {listing}"
        )
    if isinstance(selection, bool) or not isinstance(selection, int | str):
        raise HEPDataError(f"{argument} must be a name or an index, not {selection!r}")
    if isinstance(selection, int):
        if 0 <= selection < len(names):
            return selection
        raise HEPDataError(
            f"{where}: there is no {what} {selection} (0-based; {len(names)} in all): {listing}"
        )
    for match in (
        lambda i: selection == names[i] or selection in aliases[i],
        lambda i: _fold(selection) in {_fold(names[i]), *(_fold(a) for a in aliases[i])},
    ):
        hits = [i for i in range(len(names)) if match(i)]
        if len(hits) == 1:
            return hits[0]
        if hits:
            shown = ", ".join(f"{i}: {show[i]}" for i in hits[:12])
            raise HEPDataError(
                f"{where}: {len(hits)} {what}s are named {selection!r} ({shown}); choose one by "
                f"its 0-based index with {argument}="
            )
    pool = list(dict.fromkeys([*names, *(a for al in aliases for a in al)]))
    close = difflib.get_close_matches(selection, pool, n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    raise HEPDataError(
        f"{where} has no {what} named {selection!r}{hint} Its {what}s are: {listing}"
    )


def _table(path: PathLike, table: str | int | None) -> _TableRef:
    tables = _record_tables(path)
    i = _choose(
        [t.name for t in tables],
        table,
        "table",
        "table",
        f"{path}",
        aliases=[t.aliases for t in tables],
    )
    return tables[i]


# ====================================================================== hepdata.net JSON
def _split_units(header: str) -> tuple[str, str]:
    m = re.match(r"^(.*?)\s*\[([^\[\]]*)\]\s*$", header)
    return (m.group(1), m.group(2).strip()) if m else (header, "")


def _json_export_table(doc: dict[str, Any], where: str) -> dict[str, Any]:
    """A hepdata.net JSON table export in the layout of a data file: ``headers[:x_count]`` are
    the independent variables, ``headers[x_count:]`` the dependent ones (``group`` indexes them),
    numbers are strings, ``{"hide": true, ...}`` errors mean none, qualifiers are keyed by
    type and span ``colspan`` dependent variables."""
    headers, rows = doc.get("headers"), doc.get("values")
    if not isinstance(headers, list) or not isinstance(rows, list):
        raise HEPDataError(f"{where}: a JSON table export needs lists 'headers' and 'values'")
    try:
        x_count = int(doc.get("x_count", 1))
    except (TypeError, ValueError):
        raise HEPDataError(f"{where}: x_count {doc.get('x_count')!r} is not a number") from None
    names = [str(h.get("name", "")) if isinstance(h, dict) else str(h) for h in headers]
    ivs: list[dict[str, Any]] = []
    for h in names[:x_count]:
        label, unit = _split_units(h)
        ivs.append({"header": {"name": label, "units": unit}, "values": []})
    dvs: list[dict[str, Any]] = []
    for h in names[x_count:]:
        label, unit = _split_units(h)
        dvs.append({"header": {"name": label, "units": unit}, "qualifiers": [], "values": []})
    for r, row in enumerate(rows):
        xs = row.get("x", []) if isinstance(row, dict) else None
        if not isinstance(xs, list) or len(xs) != x_count:
            raise HEPDataError(f"{where}: values[{r}] has no 'x' list of {x_count} entries")
        for k, xv in enumerate(xs):
            if isinstance(xv, dict) and "low" in xv and "high" in xv:
                ivs[k]["values"].append({"low": xv["low"], "high": xv["high"]})
            else:
                ivs[k]["values"].append({"value": xv.get("value") if isinstance(xv, dict) else xv})
        for dv in dvs:
            dv["values"].append({"value": "-"})
        for y in row.get("y", []):
            try:
                g = int(y["group"])
                target = dvs[g]["values"]
            except (KeyError, TypeError, ValueError, IndexError):
                raise HEPDataError(
                    f"{where}: values[{r}].y has an entry without a valid 'group' (0…{len(dvs) - 1})"
                ) from None
            errors = [
                e for e in y.get("errors", []) or [] if not (isinstance(e, dict) and e.get("hide"))
            ]
            target[-1] = {"value": y.get("value"), "errors": errors}
    quals = doc.get("qualifiers") or {}
    order = doc.get("qualifier_order") or list(quals)
    for kind in order:
        offset = 0
        for q in quals.get(kind, []) or []:
            span = int(q.get("colspan", 1) or 1)
            for dv in dvs[offset : offset + span]:
                dv["qualifiers"].append(
                    {"name": str(q.get("type", kind)), "value": q.get("value", "")}
                )
            offset += span
    return {"independent_variables": ivs, "dependent_variables": dvs}


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


# ====================================================================== matrices
def _companion(path: PathLike, spec_path: PathLike | None, table: str | int | None) -> _TableRef:
    """The table a matrix or breakdown specification names (``path=None``: the same record;
    for a single data file, a file next to it)."""
    if spec_path is not None:
        return _table(spec_path, table)
    p = Path(path)
    if p.is_file() and isinstance(table, str):
        tables = _record_tables(p)
        if len(tables) == 1 and not any(table in (t.name, *t.aliases) for t in tables):
            m = _EXPORT_NAME.match(p.stem)
            prefixes = ["", f"HEPData-ins{m.group(1)}-v{m.group(2)}-"] if m else [""]
            for prefix in prefixes:
                for suffix in ("", ".yaml", ".json"):
                    candidate = p.parent / f"{prefix}{table}{suffix}"
                    if candidate.is_file():
                        return _table(candidate, None)
    return _table(path, table)


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


def __dir__() -> list[str]:
    return list(__all__)
