"""Label audit by k-NN: can a label column be predicted from each point's nearest neighbours, and which labels
look wrong (their neighbours mostly carry another one)?

Leave-one-out by construction: a point's neighbours come from the workspace's neighbour graph, which never lists a
point among its own neighbours; in a workspace of split documents, the whole document is left out. Votes are
unweighted and ties go to the first label in sorted order, as scikit-learn's ``KNeighborsClassifier`` does, so the
two agree (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from explorer.analysis.flags import cosine_neighbours
from explorer.errors import InputError
from explorer.mapping.index import IndexConfig, VectorIndex
from explorer.types import Embeddings, Neighbors
from explorer.workspace import Workspace

DEFAULT_K = 10


@dataclass(frozen=True, eq=False)
class LabelAudit:
    """Leave-one-out k-NN classification of one label column.

    Attributes:
        column, k: the label column and the neighbours that vote.
        classes: (c,) the labels, sorted.
        labels, predicted: (n,) int64 each point's label and its neighbours' vote, as positions in ``classes``.
        agreement: (n,) float64 the share of a point's k neighbours that carry its own label.
        vote_share: (n,) float64 the share of its neighbours that voted for the predicted label.
        neighbours: (n, k) int64 the voting neighbours' rows.
        accuracy, macro_f1: of the predictions.
        majority_label, majority_baseline: the most common label and the accuracy of always predicting it.
    """

    column: str
    k: int
    classes: np.ndarray
    labels: np.ndarray
    predicted: np.ndarray
    agreement: np.ndarray
    vote_share: np.ndarray
    neighbours: np.ndarray
    accuracy: float
    macro_f1: float
    majority_label: str
    majority_baseline: float

    def per_class(self) -> pd.DataFrame:
        """label, support, precision, recall, f1 for each label (precision is 0 for a label never predicted)."""
        return class_figures(self.classes, self.labels, self.predicted)

    def confusion(self) -> pd.DataFrame:
        """Counts: rows are the labels given, columns the labels the neighbours voted for."""
        return pd.DataFrame(_confusion(len(self.classes), self.labels, self.predicted),
                            index=pd.Index(self.classes, name="label"),
                            columns=pd.Index(self.classes, name="predicted"))

    def disagrees(self) -> np.ndarray:
        """(n,) bool: the point's own label is carried by fewer than half of its neighbours."""
        return self.agreement < 0.5

    def suspects(self) -> np.ndarray:
        """Rows whose label most of their neighbours disagree with, the most confident disagreement first (the
        share voting for another label, then the lowest agreement)."""
        rows = np.flatnonzero(self.disagrees() & (self.predicted != self.labels))
        return rows[np.lexsort((self.agreement[rows], -self.vote_share[rows]))]

    def summary(self) -> dict:
        """The CLI's JSON figures."""
        return {"label": self.column, "k": self.k, "n_points": int(len(self.labels)),
                "n_classes": int(len(self.classes)), "accuracy": self.accuracy, "macro_f1": self.macro_f1,
                "majority_label": self.majority_label, "majority_baseline": self.majority_baseline,
                "n_disagreeing": int(self.disagrees().sum())}


def label_column(workspace: Workspace, column: str) -> pd.Series:
    """The column's labels as strings; refuses a missing column, empty cells and a single label."""
    points = workspace.points()
    metadata = [name for name in points.columns if name not in ("id", "chunk", "text")]
    if column not in metadata:
        kept = ", ".join(metadata) if metadata else "none"
        raise InputError(f"'{column}' is not a metadata column of this workspace (kept: {kept}). Keep it when "
                         "building the workspace (--meta-col).")
    values = points[column]
    empty = values.isna() | (values.astype(str).str.strip() == "")
    if empty.any():
        raise InputError(f"{int(empty.sum()):,} of {len(values):,} points have no '{column}' label: fill them, "
                         "or choose another column.")
    labels = values.astype(str).str.strip()
    if labels.nunique() < 2:
        raise InputError(f"Every point has the same '{column}' label ('{labels.iloc[0]}'): there is nothing to "
                         "tell apart.")
    return labels


def audit_labels(workspace: Workspace, column: str, *, k: int = DEFAULT_K) -> LabelAudit:
    """Leave-one-out k-NN classification of ``column`` through the workspace's cosine neighbour graph."""
    labels = label_column(workspace, column)
    if not 1 <= k < len(labels):
        raise InputError(f"k must be between 1 and {len(labels) - 1} (the other points); got {k}.")
    graph = _neighbours(workspace, k)
    if workspace.manifest.n_chunked:
        documents = workspace.points()["id"].to_numpy()
        graph = other_documents(graph, documents, k)
        short = np.flatnonzero((graph.indices < 0).any(axis=1))
        if len(short):  # chunks of a long document filled the saved graph: search those points deeper
            graph = _deeper(workspace, graph, documents, k, short)
    return knn_label_audit(labels.to_numpy(), graph, column=column, k=k)


def _deeper(workspace: Workspace, graph: Neighbors, documents: np.ndarray, k: int, rows: np.ndarray) -> Neighbors:
    embeddings = workspace.embeddings()
    depth = min(len(documents), k + int(pd.Series(documents).value_counts().max()))
    saved = workspace.index()  # the workspace's own index when it is cosine, rather than building another
    index = saved if saved.metric == "cosine" else VectorIndex.build(embeddings, IndexConfig(metric="cosine"))
    found = index.search(Embeddings(embeddings.vectors[rows], embeddings.model_id, embeddings.fingerprint,
                                    embeddings.normalized), depth)
    deeper = other_documents(Neighbors(found.indices, found.scores, "cosine"), documents, k, rows=rows)
    indices, scores = graph.indices.copy(), graph.scores.copy()
    indices[rows], scores[rows] = deeper.indices, deeper.scores
    return Neighbors(indices, scores, graph.metric)


def _neighbours(workspace: Workspace, k: int) -> Neighbors:
    embeddings = workspace.embeddings()
    graph = cosine_neighbours(embeddings, workspace.knn(), k=k)
    if graph.indices.shape[1] >= k:
        return graph
    return VectorIndex.build(embeddings, IndexConfig(metric="cosine")).knn_graph(embeddings, k)


def other_documents(graph: Neighbors, documents: np.ndarray, k: int, *, rows: np.ndarray | None = None) -> Neighbors:
    """Each point's first k neighbours from other documents: a split document's chunks share its label and would
    vote for each other, so leave-one-out leaves out the whole document (-1 where fewer than k remain).
    ``rows``: the points the graph's rows belong to (default: all, in order)."""
    own = documents if rows is None else documents[rows]
    keep = documents[graph.indices] != own[:, None]
    keep &= graph.indices >= 0
    order = np.argsort(~keep, axis=1, kind="stable")[:, :k]  # kept neighbours first, in their order
    indices = np.take_along_axis(graph.indices, order, axis=1)
    scores = np.take_along_axis(graph.scores, order, axis=1)
    missing = ~np.take_along_axis(keep, order, axis=1)
    return Neighbors(np.where(missing, -1, indices), np.where(missing, np.nan, scores).astype(np.float32),
                     graph.metric)


def knn_label_audit(values: np.ndarray, graph: Neighbors, *, column: str, k: int) -> LabelAudit:
    """The audit from each point's label ``values`` (n,) and its neighbours (at least k each, best first)."""
    classes, labels = np.unique(values.astype(str), return_inverse=True)
    neighbours = graph.indices[:, :k]
    if (neighbours < 0).any():
        raise InputError("Some points have fewer than k neighbours (from other documents); choose a smaller k.")
    votes = np.zeros((len(labels), len(classes)), dtype=np.int64)
    np.add.at(votes, (np.repeat(np.arange(len(labels)), k), labels[neighbours].ravel()), 1)
    predicted = votes.argmax(axis=1)  # the first of tied labels, in sorted order
    agreement = votes[np.arange(len(labels)), labels] / k
    counts = np.bincount(labels, minlength=len(classes))
    return LabelAudit(column, k, classes, labels, predicted, agreement, votes.max(axis=1) / k, neighbours,
                      accuracy=float((predicted == labels).mean()),
                      macro_f1=float(class_figures(classes, labels, predicted)["f1"].mean()),
                      majority_label=str(classes[counts.argmax()]),
                      majority_baseline=float(counts.max() / len(labels)))


def _confusion(n_classes: int, labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    return np.bincount(labels * n_classes + predicted, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def class_figures(classes: np.ndarray, labels: np.ndarray, predicted: np.ndarray) -> pd.DataFrame:
    """label, support, precision, recall, f1 of each class from given and predicted class positions."""
    confusion = _confusion(len(classes), labels, predicted)
    predicted_total, support = confusion.sum(axis=0), confusion.sum(axis=1)
    hits = np.diag(confusion).astype(np.float64)
    precision = np.divide(hits, predicted_total, out=np.zeros(len(hits)), where=predicted_total > 0)
    recall = np.divide(hits, support, out=np.zeros(len(hits)), where=support > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(len(hits)),
                   where=(precision + recall) > 0)
    return pd.DataFrame({"label": classes, "support": support, "precision": precision, "recall": recall, "f1": f1})


def suspects_table(audit: LabelAudit, points: pd.DataFrame, *, top: int = 20, n_neighbours: int = 3) -> pd.DataFrame:
    """The ``top`` suspect labels: row, id, text, the label given, what the neighbours say with their share, the
    share agreeing with the given label, and the first few neighbours (label: text)."""
    rows = audit.suspects()[: max(int(top), 0)]
    texts, labels = points["text"].to_numpy(), audit.classes
    return pd.DataFrame({
        "row": rows, "id": points["id"].to_numpy()[rows], "text": texts[rows],
        "label": labels[audit.labels[rows]], "neighbours_say": labels[audit.predicted[rows]],
        "vote_share": audit.vote_share[rows], "agreement": audit.agreement[rows],
        "neighbours": [" | ".join(f"{labels[audit.labels[other]]}: {texts[other][:60]}"
                                  for other in audit.neighbours[row, :n_neighbours]) for row in rows]},
        columns=["row", "id", "label", "neighbours_say", "vote_share", "agreement", "text", "neighbours"])
