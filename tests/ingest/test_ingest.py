import io
import json

import numpy as np
import pandas as pd
import pytest

from explorer.errors import InputError
from explorer.ingest.corpus import IngestConfig, build_corpus, choose_text_column, clean_text, guess_text_column
from explorer.ingest.reading import decode_text, read_file, read_table


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
    # An encoded tag is a tag once decoded: it is stripped too, or the cleaning could hand raw HTML on (#34).
    assert clean_text("&lt;b&gt; is stripped too") == "is stripped too"
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
    with pytest.raises(InputError, match="No column holds text"):
        guess_text_column(pd.DataFrame({"n": np.arange(3)}))


def test_a_column_of_numbers_is_never_the_text_and_the_choice_says_why(tweets):
    table = pd.DataFrame({"text": ["12", "7.5", "-3", "1e3"], "label": ["a", "b", "a", "b"]})
    choice = choose_text_column(table)
    assert choice.name == "label" and "'text' holds numbers" in choice.reason
    numbers_as_ints = choose_text_column(pd.DataFrame({"text": [1, 2, 3], "body": ["x y", "z", "w v"]}))
    assert numbers_as_ints.name == "body" and "'text'" in numbers_as_ints.reason


def test_a_vector_column_is_never_the_text(tweets):
    vectors = np.random.default_rng(0).normal(size=(20, 64)).astype(np.float32)
    frame = tweets.head(20)[["tweet_id", "text"]].assign(embedding=list(vectors))
    parquet = io.BytesIO()
    frame.to_parquet(parquet, index=False)
    assert choose_text_column(read_table(parquet.getvalue(), "v.parquet")).name == "text"
    as_text = frame.assign(embedding=[json.dumps(vector.tolist()) for vector in vectors])
    assert choose_text_column(read_table(_csv(as_text), "v.csv")).name == "text"


def test_repeated_headers_are_reported():
    read = read_file(b"text,text,label\nfirst text,second text,a\n", "dup.csv")
    assert list(read.table.columns) == ["text", "text.1", "label"]
    assert any("'text' appears more than once" in note for note in read.notes)


def test_semicolons_crlf_and_quoted_multiline_cells_are_sniffed(tweets):
    frame = tweets.head(30)[["text", "outlet"]].copy()
    frame.loc[3, "text"] = "a cell; with a semicolon\nand a second line"
    data = _csv(frame, sep=";", lineterminator="\r\n")
    read = read_file(data, "semi.csv")
    assert read.separator == ";" and list(read.table.columns) == ["text", "outlet"]
    assert read.table["text"].iloc[3] == "a cell; with a semicolon\nand a second line"
    assert any("semicolons" in note for note in read.notes)
    forced = read_file(b"text;label\r\nfirst;a\r\nsecond;b\r\n", "semi.csv", separator=",")
    assert list(forced.table.columns) == ["text;label"]


def test_latin1_is_said():
    read = read_file("text\ncafé crème\n".encode("latin-1"), "old.csv")
    assert read.table["text"].iloc[0] == "café crème" and any("Latin-1" in note for note in read.notes)
    assert not read_file("text\ncafé\n".encode(), "new.csv").notes


def test_rows_of_only_invisible_characters_are_dropped_like_empty_rows():
    table = pd.DataFrame({"text": ["real text", "\u200b\u200f", "\u202e\u2066 \u200d", "ok 👨\u200d👩\u200d👧"]})
    corpus, report = build_corpus(table, IngestConfig("text"))
    assert corpus.texts == ["real text", "ok 👨\u200d👩\u200d👧"] and report.n_empty_after_cleaning == 2


def test_cli_says_which_column_it_chose(tmp_path, capsys):
    from explorer import cli

    source = tmp_path / "in.csv"
    source.write_text("text;label\r\n1;a\r\n2;b\r\n")
    assert cli.main(["build", str(source), "--out", str(tmp_path / "ws"), "--model", "tfidf-svd"]) == 2
    error = capsys.readouterr().err
    assert "semicolons" in error and "text column 'label'" in error and "'text' holds numbers" in error


def test_a_parquet_file_with_a_categorical_column_of_one_value_is_read(tmp_path, tweets):
    """It crashed the upload (a TypeError averaging a Categorical) before the text column could be chosen."""
    import io

    from explorer.ingest.corpus import choose_text_column
    from explorer.ingest.reading import read_file

    table = tweets.head(30)[["text"]].assign(source=pd.Categorical(["bbc"] * 30))
    buffer = io.BytesIO()
    table.to_parquet(buffer)
    read = read_file(buffer.getvalue(), "one-value.parquet")
    assert isinstance(read.table["source"].dtype, pd.CategoricalDtype)
    assert choose_text_column(read.table).name == "text"
    only_categories = pd.DataFrame({"source": pd.Categorical(["bbc"] * 5)})
    assert choose_text_column(only_categories).name == "source"  # a category of words is text


def test_a_semicolon_csv_with_crlf_and_quoted_multi_line_cells_is_split_on_semicolons():
    from explorer.ingest.reading import read_file, sniff_separator

    rows = ["text;label"] + [f'"Hi, message {i}, with commas; and more\r\nover two, lines";{"spam" if i % 3 else "ham"}'
                             for i in range(2000)]
    data = "\r\n".join(rows).encode()
    assert len(data) > 1 << 16  # the guess reads a cut sample
    assert sniff_separator(data, "utf-8") == ";"
    table = read_file(data, "sms.csv").table
    assert table.columns.tolist() == ["text", "label"] and len(table) == 2000
    assert table["text"].iloc[0] == "Hi, message 0, with commas; and more\r\nover two, lines"


def test_entity_encoded_html_cannot_come_out_of_cleaning_as_raw_html():
    from explorer.ingest.corpus import clean_text

    assert "<img" not in clean_text("see &lt;img src=x onerror=alert(1)&gt; here")
    assert clean_text("see &lt;img src=x onerror=alert(1)&gt; here") == "see here"
    assert clean_text("fish &amp; chips, 3 &lt; 4") == "fish & chips, 3 < 4"  # text that only looks like HTML stays
