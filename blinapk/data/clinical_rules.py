"""Validation rules of the clinical tables, as data.

Per-table rules are :class:`~blinapk.data.Rule` objects, the same kind as the
event table's (``check(prepared)``, skipped when a needed column is absent);
:data:`CLINICAL_RULES` maps each table to its rules. Rules that compare tables
are :class:`CrossRule` objects in :data:`CROSS_RULES`, run when the tables and
columns they need were given. Every violation is tagged with the table whose
rows it names (:class:`~blinapk.data.clinical_schema.ClinicalViolation`) and
the reader raises them all together. Missing cells are "not done / not
known": only given values are range-checked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from blinapk.data._load import Prepared
from blinapk.data.clinical_schema import (
    ADVERSE_EVENTS,
    ASSESSMENTS,
    SUBJECTS,
    TABLES,
    ClinicalViolation,
    TableSchema,
)
from blinapk.data.rules import (
    _SHOW,
    Rule,
    _check_duplicate_row,
    _check_non_finite,
    _check_non_numeric,
    _never_missing,
    _plain,
    _required,
    _rows,
    _table_issue,
    _violation,
    run_rules,
)
from blinapk.errors import Violation

__all__ = ["CLINICAL_RULES", "CROSS_RULES", "DEATH_CAUSES", "CrossRule", "run_clinical_rules"]

#: Allowed values of ``DEATH_CAUSE`` (read case-insensitively, stored lower-case).
DEATH_CAUSES: tuple[str, ...] = ("progression", "other")


def _shown(f: pd.DataFrame, mask, describe: Callable[[dict], str]) -> str:
    sel = f.loc[np.asarray(mask, dtype=bool)].sort_values("ROW").head(_SHOW)
    # records, not iterrows: a row Series would turn integer IDs into floats
    text = ", ".join(f"row {int(r['ROW'])}: {describe(r)}" for r in sel.to_dict("records"))
    return text + (" ..." if int(np.sum(mask)) > _SHOW else "")


def _id_list(ids: Iterable) -> str:
    ids = list(ids)
    more = f" (+{len(ids) - _SHOW} more)" if len(ids) > _SHOW else ""
    return ", ".join(repr(_plain(x)) for x in ids[:_SHOW]) + more


# --- per-table --------------------------------------------------------------------


def _empty(schema: TableSchema):
    def check(p: Prepared):
        if len(p.frame) == 0 and not (schema.allow_no_rows and p.had_columns):
            what = "header only, no data rows" if p.had_columns else "empty file (no header)"
            yield Violation("empty", None, (), f"no data rows: {what}")

    return check


def _common(schema: TableSchema) -> tuple[Rule, ...]:
    """Return the rules every clinical table shares with the event table."""
    return (
        Rule("empty", "The table has at least one data row (adverse events: a header suffices).",
             _empty(schema)),
        Rule("duplicate_column", "Column names are unique (case-insensitive).",
             _table_issue("duplicate_column")),
        Rule("row_column", "An input ROW column holds unique integers >= 1.",
             _table_issue("row_column")),
        Rule("missing_column", f"Columns {', '.join(schema.required)} are present.",
             _required(schema.required)),
        Rule("non_numeric", "Numeric contract columns hold numbers (or are empty).",
             _check_non_numeric),
        Rule("missing_value", f"{', '.join(schema.never_missing)} are never empty.",
             _never_missing(schema.never_missing)),
        Rule("non_finite", "No numeric value is infinite.", _check_non_finite),
    )  # fmt: skip


def _values(
    name: str, columns: Sequence[str], ok: Callable[[pd.Series], pd.Series], requirement: str
):
    """Check factory: given cells of ``columns`` satisfy ``ok`` (absent columns skipped)."""

    def check(p: Prepared):
        for col in columns:
            if col in p.frame.columns:
                s = p.frame[col]
                bad = s.notna().to_numpy() & ~np.asarray(ok(s), dtype=bool)
                yield from _violation(name, p, col, bad, f"{col} {requirement}")

    return check


def _is_integer(s: pd.Series) -> pd.Series:
    return s == np.floor(s)


def _order(name: str, early: str, late: str, column: str, what: str):
    """Check factory: ``early <= late`` where both are given; ``column`` is reported."""

    def check(p: Prepared):
        f = p.frame
        bad = (f[early] > f[late]).to_numpy()
        if bad.any():
            shown = _shown(f, bad, lambda r: f"{early} {r[early]:g} > {late} {r[late]:g}")
            yield Violation(name, column, _rows(f, bad), f"{what} ({shown})")

    return check


def _check_duplicate_id(p: Prepared):
    ids = p.frame["ID"]
    dup = (ids.notna() & ids.duplicated(keep=False)).to_numpy()
    if dup.any():
        yield Violation(
            "duplicate_id",
            "ID",
            _rows(p.frame, dup),
            f"one row per subject; repeated: {_id_list(pd.unique(ids[dup]))}",
        )


def _check_death_cause(p: Prepared):
    f = p.frame
    day_text = p.non_numeric.get("DEATH_DAY", pd.Series(False, index=f.index)).to_numpy()
    dead, cause = f["DEATH_DAY"].notna().to_numpy(), f["DEATH_CAUSE"].notna().to_numpy()
    yield from _violation(
        "death_cause_pairing",
        p,
        "DEATH_CAUSE",
        dead & ~cause,
        f"DEATH_DAY is given but DEATH_CAUSE is empty (use {' or '.join(DEATH_CAUSES)})",
        False,
    )
    yield from _violation(
        "death_cause_pairing",
        p,
        "DEATH_CAUSE",
        cause & ~dead & ~day_text,
        "DEATH_CAUSE is given but DEATH_DAY is empty",
    )


def _check_duplicate_assessment(p: Prepared):
    f = p.frame
    key = f[["ID", "DAY"]]
    dup = (key.notna().all(axis=1) & key.duplicated(keep=False)).to_numpy()
    if dup.any():
        shown = _shown(f, dup, lambda r: f"ID {_plain(r['ID'])!r} DAY {r['DAY']:g}")
        yield Violation(
            "duplicate_assessment",
            "DAY",
            _rows(f, dup),
            f"two assessments of one subject on the same DAY ({shown})",
        )


_PERCENT = ("is a percentage: 0 to 100", lambda s: s.between(0, 100))
_FLAG = ("must be 0 or 1", lambda s: s.isin([0, 1]))
_NON_NEGATIVE = ("must be >= 0 when given", lambda s: s >= 0)

SUBJECT_RULES: tuple[Rule, ...] = (
    *_common(SUBJECTS),
    Rule("negative", "AGE, BSA and WT are >= 0.",
         _values("negative", ("AGE", "BSA", "WT"), _NON_NEGATIVE[1], _NON_NEGATIVE[0])),
    Rule("percent_range", "BLAST (baseline marrow blasts, %) is within 0-100.",
         _values("percent_range", ("BLAST",), _PERCENT[1], _PERCENT[0])),
    Rule("duplicate_id", "One row per subject.", _check_duplicate_id, ("ID",)),
    Rule("death_cause_values", "DEATH_CAUSE is 'progression' or 'other' (any case).",
         _values("death_cause_values", ("DEATH_CAUSE",), lambda s: s.isin(DEATH_CAUSES),
                 f"must be one of {list(DEATH_CAUSES)} (case-insensitive)"), ("DEATH_CAUSE",)),
    Rule("death_cause_pairing", "DEATH_CAUSE is given exactly when DEATH_DAY is.",
         _check_death_cause, ("DEATH_DAY", "DEATH_CAUSE")),
    Rule("contact_after_death", "LAST_CONTACT_DAY <= DEATH_DAY (equal is allowed).",
         _order("contact_after_death", "LAST_CONTACT_DAY", "DEATH_DAY", "LAST_CONTACT_DAY",
                "last contact (known alive) after death"),
         ("LAST_CONTACT_DAY", "DEATH_DAY")),
    Rule("contact_before_last_dose", "LAST_DOSE_DAY <= LAST_CONTACT_DAY.",
         _order("contact_before_last_dose", "LAST_DOSE_DAY", "LAST_CONTACT_DAY",
                "LAST_CONTACT_DAY", "last contact before the end of the last infusion"),
         ("LAST_DOSE_DAY", "LAST_CONTACT_DAY")),
    Rule("dose_after_death", "LAST_DOSE_DAY <= DEATH_DAY.",
         _order("dose_after_death", "LAST_DOSE_DAY", "DEATH_DAY", "LAST_DOSE_DAY",
                "infusion ending after death"), ("LAST_DOSE_DAY", "DEATH_DAY")),
    Rule("relapse_after_death", "RELAPSE_DAY <= DEATH_DAY.",
         _order("relapse_after_death", "RELAPSE_DAY", "DEATH_DAY", "RELAPSE_DAY",
                "relapse after death"), ("RELAPSE_DAY", "DEATH_DAY")),
    Rule("hsct_after_death", "HSCT_DAY <= DEATH_DAY.",
         _order("hsct_after_death", "HSCT_DAY", "DEATH_DAY", "HSCT_DAY",
                "transplant after death"), ("HSCT_DAY", "DEATH_DAY")),
)  # fmt: skip

ASSESSMENT_RULES: tuple[Rule, ...] = (
    *_common(ASSESSMENTS),
    Rule("cycle_values", "CYCLE is an integer >= 1.",
         _values("cycle_values", ("CYCLE",), lambda s: (s >= 1) & _is_integer(s),
                 "must be an integer >= 1"), ("CYCLE",)),
    Rule("percent_range", "MARROW_BLAST (%) is within 0-100.",
         _values("percent_range", ("MARROW_BLAST",), _PERCENT[1], _PERCENT[0])),
    Rule("flag_values", "CIRC_BLAST and EXTRAMED are 0 or 1.",
         _values("flag_values", ("CIRC_BLAST", "EXTRAMED"), _FLAG[1], _FLAG[0])),
    Rule("negative", "PLT, HGB and ANC are >= 0.",
         _values("negative", ("PLT", "HGB", "ANC"), _NON_NEGATIVE[1], _NON_NEGATIVE[0])),
    Rule("fraction_range", "MRD (a fraction of nucleated cells) is within 0-1.",
         _values("fraction_range", ("MRD",), lambda s: s.between(0, 1),
                 "is a fraction: 0 to 1 (1e-4 = 0.01 %)")),
    Rule("duplicate_assessment", "No two assessments share ID and DAY.",
         _check_duplicate_assessment, ("ID", "DAY")),
)  # fmt: skip

ADVERSE_EVENT_RULES: tuple[Rule, ...] = (
    *_common(ADVERSE_EVENTS),
    Rule("grade_values", "GRADE is an integer 1-5 (CTCAE).",
         _values("grade_values", ("GRADE",), lambda s: s.isin([1, 2, 3, 4, 5]),
                 "must be a CTCAE grade: an integer 1 to 5")),
    Rule("flag_values", "RELATED and SERIOUS are 0 or 1.",
         _values("flag_values", ("RELATED", "SERIOUS"), _FLAG[1], _FLAG[0])),
    Rule("ae_end_before_start", "END_DAY >= START_DAY.",
         _order("ae_end_before_start", "START_DAY", "END_DAY", "END_DAY",
                "adverse event ending before it started"), ("START_DAY", "END_DAY")),
    Rule("duplicate_row", "No two adverse-event rows are identical.", _check_duplicate_row,
         ADVERSE_EVENTS.required),
)  # fmt: skip

#: Per-table rules, by table name, in the order they run.
CLINICAL_RULES: Mapping[str, tuple[Rule, ...]] = {
    "subjects": SUBJECT_RULES,
    "assessments": ASSESSMENT_RULES,
    "adverse_events": ADVERSE_EVENT_RULES,
}


# --- across tables ----------------------------------------------------------------


@dataclass(frozen=True)
class CrossRule:
    """A rule comparing clinical tables.

    Parameters
    ----------
    name : str
        Machine-readable name, used as ``Violation.rule``.
    description : str
        What the rule requires, in one sentence.
    table : str
        The table whose rows the violations name.
    check : callable
        ``check(tables) -> iterable of Violation``, ``tables`` mapping table
        names to loaded tables.
    needs : tuple of str
        ``"table.COLUMN"`` entries; the rule is skipped unless all are present
        (in tables with rows).
    """

    name: str
    description: str
    table: str
    check: Callable[[Mapping[str, Prepared]], Iterable[Violation]]
    needs: tuple[str, ...] = ()

    def __call__(self, tables: Mapping[str, Prepared]) -> list[Violation]:
        """Run the check; skipped when a needed table or column is absent or a table is empty.

        An empty table is already an ``empty`` violation; comparing against it
        would only repeat that as one violation per row of the other tables.
        """
        for need in self.needs:
            table, column = need.split(".")
            frame = tables[table].frame if table in tables else None
            if frame is None or column not in frame.columns or len(frame) == 0:
                return []
        return list(self.check(tables))


def _per_subject(tables: Mapping[str, Prepared], column: str, table: str) -> pd.Series:
    """Map the subjects table's ``column`` onto the rows of ``table`` (NaN when unknown)."""
    s = tables["subjects"].frame
    s = s.loc[s["ID"].notna()].drop_duplicates("ID")
    values = pd.Series(s[column].to_numpy(), index=s["ID"].to_numpy())
    return tables[table].frame["ID"].map(values)


def _unknown_subject(table: str):
    def check(tables: Mapping[str, Prepared]):
        f = tables[table].frame
        bad = (f["ID"].notna() & ~f["ID"].isin(tables["subjects"].frame["ID"].dropna())).to_numpy()
        if bad.any():
            yield Violation(
                "unknown_subject",
                "ID",
                _rows(f, bad),
                f"ID(s) {_id_list(pd.unique(f['ID'][bad]))} are not in the subjects table",
            )

    return check


def _after_death(name: str, table: str, columns: Sequence[str], what: str):
    def check(tables: Mapping[str, Prepared]):
        f = tables[table].frame.assign(_DEATH=_per_subject(tables, "DEATH_DAY", table))
        for col in columns:
            if col in f.columns:
                bad = (f[col] > f["_DEATH"]).to_numpy()
                if bad.any():
                    shown = _shown(
                        f,
                        bad,
                        lambda r, c=col: (
                            f"ID {_plain(r['ID'])!r} {c} {r[c]:g} > DEATH_DAY {r['_DEATH']:g}"
                        ),
                    )
                    yield Violation(name, col, _rows(f, bad), f"{what} ({shown})")

    return check


def _check_contact_before_assessment(tables: Mapping[str, Prepared]):
    a = tables["assessments"].frame
    last_seen = a.groupby("ID")["DAY"].max()
    s = tables["subjects"].frame.assign(_SEEN=lambda d: d["ID"].map(last_seen))
    bad = (s["LAST_CONTACT_DAY"] < s["_SEEN"]).to_numpy()
    if bad.any():
        shown = _shown(
            s,
            bad,
            lambda r: (
                f"ID {_plain(r['ID'])!r} LAST_CONTACT_DAY "
                f"{r['LAST_CONTACT_DAY']:g} < assessment DAY {r['_SEEN']:g}"
            ),
        )
        yield Violation(
            "contact_before_assessment",
            "LAST_CONTACT_DAY",
            _rows(s, bad),
            f"last contact (known alive) before the subject's last assessment ({shown})",
        )


CROSS_RULES: tuple[CrossRule, ...] = (
    CrossRule("unknown_subject", "Every assessment ID is in the subjects table.", "assessments",
              _unknown_subject("assessments"), ("subjects.ID", "assessments.ID")),
    CrossRule("unknown_subject", "Every adverse-event ID is in the subjects table.",
              "adverse_events", _unknown_subject("adverse_events"),
              ("subjects.ID", "adverse_events.ID")),
    CrossRule("assessment_after_death", "No assessment DAY after the subject's DEATH_DAY.",
              "assessments",
              _after_death("assessment_after_death", "assessments", ("DAY",),
                           "assessment after the subject's death"),
              ("subjects.ID", "subjects.DEATH_DAY", "assessments.ID", "assessments.DAY")),
    CrossRule("ae_after_death", "No adverse-event START_DAY or END_DAY after DEATH_DAY.",
              "adverse_events",
              _after_death("ae_after_death", "adverse_events", ("START_DAY", "END_DAY"),
                           "adverse event after the subject's death"),
              ("subjects.ID", "subjects.DEATH_DAY", "adverse_events.ID")),
    CrossRule("contact_before_assessment",
              "LAST_CONTACT_DAY is not before the subject's last assessment DAY.", "subjects",
              _check_contact_before_assessment,
              ("subjects.ID", "subjects.LAST_CONTACT_DAY", "assessments.ID", "assessments.DAY")),
)  # fmt: skip


def run_clinical_rules(tables: Mapping[str, Prepared]) -> list[ClinicalViolation]:
    """Run every per-table rule, then every cross-table rule; return all violations.

    Parameters
    ----------
    tables : mapping of str to Prepared
        The loaded tables that were given, by name (IDs normalised together).

    Returns
    -------
    list of ClinicalViolation
        In table order, then rule order; empty when the tables are valid.
    """
    out = [
        ClinicalViolation.of(v, name)
        for name in TABLES
        if name in tables
        for v in run_rules(tables[name], CLINICAL_RULES[name])
    ]
    out += [ClinicalViolation.of(v, rule.table) for rule in CROSS_RULES for v in rule(tables)]
    return out
