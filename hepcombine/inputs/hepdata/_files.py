"""The file forms of a HEPData record (stage 1 of :mod:`hepcombine.inputs.hepdata`).

A submission directory or its ``submission.yaml``, a single-file submission, a data file on its
own (YAML or JSON) and a hepdata.net JSON table export are all read into one list of tables
(:class:`_TableRef`: name, where it is, and its data loaded on demand); :func:`hepdata_tables`
lists them and :func:`_table` selects one by name or index (never silently: see
:func:`_choose`).
"""

from __future__ import annotations

import difflib
import logging
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ...exceptions import HEPDataError

__all__ = ["hepdata_tables"]

log = logging.getLogger(__name__)


PathLike = str | os.PathLike[str]


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_EXPORT_NAME = re.compile(r"^HEPData-ins(\d+)-v(\d+)-(.+)$")


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
