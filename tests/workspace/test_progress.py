"""A build's progress file: what the Map page shows while the first launch (or the command line) builds."""

from explorer.workspace import clear_progress, file_progress, read_progress


def test_embedding_progress_reports_the_measured_rate_and_time_left(tmp_path):
    out = tmp_path / "ws"
    now = [0.0]
    seen = []
    report = file_progress(out, 3008, also=lambda stage, fraction: seen.append(fraction), clock=lambda: now[0])
    report("Embedding texts", 0.0)
    assert read_progress(out).rate is None  # nothing measured yet
    now[0] = 10.0
    report("Embedding texts", 0.5)
    progress = read_progress(out)
    assert (progress.texts_done, progress.texts_total) == (1504, 3008)
    assert progress.rate == 150.4 and progress.seconds_left == 10.0
    assert progress.sentence() == "Embedding texts… 50% (1,504 of 3,008 texts, 150 texts/s, about 10 s left)"
    now[0] = 10.1
    report("Embedding texts", 0.6)  # written at most twice a second
    assert read_progress(out).fraction == 0.5 and seen == [0.0, 0.5, 0.6]
    report("Building the FAISS index", 0.0)
    assert read_progress(out).fraction == 0.5
    now[0] = 11.0
    report("Building the FAISS index", 0.0)
    assert read_progress(out).sentence() == "Building the FAISS index… 0%"
    clear_progress(out)
    assert read_progress(out) is None and not list(tmp_path.iterdir())


def test_console_progress_says_each_stage_its_share_and_the_time_left():
    import io

    from explorer.cli import console_progress

    stream, now = io.StringIO(), [0.0]
    report = console_progress(stream, every=2.0, clock=lambda: now[0])
    report("Embedding texts", 0.0)
    now[0] = 1.0
    report("Embedding texts", 0.2)  # within 2 s of the last line: not printed
    now[0] = 4.0
    report("Embedding texts", 0.5)
    now[0] = 8.0
    report("Embedding texts", 1.0)
    report("Building the FAISS index", 0.0)
    assert stream.getvalue().splitlines() == ["Embedding texts… 0%", "Embedding texts… 50% (about 4 s left)",
                                              "Embedding texts… 100% (8.0 s)", "Building the FAISS index… 0%"]


def test_cli_build_reports_progress_on_stderr_when_asked(tweets, tweet_vectors, tmp_path, capsys):
    import numpy as np

    from explorer import cli

    source, vectors = tmp_path / "tweets.csv", tmp_path / "vectors.npy"
    tweets.head(400).to_csv(source, index=False)
    np.save(vectors, tweet_vectors.vectors)
    assert cli.main(["build", str(source), "--out", str(tmp_path / "ws"), "--text-col", "text", "--vectors",
                     str(vectors), "--progress", "--json"]) == 0
    captured = capsys.readouterr()
    assert "Building the FAISS index… 0%" in captured.err and "Clustering (HDBSCAN) and labelling" in captured.err
    assert captured.out.startswith("{")  # the JSON summary stays alone on stdout


def test_a_stage_that_counts_says_how_many_and_how_fast():
    import io

    from explorer.cli import console_progress
    from explorer.workspace.progress import stage_sentence

    assert stage_sentence("Embedding texts", 0.25, elapsed=10.0, counts=(250_000, 1_000_000)) == (
        "Embedding texts… 25% (250,000 of 1,000,000, 25,000/s, about 30 s left)")
    assert stage_sentence("Embedding texts", 0.25, elapsed=0.5, counts=(250, 1_000)) == (
        "Embedding texts… 25% (250 of 1,000)")
    done = stage_sentence("Embedding texts", 1.0, elapsed=40.0, counts=(1_000, 1_000))
    assert done == "Embedding texts… 100% (40.0 s)"
    stream, now = io.StringIO(), [0.0]
    report = console_progress(stream, clock=lambda: now[0])
    report("Building the FAISS index", 0.0, (0, 200_000))
    now[0] = 5.0
    report("Building the FAISS index", 0.5, (100_000, 200_000))
    assert stream.getvalue().splitlines()[-1] == (
        "Building the FAISS index… 50% (100,000 of 200,000, 20,000/s, about 5 s left)")


def test_a_build_reports_its_texts_and_points_as_counts(tweets, tweet_vectors, tmp_path):
    from explorer.build.pipeline import build_workspace
    from explorer.config import BuildConfig
    from explorer.ingest.corpus import IngestConfig

    calls = []
    build_workspace(tweets.head(400), BuildConfig(IngestConfig("text")), tmp_path / "ws", source="test",
                    vectors=tweet_vectors.vectors, progress=lambda *call: calls.append(call))
    counted = {call[0]: call[2] for call in calls if len(call) == 3}
    assert counted["Building the FAISS index"] == (400, 400)
    assert counted["Finding the 30 nearest neighbours of each point"] == (400, 400)
