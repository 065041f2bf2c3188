"""Bytes of an uploaded file -> a table, with notes on how it was read (encoding, separator, renamed headers).

CSV and TSV are parsed from the bytes (a text copy of a big file would take four bytes a character); the
separator of a .csv is sniffed from its first lines (comma, semicolon, tab or pipe) unless given.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from explorer.errors import InputError
from explorer.ingest.limits import MAX_INPUT_BYTES, MAX_ROWS, check_input_size, check_rows
from explorer.types import TEXT

FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "txt", ".jsonl": "jsonl",
           ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


@dataclass(frozen=True, eq=False)
class TableRead:
    """A parsed file and what the reader decided on the way.

    Attributes:
        table: (rows, columns) the file's cells, column names as text.
        separator: the delimiter used for CSV/TSV (None for other formats).
        encoding: the text encoding used (None for Parquet).
        notes: plain sentences about choices the user may want to know (Latin-1, a sniffed separator, renamed
            duplicate headers).
    """

    table: pd.DataFrame
    separator: str | None = None
    encoding: str | None = None
    notes: tuple[str, ...] = ()


def file_format(filename: str) -> str:
    """Format name for a file name, from its extension."""
    suffix = Path(filename).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        raise InputError(f"'{filename}' has an unsupported extension; use one of: {known}.")
    return FORMATS[suffix]


def text_encoding(data: bytes) -> str:
    """The encoding to read ``data`` with: UTF-16 (by its BOM), UTF-8 (with or without BOM), else Latin-1.

    Validates UTF-8 in slices, so a big file is never held twice as text; refuses binary data.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    if b"\x00" in data[:4096]:
        raise InputError("This looks like a binary file, not text. Upload CSV, TSV, TXT, JSONL or Parquet.")
    encoding = "utf-8-sig" if _is_utf8(data) else "latin-1"
    if _looks_binary(data[:4096].decode(encoding, errors="ignore")):
        raise InputError("This looks like a binary file, not text. Upload CSV, TSV, TXT, JSONL or Parquet.")
    return encoding


def _is_utf8(data: bytes, slice_bytes: int = 1 << 22) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for start in range(0, len(data), slice_bytes):
            decoder.decode(data[start:start + slice_bytes])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def decode_text(data: bytes) -> str:
    """Decode bytes as UTF-16 (by BOM), UTF-8 (with or without BOM) or Latin-1; refuse binary data."""
    return data.decode(text_encoding(data))


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    control = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\n\r\f")
    return bool(sample) and control / len(sample) > 0.05


def read_table(data: bytes, filename: str, *, separator: str | None = None) -> pd.DataFrame:
    """Parse an uploaded file into a table; raise InputError naming the problem."""
    return read_file(data, filename, separator=separator).table


def read_file(data: bytes, filename: str, *, separator: str | None = None) -> TableRead:
    """Parse a file, saying how: ``separator`` forces the CSV delimiter (sniffed when None)."""
    kind = file_format(filename)
    check_input_size(len(data), filename)
    if not data.strip():
        raise InputError(f"'{filename}' is empty.")
    encoding, notes = None, []
    if kind == "parquet":
        table = _read_parquet(data, filename)
    else:
        encoding = text_encoding(data)
        if encoding == "latin-1":
            notes.append(f"'{filename}' is not valid UTF-8; it was read as Latin-1 (check accented letters).")
        if kind in ("csv", "tsv"):
            separator = separator or ("\t" if kind == "tsv" else sniff_separator(data, encoding))
            if kind == "csv" and separator != ",":
                notes.append(f"Columns are separated by {SEPARATORS.get(separator, repr(separator))}s, "
                             "not commas (detected from the first lines).")
            table = _read_delimited(data, kind, separator, encoding, filename)
        else:
            check_rows(data.count(b"\n") + (not data.endswith(b"\n")), filename)  # counted before any line is split
            table = {"txt": _read_lines, "jsonl": _read_jsonl}[kind](data.decode(encoding), kind)
    if table.empty:
        raise InputError(f"'{filename}' has a header but no rows.")
    table.columns = [str(column) for column in table.columns]
    notes += _renamed_duplicates(table)
    return TableRead(table, separator if kind in ("csv", "tsv") else None, encoding, tuple(notes))


def sniff_separator(data: bytes, encoding: str) -> str:
    """The delimiter of a CSV, judged on its first 64 KB: the candidate that splits the header into at least two
    columns and the most rows into the header's number of fields, parsed as CSV (so quoted cells with separators
    and line breaks of their own, CRLF or not, count as one field); the standard sniffer's guess, else a comma,
    when none does."""
    sample = data[: 1 << 16].decode(encoding, errors="ignore")
    scores = {}
    for separator in SEPARATORS:
        try:
            rows = list(csv.reader(io.StringIO(sample, newline=""), delimiter=separator))
        except csv.Error:
            continue
        rows = rows[:-1] if len(data) > len(sample.encode(encoding, errors="ignore")) else rows  # a cut last row
        if len(rows) >= 2 and len(rows[0]) >= 2:
            scores[separator] = sum(len(row) == len(rows[0]) for row in rows[1:]) / (len(rows) - 1)
    best = max(scores, key=lambda separator: (scores[separator], separator == ","), default=None)
    if best is not None and scores[best] >= 0.9:
        return best
    try:
        return csv.Sniffer().sniff(sample, delimiters="".join(SEPARATORS)).delimiter
    except csv.Error:
        return ","


def _renamed_duplicates(table: pd.DataFrame) -> list[str]:
    """pandas reads a repeated header ``text`` as ``text`` and ``text.1``: say so rather than let it pass."""
    names = set(table.columns)
    renamed = [name for name in table.columns if "." in name and name.rsplit(".", 1)[0] in names
               and name.rsplit(".", 1)[1].isdigit()]
    return [f"The header '{name.rsplit('.', 1)[0]}' appears more than once; its repeats are named "
            f"{', '.join(repr(name) for name in renamed)}." for name in renamed[:1]]


def _read_delimited(data: bytes, kind: str, separator: str, encoding: str, name: str = "The file") -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            # A first row with more fields than the header would otherwise become a silent index.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            table = pd.read_csv(io.BytesIO(data), sep=separator, on_bad_lines="error", index_col=False,
                                encoding=encoding, nrows=MAX_ROWS + 1)  # a bounded read: one row too many refuses
            check_rows(len(table), name, exact=len(table) <= MAX_ROWS)
            return table
    except pd.errors.EmptyDataError as error:
        raise InputError("The file has no columns.") from error
    except pd.errors.ParserWarning as error:
        raise InputError(f"The rows of this {kind.upper()} file are ragged: a row has more fields than the "
                         "header. Quote cells that contain the separator.") from error
    except (pd.errors.ParserError, csv.Error) as error:
        detail = str(error).replace("Error tokenizing data. C error: ", "").strip()
        raise InputError(f"The rows of this {kind.upper()} file are ragged: {detail.rstrip('.')}.") from error


def _read_lines(text: str, kind: str) -> pd.DataFrame:
    return pd.DataFrame({TEXT: text.splitlines()})


def _read_jsonl(text: str, kind: str) -> pd.DataFrame:
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"Line {number} of the JSONL file is not valid JSON ({error.msg}).") from error
        if not isinstance(record, dict):
            raise InputError(f"Line {number} of the JSONL file is not a JSON object.")
        records.append(record)
    return pd.DataFrame.from_records(records)


def _read_parquet(data: bytes, filename: str) -> pd.DataFrame:
    """The table, once its metadata says it fits: a few KB can hold tens of millions of rows (a 117 KB file of 40
    million 'hi' took the server to 6.9 GB before the row limit spoke)."""
    import pyarrow as pa
    import pyarrow.parquet as parquet

    try:
        metadata = parquet.ParquetFile(io.BytesIO(data)).metadata
        check_rows(metadata.num_rows, filename)
        unpacked = sum(metadata.row_group(group).total_byte_size for group in range(metadata.num_row_groups))
        if unpacked > MAX_INPUT_BYTES * 2:
            raise InputError(f"'{filename}' unpacks to {unpacked / 1024**2:,.0f} MB; the explorer reads up to "
                             f"{MAX_INPUT_BYTES * 2 / 1024**2:,.0f} MB of data. Keep only the columns you need.")
        return pd.read_parquet(io.BytesIO(data))
    except (pa.ArrowException, OSError, ValueError) as error:
        raise InputError(f"'{filename}' is not a readable Parquet file ({error}).") from error
