"""Peak memory of the Streamlit server while a big CSV is uploaded and checked on the New workspace page.

    python benchmarks/upload_memory.py --rows 100000 500000 1950000 [--json results.json]

For each size, a fresh server (``streamlit run app.py`` on 127.0.0.1, its own empty data folder) and Debian's
headless Chromium: the file (``id, text, label``: real health-news tweets drawn with replacement, seed 0) is
uploaded through the page's file uploader; the page reads it, shows its row count, then checks every text against
the default model's token limit (the step that used to grow the server past 21 GB on 1.95 M rows). Measured: the
server's peak resident memory (``VmHWM`` of its process), its resident memory before the upload (the app with the
model loaded), and the seconds until the page showed the row count and either the build controls or its refusal
(above 1,000,000 texts a workspace is refused, with the count and the limit, before anything is embedded).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"


def make_csv(rows: int, folder: Path) -> Path:
    tweets = pd.read_csv(ROOT / "explorer" / "build" / "sample_data" / "health_tweets.csv")
    drawn = np.random.default_rng(0).integers(0, len(tweets), rows)
    path = folder / f"upload-{rows}.csv"
    pd.DataFrame({"id": np.arange(rows), "text": tweets["text"].to_numpy()[drawn],
                  "label": tweets["outlet"].to_numpy()[drawn]}).to_csv(path, index=False)
    return path


def _memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                               "--server.address", "127.0.0.1"], cwd=ROOT,
                              env={**os.environ, "EXPLORER_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2)
            return server, url
        except OSError:
            time.sleep(1)
    server.terminate()
    raise RuntimeError("streamlit did not start")


def measure(path: Path, rows: int) -> dict:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as data_dir:
        (Path(data_dir) / "workspaces" / "placeholder").mkdir(parents=True)  # no first-launch sample build
        server, url = start_server(Path(data_dir))
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"{url}/new_workspace", timeout=120_000)
                page.locator("input[type=file]").first.wait_for(state="attached", timeout=120_000)
                time.sleep(3)  # the model loads while the page opens
                before = _memory_kb(server.pid, "VmRSS")
                clock = time.perf_counter()
                page.locator("input[type=file]").first.set_input_files(str(path), timeout=600_000)
                page.get_by_text(f"{rows:,} rows").wait_for(timeout=900_000)
                build = page.get_by_role("button", name="Build the map")
                build.or_(page.get_by_text("a workspace holds at most")).first.wait_for(timeout=900_000)
                seconds = time.perf_counter() - clock
                refused = page.get_by_text("a workspace holds at most").count() > 0
                browser.close()
            return {"rows": rows, "file_mb": round(path.stat().st_size / 1024**2, 1),
                    "server_rss_before_mb": round(before / 1024), "server_peak_mb": round(
                        _memory_kb(server.pid, "VmHWM") / 1024), "seconds_to_checked": round(seconds, 1),
                    "refused_as_too_many_points": refused}
        finally:
            server.terminate()
            server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 500_000, 1_950_000])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory() as folder:
        for rows in args.rows:
            result = measure(make_csv(rows, Path(folder)), rows)
            results.append(result)
            print(json.dumps(result), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
