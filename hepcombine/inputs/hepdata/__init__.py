"""Read HEPData records into differential measurements.

By stage, one module each: the file forms of a record (``_files``: submissions, single files,
data files, JSON exports → tables), table parsing (``_tables``: numbers, labels, bins, one
variable, matrices), errors and units (``_errors``: what labels and matrices mean, as sources or
a statistical covariance) and building the measurement (``_build``: :func:`read_hepdata`). The
public names are those listed here.

A HEPData record is a set of tables; a table has independent variables (the bins) and dependent
variables (values with labelled uncertainties). :func:`read_hepdata` turns one dependent
variable of one table, plus the covariance, correlation and breakdown tables that belong to it,
into a :class:`~hepcombine.DifferentialMeasurement`. It reads

* a submission directory (``submission.yaml`` plus data files) or its ``submission.yaml``,
* a single-file submission (the table documents carry their data inline),
* a data file on its own (as hepdata.net's per-table YAML export ``HEPData-insN-vV-Table_K.yaml``
  or a copy kept by an analysis), YAML or JSON, and
* a hepdata.net JSON table export (``headers``/``values`` layout).

Only PyYAML is needed (its C loader when available: the largest saved record, 200 kB, loads in
about 0.1 s).

Conventions (each one a decision; the reasons are in the docstrings of the stages)
----------------------------------------------------------------------------------
* **Nothing is chosen silently.** A table and a dependent variable are selected by name or by
  0-based index; with more than one candidate and no selection, or an ambiguous or unknown
  name, the error lists the choices (with "did you mean" for near misses).
* **Labels become sources.** Each error label is one source (one nuisance parameter, fully
  correlated between the bins) unless listed in ``uncorrelated`` (then one source per bin).
  Labels are cleaned: surrounding and repeated spaces removed (``'sys,pdf '`` → ``pdf``), a
  leading ``sys,``/``syst,`` dropped (``sys,lumi`` → ``lumi``), a missing label named
  ``unlabelled``. A label that occurs several times within one bin (the ATLAS dijet table has
  ~60 ``sys`` per bin) becomes ``sys#1``, ``sys#2``, … by position within the bin; asking for
  the bare ``sys`` then is an error that lists them. Arguments that name labels accept the label
  as written in the file or its cleaned form.
* ``stat``, ``stat.``, ``statistical`` (any case) are statistical by default; ``stat=`` says
  otherwise. Several statistical labels add in quadrature; an asymmetric one is symmetrised as
  (|plus| + |minus|)/2 (logged).
* **Signs.** ``symerror: s`` is the shift ``s`` of the +1σ variation (and ``-s`` of −1σ);
  ``asymerror: {plus: p, minus: m}`` is ``(up, down) = (p, m)`` as written, so ``p < 0 < m`` (the
  up variation lowers the bin) and same-sign pairs keep their meaning (method.md §1). An empty
  side ``''`` is a zero shift. ``asymmetric=`` chooses how the pair is used: ``"keep"`` (passed
  on; the combiner's ``asymmetry`` option interpolates), ``"symmetrise"`` ((p − m)/2, signed),
  or ``"shift"`` (the centre moved by Σ(p + m)/2 and the shifts symmetrised).
* **Percent strings** (``'0.5%'``, ``'+0.346%'``, ``'-3.989%'``) are relative to the value of
  that variable in that bin, as written in the file.
* **Missing values** (``'-'``, or ``''`` in JSON) keep their bin in :class:`HEPDataVariable`
  (value NaN), so matrices and breakdown tables stay aligned; :func:`read_hepdata` then leaves
  the bin out of the measurement (its binning gets a gap, :meth:`Binning.select`) and logs a
  warning. The estimates are named ``f"{bin_prefix}{i}"`` with ``i`` the bin's position in the
  table, so names stay those of the table whatever is left out.
* **Units and scale.** ``scale`` (a factor the user states, e.g. ``1e-3`` for a table of A × 10³)
  multiplies values and uncertainties, covariances by its square; ``per_bin_width`` divides
  by the bin width (σ per bin → dσ/dx). Nothing is guessed from header text.
* **Bins are matched by edges**, never by position, wherever the file gives edges; matrices
  indexed by bin numbers are matched by number (``indices=`` says which numbers belong to the
  distribution when one matrix spans two tables).
* **Matrices** must be declared: :class:`HEPDataMatrix` says whether a table is a covariance or
  a correlation and whether it is statistical, systematic or total. A statistical matrix
  gives the statistical covariance (it must be positive definite); a systematic or total
  (minus the statistical part) one becomes orthogonal sources from its eigen-decomposition
  (``u_k = √w_k v_k``, named ``f"{name}{k}"``), replacing the labelled systematic uncertainties.
  A singular or indefinite matrix is a :class:`~hepcombine.exceptions.HEPDataError` naming the
  bins of the offending direction; ``drop_bins`` leaves bins out (for a normalised spectrum,
  one bin).
"""

from __future__ import annotations

from ._build import read_hepdata
from ._errors import HEPDataBreakdown, HEPDataMatrix
from ._files import hepdata_tables
from ._tables import HEPDataVariable, read_hepdata_matrix, read_hepdata_table

__all__ = [
    "HEPDataBreakdown",
    "HEPDataMatrix",
    "HEPDataVariable",
    "hepdata_tables",
    "read_hepdata",
    "read_hepdata_matrix",
    "read_hepdata_table",
]


def __dir__() -> list[str]:
    return list(__all__)
