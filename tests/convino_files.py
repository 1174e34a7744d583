"""Convino files the reader and writer tests share (import as ``from convino_files import ...``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import write

# Covariance of (xs0, xs1, jes, lumi): estimates first, built from a random-free recipe.
COV = np.array(
    [
        [9.0, 2.0, 1.5, -0.8],
        [2.0, 4.0, 0.6, 0.3],
        [1.5, 0.6, 0.7, 0.1],
        [-0.8, 0.3, 0.1, 0.9],
    ]
)
NAMES = ["xs0", "xs1", "jes", "lumi"]


def orthogonal(path: Path, estimates: dict[str, float], columns: dict[str, dict[str, str]]) -> Path:
    """A measurement file with only a [not fitted] table (``columns``: ``{column: {estimate: text}}``)."""
    names = list(columns)
    rows = ["      " + " ".join(names)]
    for e in estimates:
        rows.append(" ".join([e] + [columns[c].get(e, "0") for c in names]))
    est = [f"n_estimates = {len(estimates)}"]
    for i, (e, v) in enumerate(estimates.items()):
        est += [f"name_{i} = {e}", f"value_{i} = {v}"]
    text = (
        "[not fitted]\n"
        + "\n".join(rows)
        + "\n[end not fitted]\n[estimates]\n"
        + "\n".join(est)
        + "\n[end estimates]\n"
    )
    return write(path, text)


def combination_files(tmp_path: Path) -> Path:
    """A differential base file of two orthogonal measurements (asymmetric entries, a
    spectator, a scan range, impact groups with a stat-only group)."""
    orthogonal(
        tmp_path / "inputs" / "atlas.txt",
        {"a0": 10.0, "a1": 20.0},
        {
            "stat": {"a0": "1", "a1": "2"},
            "jes_a": {"a0": "0.5", "a1": "(+0.4-0.6)"},
            "lumi_a": {"a0": "0.2", "a1": "0.4"},
        },
    )
    orthogonal(
        tmp_path / "inputs" / "cms.txt",
        {"c0": 11.0, "c1": 19.0, "c_extra": 5.0},
        {
            "stat": {"c0": "1.5", "c1": "2.5", "c_extra": "1"},
            "jes_c": {"c0": "0.3"},
            "lumi_c": {"c1": "0.1"},
        },
    )
    return write(
        tmp_path / "base.txt",
        """
        A combination of two measurements.
        [global]
          isDifferential = true
          normalise = false
        [end global]
        [inputs]
          nFiles = 2
          file0 = inputs/atlas.txt
          file1 = inputs/cms.txt
        [end inputs]
        [observables]
          bin0 = a0 + c0
          bin1 = atlas:a1 + c1
        [end observables]
        [correlations]
          jes_a = (0.5 & 0 : 1) jes_c
          lumi_a = (1) lumi_c
        [end correlations]
        [uncertainty impacts]
          lumi = lumi_a + lumi_c
          statistics = stat
        [end uncertainty impacts]
        """,
    )


def shared_setup(tmp_path: Path, shared: str) -> Path:
    orthogonal(
        tmp_path / "m1.txt",
        {"x1": 1.0},
        {"stat": {"x1": "1"}, "lumi": {"x1": "0.1"}, "a": {"x1": "0.2"}},
    )
    orthogonal(
        tmp_path / "m2.txt",
        {"x2": 1.0},
        {"stat": {"x2": "1"}, "lumi": {"x2": "0.3"}, "b": {"x2": "0.2"}},
    )
    return write(
        tmp_path / "base.txt",
        f"""
        [global]
        {shared}
        [end global]
        [inputs]
        nFiles = 2
        file0 = m1.txt
        file1 = m2.txt
        [end inputs]
        [observables]
        x = x1 + x2
        [end observables]
        [correlations]
        a = (0.5) lumi
        [end correlations]
        [uncertainty impacts]
        lumi = lumi
        [end uncertainty impacts]
        """,
    )
