"""Cost of writing a combination as a HEPData submission (not part of the test suite).

    python benchmarks/bench_hepdata.py              # 10, 30, 100, 200 bins, 3 repetitions
    python benchmarks/bench_hepdata.py 100 5        # one size, 5 repetitions

Per size: the combination itself (two measurements × 5 sources, Neyman: the yardstick), the
tables built by hepdata_lib (``prepare_hepdata``: make_dict's rounding), writing the files
(hepcombine's emitter) and, for comparison, dumping the same data with PyYAML's C-emitter dumper
(what the writer did before), and hepdata-validator's ``FullSubmissionValidator`` on the written
directory. Best of the repetitions, in seconds; the two matrix tables have n² rows each, so
everything but the combination grows with the square of the number of bins.

Then the one-command example (``hepcombine combine data/lhcb_z_8tev_ee_mumu.yaml --root
--hepdata``) as a whole process, with and without validation.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

from hepcombine import Binning, Combiner, Measurement
from hepcombine.outputs import hepdata as writer
from hepcombine.outputs.atomic import output_set

REPO = Path(__file__).resolve().parents[1]


def result_of(n: int):
    rng = np.random.default_rng(1)
    vals = np.linspace(100, 1, n)
    ms = []
    for name in "AB":
        est = [f"b{i}" for i in range(n)]
        ms.append(
            Measurement.from_uncertainties(
                dict(zip(est, vals * (1 + rng.normal(0, 0.02, n)), strict=True)),
                dict(zip(est, 0.03 * vals, strict=True)),
                {
                    f"s{j}": dict(zip(est, rng.normal(0, 0.01, n) * vals, strict=True))
                    for j in range(5)
                },
                name=name,
            )
        )
    return Combiner(ms)


def best(f, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return min(times)


def one_size(n: int, repeat: int, work: Path) -> None:
    comb = result_of(n)
    result = comb.combine()
    binning = Binning.from_edges(np.arange(n + 1.0), name="x", label="x")
    t_comb = best(comb.combine, repeat)
    options = writer.HEPDataOptions(binning=binning)
    t_prep = best(lambda: writer.prepare_hepdata(result, options), repeat)
    tables = writer.prepare_hepdata(result, options)
    counter = iter(range(10**6))

    def write(validate: bool) -> None:
        with output_set() as out:
            tables.stage(out, work / f"s{n}_{next(counter)}", validate=validate)

    t_write = best(lambda: write(False), repeat)
    data = {
        "independent_variables": [v.make_dict() for v in tables.submission.tables[1].variables[:2]],
        "dependent_variables": [tables.submission.tables[1].variables[2].make_dict()],
    }
    plain = yaml.safe_load(writer._data_file_text(data))  # plain dicts (make_dict: defaultdicts)
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    t_pyyaml = best(lambda: yaml.dump(plain, Dumper=dumper, default_flow_style=False), repeat)
    t_own = best(lambda: writer._data_file_text(data), repeat)
    t_valid = best(lambda: write(True), repeat) - t_write
    print(
        f"{n:5d} bins: combine {t_comb:7.3f}  prepare {t_prep:6.3f}  write {t_write:6.3f} "
        f"(one matrix file: emitter {t_own:6.3f} vs PyYAML {t_pyyaml:6.3f})  "
        f"validate {t_valid:6.2f}"
    )


def cli(repeat: int, work: Path) -> None:
    for extra in ([], ["--no-hepdata-validation"]):
        argv = [
            sys.executable, "-m", "hepcombine", "combine", "data/lhcb_z_8tev_ee_mumu.yaml",
            "--root", str(work / "out.root"), "--hepdata", str(work / "out_hepdata"),
            "--output-dir", str(work), *extra,
        ]  # fmt: skip
        t = best(
            lambda argv=argv: subprocess.run(argv, cwd=REPO, check=True, capture_output=True),
            repeat,
        )
        print(f"one-command example{' ' + extra[0] if extra else ''}: {t:.2f} s")


def main() -> None:
    sizes = [int(sys.argv[1])] if len(sys.argv) > 1 else [10, 30, 100, 200]
    repeat = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        writer.prepare_hepdata(result_of(3).combine())  # imports hepdata_lib
        for n in sizes:
            one_size(n, repeat, work)
        cli(repeat, work)


if __name__ == "__main__":
    main()
