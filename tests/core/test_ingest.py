import io
import json

import numpy as np
import pandas as pd
import pytest

from explorer.errors import InputError
from explorer.ingest import IngestConfig, build_corpus, clean_text, decode_text, guess_text_column, read_table


def _csv(frame: pd.DataFrame, **kwargs) -> bytes:
    return frame.to_csv(index=False, **kwargs).encode("utf-8")


def test_reads_each_format_to_the_same_rows(tweets):
    frame = tweets.head(20)
    parquet = io.BytesIO()
    frame.to_parquet(parquet, index=False)
    jsonl = "\n".join(json.dumps(record) for record in frame.to_dict("records")).encode()
    tables = {
        "csv": read_table(_csv(frame), "a.csv"),
        "tsv": read_table(frame.to_csv(index=False, sep="\t").encode(), "a.tsv"),
        "jsonl": read_table(jsonl, "a.jsonl"),
        "parquet": read_table(parquet.getvalue(), "a.parquet"),
    }
    for name, table in tables.items():
        assert table["text"].tolist() == frame["text"].tolist(), name
    lines = read_table("\n".join(frame["text"]).encode(), "a.txt")
    assert lines["text"].tolist() == frame["text"].tolist()


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "latin-1"])
def test_decodes_common_encodings(encoding):
    text = "text\nCafé crème and naïve résumé\n"
    assert decode_text(text.encode(encoding)) == text


@pytest.mark.parametrize("data, filename, message", [
    (b"", "a.csv", "empty"),
    (b"   \n", "a.csv", "empty"),
    (b"text,label\n", "a.csv", "header but no rows"),
    (b"a,b\n1,2,3\n4,5\n", "a.csv", "ragged"),
    (b"a,b\n1,2\n4,5,6\n", "a.csv", "ragged"),
    (bytes(range(256)) * 20, "a.csv", "binary"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "a.csv", "binary"),
    (b'{"text": "ok"}\n{broken\n', "a.jsonl", "Line 2"),
    (b"not parquet at all", "a.parquet", "Parquet"),
    (b"text\nhello\n", "a.docx", "unsupported extension"),
])
def test_bad_files_give_a_specific_error(data, filename, message):
    with pytest.raises(InputError, match=message):
        read_table(data, filename)


def test_clean_text_strips_html_and_whitespace():
    assert clean_text("<p>Flu  <b>season</b>\n is &amp; here</p><script>alert(1)</script>") == "Flu season is & here"
    assert clean_text("&lt;b&gt; stays as text") == "<b> stays as text"
    assert clean_text("a < b and c > d") == "a < b and c > d"


def test_build_corpus_drops_rows_and_keeps_original_row_numbers(tweets):
    table = tweets.head(10).copy()
    table.loc[2, "text"] = None
    table.loc[5, "text"] = "   <br/> "
    table.loc[7, "text"] = "<p>Measles outbreak</p> spreads"
    corpus, report = build_corpus(table, IngestConfig("text", metadata_columns=("outlet",)))
    assert report.n_missing == 1 and report.n_empty_after_cleaning == 1 and report.n_html_stripped == 2
    assert corpus.points["id"].tolist() == [0, 1, 3, 4, 6, 7, 8, 9]
    assert corpus.points.loc[corpus.points["id"] == 7, "text"].item() == "Measles outbreak spreads"
    assert (corpus.points["chunk"] == 0).all()
    assert corpus.metadata_columns == ("outlet",)
    assert any("missing" in message for message in report.messages())
    assert pd.isna(table.loc[2, "text"]) and table.loc[5, "text"] == "   <br/> "  # input not mutated


def test_id_column_is_used_and_must_be_unique(tweets):
    table = tweets.head(5)
    corpus, _ = build_corpus(table, IngestConfig("text", "tweet_id"))
    assert corpus.points["id"].tolist() == table["tweet_id"].tolist()
    duplicated = pd.concat([table, table.head(1)])
    with pytest.raises(InputError, match="repeated"):
        build_corpus(duplicated, IngestConfig("text", "tweet_id"))


def test_column_errors_name_the_problem(tweets):
    with pytest.raises(InputError, match="not in the file: body"):
        build_corpus(tweets.head(3), IngestConfig("body"))
    with pytest.raises(InputError, match="no text"):
        build_corpus(pd.DataFrame({"text": [None, " ", "<p></p>"]}), IngestConfig("text"))


def test_metadata_named_like_a_reserved_column_is_renamed():
    table = pd.DataFrame({"body": ["one text", "two texts"], "text": ["x", "y"]})
    corpus, _ = build_corpus(table, IngestConfig("body", metadata_columns=("text",)))
    assert corpus.points["text"].tolist() == ["one text", "two texts"]
    assert corpus.points["text (metadata)"].tolist() == ["x", "y"]


def test_guess_text_column_prefers_long_strings(tweets):
    assert guess_text_column(tweets) == "text"
    assert guess_text_column(pd.DataFrame({"n": np.arange(3)})) == "n"
