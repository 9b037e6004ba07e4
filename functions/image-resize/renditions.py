"""Image bytes in, encoded web/tablet/mobile renditions out. No I/O.

Decodes once: JPEGs use draft mode (reduced-scale DCT decode) to the smallest scale that still
covers the largest rendition; the largest rendition is resampled from that one decode and the
smaller ones from the largest (bicubic: within 0.1 dB PSNR of Lanczos at about 60% of its cost, see
bench/images_bench.py). Resampling and encoding use every core (Lambda gives 2 vCPUs from 1,769 MB):
the largest rendition is resampled in horizontal bands in parallel, then the smaller renditions are
made and every rendition encoded side by side. Pillow releases the GIL for both.
EXIF orientation is applied, the aspect ratio kept, nothing upscaled, and no EXIF (so no GPS) is
written to the outputs.
"""

import io
import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
# Pillow's process-wide bomb limit gives way to Settings.max_pixels, checked on the header before
# any pixel is decoded (the same check, configurable, with a message naming the dimensions).
Image.MAX_IMAGE_PIXELS = None
RESAMPLE = Image.Resampling.BICUBIC
# Big reductions (non-JPEG sources, which have no draft mode) first shrink by an integer factor
# while staying 3x the target: at 3.0 Pillow documents the result as indistinguishable from a
# full resample.
REDUCING_GAP = 3.0
# One pool per container, reused by warm invocations.
_WORKERS = max(1, min(4, os.cpu_count() or 1))
_POOL = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="resize")
# EXIF orientations that swap width and height.
_TRANSPOSING = {5, 6, 7, 8}


class ImageRejected(Exception):
    """The bytes cannot be turned into renditions; the message says why."""


@dataclass(frozen=True)
class RenditionSpec:
    name: str
    longest_side: int


@dataclass(frozen=True)
class Settings:
    renditions: tuple[RenditionSpec, ...]
    max_pixels: int = 50_000_000
    alpha_format: str = "PNG"  # for images with transparency (and PNG sources): PNG or WEBP
    jpeg_quality: int = 85


@dataclass(frozen=True)
class Rendition:
    name: str
    width: int
    height: int
    format: str
    data: bytes

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


def parse_renditions(spec: str) -> tuple[RenditionSpec, ...]:
    """`web=1280,tablet=1024,mobile=640` -> specs, largest first."""
    specs = []
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, sep, size = item.partition("=")
        if not sep or not name.strip().isidentifier() or not size.strip().isdigit() or int(size) <= 0:
            raise ValueError(f"rendition {item!r} is not name=<positive longest side in pixels>")
        specs.append(RenditionSpec(name.strip(), int(size)))
    if not specs:
        raise ValueError("no renditions configured")
    if len({s.name for s in specs}) != len(specs):
        raise ValueError(f"rendition names repeat in {spec!r}")
    return tuple(sorted(specs, key=lambda s: s.longest_side, reverse=True))


def fit(size: tuple[int, int], longest_side: int) -> tuple[int, int]:
    """Scale `size` so its longest side is at most `longest_side`; never upscale."""
    width, height = size
    scale = min(1.0, longest_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _open(data: bytes, max_pixels: int) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ImageRejected("not an image (no known image format recognised)") from None
    except OSError as exc:
        raise ImageRejected(f"unreadable image header ({exc})") from None
    width, height = image.size
    if width * height > max_pixels:
        raise ImageRejected(
            f"decompression bomb: {width}x{height} = {width * height:,} pixels exceeds the limit of {max_pixels:,}"
        )
    return image


def _upright_size(image: Image.Image) -> tuple[int, int]:
    orientation = image.getexif().get(0x0112, 1)
    return image.size[::-1] if orientation in _TRANSPOSING else image.size


def _normalise_mode(image: Image.Image) -> Image.Image:
    """Modes every encoder here writes: RGB, RGBA or L."""
    if image.mode in ("RGB", "RGBA", "L"):
        return image
    if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit greyscale: scale to 8 bits instead of clipping.
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode in ("P", "PA", "LA", "La", "RGBa") or "transparency" in image.info:
        return image.convert("RGBA")
    return image.convert("RGB")  # CMYK, YCbCr, LAB, 1, F, ...


def _has_alpha(image: Image.Image) -> bool:
    if image.mode != "RGBA":
        return False
    lowest, _ = image.getchannel("A").getextrema()  # one band: (min, max)
    return isinstance(lowest, int | float) and lowest < 255


def make_renditions(data: bytes, settings: Settings) -> list[Rendition]:
    """Every configured rendition of the image in `data`, encoded, largest first."""
    image = _open(data, settings.max_pixels)
    source_format = image.format
    upright = _upright_size(image)
    targets = [(spec, fit(upright, spec.longest_side)) for spec in settings.renditions]
    largest = targets[0][1]
    if source_format in ("JPEG", "MPO"):
        # Largest target in stored orientation (the longest side is the same either way).
        scale = max(largest) / max(image.size)
        image.draft(None, (math.ceil(image.size[0] * scale), math.ceil(image.size[1] * scale)))
    try:
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageRejected(f"corrupt or truncated image data ({exc})") from None
    icc_profile = image.info.get("icc_profile")
    image = _normalise_mode(image)
    alpha = _has_alpha(image)
    if source_format in ("JPEG", "MPO"):
        out_format = "JPEG"
    elif source_format == "PNG" or alpha:
        out_format = settings.alpha_format
    else:
        out_format = "JPEG"
    if out_format == "JPEG" and image.mode == "RGBA":
        image = image.convert("RGB")

    (first_spec, first_size), rest = targets[0], targets[1:]
    largest_image = _resize(image, first_size)

    def rendition(spec: RenditionSpec, size: tuple[int, int]) -> Rendition:
        # Smaller renditions derive from the largest one.
        resized = largest_image if largest_image.size == size else largest_image.resize(size, RESAMPLE)
        return Rendition(spec.name, *size, out_format, _encode(resized, out_format, settings, icc_profile))

    futures = [_POOL.submit(rendition, spec, size) for spec, size in rest]
    renditions = [rendition(first_spec, first_size)]
    return renditions + [future.result() for future in futures]


def _resize(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """`image.resize(size, RESAMPLE, reducing_gap=REDUCING_GAP)`, in horizontal bands on every core.

    A band resized with `box` takes its filter support from beyond the box, with the same scale and
    sample positions as one whole resize, so the bands join seamlessly. They match one whole resize
    to within 2 levels (Pillow may run its two passes in the other order, rounding in between).
    """
    if image.size == size:
        return image
    width, height = size
    bands = min(_WORKERS, height // 64)
    # Small, or a reduction big enough for Pillow to reduce() by an integer factor first: one piece.
    if bands < 2 or max(image.size[0] / width, image.size[1] / height) / REDUCING_GAP >= 2:
        return image.resize(size, RESAMPLE, reducing_gap=REDUCING_GAP)
    step = image.size[1] / height  # source rows per output row
    edges = [height * i // bands for i in range(bands + 1)]

    def band(top: int, bottom: int) -> Image.Image:
        return image.resize((width, bottom - top), RESAMPLE, box=(0, top * step, image.size[0], bottom * step))

    parts = [_POOL.submit(band, top, bottom) for top, bottom in zip(edges, edges[1:], strict=False)]
    joined = Image.new(image.mode, size)
    for top, part in zip(edges, parts, strict=False):
        joined.paste(part.result(), (0, top))
    return joined


def _encode(image: Image.Image, out_format: str, settings: Settings, icc_profile: bytes | None) -> bytes:
    buffer = io.BytesIO()
    options: dict[str, object] = {"icc_profile": icc_profile} if icc_profile else {}
    if out_format == "JPEG":
        options |= {"quality": settings.jpeg_quality}
    elif out_format == "WEBP":
        options |= {"quality": settings.jpeg_quality, "method": 4}
    else:
        options |= {"optimize": False, "compress_level": 6}
    # No `exif=`: Pillow writes no EXIF block, so GPS and camera metadata stay behind.
    image.save(buffer, out_format, **options)
    return buffer.getvalue()
