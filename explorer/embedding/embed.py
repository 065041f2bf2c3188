"""Corpus x Encoder -> Embeddings, cached on disk by model fingerprint and text hash."""

from __future__ import annotations

import hashlib
import io
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from explorer import store
from explorer.embedding.encoders import Encoder, Progress
from explorer.errors import InputError
from explorer.ingest.reading import file_format, read_table
from explorer.types import Embeddings

logger = logging.getLogger(__name__)
PRECOMPUTED = "precomputed"


def embed_texts(texts: list[str], encoder: Encoder, *, cache_dir: Path | None = None, batch_size: int = 64,
                progress: Progress | None = None, queries: bool = False) -> Embeddings:
    """Encode texts to unit-norm float32 rows, reusing a cached result for the same model and texts.

    ``queries`` embeds them as search queries (models trained with a query marker embed queries differently).
    ``progress`` hears (0, n) before any encoding starts and (n, n) at the end; a cached result reports only
    the end, so a caller can show a bar only while texts are really being embedded.
    """
    role = "query" if queries else "passage"
    cache_file = _cache_file(cache_dir, f"{encoder.fingerprint}|{role}" if queries else encoder.fingerprint,
                             texts) if cache_dir else None
    if cache_file is not None and cache_file.exists():
        logger.info("embeddings cache hit: %s", cache_file.name)
        vectors = store.load_array(cache_file)
        if progress:
            progress(len(texts), len(texts))
    else:
        if progress:
            progress(0, len(texts))
        vectors = encode_once_each(texts, encoder, batch_size=batch_size, progress=progress, queries=queries)
        if cache_file is not None:
            store.save_array(cache_file, vectors, store.sidecar(
                "embed", model=encoder.spec.id, fingerprint=encoder.fingerprint, role=role, n=len(texts),
                normalized=True))
    return Embeddings(vectors, encoder.spec.id, encoder.fingerprint, normalized=True)


def encode_once_each(texts: list[str], encoder: Encoder, *, batch_size: int = 64, progress: Progress | None = None,
                     queries: bool = False) -> np.ndarray:
    """Encode each distinct text once and give its copies the same row: copies (retweets, boilerplate) cost
    nothing, and are bitwise identical, which near-duplicate search and UMAP rely on to treat them as one."""
    unique = pd.unique(pd.Series(texts, dtype=object))
    distinct = list(unique) if len(unique) < len(texts) else texts

    def report(done: int, total: int) -> None:  # in texts of the whole list, copies included
        progress(round(done / max(total, 1) * len(texts)), len(texts))

    if queries:
        vectors = encoder.encode_queries(distinct, progress=report if progress else None)
    else:
        vectors = encoder.encode(distinct, batch_size=batch_size, progress=report if progress else None)
    if len(unique) == len(texts):
        return vectors
    position = pd.Series(np.arange(len(unique)), index=unique)
    return vectors[position.loc[texts].to_numpy()]


def _cache_file(cache_dir: Path, model_key: str, texts: list[str]) -> Path:
    return cache_dir / hashlib.sha256(model_key.encode()).hexdigest()[:16] / f"{store.text_hash(texts)}.npy"


def read_vectors(data: bytes, filename: str, *, column: str | None = None) -> np.ndarray:
    """Vectors from a .npy (never unpickled) or a Parquet/CSV column of float lists, as (n, d) float32."""
    if filename.lower().endswith(".npy"):
        try:
            array = np.load(io.BytesIO(data), allow_pickle=False)
        except ValueError as error:
            raise InputError(f"'{filename}' is not a plain numeric .npy array ({error}).") from error
    else:
        file_format(filename)
        array = _vectors_from_column(read_table(data, filename), column)
    return _check_vectors(np.asarray(array), filename)


def _vectors_from_column(table: pd.DataFrame, column: str | None) -> np.ndarray:
    if column is None:
        raise InputError("Name the column that holds the vectors.")
    if column not in table.columns:
        raise InputError(f"Column '{column}' is not in the vectors file.")
    cells = table[column].map(_parse_vector)
    lengths = cells.map(len)
    if lengths.nunique() > 1:
        usual = int(lengths.mode().iloc[0])
        odd = int(np.flatnonzero(lengths.to_numpy() != usual)[0])
        found = ", ".join(str(int(length)) for length in sorted(lengths.unique())[:5])
        raise InputError(f"Vectors in '{column}' have different lengths ({found}): row {odd} has "
                         f"{int(lengths.iloc[odd])} numbers where most have {usual}.")
    return np.stack(cells.to_list())


def _parse_vector(cell) -> np.ndarray:
    if isinstance(cell, str):
        cell = cell.strip().strip("[]").replace(",", " ").split()
    try:
        return np.asarray(cell, dtype=np.float32).ravel()
    except (TypeError, ValueError) as error:
        raise InputError(f"A vector cell could not be read as numbers: {str(cell)[:60]!r}.") from error


def _check_vectors(array: np.ndarray, filename: str) -> np.ndarray:
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] < 2:
        raise InputError(f"'{filename}' must hold a 2-D array (rows x dimensions); got shape {array.shape}.")
    if not np.issubdtype(array.dtype, np.number):
        raise InputError(f"'{filename}' holds {array.dtype} values, not numbers.")
    bad_rows = ~np.isfinite(array).all(axis=1)
    if bad_rows.any():
        raise InputError(f"{int(bad_rows.sum())} vector(s) contain NaN or infinite values "
                         f"(first at row {int(np.argmax(bad_rows))}).")
    return array.astype(np.float32)


def precomputed_embeddings(vectors: np.ndarray, row_numbers: np.ndarray, *, source: str) -> Embeddings:
    """Embeddings for the kept rows from user vectors given for every input row.

    Args:
        vectors: (n_input_rows, d) one vector per row of the uploaded table.
        row_numbers: (n,) the input row of each corpus point, in corpus order.
        source: name of the vectors file, recorded in the fingerprint.
    """
    if len(row_numbers) and row_numbers.max() >= len(vectors):
        raise InputError(f"The vectors file has {len(vectors)} rows but the data has at least "
                         f"{int(row_numbers.max()) + 1}; give one vector per row.")
    chosen = vectors[row_numbers]
    norms = np.linalg.norm(chosen, axis=1)
    if (norms == 0).any():
        raise InputError(f"{int((norms == 0).sum())} vector(s) are all zeros; cosine similarity is undefined for them.")
    digest = hashlib.sha256(np.ascontiguousarray(vectors).tobytes()).hexdigest()[:16]
    return Embeddings(chosen.astype(np.float32), PRECOMPUTED, f"{PRECOMPUTED}:{source}:{digest}",
                      normalized=bool(np.allclose(norms, 1.0, atol=1e-3)))
