"""NumPyro's NUTS on a PyMC model compiled as one JAX function (blinapk.mcmc.jaxnuts)."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest

from blinapk.mcmc import SamplerSettings, jittered_start_fn, sample_nuts

pytest.importorskip("numpyro")

Y = np.random.default_rng(0).normal(1.0, 0.5, size=40)


@pytest.fixture(scope="module")
def model():
    with pm.Model(coords={"obs": np.arange(Y.size)}) as m:
        x = pm.Data("x", np.ones(Y.size), dims="obs")
        mu = pm.Normal("mu", 0.0, 10.0)
        sd = pm.HalfNormal("sd", 2.0)
        pm.Deterministic("cv", sd / mu)
        pm.Normal("y", mu * x, sd, observed=Y, dims="obs")
    return m


def _settings(**kwargs):
    base = {"draws": 600, "tune": 400, "chains": 2, "seed": 5, "progressbar": False,
            "sampler": "numpyro"}
    return SamplerSettings(**{**base, **kwargs})


@pytest.fixture(scope="module")
def sampled(model):
    return sample_nuts(model, _settings(), initvals={"mu": 1.0, "sd": 0.5},
                       log_likelihood=True)


def test_posterior_matches_the_conjugate_answer(sampled):
    """With a flat-ish prior the posterior mean of mu is the sample mean, SD ~ s/sqrt(n)."""
    idata, timings = sampled
    assert set(timings) == {"compile_s", "sample_s", "post_s"}
    post = idata.posterior
    assert post.sizes == {"chain": 2, "draw": 600}
    se = Y.std(ddof=1) / np.sqrt(Y.size)
    assert abs(float(post["mu"].mean()) - Y.mean()) < 0.25 * se
    assert float(post["mu"].std()) == pytest.approx(se, rel=0.15)
    # deterministics come back on their natural scale, transformed copies do not
    np.testing.assert_allclose(post["cv"], post["sd"] / post["mu"], rtol=1e-12)
    assert "sd_log__" not in post
    stats = idata.sample_stats
    for name in ("diverging", "n_steps", "tree_depth", "energy", "lp", "acceptance_rate",
                 "step_size"):
        assert stats[name].shape == (2, 600), name
    assert int(stats["diverging"].sum()) == 0
    assert stats.attrs["chain_method"] in ("parallel", "sequential")


def test_pointwise_log_likelihood_equals_pymc(model, sampled):
    idata, _ = sampled
    ours = idata.log_likelihood["y"].values
    assert ours.shape == (2, 600, Y.size)
    ref = pm.compute_log_likelihood(idata.copy(), model=model, extend_inferencedata=False,
                                    progressbar=False)["y"].values
    np.testing.assert_allclose(ours, ref, rtol=1e-10, atol=1e-10)
    # and by hand for one draw
    mu, sd = float(idata.posterior["mu"][0, 0]), float(idata.posterior["sd"][0, 0])
    by_hand = -0.5 * np.log(2 * np.pi * sd**2) - (Y - mu) ** 2 / (2 * sd**2)
    np.testing.assert_allclose(ours[0, 0], by_hand, rtol=1e-10)


def test_lp_is_the_joint_log_density_with_jacobian(model, sampled):
    """Default single precision: the sampler's lp is the float64 log density to float32 rounding."""
    idata, _ = sampled
    assert idata.sample_stats.attrs["precision"] == "float32"
    logp = model.compile_logp()
    for chain, draw in [(1, 7), (0, 123), (1, 599)]:
        point = {"mu": float(idata.posterior["mu"][chain, draw]),
                 "sd_log__": np.log(float(idata.posterior["sd"][chain, draw]))}
        lp = float(idata.sample_stats["lp"][chain, draw])
        assert lp == pytest.approx(float(logp(point)), rel=2e-6)


def test_double_precision_sampler(model, sampled):
    """precision="float64": lp exact to 1e-9, and the same posterior as single precision."""
    idata, _ = sample_nuts(model, _settings(precision="float64"), initvals={"mu": 1.0, "sd": 0.5})
    assert idata.sample_stats.attrs["precision"] == "float64"
    logp = model.compile_logp()
    point = {"mu": float(idata.posterior["mu"][1, 7]),
             "sd_log__": np.log(float(idata.posterior["sd"][1, 7]))}
    assert float(idata.sample_stats["lp"][1, 7]) == pytest.approx(float(logp(point)), rel=1e-9)
    single = sampled[0].posterior
    for name in ("mu", "sd"):
        a, b = idata.posterior[name].values.ravel(), single[name].values.ravel()
        # independent chains of one posterior: means within 4 Monte-Carlo SEs (ESS ~ n/2)
        se = np.sqrt(a.var() / (a.size / 2) + b.var() / (b.size / 2))
        assert abs(a.mean() - b.mean()) < 4 * se, name
        assert a.std() == pytest.approx(b.std(), rel=0.15), name


def test_single_precision_outputs_are_float64(sampled):
    """Draws sampled in float32 come back as float64, posterior variables computed in float64."""
    idata, _ = sampled
    for group in ("posterior", "log_likelihood"):
        for name, values in getattr(idata, group).data_vars.items():
            assert values.dtype == np.float64, (group, name)
    for name in ("energy", "lp", "acceptance_rate", "step_size"):
        assert idata.sample_stats[name].dtype == np.float64, name
    mu = idata.posterior["mu"].values
    assert np.array_equal(mu.astype(np.float32).astype(np.float64), mu)  # float32 draws, widened
    # deterministics from the float64 graph: cv = sd / mu to double rounding
    np.testing.assert_allclose(idata.posterior["cv"], idata.posterior["sd"] / mu, rtol=1e-15)


def test_same_seed_same_draws_and_chains_start_where_told(model):
    a, _ = sample_nuts(model, _settings(draws=20, tune=20), initvals={"mu": 1.0, "sd": 0.5})
    b, _ = sample_nuts(model, _settings(draws=20, tune=20), initvals={"mu": 1.0, "sd": 0.5})
    np.testing.assert_array_equal(a.posterior["mu"].values, b.posterior["mu"].values)
    seen = {}

    def hook(target, initvals):
        seen["target"] = target
        return jittered_start_fn(target, initvals, {"mu": 0.0, "sd_log__": 0.0})

    c, _ = sample_nuts(model, _settings(draws=5, tune=0), initvals={"mu": 1.0, "sd": 0.5},
                       chain_starts=hook)
    assert seen["target"] is not model
    assert "log_likelihood" not in c.groups()
