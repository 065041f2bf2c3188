"""Calibration audits: is the model good enough for retrieval on *your* data?

Labelled pairs (``text_a, text_b`` with a 0/1 ``label`` or a graded ``score``) are embedded and scored by
cosine; the audit reports how relevant and irrelevant pairs separate (ROC AUC, shares above a threshold, the
F1-best threshold with a bootstrap interval, Spearman for graded scores).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.analysis.similarity import unit_rows
from explorer.embedding.embed import embed_texts
from explorer.embedding.encoders import Encoder, Progress
from explorer.errors import InputError
from explorer.ingest.corpus import clean_text

DEFAULT_THRESHOLD = 0.7
RELEVANT_SHARE_OF_MAX = 0.8
"""Graded scores at or above this share of the scale's maximum count as relevant (4 and up on STS's 0-5)."""


@dataclass(frozen=True, eq=False)
class LabelledPairs:
    """Attributes:
        text_a, text_b: (n,) cleaned texts.
        relevant: (n,) bool, from ``label`` or from graded scores (see ``relevant_from``).
        graded: (n,) float64 graded scores, or None for 0/1 labels.
        relevant_from: the graded score from which a pair counts as relevant (None for labels).
    """

    text_a: list[str]
    text_b: list[str]
    relevant: np.ndarray
    graded: np.ndarray | None
    relevant_from: float | None
    notes: tuple[str, ...] = ()


def read_pairs(table: pd.DataFrame, *, relevant_from: float | None = None) -> LabelledPairs:
    """Validate a pairs table: ``text_a``, ``text_b`` and either ``label`` (0/1) or ``score`` (graded)."""
    columns = {column.strip().lower(): column for column in table.columns}
    missing = [name for name in ("text_a", "text_b") if name not in columns]
    if missing:
        raise InputError(f"The pairs file needs columns text_a and text_b; missing: {', '.join(missing)} "
                         f"(found: {', '.join(map(str, table.columns))}).")
    if "label" not in columns and "score" not in columns:
        raise InputError("The pairs file needs a 'label' column (1 relevant, 0 not) or a 'score' column (graded).")
    frame = pd.DataFrame({"text_a": table[columns["text_a"]].astype("string").fillna("").map(clean_text),
                          "text_b": table[columns["text_b"]].astype("string").fillna("").map(clean_text)})
    notes = []
    empty = (frame["text_a"] == "") | (frame["text_b"] == "")
    if empty.all():
        raise InputError("Every pair has an empty text.")
    if empty.any():
        notes.append(f"{int(empty.sum())} pair(s) with an empty text were left out.")
    if "label" in columns:
        labels = pd.to_numeric(table[columns["label"]], errors="coerce")
        bad = ~labels.isin([0, 1])
        if bad.any():
            examples = ", ".join(map(repr, table[columns["label"]][bad].head(3).tolist()))
            raise InputError(f"Labels must be 1 (relevant) or 0 (not relevant); {int(bad.sum())} are not "
                             f"(e.g. {examples}). For graded relevance, name the column 'score'.")
        relevant, graded = labels.to_numpy() == 1, None
    else:
        graded = pd.to_numeric(table[columns["score"]], errors="coerce")
        if graded.isna().any():
            raise InputError(f"{int(graded.isna().sum())} score(s) are not numbers.")
        graded = graded.to_numpy(np.float64)
        relevant_from = RELEVANT_SHARE_OF_MAX * graded.max() if relevant_from is None else relevant_from
        relevant = graded >= relevant_from
    keep = ~empty.to_numpy()
    return LabelledPairs(frame["text_a"][keep].tolist(), frame["text_b"][keep].tolist(), relevant[keep],
                         None if graded is None else graded[keep], relevant_from, tuple(notes))


@dataclass(frozen=True, eq=False)
class PairsAudit:
    """The audit of one model on one pairs file.

    Attributes:
        scores: (n,) cosine of each pair.
        curve: threshold, precision, recall, f1 at every distinct score.
        auc, best_threshold, best_f1, spearman: None where undefined (one class only; no graded scores).
        best_threshold_interval: 95% bootstrap interval of the F1-best threshold, or None.
    """

    model: str
    pairs: LabelledPairs
    scores: np.ndarray
    threshold: float
    auc: float | None
    share_relevant_above: float | None
    share_irrelevant_above: float | None
    best_threshold: float | None
    best_f1: float | None
    best_threshold_interval: tuple[float, float] | None
    spearman: float | None
    curve: pd.DataFrame
    notes: tuple[str, ...]

    def summary(self) -> dict:
        """The CLI's JSON fields (null where they do not apply)."""
        return {"model": self.model, "n_pairs": int(len(self.scores)), "threshold": self.threshold,
                "auc": self.auc, "share_relevant_above": self.share_relevant_above,
                "share_irrelevant_above": self.share_irrelevant_above, "best_threshold": self.best_threshold,
                "best_f1": self.best_f1, "spearman": self.spearman}


def pair_scores(pairs: LabelledPairs, encoder: Encoder, *, cache_dir: Path | None = None,
                progress: Progress | None = None) -> np.ndarray:
    """(n,) cosine similarity of each pair under ``encoder`` (each distinct text embedded once, and cached in
    ``cache_dir`` when given)."""
    unique = list(dict.fromkeys(pairs.text_a + pairs.text_b))
    vectors = unit_rows(embed_texts(unique, encoder, cache_dir=cache_dir, progress=progress).vectors)
    row = {text: number for number, text in enumerate(unique)}
    first = vectors[[row[text] for text in pairs.text_a]]
    second = vectors[[row[text] for text in pairs.text_b]]
    return np.einsum("ij,ij->i", first, second).astype(np.float64)


def audit_pairs(pairs: LabelledPairs, scores: np.ndarray, *, model: str, threshold: float = DEFAULT_THRESHOLD,
                n_bootstrap: int = 200, seed: int = 0) -> PairsAudit:
    """Every figure of the audit from the pairs' cosine ``scores`` (n,)."""
    if not -1.0 <= threshold <= 1.0:
        raise InputError(f"The threshold must lie between -1 and 1; {threshold} does not.")
    relevant = pairs.relevant
    notes = list(pairs.notes)
    both_classes = 0 < relevant.sum() < len(relevant)
    if not both_classes:
        notes.append("All pairs are " + ("relevant" if relevant.all() else "irrelevant") + ": ROC AUC and the "
                     "F1-best threshold are undefined; add pairs of the other kind.")
    curve = threshold_curve(scores, relevant)
    best = curve.loc[curve["f1"].idxmax()] if both_classes else None
    return PairsAudit(
        model=model, pairs=pairs, scores=scores, threshold=float(threshold),
        auc=roc_auc(scores, relevant) if both_classes else None,
        share_relevant_above=float(np.mean(scores[relevant] >= threshold)) if relevant.any() else None,
        share_irrelevant_above=float(np.mean(scores[~relevant] >= threshold)) if (~relevant).any() else None,
        best_threshold=float(best["threshold"]) if best is not None else None,
        best_f1=float(best["f1"]) if best is not None else None,
        best_threshold_interval=_bootstrap_threshold(scores, relevant, n_bootstrap, seed) if both_classes else None,
        spearman=spearman(scores, pairs.graded) if pairs.graded is not None else None,
        curve=curve, notes=tuple(notes))


def roc_auc(scores: np.ndarray, relevant: np.ndarray) -> float:
    """ROC AUC by the Mann-Whitney rank sum: the chance a random relevant pair outscores an irrelevant one
    (ties count half)."""
    from scipy.stats import rankdata

    ranks = rankdata(scores)
    positives, negatives = int(relevant.sum()), int((~relevant).sum())
    return float((ranks[relevant].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def spearman(scores: np.ndarray, graded: np.ndarray) -> float:
    """Spearman's rank correlation: Pearson's correlation of the (tie-averaged) ranks."""
    from scipy.stats import rankdata

    return float(np.corrcoef(rankdata(scores), rankdata(graded))[0, 1])


def threshold_curve(scores: np.ndarray, relevant: np.ndarray) -> pd.DataFrame:
    """Precision, recall and F1 of "relevant if score >= t" at every distinct score t, ascending."""
    order = np.argsort(-scores, kind="stable")
    sorted_scores, sorted_relevant = scores[order], relevant[order]
    true_positives = np.cumsum(sorted_relevant)
    predicted = np.arange(1, len(scores) + 1)
    last_of_each = np.r_[np.flatnonzero(np.diff(sorted_scores) != 0), len(scores) - 1]
    tp, predicted = true_positives[last_of_each], predicted[last_of_each]
    precision = tp / predicted
    recall = tp / max(int(relevant.sum()), 1)
    f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-12), 0.0)
    curve = pd.DataFrame({"threshold": sorted_scores[last_of_each], "precision": precision, "recall": recall,
                          "f1": f1})
    return curve.iloc[::-1].reset_index(drop=True)


def _bootstrap_threshold(scores: np.ndarray, relevant: np.ndarray, n_bootstrap: int,
                         seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    found = []
    for _ in range(n_bootstrap):
        sample = rng.integers(0, len(scores), len(scores))
        if 0 < relevant[sample].sum() < len(sample):
            curve = threshold_curve(scores[sample], relevant[sample])
            found.append(curve.loc[curve["f1"].idxmax(), "threshold"])
    low, high = np.percentile(found, [2.5, 97.5])
    return float(low), float(high)
