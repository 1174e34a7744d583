"""p-values of the compatibility statistics calibrated with pseudo-experiments.

Each pseudo-experiment is drawn from the nominal combination's own model
(:class:`hepcombine.toys.ToyModel`: the combined values at their nominal values, the sources
from their priors with the assumed correlations, the statistical model of the χ² definition)
and analysed exactly as the data by :func:`~.diagnostics.diagnose`: its combination, the pulls
of its inputs, the χ² contributions and every leave-one-out combination. The chunks run through
:func:`hepcombine.execution.run_chunks` (in-process, or on Dask; streamed to a directory that a rerun
resumes; toy i uses child i of ``numpy.random.SeedSequence(seed)`` whatever the chunking).

For a quadratic χ² with the default fixed statistical model every combination is an exact linear
map of its data (:class:`~.linear.LinearCombination`) and the variances of the pulls and shifts
do not depend on the data: :class:`LinearToys` computes a pseudo-experiment's statistics from
these maps without combining it (the same numbers as :func:`~.diagnostics.diagnose` on the
pseudo-experiment, to rounding; tested).
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..exceptions import GenerationError, HepCombineError
from ..execution import item_rng, run_chunks
from ..toys import ToyModel
from ..toys.model import PseudoExperiment
from ..toys.study import _reason
from .diagnostics import Diagnosis, Setup, diagnose, profile
from .linear import LinearCombination
from .linear import layout as layout_of
from .result import OK, ToyCalibration, ToyPValue

__all__ = ["CompatibilityTask", "LinearToys", "calibrate"]

log = logging.getLogger(__name__)


def statistics(d: Diagnosis, leave_out: tuple[str, ...], n_obs: int) -> dict[str, Any]:
    """The statistics of one diagnosis, larger = less compatible: χ²_min, the largest |pull|,
    |pull| per input, the contribution per measurement, Δχ² and |significance| of every shift
    per measurement left out (NaN where not computed)."""
    loo = np.full(len(leave_out), np.nan)
    shifts = np.full((len(leave_out), n_obs), np.nan)
    for k, m in enumerate(leave_out):
        s = d.subs[m]
        if s.status != OK:
            continue
        loo[k] = d.chi2 - s.chi2
        ok = np.array([v == OK for v in s.value_status])
        shifts[k, ok] = np.abs(s.shifts[ok] / s.shift_errors[ok])
    return {
        "chi2": d.chi2,
        "max_pull": d.max_pull,
        "pulls": np.abs(d.pull),
        "contributions": d.data + d.constraints,
        "loo": loo,
        "shifts": shifts,
    }


class LinearToys:
    """The statistics of pseudo-experiments of a quadratic combination (statistical information
    fixed) from the linear maps of the nominal combination and of each combination without one
    measurement, and the data-independent errors of ``diagnosis`` (the data's)."""

    def __init__(self, setup: Setup, diagnosis: Diagnosis) -> None:
        comb = setup.combiner
        prof = profile(diagnosis.result)
        self.setup = setup
        self.nominal = LinearCombination.of(prof.model, prof.solution)
        lay = self.nominal.lay
        self.n_obs = len(comb.observables)
        self.at = np.array([lay.estimate(k, j) for (k, j, *_r) in setup.inputs], dtype=np.intp)
        self.par = np.array([c for (_, _, c, _, _) in setup.inputs], dtype=np.intp)
        self.error = diagnosis.error
        self.has_pull = np.isfinite(diagnosis.pull)
        order = list(comb.measurements)
        self.subs: dict[
            str, tuple[LinearCombination, NDArray[np.intp], NDArray[np.intp], Any, Any] | None
        ] = {}
        for m in setup.leave_out:
            sub_d = diagnosis.subs[m]
            sub = setup.subs[m]
            if sub_d.status != OK or isinstance(sub, str):
                self.subs[m] = None
                continue
            res = sub.combine(intervals=False, decompositions=False)
            sp = profile(res)
            cols = np.concatenate(
                [
                    np.arange(
                        lay.blocks[order.index(n)][0], lay.blocks[order.index(n)][0] + n_e + n_s
                    )
                    for n, (_, n_e, n_s) in zip(
                        sub.measurements, layout_of(sp.model).blocks, strict=True
                    )
                ]
            )
            rows = np.array([comb.observables.index(o) for o in sub.observables], dtype=np.intp)
            valid = np.array([v == OK for v in sub_d.value_status])
            self.subs[m] = (
                LinearCombination.of(sp.model, sp.solution),
                cols,
                rows,
                valid,
                sub_d.shift_errors,
            )

    def data(self, pseudo: PseudoExperiment) -> NDArray[np.float64]:
        """y of a pseudo-experiment (estimates and fitted source values, measurement by
        measurement)."""
        return np.concatenate(
            [
                np.concatenate([pseudo.estimates[m], pseudo.nuisance_values[m]])
                for m in self.setup.combiner.measurements
            ]
        )

    def statistics(self, pseudo: PseudoExperiment) -> dict[str, Any]:
        """The statistics of :func:`statistics` for one pseudo-experiment."""
        y = self.data(pseudo)
        theta, chi2, data, shares = self.nominal.minimum(y)
        x = theta[: self.n_obs]
        pull = np.full(len(self.at), np.nan)
        diff = y[self.at] - theta[self.par]
        pull[self.has_pull] = diff[self.has_pull] / self.error[self.has_pull]
        finite = np.abs(pull[np.isfinite(pull)])
        n_loo = len(self.setup.leave_out)
        loo = np.full(n_loo, np.nan)
        shifts = np.full((n_loo, self.n_obs), np.nan)
        for k, m in enumerate(self.setup.leave_out):
            sub = self.subs[m]
            if sub is None:
                continue
            lin, cols, rows, valid, shift_err = sub
            t_sub, chi2_sub, _, _ = lin.minimum(y[cols])
            loo[k] = chi2 - chi2_sub
            shift = np.full(self.n_obs, np.nan)
            shift[rows] = t_sub[: len(rows)] - x[rows]
            shifts[k, valid] = np.abs(shift[valid] / shift_err[valid])
        return {
            "chi2": chi2,
            "max_pull": float(finite.max()) if finite.size else np.nan,
            "pulls": np.abs(pull),
            "contributions": data + shares,
            "loo": loo,
            "shifts": shifts,
        }


class CompatibilityTask:
    """Pseudo-experiments ``start … stop − 1`` analysed as the data (a task for
    :func:`~hepcombine.execution.run_chunks`): fields ``toy``, ``failed``, ``reason`` and the
    statistics of :func:`statistics`."""

    kind = "compatibility"

    def __init__(self, model: ToyModel, setup: Setup, linear: LinearToys | None = None) -> None:
        self.model = model
        self.setup = setup
        self.linear = linear

    def fingerprint(self) -> str:
        return self.model.fingerprint(kind=self.kind, leave_out=list(self.setup.leave_out))

    def describe(self) -> dict[str, Any]:
        return {**self.model.describe(), "leave_out": list(self.setup.leave_out)}

    def __call__(self, start: int, stop: int, seed: int) -> dict[str, NDArray[Any]]:
        setup = self.setup
        m = stop - start
        n_in, n_meas = len(setup.inputs), len(setup.combiner.measurements)
        n_loo, n_obs = len(setup.leave_out), len(setup.combiner.observables)
        out: dict[str, NDArray[Any]] = {
            "toy": np.arange(start, stop, dtype=np.int64),
            "failed": np.zeros(m, dtype=bool),
            "chi2": np.full(m, np.nan),
            "max_pull": np.full(m, np.nan),
            "pulls": np.full((m, n_in), np.nan),
            "contributions": np.full((m, n_meas), np.nan),
            "loo": np.full((m, n_loo), np.nan),
            "shifts": np.full((m, n_loo, n_obs), np.nan),
        }
        reasons = [""] * m
        stat = self.model.stat != "fixed"
        for j, i in enumerate(range(start, stop)):
            try:
                pseudo = self.model.generate(item_rng(seed, i))
                if self.linear is not None:
                    values = self.linear.statistics(pseudo)
                else:
                    d = diagnose(setup.with_data(pseudo, stat), correlation=False)
                    values = statistics(d, setup.leave_out, n_obs)
            except (GenerationError, HepCombineError) as exc:
                out["failed"][j] = True
                reasons[j] = _reason(exc)
                continue
            except Exception as exc:  # one failed pseudo-experiment never stops the run
                out["failed"][j] = True
                reasons[j] = _reason(exc)
                log.warning("pseudo-experiment %d failed unexpectedly: %r", i, exc)
                continue
            for key, value in values.items():
                out[key][j] = value
        out["reason"] = np.array(reasons, dtype=str)
        return out


def calibrate(
    setup: Setup,
    diagnosis: Diagnosis,
    n: int,
    *,
    seed: int | None,
    chunk_size: int | None = None,
    workers: int | None = None,
    client: Any = None,
    scheduler: str | None = None,
    output: Any = None,
    progress: Any = None,
) -> ToyCalibration:
    """The :class:`ToyCalibration` of ``diagnosis`` (the data's) from ``n`` pseudo-experiments
    of ``setup``'s combination (module docstring)."""
    model = ToyModel(setup.combiner, diagnosis.result)
    quadratic = diagnosis.result.method == "linear solve" and model.stat == "fixed"
    task = CompatibilityTask(model, setup, LinearToys(setup, diagnosis) if quadratic else None)
    arrays, used_seed = run_chunks(
        task,
        n,
        seed=seed,
        chunk_size=chunk_size,
        workers=workers,
        client=client,
        scheduler=scheduler,
        output=output,
        progress=progress,
    )
    failed = np.asarray(arrays["failed"], dtype=bool)
    failures = Counter(str(r) for r, f in zip(arrays["reason"], failed, strict=True) if f)
    if failed.any():
        log.warning("%d of %d pseudo-experiments failed: %s", int(failed.sum()), n, dict(failures))
    comb = setup.combiner
    obs_stats = statistics(diagnosis, setup.leave_out, len(comb.observables))
    names = setup.input_names

    def pv(key: str, *index: int) -> ToyPValue:
        sample = np.asarray(arrays[key])[(slice(None), *index)]  # type: ignore[arg-type]
        observed = obs_stats[key][index] if index else obs_stats[key]
        return ToyPValue.of(sample, float(observed))

    return ToyCalibration(
        n=int(n),
        n_failed=int(failed.sum()),
        seed=int(used_seed),
        failures=dict(failures),
        chi2=pv("chi2"),
        max_pull=pv("max_pull"),
        pulls={name: pv("pulls", i) for i, name in enumerate(names)},
        contributions={m: pv("contributions", k) for k, m in enumerate(comb.measurements)},
        leave_one_out={m: pv("loo", k) for k, m in enumerate(setup.leave_out)},
        shifts={
            m: {o: pv("shifts", k, c) for c, o in enumerate(comb.observables)}
            for k, m in enumerate(setup.leave_out)
        },
        samples={
            "chi2": np.asarray(arrays["chi2"], dtype=float),
            "max_pull": np.asarray(arrays["max_pull"], dtype=float),
        },
    )


def __dir__() -> list[str]:
    return list(__all__)
