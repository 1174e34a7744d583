"""``hepcombine compat``: every configuration shipped in data/ runs; the command line gives the
library's numbers (its JSON is compatibility_to_dict of compatibility() with the same options,
also with toys, in-process and on two Dask workers); plots are PNGs with content; bad usage is
one line and exit 2, a bad input exit 1, and nothing is written then."""

from __future__ import annotations

import json

import pytest
from conftest import DATA

from hepcombine.compat import compatibility
from hepcombine.inputs import load_config
from hepcombine.outputs.compat import compatibility_to_dict
from hepcombine.outputs.json import dumps

from .test_cli import run

CONVINO = DATA / "convino_example" / "combination.txt"
TTBAR = DATA / "ttbar_8tev_emu.yaml"
LHCB = DATA / "lhcb_z_8tev_ee_mumu.yaml"
CONFIGS = [
    TTBAR,
    LHCB,
    CONVINO,
    DATA / "convino_setups" / "ATLAS13Only" / "rho_config.txt",
    DATA / "convino_setups" / "ATLAS13OnlyTest" / "rho_config.txt",
    DATA / "convino_setups" / "Combination_ATLAS813CMS13_corrV2_statonly" / "rho_config.txt",
]


def compat(config, *options, capsys):
    return run(["compat", config, *options], capsys)


def library_json(config, **options):
    diag = compatibility(load_config(config).combiner(), **options)
    return json.loads(dumps(compatibility_to_dict(diag, config=str(config))))


@pytest.mark.parametrize("config", CONFIGS, ids=[p.parent.name + "/" + p.name for p in CONFIGS])
def test_every_shipped_config_runs_and_equals_the_library(config, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, err = compat(
        config, "--scale", "--json", tmp_path / "c.json", "--output-dir", out, capsys=capsys
    )
    assert code == 0, err
    assert stdout.startswith("hepcombine compatibility diagnostics")
    got = json.loads((tmp_path / "c.json").read_text())
    assert got == library_json(config, scale=True)
    assert (out / "compat_result.txt").read_text() == stdout[: stdout.index("wrote ")]


def test_toys_equal_the_library_and_two_workers(tmp_path, capsys):
    code, _, err = compat(
        TTBAR, "--toys", 40, "--seed", 3, "--json", tmp_path / "a.json", "-q",
        "--output-dir", tmp_path, capsys=capsys,
    )  # fmt: skip
    assert code == 0, err
    got = json.loads((tmp_path / "a.json").read_text())
    assert got == library_json(TTBAR, toys=40, seed=3)
    assert got["toys"]["n"] == 40


@pytest.mark.slow
def test_two_local_workers_give_the_in_process_numbers(tmp_path, capsys):
    pytest.importorskip("distributed")
    argv = ["--toys", 30, "--seed", 9, "-q", "--output-dir", tmp_path]
    code, _, err = compat(CONVINO, *argv, "--json", tmp_path / "one.json", capsys=capsys)
    assert code == 0, err
    code, _, err = compat(
        CONVINO, *argv, "--workers", 2, "--json", tmp_path / "two.json", capsys=capsys
    )
    assert code == 0, err
    assert json.loads((tmp_path / "one.json").read_text()) == json.loads(
        (tmp_path / "two.json").read_text()
    )


def test_tables_and_plots(tmp_path, capsys):
    import matplotlib.image

    pdir = tmp_path / "plots"
    code, stdout, err = compat(
        CONVINO, "--latex", tmp_path / "t.tex", "--markdown", tmp_path / "t.md",
        "--plots", pdir, "--prefix", "p", "-q", "--output-dir", tmp_path / "out", capsys=capsys,
    )  # fmt: skip
    assert code == 0, err
    assert err == ""
    names = ["compat_pulls", "compat_leave_one_out", "compat_ideogram_xsec"]
    assert sorted(p.name for p in pdir.iterdir()) == sorted(
        f"p_{n}.{e}" for n in names for e in ("png", "pdf")
    )
    for n in names:
        image = matplotlib.image.imread(pdir / f"p_{n}.png")
        assert image[..., :3].std() > 0.05
    assert (tmp_path / "t.tex").read_text().count("\\toprule") == 3
    assert (tmp_path / "t.md").read_text().startswith("| Input |")
    assert stdout.startswith("wrote ")
    # a differential combination: pulls against the bins, no ideogram per bin
    code, _, err = compat(LHCB, "--plots", "-q", "--output-dir", tmp_path / "o2", capsys=capsys)
    assert code == 0, err
    assert sorted(p.stem for p in (tmp_path / "o2").glob("*.png")) == [
        "compat_leave_one_out",
        "compat_pulls",
    ]


USAGE = [
    (["--toys", 10], "--toys needs --seed S"),
    (["--toys", 0, "--seed", 1], "--toys: it must be at least 1"),
    (["--seed", 1, "--workers", 2], "--workers is for the pseudo-experiments"),
    (["--chunk-size", 5], "--chunk-size is for the pseudo-experiments"),
    (["--leave-out", "fit_x"], "not a measurement of"),
    (["--leave-out", "fit_a", "--no-leave-out"], "exclude each other"),
    (["--toys", 5, "--seed", -1], "the seed must be at least 0"),
]


@pytest.mark.parametrize(("argv", "message"), USAGE, ids=[m for _, m in USAGE])
def test_usage_errors_exit_2(argv, message, tmp_path, capsys):
    code, stdout, err = compat(CONVINO, *argv, "--output-dir", tmp_path / "out", capsys=capsys)
    assert code == 2, err
    assert err.startswith("hepcombine: error: ") and err.count("\n") == 1, err
    assert message in err
    assert stdout == "" and not (tmp_path / "out").exists()


def test_input_and_output_errors_exit_1_and_write_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = compat(tmp_path / "nope.yaml", "--output-dir", out, capsys=capsys)
    assert code == 1 and "does not exist" in err and err.count("\n") == 1
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = compat(TTBAR, "--output-dir", out, "--json", blocker / "c.json", capsys=capsys)
    assert code == 1, err
    assert err.startswith("hepcombine: error: ") and "Traceback" not in err
    assert not out.exists() or not any(out.iterdir())
    code, _, err = compat(
        TTBAR, "--output-dir", out, "--json", out / "compat_result.txt", capsys=capsys
    )
    assert code == 1 and "would be written twice" in err


def test_help_documents_the_command(capsys):
    code, out, _ = run(["compat", "--help"], capsys)
    assert code == 0
    for text in ("--leave-out", "--scale", "--toys", "compat_result.txt", "ideogram"):
        assert text in out
    code, out, _ = run(["--help"], capsys)
    assert "compat" in out
