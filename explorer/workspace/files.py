"""Every file name of a workspace folder, defined once.

Format 2 (this one)::

    workspace.json                     manifest (``Manifest``): format_version, source, settings, counts, timings
    points.parquet + points.json       id, chunk, text, metadata
    embeddings.npy + embeddings.json   (n, d) float32 vectors; model, fingerprint, normalisation
    index.faiss + index.json           FAISS index; model fingerprint, metric, kind; an HNSW index's measured recall@10
    knn_indices.npy + knn_indices.json, knn_scores.npy + knn_scores.json   (n, k) neighbour graph from the index
    layout_2d.npy, layout_5d.npy, layout_3d.npy (on demand), each + layout_Nd.json
    clusters.parquet + clusters.json   labels, probabilities, GLOSH scores; the HDBSCAN parameters
    keywords.json                      each cluster's keywords (a JSON artifact carries its own record)
    topics.parquet + topics.json       each point's topic at every level of the topic tree (level_0 the top,
                                       the last the clusters), weak (held by its neighbours' vote); the levels'
                                       topics, names, keywords and parents (rebuilt with every clustering)
    map_sample.npy + map_sample.json   rows the layouts and clusters were fitted on (only above the full-map limit)
    flags.parquet + flags.json         near-duplicate groups and decisions, outlier scores and rank
    tfidf_vocabulary.json, tfidf_idf.npy + .json, tfidf_components.npy + .json   TF-IDF + SVD fit (tfidf-svd)

Format 1 (no ``format_version`` in the manifest) kept the cluster keywords in ``clusters.json``, overwriting the
sidecar of ``clusters.parquet``; such workspaces are read as they are (the keywords from ``clusters.json``).
"""

from __future__ import annotations

FORMAT_VERSION = 2
MANIFEST = "workspace.json"
POINTS = "points.parquet"
EMBEDDINGS = "embeddings.npy"
INDEX = "index.faiss"
KNN_INDICES = "knn_indices.npy"
KNN_SCORES = "knn_scores.npy"
CLUSTERS = "clusters.parquet"
KEYWORDS = "keywords.json"
FORMAT1_KEYWORDS = "clusters.json"
FLAGS = "flags.parquet"
TOPICS = "topics.parquet"
MAP_SAMPLE = "map_sample.npy"
TFIDF_VOCABULARY = "tfidf_vocabulary.json"
TFIDF_IDF = "tfidf_idf.npy"
TFIDF_COMPONENTS = "tfidf_components.npy"


BUILDING = ".building-"
"""Infix of a build's temporary folder, ``.NAME.building-PID-XXXX``, beside the workspace it becomes."""
LOCK_SUFFIX = ".lock"
"""``.NAME.lock``: held by the build of NAME that is running."""
PROGRESS_SUFFIX = ".progress.json"
SHARDS_SUFFIX = ".shards"
"""``.NAME.shards/``: the Parquet shards of vectors a build of NAME embeds on Ray; kept when the build stops, so the
next build of the same texts resumes from them, and removed once the workspace is in place."""
"""``.NAME.progress.json``: how far that build is."""


def shards_folder(out):
    """The Ray shards folder of a build of the workspace ``out`` (a Path)."""
    return out.with_name(f".{out.name}{SHARDS_SUFFIX}")


def layout(n_components: int) -> str:
    return f"layout_{n_components}d.npy"


BUILD_MARK = ".explorer-build.json"
"""Written inside a build's hidden folder (its process id): only folders holding it are ever cleaned up."""
_ARTIFACTS = (POINTS, EMBEDDINGS, INDEX, KNN_INDICES, KNN_SCORES, CLUSTERS, FLAGS, TOPICS, MAP_SAMPLE,
              TFIDF_IDF, TFIDF_COMPONENTS, layout(2), layout(3), layout(5))


def named_by_format(name: str) -> bool:
    """Whether a workspace folder's entry ``name`` is one this format writes (an artifact, its sidecar, a JSON
    artifact or the manifest): a rebuild replaces only those."""
    sidecars = {artifact.rsplit(".", 1)[0] + ".json" for artifact in _ARTIFACTS}
    return name in {MANIFEST, KEYWORDS, TFIDF_VOCABULARY, BUILD_MARK, *_ARTIFACTS, *sidecars}
