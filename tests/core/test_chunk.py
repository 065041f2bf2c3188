import pytest

from explorer.chunk import ChunkConfig, chunk_corpus, chunk_windows
from explorer.errors import InputError
from explorer.ingest import IngestConfig, build_corpus


def test_windows_cover_every_token_with_the_overlap():
    spans = [(i * 2, i * 2 + 1) for i in range(10)]  # ten one-character words
    assert chunk_windows(spans, max_tokens=4, overlap=1) == [(0, 7), (6, 13), (12, 19)]
    assert chunk_windows(spans, max_tokens=10, overlap=2) == [(0, -1)]


def test_windows_never_split_a_word():
    # "aaaa bb cccc": words of 2, 1 and 2 sub-word tokens.
    spans = [(0, 2), (2, 4), (5, 7), (8, 10), (10, 12)]
    assert chunk_windows(spans, max_tokens=4, overlap=1) == [(0, 7), (5, 12)]


@pytest.mark.parametrize("kwargs", [{"max_tokens": 4}, {"overlap": -1}, {"max_tokens": 16, "overlap": 16}])
def test_bad_chunk_config(kwargs):
    with pytest.raises(InputError):
        ChunkConfig(**kwargs)


def test_long_articles_are_chunked_within_the_token_limit(news, minilm):
    corpus, report = build_corpus(news, IngestConfig("text", "article_id", ("title",)))
    chunked, report = chunk_corpus(corpus, report, minilm.token_spans, model_limit=minilm.token_limit,
                                   config=ChunkConfig(max_tokens=128, overlap=16))
    token_counts = [len(spans) for spans in minilm.token_spans(chunked.texts)]
    assert max(token_counts) <= 128
    assert report.n_split_documents == len(news)  # every fixture article exceeds 128 tokens
    assert report.n_chunks == len(chunked) > len(news)
    assert set(chunked.points["id"]) == set(news["article_id"])
    first = chunked.points[chunked.points["id"] == news["article_id"].iloc[0]]
    assert first["chunk"].tolist() == list(range(len(first)))
    assert (first["title"] == news["title"].iloc[0]).all()
    # Consecutive chunks share their boundary tokens.
    tail = minilm.token_spans([first["text"].iloc[0]])[0][-16:]
    assert first["text"].iloc[0][tail[0][0]:] in first["text"].iloc[1]


def test_chunking_off_counts_truncated_texts(news, minilm):
    corpus, report = build_corpus(news, IngestConfig("text"))
    kept, report = chunk_corpus(corpus, report, minilm.token_spans, model_limit=minilm.token_limit,
                                config=ChunkConfig(enabled=False))
    assert len(kept) == len(news)
    expected = sum(len(spans) > minilm.token_limit for spans in minilm.token_spans(corpus.texts))
    assert report.n_truncated == expected > 0
    assert "silently truncated" in " ".join(report.messages())
