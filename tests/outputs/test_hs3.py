"""HS3 output (hepcombine.outputs.hs3), loaded back and evaluated by pyhs3 (a third-party HS3
implementation): −2 ln L of the 'full' likelihood differs from the combination's χ² by a
constant at the minimum and at shifted points, for every kind of source and both χ²
definitions; the 'gaussian' likelihood is the multivariate normal of the combined values,
whose profile the quadratic combination reproduces (minimised here with scipy)."""

from __future__ import annotations

import importlib
import json
import logging

import numpy as np
import pytest
from conftest import minimise_chi2

from hepcombine import Combiner, Measurement
from hepcombine.exceptions import OutputError
from hepcombine.outputs.hs3 import hs3_model


def _quietly_import(name: str):
    """Import ``name`` and undo what pyhs3 does to logging on import
    (``logging.config.dictConfig`` with ``disable_existing_loggers``: it would silence every
    hepcombine logger and the log records other tests check)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    loggers = {
        n: (lg.disabled, lg.propagate, list(lg.handlers), lg.level)
        for n, lg in logging.Logger.manager.loggerDict.items()
        if isinstance(lg, logging.Logger)
    }
    try:
        return pytest.importorskip(name)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for n, (disabled, propagate, hs, lv) in loggers.items():
            lg = logging.getLogger(n)
            lg.disabled, lg.propagate, lg.handlers[:] = disabled, propagate, hs
            lg.setLevel(lv)


def evaluator(document: dict, analysis: str):
    """``f(parameters) -> −2 ln L`` of an analysis of an HS3 document, as pyhs3 builds it."""
    pyhs3 = _quietly_import("pyhs3")
    pytensor = importlib.import_module("pytensor")
    ws = pyhs3.Workspace(**json.loads(json.dumps(document)))
    model = ws.model(ws.analyses[analysis], progress=False)
    log_prob = model.log_prob
    inputs = [
        v
        for v in pytensor.graph.graph_inputs([log_prob])
        if v.name and not isinstance(v, pytensor.graph.Constant)
    ]
    f = pytensor.function(inputs, log_prob, on_unused_input="ignore")
    data = model.data

    def minus2lnl(parameters: dict[str, float]) -> float:
        values = {**data, **{k: np.asarray(v, dtype=float) for k, v in parameters.items()}}
        return float(np.ravel(-2.0 * f(*[values[v.name] for v in inputs]))[0])

    return minus2lnl


def _two(relative=("lumi",), lognormal=(), asym=True):
    jes_a = {"b0": (0.8, -0.3), "b1": (0.4, -0.6)} if asym else {"b0": 0.5, "b1": 0.4}
    a = Measurement.from_uncertainties(
        {"b0": 10.0, "b1": 20.0},
        {"b0": 1.0, "b1": 1.5},
        {"lumi": {"b0": 0.5, "b1": 1.0}, "jes": jes_a, "eff": {"b0": 1.5, "b1": 2.0}},
        relative=relative,
        lognormal=lognormal,
        name="A",
    )
    b = Measurement.from_uncertainties(
        {"b0": 11.0, "b1": 19.0, "aux": 5.0},
        {"b0": 1.2, "b1": 1.1, "aux": 0.5},
        {"lumi": {"b0": 0.6, "b1": 1.1, "aux": 0.2}, "jes": {"b0": 0.5, "b1": 0.7}},
        name="B",
    )
    return a, b


def _hessian_measurement():
    """A fitted measurement: Hessian with unit priors (D ≠ 0) and pulled sources (λ̂ ≠ 0)."""
    cov = np.array(
        [
            [1.0, 0.2, 0.3, -0.1],
            [0.2, 1.44, 0.1, 0.2],
            [0.3, 0.1, 0.7, 0.05],
            [-0.1, 0.2, 0.05, 0.6],
        ]
    )
    return Measurement.from_hessian(
        np.linalg.inv(cov),
        ["b0", "b1", "lumi", "jes"],
        {"b0": 10.4, "b1": 19.6},
        nuisance_values={"lumi": 0.3, "jes": -0.2},
        name="H",
    )


CASES = {
    "neyman convino": dict(chi2="neyman", asymmetry="convino"),
    "neyman smooth": dict(chi2="neyman", asymmetry="smooth"),
    "pearson convino": dict(chi2="pearson", asymmetry="convino"),
    "pearson smooth": dict(chi2="pearson", asymmetry="smooth"),
    "lognormal": dict(chi2="neyman", asymmetry="convino", lognormal=("eff",)),
    "hessian, pulls, rho=1": dict(chi2="neyman", asymmetry="convino", hessian=True),
    "pearson hessian": dict(chi2="pearson", asymmetry="smooth", hessian=True),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_full_likelihood_is_the_chi2(case):
    opts = dict(CASES[case])
    hessian = opts.pop("hessian", False)
    lognormal = opts.pop("lognormal", ())
    a, b = _two(lognormal=lognormal)
    measurements = [a, b, _hessian_measurement()] if hessian else [a, b]
    rho = {("A:lumi", "B:lumi"): 1.0, ("A:jes", "B:jes"): 0.5}
    if hessian:
        rho[("H:lumi", "A:lumi")] = 1.0
        rho[("H:lumi", "B:lumi")] = 1.0
    observables = {"b0": ["A:b0", "B:b0"], "b1": ["A:b1", "B:b1"]}  # B:aux is a spectator
    if hessian:
        observables = {k: [*v, f"H:{k}"] for k, v in observables.items()}
    result = Combiner(measurements, observables, rho, **opts).combine()
    model = hs3_model(result)
    profile = result._profile
    chi2 = profile.model
    theta_hat = np.array(profile.solution.theta)
    f = evaluator(model.workspace, "full")
    names = list(model.parameters)
    assert len(names) == theta_hat.size
    rng = np.random.default_rng(7)
    lnl_hat = f(dict(zip(names, theta_hat, strict=True)))
    assert lnl_hat + model.offset == pytest.approx(result.chi2, abs=1e-9)
    for _ in range(5):
        theta = theta_hat + rng.normal(0.0, 0.4, theta_hat.size)
        got = f(dict(zip(names, theta, strict=True))) - lnl_hat
        assert got == pytest.approx(chi2(theta) - result.chi2, rel=1e-10, abs=1e-9)
    pearson = opts["chi2"] == "pearson"
    assert any("Pearson" in flag for flag in model.flags) == pearson
    assert model.workspace["misc"]["hepcombine"]["flags"] == list(model.flags)


def test_hand_written_chi2():
    """One bin, two measurements: a relative luminosity (ρ = 1 between them) and Convino's
    asymmetric jes in A; the χ² is written out here, not taken from hepcombine."""
    a = Measurement.from_uncertainties(
        {"x": 10.0}, {"x": 1.0}, {"lumi": {"x": 0.5}, "jes": {"x": (0.8, -0.3)}},
        relative=["lumi"], name="A",
    )  # fmt: skip
    b = Measurement.from_uncertainties(
        {"x": 12.0}, {"x": 2.0}, {"lumi": {"x": 0.6}}, relative=["lumi"], name="B"
    )
    result = Combiner([a, b], correlations={("A:lumi", "B:lumi"): 1.0}).combine()
    model = hs3_model(result)
    f = evaluator(model.workspace, "full")
    names = list(model.parameters)
    assert len(names) == 3  # x, η(lumi), η(jes)

    def chi2(x, lumi, jes):
        s_jes = 0.8 * jes if jes > 0 else 0.3 * jes
        xa = x * (1 - 0.5 * lumi / 10.0) - s_jes
        xb = x * (1 - 0.6 * lumi / 12.0)
        return (xa - 10.0) ** 2 / 1.0 + (xb - 12.0) ** 2 / 4.0 + lumi**2 + jes**2

    # ρ = 1: one η for both luminosities (λ_A = λ_B = η); jes uncorrelated: its own η
    assert model.parameters == {"x": "x", "eta_eta0": "eta[0]", "eta_A_jes": "eta[1] = A:jes"}
    for point in [(10.5, 0.3, -0.4), (11.0, -1.0, 0.7), (9.0, 0.0, 0.0)]:
        params = dict(zip(names, point, strict=True))
        assert f(params) + model.offset == pytest.approx(chi2(*point), rel=1e-12)


def test_gaussian_likelihood_is_the_profile_of_a_quadratic_chi2():
    a, b = _two(relative=(), asym=False)
    result = Combiner(
        [a, b], {"b0": ["A:b0", "B:b0"], "b1": ["A:b1", "B:b1"]}, {("A:lumi", "B:lumi"): 1.0}
    ).combine()
    assert result.method == "linear solve"
    model = hs3_model(result)
    assert model.flags == ()  # exact: nothing the file cannot say
    f = evaluator(model.workspace, "gaussian")
    x_hat = np.array([result.values["b0"], result.values["b1"]])
    vinv = np.linalg.inv(result.covariance.matrix)
    chi2 = result._profile.model
    n_fit = chi2.n_params
    theta_hat = np.array(result._profile.solution.theta)
    lnl_hat = f({"b0": x_hat[0], "b1": x_hat[1]})
    for mu in ([10.2, 19.0], [11.5, 20.5]):
        d = x_hat - np.array(mu)
        got = f({"b0": mu[0], "b1": mu[1]}) - lnl_hat
        assert got == pytest.approx(d @ vinv @ d, rel=1e-10)

        # the combination's χ² profiled over everything else at b0, b1 = mu (scipy)
        def fixed(rest, mu=mu):
            return chi2(np.concatenate([mu, rest]))

        best = minimise_chi2(fixed, theta_hat[2:])
        assert got == pytest.approx(best.fun - result.chi2, rel=1e-6)
    del n_fit


def test_indefinite_source_constraints_are_refused():
    """A Hessian without the unit priors (from_hessian warns): S = diag(0.2, 0.3) < 1 on two
    sources assumed identical (ρ = 1) makes the constraint of their common η, 1 + Σ D = −0.5,
    negative, although the combination itself is well defined (the data constrain η)."""
    h = np.array([[1.0, 1.0, 0.0], [1.0, 1.2, 0.0], [0.0, 0.0, 0.3]])
    m = Measurement.from_hessian(h, ["x", "s1", "s2"], {"x": 1.0}, name="M")
    other = Measurement.from_uncertainties({"x": 1.2}, {"x": 0.5}, name="O")
    result = Combiner([m, other], correlations={("M:s1", "M:s2"): 1.0}).combine()
    assert np.isfinite(result.errors["x"])
    with pytest.raises(OutputError, match="not positive definite"):
        hs3_model(result)


def test_cli_hs3_file_and_hepdata_resource(tmp_path):
    """``--hs3`` writes the workspace; ``--hepdata`` carries the same file as an additional
    resource, and hepdata-validator accepts the submission (directory and archive)."""
    import tarfile

    from conftest import write
    from hepdata_validator.full_submission_validator import FullSubmissionValidator

    from hepcombine.cli import main

    config = write(
        tmp_path / "c.yaml",
        """\
measurements:
  a:
    estimates: {b0: 10.0, b1: 8.0}
    stat: {b0: 0.5, b1: 0.4}
    uncertainties: {lumi: {b0: 0.3, b1: 0.25}}
    relative: [lumi]
    binning: {edges: [0.0, 1.0, 2.5]}
  b:
    estimates: {b0: 10.6, b1: 7.7}
    stat: {b0: 0.6, b1: 0.5}
    uncertainties: {lumi: {b0: 0.4, b1: 0.3}}
    binning: {edges: [0.0, 1.0, 2.5]}
correlations:
  - {a: 'a:lumi', b: 'b:lumi', rho: 1.0}
""",
    )
    hs3 = tmp_path / "model.json"
    sub = tmp_path / "sub"
    argv = ["combine", config, "--hs3", hs3, "--hepdata", sub, "--output-dir", tmp_path]
    assert main([str(a) for a in argv]) == 0
    text = hs3.read_text()
    assert (sub / "hs3_likelihood.json").read_text() == text
    with tarfile.open(tmp_path / "sub.tar.gz") as tar:
        assert tar.extractfile("hs3_likelihood.json").read().decode() == text
    for kwargs in ({"directory": str(sub)}, {"archive": str(tmp_path / "sub.tar.gz")}):
        validator = FullSubmissionValidator()
        assert validator.validate(**kwargs), validator.get_messages()
    doc = json.loads(text)
    result = load_config_result(config)
    f = evaluator(doc, "full")
    names = list(doc["misc"]["hepcombine"]["parameters"])
    theta = np.array(result._profile.solution.theta)
    offset = doc["misc"]["hepcombine"]["chi2_minus_minus2lnL_full"]
    assert f(dict(zip(names, theta, strict=True))) + offset == pytest.approx(result.chi2, abs=1e-9)


def load_config_result(path):
    from hepcombine.inputs import load_config

    return load_config(path).combiner().combine()


def test_errors_on_errors_write_the_gaussian_only_and_say_why():
    a, b = _two(relative=(), asym=False)
    result = Combiner(
        [a, b],
        {"b0": ["A:b0", "B:b0"], "b1": ["A:b1", "B:b1"]},
        {("A:lumi", "B:lumi"): 1.0},
        errors_on_errors={"A:jes": 0.3},
    ).combine()
    model = hs3_model(result)
    assert any("Student-t" in flag for flag in model.flags)
    doc = model.workspace
    assert [lk["name"] for lk in doc["likelihoods"]] == ["gaussian"]
    assert [an["name"] for an in doc["analyses"]] == ["gaussian"]
    assert np.isnan(model.offset) and doc["misc"]["hepcombine"]["chi2_minus_minus2lnL_full"] is None
    f = evaluator(doc, "gaussian")  # loads and evaluates: nothing dangling
    x_hat = np.array([result.values["b0"], result.values["b1"]])
    vinv = np.linalg.inv(result.covariance.matrix)
    d = x_hat - np.array([10.0, 19.0])
    assert f({"b0": 10.0, "b1": 19.0}) - f(
        dict(zip(["b0", "b1"], x_hat, strict=True))
    ) == pytest.approx(d @ vinv @ d, rel=1e-10)
