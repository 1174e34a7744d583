"""Write a combination as a HEPData submission: a directory and a ``.tar.gz``, with hepdata_lib.

What the submission holds is one :class:`HEPDataOptions` (a frozen dataclass: which
observables in which bins, the quantity, the table names and texts, the errors, which tables,
the digits), so that :func:`prepare_hepdata` (build and check) and :func:`write_hepdata` (build,
check, validate, write) take the same object instead of repeating a dozen keywords::

    from hepcombine.outputs.hepdata import HEPDataOptions, write_hepdata

    write_hepdata(dr, "submission")  # a DifferentialResult: its bins, binning and quantity
    options = HEPDataOptions(binning=bins, quantity=xsec, errors="hesse", name="Z rapidity")
    write_hepdata(result, "submission", options, overwrite=True)

:func:`write_hepdata` writes, for an ordered list of combined observables (the bins of a
distribution, or any set of quantities),

* table ``name``: one independent variable (the bins: edges, axis label, unit) and two
  dependent variables with the same values: the first with the ``total`` uncertainty (the 68 %
  profile-likelihood interval, Δχ² = 1, as an asymmetric error; or the symmetric Hesse error),
  the second, ``"… (breakdown)"``, with the uncertainty breakdown as labelled symmetric errors
  (``stat``, then ``sys,<component>``; they add up in quadrature to the symmetric error, a
  component with a negative variance is written with a negative sign);
* tables ``"<name> covariance"`` and ``"<name> correlation"``: flattened ``n × n`` matrices with
  two binned independent variables (the bins' edges, so that readers match them by edge).

Decisions
---------
* **Digits.** hepdata_lib rounds every number to ``Variable.digits`` significant digits (5 by
  default, which loses up to 3·10⁻⁵ relative); here ``digits=10`` by default, so the file
  reproduces the result to ~10⁻¹⁰.
* **All or nothing.** The directory and the archive are staged in an
  :class:`~hepcombine.outputs.atomic.OutputSet` (:func:`write_hepdata` uses its own;
  :func:`prepare_hepdata` and :meth:`HEPDataTables.stage` let the command line write them with
  its other outputs): the directory is filled under a temporary name next to the target and
  validated with ``hepdata_validator``'s ``FullSubmissionValidator``; only a valid submission
  is renamed onto the targets. An existing target is replaced only with ``overwrite=True``, and
  a directory only if it is a submission directory (``submission.yaml``, no subdirectories), so
  that ``overwrite`` never deletes anything else. ``Submission.create_files`` is not used: it
  writes ``submission.tar.gz`` into the current working directory (and changing the working
  directory is not safe in a library), so the submission header that it would write is
  written here, the tables from hepdata_lib's ``Variable.make_dict`` (its rounding and error
  layout) in the block layout of hepdata.net's records by :func:`_data_file_text` (PyYAML's
  representer, even with the C emitter, took 2.8 s for the two 10⁴-row matrices of 100 bins),
  and the archive with :mod:`tarfile`.
* **Names.** HEPData limits table names to 64 characters and derives file names from them
  (lower case, spaces → ``_``): names that are too long, contain a path separator or collide
  are an error before anything is written.
* **Dependency.** hepdata_lib (with hepdata-validator, which it requires) is the optional
  extra ``hepcombine[hepdata]``; it is imported only here, when writing (≈0.2–0.4 s).
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import math
import os
import re
import tarfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import yaml

from ..binning import Binning, Qualifier, Quantity, as_1d
from ..exceptions import HEPDataError, IntervalError, InvalidArgument, OutputError, UnknownName
from .atomic import OutputSet, output_set

if TYPE_CHECKING:
    from ..differential import DifferentialResult
    from ..result import CombinationResult

__all__ = [
    "HEPDataOptions",
    "HEPDataSubmission",
    "HEPDataTables",
    "prepare_hepdata",
    "write_hepdata",
]

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
INSTALL = 'pip install "hepcombine[hepdata]"'
_NAME_LIMIT = 64
#: HEPData's limit on one data file (hepdata_validator's INDIVIDUAL_FILE_SIZE_LIMIT, 10 MiB):
#: a matrix table of n bins has n² rows of ~85 bytes, so about 350 bins at 10 digits.
_FILE_LIMIT = 10 * 1024 * 1024


@dataclass(frozen=True)
class HEPDataSubmission:
    """What :func:`write_hepdata` wrote: the submission directory, the archive, and the table
    names with their data files (in the directory)."""

    directory: Path
    archive: Path
    tables: tuple[str, ...]
    files: tuple[Path, ...]


@dataclass(frozen=True)
class HEPDataOptions:
    """What a HEPData submission of a combination holds: one object for
    :func:`prepare_hepdata`, :func:`write_hepdata` and the command line.

    A new kind of content (e.g. HEPData's additional resources: a covariance file, an HS3
    workspace) is a new field here with its default "not written", checked in
    ``__post_init__`` and turned into hepdata_lib objects in :func:`prepare_hepdata`; the
    callers pass the options through unchanged.

    Attributes
    ----------
    observables:
        The combined observables to write, in order (the bins); default all. From the result
        for a :class:`~hepcombine.differential.DifferentialResult`.
    binning:
        Their bins (edges, axis label and unit); default the bin numbers (the description then
        names the observable of each bin). From the result for a ``DifferentialResult``.
    quantity:
        What the values are (label, unit, qualifiers such as √s). From the result for a
        ``DifferentialResult``.
    qualifiers:
        More qualifiers, :class:`~hepcombine.binning.Qualifier` or ``(name, value)`` /
        ``(name, value, unit)`` (stored as ``Qualifier``).
    name, description, comment:
        Name of the main table (the matrices are ``"<name> covariance"`` and
        ``"<name> correlation"``; at most 64 characters each, usable as file names), its
        description (default: how it was combined), and the submission's comment.
    errors:
        ``"profile"``: the profile-likelihood interval as asymmetric ``total`` error (an error
        if an interval is not valid); ``"hesse"``: the symmetric error.
    breakdown, covariance, correlation:
        Which of the breakdown variable and the matrix tables to write.
    digits:
        Significant digits of every number (hepdata_lib's ``Variable.digits``), 1 to 17.

    Raises
    ------
    HEPDataError
        Bad names, errors, digits or qualifiers (when the options are made, before anything is
        built).
    InvalidArgument
        ``binning`` or ``quantity`` of the wrong type, ``observables`` given as one string.
    """

    observables: Sequence[str] | None = None
    binning: Binning | None = None
    quantity: Quantity | None = None
    qualifiers: Sequence[Qualifier | Sequence[str]] = ()
    name: str = "Combination"
    description: str = ""
    comment: str = ""
    errors: Literal["profile", "hesse"] = "profile"
    breakdown: bool = True
    covariance: bool = True
    correlation: bool = True
    digits: int = 10

    def __post_init__(self) -> None:
        if self.observables is not None:
            if isinstance(self.observables, str):
                raise InvalidArgument(
                    f"observables must be a list of names, not the string {self.observables!r}"
                )
            object.__setattr__(self, "observables", tuple(str(o) for o in self.observables))
        if self.binning is not None and not isinstance(self.binning, Binning):
            raise InvalidArgument(f"binning must be a Binning, not {type(self.binning).__name__}")
        if self.quantity is not None and not isinstance(self.quantity, Quantity):
            raise InvalidArgument(
                f"quantity must be a Quantity, not {type(self.quantity).__name__}"
            )
        object.__setattr__(self, "qualifiers", tuple(_qualifiers(Quantity(), self.qualifiers)))
        if self.errors not in ("profile", "hesse"):
            raise HEPDataError(f"errors must be 'profile' or 'hesse', not {self.errors!r}")
        if not (isinstance(self.digits, int) and 1 <= self.digits <= 17):
            raise HEPDataError(f"digits must be an integer from 1 to 17, not {self.digits!r}")
        _check_names(self.tables)

    @property
    def tables(self) -> tuple[str, ...]:
        """The names of the tables these options write, in order."""
        out = [self.name]
        if self.covariance:
            out.append(f"{self.name} covariance")
        if self.correlation:
            out.append(f"{self.name} correlation")
        return tuple(out)


# hepdata_lib imports PyROOT whenever it is installed (for its ROOT file reader, which is not
# used here), and PyPI's ROOT wheel warns on import that it is an alpha distribution: a warning
# about a package the user did not ask for, printed by every `combine --hepdata`.
_ROOT_ALPHA_WARNING = r"\s*This distribution of ROOT is in alpha stage"


def _hepdata_lib() -> Any:
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", _ROOT_ALPHA_WARNING, UserWarning)
            import hepdata_lib
        from hepdata_validator.full_submission_validator import FullSubmissionValidator
    except ImportError:
        raise HEPDataError(f"writing HEPData needs hepdata_lib: {INSTALL}") from None
    return hepdata_lib, FullSubmissionValidator


def _file_stem(name: str) -> str:
    """The data file name hepdata_lib derives from a table name."""
    return name.lower().replace(" ", "_")


def _check_names(names: Sequence[str]) -> None:
    stems: dict[str, str] = {}
    for n in names:
        if not n.strip():
            raise HEPDataError("a HEPData table needs a non-empty name")
        if len(n) > _NAME_LIMIT:
            raise HEPDataError(
                f"table name {n!r} has {len(n)} characters; HEPData allows at most {_NAME_LIMIT} "
                "(give a shorter name=)"
            )
        if re.search(r"[/\\\x00]", n) or n.startswith("."):
            raise HEPDataError(
                f"table name {n!r} cannot be a file name (no '/', '\\' or leading '.')"
            )
        stem = _file_stem(n)
        if stem in stems or stem == "submission":
            raise HEPDataError(
                f"tables {stems.get(stem, 'submission')!r} and {n!r} would both be written to "
                f"{stem}.yaml"
            )
        stems[stem] = n


def _qualifiers(quantity: Quantity, extra: Iterable[Qualifier | Sequence[str]]) -> list[Qualifier]:
    out = list(quantity.qualifiers)
    for q in extra:
        if isinstance(q, str) or not 2 <= len(q) <= 3:
            raise HEPDataError(f"a qualifier is (name, value) or (name, value, unit), not {q!r}")
        out.append(Qualifier(*(str(part) for part in q)))
    return out


def _variable(hl: Any, name: str, digits: int, **kwargs: Any) -> Any:
    var = hl.Variable(name, zero_uncertainties_warning=False, **kwargs)
    var.digits = digits
    return var


def _bins_variable(hl: Any, binning: Binning, digits: int, rows: Sequence[int]) -> Any:
    var = _variable(
        hl,
        binning.label or binning.name,
        digits,
        is_independent=True,
        is_binned=True,
        units=binning.unit,
    )
    var.values = [(float(binning.low[i]), float(binning.high[i])) for i in rows]
    return var


def _errors(
    result: CombinationResult, obs: Sequence[str], errors: str
) -> tuple[list[float], list[tuple[float, float]] | list[float]]:
    values = [float(result.values[o]) for o in obs]
    if errors == "hesse":
        return values, [float(result.errors[o]) for o in obs]
    bad = {o: result.interval_status[o] for o in obs if not result.has_interval(o)}
    if bad:
        shown = "; ".join(f"{o}: {s}" for o, s in list(bad.items())[:5])
        raise IntervalError(
            f"no valid profile interval for {list(bad)[:8]} ({shown}); write the symmetric "
            "errors with errors='hesse'"
        )
    pairs = []
    for o, v in zip(obs, values, strict=True):
        lo, hi = result.interval(o)
        pairs.append((lo - v, hi - v))  # hepdata_lib: (minus, plus)
    return values, pairs


def _description(result: CombinationResult, errors: str, obs: Sequence[str], numbered: bool) -> str:
    total = (
        "the 68% profile-likelihood interval (Δχ² = 1)"
        if errors == "profile"
        else "the symmetric (Hesse) uncertainty"
    )
    return (
        f"Combination with hepcombine ({result.chi2_definition} χ², {result.method}); "
        f"χ²/ndf = {result.chi2:.4g}/{result.ndf} (p = {result.pvalue:.3g}). "
        f"The 'total' uncertainty is {total}; the breakdown variable lists the components, "
        "which add up in quadrature to the symmetric uncertainty."
        + (_numbered(obs) if numbered else "")
    )


def _numbered(obs: Sequence[str], limit: int = 30) -> str:
    shown = ", ".join(f"{i}: {o}" for i, o in enumerate(obs[:limit]))
    more = f", … ({len(obs)} in all)" if len(obs) > limit else ""
    return f" The bins are the combined observables in order ({shown}{more})."


def prepare_hepdata(
    result: CombinationResult | DifferentialResult, options: HEPDataOptions | None = None
) -> HEPDataTables:
    """The HEPData tables of combined observables, built and checked but not written
    (:meth:`HEPDataTables.stage` writes them; :func:`write_hepdata` does both).

    Parameters
    ----------
    result:
        The combination, or a combined distribution
        (:class:`~hepcombine.differential.DifferentialResult`: its bins, binning and quantity
        are written; the options do not give them then).
    options:
        What the submission holds (:class:`HEPDataOptions`; default ``HEPDataOptions()``).

    Returns
    -------
    HEPDataTables

    Raises
    ------
    HEPDataError
        hepdata_lib missing, a binning that does not fit, or numbers that are not finite.
    IntervalError
        ``errors="profile"`` and an observable has no valid profile interval.
    UnknownName
        An observable that the result does not have.
    InvalidArgument
        ``options`` that are not :class:`HEPDataOptions`, or options that give what a
        ``DifferentialResult`` says itself.
    """
    from ..differential import DifferentialResult
    from ..result import CombinationResult

    if options is None:
        options = HEPDataOptions()
    if not isinstance(options, HEPDataOptions):
        raise InvalidArgument(
            f"the options of a HEPData submission are a HEPDataOptions, not "
            f"{type(options).__name__} (0.3: observables, binning, name, errors, ... are "
            "fields of HEPDataOptions)"
        )
    if isinstance(result, DifferentialResult):
        for key in ("observables", "binning", "quantity"):
            if getattr(options, key) is not None:
                raise InvalidArgument(
                    f"write_hepdata: {key}= comes from the DifferentialResult; build one with "
                    "DifferentialResult.from_result(...) to change it"
                )
        options = dataclasses.replace(
            options,
            observables=result.observables,
            binning=as_1d(result.binning),
            quantity=result.quantity,
        )
        result = result.result
    if not isinstance(result, CombinationResult):
        raise InvalidArgument(
            f"write_hepdata needs a CombinationResult or a DifferentialResult, not "
            f"{type(result).__name__}"
        )
    obs = list(result.observables if options.observables is None else options.observables)
    if not obs:
        raise HEPDataError("write_hepdata: no observables to write")
    unknown = [o for o in obs if o not in result.values]
    if unknown:
        raise UnknownName(
            f"{unknown} are not observables of the combination; its observables are "
            f"{list(result.observables)}"
        )
    if len(set(obs)) != len(obs):
        raise HEPDataError(f"write_hepdata: an observable is listed twice in {obs}")
    n = len(obs)
    numbered = options.binning is None
    binning = options.binning if options.binning is not None else Binning.index(n)
    if binning.n_bins != n:
        raise HEPDataError(
            f"write_hepdata: {n} observables but the binning has {binning.n_bins} bins"
        )
    quantity = options.quantity if options.quantity is not None else Quantity()
    quals = _qualifiers(quantity, options.qualifiers)
    label = quantity.label or "combined value"
    name, errors, digits = options.name, options.errors, options.digits
    values, total = _errors(result, obs, errors)
    components: list[tuple[str, list[float]]] = []
    if options.breakdown:
        table = result.breakdown
        if not table.rows:
            raise HEPDataError(
                "the result has no uncertainty breakdown (combined with decompositions=False); "
                "write it with HEPDataOptions(breakdown=False)"
            )
        for comp in table.rows:
            entry = table[comp]
            components.append((comp, [float(entry[o]) for o in obs]))
    hl, _ = _hepdata_lib()

    # ------------------------------------------------------------ hepdata_lib objects
    sub = hl.Submission()
    sub.comment = options.comment
    main = hl.Table(name)
    main.description = options.description or _description(result, errors, obs, numbered)
    main.location = "hepcombine"
    rows = list(range(n))
    main.add_variable(_bins_variable(hl, binning, digits, rows))
    value_var = _variable(
        hl, label, digits, is_independent=False, is_binned=False, units=quantity.unit
    )
    value_var.values = values
    for q in quals:
        value_var.add_qualifier(q.name, q.value, q.unit)
    unc = hl.Uncertainty("total", is_symmetric=errors == "hesse")
    unc.values = total
    value_var.add_uncertainty(unc)
    main.add_variable(value_var)
    if options.breakdown:
        parts = _variable(
            hl,
            f"{label} (breakdown)",
            digits,
            is_independent=False,
            is_binned=False,
            units=quantity.unit,
        )
        parts.values = values
        for q in quals:
            parts.add_qualifier(q.name, q.value, q.unit)
        for comp, sigma in components:
            u = hl.Uncertainty("stat" if comp == "stat" else f"sys,{comp}", is_symmetric=True)
            u.values = sigma
            parts.add_uncertainty(u)
        main.add_variable(parts)
    sub.add_table(main)
    matrices = []
    if options.covariance:
        matrices.append((f"{name} covariance", "covariance", result.covariance.sub(obs).matrix, 2))
    if options.correlation:
        matrices.append(
            (f"{name} correlation", "correlation", result.correlation.sub(obs).matrix, 0)
        )
    for tname, what, matrix, power in matrices:
        t = hl.Table(tname)
        t.description = f"The {what} of the combined values of table '{name}', bin by bin."
        t.location = "hepcombine"
        row_bins = [i for i in range(n) for _ in range(n)]
        col_bins = [j for _ in range(n) for j in range(n)]
        t.add_variable(_bins_variable(hl, binning, digits, row_bins))
        t.add_variable(_bins_variable(hl, binning, digits, col_bins))
        unit = f"({quantity.unit})^{power}" if power and quantity.unit else ""
        entries = _variable(hl, what, digits, is_independent=False, is_binned=False, units=unit)
        entries.values = [float(matrix[i, j]) for i, j in zip(row_bins, col_bins, strict=True)]
        for q in quals:
            entries.add_qualifier(q.name, q.value, q.unit)
        t.add_variable(entries)
        sub.add_table(t)
    for v in values:
        if not math.isfinite(v):
            raise HEPDataError(f"write_hepdata: a combined value is not finite ({v})")
    if not np.all(np.isfinite(result.covariance.sub(obs).matrix)):
        raise HEPDataError("write_hepdata: the covariance has NaN or infinite entries")
    return HEPDataTables(sub, options.tables)


def write_hepdata(
    result: CombinationResult | DifferentialResult,
    directory: PathLike,
    options: HEPDataOptions | None = None,
    *,
    archive: PathLike | None = None,
    overwrite: bool = False,
    validate: bool = True,
) -> HEPDataSubmission:
    """Write combined observables as a HEPData submission directory and ``.tar.gz``.

    Parameters
    ----------
    result:
        The combination, or a combined distribution
        (:class:`~hepcombine.differential.DifferentialResult`: its bins, binning and quantity
        are written).
    directory:
        The submission directory to create (``submission.yaml`` and one file per table).
    options:
        What the submission holds (:class:`HEPDataOptions`: observables, binning, quantity,
        qualifiers, table name and texts, errors, which tables, digits); default
        ``HEPDataOptions()``.
    archive:
        The ``.tar.gz`` to write; default ``directory`` with ``.tar.gz`` appended.
    overwrite:
        Replace an existing directory or archive.
    validate:
        Check the staged submission with ``hepdata_validator``'s ``FullSubmissionValidator``
        before it is renamed into place. It dominates the cost for large matrices (100 bins,
        whose two matrix tables have 10⁴ rows each: ~5 s against ~1 s for writing;
        ``benchmarks/bench_hepdata.py``), and grows with the square of the number of bins.

    Returns
    -------
    HEPDataSubmission

    Raises
    ------
    HEPDataError
        hepdata_lib missing, a binning that does not fit, existing targets
        (``overwrite=True`` replaces only a submission directory: one with ``submission.yaml``
        and no subdirectories), or a submission the validator rejects (nothing is written
        then).
    IntervalError
        ``errors="profile"`` and an observable has no valid profile interval.
    UnknownName
        An observable that the result does not have.
    """
    tables = prepare_hepdata(result, options)
    try:
        with output_set() as out:
            written = tables.stage(out, directory, archive, overwrite=overwrite, validate=validate)
    except OSError as e:
        where = e.filename or directory
        raise HEPDataError(
            f"cannot write the HEPData submission {where}: {e.strerror or e}"
        ) from None
    except OutputError as e:
        raise HEPDataError(str(e)) from None
    log.info(
        "wrote HEPData submission %s and %s (%d tables)",
        written.directory,
        written.archive,
        len(written.tables),
    )
    return written


@dataclass(frozen=True, eq=False)
class HEPDataTables:
    """The tables of a HEPData submission, built (hepdata_lib objects) and checked, not yet
    written: :func:`prepare_hepdata` makes them, :meth:`stage` writes them into an
    :class:`~hepcombine.outputs.atomic.OutputSet` (so that they are written together with other
    outputs, all or none)."""

    submission: Any
    tables: tuple[str, ...]
    #: additional resources written into the submission: (file name, description, text)
    resources: tuple[tuple[str, str, str], ...] = ()

    def with_resource(self, file_name: str, text: str, description: str) -> HEPDataTables:
        """These tables with a text file ``file_name`` as an additional resource of the
        submission (listed in ``submission.yaml``, written next to the data files), e.g. the
        HS3 likelihood of the combination (:mod:`hepcombine.outputs.hs3`)."""
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", file_name) or file_name.endswith(
            ".yaml"
        ):
            raise HEPDataError(
                f"an additional resource needs a plain file name (not .yaml), not {file_name!r}"
            )
        taken = {"submission.yaml", *(f"{_file_stem(t)}.yaml" for t in self.tables)}
        taken |= {r[0] for r in self.resources}
        if file_name in taken:
            raise HEPDataError(f"the submission already has a file {file_name!r}")
        return HEPDataTables(
            self.submission, self.tables, (*self.resources, (file_name, description, text))
        )

    def stage(
        self,
        out: OutputSet,
        directory: PathLike,
        archive: PathLike | None = None,
        *,
        overwrite: bool = False,
        validate: bool = True,
    ) -> HEPDataSubmission:
        """Stage the submission directory (``submission.yaml`` and one data file per table)
        and its ``.tar.gz`` (default: ``directory`` with ``.tar.gz`` appended) in ``out``;
        with ``validate`` the staged directory is checked with hepdata_validator's
        ``FullSubmissionValidator`` first. Existing targets are replaced only with
        ``overwrite=True``, and a directory only if it is a submission directory (it has
        ``submission.yaml`` and no subdirectories)."""
        target = Path(directory)
        packed = Path(archive) if archive is not None else target.with_name(target.name + ".tar.gz")
        for path in (target, packed):
            if (path.exists() or path.is_symlink()) and not overwrite:
                raise HEPDataError(f"{path} exists; pass overwrite=True to replace it")
        if packed.resolve().is_relative_to(target.resolve()):
            raise HEPDataError(f"the archive {packed} cannot be inside the submission directory")
        if packed.is_dir():
            raise HEPDataError(f"the archive {packed} is a directory")
        _, validator_class = _hepdata_lib()
        staged: list[Path] = []

        def fill(tmp: Path) -> None:
            staged.append(tmp)
            files = _write_submission(self.submission, tmp, self.resources)
            staged.extend(files)
            if validate:
                _validate(validator_class, tmp)

        out.stage_directory(target, fill, replace=_is_submission_directory)
        directory_files = staged[1:]
        out.stage(packed, lambda tmp: _pack(directory_files, tmp))
        extra = {r[0] for r in self.resources}
        names = [f.name for f in directory_files if f.name not in extra]
        return HEPDataSubmission(
            target, packed, self.tables, tuple(target / n for n in names if n != "submission.yaml")
        )


def _is_submission_directory(path: Path) -> bool:
    entries = list(path.iterdir())
    return (path / "submission.yaml").is_file() and not any(e.is_dir() for e in entries)


def _validate(validator_class: Any, directory: Path) -> None:
    validator = validator_class()
    if not validator.validate(directory=str(directory)):
        messages = [
            f"{Path(file).name}: {m.message}"
            for file, ms in validator.get_messages().items()
            for m in ms
        ]
        raise HEPDataError(
            "the HEPData validator rejects the submission (nothing was written): "
            + "; ".join(messages[:5])
        )


def _pack(files: Sequence[Path], archive: Path) -> None:
    with tarfile.open(archive, "w:gz") as tar:
        for f in files:
            tar.add(f, arcname=f.name)


def _write_submission(
    sub: Any, out: Path, resources: Sequence[tuple[str, str, str]] = ()
) -> list[Path]:
    """``submission.yaml`` and the data files of ``sub`` in ``out`` (what hepdata_lib's
    ``Submission.create_files`` writes, without its side effects), and the ``resources``
    ``(file name, description, text)``; returns the files, ``submission.yaml`` first."""
    header = {"data_license": sub.get_license(), "comment": sub.comment}
    listed = list(sub.additional_resources or [])
    listed += [{"location": f, "description": d} for f, d, _ in resources]
    if listed:
        header["additional_resources"] = listed
    with open(out / "submission.yaml", "w", encoding="utf-8") as fh:
        yaml.safe_dump(
            header, fh, default_flow_style=False, explicit_start=True, allow_unicode=True
        )
    extra = []
    for file_name, _, text in resources:
        (out / file_name).write_text(text, encoding="utf-8")
        extra.append(out / file_name)
    return [out / "submission.yaml", *(_write_table(t, out) for t in sub.tables), *extra]


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _write_table(table: Any, out: Path) -> Path:
    """What hepdata_lib's ``Table.write_yaml`` writes: the data file from each variable's
    ``make_dict`` (hepdata_lib's rounding and error layout), written by :func:`_data_file_text`
    (PyYAML's representer takes ~1 s per 10⁴-row matrix), and the table's entry appended to
    ``submission.yaml``."""
    data: dict[str, list[Any]] = {"independent_variables": [], "dependent_variables": []}
    for var in table.variables:
        key = "independent_variables" if var.is_independent else "dependent_variables"
        data[key].append(var.make_dict())
    stem = _file_stem(table.name)
    path = out / f"{stem}.yaml"
    text = _data_file_text(data).encode("utf-8")
    if len(text) > _FILE_LIMIT:
        raise HEPDataError(
            f"table {table.name!r} would be a data file of {len(text) / 2**20:.1f} MiB; HEPData "
            f"accepts at most {_FILE_LIMIT / 2**20:g} MiB per data file (a matrix of n bins has "
            "n² rows): leave it out (covariance=False, correlation=False) or write fewer digits="
        )
    with open(path, "wb") as fh:
        fh.write(text)
    entry: dict[str, Any] = {
        "name": table.name,
        "description": table.description,
        "location": table.location,
        "data_file": path.name,
        "keywords": [{"name": k, "values": v} for k, v in table.keywords.items()],
    }
    if table.additional_resources:
        entry["additional_resources"] = table.additional_resources
    with open(out / "submission.yaml", "a", encoding="utf-8") as fh:
        yaml.dump(
            entry,
            fh,
            Dumper=_DUMPER,
            default_flow_style=False,
            explicit_start=True,
            allow_unicode=True,
        )
    return path


# ---------------------------------------------------------------------- the data file text
_BARE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: What YAML does not allow unescaped in a double-quoted scalar (outside its printable set, and
#: the characters it reads as line breaks or a byte-order mark); JSON escapes only < U+0020.
_UNPRINTABLE = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")


def _quoted(text: str) -> str:
    """``text`` as a double-quoted YAML scalar."""
    return _UNPRINTABLE.sub(
        lambda m: f"\\u{ord(m.group()):04x}", json.dumps(text, ensure_ascii=False)
    )


def _float(v: float) -> str:
    text = repr(v)
    if "e" in text and "." not in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    return text


def _scalar(value: Any) -> str:
    """A YAML flow scalar that PyYAML (YAML 1.1) reads back as ``value``: strings
    double-quoted (JSON's escapes are YAML's), floats always with a ``.`` (YAML 1.1 reads
    ``1e-05`` as a string), integers and booleans as such."""
    if value is None:
        return "null"
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if not math.isfinite(v):
            return ".nan" if math.isnan(v) else (".inf" if v > 0 else "-.inf")
        return _float(v)
    if isinstance(value, str):
        return _quoted(value)
    raise HEPDataError(f"cannot write {value!r} ({type(value).__name__}) into a HEPData table")


def _flow(value: Any) -> str:
    if type(value) is float and math.isfinite(value):  # the bulk: bin edges, values, errors
        return _float(value)
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


@functools.lru_cache(maxsize=256)
def _key(key: Any) -> str:
    text = str(key)
    return text if _BARE.match(text) else _quoted(text)


def _data_file_text(data: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """The YAML text of a HEPData data file (``independent_variables`` and
    ``dependent_variables``, each a list of ``{header, qualifiers, values}``) in the block
    layout of the records on hepdata.net: one line per bin (``- {low: 0.0, high: 20.0}``,
    ``- {value: 1.5}``), its errors one flow mapping per line. ``yaml.safe_load`` of the text
    equals ``data``."""
    lines: list[str] = []
    for key in ("independent_variables", "dependent_variables"):
        variables = data.get(key, [])
        if not variables:
            lines.append(f"{key}: []")
            continue
        lines.append(f"{key}:")
        for var in variables:
            first = True
            for field, content in var.items():
                lead = "- " if first else "  "
                first = False
                if field != "values" and not (field == "qualifiers" and content):
                    lines.append(f"{lead}{_key(field)}: {_flow(content)}")
                    continue
                if not content:
                    lines.append(f"{lead}{_key(field)}: []")
                    continue
                lines.append(f"{lead}{_key(field)}:")
                if field == "qualifiers":
                    lines.extend(f"  - {_flow(q)}" for q in content)
                    continue
                for item in content:
                    errors = item.get("errors") if isinstance(item, Mapping) else None
                    if not errors:
                        rest = {k: v for k, v in item.items() if k != "errors"}
                        lines.append(f"  - {_flow(rest)}")
                        continue
                    lines.append("  - errors:")
                    lines.extend(f"    - {_flow(e)}" for e in errors)
                    lines.extend(
                        f"    {_key(k)}: {_flow(v)}" for k, v in item.items() if k != "errors"
                    )
    return "\n".join(lines) + "\n"


def __dir__() -> list[str]:
    return list(__all__)
