"""Histograms and graphs → differential measurements, and their :class:`~hepcombine.spec.CombinationSpec`.

A differential measurement is one estimate per bin. The functions here read the bins of

* uproot objects (``uproot.open(path)["name"]``: TH1, TH2, TGraphAsymmErrors, TGraphErrors),
* ``hist.Hist`` / boost-histogram / any UHI-plottable histogram,
* PyROOT objects: ``TH1F``/``TH1D`` (and any ``TH1``), ``TH2D``, ``TGraphAsymmErrors``,
  ``TGraphErrors`` (read through their methods — ``GetNbinsX``, ``GetBinContent``,
  ``GetSumw2``, ``GetBinError``, ``GetXaxis().GetBinLowEdge``, ``GetN``, ``GetErrorYlow`` ... —
  so any object with that interface works; ROOT itself is never imported here),
* object names (strings) looked up in ``file=``: a path (read with uproot), an open uproot file
  or directory, or a PyROOT ``TFile``/``TDirectory`` (``"dir/name"`` paths work in both),

and return a :class:`~hepcombine.measurement.DifferentialMeasurement`: the canonical
:class:`~hepcombine.measurement.Measurement` plus the binning it came from.
:func:`differential_spec` turns several measurements of one distribution into the
specification of their bin-by-bin combination; :func:`combine_differential` combines them
through it (the pipeline step of a distribution: specification → combiner → result, given as a
:class:`~hepcombine.differential.DifferentialResult`).

Conventions
-----------
* Bin ``i`` counts from 0 (ROOT bin number ``i + 1``); its estimate is named
  ``f"{bin_prefix}{i}"`` with ``bin_prefix = f"{name}_bin"`` unless given.
* Under- and overflow bins are ignored; non-zero under/overflow content is logged as a warning.
* All histograms of one call must have the nominal's bin edges (an error names both histograms).
  Plain numpy arrays are accepted for statistical uncertainties, matrices and systematics; only
  their length/shape is checked.
* Shifts follow :mod:`hepcombine.measurement`: ``u`` = the result had the analysis assumed the
  +1σ variation, minus the nominal result; asymmetric sources are ``(up, down)`` signed shifts.
* Bin errors of ROOT histograms are ROOT's: √fSumw2 when the histogram has ``fSumw2``, else
  √|content| (``TH1::GetBinError``), whether read with uproot or PyROOT; ``fSumw2`` is read
  directly, so a NaN or negative entry is an error naming file, object and bin (uproot's
  ``variances()`` would turn it into 0). Profiles use their own errors.
* A file that cannot be read — missing, empty, truncated, not a ROOT file, an object whose
  compressed data is corrupt (zlib, LZMA, ...) — is one line of
  :class:`~hepcombine.exceptions.InvalidMeasurement` naming the file (and the object).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray

from ..binning import Binning, Binning2D, Quantity
from ..exceptions import InvalidArgument, InvalidMeasurement, UnknownName
from ..measurement import DifferentialMeasurement, Measurement
from ..names import Ref
from ..spec import CombinationSpec
from ._bins import common_quantity

if TYPE_CHECKING:
    from ..differential import DifferentialResult

__all__ = [
    "Systematic",
    "combine_differential",
    "differential_observables",
    "differential_spec",
    "measurement_from_graph",
    "measurement_from_histograms",
]

log = logging.getLogger(__name__)

Kind = Literal["variation", "shift", "fraction", "percent"]
_KINDS = ("variation", "shift", "fraction", "percent")


# ---------------------------------------------------------------------- public containers
@dataclass(frozen=True)
class Systematic:
    """One systematic source of a histogram measurement, when the defaults do not fit.

    ``up`` and ``down`` are histogram-likes (or object names, or arrays); ``down=None`` means a
    symmetric source (down shift = −up shift). ``kind`` overrides the ``kind`` given to
    :func:`measurement_from_histograms` for this source.
    """

    up: Any
    down: Any = None
    kind: Kind | None = None


# ---------------------------------------------------------------------- internal readers
@dataclass(frozen=True)
class _Hist1D:
    desc: str  # role and name, for messages: "nominal 'f.root:h'"
    values: NDArray[np.float64]
    variances: NDArray[np.float64] | None
    edges: NDArray[np.float64] | None
    flow: tuple[float, float] = (0.0, 0.0)
    axis_name: str = ""
    axis_label: str = ""
    title: str = ""
    value_label: str = ""  # the title of the values' axis (a TH1's y axis): the quantity
    # a 2-d histogram (TH2): values are its cells, x inner (ROOT's order, Binning2D)
    grid: tuple[int, int] | None = None  # (nx, ny)
    edges_y: NDArray[np.float64] | None = None
    axis_name_y: str = ""
    axis_label_y: str = ""

    @property
    def dimension(self) -> int:
        return 1 if self.grid is None else 2

    def where(self, i: int) -> str:
        if self.grid is not None:
            nx = self.grid[0]
            ix, iy = i % nx, i // nx
            if self.edges is not None and self.edges_y is not None:
                ex, ey = self.edges, self.edges_y
                return f"cell {i} (x [{ex[ix]:g}, {ex[ix + 1]:g}), y [{ey[iy]:g}, {ey[iy + 1]:g}))"
            return f"cell {i} (x bin {ix}, y bin {iy})"
        if self.edges is not None:
            return f"bin {i} [{self.edges[i]:g}, {self.edges[i + 1]:g})"
        return f"bin {i}"


@dataclass(frozen=True)
class _Graph:
    desc: str
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    exl: NDArray[np.float64]
    exh: NDArray[np.float64]
    eyl: NDArray[np.float64]
    eyh: NDArray[np.float64]
    axis_label: str = ""
    title: str = ""
    value_label: str = ""


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message (uproot's messages run over several lines and
    end with the file name, which hepcombine's own message names already)."""
    lines = str(exc).strip().splitlines()
    return lines[0].strip() if lines else type(exc).__name__


def _is_decompression_error(exc: BaseException) -> bool:
    import lzma
    import zlib

    if isinstance(exc, zlib.error | lzma.LZMAError):
        return True
    module = (type(exc).__module__ or "").split(".")[0]  # cramjam (LZMA, LZ4, ZSTD in uproot 5)
    return (
        module in ("cramjam", "lz4", "zstandard", "zstd")
        or "decompress" in type(exc).__name__.lower()
        or "decompress" in str(exc).lower()
    )


def _read_failure(exc: BaseException, path: str, what: str) -> InvalidMeasurement:
    """One line for an error of uproot while opening ``path`` or reading ``what`` from it."""
    fname = os.path.basename(path) or path
    where = f"cannot read {what} from {fname!r}" if what else f"cannot open ROOT file {fname!r}"
    text = str(exc)
    if isinstance(exc, FileNotFoundError):
        return InvalidMeasurement(f"{where}: no such file ({path})")
    if isinstance(exc, IsADirectoryError):
        return InvalidMeasurement(f"{where}: it is a directory, not a file")
    if isinstance(exc, PermissionError):
        return InvalidMeasurement(f"{where}: permission denied")
    if _is_decompression_error(exc):
        kind = "zlib" if type(exc).__name__ == "error" else type(exc).__name__
        return InvalidMeasurement(
            f"{where}: its compressed data is corrupt ({kind}: {_first_line(exc)}); the file is "
            f"damaged, write or copy it again"
        )
    size = None
    with suppress(OSError):
        size = os.path.getsize(path)
    if size == 0:
        return InvalidMeasurement(f"{where}: the file is empty (0 bytes)")
    chunk = re.search(r"expected Chunk of length (\d+),\s*received (\d+) bytes", text)
    if chunk:
        return InvalidMeasurement(
            f"{where}: the file is truncated ({size} bytes long; a read of {chunk[1]} bytes "
            f"found only {chunk[2]}); it was not written completely"
        )
    magic = re.search(r"not a ROOT file: first four bytes are (b'.*?'|b\".*?\")", text)
    if magic:
        return InvalidMeasurement(
            f"{where}: not a ROOT file (it starts with {magic[1]}, a ROOT file with b'root')"
        )
    return InvalidMeasurement(
        f"{where}: {type(exc).__name__}: {_first_line(exc)} (the file may be damaged)"
    )


def _is_pyroot_directory(obj: Any) -> bool:
    return hasattr(obj, "GetListOfKeys") and hasattr(obj, "Get")


def _directory_name(file: Any) -> str:
    """``"inputs.root"`` or ``"inputs.root:sub/dir"`` for messages."""
    if _is_pyroot_directory(file):  # PyROOT TFile / TDirectory: GetPath() is "file.root:/sub"
        head, _, sub = str(file.GetPath()).rpartition(":/")
        name = os.path.basename(head) or "file"
    else:  # uproot directory
        path = getattr(getattr(file, "file", None), "file_path", None)
        name = os.path.basename(path) if path else "file"
        sub = "/".join(getattr(file, "path", ()) or ())
    return f"{name}:{sub}" if sub else name


def _object_path(fname: str, name: str) -> str:
    return f"{fname}{'/' if ':' in fname else ':'}{name}"


@contextmanager
def _opened(file: Any) -> Iterator[tuple[Any, str]]:
    """Yield (directory, its name for messages) for ``file``: None, a path (opened with
    uproot), an open uproot directory or a PyROOT ``TFile``/``TDirectory``."""
    if file is None:
        yield None, ""
    elif isinstance(file, str | os.PathLike):
        import uproot

        path = os.fspath(file)
        try:
            handle = uproot.open(path)
        except Exception as exc:  # uproot: OSError, ValueError, DeserializationError, ...
            raise _read_failure(exc, path, "") from exc
        with handle:
            yield handle, os.path.basename(path)
    else:
        yield file, _directory_name(file)


def _label(obj: Any) -> str:
    for getter in ("GetName", "name"):
        attr = getattr(obj, getter, None)
        try:
            value = attr() if callable(attr) else attr
        except Exception:  # a stand-in with an odd signature: fall back to the type
            value = None
        if value:
            return str(value)
    classname = getattr(obj, "classname", None)  # uproot models: "TH1D", "TGraphErrors", ...
    return f"unnamed {classname if isinstance(classname, str) else type(obj).__name__}"


def _is_null(obj: Any) -> bool:
    """Whether a PyROOT pointer is null (``TDirectory::Get`` of a missing name)."""
    if obj is None:
        return True
    try:
        import cppyy.ll  # present wherever a PyROOT object is

        return int(cppyy.ll.addressof(obj)) == 0
    except (ImportError, TypeError):
        return False


def _unknown(role: str, obj: str, fname: str, keys: Iterable[str]) -> UnknownName:
    names = sorted({k.split(";")[0] for k in keys})
    more = ", ..." if len(names) > 30 else ""
    return UnknownName(f"{role}: no object {obj!r} in {fname}; it contains {names[:30]}{more}")


def _resolve(obj: Any, role: str, file: Any, fname: str) -> tuple[Any, str]:
    """Look ``obj`` up in ``file`` if it is a name; return the object and its description."""
    if not isinstance(obj, str):
        return obj, f"{role} {_label(obj)!r}"
    if file is None:
        raise InvalidMeasurement(
            f"{role}: {obj!r} is an object name, but no file= was given to look it up in"
        )
    desc = f"{role} '{_object_path(fname, obj)}'"
    if _is_pyroot_directory(file):
        found = file.Get(obj)
        if _is_null(found):
            raise _unknown(role, obj, fname, (str(k.GetName()) for k in file.GetListOfKeys()))
        return found, desc
    try:
        found = file[obj]
    except KeyError:
        raise _unknown(role, obj, fname, file.keys()) from None
    except Exception as exc:  # reading the object: zlib.error, OSError, DeserializationError
        path = getattr(getattr(file, "file", None), "file_path", None) or fname
        raise _read_failure(exc, path, f"{role} {obj!r}") from exc
    return found, desc


def _float_array(values: Any, desc: str) -> NDArray[np.float64]:
    try:
        return np.array(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidMeasurement(f"{desc}: cannot read numbers from it ({exc})") from exc


def _axis_edges(axis: Any, desc: str) -> NDArray[np.float64]:
    edges = getattr(axis, "edges", None)
    if callable(edges):  # uproot TAxis: a method; hist/boost: a property
        edges = edges()
    if edges is None:  # generic UHI axis: axis[i] is (low, high)
        try:
            pairs = [axis[i] for i in range(len(axis))]
            edges = [float(p[0]) for p in pairs] + [float(pairs[-1][1])]
        except (TypeError, IndexError, ValueError) as exc:
            raise InvalidMeasurement(f"{desc}: its axis has no numeric bin edges ({exc})") from exc
    edges = _float_array(edges, desc)
    if edges.ndim != 1 or len(edges) < 2 or not np.all(np.diff(edges) > 0):
        raise InvalidMeasurement(f"{desc}: bin edges must increase, got {edges.tolist()}")
    return edges


def _axis_text(axis: Any) -> tuple[str, str]:
    if hasattr(axis, "GetTitle"):  # PyROOT TAxis
        return str(axis.GetName()) if hasattr(axis, "GetName") else "", str(axis.GetTitle())
    if hasattr(axis, "member"):  # uproot TAxis
        return str(axis.member("fName") or ""), str(axis.member("fTitle") or "")
    return str(getattr(axis, "name", "") or ""), str(getattr(axis, "label", "") or "")


def _title(obj: Any) -> str:
    if hasattr(obj, "GetTitle"):
        return str(obj.GetTitle())
    if hasattr(obj, "member"):
        try:
            return str(obj.member("fTitle") or "")
        except Exception:
            return ""
    return str(getattr(obj, "label", "") or "")


def _uproot_member(obj: Any, name: str) -> Any:
    try:
        return obj.member(name, none_if_missing=True)
    except Exception:  # another model without that member
        return None


def _uproot_axis_title(obj: Any, axis: str) -> str:
    """``fTitle`` of the axis ``axis`` (``"fYaxis"``) of a uproot histogram model, else ``""``."""
    if obj is None or not hasattr(obj, "member"):
        return ""
    model = _uproot_member(obj, axis)
    return str(_uproot_member(model, "fTitle") or "") if model is not None else ""


def _pyroot_dimension(obj: Any) -> int:
    if hasattr(obj, "GetDimension"):
        return int(obj.GetDimension())
    return 2 if hasattr(obj, "GetNbinsY") else 1


def _pyroot_edges(axis: Any, n: int) -> NDArray[np.float64]:
    low = [axis.GetBinLowEdge(i) for i in range(1, n + 1)]
    return np.array([*low, axis.GetBinUpEdge(n)], dtype=float)


def _pyroot_variances(obj: Any, values: NDArray[np.float64]) -> NDArray[np.float64]:
    """The squared bin errors of a PyROOT TH1, as ROOT keeps them: ``fSumw2`` when the
    histogram has it (read directly, so that a NaN or negative entry is seen as such rather than
    through ``GetBinError``'s square root), else ``|content|`` (``GetBinError`` is
    ``sqrt(|content|)`` then). Profiles, histograms with another error option (Poisson) and
    stand-ins without ``GetSumw2N``: ``GetBinError(i)²``."""
    n = len(values)
    plain = (
        hasattr(obj, "GetSumw2N")
        and not (hasattr(obj, "InheritsFrom") and obj.InheritsFrom("TProfile"))
        and int(getattr(obj, "GetBinErrorOption", lambda: 0)()) == 0
    )
    if plain:
        if int(obj.GetSumw2N()) == 0:
            return np.abs(values)
        sumw2 = obj.GetSumw2()
        return np.array([sumw2.At(i) for i in range(1, n + 1)], dtype=float)
    return np.array([obj.GetBinError(i) for i in range(1, n + 1)], dtype=float) ** 2


def _uproot_variances(obj: Any, values: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """The squared bin errors of a 1-d uproot TH1 as ROOT gives them (``fSumw2``, else
    ``|content|``); uproot's ``variances()`` would turn a NaN or negative ``fSumw2`` into 0.
    ``None`` for anything that is not a uproot TH1 (then ``variances()`` is used)."""
    classname = getattr(obj, "classname", None)
    if not (isinstance(classname, str) and classname.startswith("TH1") and hasattr(obj, "member")):
        return None  # hist / boost-histogram, a TProfile, another UHI histogram
    sumw2 = obj.member("fSumw2", none_if_missing=True)
    if sumw2 is not None and len(sumw2) > 0 and len(sumw2) == len(values) + 2:
        return np.array(sumw2, dtype=float)[1:-1]
    return np.abs(values)


def _read_1d(obj: Any, role: str, file: Any, fname: str, *, allow_array: bool) -> _Hist1D:
    obj, desc = _resolve(obj, role, file, fname)
    if hasattr(obj, "GetNbinsX"):  # PyROOT TH1
        if _pyroot_dimension(obj) == 2:
            return _read_pyroot_2d(obj, desc)
        if _pyroot_dimension(obj) != 1:
            raise InvalidMeasurement(
                f"{desc}: expected a one- or two-dimensional histogram (TH1, TH2)"
            )
        n = int(obj.GetNbinsX())
        values = np.array([obj.GetBinContent(i) for i in range(1, n + 1)], dtype=float)
        flow = (float(obj.GetBinContent(0)), float(obj.GetBinContent(n + 1)))
        axis = obj.GetXaxis()
        name, label = _axis_text(axis)
        return _Hist1D(
            desc,
            values,
            _pyroot_variances(obj, values),
            _pyroot_edges(axis, n),
            flow,
            name,
            label,
            _title(obj),
            str(obj.GetYaxis().GetTitle()) if hasattr(obj, "GetYaxis") else "",
        )
    if hasattr(obj, "values") and hasattr(obj, "axes"):  # UHI: uproot, hist, boost-histogram
        axes = list(obj.axes)
        if len(axes) == 2:
            return _read_uhi_2d(obj, axes, desc)
        if len(axes) != 1:
            raise InvalidMeasurement(
                f"{desc}: has {len(axes)} axes; a distribution must be one- or two-dimensional"
            )
        values = _float_array(obj.values(), desc)
        variances = _uproot_variances(obj, values)
        if variances is None:
            variances = obj.variances() if hasattr(obj, "variances") else None
            variances = None if variances is None else _float_array(variances, desc)
        edges = _axis_edges(axes[0], desc)
        if len(edges) != len(values) + 1:
            raise InvalidMeasurement(f"{desc}: {len(values)} values but {len(edges)} bin edges")
        under = over = 0.0
        try:
            full = _float_array(obj.values(flow=True), desc)
        except TypeError:  # a plottable without flow support
            full = values
        extra = len(full) - len(values)
        if extra:
            traits = getattr(axes[0], "traits", None)
            has_under = extra == 2 or bool(getattr(traits, "underflow", False))
            under = float(full[0]) if has_under else 0.0
            over = float(full[-1]) if extra == 2 or not has_under else 0.0
        name, label = _axis_text(axes[0])
        return _Hist1D(
            desc,
            values,
            variances,
            edges,
            (under, over),
            name,
            label,
            _title(obj),
            _uproot_axis_title(obj, "fYaxis"),
        )
    if allow_array and not isinstance(obj, str | bytes):
        values = _float_array(obj, desc)
        if values.ndim == 1:
            return _Hist1D(desc.replace("unnamed ndarray", "array"), values, None, None)
        if values.ndim == 2:  # indexed [ix, iy], as hist's values(): cells x inner
            return _Hist1D(
                desc.replace("unnamed ndarray", "array"),
                values.ravel(order="F"),
                None,
                None,
                grid=(values.shape[0], values.shape[1]),
            )
    raise InvalidMeasurement(
        f"{desc}: not a histogram (expected a uproot/PyROOT TH1, a hist.Hist or another "
        f"UHI-plottable histogram{', or a 1-d array' if allow_array else ''}), "
        f"got {type(obj).__name__}"
    )


def _read_pyroot_2d(obj: Any, desc: str) -> _Hist1D:
    """A PyROOT TH2: its cells x inner (``GetBin(ix, iy)`` order without flow bins)."""
    nx, ny = int(obj.GetNbinsX()), int(obj.GetNbinsY())
    full = np.array(
        [[obj.GetBinContent(ix, iy) for iy in range(ny + 2)] for ix in range(nx + 2)], dtype=float
    )
    inner = full[1:-1, 1:-1]
    values = inner.ravel(order="F")
    rim = np.abs(full)
    rim[1:-1, 1:-1] = 0.0
    plain = (
        hasattr(obj, "GetSumw2N")
        and not (hasattr(obj, "InheritsFrom") and obj.InheritsFrom("TProfile2D"))
        and int(getattr(obj, "GetBinErrorOption", lambda: 0)()) == 0
    )
    if plain and int(obj.GetSumw2N()) == 0:
        variances = np.abs(values)
    elif plain:
        sumw2 = obj.GetSumw2()
        variances = np.array(
            [sumw2.At(obj.GetBin(ix, iy)) for iy in range(1, ny + 1) for ix in range(1, nx + 1)],
            dtype=float,
        )
    else:
        variances = np.array(
            [obj.GetBinError(ix, iy) ** 2 for iy in range(1, ny + 1) for ix in range(1, nx + 1)],
            dtype=float,
        )
    xaxis, yaxis = obj.GetXaxis(), obj.GetYaxis()
    xname, xlabel = _axis_text(xaxis)
    yname, ylabel = _axis_text(yaxis)
    flow = float(rim.sum())
    return _Hist1D(
        desc,
        values,
        variances,
        _pyroot_edges(xaxis, nx),
        (flow, 0.0),
        xname,
        xlabel,
        _title(obj),
        str(obj.GetZaxis().GetTitle()) if hasattr(obj, "GetZaxis") else "",
        grid=(nx, ny),
        edges_y=_pyroot_edges(yaxis, ny),
        axis_name_y=yname,
        axis_label_y=ylabel,
    )


def _read_uhi_2d(obj: Any, axes: list[Any], desc: str) -> _Hist1D:
    """A 2-d uproot TH2 or hist.Hist: ``values()[ix, iy]``, flattened x inner."""
    grid = _float_array(obj.values(), desc)
    nx, ny = grid.shape
    values = grid.ravel(order="F")
    variances: NDArray[np.float64] | None = None
    classname = getattr(obj, "classname", None)
    if isinstance(classname, str) and classname.startswith("TH2") and hasattr(obj, "member"):
        # fSumw2 as ROOT keeps it ((nx + 2) (ny + 2), x inner), so that NaN stays NaN
        sumw2 = obj.member("fSumw2", none_if_missing=True)
        if sumw2 is not None and len(sumw2) == (nx + 2) * (ny + 2):
            variances = np.array(sumw2, dtype=float).reshape(ny + 2, nx + 2)[1:-1, 1:-1].ravel()
        else:
            variances = np.abs(values)
    elif hasattr(obj, "variances"):
        v = obj.variances()
        variances = None if v is None else _float_array(v, desc).ravel(order="F")
    ex, ey = _axis_edges(axes[0], desc), _axis_edges(axes[1], desc)
    if (len(ex) - 1, len(ey) - 1) != (nx, ny):
        raise InvalidMeasurement(
            f"{desc}: {nx} × {ny} values but {len(ex) - 1} × {len(ey) - 1} bins on its axes"
        )
    flow = 0.0
    try:
        full = np.abs(_float_array(obj.values(flow=True), desc))
    except TypeError:  # a plottable without flow support
        full = np.abs(grid)
    inner = np.ones(full.shape, dtype=bool)
    for k, (axis, n) in enumerate(zip(axes, (nx, ny), strict=True)):
        extra = full.shape[k] - n
        traits = getattr(axis, "traits", None)
        under = 1 if extra == 2 or (extra == 1 and bool(getattr(traits, "underflow", False))) else 0
        keep = np.zeros(full.shape[k], dtype=bool)
        keep[under : under + n] = True
        inner &= keep[:, None] if k == 0 else keep[None, :]
    flow = float(full[~inner].sum())
    xname, xlabel = _axis_text(axes[0])
    yname, ylabel = _axis_text(axes[1])
    return _Hist1D(
        desc,
        values,
        variances,
        ex,
        (flow, 0.0),
        xname,
        xlabel,
        _title(obj),
        _uproot_axis_title(obj, "fZaxis"),
        grid=(nx, ny),
        edges_y=ey,
        axis_name_y=yname,
        axis_label_y=ylabel,
    )


def _check_finite(values: NDArray[np.float64], what: str, h: _Hist1D) -> None:
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        i = int(bad[0])
        raise InvalidMeasurement(
            f"{h.desc}: {what} of {h.where(i)} is {values[i]} (NaN or infinite); "
            f"{bad.size} bin(s) affected: {bad[:10].tolist()}"
        )


def _check_bin_errors(h: _Hist1D) -> None:
    """The nominal's own bin errors must be real numbers: a NaN or infinite squared error, or a
    negative one (ROOT's ``GetBinError`` would be NaN), is named with its bin."""
    var = h.variances
    assert var is not None
    bad = np.flatnonzero(~(np.isfinite(var) & (var >= 0)))
    if bad.size:
        i = int(bad[0])
        if var[i] < 0:
            what = f"not a real number: its square (the variance, fSumw2) is negative ({var[i]:g})"
        else:
            what = "NaN" if np.isnan(var[i]) else "infinite"
        more = f"; {bad.size} bins affected: {bad[:10].tolist()}" if bad.size > 1 else ""
        raise InvalidMeasurement(
            f"{h.desc}: the bin error of {h.where(i)} is {what}{more}; fix the histogram or give "
            f"the statistical uncertainties via stat="
        )


def _warn_flow(h: _Hist1D) -> None:
    if h.grid is not None and h.flow[0] != 0:
        log.warning(
            "%s: its under- and overflow cells (|content| %g in all) are ignored (only the "
            "%d × %d regular cells are used)",
            h.desc,
            h.flow[0],
            *h.grid,
        )
        return
    if any(v != 0 for v in h.flow):
        log.warning(
            "%s: underflow %g and overflow %g are ignored (only the %d regular bins are used)",
            h.desc,
            h.flow[0],
            h.flow[1],
            len(h.values),
        )


def _same_edges(a: NDArray[np.float64], b: NDArray[np.float64]) -> bool:
    if a.shape != b.shape:
        return False
    span = max(abs(a[-1] - a[0]), abs(b[-1] - b[0]))
    return bool(np.allclose(a, b, rtol=1e-6, atol=1e-9 * span))


def _fmt_edges(edges: NDArray[np.float64]) -> str:
    shown = ", ".join(f"{e:g}" for e in edges[:8])
    return f"[{shown}{', ...' if len(edges) > 8 else ''}]"


def _check_binning(ref: _Hist1D, h: _Hist1D) -> None:
    n_ref, n = len(ref.values), len(h.values)
    if ref.grid is not None or h.grid is not None:
        _check_binning_2d(ref, h)
        return
    if ref.edges is not None and h.edges is not None:
        if not _same_edges(ref.edges, h.edges):
            raise InvalidMeasurement(
                f"binning of {h.desc} ({n} bins, edges {_fmt_edges(h.edges)}) differs from "
                f"{ref.desc} ({n_ref} bins, edges {_fmt_edges(ref.edges)}); rebin them to "
                f"common edges before building the measurement"
            )
    elif n != n_ref:
        raise InvalidMeasurement(f"{h.desc} has {n} bins but {ref.desc} has {n_ref}")


def _check_binning_2d(ref: _Hist1D, h: _Hist1D) -> None:
    """Two histograms of one measurement where at least one is 2-d: both must be 2-d on the
    same cells (an array of the nominal's cell count is taken as its cells, x inner)."""
    if (
        ref.grid is not None
        and h.grid is None
        and h.edges is None
        and len(h.values) == len(ref.values)
    ):
        return  # a flat array of the cells
    if ref.grid is None or h.grid is None:
        two, one = (ref, h) if ref.grid is not None else (h, ref)
        raise InvalidMeasurement(
            f"{two.desc} is two-dimensional (TH2) but {one.desc} is one-dimensional; give all "
            "histograms of a measurement with the nominal's dimension"
        )
    if h.grid != ref.grid:
        raise InvalidMeasurement(
            f"{h.desc} has {h.grid[0]} × {h.grid[1]} cells but {ref.desc} has "
            f"{ref.grid[0]} × {ref.grid[1]}; give both on the same bins"
        )
    for axis, a, b in (("x", ref.edges, h.edges), ("y", ref.edges_y, h.edges_y)):
        if a is not None and b is not None and not _same_edges(a, b):
            raise InvalidMeasurement(
                f"binning of the {axis} axis of {h.desc} (edges {_fmt_edges(b)}) differs from "
                f"{ref.desc} (edges {_fmt_edges(a)}); rebin them to common edges before "
                "building the measurement"
            )


def _read_matrix(obj: Any, role: str, ref: _Hist1D, file: Any, fname: str) -> NDArray[np.float64]:
    n = len(ref.values)
    if isinstance(obj, np.ndarray | list | tuple):
        desc = f"{role} (array)"
        matrix = _float_array(obj, desc)
        edges: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None
    else:
        obj, desc = _resolve(obj, role, file, fname)
        if hasattr(obj, "GetNbinsX"):  # PyROOT TH2
            if _pyroot_dimension(obj) != 2:
                raise InvalidMeasurement(f"{desc}: expected a two-dimensional histogram (TH2)")
            nx, ny = int(obj.GetNbinsX()), int(obj.GetNbinsY())
            matrix = np.array(
                [[obj.GetBinContent(i, j) for j in range(1, ny + 1)] for i in range(1, nx + 1)],
                dtype=float,
            )
            edges = (_pyroot_edges(obj.GetXaxis(), nx), _pyroot_edges(obj.GetYaxis(), ny))
        elif hasattr(obj, "values") and hasattr(obj, "axes"):
            axes = list(obj.axes)
            if len(axes) != 2:
                raise InvalidMeasurement(
                    f"{desc}: has {len(axes)} axes; a covariance or correlation histogram "
                    f"must be two-dimensional (TH2)"
                )
            matrix = _float_array(obj.values(), desc)
            edges = (_axis_edges(axes[0], desc), _axis_edges(axes[1], desc))
        else:
            raise InvalidMeasurement(
                f"{desc}: expected a TH2, a 2-d hist.Hist or an (n, n) array, "
                f"got {type(obj).__name__}"
            )
    if matrix.shape != (n, n):
        cells = (
            f"{ref.grid[0]} × {ref.grid[1]} = {n} cells (a 2-d nominal: the matrix is indexed by "
            "cell number, x inner)"
            if ref.grid is not None
            else f"{n} bins"
        )
        raise InvalidMeasurement(
            f"{desc} has shape {matrix.shape}, but {ref.desc} has {cells}: expected ({n}, {n})"
        )
    if edges is not None and ref.edges is not None and ref.grid is None:
        for axis, e in zip("xy", edges, strict=True):
            if not _same_edges(e, ref.edges):
                raise InvalidMeasurement(
                    f"binning of the {axis} axis of {desc} (edges {_fmt_edges(e)}) differs from "
                    f"{ref.desc} (edges {_fmt_edges(ref.edges)}); if the matrix is binned by bin "
                    f"number, pass its contents as an array, e.g. {role.replace(' ', '_')}="
                    f"h.values()"
                )
    bad = np.argwhere(~np.isfinite(matrix))
    if bad.size:
        i, j = (int(k) for k in bad[0])
        raise InvalidMeasurement(
            f"{desc}: entry for bins ({i}, {j}) is {matrix[i, j]} (NaN or infinite)"
        )
    return matrix


def _positive_stat(sigma: NDArray[np.float64], nominal: _Hist1D, source: str) -> None:
    for i in map(int, np.flatnonzero(~(sigma > 0))):
        where = f"{nominal.where(i)} of {nominal.desc}"
        if sigma[i] < 0:
            raise InvalidMeasurement(
                f"{where}: negative statistical uncertainty {sigma[i]:g} (from {source})"
            )
        if nominal.values[i] == 0:
            raise InvalidMeasurement(
                f"{where} has zero content and zero statistical uncertainty (from {source}): it "
                f"carries no information and cannot be combined. Remove the bin (rebin, or slice "
                f"the histogram, e.g. h[1:] for hist.Hist) or give its uncertainty via stat="
            )
        raise InvalidMeasurement(
            f"{where} has content {nominal.values[i]:g} but zero statistical uncertainty (from "
            f"{source}); give the statistical uncertainties via stat= or stat_covariance="
        )


def _check_correlation(rho: NDArray[np.float64], role: str) -> None:
    diag = np.diag(rho)
    if np.allclose(diag, 100.0):
        raise InvalidMeasurement(
            f"{role}: the diagonal is 100, the correlation seems to be given in percent; "
            f"pass it as an array divided by 100, e.g. stat_correlation=h.values() / 100"
        )
    if not np.allclose(diag, 1.0, atol=1e-6):
        i = int(np.argmax(np.abs(diag - 1)))
        raise InvalidMeasurement(
            f"{role}: a correlation matrix has 1 on its diagonal, but entry ({i}, {i}) is "
            f"{diag[i]:g}; for a covariance use stat_covariance="
        )


# ---------------------------------------------------------------------- histograms
def _shift(
    spec: Any, side: str, kind: str, nominal: _Hist1D, source: str, file: Any, fname: str
) -> NDArray[np.float64]:
    h = _read_1d(spec, f"systematic {source!r} ({side})", file, fname, allow_array=True)
    _check_binning(nominal, h)
    _check_finite(h.values, "the content", h)
    _warn_flow(h)
    if kind == "variation":
        empty = (h.values == 0) & (nominal.values != 0)
        if np.any(empty):
            log.warning(
                "%s: bins %s are empty where the nominal is not; their shift is -nominal",
                h.desc,
                np.flatnonzero(empty).tolist(),
            )
        return h.values - nominal.values
    if kind == "shift":
        return h.values
    if kind == "fraction":
        return h.values * nominal.values
    return h.values / 100.0 * nominal.values  # percent


def _systematic_shifts(
    systematics: Mapping[str, Any],
    kind: str,
    nominal: _Hist1D,
    file: Any,
    fname: str,
) -> dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]:
    out = {}
    for source, spec in systematics.items():
        if isinstance(spec, Systematic):
            up, down, k = spec.up, spec.down, spec.kind or kind
        elif isinstance(spec, tuple):
            if len(spec) != 2:
                raise InvalidMeasurement(
                    f"systematic {source!r}: give up, (up, down) or "
                    f"Systematic(up, down, kind=...), got a tuple of {len(spec)}"
                )
            up, down, k = spec[0], spec[1], kind
        else:
            up, down, k = spec, None, kind
        if k not in _KINDS:
            raise InvalidMeasurement(
                f"systematic {source!r}: kind must be one of {_KINDS}, not {k!r}"
            )
        u = _shift(up, "up", k, nominal, source, file, fname)
        d = -u if down is None else _shift(down, "down", k, nominal, source, file, fname)
        out[str(source)] = (u, d)
    return out


def _build(
    nominal: _Hist1D,
    name: str,
    sigma: NDArray[np.float64],
    rho: NDArray[np.float64] | None,
    shifts: Mapping[str, tuple[NDArray[np.float64], NDArray[np.float64]]],
    relative: Iterable[str],
    bin_prefix: str | None,
    centers: NDArray[np.float64] | None = None,
) -> DifferentialMeasurement:
    relative = tuple(relative)
    unknown = [r for r in relative if r not in shifts]
    if unknown:
        raise InvalidMeasurement(
            f"measurement {name!r}: relative sources {unknown} are not among its systematics "
            f"{list(shifts)}"
        )
    prefix = f"{name}_bin" if bin_prefix is None else bin_prefix
    bins = tuple(f"{prefix}{i}" for i in range(len(nominal.values)))
    syst = {
        src: {b: (float(u[i]), float(d[i])) for i, b in enumerate(bins)}
        for src, (u, d) in shifts.items()
    }
    measurement = Measurement.from_uncertainties(
        dict(zip(bins, nominal.values.tolist(), strict=True)),
        dict(zip(bins, sigma.tolist(), strict=True)),
        syst,
        stat_correlation=rho,
        relative=relative,
        name=name,
    )
    axis = {"name": nominal.axis_name or "x", "label": nominal.axis_label}
    binning: Binning | Binning2D
    if nominal.grid is not None:
        if nominal.edges is None or nominal.edges_y is None:
            raise InvalidMeasurement(f"{nominal.desc}: a 2-d nominal needs the edges of both axes")
        binning = Binning2D.from_edges(
            nominal.edges,
            nominal.edges_y,
            x=axis,
            y={"name": nominal.axis_name_y or "y", "label": nominal.axis_label_y},
        )
    elif nominal.edges is not None:
        binning = Binning.from_edges(nominal.edges, centers=centers, **axis)
    else:  # points without contiguous bins: the bin numbers, with the points' x as centres
        binning = Binning.from_edges(
            np.arange(len(bins) + 1.0), centers=centers, is_index=True, **axis
        )
    return DifferentialMeasurement(
        measurement,
        binning,
        Quantity(nominal.value_label),
        title=nominal.title,
        origin=nominal.desc,
    )


def measurement_from_histograms(
    nominal: Any,
    *,
    name: str,
    stat: Any = None,
    stat_covariance: Any = None,
    stat_correlation: Any = None,
    systematics: Mapping[str, Any] | None = None,
    relative: Iterable[str] = (),
    kind: Kind = "variation",
    bin_prefix: str | None = None,
    file: Any = None,
) -> DifferentialMeasurement:
    """A measurement of a binned distribution from histograms, one estimate per bin.

    Every histogram argument may be a uproot TH1/TH2, a ``hist.Hist`` (or another UHI-plottable
    histogram), a PyROOT TH1/TH2 (``TH1F``, ``TH1D``, ``TH2D``, ...), or the name of an object in
    ``file``. All must have the nominal's bin edges.

    Parameters
    ----------
    nominal:
        The measured distribution (TH1). Bin ``i`` (from 0) becomes estimate
        ``f"{bin_prefix}{i}"``. Under/overflow is ignored (a warning is logged if non-zero).
    name:
        The measurement's name.
    stat:
        The statistical uncertainty per bin: ``None``/``"errors"`` (default) takes the
        nominal's own bin errors (√variances); a histogram gives it as its bin *contents*
        (absolute, like HEPData's ``..._e1`` histograms); an array gives it directly.
    stat_covariance:
        Statistical covariance of the bins: a TH2 (both axes binned like the nominal) or an
        ``(n, n)`` array. Replaces ``stat``.
    stat_correlation:
        Statistical correlation of the bins (TH2 or array, 1 on the diagonal), combined with
        the uncertainties from ``stat``.
    systematics:
        ``{source: spec}`` with ``spec`` one of ``up`` (symmetric: the down shift is minus the
        up shift), ``(up, down)`` (a tuple) or :class:`Systematic` ``(up, down, kind=...)``.
    kind:
        What the systematic histograms contain (per source overridable via
        :class:`Systematic`):

        * ``"variation"``: the distribution measured with the ±1σ variation; shift =
          ``up - nominal`` (``down - nominal``);
        * ``"shift"``: the signed shift itself (down histograms hold negative numbers for a
          variation that lowers the result, e.g. HEPData's ``..._minus``);
        * ``"fraction"``: the signed shift relative to the nominal (0.03 = +3 %);
        * ``"percent"``: the same in percent (3 = +3 %).
    relative:
        Sources whose shifts scale with the *combined* value (independent of ``kind``, which
        only says how the file stores the numbers).
    bin_prefix:
        Prefix of the estimate names (default ``f"{name}_bin"``).
    file:
        Where string arguments are looked up: a path, an open uproot file or directory, or a
        PyROOT ``TFile``/``TDirectory``.

    Raises
    ------
    InvalidMeasurement
        Mismatched binning (names both histograms), NaN/infinite content or a NaN/negative bin
        error (names histogram and bin), a non-positive statistical uncertainty (names the bin;
        a bin with zero content and zero error carries no information and has to be removed),
        a file that cannot be read (one line naming file and object).
    UnknownName
        An object name that is not in ``file``.
    """
    if kind not in _KINDS:
        raise InvalidMeasurement(
            f"measurement {name!r}: kind must be one of {_KINDS}, not {kind!r}"
        )
    if stat_covariance is not None and (stat is not None or stat_correlation is not None):
        raise InvalidMeasurement(
            f"measurement {name!r}: stat_covariance already contains the statistical "
            f"uncertainties; do not give stat= or stat_correlation= with it"
        )
    with _opened(file) as (f, fname):
        nom = _read_1d(nominal, "nominal", f, fname, allow_array=False)
        _check_finite(nom.values, "the content", nom)
        _warn_flow(nom)
        rho = None
        if stat_covariance is not None:
            cov = _read_matrix(stat_covariance, "stat covariance", nom, f, fname)
            diag = np.diag(cov).copy()
            _positive_stat(diag, nom, "the diagonal of stat_covariance")
            sigma = np.sqrt(diag)
            rho = cov / np.outer(sigma, sigma)
        elif stat is None or (isinstance(stat, str) and stat == "errors"):
            if nom.variances is None:
                raise InvalidMeasurement(
                    f"{nom.desc} carries no variances (a histogram storage without them); "
                    f"give stat= or use a Weight() storage"
                )
            _check_bin_errors(nom)
            sigma = np.sqrt(nom.variances)
            _positive_stat(sigma, nom, "the nominal's bin errors")
        else:
            h = _read_1d(stat, "stat uncertainty", f, fname, allow_array=True)
            _check_binning(nom, h)
            _check_finite(h.values, "the content", h)
            sigma = h.values
            _positive_stat(sigma, nom, h.desc)
        if stat_correlation is not None:
            rho = _read_matrix(stat_correlation, "stat correlation", nom, f, fname)
            _check_correlation(rho, "stat correlation")
        shifts = _systematic_shifts(systematics or {}, kind, nom, f, fname)
    return _build(nom, name, sigma, rho, shifts, relative, bin_prefix)


# ---------------------------------------------------------------------- graphs
def _is_graph(obj: Any) -> bool:
    if hasattr(obj, "GetN"):  # PyROOT TGraph*
        return True
    classname = getattr(obj, "classname", None)
    if isinstance(classname, str):
        return classname.startswith("TGraph")
    return callable(getattr(obj, "errors", None)) and not hasattr(obj, "axes")


def _read_graph(obj: Any, role: str, file: Any, fname: str) -> _Graph:
    obj, desc = _resolve(obj, role, file, fname)
    if not _is_graph(obj):
        raise InvalidMeasurement(
            f"{desc}: expected a TGraphAsymmErrors or TGraphErrors, got {type(obj).__name__}"
        )
    if hasattr(obj, "GetN"):  # PyROOT: TGraphErrors also answers GetErrorYlow/GetErrorYhigh
        n = int(obj.GetN())
        idx = range(n)
        px: list[Any]
        py: list[Any]
        if hasattr(obj, "GetPointX"):
            px = [obj.GetPointX(i) for i in idx]
            py = [obj.GetPointY(i) for i in idx]
        else:
            xs, ys = obj.GetX(), obj.GetY()
            px, py = [xs[i] for i in idx], [ys[i] for i in idx]
        arrays: list[Any] = [
            px,
            py,
            [obj.GetErrorXlow(i) for i in idx],
            [obj.GetErrorXhigh(i) for i in idx],
            [obj.GetErrorYlow(i) for i in idx],
            [obj.GetErrorYhigh(i) for i in idx],
        ]
        axis_label = str(obj.GetXaxis().GetTitle()) if hasattr(obj, "GetXaxis") else ""
        y_label = str(obj.GetYaxis().GetTitle()) if hasattr(obj, "GetYaxis") else ""
    elif callable(getattr(obj, "errors", None)):  # uproot TGraphAsymmErrors (or alike)
        arrays = [
            obj.values(axis="x"),
            obj.values(axis="y"),
            obj.errors("low", axis="x"),
            obj.errors("high", axis="x"),
            obj.errors("low", axis="y"),
            obj.errors("high", axis="y"),
        ]
        axis_label = y_label = ""
    else:  # uproot TGraphErrors has no behaviour methods: read its members
        try:
            ex, ey = obj.member("fEX"), obj.member("fEY")
        except Exception as exc:
            raise InvalidMeasurement(
                f"{desc}: a graph without y errors ({getattr(obj, 'classname', '')}); the "
                f"statistical uncertainty cannot be taken from it"
            ) from exc
        arrays = [obj.member("fX"), obj.member("fY"), ex, ex, ey, ey]
        axis_label = y_label = ""
    if hasattr(obj, "member"):  # uproot: the frame histogram's axis titles, else "title;x;y"
        frame = _uproot_member(obj, "fHistogram")
        parts = str(_uproot_member(obj, "fTitle") or "").split(";")
        axis_label = _uproot_axis_title(frame, "fXaxis") or (parts[1] if len(parts) > 1 else "")
        y_label = _uproot_axis_title(frame, "fYaxis") or (parts[2] if len(parts) > 2 else "")
    x, y, exl, exh, eyl, eyh = (_float_array(a, desc) for a in arrays)
    title = _title(obj).split(";")[0]
    graph = _Graph(desc, x, y, exl, exh, eyl, eyh, axis_label, title, y_label)
    for what, values in (("x", x), ("y", y), ("low y error", eyl), ("high y error", eyh)):
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise InvalidMeasurement(
                f"{desc}: the {what} of point {int(bad[0])} is {values[bad[0]]} (NaN or infinite)"
            )
        if what.endswith("error") and np.any(values < 0):
            i = int(np.flatnonzero(values < 0)[0])
            raise InvalidMeasurement(
                f"{desc}: the {what} of point {i} is negative ({values[i]:g}); a graph without "
                f"errors (ROOT returns -1) cannot give uncertainties"
            )
    return graph


def _graph_edges(g: _Graph) -> NDArray[np.float64] | None:
    low, high = g.x - g.exl, g.x + g.exh
    span = float(high.max() - low.min()) if len(low) else 0.0
    contiguous = (
        len(low) > 0
        and np.all(high > low)
        and np.allclose(high[:-1], low[1:], rtol=1e-6, atol=1e-9 * span)
    )
    if not contiguous:
        log.info(
            "%s: the x errors do not describe contiguous bins; only the points' x values are kept",
            g.desc,
        )
        return None
    return np.concatenate([low, high[-1:]])


def measurement_from_graph(
    graph: Any,
    *,
    name: str,
    errors: Literal["stat", "total", "syst"] = "stat",
    stat: Any = None,
    stat_correlation: Any = None,
    error_source: str | None = None,
    error_source_correlated: bool = True,
    systematics: Mapping[str, Any] | None = None,
    relative: Iterable[str] = (),
    kind: Kind = "variation",
    bin_prefix: str | None = None,
    file: Any = None,
) -> DifferentialMeasurement:
    """A measurement of a binned distribution from a TGraphAsymmErrors or TGraphErrors.

    Each point ``i`` (from 0) becomes estimate ``f"{bin_prefix}{i}"``. If the x errors describe
    contiguous bins (``x_i + exhigh_i = x_{i+1} - exlow_{i+1}``, as in HEPData's graphs) they
    give the bin edges; otherwise only the points' x values are kept (``edges=None``).

    How the graph's y errors enter (``errors``):

    * ``"stat"`` (default): they are the statistical uncertainty. An asymmetric one is
      symmetrised as (low + high)/2 (the statistical part of the χ² is Gaussian); ``stat``
      must not be given.
    * ``"total"``: they are the total uncertainty; ``stat`` gives the statistical part, and
      what remains in quadrature, √(high² − stat²) up and √(low² − stat²) down, becomes one
      asymmetric orthogonal source ``error_source`` with shifts ``(+up, −down)``.
    * ``"syst"``: they are the systematic part only and form that source directly;
      ``stat`` gives the statistical uncertainty.

    ``error_source`` defaults to ``f"{name}_syst"``. With ``error_source_correlated=True``
    (default) it is one source for all bins, i.e. 100 % correlated between bins (all bins move
    up together); with ``False`` each bin gets its own source ``f"{error_source}_bin{i}"``
    (uncorrelated between bins). The graph does not say which is right; choose consciously.

    ``stat`` may be an array, a histogram (its bin *contents*), or a graph (its y errors,
    symmetrised). ``stat_correlation``, ``systematics``, ``kind``, ``relative``, ``bin_prefix``
    and ``file`` are as in :func:`measurement_from_histograms`; systematic histograms must have
    the graph's bin edges (arrays: the number of points).
    """
    if errors not in ("stat", "total", "syst"):
        raise InvalidMeasurement(
            f"measurement {name!r}: errors must be 'stat', 'total' or 'syst', not {errors!r}"
        )
    if kind not in _KINDS:
        raise InvalidMeasurement(
            f"measurement {name!r}: kind must be one of {_KINDS}, not {kind!r}"
        )
    if errors == "stat" and stat is not None:
        raise InvalidMeasurement(
            f"measurement {name!r}: with errors='stat' the graph's errors are the statistical "
            f"uncertainty; give stat= only with errors='total' or errors='syst'"
        )
    if errors != "stat" and stat is None:
        raise InvalidMeasurement(
            f"measurement {name!r}: with errors={errors!r} the statistical uncertainty must be "
            f"given via stat="
        )
    with _opened(file) as (f, fname):
        g = _read_graph(graph, "graph", f, fname)
        edges = _graph_edges(g)
        nom = _Hist1D(
            g.desc, g.y, None, edges, (0.0, 0.0), "", g.axis_label, g.title, g.value_label
        )
        if errors == "stat":
            sigma = 0.5 * (g.eyl + g.eyh)
            if not np.allclose(g.eyl, g.eyh, rtol=1e-9, atol=0):
                worst = int(np.argmax(np.abs(g.eyh - g.eyl)))
                log.info(
                    "%s: asymmetric statistical errors are symmetrised as (low + high)/2; "
                    "largest asymmetry at point %d: -%g/+%g",
                    g.desc,
                    worst,
                    g.eyl[worst],
                    g.eyh[worst],
                )
            _positive_stat(sigma, nom, "the graph's y errors")
        else:
            obj, desc = stat, "stat uncertainty"
            if isinstance(obj, str) and f is not None:
                obj, desc = _resolve(obj, desc, f, fname)
            if _is_graph(obj):
                sg = _read_graph(obj, "stat uncertainty", f, fname)
                if len(sg.y) != len(g.y):
                    raise InvalidMeasurement(
                        f"{sg.desc} has {len(sg.y)} points but {g.desc} has {len(g.y)}"
                    )
                sigma = 0.5 * (sg.eyl + sg.eyh)
            else:
                h = _read_1d(obj, desc, f, fname, allow_array=True)
                _check_binning(nom, h)
                _check_finite(h.values, "the content", h)
                sigma = h.values
            _positive_stat(sigma, nom, "stat=")
        rho = None
        if stat_correlation is not None:
            rho = _read_matrix(stat_correlation, "stat correlation", nom, f, fname)
            _check_correlation(rho, "stat correlation")
        shifts = {}
        if errors != "stat":
            up, down = g.eyh, g.eyl
            if errors == "total":
                tol = 1e-9 * np.maximum(sigma, 1e-300)
                for side, e in (("high", g.eyh), ("low", g.eyl)):
                    too_big = np.flatnonzero(sigma > e + tol)
                    if too_big.size:
                        i = int(too_big[0])
                        raise InvalidMeasurement(
                            f"{g.desc}: point {i}: the statistical uncertainty {sigma[i]:g} "
                            f"exceeds the graph's total {side} error {e[i]:g}; are the graph's "
                            f"errors the systematic part only (errors='syst')?"
                        )
                up = np.sqrt(np.clip(g.eyh**2 - sigma**2, 0.0, None))
                down = np.sqrt(np.clip(g.eyl**2 - sigma**2, 0.0, None))
            source = error_source or f"{name}_syst"
            if error_source_correlated:
                shifts[source] = (up, -down)
            else:
                for i in range(len(g.y)):
                    mask = np.arange(len(g.y)) == i
                    shifts[f"{source}_bin{i}"] = (
                        np.where(mask, up, 0.0),
                        np.where(mask, -down, 0.0),
                    )
        extra = _systematic_shifts(systematics or {}, kind, nom, f, fname)
        clash = set(extra) & set(shifts)
        if clash:
            raise InvalidMeasurement(
                f"measurement {name!r}: systematics {sorted(clash)} clash with the source made "
                f"from the graph's errors; choose another error_source="
            )
        shifts.update(extra)
    return _build(nom, name, sigma, rho, shifts, relative, bin_prefix, centers=g.x.copy())


# ---------------------------------------------------------------------- several measurements
def differential_observables(
    *measurements: DifferentialMeasurement, prefix: str = "bin"
) -> dict[str, list[str]]:
    """The observables mapping for several measurements of the same binned distribution.

    Returns ``{f"{prefix}{i}": [f"{m.name}:{m.bin_names[i]}", ...]}``: bin ``i`` of every
    measurement is mapped to combined quantity ``f"{prefix}{i}"``.

    Raises
    ------
    InvalidMeasurement
        If the binnings differ (the message names both histograms) or a measurement has no
        name or a name used twice.
    """
    if not measurements:
        raise InvalidMeasurement("differential_observables needs at least one measurement")
    names = [m.name for m in measurements]
    if any(not n for n in names) or len(set(names)) != len(names):
        raise InvalidMeasurement(
            f"differential_observables: every measurement needs its own name, got {names}"
        )
    ref = measurements[0]
    _check_dimensions(measurements)
    for m in measurements[1:]:
        if isinstance(ref.binning, Binning2D):
            if not ref.binning.same_bins(m.binning):
                raise InvalidMeasurement(
                    f"measurements {m.name!r} ({m.origin}) and {ref.name!r} ({ref.origin}) have "
                    f"different 2-d binnings: {m.binning.describe()} vs "
                    f"{ref.binning.describe()}; combine them in different binnings with "
                    "binning={'match': 'coarsest'} (or 'finest', or 'edges': {'x': [...], "
                    "'y': [...]})"
                )
            continue
        if m.edges is not None and ref.edges is not None:
            same = _same_edges(m.edges, ref.edges)
            what = "edges", m.edges, ref.edges
        else:
            same = m.centers.shape == ref.centers.shape and _same_edges(m.centers, ref.centers)
            what = "bin centres", m.centers, ref.centers
        if not same:
            raise InvalidMeasurement(
                f"measurements {m.name!r} ({m.origin}) and {ref.name!r} ({ref.origin}) have "
                f"different binning: {m.n_bins} bins with {what[0]} {_fmt_edges(what[1])} vs "
                f"{ref.n_bins} bins with {_fmt_edges(what[2])}; map the bins with an explicit "
                f"observables mapping or rebin"
            )
    return {
        f"{prefix}{i}": [f"{m.name}:{m.bin_names[i]}" for m in measurements]
        for i in range(ref.n_bins)
    }


def _check_dimensions(measurements: Sequence[DifferentialMeasurement]) -> None:
    """All 1-d or all 2-d: a named error for a mixture."""
    two = [m for m in measurements if isinstance(m.binning, Binning2D)]
    one = [m for m in measurements if not isinstance(m.binning, Binning2D)]
    if two and one:
        a, b = two[0], one[0]
        raise InvalidMeasurement(
            f"measurement {a.name!r} ({a.origin}) is two-dimensional ({a.binning.describe()}) "
            f"but {b.name!r} ({b.origin}) is one-dimensional; a differential combination "
            "combines measurements of one distribution, all 1-d or all 2-d"
        )


def differential_spec(
    measurements: Sequence[DifferentialMeasurement],
    correlations: Mapping[tuple[Ref, Ref], float] | None = None,
    *,
    chi2: Literal["neyman", "pearson"] | None = None,
    impacts: Mapping[str, Sequence[str]] | None = None,
    normalise: bool = False,
    binning: Mapping[str, Any] | None = None,
    content: str | Mapping[str, str] = "density",
) -> CombinationSpec:
    """The specification of the bin-by-bin combination of measurements of one distribution.

    The bins are matched with :func:`differential_observables` (an error names two measurements
    whose binning differs) and called ``bin0, bin1, ...``; the measurements are named by their
    ``.name`` (refer to sources as ``"name:source"`` in ``correlations``). The binning is the
    first measurement's; the quantity is what they say (:func:`~hepcombine.inputs._bins.common_quantity`:
    units that differ are an error). ``impacts`` are source groups for the breakdown, as in
    :attr:`CombinationSpec.impacts <hepcombine.spec.CombinationSpec.impacts>`.

    Measurements in different binnings: ``binning={"match": "coarsest" | "finest"}`` or
    ``binning={"edges": [...]}`` (and ``"unmeasured": "sum"``) chooses the combined bins by
    :func:`hepcombine.rebinning.rebin`: finer measurements merged, coarser bins measuring sums
    of combined bins; ``content`` (``"density"`` or ``"per_bin"``, or per measurement name)
    says how bins merge.
    """
    measurements = list(measurements)
    for i, m in enumerate(measurements):
        if not isinstance(m, DifferentialMeasurement):
            raise InvalidMeasurement(
                f"input {i} is a {type(m).__name__}, not a DifferentialMeasurement (build it "
                f"with measurement_from_histograms or measurement_from_graph)"
            )
    first = measurements[0]
    parts: dict[str, Any]
    if binning:
        parts = _rebinned_parts(measurements, binning, content)
    else:
        parts = {
            "measurements": {str(m.name): m.measurement for m in measurements},
            "observables": differential_observables(*measurements),
            "binning": first.binning,
        }
        for m in measurements[1:]:
            if m.axis_label != first.axis_label:
                log.info(
                    "axis labels differ (%r of %r, %r of %r); the first one is used",
                    m.axis_label,
                    m.name,
                    first.axis_label,
                    first.name,
                )
    return CombinationSpec(
        correlations=dict(correlations or {}),  # type: ignore[arg-type]
        impacts={g: list(refs) for g, refs in (impacts or {}).items()},
        differential=True,
        normalise=normalise,
        chi2=chi2,
        source=", ".join(m.origin or str(m.name) for m in measurements),
        format="histograms",
        quantity=common_quantity([(str(m.name), m.quantity) for m in measurements]),
        **parts,
    )


def _rebinned_parts(
    measurements: Sequence[DifferentialMeasurement],
    binning: Mapping[str, Any],
    content: str | Mapping[str, str],
) -> dict[str, Any]:
    """The measurements, observables, binning, linear quantities and distributions of
    measurements in different binnings (:func:`hepcombine.rebinning.rebin`)."""
    from ..rebinning import rebin

    options = dict(binning)
    unknown = [k for k in options if k not in ("match", "edges", "unmeasured")]
    if unknown:
        raise InvalidArgument(
            f"binning: unknown keys {unknown}; give 'match', 'edges' or 'unmeasured'"
        )
    names = [str(m.name) for m in measurements]
    if any(not n for n in names) or len(set(names)) != len(names):
        raise InvalidMeasurement(f"every measurement needs its own name, got {names}")
    given = dict(zip(names, measurements, strict=True))
    r = rebin(
        given,
        match=options.get("match", "edges" if "edges" in options else "coarsest"),
        edges=options.get("edges"),
        content=content,
        unmeasured=options.get("unmeasured", "error"),
    )
    return {
        "measurements": r.measurements,
        "observables": r.observables,
        "binning": r.binning,
        "linear": dict(r.linear),
        "distributions": given,
    }


def combine_differential(
    measurements: Sequence[DifferentialMeasurement],
    correlations: Mapping[tuple[Ref, Ref], float] | None = None,
    chi2: Literal["neyman", "pearson"] = "neyman",
    *,
    intervals: bool = True,
    binning: Mapping[str, Any] | None = None,
    content: str | Mapping[str, str] = "density",
    **combiner_kwargs: Any,
) -> DifferentialResult:
    """Combine measurements of the same binned distribution, bin by bin.

    The specification is :func:`differential_spec` (bins matched by their binning — an error
    names two measurements whose binning differs — and called ``bin0, bin1, ...``; the
    measurements named by their ``.name``, so refer to sources as ``"name:source"`` in
    ``correlations``), combined by its :meth:`~hepcombine.spec.CombinationSpec.combiner`.
    ``combiner_kwargs`` (``groups``, ``asymmetry``, ``repair``) go to the combiner;
    ``intervals`` to its ``combine``. The binning, title and quantity are those of the first
    measurement. ``binning`` and ``content``: measurements in different binnings, as for
    :func:`differential_spec`; the result has the combined bins.
    """
    from ..differential import DifferentialResult

    measurements = list(measurements)
    spec = differential_spec(
        measurements, correlations, chi2=chi2, binning=binning, content=content
    )
    result = spec.combiner(**combiner_kwargs).combine(intervals=intervals)
    assert spec.binning is not None
    return DifferentialResult(
        result,
        tuple(spec.observables),
        spec.binning,
        measurements[0].title,
        spec.quantity if spec.quantity is not None else Quantity(),
    )


def __dir__() -> list[str]:
    return list(__all__)
