"""`make bench-images`: image-resize's rendition code against the naive approach of the public S3
thumbnail tutorial (open the full image and `thumbnail()` once per size), and against libvips
(pyvips, bench-only: bench/requirements.txt) per size and chained (shrink-on-load to the largest
rendition, the smaller ones from it), on the same 12 MP JPEG to 1280/1024/640 JPEG q85.

Wall time: median of BENCH_RUNS (default 11) alternating runs in this process. Peak memory: the
growth of peak RSS in a fresh process per approach, from after the JPEG bytes are in memory to after
the renditions are encoded (Pillow allocates pixels outside Python's allocator, so tracemalloc
would miss them). Quality: PSNR of every rendition, decoded, against a full-quality reference
(full decode, EXIF orientation, one Lanczos resize to the exact size).
"""

import io
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image, ImageChops, ImageOps, ImageStat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "functions" / "image-resize"))

from renditions import Settings, make_renditions, parse_renditions  # noqa: E402
from tools.imagegen import jpeg, photo  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", "11"))
SETTINGS = Settings(parse_renditions("web=1280,tablet=1024,mobile=640"))
SIZES = [(spec.name, spec.longest_side) for spec in SETTINGS.renditions]
SAMPLE = ROOT / ".cache" / "bench-12mp.jpg"


def sample() -> bytes:
    """A 4000x3000 photo-like JPEG (12 MP), made once and cached."""
    if not SAMPLE.exists():
        SAMPLE.parent.mkdir(parents=True, exist_ok=True)
        SAMPLE.write_bytes(jpeg(photo(4000, 3000, seed=12), quality=92))
    return SAMPLE.read_bytes()


def ours(data: bytes) -> dict[str, bytes]:
    return {r.name: r.data for r in make_renditions(data, SETTINGS)}


def naive(data: bytes) -> dict[str, bytes]:
    """The tutorial's way, once per size: open the original, thumbnail(), save."""
    out = {}
    for name, side in SIZES:
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((side, side))
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=SETTINGS.jpeg_quality)
            out[name] = buffer.getvalue()
    return out


def vips_per_size(data: bytes) -> dict[str, bytes]:
    """libvips' thumbnail once per size: shrink-on-load, EXIF orientation, Lanczos 3."""
    import pyvips

    return {
        name: pyvips.Image.thumbnail_buffer(data, side, size="down").jpegsave_buffer(Q=SETTINGS.jpeg_quality, keep=0)
        for name, side in SIZES
    }


def vips_chained(data: bytes) -> dict[str, bytes]:
    """The largest rendition by thumbnail (shrink-on-load), held in memory; the smaller ones from it."""
    import pyvips

    (first, side), rest = SIZES[0], SIZES[1:]
    largest = pyvips.Image.thumbnail_buffer(data, side, size="down").copy_memory()
    out = {first: largest.jpegsave_buffer(Q=SETTINGS.jpeg_quality, keep=0)}
    for name, smaller in rest:
        resized = largest.resize(smaller / max(largest.width, largest.height), kernel="lanczos3")
        out[name] = resized.jpegsave_buffer(Q=SETTINGS.jpeg_quality, keep=0)
    return out


APPROACHES = {"ours": ours, "naive": naive, "vips-per-size": vips_per_size, "vips-chained": vips_chained}


def peak_rss_growth(approach: str) -> float:
    """MiB of peak RSS growth for one run, in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-m", "bench.images_bench", "--memory-worker", approach],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(result.stdout.strip())


def peak_rss_kib() -> int:
    """This process's peak RSS (VmHWM): unlike ru_maxrss it does not carry the parent's peak across fork/exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # not Linux: the closest measure there


def memory_worker(approach: str) -> None:
    data = sample()
    before = peak_rss_kib()
    APPROACHES[approach](data)
    print((peak_rss_kib() - before) / 1024)


def psnr(a: Image.Image, b: Image.Image) -> float:
    rms = ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).rms
    mse = sum(v * v for v in rms) / len(rms)
    return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)


def reference(data: bytes) -> dict[str, Image.Image]:
    full = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    full.load()
    refs = {}
    for name, side in SIZES:
        scale = min(1.0, side / max(full.size))
        refs[name] = full.resize((round(full.width * scale), round(full.height * scale)), Image.Resampling.LANCZOS)
    return refs


def main() -> None:
    data = sample()
    print(f"==> sample: 4000x3000 JPEG, {len(data):,} bytes; {RUNS} runs per approach", flush=True)
    times: dict[str, list[float]] = {name: [] for name in APPROACHES}
    outputs = {}
    for _ in range(RUNS):
        for name, fn in APPROACHES.items():
            started = time.perf_counter()
            outputs[name] = fn(data)
            times[name].append(time.perf_counter() - started)
    memory = {name: peak_rss_growth(name) for name in APPROACHES}
    refs = reference(data)

    header = f"{'approach':<14} {'median ms':>10} {'min ms':>8} {'peak RSS +MiB':>14}"
    print(f"\n{header}   PSNR dB vs reference (web / tablet / mobile)")
    for name in APPROACHES:
        quality = []
        for rendition, _ in SIZES:
            decoded = Image.open(io.BytesIO(outputs[name][rendition]))
            ref = refs[rendition]
            if decoded.size != ref.size:
                decoded = decoded.resize(ref.size, Image.Resampling.LANCZOS)
            quality.append(f"{psnr(decoded, ref):.1f}")
        print(
            f"{name:<14} {statistics.median(times[name]) * 1000:>10.1f} {min(times[name]) * 1000:>8.1f} "
            f"{memory[name]:>14.1f}   {' / '.join(quality)}"
        )
    sizes = {name: [Image.open(io.BytesIO(outputs[name][r])).size for r, _ in SIZES] for name in APPROACHES}
    print("\nrendition sizes: " + ", ".join(f"{name} {sizes[name]}" for name in APPROACHES))
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"resize time ratio vs naive: {median['ours'] / median['naive']:.3f}")
    print(f"resize peak memory ratio vs naive: {memory['ours'] / memory['naive']:.3f}")
    fastest_vips = min(median["vips-per-size"], median["vips-chained"])
    print(f"resize time ratio vs pyvips: {median['ours'] / fastest_vips:.3f} (ours / the faster pyvips figure)")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--memory-worker":
        memory_worker(sys.argv[2])
    else:
        main()
