"""nox sessions: ``nox -s tests``, ``nox -s slow``, ``nox -s kinked``, ``nox -s lint``,
``nox -s typecheck``, ``nox -s docs``, ``nox -s benchmarks``."""

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite."""
    session.install(".[test]")
    session.run("pytest", *session.posargs)


@nox.session
def slow(session: nox.Session) -> None:
    """The tests the default run leaves out (marked ``slow``: full-size validation runs)."""
    session.install(".[test]")
    session.run("pytest", "-m", "slow", *session.posargs)


@nox.session
def kinked(session: nox.Session) -> None:
    """The kinked campaigns of issue 18 at full size (tests/test_kinked_many.py): 2000 Neyman
    cases against the exact face reference (the default run has 300) and 34 cases of each of
    the three Pearson/relative campaigns against the orthant reference (about 2 s a case; the
    default run has none). ``nox -s kinked -- --kinked-cases 500`` changes a size."""
    session.install(".[test]")
    session.run(
        "pytest",
        "tests/test_kinked_many.py",
        "--kinked-cases",
        "2000",
        "--kinked-pearson-cases",
        "34",
        *session.posargs,
    )


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


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site into docs/_build/html, warnings as errors (the notebooks
    are executed); ``nox -s docs -- --serve`` is not offered: open the HTML."""
    session.install(".[docs]")
    session.run(
        "sphinx-build",
        "-W",
        "--keep-going",
        "-b",
        "html",
        "docs",
        "docs/_build/html",
        *session.posargs,
    )
