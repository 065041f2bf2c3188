"""A workspace's report: every number a colleague needs to trust an audit, and how each was made.

:func:`build_report` gathers the numbers (the JSON twin, ``Report.data``) and the figures; ``report_html`` turns
them into one self-contained HTML file. Every random part is seeded and the seeds are in the report, so building
the same input with the same settings twice gives the same numbers (only ``provenance`` holds times).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

import explorer
from explorer.analysis.flags import DEFAULT_THRESHOLD as DUPLICATE_THRESHOLD
from explorer.analysis.quality import DEFAULT_OUTLIER_K, cosine_graph, find_duplicates, find_outliers
from explorer.analysis.similarity import SimilarityProfile, similarity_profile, unit_rows
from explorer.audits.pairs import DEFAULT_THRESHOLD as AUDIT_THRESHOLD
from explorer.audits.pairs import LabelledPairs, PairsAudit, audit_pairs, pair_scores
from explorer.audits.retrieval import METRICS, RetrievalReport, RetrievalSet, evaluate
from explorer.embedding.encoders import BACKEND_NAMES, MODELS, Encoder, backend_of
from explorer.embedding.loading import measured_by
from explorer.figures import charts as figures
from explorer.workspace import Workspace, embeddings_cache

REPORT_FORMAT = 1
MAX_REPORT_POINTS = 20_000
"""Points drawn on the report's map; above this, a seeded random sample (the page says so)."""
SAMPLE_SEED = 0
EXAMPLES_PER_CLUSTER = 3
TOP_GROUPS = 10
TOP_OUTLIERS = 20
TOP_FAILURES = 20
RETRIEVAL_K = 10

RULES_SOURCE = ("rules of thumb this tool uses throughout (its audit and evaluation pages): they are common "
                "practice for sentence-embedding retrieval, not laws, and should be read against this model's own "
                "random-pair baseline")


@dataclass(frozen=True, eq=False)
class Report:
    """Attributes:
        data: every number of the report, as JSON-ready values (the ``--json`` twin).
        figures: title -> plotly figure, in the order the HTML shows them.
        include_texts: False when every text was left out (``--no-texts``).
    """

    data: dict[str, Any]
    figures: dict[str, go.Figure] = field(default_factory=dict)
    include_texts: bool = True


def build_report(workspace: Workspace, *, pairs: LabelledPairs | None = None,
                 retrieval_set: RetrievalSet | None = None, encoder: Encoder | None = None,
                 include_texts: bool = True, audit_threshold: float = AUDIT_THRESHOLD,
                 max_points: int = MAX_REPORT_POINTS, progress: Callable[[str, float], None] | None = None) -> Report:
    """The report of ``workspace``; ``pairs`` adds the calibration audit and ``retrieval_set`` the retrieval
    evaluation, both embedded with ``encoder`` (the same model the CLI's ``audit`` / ``eval`` would load)."""
    progress = progress or (lambda stage, fraction: None)
    manifest = workspace.manifest
    saved = workspace.clustering()
    points = workspace.points()
    texts = points["text"].to_numpy()
    progress("Reading the workspace", 0.0)
    figure_list: dict[str, go.Figure] = {}

    data: dict[str, Any] = {"report_format": REPORT_FORMAT, "workspace": manifest.name,
                            "includes_texts": include_texts, "provenance": _provenance(workspace, include_texts)}
    progress("Drawing the map", 0.1)
    data["map"], figure_list["Map"] = _map_section(workspace, saved, points, include_texts, max_points)
    embeddings = workspace.embeddings()  # read once: the cluster table and the similarity profile share it
    data["clusters"] = _cluster_table(embeddings.vectors, saved, texts if include_texts else None)
    progress("Measuring similarity", 0.3)
    profile = similarity_profile(embeddings, saved.clustering.labels, knn=workspace.knn(), seed=SAMPLE_SEED)
    data["similarity"] = _similarity_section(profile)
    figure_list["Similarity"] = figures.distributions_figure(
        {"random pairs (the baseline)": profile.random_pairs, "each point's nearest neighbour": profile.nearest},
        title="Cosine of random pairs and of nearest neighbours", x_title="cosine similarity")
    progress("Finding near-duplicates and outliers", 0.5)
    data["quality"] = _quality_section(workspace, points, include_texts)
    if pairs is not None:
        progress("Auditing the labelled pairs", 0.6)
        scores = pair_scores(pairs, encoder, cache_dir=embeddings_cache())
        audit = audit_pairs(pairs, scores, model=encoder.spec.id, threshold=audit_threshold)
        data["audit"] = _audit_section(audit, include_texts)
        data["audit"]["summary"] |= measured_by(encoder)
        figure_list["Calibration: relevant vs irrelevant pairs"] = figures.distributions_figure(
            {"relevant pairs": audit.scores[pairs.relevant], "irrelevant pairs": audit.scores[~pairs.relevant]},
            title=f"Cosine of relevant vs irrelevant pairs ({encoder.spec.id})", x_title="cosine similarity",
            marks={f"threshold {audit_threshold:.2f}": audit_threshold})
        figure_list["Calibration: precision, recall and F1"] = figures.curve_figure(
            audit.curve, threshold=audit_threshold, best=audit.best_threshold)
    if retrieval_set is not None:
        progress("Evaluating retrieval", 0.8)
        evaluation = evaluate(retrieval_set, encoder, k=RETRIEVAL_K, cache_dir=embeddings_cache())
        data["evaluation"] = _evaluation_section(evaluation, retrieval_set, include_texts)
        data["evaluation"]["summary"] |= measured_by(encoder)
        figure_list["Retrieval"] = figures.metrics_figure(pd.DataFrame([evaluation.summary()]), METRICS,
                                                          title=f"Retrieval figures ({encoder.spec.id})")
    data["verdict"] = verdict(data)
    data["seeds"] = {"layout (UMAP)": manifest.config.layout.seed, "map sample": SAMPLE_SEED,
                     "random pairs": SAMPLE_SEED, "bootstrap of the best threshold": 0}
    progress("Report ready", 1.0)
    return Report(data, figure_list, include_texts)


def _provenance(workspace: Workspace, include_texts: bool = True) -> dict[str, Any]:
    """How the workspace was made; without texts, the source is named by its file name alone (no folder of the
    machine it was built on)."""
    manifest = workspace.manifest
    recorded = manifest.provenance
    report = manifest.report
    spec = MODELS.get(manifest.model)
    return {
        "source": manifest.source if include_texts else PurePath(manifest.source).name,
        "source_file": recorded.get("source_file"),
        "rows": {"read": report.n_input_rows, "dropped_missing_text": report.n_missing,
                 "dropped_empty_after_cleaning": report.n_empty_after_cleaning,
                 "html_stripped": report.n_html_stripped, "truncated": report.n_truncated,
                 "documents_split": report.n_split_documents, "documents": manifest.n_documents,
                 "points": manifest.n_points},
        "notes": list(manifest.notes),
        "model": {"id": manifest.model, "fingerprint": manifest.fingerprint, "dim": manifest.dim,
                  "backend": _backend(manifest.model, manifest.fingerprint),
                  "max_tokens": spec.max_tokens if spec else None},
        "metric": manifest.metric, "normalised": True,
        "index": {"type": manifest.index_type, **asdict(manifest.config.index)},
        "layout": asdict(manifest.config.layout), "clustering": asdict(manifest.config.cluster),
        "chunking": asdict(manifest.config.chunk),
        "built_at": recorded.get("built_at"), "built_by": {"explorer_version": recorded.get("explorer_version"),
                                                          "git_commit": recorded.get("git_commit"),
                                                          "libraries": recorded.get("libraries", {})},
        "timings_s": {stage: round(float(seconds), 3) for stage, seconds in manifest.timings.items()},
        "report_made_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "report_made_by": explorer.__version__,
    }


def _backend(model_id: str, fingerprint: str) -> str:
    spec = MODELS.get(model_id)
    if spec is None:
        return "uploaded vectors"
    backend = backend_of(model_id, fingerprint)
    return spec.runs_on if backend is None else BACKEND_NAMES[backend]


def _map_section(workspace: Workspace, saved, points: pd.DataFrame, include_texts: bool,
                 max_points: int) -> tuple[dict[str, Any], go.Figure]:
    labels = saved.clustering.labels
    rows = figures.drawn_rows(len(points), limit=max_points, seed=SAMPLE_SEED)
    names = saved.keywords.names(labels)
    shown = points if include_texts else points[["id", "chunk"]].assign(text="")
    hover = figures.hover_texts(shown, clusters=names)
    coords = workspace.layout(2)
    figure = figures.map_figure(coords, hover, pd.Series(labels, name="cluster"),
                                title=f"{workspace.manifest.name}: {len(rows):,} of {len(points):,} points",
                                keywords=saved.keywords, rows=rows)
    section = {"n_points": len(points), "n_drawn": int(len(rows)), "sampled": bool(len(rows) < len(points)),
               "sample_seed": SAMPLE_SEED if len(rows) < len(points) else None,
               "n_clusters": saved.clustering.n_clusters, "noise_fraction": round(saved.clustering.noise_fraction, 6),
               "largest_cluster_share": round(_largest_share(labels), 6)}
    return section, figure


def _largest_share(labels: np.ndarray) -> float:
    clustered = labels[labels >= 0]
    return float(np.bincount(clustered).max() / len(labels)) if len(clustered) else 0.0


def _cluster_table(vectors: np.ndarray, saved, texts: np.ndarray | None) -> list[dict[str, Any]]:
    """Each cluster's size, share, keywords and (with texts) the texts nearest its centroid, biggest first."""
    labels = saved.clustering.labels
    unit = unit_rows(vectors)
    rows = []
    for label in np.unique(labels[labels >= 0]):
        members = np.flatnonzero(labels == label)
        row = {"cluster": int(label), "size": int(len(members)), "share": round(len(members) / len(labels), 6),
               "keywords": list(saved.keywords.keywords.get(int(label), []))}
        if texts is not None:
            centroid = unit[members].mean(axis=0)
            nearest = members[np.argsort(-(unit[members] @ centroid), kind="stable")[:EXAMPLES_PER_CLUSTER]]
            row["examples"] = [str(texts[member]) for member in nearest]
        rows.append(row)
    return sorted(rows, key=lambda row: (-row["size"], row["cluster"]))


def _quantiles(values: np.ndarray) -> dict[str, float]:
    return {"mean": round(float(np.mean(values)), 6),
            **{f"p{q:02d}": round(float(np.quantile(values, q / 100)), 6) for q in (5, 50, 95)}}


def _similarity_section(profile: SimilarityProfile) -> dict[str, Any]:
    section = {"random_pairs": {"n": int(len(profile.random_pairs)), **_quantiles(profile.random_pairs)},
               "nearest_neighbour": _quantiles(profile.nearest),
               "anisotropy": round(profile.anisotropy, 6), "hubness_skewness": round(profile.hubness, 6),
               "hubness_k": profile.k, "anisotropy_sentence": profile.anisotropy_sentence(),
               "hubness_sentence": profile.hubness_sentence()}
    if len(profile.within) and len(profile.between):
        section["same_cluster_pairs_mean"] = round(float(profile.within.mean()), 6)
        section["different_cluster_pairs_mean"] = round(float(profile.between.mean()), 6)
    return section


def _quality_section(workspace: Workspace, points: pd.DataFrame, include_texts: bool) -> dict[str, Any]:
    flags = workspace.flags()
    threshold = flags.threshold if flags is not None else DUPLICATE_THRESHOLD
    k = flags.k if flags is not None else DEFAULT_OUTLIER_K
    graph = cosine_graph(workspace)
    pairs = find_duplicates(workspace, threshold, graph=graph)
    grouped = pairs.groups[pairs.groups >= 0]
    sizes = np.bincount(grouped) if len(grouped) else np.zeros(0, dtype=np.int64)
    in_groups = int(sizes.sum())
    texts = points["text"].to_numpy()
    largest = []
    for group in np.argsort(-sizes, kind="stable")[:TOP_GROUPS]:
        members = np.flatnonzero(pairs.groups == group)
        entry = {"size": int(len(members)), "ids": [str(value) for value in points["id"].to_numpy()[members[:5]]]}
        if include_texts:
            entry["examples"] = [str(texts[member]) for member in members[:3]]
        largest.append(entry)
    outliers = find_outliers(workspace, k, graph=graph)
    order = np.argsort(outliers.rank, kind="stable")[:TOP_OUTLIERS]
    top = []
    for row in order:
        entry = {"rank": int(outliers.rank[row]), "id": str(points["id"].to_numpy()[row]),
                 "score": round(float(outliers.combined[row]), 6), "reasons": outliers.reasons(int(row))}
        if include_texts:
            entry["text"] = str(texts[row])
        top.append(entry)
    return {"duplicate_threshold": threshold, "n_pairs": int(pairs.n_pairs), "n_groups": pairs.n_groups,
            "points_in_groups": in_groups,
            # The share of points a de-duplication would drop: all but one of each group.
            "duplicate_share": round((in_groups - pairs.n_groups) / max(len(points), 1), 6),
            "largest_groups": largest, "outlier_k": k, "top_outliers": top}


def _audit_section(audit: PairsAudit, include_texts: bool) -> dict[str, Any]:
    pairs = audit.pairs
    above = audit.scores >= audit.threshold
    wrong = np.flatnonzero((pairs.relevant & ~above) | (~pairs.relevant & above))
    section = {"summary": audit.summary(), "notes": list(audit.notes + pairs.notes),
               "best_threshold_interval": list(audit.best_threshold_interval) if audit.best_threshold_interval
               else None, "relevant_from": pairs.relevant_from, "n_relevant": int(pairs.relevant.sum()),
               "n_misjudged": int(len(wrong))}
    if include_texts:
        order = wrong[np.argsort(audit.scores[wrong], kind="stable")][:TOP_FAILURES]
        section["misjudged"] = [{"text_a": pairs.text_a[row], "text_b": pairs.text_b[row],
                                 "relevant": bool(pairs.relevant[row]), "cosine": round(float(audit.scores[row]), 6)}
                                for row in order]
    return section


def _evaluation_section(evaluation: RetrievalReport, data: RetrievalSet, include_texts: bool) -> dict[str, Any]:
    failures = evaluation.failures(data)
    section = {"summary": evaluation.summary(), "k": evaluation.k, "n_documents": len(data.doc_ids),
               "notes": list(data.notes), "n_failures": int(len(failures))}
    columns = ["query_id", "missed_doc_ids", "first_relevant_rank", "first_relevant_score"]
    if include_texts:
        columns += ["query", "outranked_by"]
    section["failures"] = [{key: _plain(value) for key, value in row.items()}
                           for row in failures[columns].head(TOP_FAILURES).to_dict("records")]
    return section


def verdict(data: dict[str, Any]) -> list[dict[str, str]]:
    """Plain sentences on what the numbers say, each with the figure it rests on."""
    sentences = []
    similarity = data["similarity"]
    baseline = similarity["random_pairs"]["mean"]
    sentences.append({"topic": "baseline", "sentence": similarity["anisotropy_sentence"]})
    sentences.append({"topic": "hubness", "sentence": similarity["hubness_sentence"]})
    audit = data.get("audit")
    if audit is not None:
        summary = audit["summary"]
        auc, threshold = summary["auc"], summary["threshold"]
        if auc is not None:
            level = "well" if auc >= 0.9 else "fairly" if auc >= 0.8 else "poorly"
            sentences.append({"topic": "calibration", "sentence": (
                f"ROC AUC {auc:.3f}: the model separates relevant from irrelevant pairs {level} (0.9 and above "
                "is good, below 0.8 poor).")})
        share = summary["share_relevant_above"]
        if share is not None:
            mostly = "mostly" if share >= 0.5 else "mostly not"
            sentences.append({"topic": "threshold", "sentence": (
                f"Relevant pairs are {mostly} above {threshold:.2f} cosine for this model ({share:.0%} are), "
                f"where two random texts of this workspace score {baseline:.2f} on average; "
                + (f"the F1-best threshold is {summary['best_threshold']:.3f}." if summary["best_threshold"]
                   is not None else "no F1-best threshold is defined (one class only)."))})
    evaluation = data.get("evaluation")
    if evaluation is not None:
        recall = evaluation["summary"]["recall@10"]
        level = "good" if recall > 0.9 else "poor" if recall < 0.7 else "middling"
        sentences.append({"topic": "retrieval", "sentence": (
            f"Recall@10 {recall:.3f}: {level} (above 0.9 is good, below 0.7 poor); "
            f"{evaluation['n_failures']:,} queries missed a relevant document in the top {evaluation['k']}.")})
    quality = data["quality"]
    sentences.append({"topic": "duplicates", "sentence": (
        f"{quality['duplicate_share']:.1%} of the points are near-duplicates of another (cosine at or above "
        f"{quality['duplicate_threshold']:.3f}) and could be dropped, keeping one of each of "
        f"{quality['n_groups']:,} groups.")})
    map_section = data["map"]
    if map_section["noise_fraction"] > 0.5:
        sentences.append({"topic": "clusters", "sentence": (
            f"{map_section['noise_fraction']:.0%} of the points are in no cluster: the map's clusters describe a "
            "minority of the corpus (try a smaller minimum cluster size, or leaf selection).")})
    elif map_section["largest_cluster_share"] > 0.5:
        sentences.append({"topic": "clusters", "sentence": (
            f"One cluster holds {map_section['largest_cluster_share']:.0%} of the points: the clustering says "
            "little (try leaf selection, or a smaller minimum cluster size).")})
    else:
        sentences.append({"topic": "clusters", "sentence": (
            f"{map_section['n_clusters']:,} clusters; {map_section['noise_fraction']:.0%} of the points are in "
            "none.")})
    return sentences


def _plain(value):
    """A numpy scalar as the plain Python value JSON can hold."""
    if isinstance(value, float) and np.isnan(value):
        return None
    return value.item() if hasattr(value, "item") else value
