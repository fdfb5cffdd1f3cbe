#!/usr/bin/python3
"""Structure of a report page without a browser.

Checks: a Content-Security-Policy meta tag forbidding remote loads; no <script>; no URL of any
scheme other than data: anywhere (attributes, styles, text); every data-URI image is a PNG that
decodes to the width and height its tag states; one per-class row per class; the charts and
pictures named exist next to the page, and each .svg there parses as XML.
Usage: report_structure.py REPORT.html CLASSES [GALLERY_IMAGES]
"""
import base64
import io
import os
import re
import sys
import xml.dom.minidom


def main():
    page, classes = sys.argv[1], int(sys.argv[2])
    gallery = int(sys.argv[3]) if len(sys.argv) > 3 else None
    html = open(page, encoding="utf-8").read()
    failures = []
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"', html)
    if not csp or "default-src 'none'" not in csp.group(1):
        failures.append("no Content-Security-Policy with default-src 'none'")
    if re.search(r"<script", html, re.I):
        failures.append("the page has a <script>")
    without_data = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", html)
    remote = re.findall(r"(?:[a-z][a-z0-9+.-]*:)?//[^\s\"'<>)]+|\b(?:https?|ftp|ws|wss|file):[^\s\"'<>]*|url\(",
                        without_data, re.I)
    if remote:
        failures.append("URLs in the page: %s" % remote[:5])
    from PIL import Image
    images = re.findall(r'<img class="([^"]*)" src="data:image/png;base64,([^"]+)" width="(\d+)" height="(\d+)"', html)
    if len(images) != html.count("<img "):
        failures.append("%d <img> tags, %d of them PNG data URIs with width and height" % (html.count("<img "), len(images)))
    for cls, data, w, h in images:
        img = Image.open(io.BytesIO(base64.b64decode(data)))
        img.load()
        if img.format != "PNG" or img.size != (int(w), int(h)):
            failures.append("image %s: %s %s, the tag says %sx%s" % (cls, img.format, img.size, w, h))
    rows = html.count('<tr class="class-row">')
    if rows != classes:
        failures.append("%d per-class rows, expected %d" % (rows, classes))
    if gallery is not None:
        shown = html.count('<figure class="sample">')
        if shown != gallery:
            failures.append("%d gallery images, expected %d" % (shown, gallery))
    d = os.path.dirname(os.path.abspath(page))
    for name in ["loss_epoch.svg", "accuracy_epoch.svg", "lr_epoch.svg", "confusion_counts.svg",
                 "confusion_normalized.svg", "filters.png", "feature_maps.png", "top_losses.png"]:
        path = os.path.join(d, name)
        if not os.path.exists(path):
            failures.append("%s is missing" % name)
        elif name.endswith(".svg"):
            try:
                xml.dom.minidom.parse(path)
            except Exception as e:
                failures.append("%s does not parse: %s" % (name, e))
    for f in failures:
        print("FAIL: " + f)
    if not failures:
        print("ok: CSP, no script, no URL, %d PNG data URIs of their stated size, %d class rows, files present"
              % (len(images), rows))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
