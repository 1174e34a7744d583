"""nox sessions: ``nox -s tests``, ``nox -s lint``, ``nox -s typecheck``, ``nox -s benchmarks``."""

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite."""
    session.install(".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Static checks with ruff."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Static type checks with mypy (configuration in pyproject.toml)."""
    session.install(".[typecheck]")
    session.run("mypy", *session.posargs)


@nox.session
def benchmarks(session: nox.Session) -> None:
    """Run the speed benchmarks (not part of the test suite)."""
    session.install(".")
    session.run("python", "benchmarks/run.py", *session.posargs)
