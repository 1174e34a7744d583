"""Read YODA text files (Rivet's reference data, HEPData's YODA exports) into measurements.

There is no YODA package on PyPI; this is a small, strict reader of the text format that the
YODA C++ library writes (its ``WriterYODA``), for the objects that hold a measured distribution:

* **YODA 2** (format suffix ``_V3``): ``ESTIMATE1D`` (= ``BINNEDESTIMATE<D>``, continuous bins)
  and ``BINNEDESTIMATE<I>``/``<S>`` (a discrete axis, bins known by their labels only)::

      BEGIN YODA_ESTIMATE1D_V3 /REF/ANALYSIS/d01-x01-y01
      Path: /REF/ANALYSIS/d01-x01-y01
      Type: Estimate1D
      ---
      Edges(A1): [0.0, 10.0, 20.0]
      ErrorLabels: ["stat", "sys,lumi"]
      # value   errDn(1)   errUp(1)   errDn(2)   errUp(2)
      nan       ---        ---        ---        ---          <- underflow
      1.5e+00   -1.0e-01   1.0e-01    -3.0e-02   3.2e-02
      ...
      nan       ---        ---        ---        ---          <- overflow
      END YODA_ESTIMATE1D_V3

  one row per bin including the flow bins (the first and last row of a continuous axis, the
  first row of a discrete one), the signed down and up shift of each labelled source, ``---``
  where a bin has no such source; ``MaskedBins: [i, …]`` (global bin indices) are left out.
* **YODA 1** (suffix ``_V2``, as in Rivet 3's reference files and HEPData's "yoda1" export;
  also the older unsuffixed blocks with ``key=value`` annotations): ``SCATTER2D`` rows
  ``x  xerr-  xerr+  y  yerr-  yerr+`` with the uncertainty breakdown in the annotation
  ``ErrorBreakdown: {point: {label: {dn: d, up: u}}}``; without a breakdown the point errors are
  one source labelled ``total``. YODA 2 ``SCATTER2D_V3`` blocks read the same way.

Every other block (histograms, profiles, counters, 0-d or 2-d objects) is read as a block and
listed, but cannot become a measurement. Anything malformed (a line outside a block, a block
without its ``END``, an ``END`` of another type, a row with the wrong number of columns, a
token that is not a number, annotations that are not YAML, edges that do not increase) is a
:class:`~hepcombine.exceptions.ConfigError` naming file, line and block.

:func:`read_yoda` gives the objects as written (:class:`YodaObject`); :func:`read_yoda_measurement`
makes one of them a :class:`~hepcombine.DifferentialMeasurement` with the conventions of the
HEPData reader (:mod:`hepcombine.inputs.hepdata`): each label is one source, fully correlated
between the bins unless listed in ``uncorrelated``; labels are cleaned (spaces, a leading
``sys,``); ``stat``/``stats``/``statistical`` are statistical unless ``stat=`` says otherwise
(an asymmetric statistical error is symmetrised as (|up| + |down|)/2, logged); ``(up, down)`` is
the pair of signed shifts as written (method.md §1). Bins are matched with other measurements
by their edges (:mod:`hepcombine.inputs._bins`).
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from ..binning import Binning, Quantity
from ..exceptions import ConfigError, InvalidMeasurement
from ..measurement import DifferentialMeasurement, Measurement

__all__ = ["YodaObject", "read_yoda", "read_yoda_measurement", "yoda_objects"]

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
FloatArray = NDArray[np.float64]

#: block types that hold a distribution hepcombine can read
MEASUREMENT_TYPES = (
    "ESTIMATE1D",
    "BINNEDESTIMATE<D>",
    "BINNEDESTIMATE<I>",
    "BINNEDESTIMATE<S>",
    "SCATTER2D",
)
_BEGIN = re.compile(r"^#*\s*BEGIN\s+YODA_(\S+?)(?:_V(\d+))?(?:\s+(.*?))?\s*$")
_END = re.compile(r"^#*\s*END\s+YODA_(\S+?)(?:_V(\d+))?\s*$")
_STAT = re.compile(
    r"^(stat|stats|statistical|statistics)\.?(\s+(unc\.?|uncertainty|error))?$", re.I
)
_SYS = re.compile(r"^syst?\s*,\s*(.+)$", re.I)
_NO_ERROR = "---"


@dataclass(frozen=True, eq=False)
class YodaObject:
    """One block of a YODA file, as written.

    Attributes
    ----------
    path:
        The object's path (``/REF/ATLAS_2020_I1790439/d03-x01-y01``).
    kind:
        The block type without prefix and version: ``"ESTIMATE1D"``, ``"BINNEDESTIMATE<I>"``,
        ``"SCATTER2D"``, ``"HISTO1D"``, …
    version:
        The format version of the block (its ``_V`` suffix; 1 for an unsuffixed block).
    annotations:
        ``{key: value}`` (values parsed as YAML for V2/V3 blocks, text for V1 blocks).
    binning:
        The bins (continuous axes: edges; scatters: x − xerr⁻ … x + xerr⁺ with the points' x as
        centres; discrete axes: the bin numbers). ``None`` for blocks hepcombine does not read.
    bin_labels:
        The axis values of a discrete axis (``BINNEDESTIMATE<I>``/``<S>``), as text; else ``()``.
    values:
        The value of each bin (NaN where the file has none).
    errors:
        ``{label: (up, down)}``: the signed up and down shift of each bin for each labelled
        source (0 where the file has ``---``).
    source, line:
        The file and the line of the ``BEGIN`` line (for messages).
    """

    path: str
    kind: str
    version: int
    annotations: Mapping[str, Any]
    binning: Binning | None
    values: FloatArray
    errors: Mapping[str, tuple[FloatArray, FloatArray]]
    bin_labels: tuple[str, ...] = ()
    source: str = ""
    line: int = 0
    _masked: tuple[int, ...] = field(default=(), repr=False)

    @property
    def name(self) -> str:
        """The last component of the path (``d03-x01-y01``)."""
        return self.path.rstrip("/").rsplit("/", 1)[-1]

    @property
    def where(self) -> str:
        """``file, line N, block YODA_<TYPE> <path>`` for messages."""
        return f"{self.source}, line {self.line}, block YODA_{self.kind} {self.path}"

    @property
    def is_measurement(self) -> bool:
        """Whether hepcombine can read this block as a measurement."""
        return self.binning is not None

    @property
    def title(self) -> str:
        """The ``Title`` annotation (``""`` when there is none)."""
        t = self.annotations.get("Title")
        return "" if t is None else str(t)

    def __repr__(self) -> str:
        n = "" if self.binning is None else f", {self.binning.n_bins} bins"
        labels = f", errors {list(self.errors)}" if self.errors else ""
        return f"YodaObject({self.path!r}, {self.kind}_V{self.version}{n}{labels})"


# ====================================================================== the text format
class _Block:
    def __init__(self, kind: str, version: int, path: str, line: int) -> None:
        self.kind, self.version, self.path, self.line = kind, version, path, line
        self.header: list[tuple[int, str]] = []  # annotation lines
        self.body: list[tuple[int, str]] = []
        self.in_body = version < 2  # V1 blocks have no '---' separator


def _fail(file: str, line: int, block: _Block | None, message: str) -> ConfigError:
    where = f"{file}, line {line}"
    if block is not None:
        where += f", block YODA_{block.kind} {block.path}"
    return ConfigError(f"{where}: {message}")


def _blocks(text: str, file: str) -> list[_Block]:
    """Split a file into blocks; lines outside blocks may only be blank or comments."""
    blocks: list[_Block] = []
    current: _Block | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        begin = _BEGIN.match(line)
        end = _END.match(line)
        if current is None:
            if not line or (line.startswith("#") and begin is None):
                continue
            if begin is None:
                raise _fail(
                    file, number, None, f"expected 'BEGIN YODA_<TYPE> <path>', got {line[:60]!r}"
                )
            kind, version, path = begin.group(1).upper(), begin.group(2), begin.group(3)
            if not path:
                raise _fail(file, number, None, f"the BEGIN line {line!r} names no object path")
            current = _Block(kind, int(version) if version else 1, path.strip(), number)
            continue
        if begin is not None:
            raise _fail(
                file,
                number,
                current,
                f"a new BEGIN before the END of the block begun on line {current.line}",
            )
        if end is not None:
            kind, version = end.group(1).upper(), int(end.group(2)) if end.group(2) else 1
            if (kind, version) != (current.kind, current.version):
                raise _fail(
                    file,
                    number,
                    current,
                    f"'{line}' ends a block of another type (begun on line {current.line} as "
                    f"YODA_{current.kind}"
                    + (f"_V{current.version})" if current.version > 1 else ")"),
                )
            blocks.append(current)
            current = None
            continue
        if not current.in_body:
            if line == "---":
                current.in_body = True
            else:
                current.header.append((number, raw))
            continue
        if line:
            current.body.append((number, line))
    if current is not None:
        raise _fail(
            file, current.line, current, "the block has no END line (the file ends inside it)"
        )
    for b in blocks:
        if not b.in_body:
            raise _fail(file, b.line, b, "no '---' line between the annotations and the data")
    return blocks


def _annotations(block: _Block, file: str) -> dict[str, Any]:
    if block.version < 2:  # make-plots style: key=value
        out: dict[str, Any] = {}
        rest = []
        for number, line in block.body:
            key, eq, value = line.partition("=")
            if eq and not line.startswith("#") and " " not in key.strip():
                out[key.strip()] = value.strip()
            else:
                rest.append((number, line))
        block.body = rest
        return out
    import yaml

    lines = [raw for _, raw in block.header if raw.strip()]
    if not lines:
        return {}
    try:
        data = yaml.load("\n".join(lines), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        numbers = [n for n, raw in block.header if raw.strip()]
        number = numbers[min(mark.line, len(numbers) - 1)] if mark is not None else block.line
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise _fail(file, number, block, f"the annotations are not YAML ({problem})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _fail(file, block.header[0][0], block, "the annotations are not 'key: value' lines")
    return {str(k): v for k, v in data.items()}


def _number(token: str, file: str, number: int, block: _Block, what: str) -> float:
    try:
        return float(token)
    except ValueError:
        raise _fail(file, number, block, f"{what} {token!r} is not a number") from None


def _flow_list(value: str, file: str, number: int, block: _Block, what: str) -> list[Any]:
    import yaml

    try:
        data = yaml.safe_load(value)
    except yaml.YAMLError:
        data = None
    if not isinstance(data, list):
        raise _fail(file, number, block, f"{what} must be a list [a, b, …], got {value[:60]!r}")
    return data


def _estimate(block: _Block, file: str, annotations: dict[str, Any]) -> YodaObject:
    """A YODA 2 BinnedEstimate: ``Edges(A1)``, ``ErrorLabels``, optional ``MaskedBins``, rows."""
    meta: dict[str, tuple[int, str]] = {}
    rows: list[tuple[int, str]] = []
    for number, line in block.body:
        if line.startswith("#"):
            continue
        key, colon, value = line.partition(":")
        if colon and not rows and re.fullmatch(r"[A-Za-z][A-Za-z0-9()]*", key.strip()):
            meta[key.strip()] = (number, value.strip())
        else:
            rows.append((number, line))
    for key in meta:
        if key not in ("Edges(A1)", "ErrorLabels", "MaskedBins"):
            if key.startswith("Edges(A"):
                raise _fail(
                    file, meta[key][0], block, f"{key}: only one-dimensional estimates can be read"
                )
            raise _fail(file, meta[key][0], block, f"unknown line {key!r} in the body")
    if "Edges(A1)" not in meta:
        raise _fail(file, block.line, block, "the block has no 'Edges(A1): [...]' line")
    number, text = meta["Edges(A1)"]
    raw_edges = _flow_list(text, file, number, block, "Edges(A1)")
    discrete = block.kind in ("BINNEDESTIMATE<I>", "BINNEDESTIMATE<S>")
    labels: list[str] = []
    if "ErrorLabels" in meta:
        n_lab, text = meta["ErrorLabels"]
        labels = [str(x) for x in _flow_list(text, file, n_lab, block, "ErrorLabels")]
        if len(set(labels)) != len(labels):
            raise _fail(file, n_lab, block, f"ErrorLabels {labels} repeat a label")
    masked: list[int] = []
    if "MaskedBins" in meta:
        n_m, text = meta["MaskedBins"]
        try:
            masked = [int(x) for x in _flow_list(text, file, n_m, block, "MaskedBins")]
        except (TypeError, ValueError):
            raise _fail(
                file, n_m, block, f"MaskedBins must be bin numbers, got {text[:60]!r}"
            ) from None
    if discrete:
        bin_labels = tuple(str(x) for x in raw_edges)
        n_bins = len(bin_labels)
        n_rows = n_bins + 1  # the "otherflow" bin first
        first = 1
        binning = Binning.index(n_bins) if n_bins else None
    else:
        bin_labels = ()
        try:
            edges = np.array([float(x) for x in raw_edges])
        except (TypeError, ValueError):
            raise _fail(
                file, number, block, f"Edges(A1) must be numbers, got {text[:60]!r}"
            ) from None
        if len(edges) < 2:
            raise _fail(file, number, block, f"Edges(A1) has {len(edges)} edge(s); a bin needs two")
        if not np.all(np.isfinite(edges)) or not np.all(np.diff(edges) > 0):
            raise _fail(
                file, number, block, f"Edges(A1) must be finite and increase, got {text[:80]}"
            )
        n_bins = len(edges) - 1
        n_rows = n_bins + 2
        first = 1
        binning = Binning.from_edges(edges)
    if n_bins == 0:
        raise _fail(file, number, block, "Edges(A1) is empty: the estimate has no bins")
    if len(rows) != n_rows:
        at = rows[-1][0] if rows else block.line
        raise _fail(
            file,
            at,
            block,
            f"{len(rows)} rows, but {n_bins} bins need {n_rows} (with the flow "
            f"bin{'s' if n_rows - n_bins > 1 else ''})",
        )
    width = 1 + 2 * len(labels)
    values = np.full(n_bins, np.nan)
    up = {lab: np.zeros(n_bins) for lab in labels}
    down = {lab: np.zeros(n_bins) for lab in labels}
    for r, (number, line) in enumerate(rows):
        tokens = line.split()
        if len(tokens) != width:
            raise _fail(
                file,
                number,
                block,
                f"{len(tokens)} columns, expected {width} (value and errDn/errUp of "
                f"{len(labels)} label{'s' if len(labels) != 1 else ''})",
            )
        i = r - first
        val = _number(tokens[0], file, number, block, "value")
        errs: list[float] = []
        for k, tok in enumerate(tokens[1:]):
            if tok == _NO_ERROR:
                errs.append(math.nan)
            else:
                errs.append(_number(tok, file, number, block, f"errDn/errUp({k // 2 + 1})"))
        if not 0 <= i < n_bins:
            continue  # a flow bin
        if r in masked:
            continue
        values[i] = val
        for k, lab in enumerate(labels):
            dn, u = errs[2 * k], errs[2 * k + 1]
            if math.isnan(dn) != math.isnan(u):
                raise _fail(file, number, block, f"label {lab!r} has one of errDn/errUp '---' only")
            if not math.isnan(dn):
                if not (math.isfinite(dn) and math.isfinite(u)):
                    raise _fail(file, number, block, f"label {lab!r}: errDn/errUp are not finite")
                down[lab][i], up[lab][i] = dn, u
    bad_mask = [m for m in masked if not first <= m < first + n_bins]
    if bad_mask:
        raise _fail(
            file, meta["MaskedBins"][0], block, f"MaskedBins {bad_mask} are not bins 1…{n_bins}"
        )
    for m in masked:
        values[m - first] = np.nan
    return YodaObject(
        block.path,
        block.kind,
        block.version,
        annotations,
        binning,
        values,
        {lab: (up[lab], down[lab]) for lab in labels},
        bin_labels,
        file,
        block.line,
        tuple(masked),
    )


def _breakdown(
    annotations: dict[str, Any], n: int, file: str, block: _Block
) -> dict[str, tuple[FloatArray, FloatArray]]:
    raw = annotations.get("ErrorBreakdown")
    if raw in (None, {}, ""):
        return {}
    line = next(
        (k for k, text in block.header if text.strip().startswith("ErrorBreakdown")), block.line
    )
    if not isinstance(raw, dict):
        raise _fail(
            file, line, block, "ErrorBreakdown must be a mapping {point: {label: {dn, up}}}"
        )
    labels: list[str] = []
    for entry in raw.values():
        if isinstance(entry, dict):
            labels.extend(str(k) for k in entry if str(k) not in labels)
    up = {lab: np.zeros(n) for lab in labels}
    down = {lab: np.zeros(n) for lab in labels}
    for point, entry in raw.items():
        if not (isinstance(point, int) and 0 <= point < n):
            raise _fail(
                file, line, block, f"ErrorBreakdown names point {point!r}; the points are 0…{n - 1}"
            )
        if not isinstance(entry, dict):
            raise _fail(
                file, line, block, f"ErrorBreakdown of point {point}: not a mapping of labels"
            )
        for label, pair in entry.items():
            lab = str(label)
            if not (isinstance(pair, dict) and set(pair) == {"dn", "up"}):
                raise _fail(
                    file,
                    line,
                    block,
                    f"ErrorBreakdown of point {point}, label {lab!r}: expected {{dn: …, up: …}}",
                )
            try:
                d, u = float(pair["dn"]), float(pair["up"])
            except (TypeError, ValueError):
                raise _fail(
                    file,
                    line,
                    block,
                    f"ErrorBreakdown of point {point}, label {lab!r}: not numbers",
                ) from None
            if not (math.isfinite(d) and math.isfinite(u)):
                raise _fail(
                    file, line, block, f"ErrorBreakdown of point {point}, label {lab!r}: not finite"
                )
            up[lab][point], down[lab][point] = u, d
    return {lab: (up[lab], down[lab]) for lab in labels}


def _scatter(block: _Block, file: str, annotations: dict[str, Any]) -> YodaObject:
    """A 2-d scatter: ``x xerr- xerr+ y yerr- yerr+`` per point."""
    rows = [(n, line) for n, line in block.body if not line.startswith("#")]
    if not rows:
        raise _fail(file, block.line, block, "the scatter has no points")
    pts = np.empty((len(rows), 6))
    for r, (number, line) in enumerate(rows):
        tokens = line.split()
        if len(tokens) != 6:
            raise _fail(
                file,
                number,
                block,
                f"{len(tokens)} columns, expected 6 (x xerr- xerr+ y yerr- yerr+)",
            )
        pts[r] = [_number(t, file, number, block, "entry") for t in tokens]
        if not np.all(np.isfinite(pts[r, :3])):
            raise _fail(file, number, block, "x and its errors must be finite")
        if np.any(pts[r, [1, 2, 4, 5]] < 0):
            raise _fail(
                file, number, block, "errors in a scatter are magnitudes and cannot be negative"
            )
    x, xm, xp, y, ym, yp = pts.T
    low, high = x - xm, x + xp
    try:
        if np.all(high > low):
            binning = Binning(low, high, centers=x)
        elif np.all(high == low):
            binning = replace(Binning.index(len(x), name="x", label=""), centers=x)
        else:
            i = int(np.flatnonzero(~(high > low))[0])
            raise _fail(
                file,
                rows[i][0],
                block,
                "some points have x errors and others none; give every point its bin",
            )
    except InvalidMeasurement as exc:  # overlapping or unordered points
        first = rows[0][0]
        raise _fail(
            file, first, block, f"the points' x ranges are not bins in increasing order ({exc})"
        ) from None
    errors = _breakdown(annotations, len(x), file, block)
    if errors:
        total_dn = np.sqrt(sum(d**2 for _, d in errors.values()))
        total_up = np.sqrt(sum(u**2 for u, _ in errors.values()))
        off = (np.abs(total_dn - ym) > 1e-3 * np.maximum(ym, 1e-300)) | (
            np.abs(total_up - yp) > 1e-3 * np.maximum(yp, 1e-300)
        )
        if np.any(off & np.isfinite(y)):
            log.info(
                "%s, block YODA_%s %s: the ErrorBreakdown does not add up in quadrature to the "
                "point errors for points %s; the breakdown is used",
                file,
                block.kind,
                block.path,
                np.flatnonzero(off)[:5].tolist(),
            )
    else:
        errors = {"total": (yp.copy(), -ym)}
    return YodaObject(
        block.path,
        block.kind,
        block.version,
        annotations,
        binning,
        y.copy(),
        errors,
        (),
        file,
        block.line,
    )


def yoda_objects(text: str, source: str = "<text>") -> dict[str, YodaObject]:
    """The objects of YODA text, ``{path: YodaObject}`` in file order (see the module docstring);
    ``source`` names the text in messages."""
    out: dict[str, YodaObject] = {}
    for block in _blocks(text, source):
        annotations = _annotations(block, source)
        if block.path in out:
            raise _fail(source, block.line, block, f"a second object with the path {block.path!r}")
        if block.kind in (
            "ESTIMATE1D",
            "BINNEDESTIMATE<D>",
            "BINNEDESTIMATE<I>",
            "BINNEDESTIMATE<S>",
        ):
            if block.version < 3:
                raise _fail(
                    source, block.line, block, "estimates are YODA 2 objects and need a _V3 block"
                )
            obj = _estimate(block, source, annotations)
        elif block.kind == "SCATTER2D":
            obj = _scatter(block, source, annotations)
        else:
            obj = YodaObject(
                block.path,
                block.kind,
                block.version,
                annotations,
                None,
                np.zeros(0),
                {},
                (),
                source,
                block.line,
            )
        out[block.path] = obj
    return out


def read_yoda(path: PathLike) -> dict[str, YodaObject]:
    """The objects of a YODA file (``.yoda``, or ``.yoda.gz``), ``{path: YodaObject}``.

    Raises
    ------
    ConfigError
        If the file cannot be read or is malformed (the message names file, line and block).
    """
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the YODA file ({exc.strerror or exc})") from None
    if data[:2] == b"\x1f\x8b":
        import gzip
        import zlib

        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise ConfigError(f"{p}: a gzip file that does not decompress ({exc})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{p} is not a YODA text file: byte 0x{data[exc.start]:02x} at offset {exc.start} is not UTF-8"
        ) from None
    return yoda_objects(text, str(p))


# ====================================================================== measurements
def _clean(label: str) -> str:
    text = " ".join(label.split())
    m = _SYS.match(text)
    return (m.group(1) if m else text) or "unlabelled"


def _select(objects: Mapping[str, YodaObject], which: str | None, file: str) -> YodaObject:
    readable = [o for o in objects.values() if o.is_measurement]
    if which is None:
        if len(readable) == 1:
            return readable[0]
        if not readable:
            kinds = sorted({o.kind for o in objects.values()})
            raise ConfigError(
                f"{file}: no object hepcombine can read as a measurement (it has {kinds or 'none'}; "
                f"readable are {', '.join(MEASUREMENT_TYPES)})"
            )
        raise ConfigError(
            f"{file} has {len(readable)} distributions; choose one with object= "
            f"({', '.join(o.path for o in readable[:8])}{', …' if len(readable) > 8 else ''})"
        )
    found = objects.get(which) or objects.get("/REF" + which if which.startswith("/") else "")
    if found is None:
        named = [o for o in objects.values() if o.name == which]
        if len(named) > 1:
            raise ConfigError(
                f"{file}: several objects are called {which!r}: {[o.path for o in named]}; give the path"
            )
        found = named[0] if named else None
    if found is None:
        from ..names import did_you_mean

        paths = [o.path for o in readable]
        candidates = paths if which.startswith("/") else [o.name for o in readable]
        raise ConfigError(
            f"{file}: no object {which!r}{did_you_mean(which, candidates)}; its distributions are "
            f"{paths[:8]}{' …' if len(paths) > 8 else ''}"
        )
    if not found.is_measurement:
        raise ConfigError(
            f"{found.where}: a {found.kind} cannot be read as a measurement (readable are "
            f"{', '.join(MEASUREMENT_TYPES)})"
        )
    return found


def read_yoda_measurement(
    path: PathLike,
    object: str | None = None,
    *,
    name: str | None = None,
    stat: str | Sequence[str] | None = None,
    sources: Mapping[str, str | None] | None = None,
    relative: Iterable[str] | bool = (),
    uncorrelated: Iterable[str] = (),
    scale: float = 1.0,
    asymmetric: Literal["keep", "symmetrise"] = "keep",
    quantity: Quantity | None = None,
    axis_name: str | None = None,
    axis_label: str | None = None,
    axis_unit: str | None = None,
    bin_prefix: str = "bin",
) -> DifferentialMeasurement:
    """A differential measurement from one object of a YODA file.

    Parameters
    ----------
    path:
        The ``.yoda`` file (or ``.yoda.gz``).
    object:
        The object: its path (``/REF/ATLAS_2020_I1790439/d03-x01-y01``) or the last part of it
        (``d03-x01-y01``) where unique; may be omitted when the file has one distribution.
    name:
        Name of the measurement; default: the object's name.
    stat:
        The label(s) that are statistical (several add in quadrature); default: ``stat``,
        ``stats``, ``statistical`` (any case). A scatter without ``ErrorBreakdown`` has one
        label, ``total``: ``stat="total"`` reads it as a measurement with statistical
        uncertainties only.
    sources:
        ``{label: new name}`` renames sources, ``{label: None}`` leaves a label out.
    relative:
        Sources (new names) whose shifts scale with the combined value; ``True``: all.
    uncorrelated:
        Sources independent bin by bin: one source per bin, ``f"{source}_{bin_prefix}{i}"``.
    scale:
        Factor for values and uncertainties.
    asymmetric:
        ``"keep"`` the (up, down) pairs as written, or ``"symmetrise"`` them to ±(up − down)/2.
    quantity:
        What the values are (default: the ``Title`` annotation as label, no unit).
    axis_name, axis_label, axis_unit:
        The bins' axis (YODA files say nothing about it; default ``x``, no label, no unit).
    bin_prefix:
        Estimates are named ``f"{bin_prefix}{i}"``, ``i`` the bin's position in the object.

    Raises
    ------
    ConfigError
        For a malformed file, an unknown or unreadable object, unknown labels, or a missing or
        zero statistical uncertainty (the message names file, line, block and bin).
    """
    if asymmetric not in ("keep", "symmetrise"):
        raise ConfigError(f"asymmetric must be 'keep' or 'symmetrise', not {asymmetric!r}")
    if not (isinstance(scale, int | float) and math.isfinite(scale) and scale != 0):
        raise ConfigError(f"scale must be a finite non-zero number, not {scale!r}")
    file = str(path)
    obj = _select(read_yoda(path), object, file)
    assert obj.binning is not None
    where = obj.where
    n = obj.binning.n_bins
    keep = np.flatnonzero(np.isfinite(obj.values))
    missing = [i for i in np.flatnonzero(~np.isfinite(obj.values)) if i + 1 not in obj._masked]
    if missing:
        log.warning(
            "%s: bins %s have no value and are left out of the measurement",
            where,
            [int(i) for i in missing[:10]],
        )
    if keep.size == 0:
        raise ConfigError(f"{where}: no bin has a value")
    # ------------------------------------------------------------ labels → sources
    cleaned: dict[str, str] = {}
    for label in obj.errors:
        c = _clean(label)
        if c in cleaned.values():
            raise ConfigError(f"{where}: labels {label!r} and another both read as source {c!r}")
        cleaned[label] = c

    def label_of(ref: str, argument: str) -> str:
        for label, c in cleaned.items():
            if ref in (label, c):
                return label
        raise ConfigError(
            f"{where}: {argument}= names {ref!r}, which is not an error label ({list(obj.errors)})"
        )

    if stat is None:
        stat_labels = [lab for lab, c in cleaned.items() if _STAT.match(c)]
    else:
        stat_labels = [label_of(s, "stat") for s in ([stat] if isinstance(stat, str) else stat)]
    if not stat_labels:
        raise ConfigError(
            f"{where}: no statistical uncertainty: none of the labels {list(obj.errors)} is "
            "recognised as statistical; say which with stat="
        )
    sigma2 = np.zeros(n)
    for lab in stat_labels:
        u, d = obj.errors[lab]
        if np.any(np.abs(u[keep] + d[keep]) > 1e-12 * np.abs(u[keep] - d[keep])):
            log.info("%s: statistical %r is asymmetric; (|up| + |down|)/2 is used", where, lab)
        sigma2 += (0.5 * (np.abs(u) + np.abs(d))) ** 2
    sigma = np.sqrt(sigma2)[keep] * abs(scale)
    zero = np.flatnonzero(~(sigma > 0))
    if zero.size:
        i = int(keep[zero[0]])
        raise ConfigError(
            f"{where}, {obj.binning.bin_label(i)}: the statistical uncertainty "
            f"({', '.join(stat_labels)}) is zero; a measurement needs a positive one"
        )
    rename = {label_of(k, "sources"): v for k, v in (sources or {}).items()}
    final: dict[str, tuple[FloatArray, FloatArray]] = {}
    for label, (u, d) in obj.errors.items():
        if label in stat_labels:
            continue
        new = rename.get(label, cleaned[label])
        if new is None:
            continue
        if ":" in new:
            raise ConfigError(
                f"{where}: source {new!r} contains ':' (references are 'measurement:source'); "
                "rename it with sources="
            )
        if new in final:
            raise ConfigError(f"{where}: two sources are named {new!r} (sources= renames)")
        uk, dk = u[keep] * scale, d[keep] * scale
        if asymmetric == "symmetrise":
            half = 0.5 * (uk - dk)
            uk, dk = half, -half
        final[new] = (uk, dk)
    estimates = [f"{bin_prefix}{i}" for i in keep]

    def final_name(ref: str, argument: str) -> str:
        if ref in final:
            return ref
        label = label_of(ref, argument)
        new = rename.get(label, cleaned[label])
        if new is None or new not in final:
            raise ConfigError(f"{where}: {argument}= names {ref!r}, which is not a source")
        return new

    if relative is True:
        rel = set(final)
    elif relative is False:
        rel = set()
    else:
        rel = {final_name(r, "relative") for r in relative}
    for ref in uncorrelated:
        key = final_name(ref, "uncorrelated")
        u, d = final.pop(key)
        was_relative = key in rel
        rel.discard(key)
        for j, est in enumerate(estimates):
            if u[j] or d[j]:
                uj, dj = np.zeros(keep.size), np.zeros(keep.size)
                uj[j], dj[j] = u[j], d[j]
                final[f"{key}_{est}"] = (uj, dj)
                if was_relative:
                    rel.add(f"{key}_{est}")
    systematics: dict[str, dict[str, float | tuple[float, float]]] = {}
    for key, (u, d) in final.items():
        systematics[key] = {
            est: float(u[j]) if u[j] == -d[j] else (float(u[j]), float(d[j]))
            for j, est in enumerate(estimates)
            if u[j] != 0 or d[j] != 0
        }
    mname = (name or obj.name).replace(":", "_")
    x = obj.values[keep] * scale
    try:
        measurement = Measurement.from_uncertainties(
            dict(zip(estimates, x.tolist(), strict=True)),
            dict(zip(estimates, sigma.tolist(), strict=True)),
            systematics,
            relative=rel,
            name=mname,
        )
    except InvalidMeasurement as exc:
        raise ConfigError(f"{where}: {exc}") from None
    binning = obj.binning.select(keep.tolist()) if keep.size < n else obj.binning
    axis: dict[str, Any] = {
        k: v
        for k, v in (("name", axis_name), ("label", axis_label), ("unit", axis_unit))
        if v is not None
    }
    if axis:
        binning = replace(binning, **axis)
    if quantity is None:
        quantity = Quantity(obj.title)
    return DifferentialMeasurement(
        measurement, binning, quantity, obj.title or obj.name, f"YODA {obj.where}"
    )


def __dir__() -> list[str]:
    return list(__all__)
