"""Downloads: CSV that a spreadsheet shows as text, never as a formula."""

from __future__ import annotations

import pandas as pd

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_cell(value):
    """Prefix a quote to text cells a spreadsheet would run as a formula (CSV injection)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_safe_csv(frame: pd.DataFrame) -> bytes:
    """CSV bytes of ``frame`` with formula-like text cells and column names neutralised."""
    safe = frame.copy()
    safe.columns = [neutralise_cell(str(column)) for column in safe.columns]
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise_cell)
    # CRLF rows (RFC 4180): the writer then quotes every cell holding a carriage return, which a CSV reader would
    # otherwise take for the end of a row.
    return safe.to_csv(index=False, lineterminator="\r\n").encode("utf-8")
