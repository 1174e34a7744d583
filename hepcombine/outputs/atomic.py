"""Atomic file output: every file is written completely or not at all.

This is the one place where hepcombine writes files: every writer (text, JSON, ROOT, Convino,
figures) stages its files through :class:`OutputSet`.

:func:`atomic_write_text` writes one text file through a temporary file in the same directory
that is flushed, synced and then renamed onto the target (``os.replace`` is atomic on POSIX and
Windows within one file system). :class:`OutputSet` does the same for several files: each file
is staged under a temporary name next to its target; only when all of them have been staged
without error are they renamed onto their targets. On any error all staged files are removed
and the targets are untouched (an existing file there keeps its old content), and directories
that :class:`OutputSet` created are removed again if they are empty.

The renames at the end are not one transaction: if the process dies between two renames, some
targets are new and some old. No partial (truncated) file is ever visible under a target name.

:meth:`OutputSet.stage_directory` stages a whole directory (a HEPData submission) the same way:
it is filled under a temporary name next to its target and renamed onto it at the end; an
existing directory there is moved aside first, and removed only once the new one is in place
(if that rename fails it is moved back).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..exceptions import OutputError

__all__ = ["OutputSet", "atomic_write_text", "output_set"]

log = logging.getLogger(__name__)


def _temporary_name(path: Path) -> Path:
    """A fresh hidden name next to ``path`` that keeps its suffix (``.x.<hex>.tmp.png``), so
    that writers which infer the format from the suffix (matplotlib) still work."""
    return path.with_name(f".{path.stem}.{uuid.uuid4().hex[:12]}.tmp{path.suffix}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_text(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically (complete file or, on error, nothing)."""
    with output_set() as out:
        out.write_text(path, text, encoding=encoding)


class OutputSet:
    """Several output files written all or none; use through :func:`output_set`."""

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []  # (temporary, target)
        self._targets: set[Path] = set()
        self._created_dirs: list[Path] = []
        self._staged_dirs: set[Path] = set()  # temporary directories among _staged

    # ------------------------------------------------------------------ staging
    def _claim(self, target: Path) -> None:
        resolved = target.resolve()
        if resolved in self._targets:
            raise OutputError(
                f"{target} is written twice in one output set (two outputs name the same file); "
                "give each output its own file name"
            )
        self._targets.add(resolved)

    def _prepare(self, path: str | os.PathLike[str]) -> tuple[Path, Path]:
        target = Path(path)
        self._claim(target)
        if target.is_dir():
            raise IsADirectoryError(21, "Is a directory", str(target))
        self._make_parent(target.parent)
        return _temporary_name(target), target

    def _make_parent(self, directory: Path) -> None:
        missing = []
        d = directory
        while not d.exists():
            missing.append(d)
            if d.parent == d:
                break
            d = d.parent
        for d in reversed(missing):
            d.mkdir()
            self._created_dirs.append(d)

    def stage(self, path: str | os.PathLike[str], write: Callable[[Path], Any]) -> Path:
        """Stage ``path``: ``write(temporary_path)`` creates the content under a temporary name
        in the target's directory (with the target's suffix). Returns the target path."""
        tmp, target = self._prepare(path)
        self._staged.append((tmp, target))
        write(tmp)
        if not tmp.exists():
            raise OSError(f"writing {target} produced no file")
        _fsync(tmp)
        return target

    def stage_directory(
        self,
        path: str | os.PathLike[str],
        fill: Callable[[Path], Any],
        *,
        replace: Callable[[Path], bool] | None = None,
    ) -> Path:
        """Stage the directory ``path``: ``fill(temporary_directory)`` writes its files into a
        fresh, empty directory next to the target (the files are synced). An existing
        directory at ``path`` is replaced at the end only if ``replace(path)`` says so (default:
        only an empty one); otherwise :class:`~hepcombine.exceptions.OutputError` now. Returns
        the target path."""
        target = Path(path)
        self._claim(target)
        if target.exists() or target.is_symlink():
            if not target.is_dir() or target.is_symlink():
                raise OutputError(f"{target} exists and is not a directory; choose another name")
            allowed = replace(target) if replace is not None else not any(target.iterdir())
            if not allowed:
                raise OutputError(
                    f"{target} exists and is not a directory hepcombine may replace; remove it "
                    "or choose another name"
                )
        self._make_parent(target.parent)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.tmp")
        tmp.mkdir()
        self._staged.append((tmp, target))
        self._staged_dirs.add(tmp)
        fill(tmp)
        for f in tmp.rglob("*"):
            if f.is_file():
                _fsync(f)
        return target

    def write_text(
        self, path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8"
    ) -> Path:
        """Stage a text file."""

        def write(tmp: Path) -> None:
            with open(tmp, "x", encoding=encoding, newline="") as fh:
                fh.write(text)

        return self.stage(path, write)

    def write_bytes(self, path: str | os.PathLike[str], data: bytes) -> Path:
        """Stage a binary file."""

        def write(tmp: Path) -> None:
            with open(tmp, "xb") as fh:
                fh.write(data)

        return self.stage(path, write)

    def save_figure(self, path: str | os.PathLike[str], figure: Any, **savefig: Any) -> Path:
        """Stage a matplotlib figure (the format follows the suffix of ``path``)."""
        return self.stage(path, lambda tmp: figure.savefig(tmp, **savefig))

    # ------------------------------------------------------------------ end
    @property
    def targets(self) -> list[Path]:
        """The target paths staged so far, in order."""
        return [t for _, t in self._staged]

    def _commit(self) -> None:
        old: list[Path] = []
        try:
            for tmp, target in self._staged:
                if tmp in self._staged_dirs:
                    old.extend(_replace_directory(tmp, target))
                else:
                    os.replace(tmp, target)
                log.debug("wrote %s", target)
        finally:
            for d in old:
                shutil.rmtree(d, ignore_errors=True)

    def _abort(self) -> None:
        for tmp, _ in self._staged:
            with contextlib.suppress(OSError):
                if tmp in self._staged_dirs:
                    shutil.rmtree(tmp)
                else:
                    tmp.unlink()
        for d in reversed(self._created_dirs):
            with contextlib.suppress(OSError):
                d.rmdir()  # only if empty


def _replace_directory(tmp: Path, target: Path) -> list[Path]:
    """Rename the directory ``tmp`` onto ``target``; an existing ``target`` is moved aside
    first (returned, for removal) and moved back if the rename fails."""
    if not (target.exists() or target.is_symlink()):
        os.replace(tmp, target)
        return []
    aside = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.old")
    os.replace(target, aside)
    try:
        os.replace(tmp, target)
    except BaseException:
        os.replace(aside, target)
        raise
    return [aside]


@contextlib.contextmanager
def output_set() -> Iterator[OutputSet]:
    """Collect output files; they appear at their targets only if the block ends without an
    exception::

        with output_set() as out:
            out.write_text("result.txt", text)
            out.stage("plot.png", lambda tmp: fig.savefig(tmp))
    """
    out = OutputSet()
    try:
        yield out
        out._commit()
    except BaseException:
        out._abort()
        raise


def __dir__() -> list[str]:
    return list(__all__)
