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


def test_a_parquet_bomb_is_refused_from_its_metadata_with_bounded_memory(tmp_path):
    """40,000,000 rows of 'hi' in a few hundred KB once took the server from 1.7 to 6.9 GB before being refused."""
    import subprocess
    import sys

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as parquet

    bomb = tmp_path / "bomb.parquet"
    column = pa.DictionaryArray.from_arrays(np.zeros(40_000_000, np.int8), pa.array(["hi"]))
    parquet.write_table(pa.table({"text": column}), bomb)
    assert bomb.stat().st_size < 2_000_000
    script = f"""
import resource
from explorer.errors import InputError
from explorer.ingest.reading import read_file
data = open({str(bomb)!r}, "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    read_file(data, "bomb.parquet")
except InputError as error:
    print(round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024), error)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    grown_mb, message = done.stdout.split(" ", 1)
    assert int(grown_mb) < 100 and "has 40,000,000 rows" in message and "nothing was read" in message


def test_text_files_with_too_many_rows_are_refused_before_they_are_split(monkeypatch):
    from explorer.ingest import limits, reading

    monkeypatch.setattr(limits, "MAX_ROWS", 1000)
    monkeypatch.setattr(reading, "MAX_ROWS", 1000)
    lines = "\n".join(f"line {i}" for i in range(1500)).encode()
    with pytest.raises(InputError, match="has 1,500 rows"):
        reading.read_file(lines, "many.txt")
    with pytest.raises(InputError, match="more than 1,000 rows"):
        reading.read_file(b"text\n" + lines, "many.csv")
    assert len(reading.read_file(b"text\n" + lines[:2000], "few.csv").table) < 1000
