"""A report's inputs and outputs: the optional pairs and queries files, the HTML file and its JSON twin written
atomically side by side, and the CI gates on the report's figures."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from explorer import store
from explorer.audits.pairs import LabelledPairs, read_pairs
from explorer.audits.retrieval import RetrievalSet, read_retrieval
from explorer.embedding.embed import PRECOMPUTED
from explorer.embedding.encoders import Encoder
from explorer.errors import InputError
from explorer.ingest.reading import read_table
from explorer.report.contents import Report, build_report
from explorer.report.html import report_html
from explorer.workspace import Workspace


@dataclass(frozen=True, eq=False)
class ReportInputs:
    """What the report audits beyond the workspace: labelled pairs, a retrieval set, and the model for both."""

    pairs: LabelledPairs | None = None
    retrieval_set: RetrievalSet | None = None
    encoder: Encoder | None = None


def report_inputs(workspace: Workspace, *, pairs: bytes | None = None, pairs_name: str | None = None,
                  queries: bytes | None = None, queries_name: str | None = None, corpus: bytes | None = None,
                  corpus_name: str | None = None, model: str | None = None,
                  load: Callable[[str], Encoder]) -> ReportInputs:
    """Read and check the optional files before any work (a bad file is refused with InputError, nothing written).

    The queries search ``corpus`` (``doc_id, text``) or, without one, the workspace's own texts, each point a
    document (refused for a chunked workspace, whose documents are several points). The model is ``model``, or
    the workspace's own (refused for uploaded vectors, which no model here made).
    """
    if corpus is not None and queries is None:
        raise InputError("--corpus is the corpus of the --queries: give the queries too.")
    if pairs is None and queries is None:
        return ReportInputs()
    labelled = read_pairs(read_table(pairs, pairs_name)) if pairs is not None else None
    retrieval_set = None
    if queries is not None:
        documents = read_table(corpus, corpus_name) if corpus is not None else _workspace_corpus(workspace)
        retrieval_set = read_retrieval(documents, read_table(queries, queries_name))
    model_id = model or workspace.manifest.model
    if model_id == PRECOMPUTED:
        raise InputError("This workspace's vectors were uploaded, so no model here made them: name the model that "
                         "should embed the pairs or queries with --model.")
    return ReportInputs(labelled, retrieval_set, load(model_id))


def _workspace_corpus(workspace: Workspace) -> pd.DataFrame:
    if workspace.manifest.n_chunked:
        raise InputError("This workspace's documents were split into chunks, so its points are not documents: give "
                         "the documents with --corpus (doc_id, text).")
    points = workspace.points()
    return pd.DataFrame({"doc_id": points["id"].astype(str), "text": points["text"]})


def report_page(workspace: Workspace, *, include_texts: bool = True) -> str:
    """The HTML report of the workspace alone (no pairs or queries), as the Map page offers it."""
    return report_html(build_report(workspace, include_texts=include_texts))


def write_report(workspace: Workspace, out: Path, inputs: ReportInputs, *, include_texts: bool = True,
                 audit_threshold: float | None = None, progress=None) -> Report:
    """Build the report and write ``out`` (HTML) and its JSON twin beside it, each complete or not at all."""
    out = Path(out)
    if out.suffix.lower() not in (".html", ".htm"):
        raise InputError(f"The report is an HTML file: name it with .html (got '{out.name}').")
    if out.is_dir():
        raise InputError(f"'{out}' is a folder: name the report's HTML file.")
    options = {} if audit_threshold is None else {"audit_threshold": audit_threshold}
    report = build_report(workspace, pairs=inputs.pairs, retrieval_set=inputs.retrieval_set,
                          encoder=inputs.encoder, include_texts=include_texts, progress=progress, **options)
    page = report_html(report)
    twin = json.dumps(report.data, indent=2, ensure_ascii=False)
    store.write_bytes(out, lambda temporary: temporary.write_text(page, encoding="utf-8"))
    store.write_bytes(out.with_suffix(".json"), lambda temporary: temporary.write_text(twin, encoding="utf-8"))
    return report


def report_gates(data: dict, *, fail_below_auc: float | None = None, fail_below_recall: float | None = None,
                 fail_above_duplicates: float | None = None) -> list[str]:
    """Each failed gate as a sentence naming the figure (a gate on a section the report lacks is not checked)."""
    failures = []
    if fail_below_auc is not None and "audit" in data:
        auc = data["audit"]["summary"]["auc"]
        if auc is None or auc < fail_below_auc:
            failures.append(f"ROC AUC {auc} is below {fail_below_auc}")
    if fail_below_recall is not None and "evaluation" in data:
        recall = data["evaluation"]["summary"]["recall@10"]
        if recall < fail_below_recall:
            failures.append(f"recall@10 {recall:.4f} is below {fail_below_recall}")
    if fail_above_duplicates is not None:
        share = data["quality"]["duplicate_share"]
        if share > fail_above_duplicates:
            failures.append(f"near-duplicate share {share:.4f} is above {fail_above_duplicates} (cosine at or "
                            f"above {data['quality']['duplicate_threshold']})")
    return failures
