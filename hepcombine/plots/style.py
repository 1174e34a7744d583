"""The look of hepcombine's plots: experiment style and label, as mplhep does it.

hepcombine's plot functions draw with whatever matplotlib style is active — they never enter a
style context, so they change no global state (interactive mode, rcParams) and figures made
before and after them, yours included, display as usual. Choose an experiment style once, as
with mplhep::

    import mplhep
    mplhep.style.use("CMS")            # or hepcombine.plots.style.use_style("CMS")

and give the label text to each plot (``exp_label=``), or once in the command line
(``--experiment``, ``--label``, ``--sqrt-s``, ``--lumi``, ``--style``)::

    ExperimentLabel("ATLAS+CMS", "Preliminary", sqrt_s=8, lumi="20.3 fb$^{-1}$")

None is drawn by default: a plot says "ATLAS" only when you say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidArgument

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from ..binning import Quantity

__all__ = [
    "COMBINED",
    "INPUT",
    "STAT",
    "STYLES",
    "THEORY",
    "ExperimentLabel",
    "draw_label",
    "use_style",
]

#: colour of combined results (band, markers, printed values)
COMBINED = "#3f90da"
#: colour of the statistical part of the combination's band and of the inputs' stat bars
STAT = "#bd1f01"
#: colour of inputs
INPUT = "black"
#: colour of a theory prediction
THEORY = "#ffa90e"

#: styles :func:`use_style` knows (mplhep's), besides ``"default"`` (matplotlib's)
STYLES = ("ATLAS", "CMS", "LHCb", "ALICE", "ROOT")


def use_style(name: str | None) -> None:
    """Make ``name`` the style of every later plot (global, like ``mplhep.style.use``):
    ``"ATLAS"``, ``"CMS"``, ``"LHCb"``, ``"ALICE"``, ``"ROOT"``, or ``None`` / ``"default"`` for
    matplotlib's default style. Imports matplotlib and mplhep."""
    import matplotlib.pyplot as plt

    if name is None or name == "default":
        plt.style.use("default")
        return
    import mplhep

    styles = {s.lower(): s for s in STYLES}
    if name.lower() not in styles:
        raise InvalidArgument(f"unknown plot style {name!r}; use one of {[*STYLES, 'default']}")
    mplhep.style.use(styles[name.lower()])


@dataclass(frozen=True)
class ExperimentLabel:
    """The text of an experiment label (``mplhep.label.exp_label``): ``experiment`` in bold
    (``"CMS"``, ``"ATLAS+CMS"``), then ``text`` (``"Preliminary"``, ``"Simulation"``), and on
    the right √s and the luminosity.

    Attributes
    ----------
    experiment: bold part, e.g. ``"ATLAS+CMS"``; ``""`` for none.
    text: what follows it, e.g. ``"Preliminary"``.
    sqrt_s: centre-of-mass energy: a number in TeV (``8``) or a string with its unit.
    lumi: integrated luminosity: a number in fb⁻¹ (``20.3``) or a string (``"19.7–20.3 fb$^{-1}$"``).
    loc: mplhep's label position (0: above the axes; 1–4: inside, top left).
    """

    experiment: str = ""
    text: str = ""
    sqrt_s: float | str | None = None
    lumi: float | str | None = None
    loc: int = 0

    @classmethod
    def coerce(cls, label: ExperimentLabel | Mapping[str, Any] | str | None) -> ExperimentLabel:
        """An :class:`ExperimentLabel` from itself, a mapping of its fields, the experiment
        name alone, or ``None`` (no label)."""
        if label is None:
            return cls()
        if isinstance(label, ExperimentLabel):
            return label
        if isinstance(label, str):
            return cls(experiment=label)
        if isinstance(label, Mapping):
            unknown = set(label) - set(cls.__dataclass_fields__)
            if unknown:
                raise InvalidArgument(
                    f"experiment label: unknown entries {sorted(unknown)}; known are "
                    f"{list(cls.__dataclass_fields__)}"
                )
            return cls(**dict(label))
        raise InvalidArgument(
            f"exp_label must be an ExperimentLabel, a mapping or a string, not {type(label).__name__}"
        )

    @classmethod
    def from_quantity(cls, quantity: Quantity | None, **fields: Any) -> ExperimentLabel:
        """A label whose √s is the ``SQRT(S)`` qualifier of ``quantity`` (HEPData's; its unit
        GeV or TeV) unless ``fields`` give one."""
        if quantity is not None and fields.get("sqrt_s") is None:
            for q in quantity.qualifiers:
                if q.name.upper().replace(" ", "") in ("SQRT(S)", "SQRTS", "√S"):
                    fields["sqrt_s"] = _energy(q.value, q.unit)
                    break
        return cls(**fields)

    @property
    def empty(self) -> bool:
        """Whether there is nothing to draw."""
        return not (self.experiment or self.text or self.sqrt_s is not None or self.lumi)

    @property
    def right(self) -> str:
        """The right-hand text: ``"20.3 fb$^{-1}$ (8 TeV)"``, as mplhep writes it."""
        parts = []
        if self.lumi is not None and self.lumi != "":
            lumi = self.lumi if isinstance(self.lumi, str) else f"{self.lumi:g} fb$^{{-1}}$"
            parts.append(lumi)
        if self.sqrt_s is not None and self.sqrt_s != "":
            e = self.sqrt_s if isinstance(self.sqrt_s, str) else f"{self.sqrt_s:g} TeV"
            parts.append(f"({e})" if parts else e)
        return " ".join(parts)


def _energy(value: str, unit: str) -> float | str:
    try:
        v = float(value)
    except ValueError:
        return f"{value} {unit}".strip()
    u = unit.strip().lower()
    if u == "gev":
        return v / 1000.0
    if u in ("tev", ""):
        return v
    return f"{value} {unit}".strip()


def draw_label(ax: Axes, label: ExperimentLabel | Mapping[str, Any] | str | None) -> None:
    """Draw ``label`` on ``ax`` with ``mplhep.label.exp_label`` (nothing for an empty one)."""
    lab = ExperimentLabel.coerce(label)
    if lab.empty:
        return
    import mplhep

    try:  # mplhep ≥ 1: ``text`` is spaced from the experiment; data=True: no "Simulation"
        mplhep.label.exp_label(
            exp=lab.experiment,
            text=f" {lab.text}" if lab.text else "",
            data=True,
            rlabel=lab.right,
            loc=lab.loc,
            ax=ax,
        )
    except TypeError:  # older mplhep: the left text is ``llabel``
        mplhep.label.exp_label(
            exp=lab.experiment, llabel=f" {lab.text}", rlabel=lab.right, loc=lab.loc, ax=ax
        )


def __dir__() -> list[str]:
    return list(__all__)
