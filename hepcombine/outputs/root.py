"""ROOT output with uproot, including ``TGraphAsymmErrors`` and ``TGraphErrors``.

:func:`write_root` writes a mapping of names to objects, or a result, into a ROOT file,
atomically (through :mod:`hepcombine.outputs.atomic`: on any error nothing is left at the
target and an existing file there is untouched); :func:`to_pyroot` makes the same objects in
memory with PyROOT. :func:`differential_objects` and :func:`result_objects` are the objects of
a combined distribution and of any combination (the one description of both);
:func:`root_key` makes names safe as ROOT keys, :func:`breakdown_keys` gives the keys of a
result's ``breakdown_<component>`` histograms::

    from hepcombine.outputs.root import to_pyroot, write_root

    write_root("combination.root", result, directory="combination", normalised=True)
    objects = to_pyroot(result)  # {"combined": ROOT.TH1D, "combined_profile": ..., ...}

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
written into nested ``TDirectory`` objects. Axis names (``TAxis::fName``) are the ``hist`` axis
names (``"xaxis"``/``"yaxis"`` for unnamed axes); the attribute :data:`VALUE_LABEL` of a
histogram is the title of its values' axis (a TH1D's y, a TH2D's z).

:func:`to_pyroot` makes the same objects in memory with PyROOT (``ROOT.TH1D``, ``ROOT.TH2D``,
``ROOT.TGraphAsymmErrors``, ``ROOT.TGraphErrors``) from the same description (the histogram's
layout, the graph dataclasses), so that ``to_pyroot(result)`` and its file agree object by
object (names, titles, axes, every cell and error, entries; the tests compare them). PyROOT is
imported only there (``pip install "hepcombine[root]"``); without it :func:`to_pyroot` raises
:class:`~hepcombine.exceptions.OutputError` saying what to install.

Tested with uproot 5.7.7 (see :data:`TESTED_UPROOT_VERSIONS`). The ``TGraphAsymmErrors`` layout
and streamer information were compared with a file written by ROOT 6.22/02 (``full.root`` in the
test suite of the ``hepdata-converter`` package on PyPI): the serialised graph is byte-identical
to ROOT's when built from the same content, and the streamer records (class versions, checksums,
members and their types) are the same. No ROOT-written ``TGraphErrors`` was available; its
streamer record (uproot's) has the members of ROOT's ``TGraphErrors.h`` and the checksum that
ROOT's ``TStreamerInfo::GetCheckSum`` algorithm gives for them (the test suite checks that
algorithm against ROOT's own records). Since ROOT is installable from PyPI (``pip install ROOT``,
6.40), the test suite also lets ROOT itself read every file written here (``TFile.Open``, every
object compared with the numbers it should hold, ROOT's warnings and errors as failures).
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

from ..binning import Binning2D, as_1d
from ..exceptions import IntervalError, InvalidArgument, OutputError
from .atomic import output_set

if TYPE_CHECKING:
    from ..differential import DifferentialResult
    from ..result import CombinationResult

__all__ = [
    "TESTED_UPROOT_VERSIONS",
    "VALUE_LABEL",
    "Graph",
    "GraphAsymmErrors",
    "GraphErrors",
    "breakdown_keys",
    "differential_objects",
    "result_objects",
    "root_key",
    "to_pyroot",
    "write_root",
]

log = logging.getLogger(__name__)

#: The attribute of a ``hist.Hist`` that holds the title of its values' axis (a TH1D's y axis,
#: a TH2D's z axis): ``h.value_label = "d#sigma/dp_{T} [pb/GeV]"`` (hist keeps attributes as
#: metadata).
VALUE_LABEL = "value_label"

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


@dataclass(frozen=True)
class _AxisLayout:
    """One axis as ROOT keeps it: ``fName``, ``fTitle``, edges (``fXbins`` empty when
    ``regular``) and bin labels (category axes)."""

    name: str
    title: str
    edges: np.ndarray
    regular: bool
    labels: tuple[str, ...] | None


@dataclass(frozen=True)
class _HistLayout:
    """A ``TH1D``/``TH2D`` as ROOT keeps it, the one description both the file writer
    (:func:`_layout_to_model`, uproot) and the in-memory objects (:func:`_layout_to_pyroot`,
    PyROOT) are built from. Arrays include the flow bins, indexed ``[x, y]``."""

    title: str
    value_title: str  # TH1D: y-axis title; TH2D: z-axis title
    axes: tuple[_AxisLayout, ...]
    data: np.ndarray
    sumw2: np.ndarray | None
    values: np.ndarray  # without flow, for the statistics ROOT stores
    stat_variances: np.ndarray

    @property
    def entries(self) -> float:
        return float(self.data.sum())  # as uproot writes histograms: sum of contents


def _axis_layout(axis, default_name: str, bh) -> _AxisLayout:
    title = str(getattr(axis, "label", None) or "")
    name = str(getattr(axis, "name", None) or "") or default_name
    if bh is not None and isinstance(axis, (bh.axis.StrCategory, bh.axis.IntCategory)):
        return _AxisLayout(
            name,
            title,
            np.arange(len(axis) + 1, dtype=np.float64),
            True,
            tuple(str(value) for value in axis),
        )
    edges = np.asarray(axis.edges, dtype=np.float64)
    regular = (
        bh is not None
        and isinstance(axis, bh.axis.Regular)
        and getattr(axis, "transform", None) is None
    )
    return _AxisLayout(name, title, edges, bool(regular), None)


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


def _hist_layout(key: str, h) -> _HistLayout:
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
    title = getattr(h, "label", None) or getattr(h, "name", None) or ""
    return _HistLayout(
        title=str(title),
        value_title=str(getattr(h, VALUE_LABEL, "") or ""),
        axes=tuple(
            _axis_layout(axis, default, bh)
            for axis, default in zip(h.axes, ("xaxis", "yaxis"), strict=False)
        ),
        data=_with_flow(h, values_flow, values, bh),
        sumw2=_with_flow(h, variances_flow, variances, bh) if weighted else None,
        values=values,
        stat_variances=variances if weighted and variances is not None else values,
    )


def _axis_to_model(axis: _AxisLayout, fTitleOffset: float = 1.0):
    import uproot.writing.identify as identify

    labels = None
    if axis.labels is not None:
        strings = [identify.to_TObjString(label) for label in axis.labels]
        for i, string in enumerate(strings):  # TAxis::SetBinLabel numbers its labels from 1
            string._bases[0]._members["@fUniqueID"] = i + 1
        labels = identify.to_THashList(strings)
    return identify.to_TAxis(
        fName=axis.name,
        fTitle=axis.title,
        fNbins=len(axis.edges) - 1,
        fXmin=float(axis.edges[0]),
        fXmax=float(axis.edges[-1]),
        fXbins=np.array([], dtype=np.float64) if axis.regular else axis.edges,
        fLabels=labels,
        fTitleOffset=fTitleOffset,
    )


# ROOT 6's default style gives every y axis an automatic title offset (0), the others 1
_TITLE_OFFSET = {"xaxis": 1.0, "yaxis": 0.0, "zaxis": 1.0}


def _value_axis(name: str, title: str):
    """The axis of the values (a TH1's y, a TH2's z) as TH1's constructor makes it: one bin on
    [0, 1], with ``title``."""
    import uproot.writing.identify as identify

    return identify.to_TAxis(name, title, 1, 0.0, 1.0, fTitleOffset=_TITLE_OFFSET[name])


def _layout_to_model(name: str, layout: _HistLayout):
    import uproot.writing.identify as identify

    values = layout.values
    centers = [0.5 * (a.edges[1:] + a.edges[:-1]) for a in layout.axes]
    common = {
        "fName": name,
        "fTitle": layout.title,
        # ROOT stores bins with the x index running fastest
        "data": layout.data.T.reshape(-1),
        "fSumw2": None if layout.sumw2 is None else layout.sumw2.T.reshape(-1),
        "fEntries": layout.entries,
        "fTsumw": float(values.sum()),
        "fTsumw2": float(layout.stat_variances.sum()),
        "fXaxis": _axis_to_model(layout.axes[0]),
    }
    if len(layout.axes) == 1:
        return identify.to_TH1x(
            **common,
            fYaxis=_value_axis("yaxis", layout.value_title),
            fTsumwx=float((values * centers[0]).sum()),
            fTsumwx2=float((values * centers[0] ** 2).sum()),
        )
    cx, cy = centers[0][:, None], centers[1][None, :]
    return identify.to_TH2x(
        **common,
        fYaxis=_axis_to_model(layout.axes[1], _TITLE_OFFSET["yaxis"]),
        fZaxis=_value_axis("zaxis", layout.value_title),
        fTsumwx=float((values * cx).sum()),
        fTsumwx2=float((values * cx**2).sum()),
        fTsumwy=float((values * cy).sum()),
        fTsumwy2=float((values * cy**2).sum()),
        fTsumwxy=float((values * cx * cy).sum()),
    )


def _is_histogram(obj) -> bool:
    return all(hasattr(obj, a) for a in ("axes", "kind", "values", "variances", "counts"))


def _layout(key: str, obj):
    """The description of ``obj`` (written as ``key``): a :class:`_HistLayout` or the graph."""
    if isinstance(obj, (GraphAsymmErrors, GraphErrors, Graph)):
        return obj
    if _is_histogram(obj):
        return _hist_layout(key, obj)
    raise OutputError(
        f"cannot write {key!r} to a ROOT file: objects of type {type(obj).__name__} are not "
        "supported (use a 1D/2D hist.Hist or boost_histogram.Histogram, GraphAsymmErrors, "
        "GraphErrors or Graph)"
    )


def _to_model(key: str, name: str, obj):
    """Convert ``obj`` (written as ``key``, with ``fName`` ``name``) to a writable uproot model."""
    layout = _layout(key, obj)
    if isinstance(layout, _HistLayout):
        return _layout_to_model(name, layout)
    return _graph_to_model(name, layout)


# --------------------------------------------------------------------------------------------
# in memory: PyROOT objects from the same descriptions
# --------------------------------------------------------------------------------------------

ROOT_INSTALL = 'pip install "hepcombine[root]"'


def _import_root() -> Any:
    """PyROOT, or an :class:`OutputError` that says how to install it."""
    try:
        import ROOT
    except ImportError as exc:
        raise OutputError(
            f"ROOT objects need PyROOT (ROOT's Python bindings), which cannot be imported "
            f"({exc}); install it with {ROOT_INSTALL} (or ROOT from conda-forge or root.cern)"
        ) from None
    return ROOT


_RAW_TITLE = """
#include <TNamed.h>
namespace hepcombine_root {
void set_title(TNamed *object, const char *title) { object->TNamed::SetTitle(title); }
}
"""


def _set_raw_title(ROOT, obj, title: str) -> None:
    """Set the title as given (as the file holds it): TH1::SetTitle and TGraph::SetTitle, which
    a call from Python reaches even through ``TNamed.SetTitle``, read ``"a;b;c"`` as histogram
    and axis titles; the non-virtual ``TNamed::SetTitle`` does not."""
    if ";" not in title:
        obj.SetTitle(title)
        return
    if not hasattr(ROOT, "hepcombine_root"):
        ROOT.gInterpreter.Declare(_RAW_TITLE)
    ROOT.hepcombine_root.set_title(obj, title)


def _set_axis(axis, layout: _AxisLayout) -> None:
    axis.SetName(layout.name)
    axis.SetTitle(layout.title)


def _layout_to_pyroot(ROOT, name: str, layout: _HistLayout):
    from array import array

    def binning(axis: _AxisLayout) -> tuple[Any, ...]:
        n = len(axis.edges) - 1
        if axis.regular:
            return (n, float(axis.edges[0]), float(axis.edges[-1]))
        return (n, array("d", axis.edges.tolist()))

    if len(layout.axes) == 1:
        h = ROOT.TH1D(name, "", *binning(layout.axes[0]))
    else:
        h = ROOT.TH2D(name, "", *binning(layout.axes[0]), *binning(layout.axes[1]))
    _set_raw_title(ROOT, h, layout.title)
    _set_axis(h.GetXaxis(), layout.axes[0])
    value_axis = h.GetYaxis() if len(layout.axes) == 1 else h.GetZaxis()
    if len(layout.axes) == 2:
        _set_axis(h.GetYaxis(), layout.axes[1])
    value_axis.SetTitle(layout.value_title)
    weighted = layout.sumw2 is not None
    h.Sumw2(weighted)  # also undoes TH1::SetDefaultSumw2(true) for an unweighted histogram
    data = layout.data.reshape(layout.data.shape[0], -1)  # [x, y] (one column for a TH1)
    sumw2 = None if layout.sumw2 is None else layout.sumw2.reshape(data.shape)
    weights = h.GetSumw2()
    for ix in range(data.shape[0]):
        for iy in range(data.shape[1]):
            cell = h.GetBin(ix, iy)
            h.SetBinContent(cell, float(data[ix, iy]))
            if sumw2 is not None:
                weights.SetAt(float(sumw2[ix, iy]), cell)
    h.SetEntries(layout.entries)
    axes = [h.GetXaxis(), h.GetYaxis()]
    for axis, axis_layout in zip(axes, layout.axes, strict=False):
        if axis_layout.labels is not None:  # after the contents: labels make an axis extendable
            for i, label in enumerate(axis_layout.labels, start=1):
                axis.SetBinLabel(i, label)
    h.SetCanExtend(ROOT.TH1.kNoAxis)  # as the histogram read from the file
    return h


def _graph_to_pyroot(ROOT, name: str, graph: GraphAsymmErrors | GraphErrors | Graph):
    n = len(graph.x)
    arrays: tuple[Any, ...]
    if isinstance(graph, Graph):
        g = ROOT.TGraph(n, np.ascontiguousarray(graph.x), np.ascontiguousarray(graph.y))
    elif isinstance(graph, GraphAsymmErrors):
        arrays = (
            graph.x,
            graph.y,
            graph.xerr_low,
            graph.xerr_high,
            graph.yerr_low,
            graph.yerr_high,
        )
        g = ROOT.TGraphAsymmErrors(n, *(np.ascontiguousarray(a) for a in arrays))
    else:
        arrays = (graph.x, graph.y, graph.xerr, graph.yerr)
        g = ROOT.TGraphErrors(n, *(np.ascontiguousarray(a) for a in arrays))
    g.SetName(name)
    _set_raw_title(ROOT, g, graph.title)
    if graph.x_title or graph.y_title:  # the frame histogram, as in the file
        g.GetXaxis().SetTitle(graph.x_title)
        g.GetYaxis().SetTitle(graph.y_title)
    return g


def to_pyroot(
    objects: Mapping[str, object] | CombinationResult | DifferentialResult,
    *,
    normalised: bool = False,
    graph_errors: Literal["profile", "symmetric"] | None = None,
) -> dict[str, Any]:
    """PyROOT objects for ``objects`` (name -> object, or a result, as for :func:`write_root`):
    the same classes, names, titles, axes, contents and errors that :func:`write_root` writes
    into a file, built from the same description, in memory.

    A :class:`~hepcombine.differential.DifferentialResult` gives ``ROOT.TH1D`` ``combined``,
    ``ROOT.TGraphAsymmErrors`` ``combined_profile``, ``ROOT.TH2D`` ``covariance`` and
    ``correlation``, a ``ROOT.TH1D`` per ``breakdown_<component>`` (and with
    ``normalised=True`` ``normalised``, ``normalised_covariance``;
    :func:`differential_objects`); a :class:`~hepcombine.result.CombinationResult` the same
    keys with one labelled bin per observable (:func:`result_objects`). ``graph_errors``
    (``"profile"`` by default for a result) as there.

    ``hist.Hist`` / ``boost_histogram.Histogram`` (1D, 2D) become ``ROOT.TH1D`` /
    ``ROOT.TH2D``, :class:`GraphAsymmErrors` ``ROOT.TGraphAsymmErrors`` and
    :class:`GraphErrors` ``ROOT.TGraphErrors``; each object's name is the last ``/``-part of its
    key. The histograms belong to no ``TDirectory`` (Python owns them; an open ``TFile`` does not
    take them over). Returns ``{key: object}`` in the order of ``objects``.

    Raises
    ------
    OutputError
        If PyROOT cannot be imported (the message says what to install: ``pip install
        "hepcombine[root]"``), or an object is not supported (the message names it).
    IntervalError
        ``graph_errors="profile"`` (a result's default) and a value has no valid profile
        interval.
    """
    objects = _objects_of(objects, normalised, graph_errors)
    layouts = {}
    for key, obj in objects.items():
        name = _check_path("object name", key)[-1]
        layouts[key] = (name, _layout(key, obj))
    ROOT = _import_root()
    status = ROOT.TH1.AddDirectoryStatus()
    ROOT.TH1.AddDirectory(False)
    try:
        out = {}
        for key, (name, layout) in layouts.items():
            if isinstance(layout, _HistLayout):
                out[key] = _layout_to_pyroot(ROOT, name, layout)
            else:
                out[key] = _graph_to_pyroot(ROOT, name, layout)
    finally:
        ROOT.TH1.AddDirectory(status)
    return out


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


def _objects_of(
    what: Mapping[str, object] | CombinationResult | DifferentialResult,
    normalised: bool,
    graph_errors: Literal["profile", "symmetric"] | None,
) -> Mapping[str, object]:
    """``what`` itself when it is a mapping of names to objects, else the objects of a result
    (:func:`differential_objects`, :func:`result_objects`)."""
    from ..differential import DifferentialResult
    from ..result import CombinationResult

    if isinstance(what, Mapping):
        if normalised or graph_errors is not None:
            raise InvalidArgument(
                "normalised= and graph_errors= choose the objects of a result; the objects "
                "given are written as they are"
            )
        return what
    errors: Literal["profile", "symmetric"] = graph_errors or "profile"
    if isinstance(what, DifferentialResult):
        return differential_objects(what, normalised=normalised, graph_errors=errors)
    if isinstance(what, CombinationResult):
        if normalised:
            raise InvalidArgument(
                "normalised=True needs the bins of a distribution: wrap the result with "
                "DifferentialResult.from_result(result, ...)"
            )
        return result_objects(what, graph_errors=errors)
    raise OutputError(
        f"cannot write a {type(what).__name__}: give a mapping of names to objects, a "
        "CombinationResult or a DifferentialResult"
    )


def write_root(
    path: str | os.PathLike[str],
    objects: Mapping[str, object] | CombinationResult | DifferentialResult,
    *,
    directory: str | None = None,
    normalised: bool = False,
    graph_errors: Literal["profile", "symmetric"] | None = None,
) -> None:
    """Write ``objects`` (name -> object, or a result) into a new ROOT file at ``path``,
    atomically.

    Parameters
    ----------
    path:
        The ROOT file to create; an existing file is replaced only once the new one is
        complete.
    objects:
        Names (keys in the file; ``"a/b"`` writes ``b`` into directory ``a``) mapped to 1D/2D
        histograms (``hist.Hist``, ``boost_histogram.Histogram``; written as ``TH1D``/``TH2D``),
        :class:`GraphAsymmErrors` (``TGraphAsymmErrors``), :class:`GraphErrors`
        (``TGraphErrors``) or :class:`Graph` (``TGraph``). Or a result: a
        :class:`~hepcombine.differential.DifferentialResult` is written as the objects of
        :func:`differential_objects`, a :class:`~hepcombine.result.CombinationResult` as those
        of :func:`result_objects`.
    directory:
        If given, all objects are written into this ``TDirectory`` (``"a/b"`` nests ``b`` in
        ``a``), which is created even if ``objects`` is empty (``hepcombine combine --root``
        writes into ``"combination"``).
    normalised, graph_errors:
        For a result: also the normalised distribution (a ``DifferentialResult`` only), and
        the errors of the graph ``combined_profile`` (``"profile"``, the default, or
        ``"symmetric"``); see :func:`differential_objects`.

    Raises
    ------
    OutputError
        If an object cannot be written (the message names it) or a name is invalid. Nothing is
        written to ``path`` in that case, nor on any other error (e.g. ``OSError``).
    IntervalError
        ``graph_errors="profile"`` (a result's default) and a value has no valid profile
        interval (nothing is written; ``graph_errors="symmetric"`` writes the Hesse errors).
    """
    objects = _objects_of(objects, normalised, graph_errors)
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


def breakdown_keys(result: CombinationResult | DifferentialResult) -> dict[str, str]:
    """``{component: ROOT key}`` of the ``breakdown_<component>`` histograms of a result's
    objects (every row of its breakdown; names made safe by :func:`root_key`, a clash gets
    ``_2``, ``_3``, …)."""
    from ..differential import DifferentialResult

    combination = result.result if isinstance(result, DifferentialResult) else result
    return _unique_keys(combination.breakdown.rows, "breakdown_")


def _axis_title(label: str, unit: str) -> str:
    """An axis title with its unit: ``"p_{T} [GeV]"`` from ``("p_{T}", "GeV")``; the label
    alone when it already ends with ``[unit]`` or there is no unit, ``"[GeV]"`` without a
    label."""
    label, unit = str(label or ""), str(unit or "")
    if not unit or label.rstrip().endswith(f"[{unit}]"):
        return label
    return f"{label} [{unit}]" if label else f"[{unit}]"


def _histogram_bins(result: DifferentialResult) -> tuple[np.ndarray, np.ndarray]:
    """The edges of a distribution's histograms and the histogram bin of each bin of the
    result: the bin edges; for bins with gaps, the edges with every gap as an extra (empty)
    bin (:meth:`Binning.filled_edges <hepcombine.binning.Binning.filled_edges>`); the bin
    numbers where only points are known."""
    b = as_1d(result.binning)
    if b.is_contiguous or (b.is_index and b.centers is not None):
        return np.asarray(result.histogram_edges(), dtype=float), np.arange(result.n_bins)
    edges, where = b.filled_edges()
    return edges, where


def differential_objects(
    result: DifferentialResult,
    *,
    normalised: bool = False,
    graph_errors: Literal["profile", "symmetric"] = "profile",
) -> dict[str, Any]:
    """The objects of a combined distribution, ``{key: hist.Hist | GraphAsymmErrors}``, the one
    description of both the file (:func:`write_root`) and the PyROOT objects
    (:func:`to_pyroot`):

    * ``combined``: TH1D, values with the symmetric (Hesse) errors;
    * ``combined_profile``: TGraphAsymmErrors at the bin centres (x errors: to the bin edges)
      with the profile-likelihood intervals (``graph_errors="profile"``; if a bin has no valid
      interval an :class:`~hepcombine.exceptions.IntervalError` names it) or the symmetric
      errors (``graph_errors="symmetric"``);
    * ``covariance``, ``correlation``: TH2D with the bin edges on both axes;
    * ``breakdown_<component>``: TH1D per row of the result's breakdown, content = the
      (signed) σ of that component, bin errors 0; keys from :func:`breakdown_keys`;
    * with ``normalised=True``: ``normalised`` (TH1D, sum normalisation, errors from the
      propagated covariance) and ``normalised_covariance`` (TH2D, singular, rank n − 1).

    A 2-d distribution (:class:`~hepcombine.binning.Binning2D`): ``combined``, the breakdowns
    and ``normalised`` are TH2D on both axes (values with the symmetric errors as bin errors);
    the graph and the matrices are over the cell numbers (``k = ix + nx·iy``, x inner).

    Axes: the x axis carries the result's :class:`~hepcombine.binning.Binning` (its name as the
    axis name, ``"label [unit]"`` as its title (the name without a label), the edges); the values axis (a TH1D's y, a TH2D's
    z, the graph's y) the result's quantity (``"label [unit]"``). Bins with gaps (e.g.
    1.4 < |η| < 1.6 not measured): the histograms get one extra, empty bin (content and error 0)
    per gap, so that their axes carry the true edges; the graph has exactly the result's bins,
    each point with x errors to its own edges.
    """
    from .hist import distribution_hist, distribution_hist_2d, matrix_hist

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
    grid = result.binning if isinstance(result.binning, Binning2D) else None
    b = as_1d(result.binning)
    quantity = getattr(result, "quantity", None)
    label, unit = (quantity.label, quantity.unit) if quantity is not None else ("", "")
    edges, where = _histogram_bins(result)
    if result.edges is not None:
        centers = result.graph_x()
        xlow, xhigh = centers - result.edges[:-1], result.edges[1:] - centers
    elif not b.is_contiguous and not (b.is_index and b.centers is not None):  # gaps
        centers = np.array(b.bin_centers, dtype=float)
        xlow, xhigh = centers - b.low, b.high - centers
    else:  # points only
        centers = result.graph_x()
        xlow = xhigh = np.zeros(result.n_bins)
    title = result.title or "combination"
    x_title = _axis_title(b.label or b.name, b.unit)  # as Binning.title
    axis = {"name": b.name, "label": x_title}
    n_hist = len(edges) - 1

    def filled(v: Any) -> np.ndarray:
        out = np.zeros(n_hist)
        out[where] = v
        return out

    def filled2(m: Any) -> np.ndarray:
        out = np.zeros((n_hist, n_hist))
        out[np.ix_(where, where)] = m
        return out

    def h1(v: Any, var: Any, hist_title: str, value_title: str) -> Any:
        if grid is not None:  # the cells of a 2-d distribution: a TH2D on both axes
            h = distribution_hist_2d(grid, v, var, title=hist_title)
            setattr(h, VALUE_LABEL, value_title)
            return h
        h = distribution_hist(edges, filled(v), filled(var), title=hist_title, **axis)
        setattr(h, VALUE_LABEL, value_title)
        return h

    def h2(m: Any, hist_title: str, value_title: str) -> Any:
        h = matrix_hist(edges, filled2(m), title=hist_title, **axis)
        setattr(h, VALUE_LABEL, value_title)
        return h

    y_title = _axis_title(label, unit)
    squared = f"({unit})^{{2}}" if unit else ""
    objects: dict[str, Any] = {
        "combined": h1(values, errors**2, title, y_title),
        "combined_profile": GraphAsymmErrors(
            centers, values, xlow, xhigh, low, high, title=title, x_title=x_title, y_title=y_title
        ),
        "covariance": h2(
            result.covariance, f"covariance: {title}", _axis_title("covariance", squared)
        ),
        "correlation": h2(result.correlation, f"correlation: {title}", "correlation"),
    }
    keys = breakdown_keys(result)
    for component, sigma in result.breakdown().items():
        objects[keys[component]] = h1(
            sigma,
            np.zeros(result.n_bins),
            f"uncertainty from {component}: {title}",
            _axis_title(f"uncertainty from {component}", unit),
        )
    if normalised:
        shape = result.normalised()
        norm_title = f"normalised {label}".strip()
        objects["normalised"] = h1(
            shape.values, shape.errors**2, f"normalised: {title}", norm_title
        )
        objects["normalised_covariance"] = h2(
            shape.covariance, f"covariance, normalised: {title}", "covariance"
        )
    return objects


def result_objects(
    result: CombinationResult, *, graph_errors: Literal["profile", "symmetric"] = "profile"
) -> dict[str, Any]:
    """The objects of any combination, one labelled bin (or point) per observable:

    * ``combined``: TH1D, the combined values with their symmetric (Hesse) errors;
    * ``combined_profile``: TGraphAsymmErrors, point ``i`` at x = i + 0.5 (the middle of bin
      ``i`` of ``combined``, x errors ±0.5) with the profile-likelihood interval
      (``graph_errors="profile"``; an :class:`~hepcombine.exceptions.IntervalError` names an
      observable without one) or the symmetric errors (``"symmetric"``);
    * ``covariance``, ``correlation``: TH2D;
    * ``breakdown_<component>``: TH1D per row of the result's breakdown (σ of that component,
      signed; bin errors 0), keys as for a distribution.

    The description of both :func:`write_root` and :func:`to_pyroot`.
    """
    from .hist import _category_hist, result_hist, result_matrix_hist

    if graph_errors not in ("profile", "symmetric"):
        raise InvalidArgument(
            f"graph_errors must be 'profile' or 'symmetric', not {graph_errors!r}"
        )
    names = list(result.observables)
    values = np.array([result.values[n] for n in names])
    errors = np.array([result.errors[n] for n in names])
    if graph_errors == "profile":
        bad = [n for n in names if not result.has_interval(n)]
        if bad:
            shown = "; ".join(f"{n}: {result.interval_status[n]}" for n in bad[:10])
            raise IntervalError(
                f"no valid profile interval for {bad}: {shown}; write the graph with the "
                "symmetric errors instead with graph_errors='symmetric'"
            )
        low = np.array([result.asymmetric_errors(n)[0] for n in names])
        high = np.array([result.asymmetric_errors(n)[1] for n in names])
    else:
        low = high = errors
    x = np.arange(len(names)) + 0.5
    half = np.full(len(names), 0.5)
    objects: dict[str, Any] = {
        "combined": result_hist(result),
        "combined_profile": GraphAsymmErrors(
            x, values, half, half, low, high, title="combined", x_title="observable"
        ),
        "covariance": result_matrix_hist(result, "covariance"),
        "correlation": result_matrix_hist(result, "correlation"),
    }
    table = result.breakdown
    keys = breakdown_keys(result)
    cols = [table.columns.index(n) for n in names]
    for i, component in enumerate(table.rows):
        h = _category_hist(names, "observable", label=f"uncertainty from {component}: combined")
        h.view().value = table.matrix[i, cols]
        h.view().variance = 0.0
        objects[keys[component]] = h
    return objects


def __dir__() -> list[str]:
    return list(__all__)
