"""Read hepcombine's YAML configuration (validated against ``schemas/config.json``) into a
:class:`~hepcombine.spec.CombinationSpec`.

Bare names are resolved with :class:`hepcombine.names.Names` (the combiner's resolver); every
problem raises :class:`~hepcombine.exceptions.ConfigError` naming the file, the line and the key
path. See :func:`read_yaml` for the format.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import logging
import re
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, NoReturn

import jsonschema
import numpy as np
import yaml
from numpy.typing import NDArray

from ..binning import Binning, Binning2D, Qualifier, Quantity
from ..errors_on_errors import ErrorOnError
from ..exceptions import (
    ConfigError,
    HepCombineError,
    InvalidArgument,
    InvalidMeasurement,
    UnknownName,
)
from ..linear_maps import LinearQuantity, linear_quantities
from ..measurement import DifferentialMeasurement, Measurement, Shift
from ..names import Names
from ..spec import CombinationSpec, Pair, ScanGroup
from ._bins import BinMismatch, common_quantity, match_bins
from ._build import BuildError, ReaderError, add_correlation, assemble_measurement

__all__ = ["read_yaml"]

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- YAML
class _YamlLoader(yaml.SafeLoader):
    """Safe loader that rejects duplicate keys and reads ``1e-3`` as a number."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise ConfigError(
                    f"{self.name}, line {line}: key {key!r} is given twice in this mapping "
                    f"(first at line {seen[key]})"
                )
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


_YamlLoader.yaml_implicit_resolvers = {
    k: list(v) for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_YamlLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)[eE][-+]?\d+$"),
    list("-+0123456789."),
)


def _schema() -> dict[str, Any]:
    text = resources.files("hepcombine").joinpath("schemas/config.json").read_text()
    return json.loads(text)


def _node_line(root: yaml.Node | None, path: Sequence[Any]) -> int | None:
    """Line (1-based) of the YAML node at a JSON path, or of its closest existing parent."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for step in path:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(step):
                    node = v
                    line = k.start_mark.line + 1  # the key's line: "hessian:" rather than its body
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int):
            if step >= len(node.value):
                return line
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            return line
    return line


class _Yaml:
    """Error context for one YAML file: ``fail(path, message)`` names file, line and key path."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        try:
            self.root = yaml.compose(text, Loader=_YamlLoader)
        except yaml.YAMLError:
            self.root = None

    def fail(self, where: Sequence[Any], message: str) -> NoReturn:
        line = _node_line(self.root, where)
        at = f", line {line}" if line is not None else ""
        key = "/".join(str(w) for w in where) or "(top level)"
        raise ConfigError(f"{self.path}{at}, at {key}: {message}")


def _matrix_rows(value: Any, base: Path, y: _Yaml, where: list[Any]) -> list[list[float]]:
    if not isinstance(value, str):
        return [[float(v) for v in row] for row in value]
    path = base / value
    try:
        text = path.read_text()
    except OSError as exc:
        y.fail(where, f"cannot read the matrix file {path}: {exc.strerror or exc}")
    rows = []
    for number, raw in enumerate(text.splitlines(), 1):
        content = raw.split("#", 1)[0].replace(",", " ").split()
        if not content:
            continue
        try:
            rows.append([float(v) for v in content])
        except ValueError:
            y.fail(where, f"{path}, line {number}: expected numbers, got {raw.strip()!r}")
    if not rows:
        y.fail(where, f"the matrix file {path} is empty")
    return rows


def _square(rows: list[list[float]], n: int, y: _Yaml, where: list[Any]) -> NDArray[np.float64]:
    """A full square or lower-triangle matrix of size n (the triangle is mirrored)."""
    if len(rows) != n:
        y.fail(where, f"the matrix has {len(rows)} rows, expected {n} (one per name)")
    if all(len(r) == n for r in rows):
        return np.array(rows, dtype=float)
    if all(len(r) == i + 1 for i, r in enumerate(rows)):
        m = np.zeros((n, n))
        for i, r in enumerate(rows):
            m[i, : i + 1] = r
        return np.tril(m) + np.tril(m, -1).T
    lengths = [len(r) for r in rows]
    y.fail(where, f"rows have {lengths} entries; expected {n} each (square) or 1…{n} (triangle)")


def _yaml_measurement(name: str, spec: Mapping[str, Any], base: Path, y: _Yaml) -> Measurement:
    where: list[Any] = ["measurements", name]
    estimates = {str(k): float(v) for k, v in spec["estimates"].items()}
    single = next(iter(estimates)) if len(estimates) == 1 else None
    fitted = (
        "hessian"
        if "hessian" in spec
        else "correlation_matrix"
        if "correlation_matrix" in spec
        else None
    )
    hessian = correlation = None
    if fitted is not None:
        part = spec[fitted]
        names = [str(n) for n in part["names"]]
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            y.fail([*where, fitted, "names"], f"names {dupes} are given twice")
        missing = [e for e in estimates if e not in names]
        if missing:
            y.fail([*where, fitted, "names"], f"the estimates {missing} are not among the names")
        matrix = _square(
            _matrix_rows(part["matrix"], base, y, [*where, fitted, "matrix"]),
            len(names),
            y,
            [*where, fitted, "matrix"],
        )
        if fitted == "hessian":
            hessian = (names, matrix)
        else:
            c = part["constraints"]
            if isinstance(c, Mapping):
                unknown = [k for k in c if k not in names]
                lacking = [n for n in names if n not in c]
                if unknown or lacking:
                    y.fail(
                        [*where, fitted, "constraints"],
                        f"constraints must be given for exactly the names; missing {lacking}, "
                        f"unknown {unknown}",
                    )
                constraints = [float(c[n]) for n in names]
            else:
                if len(c) != len(names):
                    y.fail(
                        [*where, fitted, "constraints"],
                        f"{len(c)} constraints for {len(names)} names",
                    )
                constraints = [float(v) for v in c]
            correlation = (names, constraints, matrix)
        for key in ("stat", "stat_correlation"):
            if key in spec:
                y.fail(
                    [*where, key],
                    f"'{key}' cannot be combined with '{fitted}', which already gives the "
                    "statistical uncertainties",
                )
    stat: dict[str, float] = {}
    stat_corr = None
    if fitted is None:
        if "stat" not in spec:
            y.fail(where, "needs 'hessian', 'correlation_matrix' or 'stat' (with 'uncertainties')")
        s = spec["stat"]
        if isinstance(s, Mapping):
            stat = {str(k): float(v) for k, v in s.items()}
        elif single is not None:
            stat = {single: float(s)}
        else:
            y.fail([*where, "stat"], "a single number is allowed only for a single estimate")
        if "stat_correlation" in spec:
            w = [*where, "stat_correlation"]
            stat_corr = _square(
                _matrix_rows(spec["stat_correlation"], base, y, w), len(estimates), y, w
            )
    systematics: dict[str, dict[str, Shift]] = {}
    for source, entries in (spec.get("uncertainties") or {}).items():
        if isinstance(entries, Mapping):
            systematics[source] = {
                str(e): (tuple(v) if isinstance(v, list) else v) for e, v in entries.items()
            }
        elif single is not None:
            systematics[source] = {single: tuple(entries) if isinstance(entries, list) else entries}
        else:
            y.fail(
                [*where, "uncertainties", source],
                "give {estimate: shift}; a bare shift is allowed only for a single estimate",
            )
    all_sources = [n for n in (hessian or correlation or ([],))[0] if n not in estimates]
    all_sources += list(systematics)
    for r in spec.get("relative", []):
        if r not in all_sources:
            y.fail(
                [*where, "relative"], f"{r!r} is not a source of the measurement ({all_sources})"
            )
    try:
        return assemble_measurement(
            name,
            estimates,
            hessian=hessian,
            correlation=correlation,
            stat=stat,
            stat_correlation=stat_corr,
            systematics=systematics,
            relative=spec.get("relative", []),
            nuisance_values=spec.get("nuisance_values"),
        )
    except BuildError as exc:
        key = {
            "fitted": fitted or "stat",
            "orthogonal": "uncertainties" if fitted else "stat",
            "nuisance": "nuisance_values",
        }[exc.stage]
        y.fail([*where, key] if key in spec else where, str(exc))


# --------------------------------------------------------------------------- distributions
_FORMS = ("estimates", "hepdata", "root", "yoda")
#: Keys of an inline measurement, which a ROOT or HEPData measurement gives inside its block.
_INLINE = (
    "hessian",
    "correlation_matrix",
    "stat",
    "stat_correlation",
    "uncertainties",
    "relative",
    "nuisance_values",
    "binning",
)


def _check_forms(data: Mapping[str, Any], y: _Yaml) -> None:
    """Each measurement is exactly one of inline, ROOT or HEPData (before the schema, whose
    message for a failed ``oneOf`` names no key)."""
    measurements = data.get("measurements")
    if not isinstance(measurements, Mapping):
        return
    for name, spec in measurements.items():
        if not isinstance(spec, Mapping):
            continue
        where = ["measurements", name]
        forms = [f for f in _FORMS if f in spec]
        if not forms:
            y.fail(
                where,
                "a measurement needs 'estimates' (inline), 'hepdata' (a HEPData table), "
                "'root' (histograms or a graph in a ROOT file) or 'yoda' (an object of a YODA "
                "file)",
            )
        if len(forms) > 1:
            y.fail([*where, forms[1]], f"give one of {forms}, not both")
        block = spec.get("root")
        if isinstance(block, Mapping):
            given = [k for k in ("histogram", "graph") if k in block]
            if len(given) != 1:
                y.fail(
                    [*where, "root", *given[1:]],
                    "give the distribution as 'histogram' (a TH1) or 'graph' (a "
                    "TGraphAsymmErrors or TGraphErrors), one of them",
                )
        if forms[0] != "estimates":
            inline = [k for k in spec if k in _INLINE]
            if inline:
                y.fail(
                    [*where, inline[0]],
                    f"'{inline[0]}' belongs to an inline measurement; a '{forms[0]}' "
                    "measurement gives everything inside its block",
                )


def _quantity(spec: Mapping[str, Any] | None) -> Quantity | None:
    if spec is None:
        return None
    quals = tuple(
        Qualifier(str(q["name"]), str(q["value"]), str(q.get("unit", "")))
        for q in spec.get("qualifiers", [])
    )
    return Quantity(str(spec.get("label", "")), str(spec.get("unit", "")), quals)


def _binning(spec: Mapping[str, Any], n: int, what: str, y: _Yaml, where: list[Any]) -> Binning:
    """The bins of an inline ``binning:`` block, ``n`` of them."""
    axis: dict[str, Any] = {k: str(spec[k]) for k in ("name", "label", "unit") if k in spec}
    try:
        if "edges" in spec:
            binning = Binning.from_edges([float(v) for v in spec["edges"]], **axis)
        elif "low" in spec:
            low = np.array([float(v) for v in spec["low"]])
            high = np.array([float(v) for v in spec["high"]])
            if low.shape != high.shape:
                y.fail(where, f"{len(low)} low edges but {len(high)} high edges")
            binning = Binning(low, high, **axis)
        else:
            y.fail(where, "give the bins as 'edges' (n + 1) or 'low' and 'high' (n each)")
    except InvalidMeasurement as exc:
        y.fail(where, str(exc))
    if binning.n_bins != n:
        y.fail(where, f"{binning.n_bins} bins, but {what} {n}")
    return binning


def _relocate(base: Path, value: Any) -> Any:
    return str(base / value) if isinstance(value, str) else value


def _hepdata_measurement(
    name: str, block: Mapping[str, Any], base: Path, y: _Yaml
) -> DifferentialMeasurement:
    """``hepdata:`` → :func:`~hepcombine.inputs.hepdata.read_hepdata`, key by key."""
    from .hepdata import HEPDataBreakdown, HEPDataMatrix, read_hepdata

    where = ["measurements", name, "hepdata"]
    matrices = []
    for i, m in enumerate(block.get("matrices", [])):
        try:
            matrices.append(
                HEPDataMatrix(
                    **{k: v for k, v in m.items() if k != "path"},
                    path=_relocate(base, m.get("path")),
                )
            )
        except HepCombineError as exc:
            y.fail([*where, "matrices", i], str(exc))
    breakdown = None
    if "breakdown" in block:
        b = block["breakdown"]
        breakdown = HEPDataBreakdown(
            **{k: v for k, v in b.items() if k != "path"}, path=_relocate(base, b.get("path"))
        )
    direct = (
        "x",
        "stat",
        "sources",
        "relative",
        "uncorrelated",
        "scale",
        "per_bin_width",
        "asymmetric",
        "drop_bins",
        "axis_label",
        "axis_unit",
        "bin_prefix",
    )
    options: dict[str, Any] = {k: block[k] for k in direct if k in block}
    path = base / block["path"]
    if not path.exists():
        y.fail([*where, "path"], f"no HEPData record at {path}")
    try:
        return read_hepdata(
            path,
            block.get("table"),
            block.get("variable"),
            name=name,
            matrices=matrices,
            breakdown=breakdown,
            quantity=_quantity(block.get("quantity")),
            **options,
        )
    except HepCombineError as exc:
        y.fail(_hepdata_key(where, block, str(exc)), str(exc))


def _hepdata_key(where: list[Any], block: Mapping[str, Any], message: str) -> list[Any]:
    """The key of a ``hepdata:`` block that a reader message is about: the argument it names
    (``stat=``, ``drop_bins [18] …``), else the block."""
    for key in block:
        if f"{key}=" in message:
            return [*where, key]
    for key in block:
        if key not in ("path", "table", "variable", "x") and re.search(rf"\b{key}\b", message):
            return [*where, key]
    return where


#: The roles measurement_from_histograms / _graph name in messages → keys of a ``root:`` block.
_ROOT_ROLES = (
    ("nominal", "histogram"),
    ("graph", "graph"),
    ("stat covariance", "stat_covariance"),
    ("stat correlation", "stat_correlation"),
    ("stat uncertainty", "stat"),
)


def _root_key(where: list[Any], block: Mapping[str, Any], message: str) -> list[Any]:
    m = re.search(r"systematic '([^']+)'", message)
    if m and m.group(1) in (block.get("systematics") or {}):
        return [*where, "systematics", m.group(1)]
    for role, key in _ROOT_ROLES:
        if message.startswith(role) and key in block:
            return [*where, key]
    return where


def _root_measurement(
    name: str, block: Mapping[str, Any], base: Path, y: _Yaml
) -> DifferentialMeasurement:
    """``root:`` → :func:`~hepcombine.inputs.histograms.measurement_from_histograms` (a
    ``histogram``) or :func:`~hepcombine.inputs.histograms.measurement_from_graph` (a
    ``graph``), key by key."""
    from .histograms import Systematic, measurement_from_graph, measurement_from_histograms

    where = ["measurements", name, "root"]
    graph_only = ("errors", "error_source", "error_source_correlated")
    hist_only = ("stat_covariance",)
    wrong = [k for k in (graph_only if "histogram" in block else hist_only) if k in block]
    if wrong:
        kind = "a graph" if "histogram" in block else "a histogram"
        y.fail([*where, wrong[0]], f"'{wrong[0]}' applies to {kind} only")
    file = base / block["file"]
    if not file.is_file():
        y.fail([*where, "file"], f"no ROOT file {file}")
    systematics: dict[str, Any] = {}
    for source, entry in (block.get("systematics") or {}).items():
        if isinstance(entry, str):
            systematics[source] = entry
        elif isinstance(entry, list):
            systematics[source] = (entry[0], entry[1])
        else:
            systematics[source] = Systematic(entry["up"], entry.get("down"), entry.get("kind"))
    common: dict[str, Any] = {
        "name": name,
        "systematics": systematics,
        "relative": block.get("relative", ()),
        "kind": block.get("kind", "variation"),
        "bin_prefix": block.get("bin_prefix"),
        "stat_correlation": block.get("stat_correlation"),
        "file": file,
    }
    try:
        if "histogram" in block:
            dm = measurement_from_histograms(
                block["histogram"],
                stat=block.get("stat"),
                stat_covariance=block.get("stat_covariance"),
                **common,
            )
        else:
            dm = measurement_from_graph(
                block["graph"],
                errors=block.get("errors", "stat"),
                stat=block.get("stat"),
                error_source=block.get("error_source"),
                error_source_correlated=block.get("error_source_correlated", True),
                **common,
            )
    except HepCombineError as exc:
        y.fail(_root_key(where, block, str(exc)), str(exc))
    axis: dict[str, Any] = {
        k: str(block[f"axis_{k}"]) for k in ("label", "unit") if f"axis_{k}" in block
    }
    changes: dict[str, Any] = {}
    if axis and isinstance(dm.binning, Binning2D):
        y.fail(
            [*where, f"axis_{next(iter(axis))}"],
            "a 2-d histogram (TH2) takes the labels and units of its axes from the file; "
            "leave axis_label and axis_unit out",
        )
    if axis:
        changes["binning"] = dataclasses.replace(dm.binning, **axis)
    if "quantity" in block:
        changes["quantity"] = _quantity(block["quantity"])
    return dataclasses.replace(dm, **changes) if changes else dm


def _yoda_measurement(
    name: str, block: Mapping[str, Any], base: Path, y: _Yaml
) -> DifferentialMeasurement:
    """``yoda:`` → :func:`~hepcombine.inputs.yoda.read_yoda_measurement`, key by key."""
    from .yoda import read_yoda_measurement

    where = ["measurements", name, "yoda"]
    path = base / block["path"]
    if not path.is_file():
        y.fail([*where, "path"], f"no YODA file {path}")
    options = {k: v for k, v in block.items() if k not in ("path", "object", "quantity")}
    try:
        return read_yoda_measurement(
            path,
            block.get("object"),
            name=name,
            quantity=_quantity(block.get("quantity")),
            **options,
        )
    except HepCombineError as exc:
        y.fail(_hepdata_key(where, block, str(exc)), str(exc))


def _aliases(name: str, block: Mapping[str, Any]) -> dict[str, str]:
    """``{label as written in the file: source}`` for the renamed labels of a HEPData
    measurement (labels that are not renamed resolve by the reader's cleaning)."""
    from .hepdata._tables import _clean_label

    out = {}
    for label, new in (block.get("sources") or {}).items():
        if new is not None:
            out[str(label)] = str(new)
            out[_clean_label(str(label))] = str(new)
    return out


def read_yaml(path: str | Path) -> CombinationSpec:
    """Read a hepcombine YAML configuration (validated against ``schemas/config.json``).

    Example::

        measurements:
          atlas:
            estimates: {xs: 101.5}
            stat: 3.1
            uncertainties:
              lumi: 2.0
              pdf: [1.2, -0.8]      # [up, down]
          cms:
            estimates: {xs: 99.0, xs_aux: 20.0}
            hessian:
              names: [xs, xs_aux, lumi]
              matrix: cms_hessian.csv     # or inline rows (square or lower triangle)
            nuisance_values: {lumi: 0.2}
        observables:
          xs: [atlas:xs, cms:xs]
        correlations:
          - {a: atlas:lumi, b: cms:lumi, rho: 1.0}
          - {a: pdf, b: cms:lumi, rho: 0.0, scan: [0, 0.5], group: pdf}
        impacts: {luminosity: [atlas:lumi, cms:lumi], statistics: [stat]}
        errors_on_errors: {pdf: 0.3, 'cms:lumi': {eps: 0.2, type: independent}}
        chi2: neyman

    Without ``observables`` every estimate name becomes one combined quantity of all estimates
    of that name. Correlation entries with ``scan`` are scanned; entries with the same
    ``group`` are scanned together (an entry without ``group`` is a group of its own named
    ``"a, b"``). ``shared_names: true`` correlates same-named sources with +1, as
    ``sharedNames`` does for Convino files. ``errors_on_errors`` gives the relative
    uncertainty ε of the size of sources (a source, a bare name for every source of that name,
    or a pattern; see :mod:`hepcombine.errors_on_errors`).

    Distributions: a measurement can instead be a HEPData table (``hepdata:``, every key an
    argument of :func:`~hepcombine.inputs.hepdata.read_hepdata`), histograms or a graph in a
    ROOT file (``root:``, the arguments of
    :func:`~hepcombine.inputs.histograms.measurement_from_histograms` with ``histogram:`` or of
    :func:`~hepcombine.inputs.histograms.measurement_from_graph` with ``graph:``, objects by
    name), an object of a YODA file (``yoda:``, Rivet reference data or a HEPData YODA export:
    the arguments of :func:`~hepcombine.inputs.yoda.read_yoda_measurement`), or inline with a
    ``binning:`` of its estimates; paths are relative to the configuration::

        measurements:
          ee:
            hepdata:
              path: hepdata/ee/Table2.yaml
              variable: 0                     # by header name or 0-based index
              uncorrelated: ['sys,uncorr']    # labels as written in the file (or cleaned)
              matrices: [{content: stat, kind: covariance, table: Table3.yaml}]
          mumu:
            hepdata: {path: hepdata/mumu/Table_2.yaml, variable: 0, per_bin_width: true,
                      drop_bins: [17], sources: {'sys,beam': beam}, relative: ['sys,lumi']}
          atlas:
            root:
              file: atlas.root
              histogram: h_y                  # or graph: g_y (with errors: stat|total|syst)
              stat_covariance: h_y_statcov    # TH2; or stat: <TH1>, stat_correlation: <TH2>
              kind: variation                 # variation | shift | fraction | percent
              systematics:
                jes: [h_y_jes_up, h_y_jes_down]
                lumi: {up: h_y_lumi, kind: fraction}
              relative: [lumi]
              axis_unit: ''
          rivet:
            yoda: {path: ATLAS_2020_I1790439.yoda, object: d03-x01-y01, stat: stat,
                   sources: {sys: atlas_sys}}
          extra:
            estimates: {b0: 8.9, b1: 25.1}
            stat: {b0: 0.4, b1: 0.6}
            binning: {edges: [2.0, 2.125, 2.25]}  # or low: [...], high: [...] (gaps allowed)
        correlations:
          - {a: 'ee:sys,lumi', b: 'mumu:lumi', rho: 1.0}
        binning: {name: yZ, label: '$y_{Z}$', match: exact}   # match: union
        quantity: {label: 'dσ/dy', unit: pb, qualifiers: [{name: SQRT(S), value: 8000, unit: GeV}]}
        impacts: {ee: ['ee:corr', 'ee:uncorr_*']}             # patterns match sources

    The bins of such measurements are matched by their edges, never by position, and named
    ``bin0, bin1, …`` (so ``observables`` is not given): with ``match: exact`` (the default)
    every measurement must have every bin, a bin one of them lacks is an error naming both;
    with ``match: union`` each bin is combined from the measurements that have it. Bins that
    overlap without being equal, and units that differ, are errors. The combined binning takes
    the first measurement's axis (``binning:`` overrides name, label, unit), the quantity what
    the measurements say (label and unit of the first that has them, the qualifiers common to
    all; ``quantity:`` overrides). Inline measurements without a binning get a top-level
    ``binning:`` with ``edges`` (or, with ``differential: true``, the bin numbers). Sources of a
    HEPData measurement can be named by their label as written in the file (``ee:sys,lumi``)
    or cleaned (``ee:lumi``), or by the new name that ``sources:`` gives them.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    y = _Yaml(path, text)
    try:
        loader = _YamlLoader(text)
        loader.name = str(path)
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}{at}: not valid YAML: {problem}") from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    _check_forms(data, y)
    validator = jsonschema.Draft202012Validator(_schema())
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        where = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
            allowed = error.schema.get("properties", {})
            extra = [k for k in error.instance if k not in allowed]
            if extra:
                where.append(extra[0])
        y.fail(
            where,
            f"{error.message} (schema: {'/'.join(map(str, error.absolute_schema_path))})",
        )

    base = path.parent
    measurements: dict[str, Measurement] = {}
    binned: dict[str, DifferentialMeasurement] = {}
    aliases: dict[str, dict[str, str]] = {}
    for n, m in data["measurements"].items():
        name = str(n)
        if "hepdata" in m:
            binned[name] = _hepdata_measurement(name, m["hepdata"], base, y)
            aliases[name] = _aliases(name, m["hepdata"])
        elif "root" in m:
            binned[name] = _root_measurement(name, m["root"], base, y)
        elif "yoda" in m:
            binned[name] = _yoda_measurement(name, m["yoda"], base, y)
            aliases[name] = _aliases(name, m["yoda"])
        else:
            measurements[name] = _yaml_measurement(name, m, base, y)
            if "binning" in m:
                binned[name] = DifferentialMeasurement(
                    measurements[name],
                    _binning(
                        m["binning"],
                        len(m["estimates"]),
                        "the measurement has estimates",
                        y,
                        ["measurements", name, "binning"],
                    ),
                    title=name,
                    origin=f"{path}, measurements/{name}",
                )
            continue
        measurements[name] = binned[name].measurement
    names = Names(measurements)
    shared = bool(data.get("shared_names", False))

    def source_ref(ref: Any) -> str:
        """A source reference, with the labels of HEPData measurements as written in the file
        ('ee:sys,lumi') resolved to their sources."""
        from .hepdata._tables import _clean_label

        text = str(ref).strip()
        m, sep, n = text.partition(":")
        if sep and m in aliases and n not in measurements[m].source_names:
            new = aliases[m].get(n) or aliases[m].get(_clean_label(n)) or _clean_label(n)
            return f"{m}:{new}"
        return text

    top_binning: Mapping[str, Any] = data.get("binning") or {}
    quantity = _quantity(data.get("quantity"))
    observables: dict[str, list[str]]
    binning: Binning | Binning2D | None = None
    by_linear: set[str] = set()
    for q, entry in (data.get("linear") or {}).items():
        for i, ref in enumerate(entry.get("measured_by", [])):
            try:
                by_linear.add(names.qualified_estimate(str(ref).strip()))
            except UnknownName as exc:
                y.fail(["linear", q, "measured_by", i], str(exc))
    sums: dict[str, LinearQuantity] = {}
    distributions: dict[str, DifferentialMeasurement] = {}
    if binned:
        observables, binning, quantity, merged, sums = _matched(
            data, measurements, binned, quantity, y, by_linear
        )
        if merged:
            distributions = dict(binned)
        measurements.update(merged)
    elif "observables" in data:
        observables = {}
        used: dict[str, str] = {}
        for combined, refs in data["observables"].items():
            resolved = []
            for i, ref in enumerate(refs):
                try:
                    r = names.qualified_estimate(str(ref).strip())
                except UnknownName as exc:
                    y.fail(["observables", combined, i], str(exc))
                if r in used:
                    y.fail(
                        ["observables", combined, i],
                        f"estimate {r!r} is already mapped to {used[r]!r}",
                    )
                used[r] = str(combined)
                resolved.append(r)
            observables[str(combined)] = resolved
    else:
        observables = {}
        for mname, m in measurements.items():
            for e in m.estimate_names:
                if f"{mname}:{e}" not in by_linear:
                    observables.setdefault(e, []).append(f"{mname}:{e}")

    correlations: dict[tuple[str, str], float] = {}
    origin: dict[frozenset[str], str] = {}
    if shared:
        for refs in names.shared_sources().values():
            for i, a in enumerate(refs):
                for b in refs[i + 1 :]:
                    add_correlation(correlations, origin, a, b, 1.0, "by shared_names")
    n_points = int(data.get("scan_points", 6))
    groups: dict[str, list[Pair]] = {}
    for i, entry in enumerate(data.get("correlations", [])):
        where = ["correlations", i]
        try:
            left = names.qualified_sources(source_ref(entry["a"]), shared)
            right = names.qualified_sources(source_ref(entry["b"]), shared)
            for a in left:
                for b in right:
                    add_correlation(correlations, origin, a, b, float(entry["rho"]), f"entry {i}")
                    if "scan" in entry:
                        group = entry.get("group", f"{entry['a']}, {entry['b']}")
                        start, stop = (float(v) for v in entry["scan"])
                        groups.setdefault(group, []).append((a, b, start, stop))
        except (UnknownName, ReaderError) as exc:
            y.fail(where, str(exc))
        if "group" in entry and "scan" not in entry:
            y.fail([*where, "group"], "'group' needs a 'scan' range")
    scans = [ScanGroup(name, pairs, n_points) for name, pairs in groups.items()]

    impacts: dict[str, list[str]] = {}
    for group, refs in (data.get("impacts") or {}).items():
        members: list[str] = []
        for i, ref in enumerate(refs):
            if ref == "stat":
                members.append("stat")
                continue
            if any(c in str(ref) for c in "*?["):  # a pattern: 'ee:uncorr_*'
                every = [names.source_name(k) for k in range(len(names.sources))]
                hits = fnmatch.filter(every, str(ref).strip())
                if not hits:
                    y.fail(["impacts", group, i], f"the pattern {ref!r} matches no source")
                members.extend(hits)
                continue
            try:
                members.extend(names.qualified_sources(source_ref(ref), shared))
            except UnknownName as exc:
                y.fail(["impacts", group, i], str(exc))
        impacts[str(group)] = members

    errors_on_errors: dict[str, ErrorOnError] = {}
    for ref, value in (data.get("errors_on_errors") or {}).items():
        where = ["errors_on_errors", ref]
        key = source_ref(ref)
        try:
            names.matching(key)
            errors_on_errors[key] = (
                ErrorOnError(value["eps"], value.get("type", "dependent"))
                if isinstance(value, Mapping)
                else ErrorOnError(value)
            )
        except (UnknownName, InvalidArgument) as exc:
            y.fail(where, str(exc))

    differential = bool(data.get("differential", False))
    if binned:
        differential = True
    elif top_binning:
        if data.get("differential") is False:
            y.fail(["binning"], "a binning is given but 'differential' is false")
        if "match" in top_binning:
            y.fail(["binning", "match"], "'match' applies to measurements with a binning")
        differential = True
        if "edges" in top_binning or "low" in top_binning:
            binning = _binning(
                top_binning, len(observables), "there are observables", y, ["binning"]
            )
        else:  # only the axis: the bins are numbered
            axis: dict[str, Any] = {
                k: str(top_binning[k]) for k in ("name", "label", "unit") if k in top_binning
            }
            binning = dataclasses.replace(Binning.index(len(observables)), **axis)
    elif differential:
        binning = Binning.index(len(observables))
    if quantity is not None and not differential:
        y.fail(["quantity"], "'quantity' describes the bins of a differential combination")
    linear = dict(sums)
    for q, entry in (data.get("linear") or {}).items():
        linear[str(q)] = _linear_quantity(str(q), entry, observables, binning, names, sums, y)
    return CombinationSpec(
        measurements=measurements,
        observables=observables,
        correlations=correlations,
        scans=scans,
        impacts=impacts,
        differential=differential,
        normalise=bool(data.get("normalise", False)),
        chi2=data.get("chi2"),
        source=str(path),
        binning=binning,
        format="yaml",
        quantity=quantity,
        errors_on_errors=errors_on_errors,
        linear=linear,
        distributions=distributions,
    )


def _linear_quantity(
    q: str,
    entry: Mapping[str, Any],
    observables: Mapping[str, list[str]],
    binning: Binning | Binning2D | None,
    names: Names,
    sums: Mapping[str, LinearQuantity],
    y: _Yaml,
) -> LinearQuantity:
    """One entry of the ``linear:`` block: ``sum_of``/``integral_of`` (a list of combined
    observables or ``all``) or ``coefficients``, ``measured_by``, ``report``."""
    where: list[Any] = ["linear", q]
    if q in sums:
        y.fail(where, f"the name {q!r} is taken by a sum the binning made; rename it")
    given = [k for k in ("sum_of", "integral_of", "coefficients") if k in entry]
    if len(given) != 1:
        y.fail(where, "give exactly one of 'sum_of', 'integral_of' and 'coefficients'")
    key = given[0]
    spec: dict[str, Any] = {
        "measured_by": [
            names.qualified_estimate(str(r).strip()) for r in entry.get("measured_by", [])
        ],
        "report": entry.get("report", True),
    }
    if key == "coefficients":
        spec["coefficients"] = dict(entry["coefficients"])
    else:
        members = entry[key]
        members = list(observables) if members == "all" else [str(m) for m in members]
        unknown = [m for m in members if m not in observables]
        if unknown:
            from ..names import did_you_mean, some_names

            y.fail(
                [*where, key],
                f"{unknown[0]!r} is not a combined observable"
                f"{did_you_mean(unknown[0], observables)}; they are {some_names(observables)}",
            )
        if key == "sum_of":
            spec["sum_of"] = members
        else:
            if binning is None or binning.is_index:
                y.fail(
                    [*where, key],
                    "'integral_of' weights the bins by their widths: the combination needs bin "
                    "edges (use 'sum_of' or 'coefficients')",
                )
            assert binning is not None
            order = list(observables)
            spec["coefficients"] = {m: float(binning.widths[order.index(m)]) for m in members}
    try:
        return linear_quantities({q: spec})[q]
    except InvalidArgument as exc:
        y.fail(where, str(exc))
        raise


def _matched(
    data: Mapping[str, Any],
    measurements: Mapping[str, Measurement],
    binned: Mapping[str, DifferentialMeasurement],
    quantity: Quantity | None,
    y: _Yaml,
    by_linear: set[str],
) -> tuple[
    dict[str, list[str]],
    Binning | Binning2D,
    Quantity,
    dict[str, Measurement],
    dict[str, LinearQuantity],
]:
    """Observables, binning and quantity of measurements with a binning: bins matched by
    edges (:func:`~hepcombine.inputs._bins.match_bins`), or rebinned
    (:func:`~hepcombine.rebinning.rebin`: ``match: coarsest | finest`` or ``edges``) with the
    merged measurements and the sums of coarser bins."""
    plain = [
        n
        for n in measurements
        if n not in binned
        and not all(f"{n}:{e}" in by_linear for e in measurements[n].estimate_names)
    ]
    if plain:
        y.fail(
            ["measurements", plain[0]],
            f"the measurements {list(binned)} are distributions (their bins are matched by "
            f"edges), but {plain[0]!r} has no binning: give it 'binning: {{edges: [...]}}'",
        )
    if "observables" in data:
        y.fail(
            ["observables"],
            "the bins of ROOT, HEPData and binned measurements are matched by their edges "
            "(combined bins bin0, bin1, ...); leave 'observables' out",
        )
    if data.get("differential") is False:
        y.fail(["differential"], "measurements with a binning make a differential combination")
    top: Mapping[str, Any] = data.get("binning") or {}
    for key in ("low", "high"):
        if key in top:
            y.fail(
                ["binning", key],
                "the bins come from the measurements; the combined binning takes only "
                "'name', 'label', 'unit', 'match', 'edges' and 'unmeasured'",
            )
    match = top.get("match", "edges" if "edges" in top else "exact")
    if "edges" in top and match != "edges":
        y.fail(["binning", "match"], "'edges' chooses the combined bins; leave 'match' out")
    if "unmeasured" in top and match in ("exact", "union"):
        y.fail(
            ["binning", "unmeasured"], "'unmeasured' applies to match: coarsest, finest or edges"
        )
    merged: dict[str, Measurement] = {}
    sums: dict[str, LinearQuantity] = {}
    if match in ("exact", "union"):
        try:
            matched = match_bins(binned, union=match == "union")
        except BinMismatch as exc:
            y.fail(["measurements", exc.measurement], str(exc))
        except InvalidMeasurement as exc:
            y.fail(["measurements"], str(exc))
        observables, combined = matched.observables, matched.binning
    else:
        from ..rebinning import rebin

        content = {n: str(data["measurements"][n].get("content", "density")) for n in binned}
        try:
            rebinned = rebin(
                binned,
                match=match,
                edges=top.get("edges"),
                content=content,
                unmeasured=top.get("unmeasured", "error"),
            )
        except (InvalidMeasurement, InvalidArgument) as exc:
            y.fail(["binning"], str(exc))
        observables, combined = rebinned.observables, rebinned.binning
        merged, sums = rebinned.measurements, rebinned.linear
    axis: dict[str, Any] = {k: str(top[k]) for k in ("name", "label", "unit") if k in top}
    if axis and isinstance(combined, Binning2D):
        y.fail(
            ["binning"],
            "the axes of 2-d measurements take their name, label and unit from the measurements",
        )
    binning = dataclasses.replace(combined, **axis) if axis else combined
    if quantity is None:
        try:
            quantity = common_quantity({n: d.quantity for n, d in binned.items()})
        except InvalidMeasurement as exc:
            y.fail(["measurements"], f"{exc}; or give the combination's 'quantity:'")
    return observables, binning, quantity, merged, sums


def __dir__() -> list[str]:
    return list(__all__)
