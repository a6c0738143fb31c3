"""Read, validate and write the blinapk dataset (docs/data_format.md, docs/data.md).

Public API: :func:`read_dataset`, :func:`write_dataset`, :func:`validate_frame`,
:class:`Dataset`, :class:`RowLedger` and :data:`RULES` (the validation rules).
Clinical tables (docs/clinical_data.md): :func:`read_clinical`,
:func:`write_clinical`, :func:`validate_clinical`, :class:`ClinicalData`,
:class:`ClinicalLedger`, :data:`CLINICAL_RULES` and :data:`CROSS_RULES`.
"""

from blinapk.data.assays import SEED_ASSAYS, AssayLimits
from blinapk.data.clinical import ClinicalData
from blinapk.data.clinical_io import read_clinical, validate_clinical, write_clinical
from blinapk.data.clinical_rules import CLINICAL_RULES, CROSS_RULES
from blinapk.data.dataset import Dataset
from blinapk.data.ledger import ClinicalLedger, RowLedger
from blinapk.data.reader import read_dataset, validate_frame
from blinapk.data.rules import RULES, Rule
from blinapk.data.writer import write_dataset

__all__ = [
    "CLINICAL_RULES",
    "CROSS_RULES",
    "RULES",
    "SEED_ASSAYS",
    "AssayLimits",
    "ClinicalData",
    "ClinicalLedger",
    "Dataset",
    "Rule",
    "RowLedger",
    "read_clinical",
    "read_dataset",
    "validate_clinical",
    "validate_frame",
    "write_clinical",
    "write_dataset",
]
