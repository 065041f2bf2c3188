"""One rule for "does the corpus hold texts like this one?": a query is answered (coverage) and a new document is
not novel (drift) when it is in the corpus's domain.

A text is in the domain when its nearest corpus point is at least as close as the nearest distinct neighbour of
95% of the corpus's own points: texts held out of a corpus pass by construction (about 5% fail), texts of another
corpus mostly fail. Copies (cosine >= ``COPY_COSINE``) are passed over when the corpus's own nearest neighbours are
measured, so a corpus full of repeated texts does not set the line at 1.0. Measured on real corpora in
``benchmarks/domain_rule.py`` (the docs' table).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

IN_DOMAIN_SHARE = 95.0
"""The share (%) of the corpus's own points whose nearest distinct neighbour a text must match to be in domain."""
COPY_COSINE = 0.98
RULE = ("One rule makes a query answered and a new document not novel: its nearest corpus point is at least as "
        "close as the nearest distinct neighbour of 95% of the corpus's own points. Measured with "
        "all-MiniLM-L6-v2 on four real corpora (benchmarks/domain_rule.py): texts held out of the corpus are "
        "called outside it 4-5% of the time (news titles as queries of their own articles 10%); texts of another "
        "kind of corpus are called inside it 13-35% of the time for 7 of 12 pairs, and 51-89% where the corpora "
        "share their subject (news and parliamentary speeches) or the corpus is a mixture (STS-B).")


@dataclass(frozen=True, eq=False)
class DomainLine:
    """Attributes:
        corpus_nearest: (n,) float32, ascending: each corpus point's cosine with its nearest distinct neighbour.
    """

    corpus_nearest: np.ndarray

    @property
    def line(self) -> float:
        """The cosine a text's nearest corpus point must reach."""
        return float(np.percentile(self.corpus_nearest, 100.0 - IN_DOMAIN_SHARE))

    def novelty(self, nearest: np.ndarray) -> np.ndarray:
        """(m,) float64 the percentage of corpus points closer to their own nearest distinct neighbour than each
        text (its cosine with its nearest corpus point in ``nearest``) is to the corpus: 99 = farther out than 99%
        of the corpus."""
        at_or_below = np.searchsorted(self.corpus_nearest, np.asarray(nearest, dtype=np.float64), side="right")
        return 100.0 * (len(self.corpus_nearest) - at_or_below) / len(self.corpus_nearest)

    def in_domain(self, nearest: np.ndarray) -> np.ndarray:
        """(m,) bool: the text is no farther out than ``IN_DOMAIN_SHARE`` % of the corpus."""
        return self.novelty(nearest) <= IN_DOMAIN_SHARE


def nearest_distinct(scores: np.ndarray) -> np.ndarray:
    """(n,) each row's best cosine below ``COPY_COSINE`` among its neighbours' ``scores`` (n, k), best first; a
    row whose every neighbour is a copy keeps its last one."""
    scores = np.asarray(scores, dtype=np.float32)
    distinct = scores < COPY_COSINE
    first = np.where(distinct.any(axis=1), distinct.argmax(axis=1), scores.shape[1] - 1)
    return scores[np.arange(len(scores)), first]


def domain_line(neighbour_scores: np.ndarray) -> DomainLine:
    """The line of a corpus from its cosine neighbour graph's scores (n, k), best first."""
    return DomainLine(np.sort(nearest_distinct(neighbour_scores)))
