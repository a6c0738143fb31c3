"""Diagnostics to files, and ``blinapk diagnose`` on a stored fit."""

from __future__ import annotations

import re

import pandas as pd

from blinapk.diagnostics import PREDICTION_COLUMNS
from blinapk.report import (
    DIAGNOSTICS_OUTPUTS,
    diagnostics_markdown,
    diagnostics_text,
    write_diagnostics,
)


def test_write_diagnostics_writes_every_file(example_diagnostics, tmp_path):
    paths = write_diagnostics(example_diagnostics, tmp_path / "out")
    names = [p.name for p in paths.values()]
    assert names == list(DIAGNOSTICS_OUTPUTS)
    assert all(p.stat().st_size > 0 for p in paths.values())
    table = pd.read_csv(paths["predictions"])
    assert list(table.columns) == [*PREDICTION_COLUMNS, "ELPD", "PARETO_K"]
    assert len(table) == len(example_diagnostics.predictions)
    tests = pd.read_csv(paths["npde_tests"])
    assert tests["TEST"].tolist() == ["mean", "variance", "normality", "global"]
    assert pd.read_csv(paths["pareto_k"])["COUNT"].sum() == len(table)
    assert pd.read_csv(paths["loo"])["QUANTITY"].iloc[0] == "elpd_loo"
    pdf = paths["individual_fits"].read_bytes()
    n_sub = len(example_diagnostics.individual.subjects)
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == -(-n_sub // 6)  # 6 a page
    md = diagnostics_markdown(example_diagnostics)
    for heading in ("# Model qualification (1cmt, nuts)", "## NPDE tests", "## Eta shrinkage",
                    "## PSIS-LOO", "## VPC"):
        assert heading in md
    text = diagnostics_text(example_diagnostics, paths)
    assert text.startswith("NPDE: mean") and "PSIS-LOO: elpd_loo" in text
    assert "gof" in text


def test_tables_only(example_diagnostics, tmp_path):
    paths = write_diagnostics(example_diagnostics, tmp_path, figures=False)
    assert not any(p.suffix in (".png", ".pdf") for p in paths.values())


def test_cli_diagnose_reloads_a_fit(example_fit, tmp_path, capsys):
    from blinapk.cli import main
    from blinapk.data import read_dataset, write_dataset
    from blinapk.poppk import load_fit

    ds, result = example_fit
    data = write_dataset(ds, tmp_path / "data.csv")
    fit_path = result.save(tmp_path / "fit.nc")
    assert load_fit(fit_path, read_dataset(data)).data_hash == result.data_hash
    out = tmp_path / "diag"
    code = main(["diagnose", str(fit_path), str(data), "--out", str(out), "--n-sim", "100",
                 "--stratify", "SEX", "--no-figures"])
    assert code == 0
    for name in ("predictions.csv", "npde_tests.csv", "vpc.csv", "loo.csv", "pareto_k.csv",
                 "diagnostics.md"):
        assert (out / name).exists(), name
    assert set(pd.read_csv(out / "vpc.csv")["STRATUM"]) == {"F", "M"}
    assert "NPDE: mean" in capsys.readouterr().out
    other = tmp_path / "other.csv"
    frame = ds.frame.copy()
    frame.loc[frame["EVID"] == 1, "AMT"] *= 2
    write_dataset(read_dataset(frame), other)
    assert main(["diagnose", str(fit_path), str(other), "--out", str(out)]) == 2
    assert "hash" in capsys.readouterr().err
