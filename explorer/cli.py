"""Command line: the same pipeline without a browser (``python -m explorer ...``)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from explorer.errors import InputError


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.data_dir is not None:
        from explorer.paths import DATA_DIR_VARIABLE

        os.environ[DATA_DIR_VARIABLE] = str(args.data_dir.expanduser().resolve())
    try:
        return args.handler(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (OSError, MemoryError) as error:
        print(f"error: {error.__class__.__name__}: {error}", file=sys.stderr)
        return 2


MODEL_HELP = "model id (see 'models'), a sentence-transformers folder, or openai:NAME (a server at $OPENAI_BASE_URL)"


def _parser() -> argparse.ArgumentParser:
    """Options default to None where a config or function decides; the help quotes its default from there."""
    from explorer import __version__
    from explorer.analysis.flags import DEFAULT_THRESHOLD as DUPLICATE_THRESHOLD
    from explorer.analysis.quality import DEFAULT_OUTLIER_K
    from explorer.analysis.search import DEFAULT_K, MODES
    from explorer.audits.labels import DEFAULT_K as LABEL_K
    from explorer.audits.pairs import DEFAULT_THRESHOLD as AUDIT_THRESHOLD
    from explorer.embedding.encoders import DEFAULT_MODEL, ONNX_INT8, TORCH
    from explorer.embedding.ray_engine import RayConfig
    from explorer.ingest.chunk import ChunkConfig
    from explorer.ingest.reading import SEPARATORS
    from explorer.mapping.cluster import ClusterConfig
    from explorer.mapping.index import METRICS, IndexConfig

    parser = argparse.ArgumentParser(prog="explorer", description="Look inside an embedding space: the app, and the "
                                                                   "same jobs without a browser.")
    parser.add_argument("--version", action="version", version=f"explorer {__version__}")
    parser.add_argument("--data-dir", type=Path, help="where workspaces and caches live (default: $EXPLORER_DATA_DIR, "
                                                      "a source checkout's data/, else your user data folder)")
    commands = parser.add_subparsers(dest="command", required=True)

    app = commands.add_parser("app", help="start the app (on FILE: build its workspace first, then open it)")
    app.add_argument("input", type=Path, nargs="?", help="a file to explore (CSV, TSV, TXT, JSONL, Parquet)")
    app.add_argument("--text-col", help="the column of texts (default: the column with the longest texts)")
    app.add_argument("--model", help=f"model id (see 'models'); default {DEFAULT_MODEL}")
    app.add_argument("--name", help="the workspace's name (default: the file's name)")
    app.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    app.add_argument("--port", type=int, default=8501, help="default 8501")
    app.add_argument("--no-browser", action="store_true", help="do not open a browser")
    app.set_defaults(handler=_app)

    build = commands.add_parser("build", help="embed a file and write a workspace the app can open")
    build.add_argument("input", type=Path)
    build.add_argument("--out", type=Path, required=True, help="workspace folder to write")
    build.add_argument("--text-col", help="text column (default: the column with the longest texts)")
    build.add_argument("--separator", choices=list(SEPARATORS), help="CSV separator (default: detected)")
    build.add_argument("--id-col", help="id column (default: 0-based row number)")
    build.add_argument("--meta-col", action="append", default=[], help="metadata column to keep (repeatable)")
    build.add_argument("--model", help=f"model id (see 'models'), a sentence-transformers folder, or openai:NAME (a "
                                       f"server at $OPENAI_BASE_URL); default {DEFAULT_MODEL}")
    build.add_argument("--backend", choices=[ONNX_INT8, TORCH],
                       help=f"what runs the model, where it can choose (all-MiniLM-L6-v2: default {ONNX_INT8})")
    build.add_argument("--vectors", type=Path, help="precomputed vectors (.npy, or a file with --vectors-col)")
    build.add_argument("--vectors-col", help="column of float lists in the --vectors file")
    build.add_argument("--chunk-tokens", type=int, help="tokens per chunk (default: the model's limit)")
    build.add_argument("--chunk-overlap", type=int,
                       help=f"tokens shared by consecutive chunks (default {ChunkConfig.overlap})")
    build.add_argument("--no-chunking", action="store_true", help="keep texts whole (the model truncates)")
    build.add_argument("--metric", choices=METRICS, help=f"default {IndexConfig.metric}")
    build.add_argument("--min-cluster-size", type=int, help=f"HDBSCAN (default {ClusterConfig.min_cluster_size})")
    build.add_argument("--min-samples", type=int, help=f"HDBSCAN (default {ClusterConfig.min_samples})")
    build.add_argument("--engine", choices=["local", "ray"], default="local",
                       help="where the texts are embedded: in this process (default) or on Ray Data "
                            "(pip install -r requirements-ray.txt)")
    build.add_argument("--ray-address", help="a running Ray cluster's head, host:port (default: a local Ray runtime "
                                             "on this machine's cores)")
    build.add_argument("--ray-shard-rows", type=int, help=f"texts per Ray shard (default {RayConfig.shard_rows:,})")
    build.add_argument("--ray-actors", type=int, help="encoder actors (default: one per CPU of the cluster, up to 8)")
    build.add_argument("--json", action="store_true", help="print the workspace summary as JSON")
    build.add_argument("--progress", action="store_true",
                       help="report each stage's progress on stderr (the default when stderr is a terminal)")
    build.set_defaults(handler=_build)

    sample = commands.add_parser("sample", help="build the bundled sample's workspace (the app's first map), unless "
                                                "it exists; the app shows this build's progress")
    sample.add_argument("--force", action="store_true", help="build it again even if it exists")
    sample.add_argument("--json", action="store_true")
    sample.set_defaults(handler=_sample)

    info = commands.add_parser("info", help="summarise a workspace")
    info.add_argument("workspace", type=Path)
    info.add_argument("--json", action="store_true")
    info.set_defaults(handler=_info)

    search = commands.add_parser("search", help="top-k results of a typed query in a workspace")
    search.add_argument("workspace", type=Path)
    search.add_argument("--query", required=True, help="the text to search for")
    search.add_argument("-k", type=int, default=DEFAULT_K, help=f"number of results (default {DEFAULT_K})")
    search.add_argument("--mode", default=MODES[0], choices=MODES,
                        help="vector (the workspace's model), keyword (BM25) or hybrid (both, fused by RRF)")
    search.add_argument("--json", action="store_true")
    search.set_defaults(handler=_search)

    recluster = commands.add_parser("recluster", help="cluster a workspace again (HDBSCAN on its saved 5-D layout)")
    recluster.add_argument("workspace", type=Path)
    recluster.add_argument("--min-cluster-size", type=int,
                           help=f"HDBSCAN (default: the workspace's, first {ClusterConfig.min_cluster_size})")
    recluster.add_argument("--min-samples", type=int, help="HDBSCAN (default: the workspace's)")
    recluster.add_argument("--leaf", action="store_true", help="leaf selection: many small, homogeneous clusters")
    recluster.add_argument("--sweep", action="store_true",
                           help="save nothing; list clusters, noise and the largest cluster's share for a grid of "
                                "settings")
    recluster.add_argument("--json", action="store_true")
    recluster.set_defaults(handler=_recluster)

    dupes = commands.add_parser("dupes", help="near-duplicate pairs and groups of a workspace")
    dupes.add_argument("workspace", type=Path)
    dupes.add_argument("--threshold", type=float, default=DUPLICATE_THRESHOLD,
                       help=f"cosine similarity threshold (default {DUPLICATE_THRESHOLD})")
    dupes.add_argument("--json", action="store_true")
    dupes.set_defaults(handler=_dupes)

    outliers = commands.add_parser("outliers", help="the most outlying points of a workspace, with reasons")
    outliers.add_argument("workspace", type=Path)
    outliers.add_argument("--top", type=int, default=50, help="how many to list (default 50)")
    outliers.add_argument("-k", type=int, default=DEFAULT_OUTLIER_K,
                          help=f"neighbours for the k-NN and LOF scores (default {DEFAULT_OUTLIER_K})")
    outliers.add_argument("--json", action="store_true")
    outliers.set_defaults(handler=_outliers)

    audit = commands.add_parser("audit", help="calibration audit of a model on labelled text pairs")
    audit.add_argument("pairs", type=Path, help="text_a, text_b and label (0/1) or score (graded) columns")
    audit.add_argument("--model", required=True, help=MODEL_HELP)
    _measuring_backend(audit)
    audit.add_argument("--threshold", type=float, default=AUDIT_THRESHOLD,
                       help=f"cosine threshold (default {AUDIT_THRESHOLD})")
    audit.add_argument("--fail-below-auc", type=float, help="exit 1 when the ROC AUC is below this")
    audit.add_argument("--json", action="store_true")
    audit.set_defaults(handler=_audit)

    evaluation = commands.add_parser("eval", help="retrieval evaluation (recall, MRR, nDCG) through a FAISS index")
    evaluation.add_argument("--corpus", type=Path, required=True, help="doc_id, text")
    evaluation.add_argument("--queries", type=Path, required=True,
                            help="query_id, query, relevant_doc_id (one row per relevant document)")
    evaluation.add_argument("--model", required=True, help=MODEL_HELP)
    _measuring_backend(evaluation)
    evaluation.add_argument("-k", type=int, default=DEFAULT_K,
                            help=f"the cut-off for listing failures (default {DEFAULT_K})")
    evaluation.add_argument("--fail-below-recall", type=float, help="exit 1 when recall@k is below this")
    evaluation.add_argument("--json", action="store_true")
    evaluation.set_defaults(handler=_eval)

    report = commands.add_parser("report", help="one self-contained HTML report of a workspace (and its JSON twin)")
    report.add_argument("workspace", type=Path)
    report.add_argument("--out", type=Path, required=True,
                        help="the HTML file to write; its JSON twin is written beside it (same name, .json)")
    report.add_argument("--pairs", type=Path, help="add the calibration audit of these labelled pairs (as 'audit')")
    report.add_argument("--queries", type=Path,
                        help="add the retrieval evaluation of these queries (as 'eval'; the corpus is --corpus, or "
                             "the workspace's own texts when it was not chunked)")
    report.add_argument("--corpus", type=Path, help="doc_id, text: the corpus the --queries search")
    report.add_argument("--model", help="the model that embeds the pairs and queries (default: the workspace's); a "
                                        "folder or openai:NAME too")
    _measuring_backend(report)
    report.add_argument("--threshold", type=float, default=AUDIT_THRESHOLD,
                        help=f"the audit's cosine threshold (default {AUDIT_THRESHOLD})")
    report.add_argument("--no-texts", action="store_true",
                        help="leave every text (and the metadata) out, for reports shared outside the team")
    report.add_argument("--fail-below-auc", type=float, help="exit 1 when the audit's ROC AUC is below this")
    report.add_argument("--fail-below-recall", type=float, help="exit 1 when recall@10 is below this")
    report.add_argument("--fail-above-duplicates", type=float, metavar="SHARE",
                        help="exit 1 when more than this share of the points are near-duplicates of another")
    report.add_argument("--json", action="store_true", help="also print the JSON twin")
    report.set_defaults(handler=_report)

    labels = commands.add_parser("label-audit", help="leave-one-out k-NN classification of a label column: "
                                                     "accuracy, per-class figures, and labels that look wrong")
    labels.add_argument("workspace", type=Path)
    labels.add_argument("--label", required=True, help="a metadata column kept in the workspace")
    labels.add_argument("-k", type=int, default=LABEL_K, help=f"neighbours that vote (default {LABEL_K})")
    labels.add_argument("--top", type=int, default=20, help="suspect labels listed (default 20)")
    labels.add_argument("--fail-below-accuracy", type=float, help="exit 1 when the accuracy is below this")
    labels.add_argument("--json", action="store_true")
    labels.set_defaults(handler=_label_audit)

    compress = commands.add_parser("compress-audit", help="neighbours kept by fewer dimensions or bits (truncation, "
                                                          "8-bit, binary, product quantisation)")
    compress.add_argument("workspace", type=Path)
    compress.add_argument("-k", type=int, default=10, help="neighbours compared (default 10)")
    compress.add_argument("--queries", type=Path, help="query_id, query, relevant_doc_id (the workspace's ids): add "
                                                       "each setting's recall@10 and MRR@10 by document")
    compress.add_argument("--json", action="store_true")
    compress.set_defaults(handler=_compress_audit)

    lab = commands.add_parser("chunk-lab", help="compare two to four chunking settings of a corpus of long "
                                                "documents: vectors, truncation, duplicates, clusters, recall")
    lab.add_argument("input", type=Path, help="the documents (a table file)")
    lab.add_argument("--text-col", required=True, help="the column of texts")
    lab.add_argument("--id-col", help="the documents' ids (default: 0-based row number); --queries refer to them")
    lab.add_argument("--settings", required=True,
                     help="TOKENS:OVERLAP pairs, comma-separated, 'off' for whole texts (e.g. off,128:16,256:32)")
    lab.add_argument("--queries", type=Path, help="query_id, query, relevant_doc_id: score recall by document")
    lab.add_argument("--model", help=f"{MODEL_HELP}; default {DEFAULT_MODEL}")
    _measuring_backend(lab)
    lab.add_argument("--threshold", type=float, default=DUPLICATE_THRESHOLD,
                     help=f"near-duplicate cosine threshold (default {DUPLICATE_THRESHOLD})")
    lab.add_argument("--json", action="store_true")
    lab.set_defaults(handler=_chunk_lab)

    coverage = commands.add_parser("coverage", help="real queries on a workspace's map: clusters no query reaches, "
                                                    "queries with no relevant document, hub documents")
    coverage.add_argument("workspace", type=Path)
    coverage.add_argument("--queries", type=Path, required=True, help="a file of queries (a 'query' or 'text' "
                                                                      "column, or one per line)")
    _new_data_options(coverage)
    coverage.add_argument("--fail-above-unanswered", type=float, metavar="SHARE",
                          help="exit 1 when more than this share of the queries has no document above the line")
    coverage.set_defaults(handler=_coverage)

    drift = commands.add_parser("drift", help="a new batch of documents on a workspace's map: cluster shares "
                                              "before and after, and each document's novelty")
    drift.add_argument("workspace", type=Path)
    drift.add_argument("--batch", type=Path, required=True, help="a file of new documents (a 'text' column, or "
                                                                 "the column with the longest texts)")
    _new_data_options(drift)
    drift.add_argument("--top", type=int, default=20, help="most novel documents listed (default 20)")
    drift.set_defaults(handler=_drift)

    topics = commands.add_parser("topics", help="a workspace's topic tree: the topics of one level (0 = the top), "
                                                "their names, sizes and parents, and each point's topic")
    topics.add_argument("workspace", type=Path)
    topics.add_argument("--level", type=int, default=0, help="0 (the top, default) to the finest (the clusters)")
    topics.add_argument("--json", action="store_true")
    topics.set_defaults(handler=_topics)

    mcp = commands.add_parser("mcp", help="serve workspaces read-only to a coding agent (Model Context Protocol, "
                                          "stdio): search, neighbours, clusters, duplicates, outliers, audits")
    mcp.add_argument("workspace", type=Path, nargs="+")
    mcp.set_defaults(handler=_mcp)

    models = commands.add_parser("models", help="list the embedding models")
    models.add_argument("--json", action="store_true")
    models.set_defaults(handler=_models)
    return parser


def _build(args: argparse.Namespace) -> int:
    from explorer.build.pipeline import build_workspace
    from explorer.config import BuildConfig
    from explorer.embedding.embed import read_vectors
    from explorer.embedding.encoders import DEFAULT_MODEL
    from explorer.embedding.loading import check_model_id
    from explorer.ingest.chunk import ChunkConfig
    from explorer.ingest.corpus import IngestConfig, choose_text_column
    from explorer.ingest.provenance import SourceFile
    from explorer.ingest.reading import read_file
    from explorer.mapping.cluster import ClusterConfig
    from explorer.mapping.index import IndexConfig
    from explorer.workspace import check_build_target, clean_stale_builds

    if args.vectors_col and not args.vectors:
        raise InputError("--vectors-col names a column of the --vectors file: give --vectors too.")
    if args.model:
        check_model_id(args.model)
    check_build_target(args.out)
    for name in clean_stale_builds(args.out.parent):
        print(f"note: removed the unfinished build of '{name}' left by a build that was stopped", file=sys.stderr)
    data = _read(args.input)
    read = read_file(data, args.input.name, separator=args.separator)
    table = read.table
    for note in read.notes:
        print(f"note: {note}", file=sys.stderr)
    text_column = args.text_col
    if text_column is None:
        choice = choose_text_column(table)
        text_column = choice.name
        print(f"note: text column {choice.reason}", file=sys.stderr)
    config = BuildConfig(
        ingest=IngestConfig(text_column, args.id_col, tuple(args.meta_col)),
        model_id=args.model or DEFAULT_MODEL,
        chunk=ChunkConfig(**_given(enabled=not args.no_chunking, max_tokens=args.chunk_tokens,
                                   overlap=args.chunk_overlap)),
        index=IndexConfig(**_given(metric=args.metric)),
        cluster=ClusterConfig(**_given(min_cluster_size=args.min_cluster_size, min_samples=args.min_samples)),
        backend=args.backend)
    vectors = read_vectors(_read(args.vectors), args.vectors.name, column=args.vectors_col) if args.vectors else None
    if vectors is not None and args.model:
        raise InputError("Give either --model or --vectors, not both.")
    ray = _ray_config(args)
    if ray is not None and vectors is not None:
        raise InputError("--engine ray embeds texts; with --vectors there is nothing to embed. Leave one out.")
    progress = console_progress(sys.stderr) if args.progress or sys.stderr.isatty() else None
    workspace = build_workspace(table, config, args.out, source=str(args.input), vectors=vectors,
                                source_file=SourceFile.of(args.input.name, data), progress=progress, ray=ray)
    _print_summary(workspace.manifest, as_json=args.json)
    return 0


def _ray_config(args: argparse.Namespace):
    """The Ray settings of ``--engine ray`` (a ``RayConfig``), or None for the in-process engine."""
    from explorer.embedding.ray_engine import RayConfig

    ray_options = _given(address=args.ray_address, shard_rows=args.ray_shard_rows, actors=args.ray_actors)
    if args.engine != "ray":
        if ray_options:
            raise InputError("--ray-address, --ray-shard-rows and --ray-actors need --engine ray.")
        return None
    return RayConfig(**ray_options)


SERVER_OPTIONS = ("--server.fileWatcherType", "none", "--server.maxUploadSize", "500",
                  "--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal",
                  "--client.showErrorDetails", "type", "--client.disableDataExport", "true")
"""The app's Streamlit settings (as .streamlit/config.toml of a checkout sets them): uploads up to 500 MB; tables'
own CSV export off (it writes formulas raw; every table has a formula-safe download instead)."""


def _app(args: argparse.Namespace) -> int:
    """Build the file's workspace (unless the workspace of that name already holds this very file), then serve the
    app from the installed package until stopped."""
    import importlib.util
    import subprocess

    from explorer.paths import workspaces_root
    from explorer.workspace import safe_name

    link = ""
    if args.input is not None:
        name = safe_name(args.name or args.input.stem)
        out = workspaces_root() / name
        if _holds_file(out, args.input):
            print(f"note: workspace '{name}' already holds {args.input.name}; opening it", file=sys.stderr)
        else:
            built = main(["build", str(args.input), "--out", str(out), "--progress",
                          *(["--text-col", args.text_col] if args.text_col else []),
                          *(["--model", args.model] if args.model else [])])
            if built:
                return built
        link = f"?workspace={name}"
    entry = importlib.util.find_spec("explorer.app.main").origin
    print(f"The app: http://{args.host}:{args.port}/{link} (Ctrl-C stops it)", file=sys.stderr)
    command = [sys.executable, "-m", "streamlit", "run", entry, "--server.address", args.host,
               "--server.port", str(args.port), "--server.headless", "true" if args.no_browser else "false",
               *SERVER_OPTIONS]
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 0


def _topics(args: argparse.Namespace) -> int:
    from explorer.workspace import Workspace

    tree = Workspace.open(args.workspace).topics()
    if tree is None:
        raise InputError("This workspace was built before topic trees were made: re-cluster it (explorer recluster) "
                         "or build it again.")
    if not 0 <= args.level < tree.n_levels:
        raise InputError(f"--level must be between 0 and {tree.n_levels - 1} (this tree has {tree.n_levels} levels).")
    table = tree.table(args.level)
    if args.json:
        print(json.dumps({"level": args.level, "n_levels": tree.n_levels, "topics": table,
                          "labels": tree.labels[args.level].tolist()}))
        return 0
    for row in table:
        parent = f"  (in: {tree.name(args.level - 1, row['parent'])})" if args.level else ""
        print(f"{row['topic']:>4}  {row['size']:>8,}  {row['name']}{parent}")
    return 0


def _mcp(args: argparse.Namespace) -> int:
    from explorer.mcp import serve

    serve(args.workspace)
    return 0


def _holds_file(out: Path, source: Path) -> bool:
    """Whether the workspace ``out`` was built from a file with ``source``'s exact bytes."""
    from explorer.ingest.provenance import SourceFile
    from explorer.workspace import MANIFEST, Workspace

    if not (out / MANIFEST).is_file() or not source.is_file():
        return False
    recorded = (Workspace.open(out).manifest.provenance or {}).get("source_file") or {}
    return recorded.get("sha256") == SourceFile.of(source.name, _read(source)).sha256


def _sample(args: argparse.Namespace) -> int:
    from explorer.build.sample import build_sample_workspace, sample_workspace_path
    from explorer.workspace import MANIFEST, Workspace, build_running

    out = sample_workspace_path()
    if build_running(out):
        print("note: the sample is being built by another process", file=sys.stderr)
        return 0
    workspace = Workspace.open(out) if (out / MANIFEST).is_file() and not args.force else build_sample_workspace()
    _print_summary(workspace.manifest, as_json=args.json)
    return 0


def console_progress(stream: IO[str], *, every: float = 2.0,
                     clock: Callable[[], float] = time.monotonic) -> Callable[..., None]:
    """A stage-progress callback for the command line: a line when a stage starts, then at most every ``every``
    seconds the share done (with the items done and their rate, where the stage counts them) and the time left at
    the stage's measured pace, and a line when it ends."""
    from explorer.workspace.progress import Counts, stage_sentence

    current: dict[str, float] = {}
    last_line = [float("-inf")]

    def report(stage: str, fraction: float, counts: Counts | None = None) -> None:
        now = clock()
        if current.get("stage") != stage:
            current.clear()
            current.update(stage=stage, started=now)
        elif now - last_line[0] < every and fraction < 1.0:
            return
        last_line[0] = now
        print(stage_sentence(stage, fraction, elapsed=now - current["started"], counts=counts), file=stream,
              flush=True)

    return report


def _given(**options) -> dict:
    """The options the user gave; the others are left to the config's defaults."""
    return {name: value for name, value in options.items() if value is not None}


def _read(path: Path) -> bytes:
    from explorer.ingest.limits import check_input_size

    if not path.is_file():
        raise InputError(f"No such file: {path}")
    check_input_size(path.stat().st_size, path.name)
    return path.read_bytes()


def _info(args: argparse.Namespace) -> int:
    from explorer.workspace import Workspace

    _print_summary(Workspace.open(args.workspace).manifest, as_json=args.json)
    return 0


SUMMARY_FIELDS = ("name", "source", "n_documents", "n_points", "model", "dim", "metric", "index_type",
                  "n_clusters", "noise_fraction")


def _print_summary(manifest, *, as_json: bool) -> None:
    summary = {field: getattr(manifest, field) for field in SUMMARY_FIELDS}
    summary["notes"] = list(manifest.notes)
    if as_json:
        print(json.dumps(summary))
        return
    for field in SUMMARY_FIELDS:
        print(f"{field:>15}: {summary[field]}")
    for note in summary["notes"]:
        print(f"{'note':>15}: {note}")


def _search(args: argparse.Namespace) -> int:
    from explorer.analysis.search import KeywordIndex, hits_table, query_encoder, search
    from explorer.workspace import Workspace

    workspace = Workspace.open(args.workspace)
    index, points = workspace.index(), workspace.points()
    encoder = query_encoder(workspace) if args.mode != "keyword" else None
    keywords = None
    if args.mode != "vector":
        keywords = KeywordIndex.build(points["text"].tolist())
    hits = search(args.query, mode=args.mode, k=args.k, index=index, encoder=encoder, keywords=keywords)
    table = hits_table(hits, points)
    results = [{"rank": rank, "id": _plain(identifier), "chunk": int(chunk), "score": float(score), "text": text,
                "vector_rank": int(vector_rank) or None, "keyword_rank": int(keyword_rank) or None}
               for rank, identifier, chunk, score, text, vector_rank, keyword_rank in zip(
                   table["rank"], table["id"], table["chunk"], hits.scores, table["text"], hits.vector_ranks,
                   hits.keyword_ranks)]
    summary = {"query": hits.query, "model": index.model_id, "metric": index.metric, "mode": hits.mode,
               "score": hits.score_name, "notes": list(hits.notes), "results": results}
    if args.json:
        print(json.dumps(summary))
        return 0
    for note in hits.notes:
        print(f"note: {note}")
    for result in results:
        print(f"{result['rank']:>3}  {result['score']:.4f}  {result['id']}#{result['chunk']}  {result['text'][:100]}")
    return 0


def _recluster(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from explorer.build.recluster import recluster, sweep_clusters, sweep_points
    from explorer.mapping.cluster import clustering_problem
    from explorer.workspace import Workspace

    workspace = Workspace.open(args.workspace)
    selection = "leaf" if args.leaf else "eom"
    if args.sweep:
        table = sweep_clusters(sweep_points(workspace), selection=selection)
        if args.json:
            print(json.dumps(table.to_dict("records")))
        else:
            print(table.to_string(index=False, float_format=lambda value: f"{value:.3f}"))
        return 0
    current = workspace.manifest.config.cluster
    config = replace(current, selection=selection, **_given(min_cluster_size=args.min_cluster_size,
                                                            min_samples=args.min_samples))
    clustering = recluster(workspace, config)
    summary = {"min_cluster_size": config.min_cluster_size, "min_samples": config.min_samples,
               "selection": config.selection, "n_clusters": clustering.n_clusters,
               "noise_fraction": clustering.noise_fraction, "problem": clustering_problem(clustering, config)}
    if args.json:
        print(json.dumps(summary))
    else:
        for field, value in summary.items():
            print(f"{field:>16}: {value}")
    return 0


def _dupes(args: argparse.Namespace) -> int:
    from explorer.analysis.flags import exact_duplicate_groups
    from explorer.analysis.quality import find_duplicates
    from explorer.workspace import Workspace

    workspace = Workspace.open(args.workspace)
    points = workspace.points()
    pairs = find_duplicates(workspace, args.threshold)
    ids, chunks = [_plain(value) for value in points["id"]], points["chunk"].to_numpy()
    split = bool((chunks > 0).any())
    listed = []
    for a, b, score in zip(pairs.a.tolist(), pairs.b.tolist(), pairs.scores.tolist()):
        pair = {"a": ids[a], "b": ids[b], "score": round(score, 6)}
        if split:
            pair.update(a_chunk=int(chunks[a]), b_chunk=int(chunks[b]))
        listed.append(pair)
    members = {}
    for row, group in enumerate(pairs.groups.tolist()):
        if group >= 0:
            members.setdefault(group, []).append(ids[row])
    summary = {"threshold": pairs.threshold, "n_pairs": pairs.n_pairs, "n_listed": len(listed), "pairs": listed,
               "groups": [members[group] for group in sorted(members)],
               "exact_groups": [[ids[row] for row in group]
                                for group in exact_duplicate_groups(points["text"].tolist())],
               "chained_groups": [members[group] for group in pairs.chained_groups()]}
    if args.json:
        print(json.dumps(summary))
        return 0
    print(f"{summary['n_pairs']} pairs at cosine >= {pairs.threshold} in {len(summary['groups'])} groups; "
          f"{len(summary['exact_groups'])} groups of identical texts; {len(summary['chained_groups'])} chained groups")
    if pairs.capped:
        print(f"listing {len(listed):,} of the {pairs.n_pairs:,} pairs: each group of identical texts once, as its "
              "first row with each other member")
    for pair in listed[:50]:
        print(f"{pair['score']:.4f}  {pair['a']}  {pair['b']}")
    return 0


def _outliers(args: argparse.Namespace) -> int:
    from explorer.analysis.quality import find_outliers, outlier_table
    from explorer.workspace import Workspace

    workspace = Workspace.open(args.workspace)
    scores = find_outliers(workspace, args.k)
    table = outlier_table(scores, workspace.points(), top=args.top)
    results = [{"rank": int(row.rank), "id": _plain(row.id), "chunk": int(row.chunk),
                "score": round(float(row.combined), 6), "text": row.text, "reasons": scores.reasons(int(row.row)),
                "knn_distance": round(float(row.knn_distance), 6),
                "glosh": round(float(row.glosh), 6), "lof": round(float(row.lof), 6)}
               for row in table.itertuples(index=False)]
    if args.json:
        print(json.dumps({"k": scores.k, "results": results}))
        return 0
    for result in results:
        print(f"{result['rank']:>4}  {result['score']:.3f}  {result['id']}  {'; '.join(result['reasons'])}  "
              f"{result['text'][:80]}")
    return 0


def _audit(args: argparse.Namespace) -> int:
    from explorer.audits.pairs import audit_pairs, pair_scores, read_pairs
    from explorer.embedding.loading import measured_by
    from explorer.ingest.reading import read_table

    pairs = read_pairs(read_table(_read(args.pairs), args.pairs.name))
    encoder = _available_encoder(args.model, backend=args.backend)
    result = audit_pairs(pairs, pair_scores(pairs, encoder), model=encoder.spec.id, threshold=args.threshold)
    summary = result.summary() | measured_by(encoder)
    if args.json:
        print(json.dumps(summary))
    else:
        for field, value in summary.items():
            print(f"{field:>24}: {value}")
        for note in result.notes:
            print(f"{'note':>24}: {note}")
    if args.fail_below_auc is not None and (result.auc is None or result.auc < args.fail_below_auc):
        print(f"error: ROC AUC {result.auc} is below {args.fail_below_auc}", file=sys.stderr)
        return 1
    return 0


def _eval(args: argparse.Namespace) -> int:
    from explorer.audits.retrieval import evaluate, read_retrieval
    from explorer.embedding.loading import measured_by
    from explorer.ingest.reading import read_table

    data = read_retrieval(read_table(_read(args.corpus), args.corpus.name),
                          read_table(_read(args.queries), args.queries.name))
    encoder = _available_encoder(args.model, backend=args.backend)
    report = evaluate(data, encoder, k=args.k)
    summary = report.summary() | measured_by(encoder)
    if args.json:
        print(json.dumps(summary))
    else:
        for field, value in summary.items():
            print(f"{field:>10}: {value}")
    for note in data.notes:
        print(f"note: {note}", file=sys.stderr)
    recall = report.recall_at_k()
    if args.fail_below_recall is not None and recall < args.fail_below_recall:
        print(f"error: recall@{args.k} {recall:.4f} is below {args.fail_below_recall}", file=sys.stderr)
        return 1
    return 0


def _report(args: argparse.Namespace) -> int:
    from explorer.report.inputs import report_gates, report_inputs, write_report
    from explorer.workspace import Workspace

    if args.fail_below_auc is not None and args.pairs is None:
        raise InputError("--fail-below-auc gates the calibration audit: give the labelled pairs with --pairs.")
    if args.fail_below_recall is not None and args.queries is None:
        raise InputError("--fail-below-recall gates the retrieval evaluation: give the queries with --queries.")
    workspace = Workspace.open(args.workspace)
    inputs = report_inputs(workspace, pairs=args.pairs and _read(args.pairs), pairs_name=_name(args.pairs),
                           queries=args.queries and _read(args.queries), queries_name=_name(args.queries),
                           corpus=args.corpus and _read(args.corpus), corpus_name=_name(args.corpus),
                           model=args.model,
                           load=lambda model_id: _available_encoder(model_id, backend=args.backend))
    report = write_report(workspace, args.out, inputs, include_texts=not args.no_texts,
                          audit_threshold=args.threshold)
    print(f"wrote {args.out} and {args.out.with_suffix('.json')}", file=sys.stderr)
    if args.json:
        print(json.dumps(report.data))
    failures = report_gates(report.data, fail_below_auc=args.fail_below_auc,
                            fail_below_recall=args.fail_below_recall,
                            fail_above_duplicates=args.fail_above_duplicates)
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _name(path: Path | None) -> str | None:
    return path.name if path is not None else None


def _label_audit(args: argparse.Namespace) -> int:
    from explorer.audits.labels import audit_labels, suspects_table
    from explorer.workspace import Workspace

    workspace = Workspace.open(args.workspace)
    audit = audit_labels(workspace, args.label, k=args.k)
    summary = audit.summary()
    suspects = suspects_table(audit, workspace.points(), top=args.top)
    if args.json:
        print(json.dumps({"summary": summary, "per_class": audit.per_class().to_dict("records"),
                          "suspects": suspects.to_dict("records")}, default=_plain))
    else:
        for field, value in summary.items():
            print(f"{field:>18}: {value}")
        for row in suspects.itertuples(index=False):
            print(f"{row.id}  '{row.label}' -> '{row.neighbours_say}' ({row.vote_share:.0%})  {row.text[:70]}")
    if args.fail_below_accuracy is not None and audit.accuracy < args.fail_below_accuracy:
        print(f"error: k-NN accuracy {audit.accuracy:.4f} is below {args.fail_below_accuracy}", file=sys.stderr)
        return 1
    return 0


def _compress_audit(args: argparse.Namespace) -> int:
    from explorer.analysis.search import query_encoder
    from explorer.audits.compression import matryoshka_sentence, workspace_compression
    from explorer.ingest.reading import read_table
    from explorer.workspace import Workspace, embeddings_cache

    workspace = Workspace.open(args.workspace)
    queries = read_table(_read(args.queries), args.queries.name) if args.queries else None
    encoder = query_encoder(workspace, load=_available_encoder) if queries is not None else None
    audit = workspace_compression(workspace, k=args.k, queries=queries, encoder=encoder, cache_dir=embeddings_cache())
    if args.json:
        print(json.dumps(audit.summary(), default=_plain))
        return 0
    for row in audit.table.rename(columns=lambda name: name.replace("@", "_")).itertuples(index=False):
        recall = f"  recall@10 {row.recall_10:.3f}" if audit.n_labelled else ""
        print(f"{row.setting:<30} {row.bytes_per_vector:>7,.0f} B  overlap {row.overlap_mean:6.1%} "
              f"(p5 {row.overlap_p05:6.1%})  spearman {row.spearman:.3f}{recall}")
    print(audit.sentence())
    print(matryoshka_sentence(workspace.manifest.model, audit.matryoshka))
    return 0


def _chunk_lab(args: argparse.Namespace) -> int:
    from explorer.audits.chunk_lab import chunk_lab, parse_settings, read_documents
    from explorer.audits.retrieval import best_id_column, relevant_ids
    from explorer.embedding.encoders import DEFAULT_MODEL
    from explorer.ingest.reading import read_table
    from explorer.workspace import embeddings_cache

    settings = parse_settings(args.settings)
    table = read_table(_read(args.input), args.input.name)
    queries = read_table(_read(args.queries), args.queries.name) if args.queries else None
    id_column = args.id_col
    if queries is not None and id_column is None:
        chosen = best_id_column(table, relevant_ids(queries))
        id_column = chosen.column
        print(f"note: id column '{id_column or '(row number)'}' chosen because {chosen.sentence()}",
              file=sys.stderr)
    documents = read_documents(table, text_column=args.text_col, id_column=id_column)
    lab = chunk_lab(documents, settings, _available_encoder(args.model or DEFAULT_MODEL, backend=args.backend),
                    queries=queries,
                    threshold=args.threshold, cache_dir=embeddings_cache())
    if args.json:
        print(json.dumps(lab.summary(), default=_plain))
        return 0
    print(lab.table.to_string(index=False, float_format=lambda value: f"{value:.3f}"))
    print(lab.recommendation())
    return 0


def _new_data_options(command: argparse.ArgumentParser) -> None:
    from explorer.analysis.placement import DEFAULT_K as NEW_DATA_K

    command.add_argument("--text-col", help="the column of texts (default: see above)")
    command.add_argument("-k", type=int, default=NEW_DATA_K, help=f"top k searched (default {NEW_DATA_K})")
    command.add_argument("--model", help="must be the workspace's own model (the default); any other is refused")
    command.add_argument("--json", action="store_true")


def _placed(args: argparse.Namespace, file: Path, *, kind: str):
    """The workspace and the file's texts embedded with its model and placed on its map."""
    from explorer.analysis.placement import check_same_model, new_texts, place_texts
    from explorer.analysis.search import query_encoder
    from explorer.ingest.reading import read_table
    from explorer.workspace import Workspace

    workspace = Workspace.open(args.workspace)
    check_same_model(workspace.manifest.model, args.model)
    texts = new_texts(read_table(_read(file), file.name), kind=kind, column=args.text_col)
    encoder = query_encoder(workspace, load=_available_encoder)
    return workspace, place_texts(workspace, texts, encoder, queries=kind == "queries", k=args.k)


def _coverage(args: argparse.Namespace) -> int:
    from explorer.analysis.coverage import hubs_table, queries_table, query_coverage

    workspace, placed = _placed(args, args.queries, kind="queries")
    coverage = query_coverage(workspace, placed)
    saved, points = workspace.clustering(), workspace.points()
    labels, keywords = saved.clustering.labels, saved.keywords
    queries = queries_table(coverage, points, labels, keywords)
    if args.json:
        print(json.dumps({"summary": coverage.summary(), "sentences": coverage.sentences(),
                          "uncovered_clusters": coverage.uncovered().to_dict("records"),
                          "unanswered": queries[~queries["answered"]].to_dict("records"),
                          "hubs": hubs_table(coverage, points, labels, keywords).drop(columns="row")
                          .to_dict("records")}, default=_plain))
    else:
        for sentence in coverage.sentences():
            print(sentence)
        for row in coverage.uncovered().itertuples(index=False):
            print(f"never reached: {row.name} ({row.size:,} points)")
    unanswered = float((~coverage.answered()).mean())
    if args.fail_above_unanswered is not None and unanswered > args.fail_above_unanswered:
        print(f"error: {unanswered:.1%} of the queries have no document above the relevance line, more than "
              f"{args.fail_above_unanswered:.1%}", file=sys.stderr)
        return 1
    return 0


def _drift(args: argparse.Namespace) -> int:
    from explorer.analysis.drift import batch_drift, novel_table

    workspace, placed = _placed(args, args.batch, kind="documents")
    drift = batch_drift(workspace, placed)
    novel = novel_table(drift, workspace.points(), top=args.top)
    if args.json:
        print(json.dumps({"summary": drift.summary(), "sentence": drift.sentence(),
                          "novelty": drift.novelty.round(3).tolist(), "most_novel": novel.to_dict("records")},
                         default=_plain))
        return 0
    print(drift.sentence())
    for row in novel.itertuples(index=False):
        print(f"{row.novelty:5.1f}  {row.nearest_cosine:.3f}  {row.text[:90]}")
    return 0


def _measuring_backend(command: argparse.ArgumentParser) -> None:
    from explorer.embedding.encoders import ONNX_INT8, TORCH

    command.add_argument("--backend", choices=[ONNX_INT8, TORCH],
                         help=f"what runs the model where it can choose (default {TORCH}, the exact one: an audit "
                              "measures the model as deployed; maps default to the fast 8-bit one)")


def _available_encoder(model_id: str, *, backend: str | None = None):
    """The model as a measurement takes it (the exact backend unless another is asked for)."""
    from explorer.embedding.loading import load_for_measuring

    return load_for_measuring(model_id, backend=backend)


def _plain(value):
    """A numpy scalar as the plain Python value JSON can hold."""
    return value.item() if hasattr(value, "item") else value


def _models(args: argparse.Namespace) -> int:
    from explorer.embedding.encoders import MODELS

    rows = [{"id": spec.id, "label": spec.label, "dim": spec.dim, "max_tokens": spec.max_tokens,
             "speed": spec.speed_hint, "available": spec.available(), "install": spec.install,
             "backends": list(spec.backends), "default_backend": spec.default_backend(), "runs_on": spec.runs_on}
            for spec in MODELS.values()]
    if args.json:
        print(json.dumps(rows))
        return 0
    for row in rows:
        state = "available" if row["available"] else f"not installed: {row['install']}"
        print(f"{row['id']:<24} dim {row['dim']:<4} tokens {str(row['max_tokens']):<5} {row['speed']:<28} {state}")
    return 0
