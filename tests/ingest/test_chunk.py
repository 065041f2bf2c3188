import pytest

from explorer.errors import InputError
from explorer.ingest.chunk import ChunkConfig, chunk_corpus, chunk_windows
from explorer.ingest.corpus import IngestConfig, build_corpus


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


@pytest.mark.slow
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


@pytest.mark.slow
def test_chunking_off_counts_truncated_texts(news, minilm):
    corpus, report = build_corpus(news, IngestConfig("text"))
    kept, report = chunk_corpus(corpus, report, minilm.token_spans, model_limit=minilm.token_limit,
                                config=ChunkConfig(enabled=False))
    assert len(kept) == len(news)
    expected = sum(len(spans) > minilm.token_limit for spans in minilm.token_spans(corpus.texts))
    assert report.n_truncated == expected > 0
    assert "silently truncated" in " ".join(report.messages())


ADVERSARIAL = ["😀", "😀😀 🙂", "中文字符测试", "한국어 텍스트", "ǅemal ǈ", "e\u0301\u0301\u0301", "\u200b\u200f\u202e",
               "ﬃ ﬁ", "ΐΰ", "‮rtl", "a", "12345 67890", "\U0001F468\u200D\U0001F469\u200D\U0001F467", "ß" * 40]


def _real_and_adversarial(tweets, news) -> list[str]:
    return ADVERSARIAL + tweets["text"].head(300).tolist() + news["text"].str[:2000].head(20).tolist()


@pytest.mark.slow
@pytest.mark.parametrize("model_id", ["all-MiniLM-L6-v2", "wordllama-l2", "multilingual-e5-small", "tfidf-svd"])
def test_no_tokenizer_emits_more_tokens_than_bytes_plus_one(model_id, tweets, news):
    """The bound that lets :func:`may_exceed` skip tokenising short texts, checked on each model's tokenizer."""
    from explorer.embedding.loading import load_encoder

    texts = _real_and_adversarial(tweets, news)
    spans = load_encoder(model_id).token_spans(texts)
    excess = [(text, len(tokens)) for text, tokens in zip(texts, spans) if len(tokens) > len(text.encode()) + 1]
    assert not excess


def _chunk_reference(corpus, token_spans, window, overlap):
    """Every text tokenised at once and expanded row by row, as chunking worked before it was batched."""
    rows = []
    for record, spans in zip(corpus.points.to_dict("records"), token_spans(corpus.texts)):
        for number, (start, end) in enumerate(chunk_windows(spans, max_tokens=window, overlap=overlap)):
            rows.append({**record, "chunk": number, "text": record["text"] if end == -1 else record["text"][start:end]})
    return rows


@pytest.mark.slow
def test_batched_chunking_equals_tokenising_everything_at_once(news, tweets, minilm, monkeypatch):
    import pandas as pd

    from explorer.ingest import chunk

    mixed = pd.concat([tweets[["text"]].head(150), news[["text"]].head(6), tweets[["text"]].iloc[150:300]])
    corpus, report = build_corpus(mixed.reset_index(drop=True), IngestConfig("text"))
    monkeypatch.setattr(chunk, "SPAN_BATCH", 4)
    asked = []

    def spans(texts):
        asked.append(len(texts))
        return minilm.token_spans(texts)

    chunked, report = chunk_corpus(corpus, report, spans, model_limit=minilm.token_limit,
                                   config=ChunkConfig(max_tokens=64, overlap=8))
    assert chunked.points.to_dict("records") == _chunk_reference(corpus, minilm.token_spans, 64, 8)
    assert max(asked) <= 4 and sum(asked) < len(corpus)  # in batches, and short tweets never tokenised
    long_ones = sum(len(s) > 64 for s in minilm.token_spans(corpus.texts))
    assert report.n_split_documents == long_ones
    assert report.n_split_chunks == len(chunked) - (len(corpus) - long_ones)
    assert f"split into {report.n_split_chunks:,} chunks ({len(chunked):,} points in all)" in " ".join(
        report.messages())


def test_chunking_a_2mb_line_takes_memory_linear_in_the_text():
    """A 2 MB text of one line (2,000 chunks) once peaked at 4.6 GB: the whole text was copied once per chunk."""
    import subprocess
    import sys

    script = """
import resource, re
import pandas as pd
from explorer.ingest.chunk import ChunkConfig, chunk_corpus
from explorer.types import Corpus, IngestReport
words = re.compile("[^ ]+")
text = " ".join(f"word{i % 997}" for i in range(260_000))
corpus = Corpus(pd.DataFrame({"id": [0], "chunk": [0], "text": [text]}), ())
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
spans = lambda texts: [[m.span() for m in words.finditer(t)] for t in texts]
chunked, report = chunk_corpus(corpus, IngestReport(n_input_rows=1), spans, model_limit=256, config=ChunkConfig())
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(len(text), report.n_chunks, round(grown))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    size, chunks, grown_mb = map(int, done.stdout.split())
    assert size > 2_000_000 and chunks > 1000
    assert grown_mb < 40 * size / 1e6  # at most 40 bytes a character (spans and pieces), far from a copy a chunk
