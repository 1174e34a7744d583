"""Many independent items (pseudo-experiments, scan points) run in chunks, in-process or on Dask.

The one execution layer of the package: :mod:`hepcombine.toys` (pseudo-experiments) and
:mod:`hepcombine.scan` (correlation scans) both run through :func:`run_chunks`; it knows
nothing of combinations.

The runner is generic: a *task* is a picklable callable ``task(start, stop, seed)`` that returns
``{field: array}`` with one row per item ``start … stop − 1`` (leading dimension
``stop − start``), plus a ``fingerprint()`` (a string that changes whenever the results would)
and a ``kind`` (a short name used for files). Item ``i`` draws its random numbers from
:func:`item_rng` ``(seed, i)`` — child ``i`` of ``numpy.random.SeedSequence(seed).spawn`` —
so the results are bit-identical whatever the chunk size and the number of workers.

Execution (:func:`run_chunks`):

* in-process by default (no Dask import);
* ``workers=N`` starts a :class:`distributed.LocalCluster` of N single-threaded worker
  processes for the run (without Dask's ``MALLOC_TRIM_THRESHOLD_`` setting, which makes
  numpy's allocations of 100-bin matrices ~60 % slower, and without the workers'
  statistical profiler, ~10 %; configure a cluster of your own the same way:
  ``distributed.nanny.pre-spawn-environ``, ``distributed.worker.profile.enabled``);
  ``client=`` uses an existing :class:`distributed.Client`, ``scheduler="tcp://…"``
  connects to a running scheduler. The task is sent to the cluster
  once (as a task of its own, so a lost copy is recomputed); each chunk is one Dask task. A
  worker that dies has its chunks rerun by Dask; each chunk's rows are kept by their item
  indices, so no item is ever counted twice.
* ``output=DIR`` streams every finished chunk to ``DIR/chunk-<start>-<stop>.npz`` (written to
  a temporary file and renamed, so a file is complete or absent) next to a JSON manifest
  (``manifest.json``: kind, fingerprint, seed, hepcombine version, and a description). A run
  restarted with the same arguments computes only the items not yet on disk (whatever chunk
  size either run used; a larger ``n`` extends an earlier run) and gives the same numbers. At
  the end the chunks are merged into ``DIR/<kind>.npz`` and removed. A directory holding
  another run (different fingerprint, seed or kind) is an error.
* ``progress(done, total)`` is called after every chunk (items done so far, of ``n``).

Every chunk runs with single-threaded BLAS (with threadpoolctl installed, as the ``dask``
extra does), in-process as on the workers: results are then bit-identical between the two on
the same machine and software (different CPUs or BLAS builds can differ in the last bits).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import re
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from ._version import __version__
from .exceptions import HepCombineError, RunError
from .outputs.atomic import output_set

__all__ = ["ChunkTask", "check_execution", "content_fingerprint", "item_rng", "run_chunks"]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Arrays = dict[str, NDArray[Any]]

MANIFEST = "manifest.json"
FORMAT = "hepcombine-run/1"
INSTALL_DASK = "python -m pip install 'hepcombine[dask]'"
_CHUNK = re.compile(r"^chunk-(\d+)-(\d+)\.npz$")


class ChunkTask(Protocol):
    """What :func:`run_chunks` runs (see the module docstring)."""

    kind: str

    def fingerprint(self) -> str: ...

    def describe(self) -> Mapping[str, Any]: ...

    def __call__(self, start: int, stop: int, seed: int) -> Mapping[str, NDArray[Any]]: ...


def item_rng(seed: int, index: int) -> np.random.Generator:
    """The random generator of item ``index``: ``default_rng(SeedSequence(seed).spawn(n)[index])``
    for any ``n > index``, built directly."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))


def _canonical(value: Any, depth: int = 0) -> Any:
    """A JSON-ready, deterministic image of ``value`` for :func:`content_fingerprint`: arrays
    by shape, dtype and the SHA-256 of their bytes, mappings as lists of (key, value) pairs
    sorted by key, dataclasses and other objects by their fields (object identities and memory
    addresses never enter)."""
    import dataclasses
    import hashlib

    if depth > 50:
        raise RunError("internal: the content to fingerprint is nested too deeply")
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float | np.floating):
        return repr(float(value))
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if isinstance(value, np.ndarray):
        arr = np.ascontiguousarray(value)
        if arr.dtype.kind in "OV":
            return ["array", [_canonical(v, depth + 1) for v in arr.tolist()]]
        digest = hashlib.sha256(arr.tobytes()).hexdigest()
        return ["array", list(arr.shape), arr.dtype.str, digest]
    if isinstance(value, Mapping):
        items = [(_canonical(k, depth + 1), _canonical(v, depth + 1)) for k, v in value.items()]
        return ["map", sorted(items, key=lambda kv: json.dumps(kv[0]))]
    if isinstance(value, list | tuple):
        return [_canonical(v, depth + 1) for v in value]
    if isinstance(value, set | frozenset):
        return ["set", sorted((_canonical(v, depth + 1) for v in value), key=json.dumps)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return [type(value).__qualname__, _canonical(fields, depth + 1)]
    if hasattr(value, "__dict__"):
        return [type(value).__qualname__, _canonical(vars(value), depth + 1)]
    if hasattr(value, "__slots__"):
        state = {k: getattr(value, k) for k in value.__slots__ if hasattr(value, k)}
        return [type(value).__qualname__, _canonical(state, depth + 1)]
    return [type(value).__qualname__, repr(value)]


def content_fingerprint(*parts: Any) -> str:
    """SHA-256 of ``parts`` by content: the same for equal arrays, mappings, dataclasses and
    objects in any process (a task's :meth:`~ChunkTask.fingerprint`, so that a run directory
    is resumed only by the same run)."""
    import hashlib

    text = json.dumps([_canonical(p) for p in parts], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------- checks
def _positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise RunError(f"{what} must be a positive integer, not {value!r}")
    return int(value)


def _seed(seed: Any) -> int:
    if seed is None:
        return int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise RunError(
            f"the seed must be a non-negative integer (or None for a fresh one), not {seed!r}"
        )
    return int(seed)


# --------------------------------------------------------------------------- storage
def _covered(ranges: list[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    """The parts of [0, n) not covered by ``ranges``."""
    gaps, pos = [], 0
    for a, b in sorted(ranges):
        if a > pos:
            gaps.append((pos, min(a, n)))
        pos = max(pos, b)
        if pos >= n:
            break
    if pos < n:
        gaps.append((pos, n))
    return [(a, b) for a, b in gaps if b > a]


def _assemble(pieces: Sequence[tuple[int, int, Callable[[], Arrays]]], n: int) -> Arrays:
    """Rows 0 … n − 1 from pieces ``(start, stop, load)``; overlapping pieces hold the same rows
    (same task, same seeds), and each row is taken once."""
    parts: list[Arrays] = []
    pos = 0
    for a, b, load in sorted(pieces, key=lambda p: (p[0], -p[1])):
        if b <= pos or a > pos:
            if a > pos:
                raise RunError(f"internal: rows {pos}–{a} are missing")
            continue
        arrays = load()
        stop = min(b, n)
        parts.append({k: v[pos - a : stop - a] for k, v in arrays.items()})
        pos = stop
        if pos >= n:
            break
    if pos < n:
        raise RunError(f"internal: rows {pos}–{n} are missing")
    keys = parts[0].keys()
    return {k: np.concatenate([p[k] for p in parts]) for k in keys}


class _MemoryStore:
    def __init__(self) -> None:
        self.pieces: dict[tuple[int, int], Arrays] = {}

    def ranges(self) -> list[tuple[int, int]]:
        return list(self.pieces)

    def put(self, start: int, stop: int, arrays: Arrays) -> None:
        self.pieces.setdefault((start, stop), arrays)

    def result(self, n: int) -> Arrays:
        return _assemble([(a, b, partial(dict, p)) for (a, b), p in self.pieces.items()], n)


def _atomic_write(path: Path, write: Callable[[Any], None], suffix: str) -> None:
    """Write one file through :mod:`hepcombine.outputs.atomic` (complete or absent)."""

    def to_file(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            write(f)

    with output_set() as out:
        out.stage(path, to_file)


class _DirectoryStore:
    """Chunks as ``.npz`` files next to a manifest (module docstring)."""

    def __init__(self, path: Path, manifest: dict[str, Any], kind: str) -> None:
        self.path = path
        self.kind = kind
        self.merged = path / f"{kind}.npz"
        try:
            path.mkdir(parents=True, exist_ok=True)
            existing = path / MANIFEST
            if existing.exists():
                self._check(existing, manifest)
            else:
                if any(path.glob("chunk-*.npz")) or self.merged.exists():
                    raise RunError(
                        f"{path} holds chunk files but no {MANIFEST}: it is not a hepcombine run "
                        "directory; use a new output directory"
                    )
                self.write_manifest(manifest)
            for stale in path.glob(".tmp-*"):
                stale.unlink()
        except OSError as exc:
            raise RunError(
                f"cannot write the run's output to {path}: {exc.strerror or exc}"
            ) from None

    def _check(self, existing: Path, manifest: dict[str, Any]) -> None:
        try:
            old = json.loads(existing.read_text())
        except (OSError, ValueError) as exc:
            raise RunError(f"cannot read the run manifest {existing}: {exc}") from None
        for key in ("format", "kind", "fingerprint", "seed", "version"):
            if old.get(key) != manifest[key]:
                what = {
                    "fingerprint": "the combination or the options differ",
                    "seed": f"seed {old.get('seed')} there, {manifest['seed']} now",
                    "version": f"hepcombine {old.get('version')} there, {manifest['version']} now",
                }.get(key, f"{key} {old.get(key)!r} there, {manifest[key]!r} now")
                raise RunError(
                    f"{self.path} holds another run ({what}); use a new output directory, or the "
                    "same arguments to resume it"
                )
        if int(old.get("n", 0)) > int(manifest["n"]):
            manifest["n"] = int(old["n"])
            self.write_manifest(manifest)

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        text = json.dumps(manifest, indent=2, sort_keys=True).encode()
        _atomic_write(self.path / MANIFEST, lambda f: f.write(text), ".json")

    def _files(self) -> list[tuple[int, int, Path]]:
        out = []
        for p in self.path.iterdir():
            m = _CHUNK.match(p.name)
            if m:
                out.append((int(m.group(1)), int(m.group(2)), p))
        if self.merged.exists():
            with self._open(self.merged) as z:
                out.append((int(z["_start"]), int(z["_stop"]), self.merged))
        return out

    @contextlib.contextmanager
    def _open(self, path: Path) -> Iterator[Any]:
        try:
            with np.load(path, allow_pickle=False) as z:
                yield z
        except (OSError, ValueError, KeyError) as exc:
            raise RunError(f"cannot read {path} ({exc}); delete it to recompute it") from None

    def ranges(self) -> list[tuple[int, int]]:
        return [(a, b) for a, b, _ in self._files()]

    def put(self, start: int, stop: int, arrays: Arrays) -> None:
        path = self.path / f"chunk-{start:09d}-{stop:09d}.npz"
        data: dict[str, Any] = {**arrays, "_start": np.int64(start), "_stop": np.int64(stop)}
        try:
            _atomic_write(path, lambda f: np.savez(f, **data), ".npz")
        except OSError as exc:
            raise RunError(f"cannot write {path}: {exc.strerror or exc}") from None

    def _load(self, path: Path, start: int, stop: int) -> Arrays:
        with self._open(path) as z:
            if (int(z["_start"]), int(z["_stop"])) != (start, stop):
                raise RunError(f"{path} does not hold rows {start}–{stop}; delete it to recompute")
            return {k: z[k] for k in z.files if not k.startswith("_")}

    def result(self, n: int) -> Arrays:
        files = self._files()
        pieces = [(a, b, partial(self._load, p, a, b)) for a, b, p in files]
        out = _assemble(pieces, n)
        # merge everything contiguous from 0 into one file, then drop the chunks inside it
        reach = _covered([(a, b) for a, b, _ in files], 10**18)[0][0]
        merged_stop = next((b for a, b, p in files if p == self.merged), 0)
        if reach > merged_stop:
            full = out if reach == n else _assemble(pieces, reach)
            data: dict[str, Any] = {**full, "_start": np.int64(0), "_stop": np.int64(reach)}
            try:
                _atomic_write(self.merged, lambda f: np.savez(f, **data), ".npz")
            except OSError as exc:
                raise RunError(f"cannot write {self.merged}: {exc.strerror or exc}") from None
        for _, b, p in files:
            if p != self.merged and b <= reach:
                p.unlink()
        return out


# --------------------------------------------------------------------------- execution
def _single_threaded_blas() -> contextlib.AbstractContextManager[Any]:
    """BLAS limited to one thread while a chunk runs (threadpoolctl, part of the ``dask``
    extra): multi-threaded BLAS sums in another order, and the in-process results would differ
    from the workers' (single-threaded) in the last bits."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _run_chunk(task: ChunkTask, start: int, stop: int, seed: int) -> Arrays:
    with _single_threaded_blas():
        arrays = {k: np.asarray(v) for k, v in task(start, stop, seed).items()}
    for k, v in arrays.items():
        if k.startswith("_") or v.shape[:1] != (stop - start,):
            raise RunError(
                f"internal: task field {k!r} has shape {v.shape} for {stop - start} rows"
            )
    return arrays


def _hold(task: ChunkTask) -> ChunkTask:
    return task


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise RunError(
            f"workers=, client= and scheduler= need dask.distributed: {INSTALL_DASK}"
        ) from None
    return distributed


def _local_cluster(workers: int) -> Any:
    """A LocalCluster of ``workers`` single-threaded processes, set up for many small tasks.

    Dask's default MALLOC_TRIM_THRESHOLD_ for workers disables glibc's dynamic mmap threshold,
    so every array above 128 KiB (a 100-bin combination's Hessian) is mmapped and
    page-faulted anew: +60 % per pseudo-experiment; these workers keep glibc's default, and
    run without the statistical profiler (its 10 ms stack samples cost ~10 %).
    """
    import dask

    distributed = _import_distributed()
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    settings = {
        "distributed.nanny.pre-spawn-environ": environ,
        "distributed.worker.profile.enabled": False,
    }
    try:
        with dask.config.set(settings):
            return distributed.LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
    except Exception as exc:
        raise RunError(
            f"could not start a local Dask cluster of {workers} workers ({exc}); a script that "
            "uses workers= must run its code under `if __name__ == '__main__':`"
        ) from None


@contextlib.contextmanager
def _dask_client(workers: int | None, client: Any, scheduler: str | None) -> Iterator[Any]:
    if client is not None:
        yield client
        return
    distributed = _import_distributed()
    if scheduler is not None:
        try:
            own = distributed.Client(scheduler)
        except (OSError, TimeoutError, ValueError) as exc:
            raise RunError(
                f"cannot connect to the Dask scheduler at {scheduler!r}: {exc}"
            ) from None
        try:
            yield own
        finally:
            own.close()
        return
    cluster = _local_cluster(workers or 1)
    own = distributed.Client(cluster)
    try:
        yield own
    finally:
        own.close()
        cluster.close()


def _execute_dask(
    client: Any,
    task: ChunkTask,
    chunks: list[tuple[int, int]],
    seed: int,
    deliver: Callable[[int, int, Arrays], None],
) -> None:
    distributed = _import_distributed()
    # the keys name the task and the run: two runs of the same task on one cluster (same
    # fingerprint) never share a key, so releasing one run's results never touches the other's
    tag = f"{task.kind}-{task.fingerprint()[:12]}-{seed}-{uuid.uuid4().hex[:8]}"
    holder = client.submit(_hold, task, key=f"{tag}-task", pure=False)
    # The scheduler would queue every chunk on the one worker holding the task and leave the
    # others to steal work late (~1 s of chunks of 0.1 s each): the chunks are spread over the
    # worker threads instead, as a preference only (a chunk still runs, or reruns, anywhere).
    threads = [w for w, k in sorted(client.nthreads().items()) for _ in range(k)]
    futures = {}
    for i, (a, b) in enumerate(chunks):
        where = {"workers": [threads[i % len(threads)]], "allow_other_workers": True}
        future = client.submit(
            _run_chunk,
            holder,
            a,
            b,
            seed,
            key=f"{tag}-{a}-{b}",
            pure=False,
            **(where if threads else {}),
        )
        futures[future] = (a, b)
    try:
        for future in distributed.as_completed(list(futures)):
            a, b = futures[future]
            try:
                arrays = future.result()
            except HepCombineError:
                raise
            except Exception as exc:
                raise RunError(
                    f"chunk {a}–{b} failed on the Dask cluster: {type(exc).__name__}: {exc}"
                ) from None
            deliver(a, b, arrays)
            future.release()
    finally:
        pending = [f for f in futures if not f.done()]
        if pending:
            client.cancel(pending)
        holder.release()


def check_execution(
    workers: int | None = None,
    client: Any = None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
) -> None:
    """Raise a one-line :class:`~hepcombine.exceptions.RunError` for execution arguments of
    :func:`run_chunks` that cannot work (several given, a count that is not a positive integer,
    a scheduler that is not an address, Dask not installed), before any work is done."""
    given = [x for x in (workers, client, scheduler) if x is not None]
    if len(given) > 1:
        raise RunError("give at most one of workers=, client= and scheduler=")
    if workers is not None:
        _positive_int(workers, "workers")
    if chunk_size is not None:
        _positive_int(chunk_size, "chunk_size")
    if scheduler is not None and not isinstance(scheduler, str):
        raise RunError(f"scheduler must be an address such as 'tcp://host:8786', not {scheduler!r}")
    if given:
        _import_distributed()


def run_chunks(
    task: ChunkTask,
    n: int,
    *,
    seed: int | None = 0,
    chunk_size: int | None = None,
    workers: int | None = None,
    client: Any = None,
    scheduler: str | None = None,
    output: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> tuple[Arrays, int]:
    """Run items ``0 … n − 1`` of ``task`` (module docstring); returns ``({field: array},
    seed)`` with the rows in item order and the seed used (drawn when ``seed=None``)."""
    n = _positive_int(n, "the number of items")
    check_execution(workers, client, scheduler, chunk_size)
    workers = None if workers is None else int(workers)
    chunk_size = None if chunk_size is None else int(chunk_size)
    given = [x for x in (workers, client, scheduler) if x is not None]
    seed = _seed(seed)

    store: _MemoryStore | _DirectoryStore
    if output is None:
        store = _MemoryStore()
    else:
        manifest = {
            "format": FORMAT,
            "kind": task.kind,
            "fingerprint": task.fingerprint(),
            "seed": seed,
            "version": __version__,
            "n": n,
            "description": dict(task.describe()),
        }
        store = _DirectoryStore(Path(output), manifest, task.kind)
    gaps = _covered(store.ranges(), n)
    done = n - sum(b - a for a, b in gaps)
    if done:
        log.info("resuming: %d of %d items are already in %s", done, n, output)

    def plan(parallel: int) -> list[tuple[int, int]]:
        size = chunk_size or max(1, min(500, math.ceil((n - done) / (8 * parallel))))
        return [(a, min(a + size, b)) for g0, b in gaps for a in range(g0, b, size)]

    def deliver(a: int, b: int, arrays: Arrays) -> None:
        nonlocal done
        store.put(a, b, arrays)
        done += b - a
        if progress is not None:
            progress(done, n)

    if progress is not None and done:
        progress(done, n)
    if gaps:
        if given:
            with _dask_client(workers, client, scheduler) as c:
                threads = sum(c.nthreads().values()) or 1
                _execute_dask(c, task, plan(threads), seed, deliver)
        else:
            for a, b in plan(1):
                deliver(a, b, _run_chunk(task, a, b, seed))
    return store.result(n), seed


def __dir__() -> list[str]:
    return list(__all__)
