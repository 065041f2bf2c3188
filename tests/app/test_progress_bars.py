"""The embedding progress bar: what it says while texts are embedded, and that a cached result draws none."""

from streamlit.testing.v1 import AppTest


def _bar_script(calls):
    from explorer.app.ui.progress import embedding_progress

    ticks = iter([0.0, 4.0, 4.0])
    # Entered and not left, so the bar is still on the page when the run ends.
    report = embedding_progress("the pairs' texts", "all-MiniLM-L6-v2", clock=lambda: next(ticks)).__enter__()
    for done, total in calls:
        report(done, total)


def _bars(calls):
    at = AppTest.from_function(_bar_script, args=(calls,)).run()
    assert not at.exception
    return [element.proto for element in at.get("progress")]


def test_the_bar_names_the_texts_the_model_and_the_measured_pace():
    (bar,) = _bars([(0, 1000), (400, 1000)])
    assert bar.value == 40
    assert bar.text == ("Embedding the pairs' texts with all-MiniLM-L6-v2… 40% (400 of 1,000 texts, 100 texts/s, "
                        "about 6 s left)")


def test_a_result_from_the_cache_draws_no_bar():
    assert _bars([(1000, 1000)]) == []
