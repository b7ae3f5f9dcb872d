"""Benchmark: bake and extract OB 3.0 credentials in PNG and SVG badge images, per core.

    .venv/bin/python bench/bake.py [--n 20000] [--warmup 200]

One process, one core. The credential is a realistic signed-size OB 3.0 text (~3 KB, bench/
sign.py's shape); the images are a 400x400 PNG badge (~30 KB, several chunks) and a small
SVG badge. Baking splices one chunk/element into the stored bytes (no re-encode), so the
rate is bounded by copying the image. Prints JSON lines, one per (operation, format), like
bench/sign.py (DESIGN.md §10 target: >= 10,000 bakes per second).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image, ImageDraw  # noqa: E402 - after the path tweak

from bench.sign import NOW, SEED_HEX, build, cpu_model  # noqa: E402
from openbadges import baking, dataintegrity  # noqa: E402
from openbadges.multikey import (  # noqa: E402
    did_key,
    did_key_verification_method,
    private_key_from_bytes,
)

TARGET = 10_000
SVG = b"""<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400" viewBox="0 0 400 400">
  <title>Data Literacy</title>
  <circle cx="200" cy="200" r="196" fill="#0b6e4f"/>
  <circle cx="200" cy="200" r="172" fill="none" stroke="#ffffff" stroke-width="8"/>
  <rect x="110" y="210" width="40" height="80" rx="4" fill="#ffffff"/>
  <rect x="180" y="160" width="40" height="130" rx="4" fill="#ffffff"/>
  <rect x="250" y="110" width="40" height="180" rx="4" fill="#ffffff"/>
</svg>
"""


def badge_png() -> bytes:
    """A 400x400 RGBA badge with real content (so it has a realistic compressed size)."""
    image = Image.new("RGBA", (400, 400), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for ring in range(0, 200, 6):
        draw.ellipse((ring, ring, 399 - ring, 399 - ring), outline=(31, 78 + ring % 120, 121))
    draw.text((150, 190), "Data Literacy", fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def signed_credential_text() -> str:
    key = private_key_from_bytes(bytes.fromhex(SEED_HEX))
    signed = dataintegrity.sign(
        build(did_key(key.public_key()), 1),
        private_key=key,
        verification_method=did_key_verification_method(key.public_key()),
        created=NOW,
    )
    return json.dumps(signed, ensure_ascii=False)


def rate(operation: Callable[[], Any], n: int, warmup: int) -> float:
    for _ in range(warmup):
        operation()
    start = time.perf_counter()
    for _ in range(n):
        operation()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20_000, help="operations per measurement")
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args()

    machine = {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "pillow": version("pillow"),
        "defusedxml": version("defusedxml"),
    }
    text = signed_credential_text()
    images = {"png": badge_png(), "svg": SVG}
    bakers = {"png": baking.bake_png, "svg": baking.bake_svg}
    for fmt, image in images.items():
        baked = bakers[fmt](image, text)
        found = baking.extract(baked)
        assert found is not None and found.payload == text  # correct before fast
        for operation, call in (
            ("bake", lambda fmt=fmt, image=image: bakers[fmt](image, text)),
            ("extract", lambda baked=baked: baking.extract(baked)),
        ):
            seconds = rate(call, args.n, args.warmup)
            per_sec = args.n / seconds
            line = {
                "bench": "bake",
                "operation": operation,
                "format": fmt,
                "n": args.n,
                "seconds": round(seconds, 4),
                "per_sec": round(per_sec, 1),
                "image_bytes": len(image),
                "credential_bytes": len(text.encode()),
                "target": TARGET if operation == "bake" else None,
                "meets_target": per_sec >= TARGET if operation == "bake" else None,
            } | machine
            print(json.dumps(line, ensure_ascii=False))


if __name__ == "__main__":
    main()
