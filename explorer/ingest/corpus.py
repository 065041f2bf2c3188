"""A table -> clean Corpus, with a report of every row dropped; which column holds the text."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from explorer.errors import InputError
from explorer.types import CHUNK, ID, RESERVED_COLUMNS, TEXT, Corpus, IngestReport

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


@dataclass(frozen=True)
class ColumnChoice:
    """The column preselected as the text, and why, in a sentence the page and the CLI show."""

    name: str
    reason: str


def choose_text_column(table: pd.DataFrame) -> ColumnChoice:
    """The column with the longest texts, never one of numbers or of number lists (vectors), and why.

    Raises InputError when no column holds text.
    """
    skipped, lengths = [], {}
    for column in table.columns:
        values = table[column].dropna()
        if not _is_string_like(table[column]) or values.iloc[:2000].astype(object).map(_looks_numeric).mean() > 0.5:
            skipped.append(column)
            continue
        lengths[column] = values.astype(str).str.len().mean() if len(values) else 0.0
    if not lengths:
        raise InputError(f"No column holds text: {', '.join(map(repr, table.columns))} hold numbers or vectors. "
                         "Choose a file with a column of texts.")
    name = max(lengths, key=lambda column: (lengths[column], column == TEXT))
    reason = f"'{name}' has the longest texts ({lengths[name]:.0f} characters on average)"
    numeric = [column for column in skipped if column != name]
    if numeric:
        verb = "holds" if len(numeric) == 1 else "hold"
        reason += f"; {', '.join(repr(column) for column in numeric[:3])} {verb} numbers, not text"
    return ColumnChoice(name, reason + ".")


def guess_text_column(table: pd.DataFrame) -> str:
    return choose_text_column(table).name


def _looks_numeric(value) -> bool:
    """A number, a list or array of numbers, or text that reads as either ("3.5", "[0.1, -2e-3]")."""
    if isinstance(value, (int, float, np.number)):
        return True
    if isinstance(value, (list, tuple, np.ndarray)):
        return all(isinstance(item, (int, float, np.number)) for item in value)
    if isinstance(value, str):
        return bool(_NUMBERS.fullmatch(value.strip()))
    return False


_NUMBERS = re.compile(r"\[?\s*(?:[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?[\s,;]*)+\]?")


def _is_string_like(column: pd.Series) -> bool:
    return pd.api.types.is_string_dtype(column) or column.dtype == object


def clean_text(text: str) -> str:
    """Strip HTML tags, decode entities and collapse whitespace; a text of only invisible characters (zero-width
    spaces, direction marks) becomes empty. Tags are stripped again once entities are decoded, so an encoded tag
    (``&lt;img src=x onerror=...&gt;``) cannot come out of the cleaning as a raw one."""
    without_tags = _TAG.sub(" ", _BLOCK_TAGS.sub(" ", text))
    decoded = html.unescape(without_tags)
    if decoded != without_tags:
        decoded = _TAG.sub(" ", _BLOCK_TAGS.sub(" ", decoded))
    cleaned = _WHITESPACE.sub(" ", decoded).strip()
    visible = any(not char.isspace() and unicodedata.category(char) != "Cf" for char in cleaned)
    return cleaned if visible else ""


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
