"""Write a DataFrame as CSV text, byte for byte as ``DataFrame.to_csv`` would, but vectorised.

``DataFrame.to_csv`` formats every cell as a Python object and hands the rows
to :mod:`csv` one by one: about 2 s per 10^6 rows of six columns. Here each
column is factorised, only its distinct values are formatted (with the same
rules pandas uses: ``ndarray.astype(str)`` for numbers, :func:`str` for
objects, :mod:`csv`'s minimal quoting for text, an empty field for a missing
value), and the rows are assembled with pyarrow's string kernels. Tables this
does not cover (one column, labels that are not text, dates, nested objects,
no pyarrow) are written by ``to_csv`` itself, so the output never depends on
which path ran.

Examples
--------
>>> import io
>>> import pandas as pd
>>> buf = io.StringIO()
>>> frame_to_csv(pd.DataFrame({"ID": [1, 2], "NOTE": ["a,b", None], "DV": [0.1, float("nan")]}),
...              buf)
>>> print(buf.getvalue(), end="")
ID,NOTE,DV
1,"a,b",0.1
2,,
"""

from __future__ import annotations

import csv
import io
from typing import IO

import numpy as np
import pandas as pd

__all__ = ["frame_to_csv"]

#: Rows assembled at a time: bounds the memory of the text and keeps offsets 32-bit.
_CHUNK = 262_144


def _quoted(texts):
    """Each text (pyarrow strings) as :mod:`csv` writes it as one field of a row.

    Only texts holding the separator, a quote or a line-break character can
    need quotes; :mod:`csv` itself decides for those (its rule for a lone
    carriage return differs between Python versions).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    candidates = np.flatnonzero(
        pc.match_substring_regex(texts, '[,"\r\n]').to_numpy(zero_copy_only=False))
    if not candidates.size:
        return texts
    out = texts.to_pylist()
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    for i in candidates:
        buf.seek(0)
        buf.truncate()
        writer.writerow([out[i], ""])  # two fields: a lone empty field would be quoted
        out[i] = buf.getvalue()[:-2]
    return pa.array(out, type=pa.string())


def _object_texts(uniques: np.ndarray) -> list[str] | None:
    """Texts of distinct object values as :mod:`csv` writes them; None for unsupported types."""
    if pd.api.types.infer_dtype(uniques, skipna=False) == "string":
        return list(uniques)
    out = []
    for v in uniques:
        if isinstance(v, str):
            out.append(v)
        elif isinstance(v, bool | int | float) and not isinstance(v, np.generic):
            out.append(repr(v) if isinstance(v, float) else str(v))
        else:
            return None
    return out


def _strings(texts):
    import pyarrow as pa

    return pa.array(texts, type=pa.string())


def _int_texts(values: np.ndarray):
    """Decimal text of integers (pyarrow's cast prints them as ``str`` does)."""
    import pyarrow as pa

    return pa.array(values).cast(pa.string())


def _column(series: pd.Series):
    """Codes (-1 = missing) and the text of each distinct value, or None to fall back."""
    import pyarrow as pa

    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
        values = series.to_numpy()
        if dtype.kind == "f":
            # factorise bit patterns: -0.0 and 0.0 hash alike but print differently
            codes, bits = pd.factorize(values.view(np.dtype(f"i{dtype.itemsize}")))
            codes = np.where(np.isnan(values), -1, codes)
            uniques = bits.view(dtype)
            if dtype == np.float64:
                # repr gives the same shortest round-trip text as numpy's astype(str), faster
                return codes, _strings(list(map(repr, uniques.tolist())))
            return codes, _strings(uniques.astype(str))
        codes, uniques = pd.factorize(values)
        if dtype.kind == "b":
            return codes, _strings(uniques.astype(str))
        return codes, _int_texts(uniques)
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "iu":
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        return codes, _int_texts(uniques.to_numpy(dtype=dtype.numpy_dtype))
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        return codes, _quoted(pa.array(uniques, type=pa.string()))
    if isinstance(dtype, pd.CategoricalDtype):
        codes, uniques = series.cat.codes.to_numpy(), np.asarray(dtype.categories, dtype=object)
    elif isinstance(dtype, pd.StringDtype) or pd.api.types.is_object_dtype(dtype):
        codes, uniques = pd.factorize(series, use_na_sentinel=True)
        uniques = np.asarray(uniques, dtype=object)
    else:
        return None
    texts = _object_texts(uniques)
    return None if texts is None else (codes, _quoted(_strings(texts)))


def _to_csv(frame: pd.DataFrame, fh: IO[str], header: bool) -> None:
    frame.to_csv(fh, index=False, header=header, lineterminator="\n")


def frame_to_csv(frame: pd.DataFrame, fh: IO[str], *, header: bool = True) -> None:
    r"""Write ``frame`` to an open text file as ``frame.to_csv(fh, index=False)`` would.

    Same bytes as ``frame.to_csv(fh, index=False, header=header, lineterminator="\n")``
    (comma separator, ``"`` quoting where needed, empty missing values,
    floats in their shortest round-trip form).

    Parameters
    ----------
    frame : DataFrame
        The table (its index is not written).
    fh : text file
        Open for writing (``newline=""`` for a real file).
    header : bool, default True
        Write the column names first.
    """
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:  # pragma: no cover - a dependency; the slow path stays correct
        _to_csv(frame, fh, header)
        return
    if (frame.shape[1] < 2 or not frame.columns.is_unique
            or not all(isinstance(c, str) for c in frame.columns)):
        _to_csv(frame, fh, header)
        return
    columns = []
    for name in frame.columns:
        col = _column(frame[name])
        if col is None:
            _to_csv(frame, fh, header)
            return
        codes, texts = col
        # the missing value is one more distinct text, the empty field
        table = pa.concat_arrays([texts, pa.array([""], type=pa.string())])
        columns.append((table, np.where(codes < 0, len(texts), codes).astype(np.int64)))
    if header:
        csv.writer(fh, lineterminator="\n").writerow([str(c) for c in frame.columns])
    for start in range(0, len(frame), _CHUNK):
        parts = [pc.take(table, pa.array(codes[start:start + _CHUNK]))
                 for table, codes in columns]
        lines = pc.binary_join_element_wise(*parts, ",")
        fh.write(_text(pc.binary_join_element_wise(lines, "", "\n")))


def _text(lines) -> str:
    """Return the concatenated text of a pyarrow string array without nulls."""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32,
                            count=len(lines) + 1, offset=lines.offset * 4)
    data = lines.buffers()[2]
    return bytes(memoryview(data)[offsets[0]:offsets[-1]]).decode("utf-8")
