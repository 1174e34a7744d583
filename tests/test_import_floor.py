"""The import floor of a plain combination (issue 22): ``hepcombine combine`` of the Convino
example, a whole process, imports none of the heavy modules it does not use. A behaviour test
(which modules are in ``sys.modules`` at the end), not a timing test: the time is measured in
benchmarks/bench_cli.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"

#: imported only where used: the p-value (own χ² survival function), the correlation groups
#: (union–find), shared estimates (scipy.sparse only for such a block), the linear algebra of
#: a small combination (numpy; scipy.linalg from 64 parameters on), Minuit, ROOT files,
#: plots, Dask, YAML; numpy.ma (np.unique imports it: the kink offsets and the correlation
#: blocks sort without it), html (notebook rendering only), the Bartlett correction
NOT_IMPORTED = (
    "numpy.ma",
    "html",
    "hepcombine.solver.bartlett",
    "scipy",
    "scipy.linalg",
    "scipy.special",
    "scipy.sparse",
    "scipy.stats",
    "scipy.optimize",
    "iminuit",
    "uproot",
    "awkward",
    "matplotlib",
    "mplhep",
    "dask",
    "distributed",
    "yaml",
)

SCRIPT = """
import json, sys
from hepcombine.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def modules_after(argv: list[str], cwd: Path) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, *argv],
        capture_output=True,
        text=True,
        check=True,
        cwd=cwd,
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["code"] == 0
    return set(report["modules"])


def test_plain_combine_imports_no_heavy_module(tmp_path):
    config = DATA / "convino_example" / "combination.txt"
    loaded = modules_after(["combine", str(config), "--output-dir", str(tmp_path)], tmp_path)
    assert (tmp_path / "result.txt").exists()
    assert "hepcombine.combiner" in loaded  # it did combine
    assert sorted(m for m in NOT_IMPORTED if m in loaded) == []


def test_a_shared_estimate_still_works_with_scipy_sparse_imported_on_demand():
    """The one use of scipy.sparse in the χ² (estimates of one measurement mapped to one
    value) imports it when such a block exists; the combination equals the weighted mean."""
    code = (
        "import sys\n"
        "from hepcombine import Combiner, Measurement\n"
        "m = Measurement.from_uncertainties({'a': 1.0, 'b': 3.0}, {'a': 1.0, 'b': 1.0}, {},"
        " name='M')\n"
        "r = Combiner([m], {'x': ['M:a', 'M:b']}).combine()\n"
        "print(r.values['x'], r.errors['x'], 'scipy.sparse' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    value, error, sparse = out.stdout.split()
    assert abs(float(value) - 2.0) < 1e-12
    assert abs(float(error) - 0.5**0.5) < 1e-12
    assert sparse == "True"


LIMITS = """
import json
from threadpoolctl import threadpool_info
from hepcombine.solver._linalg import blas_threads
with blas_threads({n}):
    inside = {{i["filepath"]: i["num_threads"] for i in threadpool_info()}}
print(json.dumps(inside))
"""


def test_blas_thread_limit_reaches_scipys_own_blas():
    """scipy.linalg is imported only where used, and brings a BLAS library of its own: the
    one-thread limit of a small problem that scipy factorises (64 ≤ n < 600 parameters) must
    reach that library too, not only numpy's (a limit set before it is loaded would not). In a
    fresh process, where scipy is not loaded yet."""
    out = subprocess.run(
        [sys.executable, "-c", LIMITS.format(n=135)], capture_output=True, text=True, check=True
    )
    inside = json.loads(out.stdout)
    assert len(inside) >= 2  # numpy's and scipy's BLAS (the wheels bundle one each)
    assert set(inside.values()) == {1}


RESTORED = """
import json
from threadpoolctl import threadpool_info, threadpool_limits
import scipy.linalg
from hepcombine.solver._linalg import blas_threads
def threads():
    return {i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}
with threadpool_limits(limits=2, user_api="blas"):
    before = threads()
    with blas_threads(135):
        inside = threads()
        with blas_threads(135):
            nested = threads()
        after_nested = threads()
    after = threads()
print(json.dumps([before, inside, nested, after_nested, after]))
"""


def test_blas_thread_limit_restores_the_callers_setting():
    """blas_threads sets each BLAS library to one thread and gives back exactly what the caller
    had (here two threads), also when nested."""
    out = subprocess.run(
        [sys.executable, "-c", RESTORED], capture_output=True, text=True, check=True
    )
    before, inside, nested, after_nested, after = json.loads(out.stdout)
    assert len(before) >= 2 and set(before.values()) == {2}
    assert set(inside.values()) == set(nested.values()) == set(after_nested.values()) == {1}
    assert after == before
