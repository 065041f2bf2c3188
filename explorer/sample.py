"""The bundled sample corpus (Health News in Twitter, CC BY 4.0) and its default workspace; the example pairs file."""

from __future__ import annotations

from pathlib import Path

from explorer.ingest import IngestConfig, read_table
from explorer.pipeline import BuildConfig, StageProgress, build_workspace
from explorer.workspace import Workspace, workspaces_root

SAMPLE_NAME = "health-tweets-sample"


def sample_file() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / "sample" / "health_tweets.csv"


def sts_pairs_file() -> Path:
    """500 labelled STS-B sentence pairs (``text_a, text_b, score`` 0-5, ``genre``): the audit's example file."""
    return Path(__file__).resolve().parent.parent / "data" / "sample" / "sts_b_pairs.csv"


def sample_config() -> BuildConfig:
    return BuildConfig(IngestConfig(text_column="text", id_column="tweet_id", metadata_columns=("outlet",)))


def build_sample_workspace(*, progress: StageProgress | None = None, encoder=None) -> Workspace:
    """Build the workspace the app opens on first launch (replacing any earlier one)."""
    out = workspaces_root() / SAMPLE_NAME
    table = read_table(sample_file().read_bytes(), sample_file().name)
    return build_workspace(table, sample_config(), out, source=f"bundled sample: data/sample/{sample_file().name}",
                           encoder=encoder, progress=progress)
