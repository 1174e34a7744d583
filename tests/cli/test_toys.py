"""``hepcombine toys``: the command line runs exactly what :func:`hepcombine.toys.run_toys` runs.

The library's numbers are checked in tests/toys against closed forms and the arrays; here:

* the command line gives bit-identical numbers to ``run_toys`` with the same seed and options,
  on the real data/ examples (the Convino example: Pearson, Hessian + correlation-matrix +
  table inputs with relative, asymmetric and pulled sources; the tt̄ 8 TeV YAML), and its JSON
  summary, text report and streamed run directory hold those numbers exactly;
* a run interrupted (Ctrl-C while running) and restarted with the same command resumes (only
  the missing toys are computed) and equals one uninterrupted run; a larger --n extends a run;
* --workers 2 (a real LocalCluster) gives the in-process numbers bit for bit;
* theory, independent of any pinned number: the tt̄ combination is a quadratic (Neyman,
  absolute symmetric sources) χ², so its pulls are N(0, 1) and its 68 % intervals cover
  0.6827, ⟨χ²_min⟩ = ndf, each within 4 statistical errors over 300 toys;
* plots are PNGs with content; bad input is one line and exit 2 (command-line usage, incl. a
  --truth name the configuration does not have, or --workers without Dask) or 1 (the
  configuration, the run directory), with nothing written.
"""

from __future__ import annotations

import io
import json
import math
import sys

import pytest
from conftest import DATA, write
from toy_inputs import assert_identical

from hepcombine.cli import _common
from hepcombine.inputs import load_config
from hepcombine.outputs.json import dumps
from hepcombine.toys import COVERAGE_68, load_toys, run_toys

from .test_cli import convino_files, run

CONVINO = DATA / "convino_example" / "combination.txt"
TTBAR = DATA / "ttbar_8tev_emu.yaml"


def toys(config, *options, capsys):
    """Run ``hepcombine toys``; returns (exit code, stdout, stderr)."""
    return run(["toys", config, *options], capsys)


def as_json(result, config, output=None):
    """What --json holds for a library result (through the same JSON round trip), with the run
    directory ``output``."""
    data = json.loads(dumps({"config": str(config), **result.to_dict()}))
    for part in (data, data["other"] or {}):
        part["output"] = None if output is None else str(output)
    return data


@pytest.fixture(scope="module")
def convino_reference():
    """run_toys on the Convino example as ``hepcombine toys CONVINO --n 16 --seed 5
    --compare`` does it (the configuration's own combiner: Pearson)."""
    return run_toys(load_config(CONVINO).combiner(), 16, seed=5, compare=True)


# --------------------------------------------------------------------------- same as the library
def test_cli_equals_run_toys(convino_reference, tmp_path, capsys):
    ref = convino_reference
    out, js, rundir = tmp_path / "out", tmp_path / "toys.json", tmp_path / "run"
    argv = ["--n", 16, "--seed", 5, "--compare", "--chunk-size", 5]
    argv += ["--json", js, "--output", rundir, "--output-dir", out, "--prefix", "p"]
    code, stdout, err = toys(CONVINO, *argv, capsys=capsys)
    assert code == 0, err
    assert err == ""  # stderr is not a terminal: no progress bar, and no warning
    assert ref.chi2_definition == "pearson" and ref.n_failed == 0 and ref.other is not None
    # the JSON summary: every number exactly the library's (floats round-trip through JSON)
    data = json.loads(js.read_text())
    assert data == as_json(ref, CONVINO, rundir)
    s = data["observables"]["xsec"]
    assert s["pull_width"] == ref.pull_width["xsec"]
    assert (
        s["coverage"] == ref.coverage["xsec"] and s["coverage_error"] == ref.coverage_error["xsec"]
    )
    assert data["chi2"]["ks_pvalue"] == ref.chi2_ks_pvalue
    assert data["other"]["chi2_definition"] == "neyman"
    assert data["difference"]["xsec"] == list(ref.difference["xsec"])
    # the streamed run: the same per-toy numbers, and its summary.json is the same summary
    assert_identical(load_toys(rundir), ref)
    summary = json.loads((rundir / "summary.json").read_text())
    assert summary == {k: v for k, v in data.items() if k != "config"}
    # the table printed and in the report: the library's summary
    assert (out / "p_toys_result.txt").read_text() == ref.summary(max_rows=1) + "\n"
    assert ref.summary() in stdout
    for words in ("bias", "pull width", "coverage", "KS p-value", "0 failed"):
        assert words in stdout
    assert f"wrote {out / 'p_toys_result.txt'}" in stdout and f"wrote {js}" in stdout


def test_options_reach_the_library(tmp_path, capsys):
    """--chi2, --truth (of an observable and of a spectator), --nuisance, --stat, --asymmetry
    and --no-intervals are the library's arguments."""
    config = convino_files(tmp_path / "in")  # observable x0, spectator a:xa1
    js = tmp_path / "t.json"
    argv = ["--n", 12, "--seed", 3, "--chi2", "neyman", "--truth", "x0=99.5"]
    argv += ["--truth", "a:xa1=51", "--nuisance", "pulls", "--stat", "scaled"]
    argv += ["--asymmetry", "smooth", "--no-intervals", "--json", js, "--output-dir", tmp_path]
    code, _, err = toys(config, *argv, capsys=capsys)
    assert code == 0, err
    combiner = load_config(config).combiner(chi2="neyman", asymmetry="smooth")
    assert combiner.spectators == ("a:xa1",)
    ref = run_toys(
        combiner,
        12,
        seed=3,
        truth={"x0": 99.5, "a:xa1": 51.0},
        nuisance="pulls",
        stat="scaled",
        intervals=False,
    )
    data = json.loads(js.read_text())
    assert data == as_json(ref, config)
    assert data["chi2_definition"] == "neyman" and data["stat"] == "scaled"
    assert data["nuisance"] == "pulls" and data["observables"]["x0"]["truth"] == 99.5
    assert data["observables"]["x0"]["coverage"] is None  # no intervals: no coverage


# --------------------------------------------------------------------------- resume
def test_interrupted_run_resumes_to_the_uninterrupted_result(
    convino_reference, tmp_path, capsys, monkeypatch
):
    ref = convino_reference
    rundir, js = tmp_path / "run", tmp_path / "t.json"
    argv = ["--n", 16, "--seed", 5, "--compare", "--chunk-size", 4, "--output", rundir]
    argv += ["--json", js, "--output-dir", tmp_path]
    calls: list[tuple[int, int]] = []

    def interrupt(self, done, total):  # Ctrl-C once two chunks are on disk
        calls.append((done, total))
        if done >= 8:
            raise KeyboardInterrupt

    monkeypatch.setattr(_common.Progress, "__call__", interrupt)
    code, _, err = toys(CONVINO, *argv, capsys=capsys)
    assert code == 130 and err == "hepcombine: interrupted\n"
    assert sorted(p.name for p in rundir.glob("chunk-*.npz")) == [
        "chunk-000000000-000000004.npz",
        "chunk-000000004-000000008.npz",
    ]
    assert not js.exists() and not (tmp_path / "toys_result.txt").exists()

    calls.clear()
    monkeypatch.setattr(_common.Progress, "__call__", lambda self, d, t: calls.append((d, t)))
    code, _, err = toys(CONVINO, *argv, capsys=capsys)  # the same command again
    assert code == 0, err
    assert calls == [(8, 16), (12, 16), (16, 16)]  # only the 8 missing toys were computed
    assert json.loads(js.read_text()) == as_json(ref, CONVINO, rundir)
    assert_identical(load_toys(rundir), ref)

    # a larger --n extends the finished run; again the same as one run of 24 toys
    calls.clear()
    argv[1] = 24
    code, _, err = toys(CONVINO, *argv, capsys=capsys)
    assert code == 0, err
    assert calls[0] == (16, 24) and calls[-1] == (24, 24)
    longer = run_toys(load_config(CONVINO).combiner(), 24, seed=5, compare=True)
    assert_identical(load_toys(rundir), longer)
    assert json.loads(js.read_text()) == as_json(longer, CONVINO, rundir)


# --------------------------------------------------------------------------- Dask
def test_two_local_workers_give_the_in_process_numbers(tmp_path, capsys):
    pytest.importorskip("distributed")
    base = ["--n", 24, "--seed", 8, "--chunk-size", 3, "--output-dir", tmp_path]
    code, _, err = toys(
        CONVINO, *base, "--output", tmp_path / "a", "--json", tmp_path / "a.json", capsys=capsys
    )
    assert code == 0, err
    code, _, err = toys(
        CONVINO,
        *base,
        "--workers",
        2,
        "--output",
        tmp_path / "b",
        "--json",
        tmp_path / "b.json",
        capsys=capsys,
    )
    assert code == 0, err
    assert "Traceback" not in err
    a, b = load_toys(tmp_path / "a"), load_toys(tmp_path / "b")
    assert_identical(a, b)
    ja, jb = (json.loads((tmp_path / f"{x}.json").read_text()) for x in "ab")
    assert ja.pop("output") != jb.pop("output")
    assert ja == jb


# --------------------------------------------------------------------------- theory
def test_quadratic_combination_pulls_and_coverage_follow_theory(tmp_path, capsys):
    """tt̄ 8 TeV e-mu (Neyman, absolute symmetric sources: quadratic χ²): pulls N(0, 1),
    coverage 0.6827 and ⟨χ²_min⟩ = ndf = 1 within 4 statistical errors of 300 toys; the errors
    are the theory's (1/√n, 1/√(2n), √(p(1 − p)/n), √(2 ndf/n)), not the toys' own."""
    n = 300
    js = tmp_path / "t.json"
    code, _, err = toys(
        TTBAR, "--n", n, "--seed", 2, "--json", js, "--output-dir", tmp_path, capsys=capsys
    )
    assert code == 0, err
    data = json.loads(js.read_text())
    assert data["chi2_definition"] == "neyman" and data["failed"] == {"count": 0, "reasons": {}}
    s = data["observables"]["sigma_tt"]
    assert abs(s["pull_mean"]) < 4 / math.sqrt(n)
    assert abs(s["pull_width"] - 1) < 4 / math.sqrt(2 * n)
    assert s["n_intervals"] == n
    assert abs(s["coverage"] - COVERAGE_68) < 4 * math.sqrt(COVERAGE_68 * (1 - COVERAGE_68) / n)
    assert data["ndf"] == 1
    assert abs(data["chi2"]["mean"] - 1) < 4 * math.sqrt(2 / n)
    # quadratic: each toy's error is the nominal one, so the bias is the pull mean
    assert s["bias"] == pytest.approx(s["pull_mean"], rel=1e-9, abs=1e-12)


# --------------------------------------------------------------------------- plots
TWO_BINS = """\
chi2: neyman
measurements:
  A:
    estimates: {x: 10.0, y: 20.0}
    stat: {x: 1.0, y: 1.5}
    uncertainties: {lumi: {x: 0.3, y: 0.6}}
  B:
    estimates: {x: 10.4, y: 19.5}
    stat: {x: 1.2, y: 1.4}
    uncertainties: {lumi: {x: 0.2, y: 0.4}}
correlations:
  - {a: 'A:lumi', b: 'B:lumi', rho: 1.0}
"""


def test_plots_are_pngs_with_content(tmp_path, capsys):
    import matplotlib.image

    config = write(tmp_path / "two.yaml", TWO_BINS)
    pdir = tmp_path / "plots"
    argv = ["--n", 60, "--seed", 1, "--compare", "--plots", pdir, "--prefix", "s", "-q"]
    code, stdout, err = toys(config, *argv, "--output-dir", tmp_path / "out", capsys=capsys)
    assert code == 0, err
    assert err == ""  # no font or other warnings
    names = ["toys_pulls", "toys_pulls_x", "toys_pulls_y", "toys_coverage", "toys_chi2"]
    assert sorted(p.name for p in pdir.iterdir()) == sorted(
        f"s_{n}.{e}" for n in names for e in ("png", "pdf")
    )
    for name in names:
        image = matplotlib.image.imread(pdir / f"s_{name}.png")
        assert image.shape[0] > 300 and image.shape[1] > 400
        assert image[..., :3].std() > 0.05  # not blank
    assert stdout.startswith("wrote ")  # -q: no table, the files written
    assert (tmp_path / "out" / "s_toys_result.txt").exists()
    # --plots without a directory: into --output-dir
    code, _, err = toys(
        TTBAR, "--n", 20, "--seed", 1, "--plots", "--output-dir", tmp_path / "o2", capsys=capsys
    )
    assert code == 0, err
    assert (tmp_path / "o2" / "toys_pulls.png").stat().st_size > 10_000
    assert not (tmp_path / "o2" / "toys_pulls_sigma_tt.png").exists()  # one observable: pooled


# --------------------------------------------------------------------------- bad input
USAGE = [
    (["--n", 0, "--seed", 1], "--n: it must be at least 1, got 0"),
    (["--n", "ten", "--seed", 1], "expected an integer, got 'ten'"),
    (["--n", 10], "the following arguments are required: --seed"),
    (["--n", 10, "--seed", -2], "the seed must be at least 0"),
    (["--n", 10, "--seed", 1, "--chunk-size", 0], "--chunk-size: it must be at least 1"),
    (["--n", 10, "--seed", 1, "--truth", "xsec"], "expected NAME=VALUE, got 'xsec'"),
    (["--n", 10, "--seed", 1, "--truth", "xsec=2x"], "'2x' in 'xsec=2x' is not a number"),
    (["--n", 10, "--seed", 1, "--truth", "xsec=nan"], "not finite"),
    (["--n", 10, "--seed", 1, "--truth", "xsex=240"], "(did you mean 'xsec'?)"),
    (["--n", 10, "--seed", 1, "--truth", "xsec=1", "--truth", "xsec=2"], "given twice"),
    (["--n", 10, "--seed", 1, "--chi2", "chisq"], "invalid choice: 'chisq'"),
    (["--n", 10, "--seed", 1, "--neyman", "--chi2", "pearson"], "not allowed with"),
    (["--n", 10, "--seed", 1, "--workers", 2, "--scheduler", "tcp://x:1"], "not allowed with"),
    (["--n", 10, "--seed", 1, "--workers", 0], "--workers: it must be at least 1"),
]


@pytest.mark.parametrize(("argv", "message"), USAGE, ids=[m for _, m in USAGE])
def test_usage_errors_exit_2(argv, message, tmp_path, capsys):
    code, stdout, err = toys(CONVINO, *argv, "--output-dir", tmp_path / "out", capsys=capsys)
    assert code == 2, err
    assert err.startswith("hepcombine: error: ") and err.count("\n") == 1, err
    assert message in err
    assert stdout == "" and not (tmp_path / "out").exists()


def test_unknown_truth_name_lists_the_observables(tmp_path, capsys):
    code, _, err = toys(CONVINO, "--n", 5, "--seed", 1, "--truth", "sigma=1", capsys=capsys)
    assert code == 2
    assert "--truth sigma: not a combined observable or spectator of" in err
    assert err.rstrip().endswith("; they are xsec")


def test_workers_without_dask_exit_2_before_any_work(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    for option in (["--workers", 2], ["--scheduler", "tcp://127.0.0.1:8786"]):
        # the configuration does not exist: the option is checked first
        code, _, err = toys(tmp_path / "nope.txt", "--n", 5, "--seed", 1, *option, capsys=capsys)
        assert code == 2 and err.count("\n") == 1
        assert f"{option[0]} needs Dask: python -m pip install 'hepcombine[dask]'" in err


def test_input_and_run_directory_errors_exit_1(tmp_path, capsys):
    out = tmp_path / "out"
    cases = [
        ([tmp_path / "nope.txt", "--n", 5, "--seed", 1], "does not exist"),
        ([CONVINO, "--n", 4, "--seed", 1, "--output", tmp_path / "run"], None),  # a run ...
        # ... that another seed cannot resume
        ([CONVINO, "--n", 4, "--seed", 2, "--output", tmp_path / "run"], "holds another run"),
        ([CONVINO, "--n", 4, "--seed", 1, "--output", CONVINO / "run"], "cannot write the run"),
    ]
    for argv, message in cases:
        code, stdout, err = run(["toys", *argv, "--output-dir", out, "--no-intervals"], capsys)
        if message is None:
            assert code == 0, err
            continue
        assert code == 1, err
        assert err.startswith("hepcombine: error: ") and err.count("\n") == 1, err
        assert message in err and "Traceback" not in err
        assert stdout == ""
    assert sorted(p.name for p in out.iterdir()) == ["toys_result.txt"]  # of the good run only


def test_unreachable_scheduler_exit_1(capsys):
    pytest.importorskip("distributed")
    import dask

    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code, _, err = toys(
            TTBAR, "--n", 5, "--seed", 1, "--scheduler", "tcp://127.0.0.1:1", capsys=capsys
        )
    assert code == 1 and err.count("\n") == 1
    assert "cannot connect to the Dask scheduler at 'tcp://127.0.0.1:1'" in err


# --------------------------------------------------------------------------- progress, help
def test_progress_bar_on_a_terminal_only(tmp_path, capsys, monkeypatch):
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Tty()
    monkeypatch.setattr(sys, "stderr", tty)
    argv = ["--n", 6, "--seed", 1, "--chunk-size", 3, "--output-dir", tmp_path]
    code, _, _ = toys(TTBAR, *argv, capsys=capsys)
    assert code == 0
    text = tty.getvalue()
    assert "\rtoys [" in text and " 3/6 " in text and " 6/6 " in text and text.endswith("\n")
    monkeypatch.undo()
    code, _, err = toys(TTBAR, *argv, capsys=capsys)  # not a terminal: nothing
    assert code == 0 and err == ""


def test_help_documents_the_command(capsys):
    code, text, _ = run(["toys", "--help"], capsys)
    assert code == 0
    words = ["--workers N", "--scheduler ADDRESS", "--chunk-size N", "--output RUNDIR", "resumes"]
    words += ["--plots [PDIR]", "--truth NAME=VALUE", "--compare", "--no-intervals", "--json FILE"]
    for w in [*words, "hepcombine[dask]"]:
        assert w in text, w
    code, stdout, _ = run(["--help"], capsys)
    assert code == 0 and "toys" in stdout
