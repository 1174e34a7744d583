"""Input forms → :class:`~hepcombine.spec.CombinationSpec` (or measurements).

* :mod:`~hepcombine.inputs.convino`: the C++ Convino program's text files;
* :mod:`~hepcombine.inputs.yaml`: hepcombine's YAML configuration;
* :mod:`~hepcombine.inputs.histograms`: histograms and graphs (uproot, ``hist``, PyROOT);
* :mod:`~hepcombine.inputs.csv`: BLUE tables;
* :mod:`~hepcombine.inputs.hepdata`: HEPData records (submissions, table files, JSON exports);
* :mod:`~hepcombine.inputs.yoda`: YODA files (Rivet reference data, HEPData's YODA exports).

:func:`load_config` picks the configuration reader from the file name. The readers are
imported when used, so reading a Convino file loads neither PyYAML nor jsonschema.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import ConfigError

if TYPE_CHECKING:
    from ..spec import CombinationSpec

__all__ = ["load_config"]


def load_config(
    path: str | os.PathLike[str],
    *,
    symmetrise: bool = False,
    repair_correlations: bool = False,
) -> CombinationSpec:
    """Read a combination: ``.yaml``/``.yml`` as hepcombine YAML or, recognised by its layout
    (``global: {n_meas, n_syst}``, ``data``, ``syst``), as a gvm-combinations file; anything
    else as a Convino base file.

    ``symmetrise`` and ``repair_correlations`` apply to the correlation-matrix files of a
    gvm-combinations file (:func:`~hepcombine.inputs.gvm.read_gvm`): use the mean of the two
    entries of an asymmetric matrix; let an invalid (not positive semi-definite) matrix through
    to the combiner's opt-in repair (``repair=True``) instead of stopping."""
    path = Path(path)
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        raise ConfigError(f"{path}: the configuration file {what}")
    if path.suffix.lower() in (".yaml", ".yml"):
        from .yaml import read_yaml

        _check_text(path)
        data = _gvm_layout(path)
        if data is not None:
            from .gvm import read_gvm

            return read_gvm(
                path, data=data, symmetrise=symmetrise, repair_correlations=repair_correlations
            )
        return read_yaml(path)
    from .convino import read_convino

    return read_convino(path)


def _gvm_layout(path: Path) -> Any:
    """The parsed content of ``path`` if it has the layout of a gvm-combinations file, else
    None (hepcombine's own YAML reader reads and reports everything else)."""
    import yaml

    from .gvm import is_gvm_file

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    return data if is_gvm_file(data) else None


def _check_text(path: Path) -> None:
    """A configuration that is not UTF-8 text (a binary file, another encoding) is a one-line
    :class:`ConfigError` naming the file (the Convino reader checks its files itself)."""
    try:
        data = path.read_bytes()
    except OSError:
        return  # the reader reports it
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path} is not a text file: byte 0x{data[exc.start]:02x} at offset {exc.start} is "
            "not UTF-8"
        ) from None


def __dir__() -> list[str]:
    return list(__all__)
