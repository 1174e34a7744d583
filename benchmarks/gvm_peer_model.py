"""The model gvm-combinations fits, rebuilt in hepcombine: to show that where the two programs
differ on the top-quark mass it is the model, not the minimisation (not part of the tests).

    python benchmarks/gvm_peer_model.py FILE.yaml

gvm-combinations (0.1.0) turns each uncertain source's correlation matrix into nuisance
parameters by (1) merging the measurements correlated with exactly ±1 into one parameter, the
entries between merged groups averaged, (2) when that reduced matrix is not positive definite
(smallest eigenvalue m ≤ 0, which it is whenever the matrix is singular), adding |m| + 0.01 to
its diagonal (a warning, not an error), and (3) giving the dependent term N = the number of
reduced parameters. The Gaussian (ε = 0) sources enter as BLUE covariance. Here the same
model is written as hepcombine sources: one per measurement and reduced parameter, with the
shift scaled by √(R_gg) and the correlation R_gh/√(R_gg R_hh) (±1 within a group).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
import yaml

from hepcombine import Combiner, Measurement


def peer_model(path: Path) -> Combiner:
    d = yaml.safe_load(path.read_text())
    base = path.parent / d["global"].get("corr_dir", ".")
    labels = [m["label"] for m in d["data"]["measurements"]]
    n = len(labels)
    systs: dict[str, dict[str, float]] = {label: {} for label in labels}
    rho: dict[tuple[str, str], float] = {}
    eoe: dict[str, float] = {}
    for s in d["syst"]:
        name, u = s["name"], np.array(s["shift"]["value"], dtype=float)
        c = np.loadtxt(base / s["shift"]["correlation"])
        eps = float(s.get("error-on-error", {}).get("value", 0.0))
        if eps == 0.0:  # Gaussian: the measurement's own source, correlated as the matrix says
            for i in range(n):
                if u[i] != 0:
                    systs[labels[i]][name] = u[i]
            for i in range(n):
                for j in range(i + 1, n):
                    if u[i] != 0 and u[j] != 0 and c[i, j] != 0:
                        rho[(f"{labels[i]}:{name}", f"{labels[j]}:{name}")] = float(
                            np.clip(0.5 * (c[i, j] + c[j, i]), -1, 1)
                        )
            continue
        groups, seen = [], set()
        for i in range(n):
            if i in seen:
                continue
            g = [i] + [j for j in range(i + 1, n) if abs(c[i, j]) == 1]
            seen.update(g)
            groups.append(g)
        sign = np.ones(n)
        for g in groups:
            for j in g:
                sign[j] = -1.0 if c[g[0], j] == -1 else 1.0
        R = np.array(
            [
                [np.mean([c[i, j] * sign[i] * sign[j] for i in a for j in b]) for b in groups]
                for a in groups
            ]
        )
        m = np.linalg.eigvalsh(R).min()
        if m <= 0:
            R = R + (abs(m) + 0.01) * np.eye(len(R))
        keep = [k for k, g in enumerate(groups) if any(u[j] != 0 for j in g)]
        for k in keep:
            for j in groups[k]:
                if u[j] != 0:
                    systs[labels[j]][f"{name}#{k}"] = u[j] * sign[j] * np.sqrt(R[k, k])
        members = {k: [j for j in groups[k] if u[j] != 0] for k in keep}
        for k in keep:
            for a in members[k]:
                for b in members[k]:
                    if a < b:
                        rho[(f"{labels[a]}:{name}#{k}", f"{labels[b]}:{name}#{k}")] = 1.0
            for h in keep:
                if h <= k:
                    continue
                r = float(np.clip(R[k, h] / np.sqrt(R[k, k] * R[h, h]), -1, 1))
                for a in members[k]:
                    for b in members[h]:
                        if r != 0:
                            rho[(f"{labels[a]}:{name}#{k}", f"{labels[b]}:{name}#{h}")] = r
        eoe[f"*:{name}#*"] = eps
    ms = {
        m["label"]: Measurement.from_uncertainties(
            {"mu": m["central"]},
            {"mu": m["stat_error"]},
            {s: {"mu": v} for s, v in systs[m["label"]].items()},
        )
        for m in d["data"]["measurements"]
    }
    return Combiner(ms, correlations=rho, errors_on_errors=eoe, bartlett=True)


if __name__ == "__main__":
    logging.disable(logging.WARNING)
    r = peer_model(Path(sys.argv[1])).combine()
    print(
        f"value {r.values['mu']:.5f}, Bartlett interval {r.interval('mu')}, χ² {r.chi2:.5f}, "
        f"b = {r.bartlett.profile['mu']:.5f}, b_chi2 = {r.bartlett.chi2:.4f}, "
        f"N = {[t.n for t in r.errors_on_errors]}"
    )
