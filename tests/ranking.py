"""Comparing a ranking with a brute-force reference in a way no machine can break.

Scores that tie (copies of one tweet), or differ only in their last bits (BLAS and FAISS sum in different orders on
different CPUs), may come in either order. So a ranking is checked as: distinct rows, each with its reference
score, and together the best k reference scores in order; never as the exact rows of a stable argsort.
"""

import numpy as np

TIE = 1e-5


def assert_ranks_like(rows, reference, *, k: int | None = None, lower_is_better: bool = False,
                      scores=None, atol: float = TIE) -> None:
    """``rows`` (k,) is a best-first top k of ``reference`` (n,) up to ties within ``atol``; ``scores``, when
    given, are the rows' own reported scores."""
    rows = np.asarray(rows)
    reference = np.asarray(reference, dtype=np.float64)
    k = len(rows) if k is None else k
    assert len(rows) == k and len(set(rows.tolist())) == k, "rows repeat or are missing"
    best = np.sort(reference)[:k] if lower_is_better else -np.sort(-reference)[:k]
    np.testing.assert_allclose(reference[rows], best, atol=atol)
    if scores is not None:
        np.testing.assert_allclose(scores, reference[rows], atol=atol, rtol=1e-4)


def assert_each_row_finds_itself_first(found_rows, rows, vectors) -> None:
    """Each query row's first neighbour is itself, or a copy of it (an identical vector ties with it)."""
    vectors = np.asarray(vectors)
    for first, row in zip(np.asarray(found_rows), np.asarray(rows)):
        assert first == row or np.array_equal(vectors[first], vectors[row]), (first, row)
