#!/usr/bin/env python3
"""The HTML report renders in a real browser: headless Chromium (Debian's `chromium`) loads the
page from disk with the network disabled, takes a screenshot and dumps the rendered DOM. The
screenshot must not be blank and must show the chart bars in their colours; the DOM must hold
one chart per metric that has data, with a bar per condition.

    test_html_render.py RDIC_BINARY RESULTS_DIR
"""
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib


def decode_png(path):
    """Width, height and rows of RGB(A) bytes of an 8-bit, non-interlaced PNG (what Chromium
    writes). Only the standard library: the decoder is small enough to write here."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def chromium(*args):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        sys.exit("chromium is not installed (scripts/setup.sh installs Debian's chromium)")
    cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--disable-extensions", "--proxy-server=127.0.0.1:9",
           "--proxy-bypass-list=<-loopback>", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def main():
    rdic, results = sys.argv[1], sys.argv[2]
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        page = os.path.join(tmp, "report.html")
        subprocess.run([rdic, "report", "--results", results, "--format", "html", "--out", page],
                       check=True)
        shot = os.path.join(tmp, "shot.png")
        r = chromium("--window-size=1280,1400", f"--screenshot={shot}", "file://" + page)
        if not os.path.exists(shot):
            sys.exit(f"no screenshot: {r.stderr[-2000:]}")
        w, h, bpp, rows = decode_png(shot)
        pixels = w * h
        non_white = sum(1 for row in rows for i in range(0, w * bpp, bpp)
                        if row[i:i + 3] != b"\xff\xff\xff")
        colours = {row[i:i + 3] for row in rows[::7] for i in range(0, w * bpp, bpp * 7)}
        ref_bar = sum(row.count(b"\x2f\x6f\xd0" + (b"\xff" if bpp == 4 else b"")) for row in rows)
        other_bar = sum(row.count(b"\x8f\xa6\xc8" + (b"\xff" if bpp == 4 else b"")) for row in rows)
        print(f"screenshot {w}x{h}: {100 * non_white / pixels:.1f}% non-white, "
              f"{len(colours)} colours, reference-bar pixels {ref_bar}, other bars {other_bar}")
        if non_white < 0.05 * pixels or len(colours) < 8:
            failures.append("the screenshot is (nearly) blank")
        if ref_bar < 500 or other_bar < 500:
            failures.append("chart bars are not visible in the screenshot")

        dom = chromium("--dump-dom", "file://" + page).stdout
        charts = re.findall(r'<figure class="chart" data-metric="([^"]+)"', dom)
        bars = len(re.findall(r'<rect [^>]*class="bar', dom))
        print(f"DOM: {len(charts)} charts ({', '.join(charts)}), {bars} bars")
        for needed in ("topic.foreign_per_100_words", "topic.leaked_canaries", "topic.chrf",
                       "topic.judge_focus", "example.kv_peak_mib", "example.total_s"):
            if needed not in charts:
                failures.append(f"chart {needed} is missing")
        if bars < 3 * len(charts):
            failures.append(f"{bars} bars for {len(charts)} charts of 3 conditions")
        if "<table>" not in dom:
            failures.append("the tables did not render")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
