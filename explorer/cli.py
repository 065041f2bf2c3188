"""Command line: the same pipeline without a browser (``python -m explorer ...``)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from explorer.errors import InputError


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.handler(args)
    except InputError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (OSError, MemoryError) as error:
        print(f"error: {error.__class__.__name__}: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m explorer", description="Embedding explorer pipeline.")
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="embed a file and write a workspace the app can open")
    build.add_argument("input", type=Path)
    build.add_argument("--out", type=Path, required=True, help="workspace folder to write")
    build.add_argument("--text-col", help="text column (default: the column with the longest texts)")
    build.add_argument("--id-col", help="id column (default: 0-based row number)")
    build.add_argument("--meta-col", action="append", default=[], help="metadata column to keep (repeatable)")
    build.add_argument("--model", default=None, help="model id (see 'models'); default all-MiniLM-L6-v2")
    build.add_argument("--vectors", type=Path, help="precomputed vectors (.npy, or a file with --vectors-col)")
    build.add_argument("--vectors-col", help="column of float lists in the --vectors file")
    build.add_argument("--chunk-tokens", type=int, help="tokens per chunk (default: the model's limit)")
    build.add_argument("--chunk-overlap", type=int, default=32, help="tokens shared by consecutive chunks")
    build.add_argument("--no-chunking", action="store_true", help="keep texts whole (the model truncates)")
    build.add_argument("--metric", default="cosine", choices=["cosine", "dot", "euclidean"])
    build.add_argument("--min-cluster-size", type=int, default=15)
    build.add_argument("--min-samples", type=int, default=5)
    build.add_argument("--json", action="store_true", help="print the workspace summary as JSON")
    build.set_defaults(handler=_build)

    info = commands.add_parser("info", help="summarise a workspace")
    info.add_argument("workspace", type=Path)
    info.add_argument("--json", action="store_true")
    info.set_defaults(handler=_info)

    search = commands.add_parser("search", help="top-k results of a typed query in a workspace")
    search.add_argument("workspace", type=Path)
    search.add_argument("--query", required=True, help="the text to search for")
    search.add_argument("-k", type=int, default=10, help="number of results (default 10)")
    search.add_argument("--mode", default="vector", choices=["vector", "keyword", "hybrid"],
                        help="vector (the workspace's model), keyword (BM25) or hybrid (both, fused by RRF)")
    search.add_argument("--json", action="store_true")
    search.set_defaults(handler=_search)

    models = commands.add_parser("models", help="list the embedding models")
    models.add_argument("--json", action="store_true")
    models.set_defaults(handler=_models)
    return parser


def _build(args: argparse.Namespace) -> int:
    from explorer.chunk import ChunkConfig
    from explorer.cluster import ClusterConfig
    from explorer.embed import read_vectors
    from explorer.encoders import DEFAULT_MODEL
    from explorer.index import IndexConfig
    from explorer.ingest import IngestConfig, guess_text_column, read_table
    from explorer.pipeline import BuildConfig, build_workspace

    table = read_table(_read(args.input), args.input.name)
    config = BuildConfig(
        ingest=IngestConfig(args.text_col or guess_text_column(table), args.id_col, tuple(args.meta_col)),
        model_id=args.model or DEFAULT_MODEL,
        chunk=ChunkConfig(enabled=not args.no_chunking, max_tokens=args.chunk_tokens, overlap=args.chunk_overlap),
        index=IndexConfig(metric=args.metric),
        cluster=ClusterConfig(args.min_cluster_size, args.min_samples))
    vectors = read_vectors(_read(args.vectors), args.vectors.name, column=args.vectors_col) if args.vectors else None
    if vectors is not None and args.model:
        raise InputError("Give either --model or --vectors, not both.")
    workspace = build_workspace(table, config, args.out, source=str(args.input), vectors=vectors)
    _print_summary(workspace.manifest, as_json=args.json)
    return 0


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise InputError(f"No such file: {path}")
    return path.read_bytes()


def _info(args: argparse.Namespace) -> int:
    from explorer.workspace import Workspace

    _print_summary(Workspace.open(args.workspace).manifest, as_json=args.json)
    return 0


SUMMARY_FIELDS = ("name", "source", "n_documents", "n_points", "model", "dim", "metric", "index_type",
                  "n_clusters", "noise_fraction")


def _print_summary(manifest: dict, *, as_json: bool) -> None:
    summary = {field: manifest.get(field) for field in SUMMARY_FIELDS}
    summary["notes"] = manifest.get("report_messages", [])
    if as_json:
        print(json.dumps(summary))
        return
    for field in SUMMARY_FIELDS:
        print(f"{field:>15}: {summary[field]}")
    for note in summary["notes"]:
        print(f"{'note':>15}: {note}")


def _search(args: argparse.Namespace) -> int:
    from explorer.encoders import load_encoder
    from explorer.search import KeywordIndex, hits_table, search, typed_query_problem
    from explorer.workspace import Workspace

    workspace = Workspace.open(args.workspace)
    index, points = workspace.index(), workspace.points()
    encoder = keywords = None
    if args.mode != "keyword":
        problem = typed_query_problem(index.model_id)
        if problem:
            raise InputError(problem)
        encoder = load_encoder(index.model_id)
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


def _plain(value):
    """A numpy scalar as the plain Python value JSON can hold."""
    return value.item() if hasattr(value, "item") else value


def _models(args: argparse.Namespace) -> int:
    from explorer.encoders import MODELS

    rows = [{"id": spec.id, "label": spec.label, "dim": spec.dim, "max_tokens": spec.max_tokens,
             "speed": spec.speed_hint, "available": spec.available(), "install": spec.install}
            for spec in MODELS.values()]
    if args.json:
        print(json.dumps(rows))
        return 0
    for row in rows:
        state = "available" if row["available"] else f"not installed: {row['install']}"
        print(f"{row['id']:<24} dim {row['dim']:<4} tokens {str(row['max_tokens']):<5} {row['speed']:<28} {state}")
    return 0
