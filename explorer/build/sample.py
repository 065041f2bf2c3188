"""The bundled sample corpus (Health News in Twitter, CC BY 4.0) and its default workspace; the example pairs file."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pandas as pd

from explorer.build.pipeline import build_workspace
from explorer.config import BuildConfig
from explorer.ingest.corpus import IngestConfig
from explorer.ingest.provenance import SourceFile
from explorer.ingest.reading import read_table
from explorer.mapping.building import StageProgress
from explorer.workspace import Workspace, build_running, clear_progress, file_progress, workspaces_root

SAMPLE_NAME = "health-tweets-sample"
SAMPLE_DATA = Path(str(resources.files("explorer.build") / "sample_data"))
"""The bundled files: package data, read where the package is installed (its README states sources and licences)."""


def sample_file() -> Path:
    return SAMPLE_DATA / "health_tweets.csv"


def sts_pairs_file() -> Path:
    """500 labelled STS-B sentence pairs (``text_a, text_b, score`` 0-5, ``genre``): the audit's example file."""
    return SAMPLE_DATA / "sts_b_pairs.csv"


def news_articles_file() -> Path:
    """40 real news articles (``article_id, publish_date, title, text``): long documents for chunking."""
    return SAMPLE_DATA / "news_articles.csv"


def news_retrieval_file() -> Path:
    """200 real news articles (``article_id, publish_date, title, late_sentence, text``): the retrieval
    evaluation's example, ``late_sentence`` being a sentence about three quarters of the way into the article."""
    return SAMPLE_DATA / "news_retrieval.csv"


def new_texts_file() -> Path:
    """200 texts new to the sample's map (``id, kind, text``): 100 health tweets that are not in the sample and 100
    world-news headlines; the example queries and new batch of the New data page."""
    return SAMPLE_DATA / "new_texts.csv"


RETRIEVAL_QUERIES = {
    "title": "each article's title",
    "late_sentence": "a sentence from three quarters of the way into each article",
}
"""The retrieval example's two query sets: titles (easy: every model finds nearly all) and late sentences (hard for
a model that reads only a document's first tokens, e.g. MiniLM's 256, and for none that reads all of it)."""


def news_retrieval_example(queries_from: str = "title") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(corpus ``doc_id, text``, queries ``query_id, query, relevant_doc_id``): each query (a title, or a late
    sentence; see :data:`RETRIEVAL_QUERIES`) has one relevant document, its article."""
    news = pd.read_csv(news_retrieval_file())
    corpus = pd.DataFrame({"doc_id": news["article_id"], "text": news["text"]})
    return corpus, pd.DataFrame({"query_id": news["article_id"], "query": news[queries_from],
                                 "relevant_doc_id": news["article_id"]})


def sample_config() -> BuildConfig:
    return BuildConfig(IngestConfig(text_column="text", id_column="tweet_id", metadata_columns=("outlet",)))


def sample_workspace_path() -> Path:
    return workspaces_root() / SAMPLE_NAME


def build_sample_workspace(*, progress: StageProgress | None = None, encoder=None,
                           owner: str = "the command line") -> Workspace:
    """Build the workspace the app opens on first launch (replacing any earlier one); its progress is written
    beside it (``read_progress``), so the app can show a build started by ``explorer sample``."""
    out = sample_workspace_path()
    data = sample_file().read_bytes()
    table = read_table(data, sample_file().name)
    try:
        return build_workspace(table, sample_config(), out,
                               source=f"bundled sample: {sample_file().name}", encoder=encoder,
                               progress=file_progress(out, len(table), also=progress), owner=owner,
                               source_file=SourceFile.of(sample_file().name, data))
    finally:
        if not build_running(out):
            clear_progress(out)
