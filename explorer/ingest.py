"""Bytes of an uploaded file -> table -> clean Corpus, with a report of every row dropped."""

from __future__ import annotations

import codecs
import csv
import html
import io
import json
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.errors import InputError
from explorer.limits import check_input_size
from explorer.types import CHUNK, ID, RESERVED_COLUMNS, TEXT, Corpus, IngestReport

FORMATS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": "txt", ".jsonl": "jsonl",
           ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
_BLOCK_TAGS = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"</?[A-Za-z][^<>]*>|<!--.*?-->", re.DOTALL)
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class IngestConfig:
    """Which columns of the table become the text, the id and the metadata."""

    text_column: str
    id_column: str | None = None
    metadata_columns: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.text_column:
            raise InputError("Choose the column that holds the text.")
        if self.id_column is not None and self.id_column == self.text_column:
            raise InputError("The id column cannot also be the text column.")


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


def read_table(data: bytes, filename: str) -> pd.DataFrame:
    """Parse an uploaded file into a table; raise InputError naming the problem."""
    kind = file_format(filename)
    check_input_size(len(data), filename)
    if not data.strip():
        raise InputError(f"'{filename}' is empty.")
    if kind == "parquet":
        table = _read_parquet(data, filename)
    elif kind in ("csv", "tsv"):
        table = _read_delimited(data, kind)
    else:
        text = decode_text(data)
        table = {"txt": _read_lines, "jsonl": _read_jsonl}[kind](text, kind)
    if table.empty:
        raise InputError(f"'{filename}' has a header but no rows.")
    table.columns = [str(column) for column in table.columns]
    return table


def _read_delimited(data: bytes, kind: str) -> pd.DataFrame:
    """Parsed from the bytes (a text copy of a big file would take four bytes a character)."""
    separator = "\t" if kind == "tsv" else ","
    encoding = text_encoding(data)
    try:
        with warnings.catch_warnings():
            # A first row with more fields than the header would otherwise become a silent index.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(io.BytesIO(data), sep=separator, on_bad_lines="error", index_col=False,
                               encoding=encoding)
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
    import pyarrow as pa

    try:
        return pd.read_parquet(io.BytesIO(data))
    except (pa.ArrowException, OSError, ValueError) as error:
        raise InputError(f"'{filename}' is not a readable Parquet file ({error}).") from error


def guess_text_column(table: pd.DataFrame) -> str:
    """The column with the longest average string: usually the documents."""
    lengths = {column: table[column].dropna().astype(str).str.len().mean()
               for column in table.columns if _is_string_like(table[column])}
    if not lengths:
        return str(table.columns[0])
    return max(lengths, key=lambda column: (lengths[column], column == TEXT))


def _is_string_like(column: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(column) or column.dtype == object


def clean_text(text: str) -> str:
    """Strip HTML tags, decode entities and collapse whitespace."""
    without_tags = _TAG.sub(" ", _BLOCK_TAGS.sub(" ", text))
    return _WHITESPACE.sub(" ", html.unescape(without_tags)).strip()


def build_corpus(table: pd.DataFrame, config: IngestConfig) -> tuple[Corpus, IngestReport]:
    """Select, clean and filter rows into a Corpus; the report counts each row dropped and why.

    Ids are the id column's values when given, otherwise each row's 0-based number in the
    table before any row was dropped, so results join back to the user's file.
    """
    _check_columns(table, config)
    raw = table[config.text_column]
    missing = raw.isna().to_numpy()
    texts = raw.where(~missing, "").astype(str)
    cleaned = texts.map(clean_text)
    html_stripped = int(((texts.str.contains("<", regex=False)) & (cleaned != texts.str.strip())).sum())
    empty = (~missing) & (cleaned.str.len() == 0).to_numpy()
    keep = ~(missing | empty)
    points = pd.DataFrame({ID: build_ids(table, config), CHUNK: 0, TEXT: cleaned.to_numpy()})
    metadata = {_metadata_name(column): table[column].to_numpy() for column in config.metadata_columns}
    points = pd.concat([points, pd.DataFrame(metadata, index=points.index)], axis=1)
    points = points.loc[keep].reset_index(drop=True)
    if points.empty:
        raise InputError(f"Column '{config.text_column}' has no text in any row.")
    report = IngestReport(n_input_rows=len(table), n_missing=int(missing.sum()),
                          n_empty_after_cleaning=int(empty.sum()), n_html_stripped=html_stripped,
                          n_chunks=len(points))
    return Corpus(points, tuple(_metadata_name(c) for c in config.metadata_columns)), report


def _check_columns(table: pd.DataFrame, config: IngestConfig) -> None:
    wanted = [config.text_column, *([config.id_column] if config.id_column else []), *config.metadata_columns]
    absent = [column for column in wanted if column not in table.columns]
    if absent:
        raise InputError(f"Column(s) not in the file: {', '.join(absent)}. "
                         f"The file has: {', '.join(map(str, table.columns))}.")
    if config.id_column:
        ids = table[config.id_column]
        if ids.isna().any():
            raise InputError(f"The id column '{config.id_column}' has {int(ids.isna().sum())} empty cell(s).")
        duplicated = int(ids.duplicated().sum())
        if duplicated:
            raise InputError(f"The id column '{config.id_column}' has {duplicated} repeated value(s); "
                             "choose a unique id column, or none to use row numbers.")


def build_ids(table: pd.DataFrame, config: IngestConfig) -> np.ndarray:
    """(n,) the id of each input row: the id column as int64 or text, else the 0-based row number."""
    if config.id_column is None:
        return np.arange(len(table), dtype=np.int64)
    ids = table[config.id_column]
    return ids.astype("int64" if pd.api.types.is_integer_dtype(ids) else str).to_numpy()


def _metadata_name(column: str) -> str:
    return f"{column} (metadata)" if column in RESERVED_COLUMNS else column
