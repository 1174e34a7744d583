"""Read the C++ Convino program's text input files.

:func:`read_convino` reads a Convino base (config) file and the measurement files it lists into
a :class:`~hepcombine.spec.CombinationSpec` (format ``"convino"``: Pearson χ² by default, as the
original program); :func:`read_measurement_file` reads one measurement file into a
:class:`~hepcombine.measurement.Measurement`. The writer is
:func:`hepcombine.outputs.convino.write_convino`.

The format is the one of Convino release 1.6 (blocks ``[name]`` … ``[end name]``, ``#``
comments, ``#!FILE = other.txt`` includes inside a block, marker lines compared after removing
all whitespace, text outside blocks ignored). Everything the original program accepts is read
the same way; where it silently ignores something, a warning says so (file and line):

* a block holding nothing but blank lines and comments is the same as no block at all (real
  files carry empty ``[hessian]``, ``[correlation matrix]`` and ``[not fitted]`` blocks next to
  a filled one); a missing ``[global]`` is an empty one (files for releases before 1.6);
* a stray ``[end name]`` outside any block is text outside blocks (warning);
* in ``key = value`` blocks a line without ``=`` (prose, e.g. in an included file) or with
  nothing before the ``=`` is skipped (warning); of a line with several ``=`` only the text
  between the first and the second counts (warning); a trailing ``;`` is dropped;
* empty entries of a ``+`` list (``a + b +``) are dropped (warning);
* the same left-hand name may start several ``[correlations]`` lines: every line is its own
  scan group (named by its left-hand side, with ``(line N)`` appended when that side starts
  several scan groups);
* a non-empty ``[hessian]`` next to a non-empty ``[correlation matrix]``: the Hessian is used,
  as by the original program (warning); the ``stat`` column of ``[not fitted]`` is ignored
  when the measurement has either (warning).

Choices and extensions of hepcombine:

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
  entry is one scan group; its pairs are the entries with a range. The number of points is an
  argument of :func:`read_convino` (Convino: 6, fixed).
* ``[nuisance values]`` (best-fit λ̂ of the original fit) is read and written.
* ``lognormal`` systematics are read but not combined yet: the measurement has no log-normal
  sources until :class:`~hepcombine.measurement.Measurement` supports them, so a file that
  declares one is an error saying so (one function, ``_with_lognormal``, maps them).

Strictness that protects users where the original program is silent or wrong, each an error
naming file, line and block:

* a name that does not exist (in ``[systematics]``, ``[nuisance values]``, ``[observables]``,
  ``[correlations]``, ``[uncertainty impacts]``), with the likely intended name ("did you
  mean …") — the original program ignores an unknown ``[systematics]`` entry, so that a typo
  leaves a relative source absolute;
* a key given twice in one block (except the left-hand side of ``[correlations]``), the same
  correlation pair given twice, and a block given twice with content in both (the original
  reads the first and silently ignores the second);
* a marker of another block inside an open block, a block that is never closed;
* numbers that are not numbers or not finite, scan ranges outside [-1, 1];
* Hessians and correlation matrices that are not positive definite, and correlation
  assumptions that are not a valid correlation matrix (the original program clips
  correlations to ±0.999 and may go on with an indefinite matrix); see
  :class:`~hepcombine.combiner.Combiner` (``repair=True`` opts in to the nearest valid one);
* a file that is not UTF-8 text (binary files, other encodings).

Impact groups are also the groups of hepcombine's uncertainty breakdown, so a source may be in
one ``[uncertainty impacts]`` group only (the original program evaluates each group on its own
and allows overlaps): a source in two groups is an error naming both lines.

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
from ..names import Names, did_you_mean, some_names
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
#: impact group names the combiner reserves for its breakdown rows
_RESERVED_GROUPS = ("stat", "correlations between groups")
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

    def warn(self, line: _Line, message: str) -> None:
        log.warning("%s, line %d, block [%s]: %s", line.path, line.number, self.title, message)


def _strip(raw: str) -> str:
    return raw.split("#", 1)[0].strip()


def _text_lines(path: Path, where: str = "") -> list[str]:
    """The lines of a text file; a file that cannot be read or is not UTF-8 text is a
    :class:`ConfigError` naming it (``where``: the file and line that include it)."""
    prefix = f"{where}: " if where else ""
    try:
        data = path.read_bytes()
    except OSError as exc:
        what = "the included file " if where else ""
        raise ConfigError(f"{prefix}cannot read {what}{path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{prefix}{path} is not a text file: byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start} is not UTF-8 (Convino files are plain text)"
        ) from None
    if "\x00" in text:
        raise ConfigError(
            f"{prefix}{path} is not a text file: it contains NUL bytes at offset "
            f"{text.index(chr(0))} (Convino files are plain text)"
        )
    return text.splitlines()


def _include(path: Path, block: _Block, at: _Line, stack: tuple[Path, ...]) -> list[_Line]:
    """The content lines of an included file (recursively), for ``block``."""
    resolved = path.resolve()
    if resolved in stack:
        block.fail(f"#!FILE include of {path} is circular", at)
    raw_lines = _text_lines(path, f"{at.path}, line {at.number}, block [{block.title}]")
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
    """Split a file into its blocks; unknown blocks are skipped with a warning.

    A block that holds nothing (blank lines and comments only) is kept only when no other
    block of that name has content: ``block.lines`` empty means "as if absent"."""
    raw_lines = _text_lines(path)
    found: dict[str, list[_Block]] = {}
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
                log.warning(
                    "%s, line %d: %r outside any block is ignored (no block is open)",
                    path,
                    number,
                    text,
                )
                continue
            current = _Block(name, known.get(name, name), path, number)
            found.setdefault(name, []).append(current)
        elif name == "end" + current.key:
            current = None
        else:
            raise ConfigError(
                f"{path}, line {number}, block [{current.title}]: expected [end "
                f"{current.title}] before {text!r} (block opened at line {current.number})"
            )
    if current is not None:
        current.fail(f"missing [end {current.title}] before the end of the file")
    blocks: dict[str, _Block] = {}
    for key, group in found.items():
        if key not in known:
            log.warning("%s, line %d: unknown block [%s] ignored", path, group[0].number, key)
            continue
        filled = [b for b in group if b.lines]
        if len(filled) > 1:
            filled[1].fail(
                f"the block is given twice (first at line {filled[0].number}); the original "
                "program reads only the first: merge them"
            )
        blocks[key] = filled[0] if filled else group[0]
    return blocks


def _filled(blocks: Mapping[str, _Block], key: str) -> _Block | None:
    """The block ``key`` if it holds anything (an empty block is the same as none)."""
    block = blocks.get(key)
    return block if block is not None and block.lines else None


def _entries(block: _Block, *, repeated: bool = False) -> list[tuple[str, str, _Line]]:
    """The ``key = value`` lines of a block as ``(key, value, line)``, in order.

    As the original program: a line without ``=`` or with nothing before it is skipped, of a
    line with several ``=`` only the text between the first and the second is the value (each
    with a warning), a trailing ``;`` is dropped. A key given twice is an error unless
    ``repeated``."""
    out: list[tuple[str, str, _Line]] = []
    first: dict[str, _Line] = {}
    for line in block.lines:
        key, eq, rest = line.text.partition("=")
        key = key.strip()
        if not eq or not key:
            why = "has no '='" if not eq else "has nothing before its '='"
            block.warn(line, f"line {line.text!r} {why}; skipped (as the original program does)")
            continue
        value, second, ignored = rest.partition("=")
        if second:
            block.warn(
                line,
                f"only the text between the first and the second '=' is read; '={ignored}' "
                "is ignored (as by the original program)",
            )
        value = value.strip()
        if value.endswith(";"):
            value = value[:-1].strip()
        if not repeated and key in first:
            block.fail(f"key {key!r} is given twice (first at line {first[key].number})", line)
        first.setdefault(key, line)
        out.append((key, value, line))
    return out


def _key_values(block: _Block) -> dict[str, tuple[str, _Line]]:
    return {key: (value, line) for key, value, line in _entries(block)}


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
                f"(one per column: {some_names(columns)})",
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


_KINDS = ("absolute", "relative", "lognormal")


def _parse_systematics(block: _Block | None) -> dict[str, tuple[str, _Line]]:
    if block is None:
        return {}
    out: dict[str, tuple[str, _Line]] = {}
    for key, (value, line) in _key_values(block).items():
        kind = value.lower()
        if kind not in _KINDS:
            block.fail(
                f"systematic {key!r}: expected absolute, relative or lognormal, got "
                f"{value!r}{did_you_mean(kind, _KINDS)}",
                line,
            )
        out[key] = (kind, line)
    return out


def _with_lognormal(
    measurement: Measurement, sources: Mapping[str, _Line], block: _Block | None
) -> Measurement:
    """``measurement`` with the ``sources`` declared ``lognormal`` in ``[systematics]``.

    The one place where the reader maps ``lognormal``. :class:`Measurement` has no log-normal
    sources yet (they are being added as a ``lognormal=`` argument of its constructors, like
    ``relative=``); until then a file that declares one is an error. Wiring them is this one
    line: ``return dataclasses.replace(measurement, lognormal=frozenset(sources))``.
    """
    if not sources:
        return measurement
    assert block is not None
    name, line = next(iter(sources.items()))
    block.fail(
        f"systematic {name!r}: lognormal systematics are not supported yet (declare it "
        "relative for the first-order equivalent)",
        line,
    )


def read_measurement_file(path: str | Path, name: str | None = None) -> Measurement:
    """Read one Convino measurement file; the measurement is named ``name`` or the file stem."""
    path = Path(path)
    name = name or path.stem
    blocks = _read_blocks(path, _MEASUREMENT_BLOCKS)
    est_block = _filled(blocks, "estimates")
    if est_block is None:
        raise ConfigError(f"{path}: missing the required block [estimates] (or it is empty)")
    estimates = _parse_estimates(est_block)
    sys_block = _filled(blocks, "systematics")
    types = _parse_systematics(sys_block)
    relative = {s for s, (kind, _) in types.items() if kind == "relative"}
    lognormal = {s: line for s, (kind, line) in types.items() if kind == "lognormal"}

    hessian_block = _filled(blocks, "hessian")
    corr_block = _filled(blocks, "correlationmatrix")
    if hessian_block is not None and corr_block is not None:
        log.warning(
            "%s, line %d: the measurement has both a [hessian] and a [correlation matrix] "
            "(line %d); the Hessian is used, as by the original program",
            path,
            hessian_block.number,
            corr_block.number,
        )
    fitted_block = hessian_block or corr_block
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
                f"estimates {some_names(missing)} of [estimates] (line {est_block.number}) are "
                f"not among its parameters {some_names(fitted_names)}"
                + (did_you_mean(missing[0], fitted_names) if len(missing) == 1 else "")
            )

    stat: dict[str, float] = {}
    systematics: dict[str, dict[str, Shift]] = {}
    nf = _filled(blocks, "notfitted")
    if nf is not None:
        columns, rows = _parse_not_fitted(nf)
        for est, (line, _) in rows.items():
            if est not in estimates:
                where = "the fitted parameters" if fitted_block else "[estimates]"
                near = did_you_mean(est, estimates)
                nf.fail(f"estimate {est!r} is not defined in {where}{near}", line)
        clash = [c for c in columns if c in fitted_names or c in estimates]
        if clash:
            nf.fail(
                f"columns {some_names(clash)} are already parameters (estimates or fitted)",
                nf.lines[0],
            )
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
                nf.fail(f"no row (and no stat uncertainty) for the estimates {some_names(missing)}")
    elif fitted_block is None:
        raise ConfigError(
            f"{path}: the measurement needs a [hessian], a [correlation matrix] or a [not fitted] "
            "block with content"
        )

    all_sources = [n for n in fitted_names if n not in estimates] + list(systematics)
    for s, (_, line) in types.items():
        assert sys_block is not None
        if s in estimates:
            sys_block.fail(f"{s!r} is an estimate, not a systematic", line)
        if s not in all_sources:
            sys_block.fail(
                f"{s!r} is not a systematic of this measurement{did_you_mean(s, all_sources)}; "
                f"its systematics are {some_names(all_sources)}",
                line,
            )
    nuisance: dict[str, float] = {}
    nv_block = _filled(blocks, "nuisancevalues")
    if nv_block is not None:
        for key, (text, line) in _key_values(nv_block).items():
            if key not in all_sources:
                nv_block.fail(
                    f"{key!r} is not a systematic of this measurement"
                    f"{did_you_mean(key, all_sources)}; its systematics are "
                    f"{some_names(all_sources)}",
                    line,
                )
            nuisance[key] = _number(text, nv_block, line, f"the nuisance value of {key!r}")

    try:
        measurement = assemble_measurement(
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
    return _with_lognormal(measurement, lognormal, sys_block)


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


def _terms(block: _Block, line: _Line, key: str, value: str) -> list[str]:
    """The non-empty ``+``-separated terms of ``value``; empty ones (``a + b +``) are dropped
    with a warning, as the original program drops them."""
    terms = _split_plus(value)
    kept = [t for t in terms if t]
    if len(kept) < len(terms):
        block.warn(line, f"{key!r}: empty entries of {value!r} are ignored")
    if not kept:
        block.fail(f"{key!r} lists nothing", line)
    return kept


_TERM = re.compile(r"^\(([^()]*)\)\s*(\S+)$")


def _scan_names(groups: list[tuple[str, _Line, list]], base: Path) -> list[str]:
    """Unique names of the scan groups: the left-hand side, with the line appended when the
    same left-hand side starts several scan groups."""
    counts: dict[str, int] = {}
    for lhs, _, _ in groups:
        counts[lhs] = counts.get(lhs, 0) + 1
    names = []
    for lhs, line, _ in groups:
        if counts[lhs] == 1:
            names.append(lhs)
        elif line.path == base:
            names.append(f"{lhs} (line {line.number})")
        else:
            names.append(f"{lhs} ({line.path.name}, line {line.number})")
    return names


def read_convino(base_file: str | Path, *, scan_points: int = 6) -> CombinationSpec:
    """Read a Convino base file and the measurement files it lists.

    ``scan_points`` is the number of points of every correlation scan group.
    """
    base = Path(base_file)
    blocks = _read_blocks(base, _BASE_BLOCKS)
    for key in ("inputs", "observables", "correlations"):
        if key not in blocks:
            raise ConfigError(f"{base}: missing the required block [{_BASE_BLOCKS[key]}]")

    # [global] (absent in files for releases before 1.6: the same as an empty one)
    flags = {"isDifferential": False, "normalise": False, "sharedNames": False}
    g = blocks.get("global")
    if g is not None:
        for key, (value, line) in _key_values(g).items():
            if key not in flags:
                g.warn(line, f"unknown option {key!r} ignored{did_you_mean(key, flags)}")
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
        for term in _terms(obs_block, line, combined, value):
            try:
                ref = names.qualified_estimate(term)
            except UnknownName as exc:
                obs_block.fail(f"observable {combined!r}: {exc}", line)
            if ref in used:
                obs_block.fail(f"estimate {ref!r} is already mapped to {used[ref]!r}", line)
            used[ref] = combined
            refs.append(ref)
        observables[combined] = refs

    # [correlations]: the same left-hand side may start several lines; each is a scan group
    corr_block = blocks["correlations"]
    groups: list[tuple[str, _Line, list[tuple[str, str, float, float]]]] = []
    for lhs, value, line in _entries(corr_block, repeated=True):
        try:
            left = names.qualified_sources(lhs, shared)
        except UnknownName as exc:
            corr_block.fail(str(exc), line)
        pairs: list[tuple[str, str, float, float]] = []
        for term in _terms(corr_block, line, lhs, value):
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
            groups.append((lhs, line, pairs))
    scans = [
        ScanGroup(name, pairs, scan_points)
        for name, (_, _, pairs) in zip(_scan_names(groups, base), groups, strict=True)
    ]

    # [uncertainty impacts]
    impacts: dict[str, list[str]] = {}
    member_of: dict[str, tuple[str, _Line]] = {}
    imp_block = blocks.get("uncertaintyimpacts")
    if imp_block is not None:
        for group, (value, line) in _key_values(imp_block).items():
            members: list[str] = []
            for term in _terms(imp_block, line, group, value):
                if term == "stat":
                    members.append("stat")
                    continue
                try:
                    refs = names.qualified_sources(term, shared)
                except UnknownName as exc:
                    imp_block.fail(f"group {group!r}: {exc}", line)
                for ref in refs:
                    if ref in member_of:
                        other, first = member_of[ref]
                        imp_block.fail(
                            f"group {group!r}: source {ref!r} is already in group {other!r} "
                            f"(line {first.number}); the groups are also hepcombine's "
                            "uncertainty breakdown, so a source may be in one group only",
                            line,
                        )
                    member_of[ref] = (group, line)
                members.extend(refs)
            sources = [m for m in members if m != "stat"]
            if "stat" in members and sources:
                imp_block.fail(
                    f"group {group!r} mixes 'stat' with sources; give 'stat' a group of its own",
                    line,
                )
            if group in _RESERVED_GROUPS and sources:
                imp_block.fail(f"group name {group!r} is reserved; rename the group", line)
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
