"""Teaching demos: numbers against numpy, and the embedding really beating TF-IDF on the preset paraphrases."""

import numpy as np
import pytest

from explorer.analysis import teach
from explorer.errors import IndexMismatchError, InputError

CORPUS = ["Top computer for coding", "Laptop stickers: the best designs for your lid",
          "Programming the best TV remote in five steps", "Customer refund procedure",
          "What's the weather like in Toulouse?", "Cheap flights to Lisbon this spring",
          "A beginner's guide to sourdough bread"]


@pytest.mark.slow
def test_cosine_by_hand_equals_numpy(minilm):
    sentences, vectors, matrix = teach.similarity_matrix(["The cat sits on the mat.", "A kitten rests on a rug.",
                                                          "Stocks fell sharply."], minilm)
    a, b = vectors[0], vectors[1]
    numbers = teach.pair_arithmetic(a, b)
    assert numbers.dot == pytest.approx(float(np.dot(a, b)))
    assert numbers.norm_a == pytest.approx(float(np.linalg.norm(a)))
    assert numbers.cosine == pytest.approx(float(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b)))
    assert numbers.euclidean == pytest.approx(float(np.linalg.norm(a - b)))
    assert matrix[0, 1] == pytest.approx(numbers.cosine) and matrix[0, 1] > matrix[0, 2]
    with pytest.raises(InputError, match="between 2 and 8"):
        teach.similarity_matrix(["only one"], minilm)


@pytest.mark.slow
def test_embedding_finds_the_paraphrases_tfidf_misses(minilm):
    laptop = teach.meaning_vs_words("best laptop for programming", CORPUS, minilm).set_index("text")
    paraphrase = laptop.loc["Top computer for coding"]
    assert paraphrase["embedding_rank"] == 1 and paraphrase["tfidf"] == 0 and paraphrase["shared_words"] == ""
    assert paraphrase["tfidf_rank"] > laptop.loc["Laptop stickers: the best designs for your lid", "tfidf_rank"]
    refund = teach.meaning_vs_words("how do I get a refund?", CORPUS, minilm).set_index("text")
    assert refund.loc["Customer refund procedure", "embedding_rank"] == 1
    assert refund.loc["What's the weather like in Toulouse?", "embedding_rank"] > 3


@pytest.mark.slow
def test_king_minus_man_plus_woman(minilm):
    words = teach.vocabulary()
    assert 15_000 < len(words) < 30_000 and "queen" in words
    vectors = teach.vocabulary_vectors(minilm)
    result = teach.analogy("king", "man", "woman", vectors, words, encoder=minilm, expected="queen")
    assert result.results["word"].iloc[0] == "queen" and result.expected_rank == 1
    assert "holds" in result.verdict and "king" not in result.results["word"].tolist()
    unlikely = teach.analogy("king", "man", "woman", vectors, words, encoder=minilm, expected="bread")
    assert unlikely.expected_rank > 1 and "does not hold" in unlikely.verdict


@pytest.mark.slow
def test_concept_axis_sorts_real_tweets(small_workspace, minilm):
    axis = teach.concept_axis(["healthy", "fit", "wellness"], ["disease", "illness", "death"],
                              small_workspace.embeddings(), minilm)
    texts = small_workspace.points()["text"].to_numpy()
    order = np.argsort(axis.positions)
    assert axis.positions.shape == (400,) and axis.pole_similarity < 0.95
    assert axis.positions[order[-1]] > axis.positions[order[0]]
    assert len(texts[order[-1]]) > 0
    from explorer.embedding.loading import load_encoder

    with pytest.raises(IndexMismatchError):
        teach.concept_axis(["a"], ["b"], small_workspace.embeddings(), load_encoder("wordllama-l2"))


@pytest.mark.slow
def test_pitfalls(minilm, news):
    from explorer.embedding.loading import load_encoder

    mixed, message = teach.mismatched_models("best laptop for programming", CORPUS, minilm,
                                             load_encoder("wordllama-l2"))
    assert "Embed the query with 'all-MiniLM-L6-v2'" in message
    assert mixed.set_index("text").loc["Top computer for coding", "right_rank"] == 1
    long_doc = "A laptop with a good keyboard, lots of memory and a long battery life is the best for programming"
    distances = teach.euclidean_vs_cosine("best laptop for programming",
                                          ["Coding laptop", long_doc, "Sourdough bread guide"],
                                          minilm).set_index("text")
    assert distances.loc[long_doc, "cosine_rank"] == 1 and distances.loc[long_doc, "euclidean_rank"] > 1
    cut = teach.truncation(news["text"].iloc[0], minilm)
    assert cut.n_tokens > cut.limit == 254 and cut.full_vs_kept > 0.999 and cut.cut
    assert news["text"].iloc[0].endswith(cut.cut[-50:])
    cleaned, similarity = teach.raw_vs_clean("<div><p>Get your <b>flu shot</b></p><script>x()</script></div>",
                                             minilm)
    assert "Get your flu shot" in cleaned and "<" not in cleaned
    assert similarity < 0.99
    with pytest.raises(InputError, match="no token limit"):
        teach.truncation("text", load_encoder("wordllama-l2"))


def test_trustworthiness_of_a_real_map(small_workspace):
    from sklearn.manifold import trustworthiness

    vectors, layout = small_workspace.embeddings().vectors, small_workspace.layout(2)
    score = teach.projection_quality(vectors, layout)
    assert score == pytest.approx(trustworthiness(vectors, layout, n_neighbors=10, metric="cosine"))
    assert 0.7 < score < 1.0
    rng = np.random.default_rng(0)
    assert teach.projection_quality(vectors, rng.normal(size=layout.shape)) < score


def test_ordinals_read_as_words():
    from explorer.analysis.teach import _ordinal

    assert [_ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]


def test_documents_sharing_no_word_share_the_last_tfidf_rank():
    import numpy as np

    from explorer.analysis.teach import meaning_vs_words
    from explorer.embedding.encoders import MODELS, Encoder

    class Constant(Encoder):
        """Only the TF-IDF ranks are under test here; every text gets the same vector."""

        spec, fingerprint, token_limit = MODELS["tfidf-svd"], "constant", None

        def encode(self, texts, *, batch_size=64, progress=None):
            return np.ones((len(texts), 4), np.float32)

    ranked = meaning_vs_words("refund for my order", ["Customer refund procedure", "Weather in Toulouse",
                                                      "Sourdough bread guide", "Order tracking help"], Constant())
    ranks = dict(zip(ranked["text"], ranked["tfidf_rank"]))
    assert ranks["Weather in Toulouse"] == ranks["Sourdough bread guide"] == 4
    assert ranks["Customer refund procedure"] == ranks["Order tracking help"] == 1  # one query word each


def test_an_axis_between_poles_pointing_nearly_the_same_way_says_so():
    from explorer.analysis.teach import CLOSE_POLES, ConceptAxis

    assert ConceptAxis(np.zeros(3), 0.80).warning().startswith("The two poles point nearly the same way (cosine 0.80")
    assert ConceptAxis(np.zeros(3), CLOSE_POLES - 0.1).warning() is None
