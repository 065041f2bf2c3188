"""Teaching mode: the ideas behind embeddings, live, on the bundled models; every demo editable, no upload needed."""

import html
import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from explorer.analysis import teach
from explorer.app.ui import cache
from explorer.app.ui.safe import md
from explorer.app.ui.widgets import model_label, open_workspace, show_table
from explorer.build.sample import news_articles_file
from explorer.embedding.encoders import DEFAULT_MODEL, MODELS
from explorer.errors import InputError
from explorer.figures.charts import map_figure, search_figure

SENTENCES = ["The cat sits on the mat.", "A kitten is resting on a rug.", "Stock markets fell sharply today.",
             "Shares dropped steeply this morning.", "The dog chased the ball in the park."]
CORPUS = ["Top computer for coding", "Laptop stickers: the best designs for your lid",
          "Programming the best TV remote in five steps", "Customer refund procedure",
          "What's the weather like in Toulouse?", "Cheap flights to Lisbon this spring",
          "A beginner's guide to sourdough bread"]
HTML = ("<div class='post'><h2>Flu season</h2><p>Get your <b>flu shot</b> before December.</p>"
        "<script>track('visit')</script><a href='/subscribe'>Subscribe</a></div>")
available = [model_id for model_id, spec in MODELS.items() if spec.available()]


def lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


def explain(text: str) -> None:
    st.info(text, icon=":material/school:")


st.title("Teaching mode")
st.caption("The ideas behind embeddings, computed live with the bundled models. Every example is editable.")
model_id = st.selectbox("Model for the demos", available, index=available.index(DEFAULT_MODEL),
                        format_func=model_label, key="teach_model")
encoder = cache.encoder(model_id)
opened = open_workspace()
path, version, data = (opened.path, opened.version, opened.data) if opened else (None, None, None)
demos = st.tabs(["Cosine by hand", "Meaning vs words", "Vector arithmetic", "Concept axis", "Pitfalls",
                 "What a 2-D map distorts"])

with demos[0]:
    explain("An embedding turns a text into a list of numbers (a vector). Texts with similar meaning get vectors "
            "that point the same way, and cosine similarity measures exactly that: the angle, not the length. "
            "It runs from −1 (opposite) through 0 (unrelated) to 1 (same direction).")
    text = st.text_area("Sentences (2 to 8, one per line)", "\n".join(SENTENCES), key="cosine_sentences", height=150)
    try:
        sentences, vectors, matrix = teach.similarity_matrix(lines(text), encoder)
    except InputError as error:
        st.error(md(error))
    else:
        labels = [f"{number + 1}. {html.escape(textwrap.shorten(sentence, 34, placeholder='…'), quote=False)}"
                  for number, sentence in enumerate(sentences)]
        heatmap = go.Figure(go.Heatmap(z=matrix, x=labels, y=labels, zmin=-1, zmax=1, colorscale="RdBu",
                                       text=np.round(matrix, 2), texttemplate="%{text}"))
        heatmap.update_layout(height=420, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                              title={"text": "Cosine similarity of every pair"}, yaxis={"autorange": "reversed"})
        st.plotly_chart(heatmap, key="cosine_heatmap", width="stretch")
        pick = st.columns(2)
        first = pick[0].selectbox("Sentence A", range(len(sentences)), format_func=lambda i: labels[i], key="pair_a")
        second = pick[1].selectbox("Sentence B", range(len(sentences)), index=1, format_func=lambda i: labels[i],
                                   key="pair_b")
        numbers = teach.pair_arithmetic(vectors[first], vectors[second])
        st.latex(r"\cos(A,B) = \frac{A \cdot B}{|A|\,|B|} = \frac{%.4f}{%.4f \times %.4f} = %.4f"
                 % (numbers.dot, numbers.norm_a, numbers.norm_b, numbers.cosine))
        st.write(f"Over {numbers.dimensions} dimensions. The same pair by **dot product**: {numbers.dot:.4f}; by "
                 f"**euclidean distance**: {numbers.euclidean:.4f} (lower = closer). This model's vectors all have "
                 f"length {numbers.norm_a:.2f}, so here the three agree; when lengths vary (long vs short texts, "
                 "unnormalised models), dot product and distance start measuring length too. That is why cosine is "
                 "the default: see Pitfalls.")

with demos[1]:
    explain("TF-IDF scores documents by the words they share with the query, weighted by rarity. An embedding "
            "scores them by meaning. A paraphrase that shares no word with the query is invisible to TF-IDF and "
            "obvious to the embedding.")
    query = st.text_input("Query", "best laptop for programming", key="words_query")
    corpus = st.text_area("Documents (one per line)", "\n".join(CORPUS), key="words_corpus", height=180)
    try:
        ranked = teach.meaning_vs_words(query, lines(corpus), encoder)
    except InputError as error:
        st.error(md(error))
    else:
        only_embedding = ranked[(ranked["shared_words"] == "") & (ranked["embedding_rank"] <= 2)]
        for text in only_embedding["text"]:
            st.success(f"Only the embedding finds “{md(text)}”: it shares no word with the query.")
        show_table(ranked[["text", "embedding_rank", "embedding", "tfidf_rank", "tfidf", "shared_words"]],
                   column_config={"embedding": st.column_config.NumberColumn(format="%.3f"),
                                  "tfidf": st.column_config.NumberColumn(format="%.3f")})

with demos[2]:
    explain("Word vectors famously support arithmetic: king − man + woman lands near queen. The result is the "
            "word closest by cosine to the combined vector, among about 21,000 English words. Sentence models are "
            "not trained for this, so the page says plainly when an analogy does not hold.")
    terms = st.columns(4)
    a = terms[0].text_input("a", "king", key="analogy_a")
    b = terms[1].text_input("− b", "man", key="analogy_b")
    c = terms[2].text_input("+ c", "woman", key="analogy_c")
    expected = terms[3].text_input("expected (optional)", "queen", key="analogy_expected")
    try:
        result = teach.analogy(a, b, c, cache.word_vectors(model_id), teach.vocabulary(), encoder=encoder,
                               expected=expected)
    except InputError as error:
        st.error(md(error))
    else:
        (st.success if result.expected_rank == 1 else st.warning)(md(result.verdict))
        columns = st.columns(2)
        columns[0].write(f"**{md(a)} − {md(b)} + {md(c)}**")
        with columns[0]:
            show_table(result.results, column_config={"cosine": st.column_config.NumberColumn(format="%.3f")})
        columns[1].write(f"**nearest to {md(c)} alone** (the baseline)")
        with columns[1]:
            show_table(result.baseline, column_config={"cosine": st.column_config.NumberColumn(format="%.3f")})

with demos[3]:
    explain("Two word lists define a direction in the space: from the centre of the first to the centre of the "
            "second. Projecting every text of the open workspace on it sorts the corpus along that concept; the "
            "extremes show what the model thinks each pole means.")
    if data is None:
        st.warning("Open or build a workspace first: the axis is drawn through its texts.")
    else:
        manifest = data.manifest
        poles = st.columns(2)
        negative = poles[0].text_area("First pole", "cheap\nbudget\ninexpensive\naffordable", key="axis_negative")
        positive = poles[1].text_area("Second pole", "expensive\nluxury\ncostly\npremium", key="axis_positive")
        try:
            axis_model = cache.query_encoder(str(path), version)
        except InputError as error:
            st.warning(f"The axis words must be embedded with the corpus's own model: {md(error)}")
        else:
            embeddings = cache.search_data(str(path), version).embeddings
            try:
                axis = teach.concept_axis(lines(negative), lines(positive), embeddings, axis_model)
            except InputError as error:
                st.error(md(error))
            else:
                st.caption(f"Axis in {md(manifest.name)}, embedded with its own model {md(manifest.model)}. The "
                           f"two poles' centres have cosine {axis.pole_similarity:.2f}.")
                if axis.warning():
                    st.warning(axis.warning())
                order = np.argsort(axis.positions)
                ends = st.columns(2)
                for column, rows, title in ((ends[0], order[:10], "Nearest the first pole"),
                                            (ends[1], order[::-1][:10], "Nearest the second pole")):
                    column.write(f"**{title}**")
                    with column:
                        show_table(pd.DataFrame({"position": axis.positions[rows],
                                                 "text": data.points["text"].to_numpy()[rows]}))
                st.plotly_chart(map_figure(data.layout_2d, data.hover, pd.Series(axis.positions, name="axis position"),
                                           title="The map coloured by position on the axis", continuous=True),
                                key="axis_map", width="stretch")

with demos[4]:
    st.subheader("1. Querying with another model")
    explain("Each model has its own space: coordinates from one mean nothing in another. A query embedded with "
            "the wrong model returns garbage, and nothing in the numbers warns you. Our index records the model's "
            "fingerprint and refuses such queries.")
    wrong_id = st.selectbox("Wrong model for the query", [m for m in available if m != model_id] or available,
                            format_func=model_label, key="wrong_model")
    pitfall_query = st.text_input("Query", "best laptop for programming", key="pitfall_query")
    try:
        mixed, message = teach.mismatched_models(pitfall_query, CORPUS, encoder, cache.encoder(wrong_id))
    except InputError as error:
        st.error(md(error))
    else:
        show_table(mixed[["text", "right_rank", "right_model", "wrong_rank", "wrong_model"]])
        st.error(f"What our index says when asked to do this: {md(message)}")

    st.subheader("2. Euclidean distance on unnormalised vectors")
    explain("Here each document's vector is scaled by its word count, as summed word vectors are. Euclidean "
            "distance then prefers documents of the query's length over documents of its meaning; cosine, which "
            "ignores length, does not care.")
    lengths = ["Coding laptop", "Top computer for coding", CORPUS[2],
               "The best laptop for programming is one with a good keyboard, plenty of memory and a long battery "
               "life, and a screen that is comfortable for reading code all day long",
               "Sourdough bread guide", "Weather in Toulouse today"]
    try:
        distances = teach.euclidean_vs_cosine("best laptop for programming", lengths, encoder)
    except InputError as error:
        st.error(md(error))
    else:
        show_table(distances[["text", "words", "cosine_rank", "cosine", "euclidean_rank", "euclidean"]])

    st.subheader("3. Silent truncation at the token limit")
    explain("Transformer models read a fixed number of tokens and silently ignore the rest. The whole text's "
            "embedding then equals the embedding of its first part: whatever comes later cannot be found.")
    article = pd.read_csv(news_articles_file())["text"].iloc[0]
    long_text = st.text_area("A long text", article, key="long_text", height=150)
    try:
        cut = teach.truncation(long_text, encoder)
    except InputError as error:
        st.warning(md(error))
    else:
        st.write(f"{cut.n_tokens:,} tokens; {model_id} reads the first {cut.limit}. Cosine between the whole text "
                 f"and only its kept part: **{cut.full_vs_kept:.4f}**; between the whole text and the cut part: "
                 f"{cut.full_vs_rest:.4f}.")
        st.text_area("What was cut (never seen by the model)", cut.cut, key="cut_text", disabled=True, height=120)

    st.subheader("4. Raw HTML vs cleaned text")
    explain("Markup, scripts and link text are text too: embedded raw, they pull the vector away from what a "
            "reader sees. The explorer strips tags before embedding.")
    raw = st.text_area("HTML", HTML, key="raw_html", height=100)
    try:
        cleaned, similarity = teach.raw_vs_clean(raw, encoder)
    except InputError as error:
        st.warning(md(error))
    else:
        st.text(f"Cleaned: {cleaned}")
        st.write(f"Cosine between the raw HTML's embedding and the cleaned text's: **{similarity:.3f}** (1 would mean "
                 "the markup changed nothing).")

with demos[5]:
    explain("UMAP squeezes hundreds of dimensions into two, and something must give. Neighbourhoods are mostly "
            "kept, but distances between clusters and cluster sizes mean little, and some true neighbours land "
            "far apart. n_neighbors trades local for global structure; min_dist sets how tightly points pack. "
            "Trustworthiness (1 = no false neighbours on the map) measures how much to believe each map.")
    if data is None:
        st.warning("Open or build a workspace first: the maps are drawn from its vectors.")
    else:
        n_points = min(1500, len(data.points))
        settings = st.columns(3)
        chosen = []
        for column, (neighbours, distance) in zip(settings, ((5, 0.0), (15, 0.1), (50, 0.5))):
            n_neighbors = column.number_input("n_neighbors", 2, 200, neighbours, key=f"nn_{neighbours}")
            min_dist = column.number_input("min_dist", 0.0, 1.0, distance, 0.05, key=f"md_{neighbours}")
            chosen.append((int(n_neighbors), float(min_dist)))
        point = st.number_input(f"Point whose 10 true neighbours to draw (row 0 to {n_points - 1})", 0, n_points - 1,
                                0, key="distortion_point")
        true_neighbours = cache.true_neighbours(str(path), version, n_points, int(point))
        hover = data.hover[:n_points]
        for column, (n_neighbors, min_dist) in zip(settings, chosen):
            try:
                coords, trust = cache.distortion_layout(str(path), version, n_neighbors, min_dist, n_points)
            except InputError as error:
                column.error(md(error))
                continue
            column.metric("Trustworthiness", f"{trust:.3f}",
                          help="scikit-learn's trustworthiness (10 neighbours, cosine): 1 = no false neighbours.")
            figure = search_figure(coords, hover, None, None, hits=true_neighbours,
                                   hit_labels=[f"<b>#{rank}</b> {hover[row]}" for rank, row in
                                               enumerate(true_neighbours, start=1)],
                                   origin=coords[int(point)], origin_label="chosen point",
                                   title=f"n_neighbors {n_neighbors}, min_dist {min_dist}")
            figure.update_layout(height=420, showlegend=False)
            column.plotly_chart(figure, key=f"distortion_{n_neighbors}_{min_dist}", width="stretch")
        st.caption(f"The first {n_points:,} points of {md(data.manifest.name)}. The star is the chosen point; the red "
                   "points, joined to it, are its 10 true (high-dimensional) neighbours, wherever each map put them.")
