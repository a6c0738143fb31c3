"""fit(): stamping, reproducibility, save/reload checks, MAP/Laplace, errors."""

import json
import warnings

import numpy as np
import pytest

from blinapk._version import __version__
from blinapk.data import read_dataset
from blinapk.errors import BlinapkError, ModelSpecError
from blinapk.poppk import PopPKSpec, fit, load_fit
from blinapk.report import to_markdown


@pytest.fixture(scope="module")
def dataset():
    from poppk_helpers import infusion_frame

    cl = np.array([1.0, 1.5, 2.0, 2.5, 3.0, 8.0])
    frame = infusion_frame(6, cl=cl, sigma=0.2, obs_times=(1.0, 4.0, 24.0, 48.0, 100.0, 130.0))
    return read_dataset(frame)


@pytest.fixture(scope="module")
def nuts_pair(dataset):
    kw = {"draws": 60, "tune": 60, "chains": 2, "seed": 11, "progressbar": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit(dataset, **kw), fit(dataset, **kw)


@pytest.mark.slow
def test_same_seed_identical_draws(nuts_pair):
    a, b = nuts_pair
    for name in ("log_CL", "omega_CL", "indiv"):
        np.testing.assert_array_equal(a.posterior[name].values, b.posterior[name].values)
    assert a.posterior.sizes["chain"] == 2 and a.posterior.sizes["draw"] == 60


@pytest.mark.slow
def test_groups_and_stamp(nuts_pair, dataset):
    f = nuts_pair[0]
    groups = set(f.idata.groups())
    assert {"posterior", "sample_stats", "log_likelihood", "observed_data",
            "constant_data"} <= groups
    assert f.idata.log_likelihood["conc"].shape[-1] == f.idata.observed_data["conc"].size
    attrs = f.posterior.attrs
    assert attrs["blinapk_version"] == __version__
    assert PopPKSpec.from_json(attrs["blinapk_spec"]) == f.spec
    assert json.loads(attrs["blinapk_priors"])["source"] == "default"
    assert attrs["blinapk_data_hash"] == dataset.hash
    assert attrs["blinapk_sampler"] == f.sampler == "numpyro"  # default below 10^4 obs
    assert attrs["blinapk_seed"] == 11
    # six subjects: fewer than 20 inform CL, so NumPyro samples in double precision
    # (blinapk.poppk.parameterisation.auto_precision), and says so
    assert json.loads(attrs["blinapk_settings"])["precision"] == "float64"
    assert f.idata.sample_stats.attrs["precision"] == "float64"
    par = json.loads(attrs["blinapk_parameterisation"])
    assert {p: v["chosen"] for p, v in par.items()} == dict(f.parameterisation)
    assert f.convergence is not None and f.ledger is not None
    assert set(f.timings) >= {"build_s", "sample_s", "total_s"}


@pytest.mark.slow
def test_explicit_precision_overrides_the_automatic_one(dataset):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = fit(dataset, draws=30, tune=30, chains=2, seed=3, progressbar=False,
                precision="float32")
    assert json.loads(f.posterior.attrs["blinapk_settings"])["precision"] == "float32"
    assert f.idata.sample_stats.attrs["precision"] == "float32"
    assert f.posterior["log_CL"].dtype == np.float64  # draws widened, outputs in double


@pytest.mark.slow
def test_save_reload_and_dataset_check(nuts_pair, dataset, tmp_path):
    from poppk_helpers import infusion_frame

    f = nuts_pair[0]
    path = f.save(tmp_path / "sub" / "fit.nc")
    g = load_fit(path, dataset)
    assert g.spec == f.spec and g.priors == f.priors and g.seed == 11
    assert g.parameterisation == f.parameterisation and g.method == "nuts"
    np.testing.assert_array_equal(g.posterior["log_CL"].values, f.posterior["log_CL"].values)
    assert g.ledger.to_frame().equals(f.ledger.to_frame())
    assert g.summary()["MEDIAN"].tolist() == pytest.approx(f.summary()["MEDIAN"].tolist())
    other = read_dataset(infusion_frame(3))
    with pytest.raises(BlinapkError, match="fitted to a dataset with hash"):
        load_fit(path, other)
    assert load_fit(path).ledger is None


def test_reload_refuses_foreign_file(tmp_path):
    import arviz as az

    path = tmp_path / "x.nc"
    az.from_dict(posterior={"a": np.zeros((1, 5))}).to_netcdf(str(path))
    with pytest.raises(BlinapkError, match="not a blinapk population-PK fit"):
        load_fit(path)
    with pytest.raises(BlinapkError, match="no such file"):
        load_fit(tmp_path / "missing.nc")


@pytest.mark.slow
def test_map_and_laplace(dataset):
    m = fit(dataset, method="map", seed=1, progressbar=False)
    assert m.sampler == "scipy" and m.convergence is None
    assert m.posterior.sizes["draw"] == 1
    json.loads(m.posterior.attrs["blinapk_optimiser"])
    tv = m.summary().set_index("PARAMETER")
    # the data were generated with CL 1-8 L/h (geometric mean 2.3), V 6 L
    assert 1.5 < tv.loc["TV_CL", "MEDIAN"] < 3.5
    lap = fit(dataset, method="laplace", draws=200, chains=2, seed=1, progressbar=False)
    assert lap.posterior.sizes["chain"] == 2 and lap.posterior.sizes["draw"] == 200
    s = lap.summary().set_index("PARAMETER")
    assert s.loc["TV_CL", "LOWER"] < tv.loc["TV_CL", "MEDIAN"] < s.loc["TV_CL", "UPPER"]
    assert "| TV_CL |" in to_markdown(lap.summary())


@pytest.mark.parametrize("kwargs, match", [
    ({"sampler": "stan"}, "^sampler"), ({"method": "vi"}, "^method"),
    ({"draws": 0}, "^draws"), ({"nutpie_backend": "cuda"}, "nutpie_backend"),
])
def test_bad_arguments(dataset, kwargs, match):
    with pytest.raises(ModelSpecError, match=match):
        fit(dataset, **kwargs)


@pytest.mark.slow
def test_prior_predictive_respects_censoring(dataset):
    from blinapk.poppk import sample_prior_predictive

    idata = sample_prior_predictive(dataset, draws=50, seed=4)
    again = sample_prior_predictive(dataset, draws=50, seed=4)
    sim = idata.prior_predictive["conc"].values
    np.testing.assert_array_equal(sim, again.prior_predictive["conc"].values)
    cens = idata.constant_data["cens"].values.astype(bool)
    lloq = np.log(idata.constant_data["lloq"].values)
    # censored rows are reported at the (log) LLOQ when the draw falls below it
    assert np.all(sim[..., cens] >= lloq[cens] - 1e-12)
    assert np.isfinite(idata.prior["log_CL"].values).all()


@pytest.mark.slow
def test_fit_gives_the_heap_back_to_the_collector(nuts_pair):
    import gc

    # fit() freezes the objects from before it while it builds and samples
    # (blinapk.mcmc.gcfreeze) and must undo that when it returns
    assert nuts_pair[0].posterior.sizes["draw"] == 60
    assert gc.get_freeze_count() == 0
