"""Every example of the README runs as written, on the files the repository has.

* Python blocks are executed from the repository root.
* Shell blocks: each ``hepcombine …`` command is run (in a temporary directory holding the
  repository's ``data/``, so that the outputs it writes land there) and must exit 0 and write
  what it names; every path a command names exists; ``pip install`` extras exist in
  ``pyproject.toml``; ``nox -s`` sessions exist in ``noxfile.py``; other scripts exist.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)
SHELL = [
    line.split("  #")[0].strip()
    for block in re.findall(r"```bash\n(.*?)```", README, flags=re.S)
    for line in block.splitlines()
    if line.strip() and not line.lstrip().startswith("#")
]
COMMANDS = [part.strip() for line in SHELL for part in line.split("&&")]
HEPCOMBINE = [c for c in COMMANDS if c.startswith("hepcombine ")]


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_python_blocks_run(code, monkeypatch):
    monkeypatch.chdir(ROOT)
    exec(compile(code, "README.md", "exec"), {})


def test_readme_has_the_commands_of_the_quickstart():
    assert "python -m pip install . && hepcombine combine data/ttbar_8tev_emu.yaml" in SHELL
    assert 'python -m pip install ".[test]" && python -m pytest' in SHELL
    assert len(HEPCOMBINE) >= 4


@pytest.mark.parametrize("command", HEPCOMBINE)
def test_readme_hepcombine_commands_run(command, tmp_path):
    args = shlex.split(command)[1:]
    for a in args:
        if a.startswith("data/"):
            assert (ROOT / a).exists(), f"{command}: {a} does not exist"
    shutil.copytree(ROOT / "data", tmp_path / "data")
    exe = [sys.executable, "-c", "import sys; from hepcombine.cli import main; sys.exit(main())"]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    out = subprocess.run([*exe, *args], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert out.returncode == 0, f"{command}\n{out.stderr}"
    assert out.stderr == "", out.stderr  # no warnings either
    written = [
        Path(ln.removeprefix("wrote ")) for ln in out.stdout.splitlines() if ln.startswith("wrote ")
    ]
    assert written and all((tmp_path / p).stat().st_size > 0 for p in written)
    for flag in ("--json", "--root", "--latex", "--markdown"):
        if flag in args:
            assert (tmp_path / args[args.index(flag) + 1]).stat().st_size > 0


def test_ci_runs_the_readme_test_command_and_the_slow_tests():
    """The default run leaves out the tests marked slow; CI (.ci/run) runs the README's test
    command and then them, as ``nox -s slow`` does."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "-m 'not slow'" in pyproject["tool"]["pytest"]["ini_options"]["addopts"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'python -m pip install ".[test]" && python -m pytest\n' in ci
    assert "\npython -m pytest -m slow\n" in ci
    assert re.search(r'session.run\("pytest", "-m", "slow"', (ROOT / "noxfile.py").read_text())


def test_readme_other_commands_name_what_exists():
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    sessions = set(re.findall(r"^def (\w+)\(session", (ROOT / "noxfile.py").read_text(), re.M))
    for c in COMMANDS:
        words = shlex.split(c)
        if c.startswith("python -m pip install"):
            target = words[-1]
            m = re.fullmatch(r"\.\[([\w,]+)\]", target)
            assert target == "." or m, c
            if m:
                assert set(m.group(1).split(",")) <= set(extras), c
        elif words[0] == "nox":
            named = [w for w in words[1:] if not w.startswith("-")]
            assert named and set(named) <= sessions, c
        elif words[:2] == ["python", "-m"]:
            assert words[2] in ("pytest", "pip"), c
        elif words[0] == "python":
            assert (ROOT / words[1]).is_file(), c
        elif words[0] == "pre-commit":
            assert (ROOT / ".pre-commit-config.yaml").is_file(), c
        else:
            assert words[0] == "hepcombine", f"README command not checked: {c}"
