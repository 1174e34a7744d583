"""ROOT output with uproot, including ``TGraphAsymmErrors`` and ``TGraphErrors``.

:func:`write_root` writes a mapping of names to objects into a ROOT file, atomically (through
:mod:`hepcombine.outputs.atomic`: on any error nothing is left at the target and an existing
file there is untouched). :func:`differential_objects` and :func:`result_objects` are the
objects of a combined distribution and of any combination; :func:`root_key` makes names safe
as ROOT keys.

Supported objects:

* ``hist.Hist`` / ``boost_histogram.Histogram`` (and other PlottableHistogram objects) with one or
  two axes and a counting storage become ``TH1D`` / ``TH2D``. Bin edges (also variable ones), the
  histogram title (``label``, else ``name``), axis titles (axis ``label``), category labels and
  flow bins are kept. A ``Weight`` storage (or any histogram whose variances differ from its
  values) is written with ``fSumw2``, so ROOT's ``GetBinError`` is ``sqrt(variance)``; otherwise
  ROOT uses ``sqrt(content)`` as for any unweighted histogram.
* :class:`GraphAsymmErrors` becomes ``TGraphAsymmErrors`` (class version 3) and
  :class:`GraphErrors` becomes ``TGraphErrors`` (class version 3), on top of ``TGraph`` v4;
  :class:`Graph` (points only, e.g. a contour) becomes a plain ``TGraph`` v4. uproot
  can read these classes but (as of 5.7) raises ``NotImplementedError`` when asked to write them;
  the serialisation here is implemented on uproot's model classes, so
  ``uproot.WritableDirectory.__setitem__`` accepts the objects and writes the streamer information
  uproot carries for these classes. The byte layout follows what ROOT writes for an undrawn graph
  (``fFunctions`` an empty ``TList``, ``fHistogram`` null, ``fMinimum = fMaximum = -1111``, the
  attribute defaults of ``TGraph``'s constructor and the ``kClipFrame`` bit). If axis titles are
  given, an ``fHistogram`` (``TH1F``, 100 bins) carries them, with the frame ROOT's
  ``TGraph::GetHistogram`` would compute, as ROOT stores a graph's axis titles.

The key of each object is its name in the file; a name (or ``directory``) containing ``/`` is
written into nested ``TDirectory`` objects.

Tested with uproot 5.7.7 (see :data:`TESTED_UPROOT_VERSIONS`). The ``TGraphAsymmErrors`` layout
and streamer information were compared with a file written by ROOT 6.22/02 (``full.root`` in the
test suite of the ``hepdata-converter`` package on PyPI): the serialised graph is byte-identical
to ROOT's when built from the same content, and the streamer records (class versions, checksums,
members and their types) are the same. No ROOT-written ``TGraphErrors`` was available; its
streamer record (uproot's) has the members of ROOT's ``TGraphErrors.h`` and the checksum that
ROOT's ``TStreamerInfo::GetCheckSum`` algorithm gives for them (the test suite checks that
algorithm against ROOT's own records).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..exceptions import IntervalError, InvalidArgument, OutputError
from .atomic import output_set

if TYPE_CHECKING:
    from ..differential import DifferentialResult
    from ..result import CombinationResult

__all__ = [
    "TESTED_UPROOT_VERSIONS",
    "Graph",
    "GraphAsymmErrors",
    "GraphErrors",
    "differential_objects",
    "result_objects",
    "root_key",
    "write_root",
]

log = logging.getLogger(__name__)

#: uproot versions the ROOT output of this module was tested with.
TESTED_UPROOT_VERSIONS = ("5.7.7",)

# TObject bits as ROOT sets them (TObject.h, TGraph.h, TH1.h)
_K_IS_ON_HEAP = 0x01000000
_K_NOT_DELETED = 0x02000000
_K_CLIP_FRAME = 1 << 10  # TGraph::kClipFrame, set by TGraph's constructors
_K_NO_STATS = 1 << 9  # TH1::kNoStats, set on a graph's fHistogram
_K_BYTE_COUNT_MASK = 0x40000000
_K_NEW_CLASS_TAG = 0xFFFFFFFF
_DEFAULT_LIMIT = -1111.0  # ROOT's "unset" fMinimum / fMaximum


# --------------------------------------------------------------------------------------------
# graph data classes
# --------------------------------------------------------------------------------------------


def _as_points(cls_name: str, title: str, arrays: dict[str, Any], errors: tuple[str, ...]):
    out = {}
    n = None
    for key, value in arrays.items():
        try:
            arr = np.array(value, dtype=np.float64)
        except (TypeError, ValueError) as err:
            raise OutputError(
                f"{cls_name} {title!r}: {key} is not an array of numbers ({err})"
            ) from None
        if arr.ndim != 1:
            raise OutputError(
                f"{cls_name} {title!r}: {key} must be one-dimensional, has shape {arr.shape}"
            )
        if n is None:
            n = len(arr)
        elif len(arr) != n:
            raise OutputError(
                f"{cls_name} {title!r}: {key} has {len(arr)} points, x has {n}; all arrays "
                "must have the same length"
            )
        if not np.all(np.isfinite(arr)):
            raise OutputError(
                f"{cls_name} {title!r}: {key} contains NaN or infinite values at points "
                f"{np.flatnonzero(~np.isfinite(arr)).tolist()}"
            )
        if key in errors and np.any(arr < 0):
            raise OutputError(
                f"{cls_name} {title!r}: {key} must be >= 0, is negative at points "
                f"{np.flatnonzero(arr < 0).tolist()}"
            )
        arr.flags.writeable = False
        out[key] = arr
    return out


@dataclass(frozen=True, eq=False)
class GraphAsymmErrors:
    """Points with asymmetric errors, written as ROOT's ``TGraphAsymmErrors``.

    All six arrays are one-dimensional with one entry per point; errors are non-negative
    distances from the point (``y - yerr_low`` is the lower end of the interval). The object's
    name in the file is its key in the mapping given to :func:`write_root`. ``x_title`` and
    ``y_title`` become the axis titles ROOT draws.
    """

    x: Any
    y: Any
    xerr_low: Any
    xerr_high: Any
    yerr_low: Any
    yerr_high: Any
    title: str = ""
    x_title: str = ""
    y_title: str = ""

    def __post_init__(self) -> None:
        arrays = _as_points(
            type(self).__name__,
            self.title,
            {
                "x": self.x,
                "y": self.y,
                "xerr_low": self.xerr_low,
                "xerr_high": self.xerr_high,
                "yerr_low": self.yerr_low,
                "yerr_high": self.yerr_high,
            },
            errors=("xerr_low", "xerr_high", "yerr_low", "yerr_high"),
        )
        for key, value in arrays.items():
            object.__setattr__(self, key, value)

    def _range(self) -> tuple[float, float, float, float]:
        # TGraphAsymmErrors::ComputeRange (linear axes)
        return _error_range(
            self.x, self.y, self.xerr_low, self.xerr_high, self.yerr_low, self.yerr_high
        )


@dataclass(frozen=True, eq=False)
class GraphErrors:
    """Points with symmetric errors, written as ROOT's ``TGraphErrors``.

    See :class:`GraphAsymmErrors`; here ``xerr`` and ``yerr`` are the symmetric errors.
    """

    x: Any
    y: Any
    xerr: Any
    yerr: Any
    title: str = ""
    x_title: str = ""
    y_title: str = ""

    def __post_init__(self) -> None:
        arrays = _as_points(
            type(self).__name__,
            self.title,
            {"x": self.x, "y": self.y, "xerr": self.xerr, "yerr": self.yerr},
            errors=("xerr", "yerr"),
        )
        for key, value in arrays.items():
            object.__setattr__(self, key, value)

    def _range(self) -> tuple[float, float, float, float]:
        # TGraphErrors::ComputeRange (linear axes)
        return _error_range(self.x, self.y, self.xerr, self.xerr, self.yerr, self.yerr)


@dataclass(frozen=True, eq=False)
class Graph:
    """Points without errors (e.g. a contour), written as ROOT's plain ``TGraph``.

    See :class:`GraphAsymmErrors`; ``x`` and ``y`` are the points.
    """

    x: Any
    y: Any
    title: str = ""
    x_title: str = ""
    y_title: str = ""

    def __post_init__(self) -> None:
        arrays = _as_points(type(self).__name__, self.title, {"x": self.x, "y": self.y}, ())
        for key, value in arrays.items():
            object.__setattr__(self, key, value)

    def _range(self) -> tuple[float, float, float, float]:
        # TGraph::ComputeRange (linear axes)
        zero = np.zeros(len(self.x))
        return _error_range(self.x, self.y, zero, zero, zero, zero)


def _error_range(x, y, xlo, xhi, ylo, yhi) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) of points with errors, as ROOT's ComputeRange (linear axes)."""
    if len(x) == 0:
        return (0.0, 0.0, 0.0, 0.0)
    return (
        float(min(x.min(), (x - xlo).min())),
        float(min(y.min(), (y - ylo).min())),
        float(max(x.max(), (x + xhi).max())),
        float(max(y.max(), (y + yhi).max())),
    )


# --------------------------------------------------------------------------------------------
# uproot models for TGraph, TGraphErrors, TGraphAsymmErrors
# --------------------------------------------------------------------------------------------


def _write_object_any(out: list, model, flags: int) -> None:
    """Append ``model`` as a pointer to an object (ROOT's ``WriteObjectAny``): byte count, new
    class tag, class name, then the object; a null pointer is four zero bytes."""
    if model is None:
        out.append(b"\x00\x00\x00\x00")
        return
    where = len(out)
    model._serialize(out, True, None, np.uint32(flags))
    classname = model.classname.encode() + b"\x00"
    num_bytes = sum(len(x) for x in out[where:]) + 4 + len(classname)
    out.insert(
        where, struct.pack(">II", num_bytes | _K_BYTE_COUNT_MASK, _K_NEW_CLASS_TAG) + classname
    )


@functools.cache
def _graph_models() -> dict[str, Any]:
    """Writable subclasses of uproot's graph models (created on first use: uproot is imported
    lazily). Their class names are uproot's, so that ``classname`` and ``class_version`` (which
    uproot derives from the Python class name) are ``TGraph`` v4 etc."""
    import uproot.models.TGraph
    import uproot.models.TNamed
    import uproot.serialization

    def header(out: list, where: int, version: int) -> None:
        num_bytes = sum(len(x) for x in out[where:])
        out.insert(where, uproot.serialization.numbytes_version(num_bytes, version))

    def arrays(out: list, members: dict, names: tuple[str, ...]) -> None:
        for key in names:
            out.append(b"\x01")  # "speed bump" before a basic-type array behind a pointer
            out.append(np.asarray(members[key], dtype=">f8").tobytes())

    class Model_TGraph_v4(uproot.models.TGraph.Model_TGraph_v4):
        _deeply_writable = True

        def _serialize(self, out, header_, name, tobject_flags):
            where = len(out)
            tnamed, *attributes = self._bases
            tnamed._serialize(out, True, name, tobject_flags | _K_CLIP_FRAME)
            for base in attributes:
                base._serialize(out, True, None, tobject_flags)
            out.append(struct.pack(">i", self._members["fNpoints"]))
            arrays(out, self._members, ("fX", "fY"))
            _write_object_any(out, self._members["fFunctions"], _K_IS_ON_HEAP | _K_NOT_DELETED)
            _write_object_any(out, self._members["fHistogram"], 0)
            out.append(struct.pack(">dd", self._members["fMinimum"], self._members["fMaximum"]))
            if header_:
                header(out, where, 4)

    class Model_TGraphErrors_v3(uproot.models.TGraph.Model_TGraphErrors_v3):
        _deeply_writable = True

        def _serialize(self, out, header_, name, tobject_flags):
            where = len(out)
            self._bases[0]._serialize(out, True, name, tobject_flags)
            arrays(out, self._members, ("fEX", "fEY"))
            if header_:
                header(out, where, 3)

    class Model_TGraphAsymmErrors_v3(uproot.models.TGraph.Model_TGraphAsymmErrors_v3):
        _deeply_writable = True

        def _serialize(self, out, header_, name, tobject_flags):
            where = len(out)
            self._bases[0]._serialize(out, True, name, tobject_flags)
            arrays(out, self._members, ("fEXlow", "fEXhigh", "fEYlow", "fEYhigh"))
            if header_:
                header(out, where, 3)

    class Model_TNamed(uproot.models.TNamed.Model_TNamed):
        """A TNamed with extra TObject bits (TH1::kNoStats of a graph's fHistogram)."""

        _deeply_writable = True
        extra_bits = _K_NO_STATS

        def _serialize(self, out, header_, name, tobject_flags):
            super()._serialize(out, header_, name, tobject_flags | self.extra_bits)

    return {
        "TNamed_NoStats": Model_TNamed,
        "TGraph": Model_TGraph_v4,
        "TGraphErrors": Model_TGraphErrors_v3,
        "TGraphAsymmErrors": Model_TGraphAsymmErrors_v3,
    }


def _frame_histogram(name: str, graph: GraphAsymmErrors | GraphErrors | Graph):
    """The ``TH1F`` that ``TGraph::GetHistogram`` creates (without a pad, linear axes), which is
    where ROOT keeps a graph's axis titles."""
    import uproot.writing.identify as identify

    models = _graph_models()
    xmin, ymin, xmax, ymax = graph._range()
    if xmin == xmax:
        xmax += 1.0
    if ymin == ymax:
        ymax += 1.0
    dx = 0.1 * (xmax - xmin)
    dy = 0.1 * (ymax - ymin)
    uxmin, uxmax = xmin - dx, xmax + dx
    minimum, maximum = ymin - dy, ymax + dy
    if uxmin < 0 and xmin >= 0:
        uxmin = 0.0
    if uxmax > 0 and xmax <= 0:
        uxmax = 0.0
    if minimum < 0 and ymin >= 0:
        minimum = 0.9 * ymin
    nbins = max(100, len(graph.x))
    th1f = identify.to_TH1x(
        fName=name or "Graph",
        fTitle=graph.title,
        data=np.zeros(nbins + 2, dtype=np.float32),
        fEntries=0.0,
        fTsumw=0.0,
        fTsumw2=0.0,
        fTsumwx=0.0,
        fTsumwx2=0.0,
        fSumw2=None,
        fXaxis=identify.to_TAxis("xaxis", graph.x_title, nbins, uxmin, uxmax),
        # ROOT 6's default style draws the y title with an automatic offset (0)
        fYaxis=identify.to_TAxis("yaxis", graph.y_title, 1, minimum, maximum, fTitleOffset=0.0),
        fMinimum=minimum,
        fMaximum=maximum,
    )
    # TH1::kNoStats is set on the histogram itself, not on its axes
    th1 = th1f._bases[0]
    tnamed = models["TNamed_NoStats"].empty()
    tnamed._bases, tnamed._members = th1._bases[0]._bases, th1._bases[0]._members
    th1._bases[0] = tnamed
    return th1f


def _graph_to_model(name: str, graph: GraphAsymmErrors | GraphErrors | Graph):
    import uproot.models.TAtt
    import uproot.models.TNamed
    import uproot.models.TObject
    import uproot.writing.identify as identify

    models = _graph_models()

    tnamed = uproot.models.TNamed.Model_TNamed.empty()
    tnamed._bases.append(uproot.models.TObject.Model_TObject.empty())
    tnamed._members["fName"] = name
    tnamed._members["fTitle"] = graph.title
    # attribute defaults of TGraph's constructors: TAttLine(), TAttFill(0, 1000), TAttMarker()
    line = uproot.models.TAtt.Model_TAttLine_v2.empty()
    line._members.update(fLineColor=1, fLineStyle=1, fLineWidth=1)
    fill = uproot.models.TAtt.Model_TAttFill_v2.empty()
    fill._members.update(fFillColor=0, fFillStyle=1000)
    marker = uproot.models.TAtt.Model_TAttMarker_v2.empty()
    marker._members.update(fMarkerColor=1, fMarkerStyle=1, fMarkerSize=1.0)

    tgraph = models["TGraph"].empty()
    tgraph._bases.extend([tnamed, line, fill, marker])
    tgraph._members.update(
        fNpoints=len(graph.x),
        fX=graph.x,
        fY=graph.y,
        fFunctions=identify.to_TList([]),
        fHistogram=(_frame_histogram(name, graph) if (graph.x_title or graph.y_title) else None),
        fMinimum=_DEFAULT_LIMIT,
        fMaximum=_DEFAULT_LIMIT,
    )

    if isinstance(graph, Graph):
        return tgraph
    if isinstance(graph, GraphAsymmErrors):
        out = models["TGraphAsymmErrors"].empty()
        out._members.update(
            fEXlow=graph.xerr_low,
            fEXhigh=graph.xerr_high,
            fEYlow=graph.yerr_low,
            fEYhigh=graph.yerr_high,
        )
    else:
        out = models["TGraphErrors"].empty()
        out._members.update(fEX=graph.xerr, fEY=graph.yerr)
    out._bases.append(tgraph)
    return out


# --------------------------------------------------------------------------------------------
# histograms
# --------------------------------------------------------------------------------------------


def _boost_histogram_module(h):
    module = type(h).__module__
    if module.split(".")[0] in ("boost_histogram", "hist"):
        import boost_histogram

        return boost_histogram
    return None


def _axis_to_model(axis, default_name: str, bh):
    import uproot.writing.identify as identify

    title = getattr(axis, "label", None) or ""
    labels = None
    if bh is not None and isinstance(axis, (bh.axis.StrCategory, bh.axis.IntCategory)):
        edges = np.arange(len(axis) + 1, dtype=np.float64)
        strings = [identify.to_TObjString(str(value)) for value in axis]
        for i, string in enumerate(strings):  # TAxis::SetBinLabel numbers its labels from 1
            string._bases[0]._members["@fUniqueID"] = i + 1
        labels = identify.to_THashList(strings)
        xbins = np.array([], dtype=np.float64)
    else:
        edges = np.asarray(axis.edges, dtype=np.float64)
        regular = (
            bh is not None
            and isinstance(axis, bh.axis.Regular)
            and getattr(axis, "transform", None) is None
        )
        xbins = np.array([], dtype=np.float64) if regular else edges
    return identify.to_TAxis(
        fName=default_name,
        fTitle=title,
        fNbins=len(edges) - 1,
        fXmin=float(edges[0]),
        fXmax=float(edges[-1]),
        fXbins=xbins,
        fLabels=labels,
    ), edges


def _with_flow(h, array_flow, array_noflow, bh) -> np.ndarray:
    """An array with ROOT's under- and overflow bins on every axis (zero where the histogram
    has none)."""
    shape = tuple(n + 2 for n in array_noflow.shape)
    out = np.zeros(shape, dtype=np.float64)
    if array_flow is None:
        out[tuple(slice(1, -1) for _ in shape)] = array_noflow
        return out
    index = []
    for axis in h.axes:
        traits = axis.traits
        index.append(slice(0 if traits.underflow else 1, None if traits.overflow else -1))
    out[tuple(index)] = array_flow
    return out


def _hist_to_model(key: str, name: str, h):
    import uproot.writing.identify as identify

    ndim = len(h.axes)
    if ndim not in (1, 2):
        raise OutputError(
            f"cannot write {key!r}: only 1D and 2D histograms can be written (TH1D, TH2D), "
            f"it has {ndim} axes"
        )
    if str(getattr(h, "kind", "COUNT")).upper().split(".")[-1] != "COUNT":
        raise OutputError(
            f"cannot write {key!r}: only histograms of kind COUNT can be written, not {h.kind}"
        )
    bh = _boost_histogram_module(h)
    values = np.asarray(h.values(), dtype=np.float64)
    variances = h.variances()
    variances = None if variances is None else np.asarray(variances, dtype=np.float64)
    values_flow: Any
    variances_flow: Any
    if bh is not None:
        values_flow = np.asarray(h.values(flow=True), dtype=np.float64)
        variances_flow = None if variances is None else h.variances(flow=True)
        weighted = h.storage_type in (bh.storage.Weight, bh.storage.Unlimited)
    else:
        values_flow = variances_flow = None  # no flow bins known
        weighted = False
    weighted = variances is not None and (weighted or not np.array_equal(variances, values))

    data = _with_flow(h, values_flow, values, bh)
    sumw2 = _with_flow(h, variances_flow, variances, bh) if weighted else None

    axes = [
        _axis_to_model(axis, default, bh)
        for axis, default in zip(h.axes, ("xaxis", "yaxis"), strict=False)
    ]
    centers = [0.5 * (edges[1:] + edges[:-1]) for _, edges in axes]
    title = getattr(h, "label", None) or getattr(h, "name", None) or ""
    common = {
        "fName": name,
        "fTitle": str(title),
        # ROOT stores bins with the x index running fastest
        "data": data.T.reshape(-1),
        "fSumw2": None if sumw2 is None else sumw2.T.reshape(-1),
        "fEntries": float(data.sum()),  # as uproot writes histograms: sum of contents
        "fTsumw": float(values.sum()),
        "fTsumw2": float((variances if weighted and variances is not None else values).sum()),
        "fXaxis": axes[0][0],
    }
    if ndim == 1:
        return identify.to_TH1x(
            **common,
            fTsumwx=float((values * centers[0]).sum()),
            fTsumwx2=float((values * centers[0] ** 2).sum()),
        )
    cx, cy = centers[0][:, None], centers[1][None, :]
    return identify.to_TH2x(
        **common,
        fYaxis=axes[1][0],
        fTsumwx=float((values * cx).sum()),
        fTsumwx2=float((values * cx**2).sum()),
        fTsumwy=float((values * cy).sum()),
        fTsumwy2=float((values * cy**2).sum()),
        fTsumwxy=float((values * cx * cy).sum()),
    )


def _is_histogram(obj) -> bool:
    return all(hasattr(obj, a) for a in ("axes", "kind", "values", "variances", "counts"))


def _to_model(key: str, name: str, obj):
    """Convert ``obj`` (written as ``key``, with ``fName`` ``name``) to a writable uproot model."""
    if isinstance(obj, (GraphAsymmErrors, GraphErrors, Graph)):
        return _graph_to_model(name, obj)
    if _is_histogram(obj):
        return _hist_to_model(key, name, obj)
    raise OutputError(
        f"cannot write {key!r} to a ROOT file: objects of type {type(obj).__name__} are not "
        "supported (use a 1D/2D hist.Hist or boost_histogram.Histogram, GraphAsymmErrors, "
        "GraphErrors or Graph)"
    )


# --------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------


def _check_path(what: str, value: object) -> list[str]:
    if not isinstance(value, str):
        raise OutputError(f"{what} must be a string, not {type(value).__name__}")
    parts = value.split("/")
    if any(not part for part in parts) or any(c in value for c in ";\x00"):
        raise OutputError(
            f"{what} {value!r} is not a valid ROOT name: it must be non-empty, must not contain "
            "';' and its '/'-separated parts must be non-empty"
        )
    return parts


def write_root(
    path: str | os.PathLike[str],
    objects: Mapping[str, object],
    *,
    directory: str | None = None,
) -> None:
    """Write ``objects`` (name -> object) into a new ROOT file at ``path``, atomically.

    Parameters
    ----------
    path:
        The ROOT file to create; an existing file is replaced only once the new one is
        complete.
    objects:
        Names (keys in the file; ``"a/b"`` writes ``b`` into directory ``a``) mapped to 1D/2D
        histograms (``hist.Hist``, ``boost_histogram.Histogram``; written as ``TH1D``/``TH2D``),
        :class:`GraphAsymmErrors` (``TGraphAsymmErrors``), :class:`GraphErrors`
        (``TGraphErrors``) or :class:`Graph` (``TGraph``).
    directory:
        If given, all objects are written into this ``TDirectory`` (``"a/b"`` nests ``b`` in
        ``a``), which is created even if ``objects`` is empty.

    Raises
    ------
    OutputError
        If an object cannot be written (the message names it) or a name is invalid. Nothing is
        written to ``path`` in that case, nor on any other error (e.g. ``OSError``).
    """
    prefix = [] if directory is None else _check_path("directory", directory)
    keys: dict[str, tuple[str, object]] = {}
    for name, obj in objects.items():
        parts = prefix + _check_path("object name", name)
        keys["/".join(parts)] = (parts[-1], obj)
    for key in keys:  # a name cannot be both an object and a directory
        parents = key.split("/")[:-1]
        for i in range(1, len(parents) + 1):
            if "/".join(parents[:i]) in keys:
                raise OutputError(
                    f"cannot write {key!r}: {'/'.join(parents[:i])!r} is an object, not a directory"
                )
    # convert everything before touching the file system
    models = {key: _to_model(key, name, obj) for key, (name, obj) in keys.items()}

    import uproot

    path = os.fspath(path)

    def write(tmp: Any) -> None:
        with uproot.recreate(tmp) as file:
            if directory is not None:
                file.mkdir(directory)
            for key, model in models.items():
                try:
                    file[key] = model
                except (TypeError, ValueError, NotImplementedError, KeyError) as err:
                    raise OutputError(f"cannot write {key!r} to {path}: {err}") from err

    with output_set() as out:
        out.stage(path, write)


# --------------------------------------------------------------------------------------------
# the objects of a combination
# --------------------------------------------------------------------------------------------


def root_key(name: str) -> str:
    """The ROOT key used for ``name``: every run of characters other than ``A–Z a–z 0–9 _``
    becomes one ``_``, leading/trailing ``_`` are dropped (``"correlations between groups"`` →
    ``"correlations_between_groups"``, ``"JES/flavour"`` → ``"JES_flavour"``); an empty result
    becomes ``"unnamed"``. Such keys are safe in ``TBrowser``, ``TFile::Get`` paths and PyROOT
    attribute access."""
    key = re.sub(r"[^A-Za-z0-9_]+", "_", str(name)).strip("_")
    return key or "unnamed"


def _unique_keys(names: Sequence[str], prefix: str) -> dict[str, str]:
    """``{name: prefix + root_key(name)}``, a clash resolved with ``_2``, ``_3``, … (logged)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in names:
        base = f"{prefix}{root_key(name)}"
        key, k = base, 2
        while key in used:
            key, k = f"{base}_{k}", k + 1
        if key != base:
            log.warning("component %r is written as %r: %r was taken", name, key, base)
        used.add(key)
        out[name] = key
    return out


def differential_objects(
    result: DifferentialResult,
    *,
    normalised: bool = False,
    graph_errors: Literal["profile", "symmetric"] = "profile",
) -> dict[str, Any]:
    """The objects of a combined distribution, ``{key: hist.Hist | GraphAsymmErrors}`` (see
    :meth:`DifferentialResult.write_root <hepcombine.differential.DifferentialResult.write_root>`
    for the list)."""
    from .hist import distribution_hist, matrix_hist

    if graph_errors not in ("profile", "symmetric"):
        raise InvalidArgument(
            f"graph_errors must be 'profile' or 'symmetric', not {graph_errors!r}"
        )
    values, errors = result.values, result.errors
    if graph_errors == "profile":
        try:
            low, high = result.asymmetric_errors()
        except IntervalError as exc:
            raise IntervalError(
                f"{exc}; write the graph with the symmetric errors instead with "
                "graph_errors='symmetric'"
            ) from None
    else:
        low = high = errors
    centers = result.graph_x()
    if result.edges is not None:
        xlow, xhigh = centers - result.edges[:-1], result.edges[1:] - centers
    else:
        xlow = xhigh = np.zeros(result.n_bins)
    title = result.title or "combination"
    edges = result.histogram_edges()
    axis = {"name": result.axis_name, "label": result.axis_label}

    def h1(v: Any, var: Any, label: str) -> Any:
        return distribution_hist(edges, v, var, title=label, **axis)

    def h2(m: Any, label: str) -> Any:
        return matrix_hist(edges, m, title=label, **axis)

    objects: dict[str, Any] = {
        "combined": h1(values, errors**2, title),
        "combined_profile": GraphAsymmErrors(
            centers, values, xlow, xhigh, low, high, title=title, x_title=result.axis_label
        ),
        "covariance": h2(result.covariance, f"covariance: {title}"),
        "correlation": h2(result.correlation, f"correlation: {title}"),
    }
    keys = result.breakdown_keys()
    for component, sigma in result.breakdown().items():
        objects[keys[component]] = h1(
            sigma, np.zeros(result.n_bins), f"uncertainty from {component}: {title}"
        )
    if normalised:
        shape = result.normalised()
        objects["normalised"] = h1(shape.values, shape.errors**2, f"normalised: {title}")
        objects["normalised_covariance"] = h2(shape.covariance, f"covariance, normalised: {title}")
    return objects


def result_objects(result: CombinationResult) -> dict[str, Any]:
    """The objects of any combination: a TH1D ``combined`` with one labelled bin per
    observable (bin errors = symmetric errors) and TH2D ``covariance`` / ``correlation`` with
    labelled bins."""
    from .hist import result_hist, result_matrix_hist

    return {
        "combined": result_hist(result),
        "covariance": result_matrix_hist(result, "covariance"),
        "correlation": result_matrix_hist(result, "correlation"),
    }


def __dir__() -> list[str]:
    return list(__all__)
