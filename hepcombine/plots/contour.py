"""Plot of 2-D profile-likelihood contours (:meth:`CombinationResult.contour
<hepcombine.result.CombinationResult.contour>`): one closed line per level, the minimum as a
marker, the levels in the legend. Like every hepcombine plot it takes ``ax=``, returns the
Figure and changes no global matplotlib state (choose a style with
:func:`hepcombine.plots.style.use_style`).

matplotlib and mplhep are imported when a plot is made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..exceptions import InvalidArgument
from . import _style
from .style import COMBINED, INPUT

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..solver.contours import Contour
    from .style import ExperimentLabel

__all__ = ["contour_label", "plot_contour"]

#: line styles of successive levels (innermost first)
_STYLES = ("-", "--", ":", "-.")


def contour_label(contour: Contour) -> str:
    """The legend entry of a contour: its probability content and Δχ²; for Δχ² = 1 (the
    original program's curve) that its extent along each axis is the 1-D 68 % interval."""
    if contour.delta_chi2 == 1.0:
        return "Δχ² = 1 (68 % CL on each axis)"
    return f"{100 * contour.cl:.3g} % CL (Δχ² = {contour.delta_chi2:.3g})"


def plot_contour(
    contours: Contour | Sequence[Contour],
    *,
    ax: Axes | None = None,
    labels: Sequence[str] | None = None,
    color: str = COMBINED,
    fill: bool = True,
    exp_label: ExperimentLabel | Mapping[str, Any] | str | None = None,
) -> Figure:
    """Draw one or several contours of the same two quantities.

    Parameters
    ----------
    contours:
        A :class:`~hepcombine.solver.contours.Contour` or several (e.g. Δχ² = 1, 2.30, 5.99),
        all of the same two quantities; line styles by increasing level.
    ax:
        The axes to draw on; a new figure (6.5 × 6 inches) when omitted.
    labels:
        Legend entries, one per contour (default: :func:`contour_label`).
    color:
        Colour of the lines (and of the fill).
    fill:
        Fill each contour lightly (inner contours appear darker).
    exp_label:
        Experiment label (:class:`~hepcombine.plots.style.ExperimentLabel`), none by default.

    Returns
    -------
    The figure.
    """
    items = [contours] if not isinstance(contours, Sequence) else list(contours)
    if not items:
        raise InvalidArgument("plot_contour needs at least one contour")
    names = {(c.x_name, c.y_name) for c in items}
    if len(names) > 1:
        raise InvalidArgument(
            f"plot_contour draws contours of one pair of quantities, got {sorted(names)}"
        )
    if labels is not None and len(labels) != len(items):
        raise InvalidArgument(f"{len(labels)} labels for {len(items)} contours")
    text = list(labels) if labels is not None else [contour_label(c) for c in items]
    first = items[0]
    fig, ax = _style.axes_or_new(ax, (6.5, 6))
    for rank, i in enumerate(sorted(range(len(items)), key=lambda i: items[i].delta_chi2)):
        c = items[i]
        x, y = c.closed()
        if fill:
            ax.fill(x, y, color=color, alpha=0.12, lw=0)
        ax.plot(x, y, _STYLES[rank % len(_STYLES)], color=color, lw=1.8, label=text[i])
    cx, cy = first.center
    ax.plot([cx], [cy], "+", color=INPUT, ms=12, mew=2, label="minimum")
    ax.set_xlabel(first.x_name, loc="center", fontsize=_label_size(first.x_name))
    ax.set_ylabel(first.y_name, loc="center", fontsize=_label_size(first.y_name))
    from matplotlib.ticker import MaxNLocator, ScalarFormatter

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(nbins=5))
        formatter = ScalarFormatter(useOffset=True, useMathText=True)
        formatter.set_powerlimits((-3, 4))
        axis.set_major_formatter(formatter)
    # room above the contours for the legend
    ax.margins(x=0.08)
    y0, y1 = ax.dataLim.intervaly
    span = y1 - y0 if y1 > y0 else 1.0
    ax.set_ylim(y0 - 0.08 * span, y1 + (0.2 + 0.16 * (len(items) + 1)) * span)
    ax.legend(loc="upper left", fontsize="small")
    _style.label(ax, exp_label)
    return fig


def _label_size(text: str) -> str:
    """A font size at which an axis title of this length fits the default figure."""
    return "xx-small" if len(text) > 34 else "small" if len(text) > 22 else "medium"


def __dir__() -> list[str]:
    return list(__all__)
