#!/usr/bin/env python3
"""Opens a LaueMap HTML report in headless Chromium and checks it as a user would see it.

    check_report.py INDEX.html PATTERNS.csv PEAKS.csv [SCREENSHOT.png]

Starts Debian's chromium (headless, its own throw-away profile), loads the page from disk, clicks the
class-map cell of the pattern of the first run with the most indexed spots (a real mouse click at the
cell's centre through the DevTools protocol), then checks from the DOM that the pattern view names that
pattern's file and class and counts its spots as peaks.csv does (read here with the csv module), that
the frame thumbnail and the spot crops are shown, that no script error occurred and that the page asks
for nothing from the network; a screenshot must have non-blank map and pattern regions.

Prints one JSON line; exits 1 with FAIL: on a failure, 77 with SKIP: when no Chromium is installed.
"""
import base64
import csv
import io
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


class DevTools:
    """A minimal client of the Chrome DevTools protocol over a WebSocket (RFC 6455, text frames)."""

    def __init__(self, url):
        m = re.match(r"ws://([^/:]+):(\d+)(/.*)", url)
        self.sock = socket.create_connection((m.group(1), int(m.group(2))), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {m.group(3)} HTTP/1.1\r\nHost: {m.group(1)}:{m.group(2)}\r\nUpgrade: websocket\r\n"
                           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            fail("DevTools refused the WebSocket: " + head.decode(errors="replace"))
        self.next_id = 0
        self.events = []

    def _recv_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                fail("DevTools closed the connection")
            data += chunk
        return data

    def _recv_message(self):
        message = b""
        while True:
            b0, b1 = self._recv_exact(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack(">H", self._recv_exact(2))[0]
            elif n == 127:
                n = struct.unpack(">Q", self._recv_exact(8))[0]
            payload = self._recv_exact(n)
            if b0 & 0x0F in (0x1, 0x0):
                message += payload
                if b0 & 0x80:
                    return json.loads(message)

    def call(self, method, **params):
        self.next_id += 1
        body = json.dumps({"id": self.next_id, "method": method, "params": params}).encode()
        mask = os.urandom(4)
        n = len(body)
        header = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack(">H", n) if n < 65536
                                  else bytes([0x80 | 127]) + struct.pack(">Q", n))
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(body)))
        while True:
            m = self._recv_message()
            if m.get("id") == self.next_id:
                if "error" in m:
                    fail(f"DevTools {method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)

    def evaluate(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            fail(f"script error evaluating {expression[:80]}: {r['exceptionDetails']}")
        return r["result"].get("value")


def chromium_path():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def expected_pattern(patterns_csv, peaks_csv):
    with open(patterns_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    counts = {}
    with open(peaks_csv, newline="") as f:
        for row in csv.DictReader(f):
            counts[row["pattern_index"]] = counts.get(row["pattern_index"], 0) + 1
    best = max(range(len(rows)), key=lambda k: (counts.get(rows[k]["pattern_index"], 0), -k))
    return best, rows[best], counts.get(rows[best]["pattern_index"], 0)


def non_blank(image, box):
    from PIL import ImageStat
    x, y, w, h = (int(round(v)) for v in (box["x"], box["y"], box["width"], box["height"]))
    region = image.crop((x, y, x + w, y + h)).convert("L")
    return ImageStat.Stat(region).stddev[0], sum(1 for n in region.histogram() if n)


def main():
    if len(sys.argv) < 4:
        fail(__doc__)
    html, patterns_csv, peaks_csv = sys.argv[1:4]
    shot = sys.argv[4] if len(sys.argv) > 4 else None
    browser = chromium_path()
    if browser is None:
        print("SKIP: no Chromium installed (Debian package chromium; tools/install-deps --test installs it)")
        sys.exit(77)
    text = open(html, encoding="utf-8").read()
    external = re.findall(r'(?:src|href)\s*=\s*"(?:https?:)?//[^"]*"', text)
    if external:
        fail(f"the page loads from the network: {external[:3]}")

    k, row, spot_count = expected_pattern(patterns_csv, peaks_csv)
    profile = tempfile.mkdtemp(prefix="lauemap-chromium-")
    process = subprocess.Popen([browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                "--disable-extensions", "--remote-debugging-port=0", f"--user-data-dir={profile}",
                                "--window-size=1400,1800", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.time() + 60
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if time.time() > deadline or process.poll() is not None:
                fail("Chromium did not start (no DevToolsActivePort)")
            time.sleep(0.1)
        port = int(open(port_file).read().split()[0])
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=30))
        page = next(t for t in targets if t.get("type") == "page")
        dt = DevTools(page["webSocketDebuggerUrl"])
        dt.call("Runtime.enable")
        dt.call("Page.enable")
        dt.call("Page.navigate", url="file://" + os.path.abspath(html))
        deadline = time.time() + 60
        while dt.evaluate("document.readyState") != "complete":
            if time.time() > deadline:
                fail("the page did not finish loading in 60 s")
            time.sleep(0.1)
        box = dt.evaluate(f"""(() => {{ const r = document.querySelector('#run-0 rect.cell[data-p="{k}"]');
            if (!r) return null; r.scrollIntoView({{block: "center"}}); const b = r.getBoundingClientRect();
            return {{x: b.x, y: b.y, width: b.width, height: b.height}}; }})()""")
        if box is None:
            fail(f"no class-map cell for pattern {k} ({row['file']}) in run 0")
        x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            dt.call("Input.dispatchMouseEvent", type=kind, x=x, y=y, button="left", clickCount=1)
        view = dt.evaluate("""(() => { const v = document.querySelector('#run-0 .pattern-view');
            const t = c => v.querySelector(c).textContent;
            return {file: t('.pv-file'), cls: t('.pv-class'), spots: t('.pv-spots'),
                    circles: v.querySelectorAll('.frame circle.spot').length, thumbnail: v.querySelectorAll('.frame image').length,
                    crops: v.querySelectorAll('.crops figure').length,
                    selected: document.querySelectorAll('#run-0 rect.selected').length}; })()""")
        checks = {"file": (view["file"], row["file"]), "class": (view["cls"], row["class"]),
                  "spot count": (view["spots"], str(spot_count)), "spots drawn": (view["circles"], spot_count),
                  "selected cells": (view["selected"], 1)}
        for name, (seen, expected) in checks.items():
            if seen != expected:
                fail(f"pattern view after clicking {row['file']}: {name} {seen!r}, expected {expected!r}")
        if view["thumbnail"] != 1 or (spot_count > 0 and view["crops"] < 1):
            fail(f"pattern view shows {view['thumbnail']} frame thumbnails and {view['crops']} spot crops")
        smoothed = dt.evaluate("""Array.from(document.querySelectorAll('.figure svg image'))
            .filter(i => !['pixelated', 'crisp-edges'].includes(getComputedStyle(i).imageRendering)).length""")
        if smoothed:
            fail(f"{smoothed} map rasters in the figures would be smoothed by the browser (image-rendering)")
        errors = [e for e in dt.events if e.get("method") == "Runtime.exceptionThrown"]
        if errors:
            fail(f"script errors: {errors[:2]}")

        regions = dt.evaluate("""(() => { const b = e => { const r = e.getBoundingClientRect(); return {x: r.x, y: r.y, width: r.width, height: r.height}; };
            return {map: b(document.querySelector('#run-0 .cellmap')), frame: b(document.querySelector('#run-0 .frame svg'))}; })()""")
        png = base64.b64decode(dt.call("Page.captureScreenshot", format="png")["data"])
        if shot:
            open(shot, "wb").write(png)
        from PIL import Image
        image = Image.open(io.BytesIO(png)).convert("RGB")
        for name, box in regions.items():
            spread, colours = non_blank(image, box)
            if spread < 5 or colours < 3:
                fail(f"screenshot: the {name} region is blank (grey-level sd {spread:.1f}, {colours} levels)")
        print(json.dumps({"file": row["file"], "class": row["class"], "spots": spot_count, "crops": view["crops"],
                          "regions": list(regions)}))
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main()
