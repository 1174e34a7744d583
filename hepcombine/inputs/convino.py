"""Read the C++ Convino program's text input files.

:func:`read_convino` reads a Convino base (config) file and the measurement files it lists into
a :class:`~hepcombine.spec.CombinationSpec` (format ``"convino"``: Pearson χ² by default, as the
original program); :func:`read_measurement_file` reads one measurement file into a
:class:`~hepcombine.measurement.Measurement`. The writer is
:func:`hepcombine.outputs.convino.write_convino`.

The format is the one of Convino release 1.6 (blocks ``[name]`` … ``[end name]``, ``#``
comments, ``#!FILE = other.txt`` includes inside a block, marker lines compared after removing
all whitespace, text outside blocks ignored). Choices and extensions of hepcombine:

* **Names.** Measurements are named by their file stem. References to estimates and sources in
  the base file may be bare names (when unique) or qualified ``measurement:name``; the
  specification always holds the qualified form. The same estimate name in two files is
  allowed, but a bare reference to it is then an error.
* **Repeated systematic names.** By default a systematic name that appears in two measurement
  files is an error (as in the original program). With ``sharedNames = true`` in ``[global]``
  (hepcombine extension) the same-named sources are correlated with +1, i.e. they act as one
  shared parameter, and a bare reference in ``[correlations]`` or ``[uncertainty impacts]``
  stands for all of them.
* **Scan groups.** Every ``[correlations]`` line with at least one ``(nominal & from : to)``
  entry is one scan group named by its left-hand side; its pairs are the entries with a range.
  The number of points is an argument of :func:`read_convino` (Convino: 6, fixed).
* ``[nuisance values]`` (best-fit λ̂ of the original fit) is read and written.
* ``lognormal`` systematics are not supported yet (a :class:`ConfigError` says so).

Every problem in a file raises :class:`~hepcombine.exceptions.ConfigError` naming the file,
the line and the block.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import numpy as np
from numpy.typing import NDArray

from ..binning import Binning
from ..exceptions import ConfigError, UnknownName
from ..measurement import Measurement, Shift
from ..names import Names
from ..spec import CombinationSpec, ScanGroup
from ._build import BuildError, ReaderError, add_correlation, assemble_measurement

__all__ = ["read_convino", "read_measurement_file"]

log = logging.getLogger(__name__)

_MEASUREMENT_BLOCKS = {
    "hessian": "hessian",
    "correlationmatrix": "correlation matrix",
    "notfitted": "not fitted",
    "systematics": "systematics",
    "estimates": "estimates",
    "nuisancevalues": "nuisance values",
}
_BASE_BLOCKS = {
    "global": "global",
    "inputs": "inputs",
    "observables": "observables",
    "correlations": "correlations",
    "uncertaintyimpacts": "uncertainty impacts",
}
_MARKER = re.compile(r"^\[([^\[\]]+)\]$")
_INCLUDE = re.compile(r"^\s*#!\s*FILE\s*=\s*(.*?)\s*;?\s*$")
_TOKEN = re.compile(r"\([^()]*\)|[^\s()]+")
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
_ASYMMETRIC = re.compile(rf"^({_NUMBER})([+-](?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)$")


# --------------------------------------------------------------------------- low level
@dataclass(frozen=True)
class _Line:
    path: Path
    number: int
    text: str


@dataclass
class _Block:
    key: str
    title: str
    path: Path
    number: int
    lines: list[_Line] = field(default_factory=list)

    def fail(self, message: str, line: _Line | None = None) -> NoReturn:
        if line is None:
            raise ConfigError(f"{self.path}, line {self.number}, block [{self.title}]: {message}")
        raise ConfigError(f"{line.path}, line {line.number}, block [{self.title}]: {message}")


def _strip(raw: str) -> str:
    return raw.split("#", 1)[0].strip()


def _include(path: Path, block: _Block, at: _Line, stack: tuple[Path, ...]) -> list[_Line]:
    """The content lines of an included file (recursively), for ``block``."""
    resolved = path.resolve()
    if resolved in stack:
        block.fail(f"#!FILE include of {path} is circular", at)
    try:
        raw_lines = path.read_text().splitlines()
    except OSError as exc:
        block.fail(f"cannot read the included file {path}: {exc.strerror or exc}", at)
    out: list[_Line] = []
    for number, raw in enumerate(raw_lines, 1):
        line = _Line(path, number, _strip(raw))
        inc = _INCLUDE.match(raw)
        if inc:
            out.extend(_include(path.parent / inc.group(1), block, line, (*stack, resolved)))
            continue
        if not line.text:
            continue
        if _MARKER.match(re.sub(r"\s+", "", line.text)):
            block.fail(
                f"an included file may hold only the lines of a block, not the marker "
                f"{line.text!r} (included from {at.path}, line {at.number})",
                line,
            )
        out.append(line)
    return out


def _read_blocks(path: Path, known: Mapping[str, str]) -> dict[str, _Block]:
    """Split a file into its blocks; unknown blocks are skipped with a warning."""
    try:
        raw_lines = path.read_text().splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    blocks: dict[str, _Block] = {}
    current: _Block | None = None
    for number, raw in enumerate(raw_lines, 1):
        inc = _INCLUDE.match(raw)
        if inc:
            line = _Line(path, number, raw.strip())
            if current is None:
                log.warning("%s, line %d: #!FILE outside a block is ignored", path, number)
            else:
                current.lines.extend(
                    _include(path.parent / inc.group(1), current, line, (path.resolve(),))
                )
            continue
        text = _strip(raw)
        if not text:
            continue
        marker = _MARKER.match(re.sub(r"\s+", "", text).lower())
        if marker is None:
            if current is not None:
                current.lines.append(_Line(path, number, text))
            continue
        name = marker.group(1)
        if current is None:
            if name.startswith("end"):
                raise ConfigError(
                    f"{path}, line {number}: {text!r} closes a block that was never opened"
                )
            title = known.get(name, name)
            if name in blocks:
                raise ConfigError(
                    f"{path}, line {number}, block [{title}]: the block is given twice "
                    f"(first at line {blocks[name].number})"
                )
            current = _Block(name, title, path, number)
        elif name == "end" + current.key:
            blocks[current.key] = current
            current = None
        else:
            raise ConfigError(
                f"{path}, line {number}, block [{current.title}]: expected [end "
                f"{current.title}] before {text!r} (block opened at line {current.number})"
            )
    if current is not None:
        current.fail(f"missing [end {current.title}] before the end of the file")
    for key, block in list(blocks.items()):
        if key not in known:
            log.warning("%s, line %d: unknown block [%s] ignored", path, block.number, key)
            del blocks[key]
    return blocks


def _key_values(block: _Block) -> dict[str, tuple[str, _Line]]:
    out: dict[str, tuple[str, _Line]] = {}
    for line in block.lines:
        key, eq, value = line.text.partition("=")
        key = key.strip()
        value = value.strip()
        if value.endswith(";"):
            value = value[:-1].strip()
        if not eq or not key:
            block.fail(f"expected 'key = value', got {line.text!r}", line)
        if key in out:
            first = out[key][1]
            block.fail(f"key {key!r} is given twice (first at line {first.number})", line)
        out[key] = (value, line)
    return out


def _number(text: str, block: _Block, line: _Line, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        block.fail(f"expected a number for {what}, got {text!r}", line)
    if not np.isfinite(value):
        block.fail(f"{what} must be finite, got {text!r}", line)
    return value


def _boolean(text: str, block: _Block, line: _Line, key: str) -> bool:
    if text.lower() == "true":
        return True
    if text.lower() == "false":
        return False
    block.fail(f"{key} must be true or false, got {text!r}", line)


def _shift(token: str, block: _Block, line: _Line, what: str) -> Shift:
    if token.startswith("("):
        inner = re.sub(r"\s+", "", token[1:-1])
        m = _ASYMMETRIC.match(inner)
        if m is None:
            block.fail(f"expected an asymmetric entry (+X-Y) for {what}, got {token!r}", line)
        return (float(m.group(1)), float(m.group(2)))
    return _number(token, block, line, what)


# --------------------------------------------------------------------------- measurement file
def _parse_matrix(
    block: _Block, with_constraints: bool
) -> tuple[list[str], NDArray[np.float64], list[float]]:
    rows: list[tuple[str, _Line, list[float]]] = []
    constraints: list[float] = []
    seen: dict[str, _Line] = {}
    for line in block.lines:
        tokens = _TOKEN.findall(line.text)
        name, rest = tokens[0], tokens[1:]
        if name.startswith("("):
            block.fail(f"a row must start with a parameter name, got {line.text!r}", line)
        if name in seen:
            block.fail(
                f"parameter {name!r} is given twice (first at line {seen[name].number})", line
            )
        seen[name] = line
        if with_constraints:
            if not rest or not rest[0].startswith("("):
                block.fail(f"expected the constraint '(sigma)' after the name {name!r}", line)
            constraints.append(
                _number(rest[0][1:-1].strip(), block, line, f"the constraint of {name!r}")
            )
            rest = rest[1:]
        values = [_number(t, block, line, f"an entry of row {name!r}") for t in rest]
        rows.append((name, line, values))
    n = len(rows)
    if n == 0:
        block.fail("the block is empty")
    triangle = len(rows[0][2]) == 1
    matrix = np.zeros((n, n))
    for i, (name, line, values) in enumerate(rows):
        expected = i + 1 if triangle else n
        if len(values) != expected:
            shape = "lower triangle" if triangle else "full square matrix"
            block.fail(
                f"row {name!r} has {len(values)} entries, expected {expected} "
                f"({shape} of {n} parameters)",
                line,
            )
        matrix[i, : len(values)] = values
    if triangle:
        matrix = np.tril(matrix) + np.tril(matrix, -1).T
    return [r[0] for r in rows], matrix, constraints


def _parse_not_fitted(
    block: _Block,
) -> tuple[list[str], dict[str, tuple[_Line, list[Shift]]]]:
    if not block.lines:
        block.fail("the block is empty; expected a header line with the systematics' names")
    header = block.lines[0]
    columns = header.text.split()
    seen: set[str] = set()
    for c in columns:
        if c in seen:
            block.fail(f"column {c!r} is given twice", header)
        seen.add(c)
    rows: dict[str, tuple[_Line, list[Shift]]] = {}
    for line in block.lines[1:]:
        tokens = _TOKEN.findall(line.text)
        name, rest = tokens[0], tokens[1:]
        if name in rows:
            block.fail(
                f"estimate {name!r} is given twice (first at line {rows[name][0].number})", line
            )
        if len(rest) != len(columns):
            block.fail(
                f"row {name!r} has {len(rest)} entries, expected {len(columns)} "
                f"(one per column {columns})",
                line,
            )
        values = [
            _shift(t, block, line, f"{c!r} of {name!r}") for t, c in zip(rest, columns, strict=True)
        ]
        rows[name] = (line, values)
    return columns, rows


def _count(block: _Block, kv: dict, key: str) -> tuple[int, _Line]:
    """Pop ``key = N`` (a positive integer) from the block's key/values; N and its line."""
    if key not in kv:
        block.fail(f"missing '{key} = N'")
    text, line = kv.pop(key)
    try:
        n = int(text)
    except ValueError:
        block.fail(f"{key} must be an integer, got {text!r}", line)
    if n < 1:
        block.fail(f"{key} must be at least 1, got {n}", line)
    return n, line


def _parse_estimates(block: _Block) -> dict[str, float]:
    kv = _key_values(block)
    n, line = _count(block, kv, "n_estimates")
    estimates: dict[str, float] = {}
    for i in range(n):
        for key in (f"name_{i}", f"value_{i}"):
            if key not in kv:
                block.fail(f"missing '{key} = …' (n_estimates = {n})", line)
        name, name_line = kv.pop(f"name_{i}")
        value, value_line = kv.pop(f"value_{i}")
        if not name:
            block.fail(f"name_{i} is empty", name_line)
        if name in estimates:
            block.fail(f"estimate {name!r} is given twice", name_line)
        estimates[name] = _number(value, block, value_line, f"value_{i}")
    for key, (_, extra) in kv.items():
        block.fail(f"unexpected key {key!r} (n_estimates = {n})", extra)
    return estimates


def _parse_systematics(block: _Block | None) -> dict[str, tuple[str, _Line]]:
    if block is None:
        return {}
    out: dict[str, tuple[str, _Line]] = {}
    for key, (value, line) in _key_values(block).items():
        kind = value.lower()
        if kind == "lognormal":
            block.fail(f"systematic {key!r}: lognormal systematics are not supported yet", line)
        if kind not in ("absolute", "relative"):
            block.fail(
                f"systematic {key!r}: expected absolute, relative or lognormal, got {value!r}", line
            )
        out[key] = (kind, line)
    return out


def read_measurement_file(path: str | Path, name: str | None = None) -> Measurement:
    """Read one Convino measurement file; the measurement is named ``name`` or the file stem."""
    path = Path(path)
    name = name or path.stem
    blocks = _read_blocks(path, _MEASUREMENT_BLOCKS)
    if "estimates" not in blocks:
        raise ConfigError(f"{path}: missing the required block [estimates]")
    est_block = blocks["estimates"]
    estimates = _parse_estimates(est_block)
    types = _parse_systematics(blocks.get("systematics"))
    relative = {s for s, (kind, _) in types.items() if kind == "relative"}

    if "hessian" in blocks and "correlationmatrix" in blocks:
        blocks["correlationmatrix"].fail(
            f"a measurement has either [hessian] (line {blocks['hessian'].number}) or "
            "[correlation matrix], not both"
        )
    fitted_block = blocks.get("hessian") or blocks.get("correlationmatrix")
    hessian = correlation = None
    fitted_names: list[str] = []
    if fitted_block is not None:
        with_c = fitted_block.key == "correlationmatrix"
        fitted_names, matrix, constraints = _parse_matrix(fitted_block, with_c)
        if with_c:
            correlation = (fitted_names, constraints, matrix)
        else:
            hessian = (fitted_names, matrix)
        missing = [e for e in estimates if e not in fitted_names]
        if missing:
            fitted_block.fail(
                f"estimates {missing} of [estimates] (line {est_block.number}) are not among "
                f"its parameters {fitted_names}"
            )

    stat: dict[str, float] = {}
    systematics: dict[str, dict[str, Shift]] = {}
    nf = blocks.get("notfitted")
    if nf is not None:
        columns, rows = _parse_not_fitted(nf)
        for est, (line, _) in rows.items():
            if est not in estimates:
                where = "the fitted parameters" if fitted_block else "[estimates]"
                nf.fail(f"estimate {est!r} is not defined in {where}", line)
        clash = [c for c in columns if c in fitted_names or c in estimates]
        if clash:
            nf.fail(f"columns {clash} are already parameters (estimates or fitted)", nf.lines[0])
        for j, column in enumerate(columns):
            if column == "stat":
                continue
            systematics[column] = {est: values[j] for est, (_, values) in rows.items()}
        if "stat" in columns:
            j = columns.index("stat")
            if fitted_block is not None:
                log.warning(
                    "%s, line %d: the stat column of [not fitted] is ignored because the "
                    "measurement has a [%s]",
                    path,
                    nf.lines[0].number,
                    fitted_block.title,
                )
            else:
                for est, (line, values) in rows.items():
                    value = values[j]
                    if isinstance(value, tuple) or not value > 0:
                        nf.fail(f"the stat entry of {est!r} must be a positive number", line)
                    stat[est] = float(value)
        if fitted_block is None:
            if "stat" not in columns:
                nf.fail(
                    "without [hessian] or [correlation matrix] the stat column is required",
                    nf.lines[0],
                )
            missing = [e for e in estimates if e not in rows]
            if missing:
                nf.fail(f"no row (and no stat uncertainty) for the estimates {missing}")
    elif fitted_block is None:
        raise ConfigError(
            f"{path}: the measurement needs a [hessian], a [correlation matrix] or a [not fitted] "
            "block"
        )

    all_sources = [n for n in fitted_names if n not in estimates] + list(systematics)
    for s, (_, line) in types.items():
        if s in estimates:
            blocks["systematics"].fail(f"{s!r} is an estimate, not a systematic", line)
        if s not in all_sources:
            log.warning(
                "%s, line %d: systematic %r of [systematics] is not used by the measurement",
                path,
                line.number,
                s,
            )
    nuisance: dict[str, float] = {}
    nv_block = blocks.get("nuisancevalues")
    if nv_block is not None:
        for key, (text, line) in _key_values(nv_block).items():
            if key not in all_sources:
                nv_block.fail(
                    f"{key!r} is not a systematic of this measurement (systematics: {all_sources})",
                    line,
                )
            nuisance[key] = _number(text, nv_block, line, f"the nuisance value of {key!r}")

    try:
        return assemble_measurement(
            name,
            estimates,
            hessian=hessian,
            correlation=correlation,
            stat=stat,
            systematics=systematics,
            relative=relative,
            nuisance_values=nuisance,
        )
    except BuildError as exc:
        block = {"fitted": fitted_block, "orthogonal": nf or fitted_block, "nuisance": nv_block}[
            exc.stage
        ]
        assert block is not None
        block.fail(str(exc))


# --------------------------------------------------------------------------- base file
def _split_plus(text: str) -> list[str]:
    """Split at ``+`` outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "+" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


_TERM = re.compile(r"^\(([^()]*)\)\s*(\S+)$")


def read_convino(base_file: str | Path, *, scan_points: int = 6) -> CombinationSpec:
    """Read a Convino base file and the measurement files it lists.

    ``scan_points`` is the number of points of every correlation scan group.
    """
    base = Path(base_file)
    blocks = _read_blocks(base, _BASE_BLOCKS)
    for key in ("global", "inputs", "observables", "correlations"):
        if key not in blocks:
            raise ConfigError(f"{base}: missing the required block [{_BASE_BLOCKS[key]}]")

    # [global]
    g = blocks["global"]
    flags = {"isDifferential": False, "normalise": False, "sharedNames": False}
    for key, (value, line) in _key_values(g).items():
        if key not in flags:
            log.warning("%s, line %d: unknown [global] option %r ignored", base, line.number, key)
            continue
        flags[key] = _boolean(value, g, line, key)
    shared = flags["sharedNames"]

    # [inputs]
    inp = blocks["inputs"]
    kv = _key_values(inp)
    n_files, nline = _count(inp, kv, "nFiles")
    measurements: dict[str, Measurement] = {}
    files: dict[str, tuple[Path, _Line]] = {}
    for i in range(n_files):
        if f"file{i}" not in kv:
            inp.fail(f"missing 'file{i} = …' (nFiles = {n_files})", nline)
        value, line = kv.pop(f"file{i}")
        path = base.parent / value
        if not path.is_file():
            inp.fail(f"file{i}: {path} does not exist", line)
        stem = path.stem
        if stem in files:
            inp.fail(
                f"file{i}: measurement name {stem!r} (the file stem) is already used by "
                f"{files[stem][0]} (line {files[stem][1].number})",
                line,
            )
        files[stem] = (path, line)
        measurements[stem] = read_measurement_file(path, stem)
    for key, (_, line) in kv.items():
        inp.fail(f"unexpected key {key!r} (nFiles = {n_files})", line)

    correlations: dict[tuple[str, str], float] = {}
    origin: dict[frozenset[str], str] = {}
    names = Names(measurements)
    repeated = names.shared_sources()
    for sname, refs in repeated.items():
        paths = [str(files[r.split(":", 1)[0]][0]) for r in refs]
        if not shared:
            raise ConfigError(
                f"{base}: systematic {sname!r} appears in several measurement files {paths}; "
                "rename it, or set 'sharedNames = true' in [global] to treat same-named "
                "systematics as one (correlation +1)"
            )
        for i, a in enumerate(refs):
            for b in refs[i + 1 :]:
                add_correlation(correlations, origin, a, b, 1.0, "by sharedNames in [global]")

    # [observables]
    obs_block = blocks["observables"]
    observables: dict[str, list[str]] = {}
    used: dict[str, str] = {}
    for combined, (value, line) in _key_values(obs_block).items():
        refs = []
        for term in _split_plus(value):
            if not term:
                obs_block.fail(f"observable {combined!r}: empty term in {value!r}", line)
            try:
                ref = names.qualified_estimate(term)
            except UnknownName as exc:
                obs_block.fail(f"observable {combined!r}: {exc}", line)
            if ref in used:
                obs_block.fail(f"estimate {ref!r} is already mapped to {used[ref]!r}", line)
            used[ref] = combined
            refs.append(ref)
        observables[combined] = refs

    # [correlations]
    corr_block = blocks["correlations"]
    scans: list[ScanGroup] = []
    for lhs, (value, line) in _key_values(corr_block).items():
        try:
            left = names.qualified_sources(lhs, shared)
        except UnknownName as exc:
            corr_block.fail(str(exc), line)
        pairs: list[tuple[str, str, float, float]] = []
        for term in _split_plus(value):
            m = _TERM.match(term)
            if m is None:
                corr_block.fail(
                    f"expected '(nominal) source' or '(nominal & from : to) source', got {term!r}",
                    line,
                )
            spec, rhs = m.group(1), m.group(2)
            nominal_text, amp, scan_text = spec.partition("&")
            nominal = _number(
                nominal_text.strip(), corr_block, line, f"the correlation with {rhs!r}"
            )
            scan_range = None
            if amp:
                lo, colon, hi = scan_text.partition(":")
                if not colon:
                    corr_block.fail(f"expected a scan range 'from : to' in {term!r}", line)
                scan_range = (
                    _number(lo.strip(), corr_block, line, "the start of the scan range"),
                    _number(hi.strip(), corr_block, line, "the end of the scan range"),
                )
                if not all(-1.0 <= r <= 1.0 for r in scan_range):
                    corr_block.fail(f"scan range {scan_range} is outside [-1, 1]", line)
            try:
                right = names.qualified_sources(rhs, shared)
                for a in left:
                    for b in right:
                        where = f"at {line.path}, line {line.number}"
                        add_correlation(correlations, origin, a, b, nominal, where)
                        if scan_range is not None:
                            pairs.append((a, b, *scan_range))
            except (UnknownName, ReaderError) as exc:
                corr_block.fail(str(exc), line)
        if pairs:
            scans.append(ScanGroup(lhs, pairs, scan_points))

    # [uncertainty impacts]
    impacts: dict[str, list[str]] = {}
    imp_block = blocks.get("uncertaintyimpacts")
    if imp_block is not None:
        for group, (value, line) in _key_values(imp_block).items():
            members: list[str] = []
            for term in _split_plus(value):
                if term == "stat":
                    members.append("stat")
                    continue
                try:
                    members.extend(names.qualified_sources(term, shared))
                except UnknownName as exc:
                    imp_block.fail(f"group {group!r}: {exc}", line)
            impacts[group] = members

    return CombinationSpec(
        measurements=measurements,
        observables=observables,
        correlations=correlations,
        scans=scans,
        impacts=impacts,
        differential=flags["isDifferential"],
        normalise=flags["normalise"],
        chi2=None,
        source=str(base),
        binning=Binning.index(len(observables)) if flags["isDifferential"] else None,
        format="convino",
    )


def __dir__() -> list[str]:
    return list(__all__)
