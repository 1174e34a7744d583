"""Write a combination as a HEPData submission: a directory and a ``.tar.gz``, with hepdata_lib.

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
* **All or nothing.** Everything is written into a fresh temporary directory next to the
  target, packed, and validated with ``hepdata_validator``'s ``FullSubmissionValidator``; only a
  valid submission is renamed onto the targets (an existing target is replaced only with
  ``overwrite=True``). ``Submission.create_files`` is not used: it writes
  ``submission.tar.gz`` into the current working directory (and changing the working directory
  is not safe in a library), so the submission header that it would write is written here, the
  tables from hepdata_lib's ``Variable.make_dict`` (its rounding and error layout) as its
  ``Table.write_yaml`` would, but with the C YAML emitter (10× faster for large matrices), and
  the archive with :mod:`tarfile`.
* **Names.** HEPData limits table names to 64 characters and derives file names from them
  (lower case, spaces → ``_``): names that are too long, contain a path separator or collide
  are an error before anything is written.
* **Dependency.** hepdata_lib (with hepdata-validator, which it requires) is the optional
  extra ``hepcombine[hepdata]``; it is imported only here, when writing (≈0.2–0.4 s).
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import yaml

from ..binning import Binning, Qualifier, Quantity
from ..exceptions import HEPDataError, IntervalError, UnknownName

if TYPE_CHECKING:
    from ..result import CombinationResult

__all__ = ["HEPDataSubmission", "write_hepdata"]

log = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]
INSTALL = 'pip install "hepcombine[hepdata]"'
_NAME_LIMIT = 64


@dataclass(frozen=True)
class HEPDataSubmission:
    """What :func:`write_hepdata` wrote: the submission directory, the archive, and the table
    names with their data files (in the directory)."""

    directory: Path
    archive: Path
    tables: tuple[str, ...]
    files: tuple[Path, ...]


def _hepdata_lib() -> Any:
    try:
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


def _description(result: CombinationResult, errors: str) -> str:
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
    )


def write_hepdata(
    result: CombinationResult,
    directory: PathLike,
    observables: Sequence[str] | None = None,
    *,
    binning: Binning | None = None,
    quantity: Quantity | None = None,
    qualifiers: Iterable[Qualifier | Sequence[str]] = (),
    name: str = "Combination",
    description: str = "",
    comment: str = "",
    errors: Literal["profile", "hesse"] = "profile",
    breakdown: bool = True,
    covariance: bool = True,
    correlation: bool = True,
    digits: int = 10,
    archive: PathLike | None = None,
    overwrite: bool = False,
    validate: bool = True,
) -> HEPDataSubmission:
    """Write combined observables as a HEPData submission directory and ``.tar.gz``.

    Parameters
    ----------
    result:
        The combination.
    directory:
        The submission directory to create (``submission.yaml`` and one file per table).
    observables:
        The combined observables to write, in order (the bins); default all.
    binning:
        Their bins (edges, axis label and unit); default the bin numbers.
    quantity:
        What the values are (label, unit, qualifiers such as √s).
    qualifiers:
        More qualifiers, ``(name, value)`` or ``(name, value, unit)``.
    name, description, comment:
        Name of the main table (the matrices are ``"<name> covariance"`` and
        ``"<name> correlation"``), its description (default: how it was combined), and the
        submission's comment.
    errors:
        ``"profile"``: the profile-likelihood interval as asymmetric ``total`` error (an error
        if an interval is not valid); ``"hesse"``: the symmetric error.
    breakdown, covariance, correlation:
        Which of the breakdown variable and the matrix tables to write.
    digits:
        Significant digits of every number (hepdata_lib's ``Variable.digits``).
    archive:
        The ``.tar.gz`` to write; default ``directory`` with ``.tar.gz`` appended.
    overwrite:
        Replace an existing directory or archive.
    validate:
        Check the archive with ``hepdata_validator`` before it is renamed into place (the
        validator dominates the cost for large matrices: ~9 s of ~12 s for 100 bins, whose two
        matrix tables have 10⁴ rows each).

    Returns
    -------
    HEPDataSubmission

    Raises
    ------
    HEPDataError
        hepdata_lib missing, bad names, existing targets, or a submission the validator rejects
        (nothing is written then).
    IntervalError
        ``errors="profile"`` and an observable has no valid profile interval.
    UnknownName
        An observable that the result does not have.
    """
    obs = list(result.observables if observables is None else observables)
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
    if errors not in ("profile", "hesse"):
        raise HEPDataError(f"errors must be 'profile' or 'hesse', not {errors!r}")
    if not (isinstance(digits, int) and 1 <= digits <= 17):
        raise HEPDataError(f"digits must be an integer from 1 to 17, not {digits!r}")
    n = len(obs)
    binning = binning if binning is not None else Binning.index(n)
    if binning.n_bins != n:
        raise HEPDataError(
            f"write_hepdata: {n} observables but the binning has {binning.n_bins} bins"
        )
    quantity = quantity if quantity is not None else Quantity()
    quals = _qualifiers(quantity, qualifiers)
    label = quantity.label or "combined value"
    tables = [name]
    if covariance:
        tables.append(f"{name} covariance")
    if correlation:
        tables.append(f"{name} correlation")
    _check_names(tables)
    target = Path(directory)
    packed = Path(archive) if archive is not None else target.with_name(target.name + ".tar.gz")
    for path in (target, packed):
        if path.exists() and not overwrite:
            raise HEPDataError(f"{path} exists; pass overwrite=True to replace it")
    if packed.resolve().is_relative_to(target.resolve()):
        raise HEPDataError(f"the archive {packed} cannot be inside the submission directory")
    values, total = _errors(result, obs, errors)
    components: list[tuple[str, list[float]]] = []
    if breakdown:
        table = result.breakdown
        if not table.rows:
            raise HEPDataError(
                "the result has no uncertainty breakdown (combined with decompositions=False); "
                "pass breakdown=False"
            )
        for comp in table.rows:
            entry = table[comp]
            components.append((comp, [float(entry[o]) for o in obs]))
    hl, validator_class = _hepdata_lib()

    # ------------------------------------------------------------ hepdata_lib objects
    sub = hl.Submission()
    sub.comment = comment
    main = hl.Table(name)
    main.description = description or _description(result, errors)
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
    if breakdown:
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
    if covariance:
        matrices.append((f"{name} covariance", "covariance", result.covariance.sub(obs).matrix, 2))
    if correlation:
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

    # ------------------------------------------------------------ staged writing
    try:
        files = _write(sub, target, packed, validator_class if validate else None)
    except OSError as e:
        where = e.filename or target
        raise HEPDataError(
            f"cannot write the HEPData submission {where}: {e.strerror or e}"
        ) from None
    log.info("wrote HEPData submission %s and %s (%d tables)", target, packed, len(tables))
    return HEPDataSubmission(target, packed, tuple(tables), tuple(target / f.name for f in files))


def _write(sub: Any, target: Path, packed: Path, validator_class: Any) -> list[Path]:
    """Stage the submission next to ``target``, pack and validate it, then move it into place;
    returns the data files (in the staged directory, named as in ``target``)."""
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    packed.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))
    try:
        out = staging / target.name
        out.mkdir()
        header = {"data_license": sub.get_license(), "comment": sub.comment}
        if sub.additional_resources:
            header["additional_resources"] = sub.additional_resources
        with open(out / "submission.yaml", "w", encoding="utf-8") as fh:
            yaml.safe_dump(
                header, fh, default_flow_style=False, explicit_start=True, allow_unicode=True
            )
        files = [_write_table(t, out) for t in sub.tables]
        staged_archive = staging / "submission.tar.gz"
        with tarfile.open(staged_archive, "w:gz") as tar:
            for f in [out / "submission.yaml", *files]:
                tar.add(f, arcname=f.name)
        if validator_class is not None:
            validator = validator_class()
            if not validator.validate(archive=str(staged_archive)):
                messages = [
                    f"{Path(file).name}: {m.message}"
                    for file, ms in validator.get_messages().items()
                    for m in ms
                ]
                raise HEPDataError(
                    "the HEPData validator rejects the submission (nothing was written): "
                    + "; ".join(messages[:5])
                )
        _commit(out, target, staged_archive, packed)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return files


def _plain(obj: Any) -> Any:
    """hepdata_lib's ``make_dict`` output (defaultdicts, tuples) as plain YAML-ready data."""
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    return obj


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _write_table(table: Any, out: Path) -> Path:
    """What hepdata_lib's ``Table.write_yaml`` writes (the data file from each variable's
    ``make_dict``, and the table's entry appended to ``submission.yaml``), dumped with the C
    YAML emitter: hepdata_lib's pure-Python ``yaml.dump`` takes ~3 s per 10⁴-row matrix."""
    data: dict[str, list[Any]] = {"independent_variables": [], "dependent_variables": []}
    for var in table.variables:
        key = "independent_variables" if var.is_independent else "dependent_variables"
        data[key].append(_plain(var.make_dict()))
    stem = _file_stem(table.name)
    path = out / f"{stem}.yaml"
    with open(path, "w", encoding="utf-8") as fh:
        yaml.dump(data, fh, Dumper=_DUMPER, default_flow_style=False)
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


def _commit(staged_dir: Path, target: Path, staged_archive: Path, archive: Path) -> None:
    """Move the staged directory and archive onto their targets; on failure, restore what
    was there."""
    backups: list[tuple[Path, Path]] = []
    moved: list[Path] = []
    try:
        for staged, final in ((staged_dir, target), (staged_archive, archive)):
            if final.exists() or final.is_symlink():
                backup = final.with_name(f".{final.name}.old-{os.getpid()}")
                os.replace(final, backup)
                backups.append((backup, final))
            os.replace(staged, final)
            moved.append(final)
    except BaseException:
        for final in moved:
            with contextlib.suppress(OSError):
                if final.is_dir():
                    shutil.rmtree(final)
                else:
                    final.unlink()
        for backup, final in backups:
            with contextlib.suppress(OSError):
                os.replace(backup, final)
        raise
    for backup, _ in backups:
        if backup.is_dir():
            shutil.rmtree(backup, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                backup.unlink()


def __dir__() -> list[str]:
    return list(__all__)
