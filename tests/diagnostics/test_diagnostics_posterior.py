"""Predictions from posterior draws: the segment and per-observation paths agree with pk."""

from __future__ import annotations

import numpy as np
from diagnostics_helpers import simulate

from blinapk.data import read_dataset
from blinapk.diagnostics.posterior import predict
from blinapk.pk import predict_conc
from blinapk.poppk import PopPKSpec, prepare_data


def test_predict_matches_pk_with_and_without_time_varying_shifts():
    data = prepare_data(read_dataset(simulate(5, 1)), PopPKSpec())
    rng = np.random.default_rng(0)
    params = {"CL": rng.uniform(1, 3, (3, 5)), "V": rng.uniform(2, 6, (3, 5))}
    plain = predict(params, data, "1cmt")
    for d in range(3):
        expected = predict_conc(data.time, data.subject_index, data.doses,
                                {p: v[d] for p, v in params.items()})
        np.testing.assert_allclose(plain[d], expected, rtol=1e-10)
    zero = {"CL": np.zeros((3, data.n_obs))}
    np.testing.assert_allclose(predict(params, data, "1cmt", shift=zero), plain, rtol=1e-9)
    shift = {"CL": rng.normal(0, 0.3, (3, data.n_obs))}
    shifted = predict(params, data, "1cmt", shift=shift)
    per_obs = {"CL": params["CL"][1][data.subject_index] * np.exp(shift["CL"][1]),
               "V": params["V"][1][data.subject_index]}
    expected = predict_conc(data.time, np.arange(data.n_obs), data.doses_per_observation(),
                            per_obs, per_observation=True)
    np.testing.assert_allclose(shifted[1], expected, rtol=1e-9)


def test_predict_on_a_grid_of_other_times():
    data = prepare_data(read_dataset(simulate(2, 1)), PopPKSpec())
    params = {"CL": np.full((1, 2), 2.0), "V": np.full((1, 2), 4.0)}
    times = np.array([0.0, 12.0, 24.0, 48.0])
    out = predict(params, data, "1cmt", times=np.r_[times, times],
                  subject_index=np.repeat([0, 1], 4))
    assert out.shape == (1, 8)
    assert out[0, 0] == 0.0 and out[0, 2] > out[0, 1] > 0 and out[0, 3] < out[0, 2]


def test_time_varying_covariate_shifts_each_observation(example_fit):
    import dataclasses

    from blinapk.diagnostics.posterior import fit_data, posterior_sample

    ds, result = example_fit
    data = fit_data(result, ds)
    grown = data.cov_obs["BSA"] * np.linspace(1.0, 1.2, data.n_obs)
    varying = dataclasses.replace(data, cov_obs={"BSA": grown}, time_varying=("BSA",))
    sample = posterior_sample(result, varying, np.array([0, 5, 9]))
    beta = result.idata.posterior["beta_CL_BSA"].values.reshape(-1)[[0, 5, 9]]
    expected = beta[:, None] * np.log(grown / data.cov_subject["BSA"][data.subject_index])
    np.testing.assert_allclose(sample.shift["CL"], expected, rtol=1e-10, atol=1e-12)
    assert set(sample.shift) == {"CL"}
    # population parameters are the individual ones without the random effects
    eta = result.idata.posterior["eta"].sel(eta_param="CL").values.reshape(-1, data.n_subjects)
    np.testing.assert_allclose(np.log(sample.indiv["CL"] / sample.pop["CL"]), eta[[0, 5, 9]],
                               rtol=1e-8, atol=1e-10)
