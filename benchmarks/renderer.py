"""The map in a real browser at scale (issue 14, item 1): bytes sent, time to the first drawn frame, pan and zoom
redraw, and the Streamlit server's memory, for workspaces of 100k to a million points.

    python benchmarks/renderer.py --data-dir DIR --workspaces scale-250k scale-500k scale-1m [--json results.json]

Each workspace gets a fresh app server (``streamlit run app.py`` with ``EXPLORER_DATA_DIR=DIR``) and a fresh
headless Chromium from Debian (software WebGL: SwiftShader, no GPU). The page opens, the workspace is picked in the
sidebar, and the clock runs from the pick to the first frame of the map (its WebGL canvas drawn, after plotly's
``plotly_afterplot``). Bytes are the websocket frames the browser received in that time. A pan (a mouse drag
across the map) and a zoom (one wheel step) are each timed from the input to plotly's redraw event plus one
animation frame. The server's memory is its resident size (VmRSS) once the map is drawn and its peak (VmHWM).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
DRAWN = """() => {
  const plot = document.querySelector('.js-plotly-plot');
  return !!(plot && plot._fullData && plot._fullData.length && plot.querySelector('canvas') && window.__drawn);
}"""
WATCH = """() => {
  const plot = document.querySelector('.js-plotly-plot');
  if (!plot || plot.__watched) return !!plot;
  plot.__watched = true;
  plot.on('plotly_afterplot', () => requestAnimationFrame(() => { window.__drawn = performance.now(); }));
  plot.on('plotly_relayout', () => requestAnimationFrame(() => { window.__redrawn = performance.now(); }));
  window.__drawn = window.__drawn || (plot._fullData && plot._fullData.length ? performance.now() : undefined);
  return true;
}"""


def _memory_mb(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0]) // 1024
    return fields


def measure(data_dir: Path, workspace: str, port: int, screenshots: Path | None = None) -> dict:
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "EXPLORER_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                               "--server.headless", "true"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    received = [0]
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("websocket", lambda socket: socket.on(
                "framereceived", lambda frame: received.__setitem__(0, received[0] + len(frame))))
            for _ in range(120):
                try:
                    page.goto(f"http://127.0.0.1:{port}/", timeout=60_000)
                    break
                except Exception:  # noqa: BLE001 -- the server is still starting
                    time.sleep(1)
            page.wait_for_selector("text=Map of", timeout=300_000)
            page.get_by_test_id("stSidebar").get_by_role("combobox").first.click()
            received[0] = 0
            started = time.perf_counter()
            page.get_by_role("option", name=workspace).click()
            page.wait_for_selector(f"text=Map of {workspace}", timeout=600_000)
            page.wait_for_function(WATCH, timeout=600_000, polling=50)
            page.wait_for_function(DRAWN, timeout=600_000, polling=50)
            first_frame = time.perf_counter() - started
            sent = received[0]
            memory = _memory_mb(server.pid)
            plot = page.locator(".js-plotly-plot").first
            plot.scroll_into_view_if_needed()
            box = plot.bounding_box()
            centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            pan = _timed(page, lambda: (page.mouse.move(*centre), page.mouse.down(),
                                        page.mouse.move(centre[0] + 120, centre[1] + 60), page.mouse.up()))
            zoom = _timed(page, lambda: (page.mouse.move(*centre), page.mouse.wheel(0, -400)))
            canvas = page.evaluate("document.querySelectorAll('.js-plotly-plot canvas').length")
            if screenshots is not None:
                page.screenshot(path=str(screenshots / f"map-{workspace}.png"))
            drawn_points = page.evaluate("""() => document.querySelector('.js-plotly-plot')._fullData
                .filter(trace => trace.type === 'scattergl')
                .reduce((sum, trace) => sum + Array.from(trace.x).filter(value => value !== null).length, 0)""")
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=60)
    manifest = json.loads((data_dir / "workspaces" / workspace / "workspace.json").read_text())
    points = manifest["n_points"]
    return {"workspace": workspace, "points": points, "drawn_points": drawn_points, "canvases": canvas,
            "first_frame_s": round(first_frame, 1), "bytes_sent": sent,
            "bytes_per_point": round(sent / points, 1), "pan_redraw_s": pan, "zoom_redraw_s": zoom,
            "server_rss_mb": memory.get("VmRSS"), "server_peak_mb": memory.get("VmHWM")}


def _timed(page, gesture) -> float | None:
    """Seconds from an input gesture to plotly's redraw after it (None when no redraw came within 60 s)."""
    page.evaluate("window.__redrawn = undefined; window.__input = performance.now()")
    gesture()
    try:
        page.wait_for_function("window.__redrawn !== undefined", timeout=60_000, polling=20)
    except Exception:  # noqa: BLE001 -- reported as no redraw
        return None
    return round(page.evaluate("(window.__redrawn - window.__input) / 1000"), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True, help="EXPLORER_DATA_DIR holding the workspaces")
    parser.add_argument("--workspaces", nargs="+", required=True)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--port", type=int, default=8631)
    parser.add_argument("--screenshots", type=Path, help="save a screenshot of each map here")
    args = parser.parse_args()
    results = {"renderer": "plotly Scattergl, float32 binary arrays, no per-point hover (explorer.figures)",
               "browser": "Debian Chromium, headless, software WebGL (SwiftShader)", "cores": os.cpu_count(),
               "runs": [measure(args.data_dir, name, args.port, args.screenshots) for name in args.workspaces]}
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
