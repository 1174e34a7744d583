"""Write a :class:`~hepcombine.spec.CombinationSpec` as the C++ Convino program's text files: a
base file plus one measurement file per measurement (read back by
:func:`hepcombine.inputs.convino.read_convino`). All files are written or none
(:mod:`hepcombine.outputs.atomic`).

Writer rule (fitted versus orthogonal sources): the orthogonal part of a measurement is the
longest tail of its ``source_names`` whose rows of ``source_information`` are exactly zero
(what :meth:`Measurement.with_uncertainties` and :meth:`Measurement.from_uncertainties`
produce); it is written to ``[not fitted]`` with asymmetric ``(+X-Y)`` entries where needed.
The sources before it, with the estimates, are written as a ``[hessian]`` (lower triangle,
from :meth:`Measurement.to_hessian`). Without fitted sources and with a diagonal statistical
information the estimates' statistical uncertainties go into the ``stat`` column and no Hessian
is written. An asymmetric source outside the orthogonal tail cannot be written. The source
order is therefore preserved, and write → read gives the same measurement.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..exceptions import ConfigError
from ..measurement import Measurement
from ..names import Names
from .atomic import output_set

if TYPE_CHECKING:
    from ..spec import CombinationSpec

__all__ = ["write_convino"]


def _fmt(value: float) -> str:
    return repr(float(value))


def _signed(value: float) -> str:
    text = _fmt(value)
    return text if text.startswith("-") else "+" + text


def _orthogonal_tail(m: Measurement) -> int:
    """Index of the first source of the orthogonal tail (see the module docstring)."""
    info = m.source_information
    start = len(m.source_names)
    while start > 0 and not np.any(info[start - 1]) and not np.any(info[:, start - 1]):
        start -= 1
    return start


def _measurement_text(m: Measurement) -> str:
    est, src = m.estimate_names, m.source_names
    tail = _orthogonal_tail(m)
    asymmetric = [src[i] for i in range(tail) if m.is_asymmetric[i]]
    if asymmetric:
        raise ConfigError(
            f"measurement {m.name!r}: sources {asymmetric} are asymmetric but carry information "
            "of the measurement's own fit; Convino's [hessian] holds only symmetric sources"
        )
    stat_info = m.stat_information
    diagonal = not np.any(stat_info - np.diag(np.diag(stat_info)))
    use_stat = tail == 0 and diagonal
    out: list[str] = [f"# measurement {m.name!r} written by hepcombine", ""]
    if not use_stat:
        fitted = Measurement(
            est,
            m.estimates,
            src[:tail],
            stat_info,
            m.shifts_up[:, :tail],
            m.shifts_down[:, :tail],
            m.source_information[:tail, :tail],
            m.nuisance_values[:tail],
            m.relative & set(src[:tail]),
            m.name,
        )
        h, names = fitted.to_hessian()
        out.append("[hessian]")
        for i, n in enumerate(names):
            out.append("  " + " ".join([n, *(_fmt(v) for v in h[i, : i + 1])]))
        out += ["[end hessian]", ""]
    columns = list(src[tail:])
    if columns or use_stat:
        header = columns + (["stat"] if use_stat else [])
        out.append("[not fitted]")
        out.append("  " + " ".join(header))
        sigma = 1.0 / np.sqrt(np.diag(stat_info))
        for i, e in enumerate(est):
            entries = []
            for j in range(tail, len(src)):
                up, down = m.shifts_up[i, j], m.shifts_down[i, j]
                entries.append(_fmt(up) if down == -up else f"({_signed(up)}{_signed(down)})")
            if use_stat:
                entries.append(_fmt(sigma[i]))
            out.append("  " + " ".join([e, *entries]))
        out += ["[end not fitted]", ""]
    out.append("[systematics]")
    kinds = {**dict.fromkeys(m.relative, "relative"), **dict.fromkeys(m.lognormal, "lognormal")}
    out += [f"  {s} = {kinds.get(s, 'absolute')}" for s in src]
    out += ["[end systematics]", "", "[estimates]", f"  n_estimates = {len(est)}"]
    for i, (e, v) in enumerate(zip(est, m.estimates, strict=True)):
        out += [f"  name_{i} = {e}", f"  value_{i} = {_fmt(v)}"]
    out += ["[end estimates]", ""]
    pulled = [(s, v) for s, v in zip(src, m.nuisance_values, strict=True) if v != 0]
    if pulled:
        out.append("[nuisance values]")
        out += [f"  {s} = {_fmt(v)}" for s, v in pulled]
        out += ["[end nuisance values]", ""]
    return "\n".join(out)


def write_convino(
    spec: CombinationSpec, directory: str | os.PathLike[str], base_name: str = "combination.txt"
) -> Path:
    """Write ``spec`` as a Convino base file plus one ``<measurement>.txt`` per measurement.

    Returns the path of the base file. References are written bare where unique, qualified
    otherwise. Source names used by several measurements need a correlation of +1 between all
    of them (written as ``sharedNames = true``). Each scan group becomes one ``[correlations]``
    line, so its pairs must share a source (the line's left-hand side, which also becomes the
    group's name); the number of scan points and ``chi2`` are not part of the format. All
    files are written completely, or none of them (then ``directory`` is not created either).
    A specification with linear quantities (``spec.linear``: merged or summed bins, totals) is
    a :class:`~hepcombine.exceptions.ConfigError`: the format cannot express them.
    """
    measurements = spec.measurements
    if spec.linear:
        raise ConfigError(
            f"{spec.source or 'the specification'}: its linear quantities {sorted(spec.linear)} "
            "(merged or summed bins, totals: binning: {match: ...}, linear:) cannot be written "
            "as a Convino file, whose estimates each measure one combined quantity; keep the "
            "YAML configuration, or combine in the bins every measurement has"
        )
    empty = [o for o, refs in spec.observables.items() if not refs]
    if empty:
        raise ConfigError(
            f"observables {empty} are measured only through linear quantities; a Convino file "
            "cannot say so"
        )
    for mname, m in measurements.items():
        for what, names in (
            ("measurement", [mname]),
            ("estimate", m.estimate_names),
            ("source", m.source_names),
        ):
            bad = [n for n in names if re.search(r"[\s:+=()#;]", n)]
            if bad:
                raise ConfigError(
                    f"{what} names {bad} of measurement {mname!r} contain characters the Convino "
                    "format uses as separators (whitespace : + = ( ) # ;); rename them or use "
                    "the YAML configuration"
                )
    directory = Path(directory)
    est_count: dict[str, int] = {}
    src_count: dict[str, int] = {}
    for m in measurements.values():
        for e in m.estimate_names:
            est_count[e] = est_count.get(e, 0) + 1
        for s in m.source_names:
            src_count[s] = src_count.get(s, 0) + 1

    def bare(ref: str, counts: Mapping[str, int]) -> str:
        name = ref.partition(":")[2]
        return name if counts.get(name) == 1 else ref

    nominal = {frozenset(k): v for k, v in spec.correlations.items()}
    shared = Names(measurements).shared_sources()
    implied: set[frozenset[str]] = set()
    for sname, refs in shared.items():
        for i, a in enumerate(refs):
            for b in refs[i + 1 :]:
                if nominal.get(frozenset((a, b))) != 1.0:
                    raise ConfigError(
                        f"source name {sname!r} is used by several measurements ({refs}) that "
                        "are not all correlated with +1; Convino files need distinct names here "
                        "(rename the sources)"
                    )
                implied.add(frozenset((a, b)))

    lines: dict[str, list[str]] = {}
    scanned_lhs: dict[str, str] = {}
    written: set[frozenset[str]] = set()
    for group in spec.scans:
        common = set.intersection(*({a, b} for a, b, _, _ in group.pairs))
        if not common:
            raise ConfigError(
                f"scan group {group.name!r}: its pairs share no source, so it cannot be written "
                "as one Convino [correlations] line"
            )
        first_a = group.pairs[0][0]
        lhs = first_a if first_a in common else sorted(common)[0]
        if lhs in scanned_lhs:
            raise ConfigError(
                f"scan groups {scanned_lhs[lhs]!r} and {group.name!r} both need the line of "
                f"{lhs!r}; Convino allows one scan group per line"
            )
        scanned_lhs[lhs] = group.name
        for a, b, start, stop in group.pairs:
            key = frozenset((a, b))
            if key not in nominal:
                raise ConfigError(
                    f"scan group {group.name!r}: pair ({a!r}, {b!r}) has no nominal correlation"
                )
            other = b if a == lhs else a
            lines.setdefault(lhs, []).append(
                f"({_fmt(nominal[key])} & {_fmt(start)} : {_fmt(stop)}) {bare(other, src_count)}"
            )
            written.add(key)
    for (a, b), rho in spec.correlations.items():
        key = frozenset((a, b))
        if key in written or key in implied:
            continue
        lines.setdefault(a, []).append(f"({_fmt(rho)}) {bare(b, src_count)}")
        written.add(key)

    names = list(measurements)
    out = [
        "# combination written by hepcombine",
        "",
        "[global]",
        f"  isDifferential = {str(spec.differential).lower()}",
        f"  normalise = {str(spec.normalise).lower()}",
    ]
    if shared:
        out.append("  sharedNames = true")
    out += ["[end global]", "", "[inputs]", f"  nFiles = {len(names)}"]
    out += [f"  file{i} = {n}.txt" for i, n in enumerate(names)]
    out += ["[end inputs]", "", "[observables]"]
    for combined, refs in spec.observables.items():
        out.append(f"  {combined} = " + " + ".join(bare(r, est_count) for r in refs))
    out += ["[end observables]", "", "[correlations]"]
    out += [f"  {bare(lhs, src_count)} = " + " + ".join(terms) for lhs, terms in lines.items()]
    out += ["[end correlations]", ""]
    if spec.impacts:
        out.append("[uncertainty impacts]")
        for group_name, refs in spec.impacts.items():
            terms = [r if r == "stat" else bare(r, src_count) for r in refs]
            out.append(f"  {group_name} = " + " + ".join(terms))
        out += ["[end uncertainty impacts]", ""]

    texts = {f"{n}.txt": _measurement_text(m) for n, m in measurements.items()}
    base = directory / base_name
    with output_set() as files:
        for file_name, text in texts.items():
            files.write_text(directory / file_name, text)
        files.write_text(base, "\n".join(out))
    return base


def __dir__() -> list[str]:
    return list(__all__)
