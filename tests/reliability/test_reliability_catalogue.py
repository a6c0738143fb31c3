"""Bad input is refused loudly: every catalogue case gets a typed blinapk error naming the
row/column (data) or the key (model cards, specs, priors), or a documented warning.

Never a bare numpy/pandas/pytensor exception, never a silent drop. Every case given as files
is also run through the command line: exit code 2, one message naming the problem, no
traceback, nothing written. The table lives in reliability_cases*.py and is documented in
docs/reliability.md.
"""

from __future__ import annotations

import re
import traceback
import warnings
from pathlib import Path

import pandas as pd
import pytest
from reliability_cases import (
    BASE_CSV,
    CARD_CASES,
    DATA_CASES,
    UNIT_CASES,
    WARNING_CASES,
    base_frame,
    csv,
    frame,
    plus,
)
from reliability_cases_api import (
    DOSING_CASES,
    DOSING_GAPS,
    NCA_CASES,
    PRIOR_CASES,
    SPEC_CASES,
)
from reliability_cases_clinical import CLINICAL_CASES, CLINICAL_WARNINGS
from reliability_cases_files import CLI_CASES, FILE_CASES

from blinapk.cli import main
from blinapk.data import ClinicalData, Dataset, read_dataset
from blinapk.errors import BlinapkError, BlinapkWarning, DataValidationError, Violation

ERROR_CASES = tuple(c for c in (*DATA_CASES, *UNIT_CASES, *CARD_CASES, *SPEC_CASES,
                                *PRIOR_CASES, *DOSING_CASES, *NCA_CASES, *CLINICAL_CASES,
                                *FILE_CASES)
                    if issubclass(c.expect, BlinapkError))
WARN_CASES = tuple(c for c in (*WARNING_CASES, *DOSING_CASES, *CLINICAL_WARNINGS, *FILE_CASES)
                   if issubclass(c.expect, Warning))
ALL = (*ERROR_CASES, *WARN_CASES)
def _on_the_command_line(case) -> bool:
    """A file case whose reading options all exist on the command line."""
    kwargs = getattr(case.call, "kwargs", None)
    if kwargs is None:
        return False
    units = kwargs.get("units", {})
    return set(kwargs) <= {"sep", "decimal", "encoding", "units"} and set(units) <= {
        "amt", "rate", "dv", "time"}


#: Error cases given as files: run through the command line as well.
CSV_CASES = tuple(c for c in ERROR_CASES if _on_the_command_line(c))
CLINICAL_FILE_CASES = tuple(c for c in ERROR_CASES if getattr(c.call, "tables", None)
                            and c.call.tables.get("subjects") is not None
                            and c.call.tables.get("assessments") is not None)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"


def _ids(cases):
    return [c.name for c in cases]


def test_catalogue_is_large_and_unique():
    names = _ids(ALL) + _ids(CLI_CASES)
    assert len(names) == len(set(names))
    assert len(names) >= 200
    # every area is represented
    assert {c.area for c in (*ALL, *CLI_CASES)} >= {
        "data", "units", "card", "spec", "prior", "dosing", "nca", "clinical", "files", "cli"}
    assert len(CSV_CASES) + len(CLINICAL_FILE_CASES) + len(CLI_CASES) >= 100


def _raise_site(exc: BaseException) -> str:
    """File of the frame that raised ``exc`` (innermost)."""
    return traceback.extract_tb(exc.__traceback__)[-1].filename


def _assert_blinapk_error(exc: BaseException, expect: type) -> None:
    assert isinstance(exc, expect), f"{type(exc).__module__}.{type(exc).__name__}: {exc}"
    assert isinstance(exc, BlinapkError)
    # the class is ours, and so is the line that raised it (not numpy/pandas/pytensor internals)
    assert type(exc).__module__ == "blinapk.errors"
    site = Path(_raise_site(exc)).as_posix()
    assert "/blinapk/" in site and "/site-packages/" not in site.split("/blinapk/")[0][-15:], site


@pytest.mark.parametrize("case", ERROR_CASES, ids=_ids(ERROR_CASES))
def test_bad_input_raises_typed_error(case, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a stray RuntimeWarning would be an internal leak
        with pytest.raises(BlinapkError) as info:
            case.call(tmp_path)
    exc = info.value
    _assert_blinapk_error(exc, case.expect)
    text = str(exc)
    for key in case.key:
        assert key in text, (key, text)
    if case.rule is None:
        return
    assert isinstance(exc, DataValidationError)
    found = [v for v in exc.violations if v.rule == case.rule]
    assert found, f"no [{case.rule}] in {text}"
    v = found[0]
    assert isinstance(v, Violation)
    assert v.column == case.column, (v.column, case.column)
    assert v.rows == case.rows, (v.rows, case.rows)
    # the message printed to the user names the rule, the column and the rows
    assert f"[{case.rule}]" in text
    if case.column:
        assert f"column {case.column}" in text
    if case.rows:
        shown = ", ".join(str(r) for r in case.rows[:10])
        assert f"row(s) {shown}" in text


@pytest.mark.parametrize("case", WARN_CASES, ids=_ids(WARN_CASES))
def test_suspicious_input_warns_and_keeps_every_row(case, tmp_path):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        result = case.call(tmp_path)
    cats = [w.category for w in rec]
    assert all(issubclass(c, BlinapkWarning) for c in cats), cats  # nothing from numpy/pandas
    hits = [w for w in rec if issubclass(w.category, case.expect)]
    assert hits, f"no {case.expect.__name__}"
    text = " ".join(str(w.message) for w in hits)
    for key in case.key:
        assert key in text, (key, text)
    if isinstance(result, Dataset):
        # a warning is not a licence to drop: every source row is still there
        # (ROW numbers are the source rows: a dropped row leaves a gap)
        assert sorted(result.frame["ROW"]) == list(range(1, result.n_rows + 1))
        assert result.n_rows >= len(base_frame())
    if isinstance(result, ClinicalData):
        for name in result.tables:
            rows = result.table(name)["ROW"]
            assert sorted(rows) == list(range(1, len(rows) + 1))


@pytest.mark.parametrize("case", DOSING_GAPS, ids=_ids(DOSING_GAPS))
def test_former_gaps_in_dosing_are_typed(case, tmp_path):
    with pytest.raises(BlinapkError) as info:
        case.call(tmp_path)
    _assert_blinapk_error(info.value, case.expect)


# ---------------------------------------------------------- the same files on the command line

def _cli_fails_cleanly(capsys, argv: list[str], needles, out: Path | None) -> str:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse refuses an option before anything runs
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, (code, err)
    assert "Traceback" not in err, err
    assert f"blinapk {argv[0]}: error:" in err, err
    for needle in needles:
        assert needle in err, (needle, err)
    if out is not None:
        assert not out.exists(), f"{out} was written"
    return err


@pytest.mark.parametrize("case", CSV_CASES, ids=_ids(CSV_CASES))
def test_every_data_file_case_fails_cleanly_on_the_command_line(case, tmp_path, capsys):
    path = tmp_path / "data.csv"
    path.write_bytes(case.call.csv_bytes)
    options = []
    for key, value in case.call.kwargs.items():
        if key == "units":
            options += [a for k, v in value.items() for a in (f"--units-{k}", v)]
        else:
            options += [f"--{key}", value]
    needles = [f"[{case.rule}]"] if case.rule else list(case.key)
    _cli_fails_cleanly(capsys, ["validate", str(path), *options], needles, None)
    if "units" in case.call.kwargs:
        return  # options of validate only
    out = tmp_path / "out"
    _cli_fails_cleanly(capsys, ["nca", str(path), "--out", str(out), *options], needles, out)


@pytest.mark.parametrize("case", CLINICAL_FILE_CASES, ids=_ids(CLINICAL_FILE_CASES))
def test_every_clinical_file_case_fails_cleanly_on_the_command_line(case, tmp_path, capsys):
    argv = ["endpoints"]
    for name, text in case.call.tables.items():
        if text is not None:
            (tmp_path / f"{name}.csv").write_text(text, encoding="utf-8")
            argv += [f"--{name.replace('_', '-')}", str(tmp_path / f"{name}.csv")]
    out = tmp_path / "out"
    _cli_fails_cleanly(capsys, [*argv, "--out", str(out), "--no-figures"], [f"[{case.rule}]"],
                       out)


@pytest.mark.parametrize("case", CLI_CASES, ids=_ids(CLI_CASES))
def test_command_line_mistakes_fail_cleanly(case, tmp_path, capsys):
    argv = case.argv(tmp_path)
    _cli_fails_cleanly(capsys, argv, case.key, tmp_path / case.out if case.out else None)


# ---------------------------------------------------------- documented as valid

def test_overlapping_infusions_are_valid_and_add_up(tmp_path):
    # a second bag started while the first runs is valid (not an exact duplicate): rates add
    text = BASE_CSV.replace("1,24,0,0,0,520,0", "1,12,1,28,1.1666666666666667,0,1\n"
                            "1,24,0,0,0,520,0")
    ds = csv(text)(tmp_path)
    assert len(ds.frame) == 7
    assert ds.doses()["TIME"].tolist() == [0.0, 12.0, 0.0]


def test_subject_without_observations_is_valid_and_listed(tmp_path):
    ds = csv(plus("3,0,1,28,1.1666666666666667,0,1"))(tmp_path)
    assert ds.subjects_without_observations == (3,)
    assert len(ds.frame) == 7


@pytest.mark.parametrize("sid", ["123456789012345678901234567890", "Patiënt-ß東京 7"])
def test_huge_and_non_ascii_ids_are_kept_exactly(sid, tmp_path):
    ds = csv(BASE_CSV.replace("\n2,", f"\n{sid},"))(tmp_path)
    assert ds.subjects == ("1", sid)
    assert (ds.frame["ID"] == sid).sum() == 3


def test_ids_that_collide_as_integers_stay_distinct(tmp_path):
    ds = csv(BASE_CSV.replace("\n1,", "\n007,").replace("\n2,", "\n7,"))(tmp_path)
    assert ds.subjects == ("007", "7")


def test_int64_overflowing_ids_do_not_collide(tmp_path):
    big = 2**63  # one past int64: must stay text, not wrap to a negative number
    ds = read_dataset(base_frame().assign(ID=[big] * 3 + [big + 1] * 3))
    assert ds.subjects == (str(big), str(big + 1))


def test_explicit_cens_zero_below_lloq_is_honoured(tmp_path):
    # the lab reported a value below LLOQ as quantified: the user's CENS wins (documented)
    ds = frame(lambda d: d.assign(CENS=0, DV=[0.0, 10, 520, 0, 400, 30]))(tmp_path)
    assert ds.frame.loc[ds.frame["ROW"] == 2, "CENS"].item() == 0


def test_derived_cens_flags_values_below_lloq(tmp_path):
    ds = csv(BASE_CSV)(tmp_path)
    cens = ds.frame.set_index("ROW")["CENS"]
    assert cens[6] == 1 and cens[5] == 0  # 30 < 50 pg/mL seed LLOQ


def test_every_violation_of_a_bad_file_is_reported_at_once(tmp_path):
    text = BASE_CSV.replace("1,2,0,0,0,310,0", "1,2,0,0,0,-310,0").replace(
        "2,6,0,0,0,400,0", "2,6,3,0,0,400,0")
    with pytest.raises(DataValidationError) as info:
        csv(text)(tmp_path)
    got = {(v.rule, v.column, v.rows) for v in info.value.violations}
    assert got == {("negative", "DV", (2,)), ("evid_values", "EVID", (5,))}


def test_user_frame_is_never_mutated():
    df = base_frame().assign(CENS=[1, 0, 0, 0, 0, 0])
    before = df.copy(deep=True)
    with pytest.raises(DataValidationError):
        read_dataset(df)
    pd.testing.assert_frame_equal(df, before)


# ---------------------------------------------------------- the docs list the catalogue

def test_docs_table_lists_every_case():
    text = DOCS.read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z0-9_]+)` \|", text, flags=re.M))
    missing = sorted((set(_ids(ALL)) | set(_ids(CLI_CASES))) - documented)
    assert not missing, f"cases missing from docs/reliability.md: {missing}"
    stale = sorted(documented - set(_ids(ALL)) - set(_ids(CLI_CASES)) - set(_ids(DOSING_GAPS)))
    assert not stale, f"docs/reliability.md lists unknown cases: {stale}"
