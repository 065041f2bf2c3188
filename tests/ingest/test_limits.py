"""Files and corpora beyond what one machine holds are refused before the work that would exhaust its memory."""

import tomllib

import pytest

from explorer import cli
from explorer.build.pipeline import build_workspace
from explorer.config import BuildConfig
from explorer.errors import InputError
from explorer.ingest import limits
from explorer.ingest.corpus import IngestConfig
from explorer.ingest.reading import read_table
from explorer.workspace import workspaces_root

from ..conftest import ROOT


def test_the_app_upload_limit_is_the_core_limit():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 1024**2 == limits.MAX_INPUT_BYTES


def test_a_file_over_the_limit_is_refused_with_its_size_and_the_limit(monkeypatch):
    monkeypatch.setattr(limits, "MAX_INPUT_BYTES", 1024**2)
    with pytest.raises(InputError, match=r"'big.csv' is 2 MB; the explorer reads files of up to 1 MB"):
        read_table(b"text\n" + b"x" * (2 * 1024**2), "big.csv")


def test_cli_refuses_a_big_file_before_reading_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(limits, "MAX_INPUT_BYTES", 1024**2)
    source = tmp_path / "big.csv"
    source.write_text("text\n" + "a real sentence\n" * 140_000)
    monkeypatch.setattr("pathlib.Path.read_bytes", lambda path: pytest.fail("the file was read"))
    assert cli.main(["build", str(source), "--out", str(tmp_path / "ws")]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "'big.csv' is 2 MB; the explorer reads files of up to 1 MB" in error
    assert not (tmp_path / "ws").exists()


def test_too_many_points_are_refused_before_the_model_is_used(monkeypatch, tweets):
    monkeypatch.setattr(limits, "MAX_POINTS", 10)

    class Untouchable:
        """A model without a token limit (nothing to tokenise) that must not be asked to embed."""

        spec, token_limit, fingerprint = None, None, "untouchable"

        def token_spans(self, texts):
            raise AssertionError("texts were tokenised")

        def encode(self, texts, **options):
            raise AssertionError("texts were embedded before their number was checked")

    with pytest.raises(InputError, match="has 20 texts to embed .* at most 10"):
        build_workspace(tweets.head(20), BuildConfig(IngestConfig("text"), model_id="wordllama-l2"),
                        workspaces_root() / "too-many", source="test", encoder=Untouchable())
    assert not (workspaces_root() / "too-many").exists()
