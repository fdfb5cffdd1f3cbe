#!/usr/bin/python3
"""Loads a report page in headless Chromium and checks what a reader would see.

Talks the DevTools protocol over --remote-debugging-pipe (JSON messages ended by NUL on file
descriptors 3 and 4), so it needs nothing beyond Chromium and Python's standard library (and PIL
for the screenshots). Checks:
  - no network request other than the page's file:// URL and data: URIs;
  - no console error, no exception, no log entry of level error (CSP violations land there);
  - every chart (svg.chart) is laid out with a non-zero size, and its screenshot is not blank
    (more than one colour, some non-white pixels);
  - the chart points the page shows (data-x / data-y) are the values of metrics.jsonl.
Usage: report_browser.py CHROMIUM REPORT.html METRICS.jsonl SCREENSHOT.png
Prints "ok: ..." lines; exits 1 with "FAIL: ..." lines on failure.
"""
import base64
import io
import json
import os
import select
import subprocess
import sys
import time

TIMEOUT = 60


class Browser:
    def __init__(self, chromium):
        cmd_r, self.cmd_w = os.pipe()
        self.res_r, res_w = os.pipe()

        def child_fds():  # the pipes as fds 3 and 4, inheritable (copies first: they may be 3 or 4 already)
            r, w = os.dup(cmd_r), os.dup(res_w)
            os.dup2(r, 3)
            os.dup2(w, 4)

        self.proc = subprocess.Popen(
            [chromium, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--disable-extensions", "--hide-scrollbars", "about:blank"],
            close_fds=False, preexec_fn=child_fds, stdout=subprocess.DEVNULL, stderr=open(os.environ.get("CHROMIUM_LOG", os.devnull), "w"))
        os.close(cmd_r)
        os.close(res_w)
        self.buf = b""
        self.next_id = 0
        self.events = []

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.time()
            if left <= 0 or not select.select([self.res_r], [], [], left)[0]:
                raise TimeoutError("no answer from chromium")
            chunk = os.read(self.res_r, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.cmd_w, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + TIMEOUT
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise RuntimeError("%s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def wait_event(self, name):
        deadline = time.time() + TIMEOUT
        while not any(e.get("method") == name for e in self.events):
            self.events.append(self._read_message(deadline))

    def close(self):
        try:
            self.call("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def expected_points(metrics_path):
    """(chart id, series name) -> list of (x, y) as the report draws them from metrics.jsonl."""
    epochs, steps = [], []
    for line in open(metrics_path):
        if line.strip():
            j = json.loads(line)
            (steps if j.get("type") == "step" else epochs).append(j)
    want = {}
    for chart, series, key in [("loss_epoch", "train loss", "train_loss"), ("loss_epoch", "test loss", "test_loss"),
                               ("accuracy_epoch", "train top-1", "train_acc"), ("accuracy_epoch", "test top-1", "test_acc"),
                               ("accuracy_epoch", "test top-5", "test_top5"), ("lr_epoch", "lr", "lr")]:
        want[(chart, series)] = [(float(e["epoch"]), float(e[key])) for e in epochs if key in e]
    if len(steps) <= 200:
        for chart, series, key in [("loss_step", "train loss", "train_loss"), ("accuracy_step", "train top-1", "train_acc"),
                                   ("lr_step", "lr", "lr")]:
            if steps:
                want[(chart, series)] = [(float(s["step"]), float(s[key])) for s in steps]
    # Each step's own loss ("losses" of the step records, the last one at "step").
    each = [(float(s["step"] - (len(s["losses"]) - 1 - i)), float(v)) for s in steps for i, v in enumerate(s.get("losses", []))]
    if each and len(each) <= 200:
        want[("loss_step", "train loss (each step)")] = each
    return want


JS_LAYOUT = """JSON.stringify({
  charts: [...document.querySelectorAll('svg.chart')].map(s => {
    const r = s.getBoundingClientRect();
    return {id: s.id, x: r.x + scrollX, y: r.y + scrollY, w: r.width, h: r.height};
  }),
  points: [...document.querySelectorAll('svg.chart circle.pt')].map(c => [
    c.closest('svg').id, c.dataset.series, Number(c.dataset.x), Number(c.dataset.y)]),
  width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight})"""


def main():
    chromium, page, metrics, shot = sys.argv[1:5]
    from PIL import Image
    failures = []
    b = Browser(chromium)
    try:
        target = b.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        s = b.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Network", "Runtime", "Log", "Page"):
            b.call(domain + ".enable", session=s)
        b.call("Emulation.setDeviceMetricsOverride",
               {"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": False}, session=s)
        b.call("Page.navigate", {"url": "file://" + os.path.abspath(page)}, session=s)
        b.wait_event("Page.loadEventFired")
        layout = json.loads(b.call("Runtime.evaluate", {"expression": JS_LAYOUT, "returnByValue": True},
                                   session=s)["result"]["value"])
        png = base64.b64decode(b.call("Page.captureScreenshot",
                                      {"format": "png", "captureBeyondViewport": True,
                                       "clip": {"x": 0, "y": 0, "width": layout["width"], "height": layout["height"],
                                                "scale": 1}}, session=s)["data"])
    finally:
        b.close()
    open(shot, "wb").write(png)

    urls = [e["params"]["request"]["url"] for e in b.events if e.get("method") == "Network.requestWillBeSent"]
    remote = [u for u in urls if not (u.startswith("file://") or u.startswith("data:"))]
    if remote:
        failures.append("network requests: %s" % remote)
    else:
        print("ok: %d requests, all file:// or data: (no network)" % len(urls))
    errors = []
    for e in b.events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append(str(p.get("args")))
        elif m == "Runtime.exceptionThrown":
            errors.append(str(p.get("exceptionDetails")))
        elif m == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            errors.append(p["entry"].get("text", ""))
    if errors:
        failures.append("console errors: %s" % errors)
    else:
        print("ok: no console errors")

    img = Image.open(io.BytesIO(png)).convert("RGB")
    charts = layout["charts"]
    if len(charts) < 5:
        failures.append("expected at least 5 charts, the page lays out %d" % len(charts))
    for c in charts:
        if c["w"] < 50 or c["h"] < 50:
            failures.append("chart %s is %gx%g px" % (c["id"], c["w"], c["h"]))
            continue
        region = img.crop((int(c["x"]), int(c["y"]), int(c["x"] + c["w"]), int(c["y"] + c["h"])))
        colors = region.getcolors(1 << 20) or []
        non_white = sum(n for n, rgb in colors if rgb != (255, 255, 255))
        if len(colors) < 3 or non_white < 0.01 * c["w"] * c["h"]:
            failures.append("chart %s looks blank (%d colours, %d non-white pixels)" % (c["id"], len(colors), non_white))
    if not any(f.startswith("chart") for f in failures):
        print("ok: %d charts drawn, none blank (%s)" % (len(charts), ", ".join(c["id"] for c in charts)))

    shown = {}
    for chart, series, x, y in layout["points"]:
        shown.setdefault((chart, series), []).append((x, y))
    want = expected_points(metrics)
    for key, points in want.items():
        if shown.get(key) != points:
            failures.append("chart %s series %s shows %s, metrics.jsonl has %s" % (key[0], key[1], shown.get(key), points))
    extra = set(shown) - set(want)
    if extra:
        failures.append("points of series not in metrics.jsonl: %s" % sorted(extra))
    if not any(f.startswith("chart ") and "shows" in f for f in failures) and not extra:
        print("ok: the %d points shown equal metrics.jsonl's values" % sum(len(p) for p in want.values()))
    for f in failures:
        print("FAIL: " + f)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
