"""Turn a file on disk into header names and CSV bytes, or say clearly why not.

What users actually hand to a CSV reader: files that do not exist, Excel
workbooks renamed ``.csv``, UTF-16 exports, semicolon-separated files with
decimal commas, NONMEM comment records. This module recognises each of them
and either reads it (UTF-16 with a byte-order mark, comment records) or
raises a :class:`~blinapk.errors.DataValidationError` whose message says
what to do. Nothing here knows the dataset contract.
"""

from __future__ import annotations

import codecs
import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from blinapk.errors import DataValidationError, Violation

__all__ = ["CsvOptions", "Source", "read_source"]

_SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)  # fmt: skip
_ZIP = b"PK\x03\x04"
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_NUMBERISH = re.compile(r"^\s*[+-]?(\d+([.,]\d*)?|\.\d+|\.)\s*$")


@dataclass(frozen=True)
class CsvOptions:
    """How a CSV file is written.

    Parameters
    ----------
    sep : str
        Field separator (``","``; ``";"`` for files written with a decimal comma).
    decimal : str
        Decimal mark of numbers (``"."`` or ``","``).
    encoding : str or None
        Text encoding; None reads UTF-8 (with or without byte-order mark) and
        UTF-16/32 with a byte-order mark.
    """

    sep: str = ","
    decimal: str = "."
    encoding: str | None = None


@dataclass(frozen=True)
class Source:
    """A CSV file split into what the parser needs.

    Attributes
    ----------
    names : list of str
        Header fields as written (a leading ``#`` removed).
    data : bytes
        UTF-8 text handed to the CSV parser: the header line, then data lines.
    rows : ndarray or None
        Source row number of each parsed data line, or None when they are
        ``1..n`` (no comment record was removed).
    line_of : ndarray or None
        File line number of each line of ``data`` (1-based), when lines were removed.
    skipped : tuple of (int, str, str)
        ``(row, first field, reason)`` of each comment record removed.
    notes : tuple of str
        What was done that a user should know (encoding, comment lines).
    """

    names: list[str]
    data: bytes
    rows: np.ndarray | None = None
    line_of: np.ndarray | None = None
    skipped: tuple[tuple[int, str, str], ...] = ()
    notes: tuple[str, ...] = ()


def _fail(rule: str, message: str) -> DataValidationError:
    return DataValidationError([Violation(rule, None, (), message)])


def _check_path(path: Path) -> None:
    if not path.exists():
        where = path.parent if str(path.parent) not in ("", ".") else Path.cwd()
        raise _fail("file_not_found", f"no such file: {path} (looked in {where.resolve()})")
    if path.is_dir():
        raise _fail("file_not_found", f"{path} is a directory, not a CSV file")


def _decode(raw: bytes, name: str, encoding: str | None) -> tuple[bytes, str]:
    """UTF-8 bytes of ``raw`` and a note on the encoding read (``""`` for UTF-8)."""
    if raw.startswith(_ZIP):
        raise _fail("not_csv", f"{name} is an Excel workbook (.xlsx) or another zip archive, not a "
                    "CSV text file: save it from Excel with File > Save As > 'CSV UTF-8 (comma "
                    "delimited)', or read it with pandas.read_excel and pass the DataFrame")
    if raw.startswith(_OLE2):
        raise _fail("not_csv", f"{name} is a legacy Excel workbook (.xls), not a CSV text file: "
                    "save it from Excel with File > Save As > 'CSV UTF-8 (comma delimited)', or "
                    "read it with pandas.read_excel and pass the DataFrame")
    if encoding is None:
        for bom, enc in _BOMS:
            if raw.startswith(bom):
                return raw.decode(enc).encode("utf-8"), f"read as {enc.upper()} (byte-order mark)"
        head = raw[:4096]
        if head.count(b"\x00") > len(head) // 4:
            raise _fail("not_csv", f"{name} holds NUL bytes: UTF-16 text without a byte-order "
                        "mark, or a binary file. Save it as CSV UTF-8, or pass "
                        "encoding='utf-16-le' (command line: --encoding utf-16-le)")
        encoding = "utf-8-sig"
    try:
        text = raw.decode(encoding)
    except LookupError:
        raise _fail("csv_parse", f"unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        byte = raw[exc.start : exc.start + 1].hex()
        raise _fail("csv_parse", f"{name} is not {encoding.replace('-sig', '').upper()} text "
                    f"(byte 0x{byte} on line {line}): save it as CSV UTF-8, or pass its "
                    "encoding, e.g. encoding='latin-1' (command line: --encoding latin-1)"
                    ) from exc
    if "\x00" in text:
        raise _fail("not_csv", f"{name} holds NUL characters: not a CSV text file")
    if encoding.replace("_", "-").lower() in ("utf-8", "utf-8-sig", "utf8"):
        return raw, ""  # already UTF-8: no second copy of a large file
    return text.encode("utf-8"), f"read as {encoding}"


def _fields(line: str, sep: str) -> list[str]:
    try:
        return next(csv.reader([line], delimiter=sep), [])
    except csv.Error as exc:
        raise _fail("csv_parse", f"cannot parse the line {line[:60]!r}: {exc}") from None


def _separator_problem(names: list[str], header: str, sep: str) -> str | None:
    if len(names) != 1:
        return None
    for cand, word in _SEPARATORS.items():
        if cand != sep and cand in header:
            given = _SEPARATORS.get(sep, repr(sep))
            return (f"the header is one single field {header.strip()[:60]!r}: the file looks "
                    f"{word}-separated, not {given}-separated; pass sep={cand!r} (command line: "
                    f"--sep {cand!r})" + (" and, for decimal commas, decimal=','"
                                          if cand == ";" else ""))
    return None


def _is_comment(first: str, c_column: bool) -> str:
    """Reason a record is a comment, from its first field ("" = data).

    ``#`` always starts a comment (NONMEM's default ``IGNORE=#``); ``C`` does
    only when the first column is NONMEM's comment column ``C``, because
    ``C`` may be a subject ID otherwise.
    """
    text = first.strip().strip('"').strip()
    if text.startswith("#"):
        return "comment record (#)"
    if c_column and text[:1] in ("C", "c"):
        return "comment record (C column)"
    return ""


def read_source(path: Path, options: CsvOptions, *, comments: bool) -> Source:
    """Read ``path`` and return its header and the bytes to parse.

    Parameters
    ----------
    path : Path
        The CSV file.
    options : CsvOptions
        Separator, decimal mark and encoding.
    comments : bool
        Honour NONMEM comment records: a data line whose first field starts
        with ``#``, or with ``C`` when the first column is the comment column
        ``C``, is skipped (and reported); ``#`` lines before the header are
        skipped, and a header written as ``#ID,TIME,...`` is read.

    Returns
    -------
    Source

    Raises
    ------
    DataValidationError
        ``file_not_found``, ``not_csv`` (Excel, binary, UTF-16 without
        byte-order mark), ``csv_parse`` (wrong encoding) or ``csv_separator``
        (another separator than the one given).
    """
    for what, value in (("sep", options.sep), ("decimal", options.decimal)):
        if not isinstance(value, str) or len(value) != 1 or value in "\r\n\"":
            raise _fail("csv_parse", f"{what} must be one character (e.g. ',', ';' or a tab), "
                        f"got {value!r}")
    if options.sep == options.decimal:
        raise _fail("csv_parse", f"sep and decimal are both {options.sep!r}: a file with "
                    "decimal commas separates its fields with ';'")
    _check_path(path)
    data, enc_note = _decode(path.read_bytes(), path.name, options.encoding)
    notes = [enc_note] if enc_note else []
    if b"\r" in data and b"\n" not in data:  # classic Mac line ends
        data = data.replace(b"\r", b"\n")
    sep = options.sep
    end = data.find(b"\n")
    first = (data if end < 0 else data[:end]).decode("utf-8").lstrip("\ufeff").rstrip("\r")
    names = _fields(first, sep) if first.strip() else []
    c_column = bool(names) and names[0].strip().upper() == "C"
    if not comments or (b"#" not in data and not c_column):
        problem = _separator_problem(names, first, sep)
        if problem:
            raise _fail("csv_separator", problem)
        return Source(names, data, notes=tuple(notes))
    return _with_comments(data, sep, notes)


def _with_comments(data: bytes, sep: str, notes: list[str]) -> Source:
    lines = data.decode("utf-8").lstrip("\ufeff").split("\n")
    i = 0
    while i < len(lines) and lines[i].lstrip().startswith("#"):
        i += 1
    header_at = i
    if i > 0 and (i == len(lines) or _NUMBERISH.match(_fields(lines[i], sep)[0]
                                                      if lines[i].strip() else "x")):
        header_at = i - 1  # the last '#' line is the header: "#ID,TIME,EVID,..."
    if header_at > 0:
        notes.append(f"{header_at} comment line(s) before the header skipped")
    header = lines[header_at].rstrip("\r") if header_at < len(lines) else ""
    header = header.lstrip().removeprefix("#") if header.lstrip().startswith("#") else header
    names = _fields(header, sep) if header.strip() else []
    problem = _separator_problem(names, header, sep)
    if problem:
        raise _fail("csv_separator", problem)
    c_column = bool(names) and names[0].strip().upper() == "C"
    kept, line_of, rows, skipped = [header], [header_at + 1], [], []
    row = 0
    for n, line in enumerate(lines[header_at + 1:], start=header_at + 2):
        if not line.strip():
            continue
        row += 1
        fields = _fields(line.rstrip("\r"), sep)
        why = _is_comment(fields[0] if fields else "", c_column)
        if why:
            skipped.append((row, fields[0].strip() if fields else "", why))
            continue
        kept.append(line)
        line_of.append(n)
        rows.append(row)
    if skipped:
        notes.append(f"{len(skipped)} comment record(s) skipped")
    return Source(names, "\n".join(kept).encode("utf-8") + b"\n",
                  np.asarray(rows, dtype=np.int64), np.asarray(line_of, dtype=np.int64),
                  tuple(skipped), tuple(notes))
