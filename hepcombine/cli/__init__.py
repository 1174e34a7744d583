"""The ``hepcombine`` command line: parse, call the library, write.

Each subcommand is one module of this package with ``register(subparsers)`` (its options and
help) and ``run(args)`` (load → call → write, a dozen lines; the library does the work). A new
subcommand is one such module and one entry in :data:`COMMANDS`.

Nothing heavy is imported at the top level (no numpy, scipy, matplotlib or uproot), so
``hepcombine --help`` starts fast; each subcommand imports what it needs when it runs. Every
subcommand computes everything first and writes its files at the end through
:func:`hepcombine.outputs.atomic.output_set`: either all output files are written completely
or, on any error, none of them.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from ._common import FORMATTER, PROG, Parser, UsageError

__all__ = ["COMMANDS", "build_parser", "main"]

log = logging.getLogger(__name__)

#: The subcommands, in the order of ``hepcombine --help``: name → module of this package.
COMMANDS: dict[str, str] = {
    "combine": "combine",
    "scan": "scan",
    "blue": "blue",
    "plot": "plot",
    "toys": "toys",
}

_DESCRIPTION = """\
Combine measurements in high-energy physics: the chi2 method of Convino (inputs from
nuisance-parameter fits: Hessians, correlation matrices, tables of orthogonal uncertainties)
and BLUE.

A CONFIG is a Convino base file (any name; the measurement files it lists are read too) or a
hepcombine YAML configuration (*.yaml, *.yml).
"""

_EPILOG = """\
examples:
  hepcombine combine base.txt                     # Convino base file: Pearson chi2, result.txt
  hepcombine combine base.txt --neyman --prefix ny --json ny.json
  hepcombine combine combination.yaml --plots --output-dir out --root out/combined.root
  hepcombine scan base.txt --points 11            # scan_result.txt and plots of every scan group
  hepcombine blue data/lhc_ttbar_xsec_emu_8tev.csv --correlations data/lhc_ttbar_xsec_emu_8tev_corr.csv
  hepcombine -sp --neyman --prefix P base.txt     # convino's command line: 'combine -sp ...'
  hepcombine toys base.txt --n 1000 --seed 1      # pseudo-experiments: bias, pulls, coverage
  hepcombine <command> --help                     # the options of one command

Exit status: 0 on success, 1 when an input is wrong or an output cannot be written (one line on
stderr says which file, line and block, and what is wrong; --debug shows the traceback), 2 for
wrong usage of the command line. On any error no output file is written.
"""


def _names() -> list[str]:
    return list(COMMANDS)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``hepcombine`` (exposed for documentation tools)."""
    from .._version import __version__

    parser = Parser(prog=PROG, description=_DESCRIPTION, epilog=_EPILOG, formatter_class=FORMATTER)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show debug messages and full tracebacks"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for module in COMMANDS.values():
        importlib.import_module(f".{module}", __name__).register(sub)
    return parser


# --------------------------------------------------------------------------- entry point
class _Handler(logging.StreamHandler):
    """``hepcombine: warning: ...`` on stderr (looked up at emit time, for tests that swap it)."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(logging.Formatter(f"{PROG}: %(levelname)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        record.levelname = record.levelname.lower()
        super().emit(record)


def _setup_logging(debug: bool) -> logging.Handler:
    handler = _Handler()
    logger = logging.getLogger("hepcombine")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else logging.WARNING)
    return handler


def _message(exc: BaseException, args: argparse.Namespace | None) -> str:
    if isinstance(exc, OSError):
        where = exc.filename if exc.filename is not None else ""
        reason = exc.strerror or str(exc)
        return f"{where}: {reason}" if where else reason
    msg = str(exc) or type(exc).__name__
    config = getattr(args, "config", None) if args is not None else None
    from ..exceptions import ConfigError, RunError

    named = (ConfigError, RunError)  # their messages name the file or directory themselves
    if config is not None and not isinstance(exc, named) and not msg.startswith(str(config)):
        msg = f"{config}: {msg}"
    return msg


def _convino_style(argv: list[str]) -> list[str]:
    """The original program's command line, ``convino [options] BASEFILE``, is
    ``hepcombine combine [options] BASEFILE``: when the first argument after the top-level
    options is neither a command nor a top-level option but an option or an existing file,
    ``combine`` is inserted."""
    i = 0
    while i < len(argv) and argv[i] == "--debug":
        i += 1
    if i == len(argv) or argv[i] in COMMANDS or argv[i] in ("-h", "--help", "--version"):
        return argv
    if argv[i].startswith("-") or os.path.isfile(argv[i]):
        return [*argv[:i], "combine", *argv[i:]]
    return argv


def main(argv: list[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = build_parser()
    argv = _convino_style(list(sys.argv[1:] if argv is None else argv))
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print(f"{PROG}: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    if getattr(args, "func", None) is None:
        print(
            f"{PROG}: error: a command is required: {', '.join(_names())} (see '{PROG} --help')",
            file=sys.stderr,
        )
        return 2
    debug = bool(getattr(args, "debug", False))
    handler = _setup_logging(debug)
    logger = logging.getLogger("hepcombine")
    previous = logger.level
    from ..exceptions import HepCombineError

    try:
        return int(args.func(args))
    except UsageError as exc:  # an option that the configuration or installation rules out
        print(f"{PROG}: error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except (HepCombineError, OSError) as exc:
        if debug:
            raise
        print(f"{PROG}: error: {_one_line(_message(exc, args))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if debug:
            raise
        print(
            f"{PROG}: internal error: {type(exc).__name__}: {_one_line(str(exc))} "
            "(run with --debug for the traceback, and please report it)",
            file=sys.stderr,
        )
        return 3
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def __dir__() -> list[str]:
    return list(__all__)
