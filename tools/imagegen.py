"""Images made on the spot with Pillow for the tests, the demo and the benchmark (nothing fetched)."""

import io
import random
import struct
import zlib
from typing import Any
from urllib.parse import quote_plus

from PIL import Image, ImageDraw, ImageFilter

ORIENTATION = 0x0112
GPS_IFD = 0x8825


def photo(width: int, height: int, seed: int = 1) -> Image.Image:
    """A photo-like RGB picture: smooth gradients, soft shapes, fine noise."""
    rng = random.Random(seed)  # noqa: S311 - reproducible pictures, not security
    base = Image.linear_gradient("L").resize((width, height))
    image = Image.merge(
        "RGB", (base, base.transpose(Image.Transpose.ROTATE_180), Image.radial_gradient("L").resize((width, height)))
    )
    draw = ImageDraw.Draw(image)
    for _ in range(60):
        x, y = rng.randrange(width), rng.randrange(height)
        r = rng.randrange(max(2, width // 40), max(3, width // 6))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    image = image.filter(ImageFilter.GaussianBlur(max(1, width // 800)))
    noise = Image.effect_noise((width, height), 12).convert("RGB")
    return Image.blend(image, noise, 0.08)


def jpeg(image: Image.Image, orientation: int | None = None, gps: bool = False, quality: int = 92) -> bytes:
    exif = Image.Exif()
    if orientation:
        exif[ORIENTATION] = orientation
    if gps:
        exif.get_ifd(GPS_IFD).update({1: "N", 2: (52.0, 22.0, 12.0), 3: "E", 4: (4.0, 53.0, 30.0)})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality, exif=exif.tobytes())
    return buffer.getvalue()


def encode(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_with_alpha(width: int, height: int) -> bytes:
    image = photo(width, height, seed=3).convert("RGBA")
    alpha = Image.radial_gradient("L").resize((width, height))
    image.putalpha(alpha)
    return encode(image, "PNG")


def png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def s3_event(bucket: str, keys: list[str], sizes: dict[str, int] | None = None) -> dict[str, Any]:
    """An S3 ObjectCreated:Put notification, keys URL-encoded the way S3 sends them."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2026-11-22T12:00:00.000Z",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {"key": quote_plus(key, safe="/"), "size": (sizes or {}).get(key, 0)},
                },
            }
            for key in keys
        ]
    }
