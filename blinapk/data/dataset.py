"""The validated, frozen :class:`Dataset` returned by :func:`blinapk.data.read_dataset`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from blinapk.data.assays import AssayLimits
from blinapk.data.ledger import RowLedger
from blinapk.errors import DataValidationError, Violation
from blinapk.units import INTERNAL_UNITS, Units

__all__ = ["CANONICAL_ORDER", "Dataset", "frame_hash"]

#: Column order of ``Dataset.frame``; other columns follow in source order.
CANONICAL_ORDER: tuple[str, ...] = (
    "ROW", "ID", "TIME", "EVID", "AMT", "RATE", "DV", "MDV", "DVID", "LLOQ", "LOD", "CENS",
)  # fmt: skip


def frame_hash(frame: pd.DataFrame) -> str:
    r"""Return the sha256 of a canonical serialisation of ``frame``.

    The serialisation is independent of the pandas version and of memory
    layout: a version tag, then per column its name, a type tag (``f`` float64,
    ``i`` int64, ``b`` bool, ``s`` text) and its values (little-endian float64
    with ``-0.0`` folded to ``0.0`` and one canonical NaN; int64; UTF-8 text
    joined by ``\\x1e`` with missing as ``\\x00``). Row order and column order
    matter; the index does not.

    Parameters
    ----------
    frame : DataFrame
        Table to hash.

    Returns
    -------
    str
        Hex digest.
    """
    h = hashlib.sha256(b"blinapk-dataset-v1\n")
    h.update(f"{len(frame)}\n".encode())
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_bool_dtype(s.dtype):
            tag, payload = "b", s.to_numpy(dtype=np.int8).tobytes()
        elif pd.api.types.is_integer_dtype(s.dtype):
            tag, payload = "i", s.to_numpy(dtype="<i8").tobytes()
        elif pd.api.types.is_float_dtype(s.dtype):
            v = s.to_numpy(dtype="<f8") + 0.0
            v[np.isnan(v)] = np.nan
            tag, payload = "f", v.tobytes()
        else:
            obj = s.astype(object).where(s.notna(), "\x00").to_numpy()
            tag, payload = "s", "\x1e".join(map(str, obj)).encode("utf-8", "surrogatepass")
        h.update(f"{col}\x1f{tag}\x1f{len(payload)}\n".encode())
        h.update(payload)
    return h.hexdigest()


@dataclass(frozen=True, eq=False)
class Dataset:
    """A validated dataset in internal units (TIME h, AMT ug, RATE ug/h, DV pg/mL).

    Built by :func:`blinapk.data.read_dataset`; do not construct it directly.
    Every accessor returns a copy, so a Dataset cannot be changed after
    reading. See docs/design.md for the exact contract of :attr:`frame`.

    Parameters
    ----------
    _frame : DataFrame
        The validated, sorted table (private; use :attr:`frame`).
    declared_units : Units
        Units the source was declared in (converted to :attr:`units` on reading).
    dvids : Mapping[str, AssayLimits]
        Known analytes with their default limits, in pg/mL.
    source : str
        Where the data came from (file path or ``"<DataFrame>"``).
    skipped : RowLedger
        Source rows left out on reading, each with its reason: NONMEM comment
        records (a first field ``#`` or ``C``, or ``C`` in a ``C`` column).
    notes : tuple of str
        What the reader did that a user should know: the ADaM column mapping,
        comment records skipped, ADDL/II doses written out, the encoding read.
    """

    _frame: pd.DataFrame = field(repr=False)
    declared_units: Units = INTERNAL_UNITS
    dvids: Mapping[str, AssayLimits] = field(default_factory=dict, repr=False)
    source: str = "<DataFrame>"
    skipped: RowLedger = field(default_factory=RowLedger.empty, repr=False)
    notes: tuple[str, ...] = ()

    @property
    def frame(self) -> pd.DataFrame:
        """The validated table (a copy; changing it does not change the Dataset)."""
        return self._frame.copy(deep=False)

    @property
    def units(self) -> Units:
        """Units of :attr:`frame` (always the internal units)."""
        return INTERNAL_UNITS

    @property
    def n_rows(self) -> int:
        """Number of rows."""
        return len(self._frame)

    @cached_property
    def subjects(self) -> tuple:
        """Subject IDs in first-appearance order."""
        return tuple(pd.unique(self._frame["ID"]).tolist())

    @cached_property
    def hash(self) -> str:
        """sha256 of the canonical serialisation of :attr:`frame` (see :func:`frame_hash`)."""
        return frame_hash(self._frame)

    @cached_property
    def subjects_without_observations(self) -> tuple:
        """Subjects with dose records but no observation row (valid: simulation input)."""
        f = self._frame
        has_obs = (f["EVID"] == 0).groupby(f["ID"].to_numpy(), sort=False).any()
        return tuple(x for x in self.subjects if not has_obs.get(x, False))

    def observations(self, dvid: str | None = "BLIN") -> pd.DataFrame:
        """Observation rows (``EVID == 0``), including ``MDV == 1`` rows.

        Parameters
        ----------
        dvid : str or None
            Analyte to keep (case-insensitive); None keeps every analyte.

        Returns
        -------
        DataFrame
            A copy, in dataset order, with the dataset's index.

        Raises
        ------
        DataValidationError
            If ``dvid`` is not a known analyte of this dataset.
        """
        f = self._frame
        mask = f["EVID"] == 0
        if dvid is not None:
            key = str(dvid).strip().upper()
            if key not in self.dvids:
                raise DataValidationError(
                    [Violation("unknown_dvid", "DVID", (), f"unknown DVID {dvid!r}; "
                               f"known: {sorted(self.dvids)}")]
                )
            mask &= f["DVID"] == key
        return f.loc[mask].copy()

    def doses(self) -> pd.DataFrame:
        """Dose rows (``EVID == 1``), a copy in dataset order."""
        return self._frame.loc[self._frame["EVID"] == 1].copy()

    def covariates(self, names: str | Iterable[str]) -> pd.DataFrame:
        """One row per subject with the first non-missing value of each covariate.

        Time-varying covariates stay available, row by row, in :attr:`frame`.

        Parameters
        ----------
        names : str or iterable of str
            Covariate columns (case-insensitive), e.g. ``["BSA", "WT"]``.

        Returns
        -------
        DataFrame
            Columns ``ID`` and ``names``, one row per subject in :attr:`subjects` order.

        Raises
        ------
        DataValidationError
            If a column is absent (rule ``missing_column``).
        """
        cols = [names] if isinstance(names, str) else list(names)
        cols = [str(c).strip().upper() for c in cols]
        missing = [c for c in cols if c not in self._frame.columns]
        if missing:
            raise DataValidationError(
                [Violation("missing_column", c, (), f"no covariate column {c}") for c in missing]
            )
        out = self._frame.groupby("ID", sort=False)[cols].first().reset_index()
        return out

    def summary(self) -> pd.DataFrame:
        """Count, per analyte, subjects, observations, missing (MDV 1) and censored rows.

        Returns
        -------
        DataFrame
            One row per DVID present among observations, columns
            ``DVID, N_SUBJECTS, N_OBS, N_MDV, N_CENSORED, LLOQ_MIN, LLOQ_MAX`` (pg/mL).
        """
        obs = self._frame.loc[self._frame["EVID"] == 0]
        g = obs.groupby("DVID", sort=True)
        out = pd.DataFrame(
            {
                "N_SUBJECTS": g["ID"].nunique(),
                "N_OBS": g.size(),
                "N_MDV": g["MDV"].sum(),
                "N_CENSORED": (obs["CENS"] * (1 - obs["MDV"])).groupby(obs["DVID"]).sum(),
                "LLOQ_MIN": g["LLOQ"].min(),
                "LLOQ_MAX": g["LLOQ"].max(),
            }
        )
        return out.rename_axis("DVID").reset_index()

    def __repr__(self) -> str:
        return (
            f"Dataset({self.n_rows} rows, {len(self.subjects)} subjects, "
            f"declared units: {self.declared_units}, source={self.source!r})"
        )
