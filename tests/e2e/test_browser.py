"""The main flow in real Chromium: upload a CSV, see the map, lasso points, see the table; user text stays text."""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from ..conftest import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
PAYLOADS = ["<script>alert('xss-script')</script>", "<img src=x onerror=alert('xss-img')>",
            "javascript:alert('xss-link')", "=HYPERLINK(\"http://example.invalid\")"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("e2e-data")


@pytest.fixture(scope="module")
def app_url(data_dir):
    port = _free_port()
    env = {**os.environ, "EXPLORER_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    log = open(data_dir / "streamlit.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py",
                               "--server.port", str(port), "--server.address", "127.0.0.1"],
                              cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            break
        except OSError:
            time.sleep(1)
    else:
        server.terminate()
        pytest.fail("streamlit did not start")
    yield url
    server.terminate()
    server.wait(timeout=30)
    log.close()


@pytest.fixture()
def page(request):
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed (scripts/run-tests.sh installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync"])
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        yield page
        if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
            artifacts = ROOT / "test-artifacts"
            artifacts.mkdir(exist_ok=True)
            page.screenshot(path=str(artifacts / f"{request.node.name}.png"), full_page=True)
        browser.close()


@pytest.fixture()
def upload_csv(tweets, tmp_path) -> Path:
    frame = tweets.head(150)[["tweet_id", "text"]].copy()
    frame["note"] = "real tweet"
    frame.loc[:3, "note"] = PAYLOADS
    frame.loc[4, "text"] = "&lt;img src=x onerror=alert('xss-entity')&gt; javascript:alert('xss-text')"
    path = tmp_path / "tweets with payloads.csv"
    frame.to_csv(path, index=False)
    return path


def test_upload_map_select_and_table(app_url, page, upload_csv):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{app_url}/new_workspace")
    page.get_by_text("New workspace", exact=True).first.wait_for(timeout=60_000)
    page.locator("input[type=file]").first.set_input_files(str(upload_csv))
    page.get_by_text("150 rows").wait_for(timeout=60_000)
    metadata = page.get_by_text("Metadata columns to keep")
    metadata.wait_for()
    page.locator("[data-testid=stMultiSelect]").first.click()
    page.get_by_role("option", name="note").click()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Build the map").click()
    page.get_by_role("heading", name="Map of tweets-with-payloads-all-MiniLM-L6-v2").wait_for(timeout=300_000)
    plot = page.locator(".js-plotly-plot").first
    plot.wait_for(timeout=60_000)
    time.sleep(2)

    # A click selects the point under it (the map opens in pan mode, where Streamlit lets clicks select).
    point = page.evaluate("""() => {
      const chart = document.querySelector('.js-plotly-plot');
      const trace = chart._fullData.find(t => t.x && t.x.length > 0);
      const area = chart.querySelector('.nsewdrag').getBoundingClientRect();
      return {x: area.left + chart._fullLayout.xaxis.l2p(trace.x[0]),
              y: area.top + chart._fullLayout.yaxis.l2p(trace.y[0])};
    }""")
    page.mouse.click(point["x"], point["y"])
    page.get_by_text("1 selected point", exact=True).wait_for(timeout=60_000)

    plot.hover()
    page.locator("[data-title='Lasso Select']").first.click()
    box = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
    left, top, width, height = box["x"], box["y"], box["width"], box["height"]
    page.mouse.move(left + width * 0.05, top + height * 0.05)
    page.mouse.down()
    for x, y in ((0.95, 0.05), (0.95, 0.95), (0.05, 0.95), (0.05, 0.06)):
        page.mouse.move(left + width * x, top + height * y, steps=8)
    page.mouse.up()
    page.get_by_text("150 selected points").wait_for(timeout=60_000)
    # Streamlit renders a rerun's elements one by one: wait for them rather than asserting at once.
    page.get_by_role("button", name="Download selection (CSV)").wait_for(timeout=30_000)
    page.locator("[data-testid=stDataFrame]").nth(1).wait_for(timeout=30_000)

    page.get_by_text("Colour by").wait_for()
    page.get_by_role("combobox", name="Colour by").click()
    page.get_by_role("option", name="note").click()
    page.locator(".legendtext", has_text="onerror").first.wait_for(timeout=60_000)
    legend = " ".join(page.locator(".legendtext").all_text_contents())
    assert "<img src=x onerror=alert('xss-img')>" in legend
    assert "<script>alert('xss-script')</script>" in legend
    assert '=HYPERLINK("http://example.invalid")' in legend
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("script", has_text="xss").count() == 0
    # A click on a bar of the linked 'note' chart (the payloads are its values) picks its points on the map.
    page.locator(".js-plotly-plot").last.scroll_into_view_if_needed()
    time.sleep(1)
    bar = page.evaluate("""() => {
      const charts = document.querySelectorAll('.js-plotly-plot');
      const box = charts[charts.length - 1].querySelectorAll('.bars .point path')[0].getBoundingClientRect();
      return {x: box.left + box.width / 2, y: box.top + box.height / 2};
    }""")
    page.mouse.click(bar["x"], bar["y"])
    page.get_by_text("146 points picked in the charts").first.wait_for(timeout=60_000)
    page.locator(".legendtext", has_text="picked in the charts").first.wait_for(timeout=30_000)
    assert page.locator("img[src='x']").count() == 0
    assert dialogs == []
    assert page.get_by_text("Workspace", exact=True).first.is_visible()  # the app shell's sidebar, not bare pages
    page.screenshot(path=str(upload_csv.parent / "map.png"), full_page=True)
    # The table's own toolbar offers no CSV export (it would write formula cells raw); ours is beside it.
    page.locator("[data-testid=stDataFrame]").first.hover()
    page.locator("[data-testid=stElementToolbar]").first.wait_for(state="attached", timeout=10_000)
    assert page.get_by_role("button", name="Download as CSV").count() == 0
    # Ours downloads formula-safe CSV, made when the button is clicked (a deferred download).
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Download all points with clusters (CSV)").click()
    table = pd.read_csv(download.value.path(), dtype=str, keep_default_na=False)
    assert len(table) == 150 and "'=HYPERLINK(\"http://example.invalid\")" in set(table["note"])
    assert not table.map(lambda cell: cell.startswith(("=", "@"))).any().any()

    # One typed query: results listed, the query starred on the map, the payload rows still plain text.
    page.get_by_role("link", name="Search").click()
    page.get_by_role("heading", name="Search tweets-with-payloads-all-MiniLM-L6-v2").wait_for(timeout=60_000)
    query = page.get_by_label("Query", exact=True)
    query.fill("ebola outbreak")
    query.press("Enter")
    page.get_by_role("button", name="Download results (CSV)").wait_for(timeout=60_000)
    page.locator(".legendtext", has_text="query: ebola outbreak").first.wait_for(timeout=30_000)
    page.locator(".legendtext", has_text="results").first.wait_for()
    assert page.get_by_text("The query's cosine similarity to all 150 points").count() == 1

    # Quality: move the duplicate threshold slider to its minimum; the pair count follows.
    page.get_by_role("link", name="Quality").click()
    page.get_by_role("heading", name="Quality of tweets-with-payloads-all-MiniLM-L6-v2").wait_for(timeout=60_000)
    pairs = page.locator("[data-testid=stMetricValue]").first
    pairs.wait_for(timeout=60_000)
    before = pairs.inner_text()
    slider = page.get_by_role("slider").first
    slider.focus()
    slider.press("Home")
    page.get_by_text("0.500").first.wait_for(timeout=30_000)
    page.get_by_text("Review queue").wait_for(timeout=60_000)
    after = int(page.locator("[data-testid=stMetricValue]").first.inner_text().replace(",", ""))
    assert after > int(before.replace(",", "")) and after > 0
    page.get_by_role("button", name="Download decisions (CSV)").wait_for(timeout=30_000)
    # Stepped with the keyboard, faster than the page reruns: the counts settle on the threshold the slider shows.
    slider.press("End")
    for _ in range(3):
        slider.press("ArrowLeft")
    page.get_by_text("0.985").first.wait_for(timeout=30_000)
    page.get_by_text("Near-duplicate pairs at ≥ 0.985").wait_for(timeout=60_000)
    settled = int(page.locator("[data-testid=stMetricValue]").first.inner_text().replace(",", ""))
    assert settled <= after

    # Calibration audit: upload a labelled pairs file (real STS-B pairs, one carrying a payload).
    pairs = pd.read_csv(ROOT / "explorer" / "build" / "sample_data" / "sts_b_pairs.csv").head(80)
    pairs = pairs.assign(label=(pairs["score"] >= 4).astype(int)).drop(columns=["score", "genre"])
    pairs.loc[0, "text_a"] = PAYLOADS[1]
    pairs_path = upload_csv.parent / "pairs.csv"
    pairs.to_csv(pairs_path, index=False)
    page.get_by_role("link", name="Calibration audit").click()
    page.get_by_role("heading", name="Calibration audit").wait_for(timeout=60_000)
    page.locator("input[type=file]").first.set_input_files(str(pairs_path))
    page.get_by_text("ROC AUC").first.wait_for(timeout=120_000)
    page.get_by_text("Precision, recall and F1 by threshold").wait_for(timeout=60_000)
    assert page.locator("img[src='x']").count() == 0
    assert dialogs == []


@pytest.fixture()
def trap():
    """A local web server that records every request: Markdown in user text must never make the page fetch it."""
    import http.server
    import threading

    requests = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 -- the name http.server calls
            requests.append(self.path)
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()


def test_markdown_in_ids_file_names_and_typed_text_shows_as_text(app_url, page, data_dir, tweet_vectors, tweets,
                                                                  trap, tmp_path):
    import numpy as np

    from explorer.build.pipeline import build_workspace
    from explorer.config import BuildConfig
    from explorer.ingest.corpus import IngestConfig

    trap_url, requests = trap
    image, link = f"![p]({trap_url}/id.png)", f"[click]({trap_url}/link) **bold** <b>html</b>"
    table = tweets.head(400).assign(note=link)
    table["tweet_id"] = table["tweet_id"].astype(str)
    table.loc[0, "tweet_id"], table.loc[1, "tweet_id"] = image, link
    old = {path.name for path in (data_dir / "workspaces").glob("*")} if (data_dir / "workspaces").exists() else set()
    build_workspace(table, BuildConfig(IngestConfig("text", "tweet_id", ("note",))), data_dir / "workspaces" / "md-ws",
                    source="payloads", vectors=np.asarray(tweet_vectors.vectors))
    assert "md-ws" not in old

    page.goto(f"{app_url}/search?workspace=md-ws")
    page.get_by_role("heading", name="Search md-ws").wait_for(timeout=120_000)
    page.get_by_role("tab", name="Neighbours of a point").click()
    typed = f"![typed]({trap_url}/typed.png)"
    field = page.get_by_role("textbox", name="Point id")
    field.fill(typed)
    field.press("Enter")
    page.get_by_text(f"No point has id {typed}").wait_for(timeout=60_000)  # literal, brackets and all

    bad_name = tmp_path / "**bold** <img src=x onerror=alert(1)> [link](x).csv"  # no '/' in a file name
    bad_name.write_text("")
    page.goto(f"{app_url}/new_workspace")
    page.get_by_text("New workspace", exact=True).first.wait_for(timeout=60_000)
    page.locator("input[type=file]").first.set_input_files(str(bad_name))
    page.get_by_text(f"Could not read '{bad_name.name}'").wait_for(timeout=60_000)
    assert page.locator("img[src='x']").count() == 0 and page.locator("a", has_text="link").count() == 0
    time.sleep(1)
    assert requests == []


def test_the_report_shows_payloads_as_text_and_needs_no_network(page, tweets, tweet_vectors, tmp_path):
    """Payloads in texts, ids, metadata, the source file's name and the pairs file render as text in the report
    opened from disk; no dialog opens and no request leaves the file."""
    import numpy as np

    from explorer import cli
    from explorer.build.pipeline import build_workspace
    from explorer.config import BuildConfig
    from explorer.ingest.corpus import IngestConfig

    table = tweets.head(400).assign(note="real tweet")
    table["tweet_id"] = table["tweet_id"].astype(str)
    for row, payload in enumerate(PAYLOADS):
        table.loc[row, "tweet_id"] = payload
        table.loc[row + 10, "note"] = payload
    table.loc[20, "text"] = PAYLOADS[0] + " " + table.loc[20, "text"]  # the vectors stay the real tweet's
    out = tmp_path / "payload-ws"
    build_workspace(table, BuildConfig(IngestConfig("text", "tweet_id", ("note",))), out, source=PAYLOADS[1],
                    vectors=np.asarray(tweet_vectors.vectors))
    report = tmp_path / "report.html"
    assert cli.main(["report", str(out), "--out", str(report)]) == 0

    dialogs, requests = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(report.as_uri())
    page.locator(".plot-container").first.wait_for(timeout=60_000)
    assert page.locator(".plot-container").count() >= 2
    page.get_by_text(PAYLOADS[1]).first.wait_for(timeout=10_000)  # the source, shown as text
    # The map's hover labels carry the payloads escaped, so plotly shows them as text.
    hovers = page.evaluate("""() => document.querySelector('#figure-map').data
        .flatMap(trace => trace.hovertext || [])""")
    assert len(hovers) == 400
    for payload in PAYLOADS[:2]:
        escaped = payload.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert any(escaped in hover for hover in hovers) and not any(payload in hover for hover in hovers)
    assert page.locator("img[src='x']").count() == 0
    assert page.locator("script", has_text="xss").count() == 0
    time.sleep(1)
    assert dialogs == [] and [url for url in requests if not url.startswith("file:")] == []


def test_a_build_cancelled_from_the_page_leaves_the_workspace_it_would_replace(app_url, page, data_dir, tweets,
                                                                               tweet_vectors):
    import numpy as np

    from explorer.build.pipeline import build_workspace
    from explorer.config import BuildConfig
    from explorer.ingest.corpus import IngestConfig
    from explorer.workspace import MANIFEST, Workspace

    root = data_dir / "workspaces"
    previous = build_workspace(tweets.head(400), BuildConfig(IngestConfig("text", "tweet_id")), root / "kept",
                               source="test", vectors=np.asarray(tweet_vectors.vectors))
    manifest = (previous.path / MANIFEST).read_bytes()
    page.goto(f"{app_url}/new_workspace")
    page.get_by_text("Bundled sample (health-news tweets)").click()
    page.get_by_text("3,008 rows").wait_for(timeout=60_000)
    name = page.get_by_label("Workspace name")
    name.fill("kept")
    name.press("Enter")
    page.get_by_text("Replace the existing workspace 'kept'").click()
    page.get_by_role("button", name="Build the map").click()
    page.get_by_text("Embedding texts").first.wait_for(timeout=120_000)  # the 3,008 tweets take seconds
    page.get_by_role("button", name="Cancel the build").click()
    page.get_by_text("The build was cancelled: nothing was saved, and the workspace 'kept' is as it was.").wait_for(
        timeout=60_000)
    time.sleep(2)
    assert (previous.path / MANIFEST).read_bytes() == manifest
    assert Workspace.open(previous.path).manifest.n_points == 400
    assert not [path.name for path in root.iterdir() if ".building-" in path.name]


POINT_MAP = "[data-testid=stBidiComponentIsolated] .pm-root"


def _inside(polygon, points):
    """Which (n, 2) points lie inside the polygon (even-odd rule), computed independently of the browser."""
    import numpy as np

    x, y = points[:, 0], points[:, 1]
    inside = np.zeros(len(points), dtype=bool)
    for (x1, y1), (x2, y2) in zip(polygon, np.roll(polygon, 1, axis=0)):
        crosses = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            inside ^= crosses & (x < (x2 - x1) * (y - y1) / (y2 - y1) + x1)
    return inside


def test_a_quarter_million_points_are_all_drawn_named_and_a_lasso_selects_the_right_rows(app_url, page, data_dir,
                                                                                        tweets, tweet_vectors):
    """250,000 points (the 400 fixture tweets' real vectors, each copied 625 times with a little noise: no model),
    built as any workspace is (the map fitted on a sample), drawn whole in WebGL; the biggest cluster's name is on
    the map and zooming in shows smaller clusters' names; a lasso lists exactly the points inside it; user text in
    the legend stays text."""
    import json

    import numpy as np

    from explorer.build.pipeline import build_workspace
    from explorer.config import BuildConfig
    from explorer.ingest.corpus import IngestConfig

    copies = 625
    rng = np.random.default_rng(0)
    vectors = np.repeat(tweet_vectors.vectors, copies, axis=0)
    vectors = vectors + rng.normal(0, 0.03, vectors.shape).astype(np.float32)  # copies stay below 0.95 cosine
    table = pd.DataFrame({"text": np.repeat(tweets.head(400)["text"].to_numpy(), copies),
                          "source": np.resize(PAYLOADS, 400 * copies)})
    workspace = build_workspace(table, BuildConfig(IngestConfig("text", metadata_columns=("source",))),
                                data_dir / "workspaces" / "quarter-million", source="fixture", vectors=vectors)
    layout, clustering = workspace.layout(2), workspace.clustering()
    labels = clustering.clustering.labels
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(app_url)
    page.get_by_text("Workspace", exact=True).first.wait_for(timeout=120_000)
    page.get_by_test_id("stSidebar").get_by_role("combobox").first.click()
    page.get_by_role("option", name="quarter-million").click()
    page.get_by_role("heading", name="Map of quarter-million").wait_for(timeout=300_000)
    page.get_by_text("Drawing all 250,000 points in WebGL").wait_for(timeout=300_000)
    root = page.locator(POINT_MAP)
    page.wait_for_function("""() => {
      const host = document.querySelector('[data-testid=stBidiComponentIsolated]');
      const root = host && host.shadowRoot && host.shadowRoot.querySelector('.pm-root');
      return root && root.dataset.drawn === '250000';
    }""", timeout=300_000)
    assert root.locator("canvas").count() == 1
    # The map opens on the topic tree's top level: the biggest topic is named on it.
    names = root.locator("[data-testid=pointMapLabel]")
    assert workspace.topics().keywords[0][0][0] in " ".join(names.all_text_contents())
    page.get_by_test_id("stSelectbox").filter(has_text="Colour by").get_by_role("combobox").click()
    page.get_by_role("option", name="Cluster", exact=True).click()
    biggest = int(np.bincount(labels[labels >= 0]).argmax())
    word = clustering.keywords.keywords[biggest][0]
    page.wait_for_function("""(word) => {
      const host = document.querySelector('[data-testid=stBidiComponentIsolated]');
      const root = host && host.shadowRoot && host.shadowRoot.querySelector('.pm-root');
      return root && [...root.querySelectorAll('[data-testid=pointMapLabel]')].some(node =>
        node.textContent.includes(word));
    }""", arg=word, timeout=120_000)

    plot = root.locator(".pm-plot")
    plot.scroll_into_view_if_needed()
    box = plot.bounding_box()
    centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    # Zooming in refines the names: clusters too small to be named on the whole map are named closer up.
    named = set(names.evaluate_all("nodes => nodes.map(node => node.dataset.cluster)"))
    page.mouse.move(*centre)
    for _ in range(3):
        page.mouse.wheel(0, -100)
        page.wait_for_timeout(400)
    page.wait_for_timeout(1_000)
    closer = set(names.evaluate_all("nodes => nodes.map(node => node.dataset.cluster)"))
    assert closer - named, (named, closer)
    root.get_by_role("button", name="Fit").click()

    root.get_by_role("button", name="Lasso").click()
    corners = [(centre[0] + dx * box["width"] * 0.2, centre[1] + dy * box["height"] * 0.2)
               for dx, dy in ((-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -0.9))]
    page.mouse.move(*corners[0])
    page.mouse.down()
    for corner in corners[1:]:
        page.mouse.move(*corner, steps=8)
    page.mouse.up()
    heading = page.get_by_text("selected points", exact=False).first
    heading.wait_for(timeout=120_000)
    shown = int(heading.text_content().split(" selected")[0].replace(",", ""))
    # The lasso as the map kept it, in the layout's coordinates: the rows listed are exactly the points inside it.
    polygon = np.array(json.loads(root.get_attribute("data-lasso")))
    expected = int(_inside(polygon, layout).sum())
    assert expected > 100
    # A point exactly on the lasso's edge may fall either way (float32 on the GPU against float64 here).
    assert abs(shown - expected) <= 3, (shown, expected)

    page.get_by_test_id("stSelectbox").filter(has_text="Colour by").get_by_role("combobox").click()
    page.get_by_role("option", name="source").click()
    root.locator(".pm-legend-title", has_text="source").wait_for(timeout=120_000)
    legend = root.locator("[data-testid=pointMapLegendItem]")
    texts = " ".join(legend.all_text_contents())
    assert "<img src=x onerror=alert('xss-img')>" in texts and "<script>alert('xss-script')</script>" in texts
    assert dialogs == []
