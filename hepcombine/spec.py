"""The combination specification: the one intermediate representation of every input form.

Every input form — the C++ Convino program's text files (:mod:`hepcombine.inputs.convino`),
hepcombine's YAML configuration (:mod:`hepcombine.inputs.yaml`), histograms and graphs
(:func:`hepcombine.inputs.histograms.differential_spec`) or a specification built in Python —
produces a :class:`CombinationSpec`. :meth:`CombinationSpec.combiner` is the only place where a
specification becomes a :class:`~hepcombine.combiner.Combiner`, for the command line and for
the Python API alike, so both give the same numbers: the source format's defaults (Pearson for
Convino files, as the original program; Neyman otherwise) and the file's impact groups live
here, not in the command line.

References in a specification are qualified (``"measurement:name"``); the readers resolve bare
names with :class:`hepcombine.names.Names`, the resolver the combiner uses too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .binning import Binning, Binning2D, Quantity
from .exceptions import ConfigError, InvalidArgument, InvalidMeasurement
from .measurement import Measurement

if TYPE_CHECKING:
    from .combiner import Combiner

__all__ = ["FORMATS", "CombinationSpec", "ScanGroup"]

log = logging.getLogger(__name__)

Pair = tuple[str, str, float, float]

#: Input forms a specification can come from, with their χ² default.
FORMATS: Mapping[str, str] = {
    "convino": "pearson",  # the convino program's default
    "yaml": "neyman",
    "histograms": "neyman",
    "python": "neyman",
    "gvm": "neyman",  # gvm-combinations files
}
#: Names the combiner reserves for its breakdown rows.
_RESERVED_GROUPS = ("stat", "correlations between groups")
_UNSET: Any = object()


@dataclass(frozen=True)
class ScanGroup:
    """Correlation assumptions that are scanned together.

    Attributes
    ----------
    name:
        The group's name (in Convino files the left-hand side of its ``[correlations]`` line).
    pairs:
        ``(source_a, source_b, start, stop)`` per scanned pair, sources as qualified references.
    n_points:
        Number of scan points; point ``i`` sets every pair to
        ``start + i * (stop - start) / (n_points - 1)``. Convino uses 6, fixed.
    """

    name: str
    pairs: list[Pair]
    n_points: int = 6

    def __post_init__(self) -> None:
        if self.n_points < 2:
            raise InvalidArgument(f"scan group {self.name!r}: n_points must be at least 2")

    def points(self) -> list[dict[tuple[str, str], float]]:
        """The correlation assumptions of each scan point, ``{(a, b): rho}``."""
        out = []
        for i in range(self.n_points):
            t = i / (self.n_points - 1)
            out.append({(a, b): start + t * (stop - start) for a, b, start, stop in self.pairs})
        return out


@dataclass(frozen=True)
class CombinationSpec:
    """Everything a combination needs, independent of the file format it was read from.

    Attributes
    ----------
    measurements:
        ``{name: Measurement}``; Convino measurements are named by their file stem.
    observables:
        ``{combined quantity: [qualified estimate references]}``. Estimates listed nowhere are
        spectators (the combiner gives them a free parameter and reports them). Empty: every
        estimate name is one combined quantity (the combiner's default).
    correlations:
        ``{(source_a, source_b): nominal correlation}`` between qualified source references.
    scans:
        Groups of correlation assumptions that are scanned together; every scanned pair also
        has its nominal value in ``correlations``.
    impacts:
        ``{group: [qualified source references]}``; the single keyword ``"stat"`` stands for the
        statistical uncertainty. These groups are the combination's uncertainty breakdown and
        impacts (see :meth:`groups`).
    differential:
        Whether the combined quantities form a differential distribution.
    normalise:
        Normalise the combined distribution to unit sum (with its covariance).
    chi2:
        ``"neyman"`` or ``"pearson"`` as the input says; ``None`` leaves the choice to the
        format's default (:attr:`default_chi2`).
    source:
        The file the specification was read from (for messages and reports).
    binning:
        The bins of a differential combination (edges, axis name and label, units), one per
        observable in order. Inputs that know nothing but the bin order get
        :meth:`Binning.index <hepcombine.binning.Binning.index>`; ``None`` for a combination
        that is not differential.
    format:
        The input form, one of :data:`FORMATS` (``"convino"``, ``"yaml"``, ``"histograms"``,
        ``"python"``); it decides the χ² default.
    quantity:
        What the combined values of a differential combination are (label, unit and
        qualifiers such as √s; :class:`~hepcombine.binning.Quantity`), from its inputs where
        they say (HEPData tables, the YAML ``quantity:``); an empty ``Quantity()`` for a
        differential combination whose inputs say nothing, ``None`` for one that is not
        differential.
    errors_on_errors:
        ``{source or pattern: ErrorOnError}`` (or ε): errors on errors of the gamma variance
        model, as the combiner's ``errors_on_errors`` (YAML ``errors_on_errors:``,
        gvm-combinations' ``error-on-error``).
    linear:
        ``{name: LinearQuantity}`` (or the mapping form ``{sum_of | coefficients, measured_by,
        report}``): combined linear quantities and the estimates that measure them, as the
        combiner's ``linear`` (YAML ``linear:``, the sums of coarser bins that
        ``binning: {match: ...}`` makes; :mod:`hepcombine.rebinning`).
    distributions:
        ``{name: DifferentialMeasurement}``: the measurements of a rebinned combination in
        their own bins, as they were given (before merging), for plots that show each input
        in its own binning; empty when the bins were not rebinned.
    """

    measurements: dict[str, Measurement]
    observables: dict[str, list[str]] = field(default_factory=dict)
    correlations: dict[tuple[str, str], float] = field(default_factory=dict)
    scans: list[ScanGroup] = field(default_factory=list)
    impacts: dict[str, list[str]] = field(default_factory=dict)
    differential: bool = False
    normalise: bool = False
    chi2: str | None = None
    source: str = ""
    binning: Binning | Binning2D | None = None
    format: str = "python"
    quantity: Quantity | None = None
    errors_on_errors: dict[str, Any] = field(default_factory=dict)
    linear: dict[str, Any] = field(default_factory=dict)
    distributions: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.chi2 not in (None, "neyman", "pearson"):
            raise InvalidArgument(f"chi2 must be 'neyman', 'pearson' or None, not {self.chi2!r}")
        if self.format not in FORMATS:
            raise InvalidArgument(f"format must be one of {list(FORMATS)}, not {self.format!r}")
        if self.differential and self.binning is None and self.observables:
            object.__setattr__(self, "binning", Binning.index(len(self.observables)))
        if self.differential and self.quantity is None:
            object.__setattr__(self, "quantity", Quantity())
        if self.quantity is not None and not isinstance(self.quantity, Quantity):
            raise InvalidArgument(
                f"quantity must be a Quantity or None, not {type(self.quantity).__name__}"
            )
        n_obs = len(self.observables)
        if self.binning is not None and n_obs and self.binning.n_bins != n_obs:
            raise InvalidMeasurement(
                f"{self.source or 'specification'}: the binning has {self.binning.n_bins} "
                f"bins but there are {n_obs} observables"
            )

    # ------------------------------------------------------------------ the format's defaults
    @property
    def default_chi2(self) -> Literal["neyman", "pearson"]:
        """The χ² definition of this input form when the input names none: Pearson for
        Convino files (as the convino program), Neyman otherwise."""
        return "pearson" if FORMATS[self.format] == "pearson" else "neyman"

    def chi2_definition(self, chi2: str | None = None) -> Literal["neyman", "pearson"]:
        """``chi2`` if given (e.g. ``--neyman``), else the input's own choice, else the
        format's default."""
        choice = chi2 or self.chi2 or self.default_chi2
        if choice not in ("neyman", "pearson"):
            raise InvalidArgument(f"chi2 must be 'neyman' or 'pearson', not {choice!r}")
        return "pearson" if choice == "pearson" else "neyman"

    def groups(self) -> dict[str, list[str]] | None:
        """The combiner's source groups from the impact groups: ``None`` (group by bare source
        name) when the input defines none. A group that is just ``stat`` names the statistical
        component the result always has (see :meth:`stat_groups`), so it is not a group of
        sources."""
        if not self.impacts:
            return None
        where = self.source or "specification"
        groups: dict[str, list[str]] = {}
        for name, members in self.impacts.items():
            sources = [m for m in members if m != "stat"]
            if "stat" in members and sources:
                raise ConfigError(
                    f"{where}: impacts group {name!r} mixes 'stat' with sources {sources}; "
                    "give 'stat' a group of its own"
                )
            if not sources:
                continue
            if name in _RESERVED_GROUPS:
                raise ConfigError(
                    f"{where}: impacts group name {name!r} is reserved; rename the group"
                )
            groups[name] = list(sources)
        return groups or None

    def stat_groups(self) -> list[str]:
        """Names of the impact groups that stand for the statistical component only."""
        return [g for g, members in self.impacts.items() if list(members) == ["stat"]]

    # ------------------------------------------------------------------ the combiner
    def combiner_arguments(
        self,
        *,
        chi2: str | None = None,
        groups: Mapping[str, list[str]] | None = _UNSET,
        asymmetry: str = "convino",
        repair: bool = False,
        errors_on_errors: Mapping[str, Any] | None = None,
        bartlett: bool = False,
    ) -> dict[str, Any]:
        """The keyword arguments of ``Combiner`` that :meth:`combiner` uses (with the format's
        defaults applied). ``errors_on_errors`` entries are added to the specification's,
        replacing those with the same key."""
        return {
            "measurements": self.measurements,
            "observables": self.observables or None,
            "correlations": self.correlations,
            "chi2": self.chi2_definition(chi2),
            "groups": self.groups() if groups is _UNSET else groups,
            "asymmetry": asymmetry,
            "repair": repair,
            "errors_on_errors": {**self.errors_on_errors, **(errors_on_errors or {})},
            "bartlett": bartlett,
            "linear": dict(self.linear),
        }

    def combiner(
        self,
        *,
        chi2: str | None = None,
        groups: Mapping[str, list[str]] | None = _UNSET,
        asymmetry: str = "convino",
        repair: bool = False,
        errors_on_errors: Mapping[str, Any] | None = None,
        bartlett: bool = False,
    ) -> Combiner:
        """The :class:`~hepcombine.combiner.Combiner` of this specification.

        Parameters
        ----------
        chi2:
            Overrides the χ² definition (default: the input's own choice, else
            :attr:`default_chi2`).
        groups:
            Overrides the source groups of the breakdown and impacts (default:
            :meth:`groups`, i.e. the input's impact groups).
        asymmetry, repair, bartlett:
            As for :class:`~hepcombine.combiner.Combiner`.
        errors_on_errors:
            Errors on errors added to the specification's (an entry with the same key replaces
            the specification's).
        """
        from .combiner import Combiner

        return Combiner(
            **self.combiner_arguments(
                chi2=chi2,
                groups=groups,
                asymmetry=asymmetry,
                repair=repair,
                errors_on_errors=errors_on_errors,
                bartlett=bartlett,
            )
        )


def __dir__() -> list[str]:
    return list(__all__)
