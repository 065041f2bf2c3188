"""What one machine (2 cores, 24 GiB) is asked to hold, checked before the work that would exceed it.

Reading a file costs about four times its size at peak (bytes, parsed table, cleaned texts) and a workspace of n
points about 2.5 KB a point while it is built, so both limits keep a build well inside memory with room for
other users of the same app; ``benchmarks/upload_memory.py`` measures it.
"""

from __future__ import annotations

from explorer.errors import InputError

MAX_INPUT_BYTES = 500 * 1024**2
"""The largest file read (the app's upload limit, ``server.maxUploadSize`` in .streamlit/config.toml, is the same)."""
MAX_POINTS = 1_000_000
"""The most points (texts after cleaning and chunking) one workspace holds."""


def check_input_size(n_bytes: int, name: str) -> None:
    """Refuse a file too large to read, before reading it."""
    if n_bytes > MAX_INPUT_BYTES:
        raise InputError(f"'{name}' is {n_bytes / 1024**2:,.0f} MB; the explorer reads files of up to "
                         f"{MAX_INPUT_BYTES / 1024**2:,.0f} MB. Split the file, or keep only the columns you need.")


MAX_ROWS = MAX_POINTS
"""The most rows read from a file (each row with text becomes at least one point): checked from a Parquet file's
metadata and by a bounded read or line count of text files, before the rows are materialised."""


def check_rows(n_rows: int, name: str, *, exact: bool = True) -> None:
    """Refuse a file of more rows than a workspace could hold, before its rows are read into memory."""
    if n_rows > MAX_ROWS:
        count = f"{n_rows:,}" if exact else f"more than {MAX_ROWS:,}"
        raise InputError(f"'{name}' has {count} rows; a workspace holds at most {MAX_POINTS:,} texts on this "
                         "machine, so nothing was read. Sample or split the file.")


def check_points(n_points: int, *, what: str = "The data") -> None:
    """Refuse a corpus with more points than a workspace holds, before it is embedded."""
    if n_points > MAX_POINTS:
        raise InputError(f"{what} has {n_points:,} texts to embed (after cleaning and chunking); a workspace holds "
                         f"at most {MAX_POINTS:,} on this machine. Sample or split the file, or turn chunking "
                         "off or use larger chunks.")
