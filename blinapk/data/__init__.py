"""Read, validate and write the blinapk dataset (docs/data_format.md, docs/data.md).

Public API: :func:`read_dataset`, :func:`write_dataset`, :func:`validate_frame`,
:class:`Dataset`, :class:`RowLedger` and :data:`RULES` (the validation rules).
"""

from blinapk.data.assays import SEED_ASSAYS, AssayLimits
from blinapk.data.dataset import Dataset
from blinapk.data.ledger import RowLedger
from blinapk.data.reader import read_dataset, validate_frame
from blinapk.data.rules import RULES, Rule
from blinapk.data.writer import write_dataset

__all__ = [
    "RULES",
    "SEED_ASSAYS",
    "AssayLimits",
    "Dataset",
    "Rule",
    "RowLedger",
    "read_dataset",
    "validate_frame",
    "write_dataset",
]
