"""NumPyro's NUTS as exported per-chain programs, cached across processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pymc as pm
import pytest

from blinapk.mcmc import SamplerSettings, sample_nuts
from blinapk.mcmc.jaxnuts import _steps
from blinapk.mcmc.nutsprogram import graph_fingerprint, program_key

pytest.importorskip("numpyro")

Y = np.random.default_rng(1).normal(2.0, 0.7, size=30)
MODEL_CODE = """
import numpy as np, pymc as pm
from pymc.model.transform.optimization import freeze_dims_and_data
y = np.random.default_rng(1).normal(2.0, 0.7, size=30)
with pm.Model(coords={"obs": np.arange(y.size)}) as m:
    mu = pm.Normal("mu", 0.0, 10.0)
    sd = pm.HalfNormal("sd", 2.0)
    pm.Normal("y", mu, sd, observed=y, dims="obs")
"""


def _model(y=Y, prior_sd=10.0):
    with pm.Model(coords={"obs": np.arange(y.size)}) as m:
        mu = pm.Normal("mu", 0.0, prior_sd)
        sd = pm.HalfNormal("sd", 2.0)
        pm.Deterministic("cv", sd / mu)
        pm.Normal("y", mu, sd, observed=y, dims="obs")
    return m


def _frozen(model):
    from pymc.model.transform.optimization import freeze_dims_and_data

    return freeze_dims_and_data(model)


def _settings(**kwargs):
    base = {"draws": 300, "tune": 300, "chains": 2, "seed": 11, "progressbar": False,
            "sampler": "numpyro"}
    return SamplerSettings(**{**base, **kwargs})


INIT = {"mu": 2.0, "sd": 0.7}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BLINAPK_CACHE_DIR", str(tmp_path))
    return tmp_path / "nuts-programs"


def test_steps_cover_the_total_in_chunks():
    assert _steps(1000, 250) == [250, 250, 250, 250]
    assert _steps(601, 250) == [250, 250, 101]
    assert _steps(0, 250) == []


_SAME_AS_MCMC = """
import json, sys
import jax, jax.numpy as jnp, numpy as np
sys.path.insert(0, sys.argv[1])
import test_mcmc_nutsprogram as t
from numpyro.infer import MCMC, NUTS
from blinapk.mcmc import jittered_start_fn, sample_nuts
from blinapk.mcmc.nutsprogram import _jax_functions, _unflatten, layout

model, settings = t._model(), t._settings(precision=sys.argv[3])
variances = json.loads(sys.argv[2])
idata, _ = sample_nuts(model, settings, initvals=t.INIT, variances=variances)
target = t._frozen(model)
fn, _, _ = _jax_functions(target, False)
split = _unflatten(layout(target)[1])
start_fn, _ = jittered_start_fn(target, t.INIT)
dtype = np.dtype(settings.precision)
starts = np.stack([start_fn(settings.seed + c) for c in range(2)]).astype(dtype)
method = idata.sample_stats.attrs["chain_method"]
# NumPyro's own run: in single precision with JAX's 64-bit mode off, as a float32 user runs it
with jax.enable_x64(settings.precision == "float64"):
    inverse_mass = (None if not variances else
                    jnp.asarray([variances.get(v.name, 1.0) for v in target.value_vars], dtype))
    mcmc = MCMC(NUTS(potential_fn=lambda x: -fn(*split(x))[0], target_accept_prob=0.8,
                     inverse_mass_matrix=inverse_mass),
                num_warmup=300, num_samples=300, num_chains=2, chain_method=method,
                progress_bar=False)
    mcmc.run(jax.random.PRNGKey(settings.seed), init_params=jnp.asarray(starts),
             extra_fields=("num_steps",))
    z = np.asarray(mcmc.get_samples(group_by_chain=True))
    steps = np.asarray(mcmc.get_extra_fields(group_by_chain=True)["num_steps"])
print(json.dumps({
    "method": method, "dtype": str(z.dtype),
    "mu": float(np.max(np.abs(idata.posterior["mu"].values - z[..., 0]) / np.abs(z[..., 0]))),
    "log_sd": float(np.max(np.abs(np.log(idata.posterior["sd"].values) - z[..., 1]))),
    "steps_equal": bool(np.array_equal(idata.sample_stats["n_steps"].values, steps)),
}))
"""


@pytest.mark.parametrize("precision", ["float32", "float64"])
@pytest.mark.parametrize("variances", [{}, {"mu": 0.02, "sd_log__": 0.05}],
                         ids=["identity", "given-mass-matrix"])
def test_draws_are_numpyros_mcmc_draws(tmp_path, variances, precision):
    """Same potential, starts and seed: the programs reproduce numpyro.infer.MCMC exactly.

    With ``variances`` NumPyro's warm-up starts from that diagonal inverse
    mass matrix (``NUTS(inverse_mass_matrix=...)``), else from the identity.
    In single precision the reference is NumPyro run with JAX's 64-bit mode
    off (the draws, float32, are compared after the program's exact widening
    to float64).
    Run in a fresh process, as a scripted fit runs: JAX not yet started, so
    the chains run in parallel (one XLA host device each), as NumPyro's do.
    Bit-for-bit agreement holds for that mode; one chain after the other
    (JAX started earlier with one device) runs the same transitions through a
    differently fused program, whose rounding differences grow over warm-up.
    """
    import json
    import os
    from pathlib import Path

    env = {**os.environ, "BLINAPK_CACHE_DIR": str(tmp_path)}
    env.pop("XLA_FLAGS", None)
    out = subprocess.run([sys.executable, "-c", _SAME_AS_MCMC, str(Path(__file__).parent),
                          json.dumps(variances), precision],
                         capture_output=True, text=True, check=True, env=env)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["method"] == "parallel"
    assert result["dtype"] == precision
    assert result["mu"] == 0.0
    # log(exp(z)) in float64 returns z to rounding
    assert result["log_sd"] < 1e-12
    assert result["steps_equal"]


def test_chains_one_after_the_other_sample_the_same_posterior(cache):
    """In a process whose JAX started with one device: valid draws of the same posterior."""
    import jax

    jax.devices()  # JAX started: the device count can no longer be raised
    idata, _ = sample_nuts(_model(), _settings(draws=1000, tune=500), initvals=INIT)
    if jax.local_device_count() < 2:
        assert idata.sample_stats.attrs["chain_method"] == "sequential"
    assert int(idata.sample_stats["diverging"].sum()) == 0
    mu = idata.posterior["mu"].values.ravel()
    # flat prior relative to the data: mu's posterior is close to N(mean(y), sd(y)^2 / n)
    assert abs(mu.mean() - Y.mean()) < 4 * Y.std(ddof=1) / np.sqrt(Y.size) / np.sqrt(mu.size / 4)
    assert 0.8 < mu.std() / (Y.std(ddof=1) / np.sqrt(Y.size)) < 1.25


def test_second_fit_loads_the_programs_and_draws_the_same(cache):
    model = _model()
    a, ta = sample_nuts(model, _settings(), initvals=INIT, log_likelihood=True)
    assert a.sample_stats.attrs["program"] == "built"
    entries = sorted(p.suffix for p in cache.iterdir())
    assert entries == [".bin", ".json"]
    b, tb = sample_nuts(_model(), _settings(), initvals=INIT, log_likelihood=True)
    assert b.sample_stats.attrs["program"] == "cache"
    for group in ("posterior", "sample_stats", "log_likelihood"):
        for name, var in getattr(a, group).data_vars.items():
            np.testing.assert_array_equal(var.values, getattr(b, group)[name].values,
                                          err_msg=f"{group}.{name}")
    assert tb["compile_s"] < ta["compile_s"]


def test_other_settings_or_data_build_new_programs(cache):
    sample_nuts(_model(), _settings(), initvals=INIT)
    c, _ = sample_nuts(_model(), _settings(draws=200), initvals=INIT)
    assert c.sample_stats.attrs["program"] == "built"
    assert c.posterior.sizes["draw"] == 200
    d, _ = sample_nuts(_model(Y + 1.0), _settings(), initvals=INIT)
    assert d.sample_stats.attrs["program"] == "built"
    assert len(list(cache.glob("*.json"))) == 3


def test_a_damaged_entry_is_rebuilt(cache):
    sample_nuts(_model(), _settings(), initvals=INIT)
    (entry,) = cache.glob("*.bin")
    entry.write_bytes(entry.read_bytes()[:100])
    again, _ = sample_nuts(_model(), _settings(), initvals=INIT)
    assert again.sample_stats.attrs["program"] == "built"
    assert int(again.sample_stats["diverging"].sum()) == 0


def test_cache_off_builds_every_time(monkeypatch):
    monkeypatch.setenv("BLINAPK_CACHE_DIR", "off")
    for _ in range(2):
        idata, _ = sample_nuts(_model(), _settings(draws=50, tune=50), initvals=INIT)
        assert idata.sample_stats.attrs["program"] == "built"


def test_progressbar_run_gives_the_same_draws(cache, capsys):
    quiet, _ = sample_nuts(_model(), _settings(), initvals=INIT)
    shown, _ = sample_nuts(_model(), _settings(progressbar=True), initvals=INIT)
    np.testing.assert_array_equal(quiet.posterior["mu"].values, shown.posterior["mu"].values)


def test_fingerprint_follows_data_and_priors_not_the_process():
    base = graph_fingerprint(_frozen(_model()))
    assert graph_fingerprint(_frozen(_model())) == base
    assert graph_fingerprint(_frozen(_model(Y * 1.0001))) != base
    assert graph_fingerprint(_frozen(_model(prior_sd=5.0))) != base
    code = MODEL_CODE + textwrap.dedent("""
        from blinapk.mcmc.nutsprogram import graph_fingerprint
        print(graph_fingerprint(freeze_dims_and_data(m)))
    """)
    prints = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True).stdout.strip() for _ in range(2)}
    assert len(prints) == 1  # no memory addresses or other per-process state


def test_program_key_covers_the_sampler_settings():
    model = _frozen(_model())
    base = {"tune": 300, "draws": 300, "target_accept": 0.8, "log_likelihood": False}
    key = program_key(model, **base)
    assert program_key(model, **base) == key
    for change in ({"tune": 301}, {"draws": 299}, {"target_accept": 0.9},
                   {"log_likelihood": True}, {"chunk": 100}, {"precision": "float32"}):
        assert program_key(model, **{**base, **change}) != key, change


def test_single_precision_build_keeps_post_in_double_precision():
    """``step`` is float32 throughout; ``post`` stays float64 although traced from the same graph.

    (JAX caches the graph's constants per precision: a float64 trace after a
    float32 one would get the observations rounded to float32.)
    """
    import jax

    from blinapk.mcmc.nutsprogram import _build

    jax.config.update("jax_enable_x64", True)
    model = _frozen(_model())
    program = _build(model, tune=10, draws=20, target_accept=0.8,
                     log_likelihood=True, chunk=25, precision="float32")
    args, _ = jax.tree_util.tree_unflatten(program.step.in_tree, program.step.in_avals)
    assert str(args[1].dtype) == "float32"
    assert "f32" not in program.post.mlir_module()
    point = {"mu": 2.0, "sd_log__": np.log(0.7)}
    z = np.tile([point[v.name] for v in model.value_vars], (20, 1))
    out = jax.jit(program.post.call)(z)
    from scipy.stats import norm

    np.testing.assert_allclose(np.asarray(out[-1])[0], norm.logpdf(Y, 2.0, 0.7), rtol=1e-14)


def test_saving_a_program_keeps_the_folder_under_the_size_limit(monkeypatch, tmp_path):
    from types import SimpleNamespace

    from blinapk.mcmc import nutsprogram

    blob = SimpleNamespace(serialize=lambda: b"x" * 1000)
    program = nutsprogram.ChainProgram(step=blob, post=blob, post_names=("a",),
                                       obs_names=(), chunk=250, source="built")
    monkeypatch.setenv("BLINAPK_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("BLINAPK_CACHE_MAX_MB", "0.003")  # room for one entry of 2 kB
    nutsprogram._save(program, "a" * 64)
    first = sorted(p.name for p in (tmp_path / "nuts-programs").iterdir())
    assert first == ["a" * 64 + ".bin", "a" * 64 + ".json"]
    nutsprogram._save(program, "b" * 64)
    assert sorted(p.name for p in (tmp_path / "nuts-programs").iterdir()) == [
        "b" * 64 + ".bin", "b" * 64 + ".json"]


def test_translation_keeps_constants_in_numpy_and_matches_pymc(caplog):
    import logging

    import jax
    from pymc.sampling.jax import get_jaxified_graph

    from blinapk.mcmc.nutsprogram import _jax_functions

    model = _frozen(_model(y=np.random.default_rng(3).normal(1.0, 0.5, size=17)))
    with jax.log_compiles(), caplog.at_level(logging.WARNING, logger="jax"):
        fn, post_names, obs_names = _jax_functions(model, log_likelihood=True)
    # the data array is a literal of the function, not a device array made by a compile
    assert not [r for r in caplog.records if "XLA compilation" in r.getMessage()]
    assert post_names == ["mu", "sd", "cv"] and obs_names == ["y"]
    point = [np.array(1.3), np.array(np.log(0.6))]
    ours = fn(*point)
    free = list(model.free_RVs)
    terms = model.logp(vars=[*free, *model.observed_RVs], sum=False)
    pymc_fn = get_jaxified_graph(inputs=model.value_vars,
                                 outputs=[sum(t.sum() for t in terms), terms[len(free)]])
    want = pymc_fn(*point)
    np.testing.assert_allclose(float(ours[0]), float(want[0]), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(ours[-1]), np.asarray(want[1]), rtol=1e-12)
    np.testing.assert_allclose(float(ours[3]), 0.6 / 1.3, rtol=1e-12)  # cv


def test_graphs_with_shared_variables_are_translated_by_pymc():
    import pytensor
    import pytensor.tensor as pt

    from blinapk.mcmc.nutsprogram import _jaxify

    x = pt.dscalar("x")
    fn = _jaxify([x], [x * pytensor.shared(np.array([1.0, 2.0]))])
    np.testing.assert_array_equal(np.asarray(fn(np.array(3.0))[0]), [3.0, 6.0])
