"""``blinapk validate DATA.csv``: check a dataset against the contract and summarise it."""

from __future__ import annotations

import argparse
import warnings

from blinapk.commands import DATA_HELP, add_csv_options, csv_options, print_notes

NAME = "validate"
HELP = "Validate a dataset (CSV) against the blinapk data contract and summarise it."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``validate`` arguments.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.
    """
    parser.add_argument("data", help=DATA_HELP)
    for key, example in (("amt", "mg"), ("rate", "mg/day"), ("dv", "ng/mL"), ("time", "day")):
        parser.add_argument(
            f"--units-{key}",
            dest=f"units_{key}",
            metavar="UNIT",
            help=f"declared {key.upper()} unit (e.g. {example}); overrides the sidecar "
            "<stem>.units.toml",
        )
    parser.add_argument(
        "--dvid",
        action="append",
        default=[],
        metavar="NAME:LLOQ[:LOD]",
        help="register an extra analyte with its limits in the DV unit, e.g. CRP:0.3:0.1 "
        "(repeatable)",
    )
    add_csv_options(parser)


def _parse_dvids(specs: list[str]) -> dict[str, dict[str, float]]:
    from blinapk.errors import DataValidationError, Violation

    out: dict[str, dict[str, float]] = {}
    for spec in specs:
        parts = spec.split(":")
        try:
            if len(parts) not in (2, 3):
                raise ValueError(spec)
            out[parts[0]] = {"lloq": float(parts[1])}
            if len(parts) == 3:
                out[parts[0]]["lod"] = float(parts[2])
        except ValueError:
            raise DataValidationError(
                [Violation("dvid_registry", "DVID", (), f"--dvid {spec!r}: use NAME:LLOQ[:LOD]")]
            ) from None
    return out


def run(args: argparse.Namespace) -> int:
    """Validate ``args.data`` and print a summary.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 when the dataset is valid. An invalid dataset raises
        :class:`~blinapk.errors.DataValidationError`, which the CLI reports
        (every violation) with exit code 2.
    """
    from blinapk.data import read_dataset

    units = {
        k: getattr(args, f"units_{k}")
        for k in ("amt", "rate", "dv", "time")
        if getattr(args, f"units_{k}", None)
    }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = read_dataset(args.data, units=units or None, dvids=_parse_dvids(args.dvid),
                          **csv_options(args))
    f = ds.frame
    print(f"{ds.source}: valid")
    print_notes(ds, indent="  ")
    if len(ds.skipped):
        rows = ds.skipped.to_frame()["ROW"].tolist()
        shown = ", ".join(str(r) for r in rows[:10]) + (" ..." if len(rows) > 10 else "")
        print(f"  rows skipped as comments ({len(rows)}): {shown}")
    n_dose = int((f["EVID"] == 1).sum())
    print(f"  rows: {ds.n_rows}  subjects: {len(ds.subjects)}  dose rows: {n_dose}")
    print(f"  declared units: {ds.declared_units}")
    print(f"  internal units: {ds.units}")
    summary = ds.summary()
    if len(summary):
        print("  observations per DVID:")
        print("    " + summary.to_string(index=False).replace("\n", "\n    "))
    else:
        print("  observations: none")
    lonely = ds.subjects_without_observations
    if lonely:
        shown = ", ".join(repr(x) for x in lonely[:10]) + (" ..." if len(lonely) > 10 else "")
        print(f"  subjects with doses but no observations ({len(lonely)}): {shown}")
    for w in caught:
        print(f"  warning: {w.message}")
    return 0
