"""A pseudo-experiment study: generate, recombine, summarise (the function a CLI calls).

A command line needs a few lines::

    spec = load_config(path)
    result = run_toys(spec, n, seed=seed, workers=workers, scheduler=scheduler,
                      output=output, progress=bar)        # bar(done, total)
    print(result.summary())                               # summary.json is in output/
    plot_pull_distribution(result).savefig(...)           # hepcombine.plots.toys

Every problem a user can cause is a :class:`~hepcombine.exceptions.HepCombineError` with a
one-line message (bad n, seed, chunk size, an unwritable or foreign output directory, an
unreachable scheduler, Dask not installed).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ..exceptions import GenerationError, HepCombineError, RunError
from ..execution import MANIFEST, Progress, _atomic_write, item_rng, run_chunks
from .batched import Recombined, batched_applies, recombine_batched
from .linear import LinearRecombination, linear_recombination
from .model import NuisanceMode, StatModel, ToyModel, combiner_with_definition
from .summary import ToyResult

if TYPE_CHECKING:
    from ..combiner import Combiner
    from ..result import CombinationResult
    from ..spec import CombinationSpec

__all__ = ["ToyTask", "load_toys", "run_toys"]

log = logging.getLogger(__name__)

SUMMARY = "summary.json"
_OTHER = {"neyman": "pearson", "pearson": "neyman"}


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else ""
    if isinstance(exc, HepCombineError):
        return first or type(exc).__name__
    return f"{type(exc).__name__}: {first}"


class ToyTask:
    """Pseudo-experiments ``start … stop − 1`` of a :class:`ToyModel`, recombined (a task for
    :func:`~hepcombine.execution.run_chunks`).

    Fields per pseudo-experiment (``other_…`` for the second χ² definition with
    ``compare=True``): ``toy`` (index), ``failed``, ``reason``, ``values``, ``errors``,
    ``low``, ``high``, ``interval`` (valid profile interval) per observable, ``chi2``.
    The combiners are built once per process and reused by every chunk it runs.

    A quadratic combination (Neyman, absolute symmetric sources, no errors on errors) with
    ``stat="fixed"`` is recombined by linear algebra for all pseudo-experiments of a chunk at
    once (:mod:`hepcombine.toys.linear`: one product with the gain matrix, one quadratic form
    for χ²_min), with the same pseudo-data and the same numbers to rounding; ``linear=False``
    recombines every pseudo-experiment with the generic :meth:`Combiner.combine` instead.

    Other combinations (Newton's method) are minimised for all pseudo-experiments of a chunk
    together (:mod:`hepcombine.toys.batched`: batched Newton iterations, the profile intervals
    per pseudo-experiment from the same minima), with the numbers of :meth:`Combiner.combine`
    to its own precision; ``batched=False`` recombines each alone.
    """

    kind = "toys"

    def __init__(
        self,
        model: ToyModel,
        *,
        intervals: bool = True,
        compare: bool = False,
        linear: bool = True,
        batched: bool = True,
    ) -> None:
        self.model = model
        self.intervals = bool(intervals)
        self.compare = bool(compare)
        self.linear = bool(linear)
        self.batched = bool(batched)
        self.definitions = (model.combiner.chi2,) + (
            (_OTHER[model.combiner.chi2],) if compare else ()
        )
        self._combiners: list[Combiner] | None = None
        self._linear: LinearRecombination | bool | None = False  # False: not looked at yet

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_combiners"] = None
        state["_linear"] = False
        return state

    def linear_recombination(self) -> LinearRecombination | None:
        """The linear recombination of the main χ² definition, where it applies (built on first
        use in each process)."""
        if self._linear is False:
            self._linear = linear_recombination(self.model) if self.linear else None
        assert self._linear is not True
        return self._linear

    def combiners(self) -> list[Combiner]:
        """The combiner of each χ² definition (built on first use in each process)."""
        if self._combiners is None:
            main = self.model.combiner
            self._combiners = [main] + [
                combiner_with_definition(main, d) for d in self.definitions[1:]
            ]
        return self._combiners

    def fingerprint(self) -> str:
        return self.model.fingerprint(intervals=self.intervals, compare=self.compare)

    def describe(self) -> dict[str, Any]:
        out = dict(self.model.describe())
        out.update(intervals=self.intervals, other=self.definitions[1] if self.compare else None)
        return out

    def __call__(self, start: int, stop: int, seed: int) -> dict[str, NDArray[Any]]:
        m, k = stop - start, len(self.model.observables)
        combiners = self.combiners()
        prefixes = ["", "other_"][: len(combiners)]
        out: dict[str, NDArray[Any]] = {"toy": np.arange(start, stop, dtype=np.int64)}
        reasons: dict[str, list[str]] = {p: [""] * m for p in prefixes}
        for p in prefixes:
            for f in ("values", "errors", "low", "high"):
                out[p + f] = np.full((m, k), np.nan)
            out[p + "interval"] = np.zeros((m, k), dtype=bool)
            out[p + "chi2"] = np.full(m, np.nan)
            out[p + "failed"] = np.zeros(m, dtype=bool)
        fast = self.linear_recombination()
        if fast is not None:
            values, chi2 = fast.run(seed, start, stop)
            out["values"][:] = values
            out["errors"][:] = fast.errors[None, :]
            out["low"][:] = values - fast.errors[None, :]
            out["high"][:] = values + fast.errors[None, :]
            out["interval"][:] = True
            out["chi2"][:] = chi2
            combiners = combiners[1:]
            prefixes = prefixes[1:]
        pseudos = {}
        for j, i in enumerate(range(start, stop) if combiners else ()):
            try:
                pseudos[j] = self.model.generate(item_rng(seed, i))
            except GenerationError as exc:
                for p in prefixes:
                    out[p + "failed"][j] = True
                    reasons[p][j] = f"generation: {_reason(exc)}"
        for p, comb in zip(prefixes, combiners, strict=True):
            toys = {}
            for j, pseudo in pseudos.items():
                try:
                    toys[j] = self.model.combiner_for(pseudo, comb)
                except Exception as exc:  # as a failed combination below
                    self._failed(out, reasons, p, j, start + j, exc)
            together: list[Recombined | None] = [None] * len(toys)
            if self.batched and batched_applies(comb):
                try:
                    together = recombine_batched(list(toys.values()), intervals=self.intervals)
                except Exception as exc:  # never a lost chunk: each toy alone reports its own
                    log.warning("batched recombination failed (%r); combining each toy alone", exc)
            for (j, toy), res in zip(toys.items(), together, strict=True):
                if res is None:
                    try:
                        res = self._alone(toy)
                    except Exception as exc:  # one failed pseudo-experiment never stops the run
                        self._failed(out, reasons, p, j, start + j, exc)
                        continue
                out[p + "values"][j] = res.values
                out[p + "errors"][j] = res.errors
                out[p + "interval"][j] = res.valid
                out[p + "low"][j], out[p + "high"][j] = res.low, res.high
                out[p + "chi2"][j] = res.chi2
        for p in reasons:
            out[p + "reason"] = np.array(reasons[p], dtype=str)
        return out

    @staticmethod
    def _failed(
        out: dict[str, NDArray[Any]],
        reasons: dict[str, list[str]],
        p: str,
        j: int,
        i: int,
        exc: BaseException,
    ) -> None:
        out[p + "failed"][j] = True
        reasons[p][j] = _reason(exc)
        if not isinstance(exc, HepCombineError):
            log.warning("pseudo-experiment %d failed unexpectedly: %r", i, exc)

    def _alone(self, toy: Combiner) -> Recombined:
        """One pseudo-experiment recombined by :meth:`Combiner.combine`."""
        res = toy.combine(intervals=self.intervals, decompositions=False)
        obs = self.model.observables
        valid = np.array([res.has_interval(o) for o in obs])
        iv = np.array(
            [res.intervals[o] if ok else (np.nan, np.nan) for o, ok in zip(obs, valid, strict=True)]
        )
        return Recombined(
            np.array([res.values[o] for o in obs]),
            np.array([res.errors[o] for o in obs]),
            iv[:, 0],
            iv[:, 1],
            valid,
            float(res.chi2),
        )


def run_toys(
    combiner: Combiner | CombinationSpec,
    n: int,
    *,
    seed: int | None,
    truth: Mapping[str, float] | None = None,
    nuisance: NuisanceMode | Mapping[str, float] = "prior",
    stat: StatModel | None = None,
    intervals: bool = True,
    compare: bool = False,
    nominal: CombinationResult | None = None,
    chunk_size: int | None = None,
    workers: int | None = None,
    client: Any = None,
    scheduler: str | None = None,
    output: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> ToyResult:
    """Pseudo-experiments of a combination: bias, pull width, coverage and χ²_min.

    Parameters
    ----------
    combiner:
        The combination (a :class:`~hepcombine.combiner.Combiner`, or a specification read
        from a configuration, combined with its default options); the pseudo-experiments are
        generated from its model and recombined with its assumptions
        (:mod:`hepcombine.toys.model`).
    n:
        Number of pseudo-experiments.
    seed:
        Pseudo-experiment ``i`` uses child ``i`` of ``numpy.random.SeedSequence(seed)``; the
        results do not depend on ``chunk_size`` or the workers. ``None`` draws a fresh seed
        (reported in the result).
    truth, nuisance, stat:
        The generation model (:class:`~hepcombine.toys.model.ToyModel`): true values
        (default: the nominal combined values), true source values (``"prior"``: drawn from
        the assumed correlations; ``"zero"``, ``"pulls"``, or ``{source: value}``), and the
        statistical model (``"fixed"``, ``"scaled"``, ``"poisson"``; default by χ² definition).
    intervals:
        Compute the 68 % profile intervals (needed for the coverage of a non-quadratic χ²;
        exact and free for a quadratic one).
    compare:
        Also combine every pseudo-experiment with the other χ² definition (``result.other``,
        ``result.difference``).
    nominal:
        The combiner's result, if already computed.
    chunk_size:
        Pseudo-experiments per task (default: about 8 tasks per worker thread, at most 500).
    workers, client, scheduler:
        In-process by default; ``workers=N`` starts a local Dask cluster of N processes,
        ``client=`` uses a :class:`distributed.Client`, ``scheduler=`` connects to a scheduler
        address (needs ``hepcombine[dask]``).
    output:
        A directory: chunks stream there as they finish, a restarted run resumes from them,
        and the merged pseudo-experiments (``toys.npz``) and the summary (``summary.json``)
        are written at the end (:mod:`hepcombine.execution`).
    progress:
        Called as ``progress(done, n)`` after every chunk.

    Returns
    -------
    ToyResult
    """
    if hasattr(combiner, "combiner_arguments"):  # a CombinationSpec
        from ..combiner import Combiner

        combiner = Combiner(**combiner.combiner_arguments())
    model = ToyModel(combiner, nominal, truth=truth, nuisance=nuisance, stat=stat)
    task = ToyTask(model, intervals=intervals, compare=compare)
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
    result = ToyResult.from_arrays(
        arrays, task.describe(), seed=used_seed, output=None if output is None else str(output)
    )
    if result.n_failed:
        log.warning(
            "%d of %d pseudo-experiments failed: %s", result.n_failed, n, dict(result.failures)
        )
    if output is not None:
        text = json.dumps(result.to_dict(), indent=2).encode()
        path = Path(output) / SUMMARY
        try:
            _atomic_write(path, lambda f: f.write(text), ".json")
        except OSError as exc:
            raise RunError(f"cannot write {path}: {exc.strerror or exc}") from None
    return result


def load_toys(output: str | os.PathLike[str], n: int | None = None) -> ToyResult:
    """The result of a finished pseudo-experiment run from its directory (the first ``n``
    pseudo-experiments, default all)."""
    path = Path(output)
    try:
        manifest = json.loads((path / MANIFEST).read_text())
        with np.load(path / f"{ToyTask.kind}.npz", allow_pickle=False) as z:
            stop = int(z["_stop"])
            arrays = {k: z[k] for k in z.files if not k.startswith("_")}
    except (OSError, ValueError, KeyError) as exc:
        raise RunError(f"{path} holds no finished pseudo-experiment run: {exc}") from None
    if manifest.get("kind") != ToyTask.kind:
        raise RunError(f"{path} holds a {manifest.get('kind')!r} run, not pseudo-experiments")
    n = stop if n is None else int(n)
    if not 0 < n <= stop:
        raise RunError(f"{path} holds {stop} pseudo-experiments; cannot load {n}")
    arrays = {k: v[:n] for k, v in arrays.items()}
    return ToyResult.from_arrays(
        arrays, manifest["description"], seed=int(manifest["seed"]), output=str(path)
    )


def __dir__() -> list[str]:
    return list(__all__)
