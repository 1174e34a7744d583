"""The chunked runner of pseudo-experiments (hepcombine.execution, through run_toys) in-process and on a real Dask
LocalCluster: bit-identical results for any chunk size and number of workers, a worker killed
mid-run, interrupt and resume, extending a run, and one-line errors for bad input.

The reference for every comparison is the plain in-process run with one chunk; random numbers
of item i are checked against numpy's own SeedSequence(seed).spawn(n)[i].
"""

from __future__ import annotations

import json
import os
import signal
import sys

import numpy as np
import pytest
from toy_inputs import assert_identical, quadratic_combiner

from hepcombine import Combiner, Measurement
from hepcombine.exceptions import HepCombineError
from hepcombine.toys import RunError, item_rng, load_toys, run_chunks, run_toys

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def combiner():
    return quadratic_combiner(3, shape=False)


@pytest.fixture(scope="module")
def pearson():
    """A non-quadratic combination (Pearson, a relative and an asymmetric source)."""
    a = Measurement.from_uncertainties(
        {"x": 100.0, "y": 50.0},
        {"x": 5.0, "y": 4.0},
        {"lumi": {"x": 2.0, "y": 1.0}, "asy": {"x": (3.0, -1.0), "y": (1.0, -2.0)}},
        relative=["lumi"],
        name="A",
    )
    b = Measurement.from_uncertainties(
        {"x": 104.0, "y": 47.0}, {"x": 6.0, "y": 3.0}, {"lumi": {"x": 2.5, "y": 1.2}}, name="B"
    )
    return Combiner([a, b], correlations={("A:lumi", "B:lumi"): 1.0}, chi2="pearson")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


# --------------------------------------------------------------------------- generic runner
class Draws:
    """A minimal task: item i's first uniform number."""

    kind = "draws"

    def fingerprint(self):
        return "draws"

    def describe(self):
        return {}

    def __call__(self, start, stop, seed):
        return {"u": np.array([item_rng(seed, i).random() for i in range(start, stop)])}


def test_generic_runner_and_seeds():
    children = np.random.SeedSequence(77).spawn(23)
    expected = [np.random.default_rng(c).random() for c in children]
    for chunk in (1, 4, 23, 100):
        arrays, seed = run_chunks(Draws(), 23, seed=77, chunk_size=chunk)
        assert seed == 77
        np.testing.assert_array_equal(arrays["u"], expected)
    _, fresh = run_chunks(Draws(), 2, seed=None)
    assert isinstance(fresh, int) and fresh >= 0


def test_task_with_wrong_rows_is_an_error():
    class Bad(Draws):
        def __call__(self, start, stop, seed):
            return {"u": np.zeros(stop - start + 1)}

    with pytest.raises(RunError, match="internal"):
        run_chunks(Bad(), 5, seed=1)


# --------------------------------------------------------------------------- determinism
def test_bit_identical_for_chunk_sizes_and_workers(combiner, pearson, client):
    ref = run_toys(combiner, 30, seed=9, chunk_size=30)
    assert_identical(ref, run_toys(combiner, 30, seed=9, chunk_size=7))
    assert_identical(ref, run_toys(combiner, 30, seed=9, chunk_size=4, client=client))
    assert_identical(ref, run_toys(combiner, 30, seed=9, chunk_size=11, workers=2))
    address = client.scheduler.address  # a running scheduler, by its address
    assert_identical(ref, run_toys(combiner, 30, seed=9, scheduler=address))
    assert client.status == "running"  # only run_toys' own connection was closed
    # non-quadratic: Migrad and Minos on the workers give the same bits
    ref = run_toys(pearson, 6, seed=4, chunk_size=6, compare=True)
    assert ref.n_failed == 0 and all(ref.interval_valid[o].all() for o in ref.observables)
    assert_identical(ref, run_toys(pearson, 6, seed=4, chunk_size=1, client=client, compare=True))


def test_progress_callback(combiner, client):
    for kwargs in ({}, {"client": client}):
        calls: list[tuple[int, int]] = []
        run_toys(
            combiner,
            20,
            seed=1,
            chunk_size=6,
            progress=lambda d, t, c=calls: c.append((d, t)),
            **kwargs,
        )
        done = [d for d, _ in calls]
        assert [t for _, t in calls] == [20] * 4 and done[-1] == 20
        # one call per chunk, whatever the order chunks finish in
        assert sorted(np.diff([0, *done])) == [2, 6, 6, 6]


# --------------------------------------------------------------------------- fault tolerance
def test_worker_killed_mid_run(pearson, tmp_path):
    ref = run_toys(pearson, 24, seed=12, chunk_size=24, intervals=False)
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    c = distributed.Client(cluster)
    killed = []

    def kill_once(done, total):
        if killed:
            return
        processing = c.processing()
        worker = max(processing, key=lambda w: len(processing[w]))
        assert processing[worker], "the worker to kill holds no running chunk"
        pid = c.run(os.getpid, workers=[worker])[worker]
        os.kill(pid, signal.SIGKILL)
        killed.append((worker, list(processing[worker])))

    try:
        res = run_toys(
            pearson, 24, seed=12, chunk_size=2, intervals=False, client=c, progress=kill_once,
            output=tmp_path,
        )  # fmt: skip
    finally:
        c.close()
        cluster.close()
    assert killed
    assert_identical(ref, res)
    with np.load(tmp_path / "toys.npz") as z:  # every pseudo-experiment exactly once
        np.testing.assert_array_equal(z["toy"], np.arange(24))


# --------------------------------------------------------------------------- streaming, resume
class Stop(Exception):
    pass


def test_interrupt_and_resume(combiner, client, tmp_path):
    ref = run_toys(combiner, 20, seed=5)
    out = tmp_path / "run"

    def stop_after_ten(done, total):
        if done >= 10:
            raise Stop

    with pytest.raises(Stop):
        run_toys(combiner, 20, seed=5, chunk_size=5, output=out, progress=stop_after_ten)
    chunks = sorted(p.name for p in out.glob("chunk-*.npz"))
    assert chunks == ["chunk-000000000-000000005.npz", "chunk-000000005-000000010.npz"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 5 and manifest["kind"] == "toys" and manifest["n"] == 20
    assert not (out / "summary.json").exists()
    calls = []
    res = run_toys(
        combiner, 20, seed=5, chunk_size=3, output=out, progress=lambda d, t: calls.append(d)
    )
    assert calls == [10, 13, 16, 19, 20]  # only the missing toys were computed
    assert_identical(ref, res)
    assert res.output == str(out)
    assert not list(out.glob("chunk-*.npz")) and (out / "toys.npz").exists()
    summary = json.loads((out / "summary.json").read_text())
    assert summary == json.loads(json.dumps(res.to_dict()))
    assert_identical(ref, load_toys(out))
    # a finished run restarted computes nothing
    calls.clear()
    assert_identical(
        ref, run_toys(combiner, 20, seed=5, output=out, progress=lambda d, t: calls.append(d))
    )
    assert calls == [20]


def test_resume_on_the_cluster_and_extend(combiner, client, tmp_path):
    ref = run_toys(combiner, 16, seed=8)
    out = tmp_path / "run"

    def stop(done, total):
        if done >= 4:
            raise Stop

    with pytest.raises(Stop):
        run_toys(combiner, 10, seed=8, chunk_size=2, output=out, progress=stop, client=client)
    run_toys(combiner, 10, seed=8, output=out, client=client)  # resumed on the cluster
    calls = []
    res = run_toys(
        combiner, 16, seed=8, chunk_size=4, output=out, progress=lambda d, t: calls.append(d)
    )
    assert calls == [10, 14, 16]
    assert_identical(ref, res)
    assert load_toys(out, 7).n == 7
    np.testing.assert_array_equal(load_toys(out, 7).chi2, ref.chi2[:7])


def test_other_run_in_directory_is_an_error(combiner, tmp_path):
    out = tmp_path / "run"
    run_toys(combiner, 4, seed=1, output=out)
    with pytest.raises(RunError, match="seed 1 there, 2 now") as exc:
        run_toys(combiner, 4, seed=2, output=out)
    assert "\n" not in str(exc.value)
    with pytest.raises(RunError, match="the combination or the options differ"):
        run_toys(combiner, 4, seed=1, output=out, truth={"b0": 11.0})
    with pytest.raises(RunError, match="options differ"):
        run_toys(combiner, 4, seed=1, output=out, nuisance="zero")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "chunk-000000000-000000004.npz").write_bytes(b"")
    with pytest.raises(RunError, match="not a hepcombine run directory"):
        run_toys(combiner, 4, seed=1, output=foreign)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("n", [0, -3, 2.5, True, "10"])
def test_bad_number_of_toys(combiner, n):
    with pytest.raises(RunError, match="positive integer") as exc:
        run_toys(combiner, n, seed=1)
    assert "\n" not in str(exc.value)


def test_bad_arguments(combiner):
    for kwargs, match in (
        ({"chunk_size": 0}, "chunk_size must be a positive integer"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"workers": 0}, "workers must be a positive integer"),
        ({"workers": 2, "scheduler": "tcp://127.0.0.1:1"}, "at most one of"),
        ({"scheduler": 8786}, "address"),
    ):
        args = {"seed": 1, **kwargs}
        with pytest.raises(RunError, match=match):
            run_toys(combiner, 3, **args)


def test_unwritable_output(combiner, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(RunError, match="cannot write the run's output") as exc:
        run_toys(combiner, 3, seed=1, output=blocker / "run")
    assert "\n" not in str(exc.value)


def test_unreachable_scheduler(combiner):
    import dask

    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(RunError, match="cannot connect to the Dask scheduler") as exc,
    ):
        run_toys(combiner, 3, seed=1, scheduler="tcp://127.0.0.1:1")
    assert "\n" not in str(exc.value)
    assert isinstance(exc.value, HepCombineError)


def test_without_dask(combiner, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    for kwargs in ({"workers": 2}, {"scheduler": "tcp://127.0.0.1:8786"}):
        with pytest.raises(RunError, match=r"pip install 'hepcombine\[dask\]'") as exc:
            run_toys(combiner, 3, seed=1, **kwargs)
        assert "\n" not in str(exc.value)
    assert run_toys(combiner, 3, seed=1).n == 3  # in-process needs no dask


def test_a_configuration_runs_as_its_combiner():
    from pathlib import Path

    from hepcombine import load_config

    spec = load_config(Path(__file__).resolve().parents[2] / "data" / "ttbar_8tev_emu.yaml")
    res = run_toys(spec, 20, seed=4)
    assert_identical(res, run_toys(Combiner(**spec.combiner_arguments()), 20, seed=4))
    assert res.observables == ("sigma_tt",) and res.n_failed == 0
