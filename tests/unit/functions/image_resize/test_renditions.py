import io

import pytest
from PIL import Image, ImageChops, ImageStat

from renditions import ImageRejected, Settings, fit, make_renditions, parse_renditions
from tools.imagegen import GPS_IFD, encode, jpeg, photo, png_bomb, png_with_alpha

SETTINGS = Settings(parse_renditions("web=1280,tablet=1024,mobile=640"))


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_parse_renditions_sorts_largest_first_and_rejects_bad_specs():
    assert [(s.name, s.longest_side) for s in parse_renditions("mobile=640, web=1280,tablet=1024")] == [
        ("web", 1280),
        ("tablet", 1024),
        ("mobile", 640),
    ]
    for bad in ("web", "web=0", "web=big", "", "a=1,a=2", "we b=10"):
        with pytest.raises(ValueError):
            parse_renditions(bad)


def test_fit_keeps_aspect_and_never_upscales():
    assert fit((4000, 3000), 1280) == (1280, 960)
    assert fit((3000, 4000), 640) == (480, 640)
    assert fit((300, 200), 1280) == (300, 200)
    assert fit((10000, 1), 640) == (640, 1)


def test_jpeg_renditions_sizes_format_and_no_exif():
    out = make_renditions(jpeg(photo(2400, 1600), gps=True), SETTINGS)
    assert [(r.name, r.width, r.height, r.format) for r in out] == [
        ("web", 1280, 853, "JPEG"),
        ("tablet", 1024, 683, "JPEG"),
        ("mobile", 640, 427, "JPEG"),
    ]
    for r in out:
        image = decode(r.data)
        assert (image.format, image.size) == ("JPEG", (r.width, r.height))
        assert not image.getexif().get_ifd(GPS_IFD)
        assert "exif" not in image.info


def test_exif_orientation_is_applied():
    picture = Image.new("RGB", (1600, 800), "white")
    picture.paste((255, 0, 0), (0, 0, 200, 800))  # a red band on the left edge of the stored image
    out = make_renditions(jpeg(picture, orientation=6), SETTINGS)  # 6: display rotated 90° clockwise
    web = decode(out[0].data)
    assert web.size == (640, 1280)
    top = web.getpixel((320, 20))
    bottom = web.getpixel((320, 1260))
    assert top[0] > 200 and top[1] < 80  # the left band is now on top
    assert bottom[1] > 200


def test_small_image_is_reencoded_at_its_own_size():
    out = make_renditions(jpeg(photo(300, 200)), SETTINGS)
    assert {(r.width, r.height) for r in out} == {(300, 200)}


def test_png_with_alpha_stays_png_with_alpha_or_webp_when_configured():
    data = png_with_alpha(1500, 1000)
    out = make_renditions(data, SETTINGS)
    assert {r.format for r in out} == {"PNG"}
    assert decode(out[0].data).mode == "RGBA"
    webp = make_renditions(data, Settings(SETTINGS.renditions, alpha_format="WEBP"))
    assert {r.content_type for r in webp} == {"image/webp"}
    assert decode(webp[-1].data).mode == "RGBA"


@pytest.mark.parametrize(
    ("data", "mode"),
    [
        (encode(photo(1400, 900).convert("CMYK"), "JPEG"), "RGB"),
        (encode(photo(1400, 900).convert("P", palette=Image.Palette.ADAPTIVE), "PNG", transparency=0), "RGBA"),
        (encode(Image.linear_gradient("L").resize((1400, 900)).convert("I;16"), "PNG"), "L"),
        (encode(photo(1400, 900), "TIFF"), "RGB"),
    ],
    ids=["cmyk-jpeg", "palette-png-transparency", "16-bit-png", "tiff"],
)
def test_unusual_modes_are_converted(data, mode):
    out = make_renditions(data, SETTINGS)
    image = decode(out[0].data)
    assert image.mode == mode
    assert image.size == (1280, 823)


def test_16_bit_is_scaled_not_clipped():
    gradient = Image.linear_gradient("L").resize((1400, 900)).convert("I").point(lambda v: v * 257)
    out = make_renditions(encode(gradient.convert("I;16"), "PNG"), SETTINGS)
    low, high = decode(out[0].data).getextrema()
    assert low < 10 and high > 240


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"hello, not an image", "not an image"),
        (jpeg(photo(1200, 800))[:4000], "corrupt or truncated image data"),
        (png_bomb(), "decompression bomb: 20000x20000 = 400,000,000 pixels exceeds the limit of 50,000,000"),
    ],
    ids=["text", "truncated", "bomb"],
)
def test_bad_inputs_are_rejected_with_a_reason(data, reason):
    with pytest.raises(ImageRejected, match=reason):
        make_renditions(data, SETTINGS)


def test_pixel_limit_is_configurable():
    with pytest.raises(ImageRejected, match="exceeds the limit of 1,000,000"):
        make_renditions(jpeg(photo(1200, 900)), Settings(SETTINGS.renditions, max_pixels=1_000_000))


@pytest.mark.parametrize(
    ("source", "size"),
    [((2000, 1500), (1280, 960)), ((1500, 2000), (960, 1280)), ((2001, 1333), (1280, 853)), ((700, 6000), (107, 917))],
)
def test_the_banded_parallel_resize_joins_into_the_image_one_resize_gives(source, size):
    from renditions import REDUCING_GAP, RESAMPLE, _resize

    image = photo(*source, seed=3)
    whole = image.resize(size, RESAMPLE, reducing_gap=REDUCING_GAP)
    banded = _resize(image, size)
    assert banded.size == whole.size and banded.mode == whole.mode
    # Same sample positions and filter support; Pillow may run the two passes of a whole resize in the
    # other order, rounding to 8 bits in between: a level or two here and there, no seam.
    difference = ImageChops.difference(banded, whole)
    assert max(high for _, high in difference.getextrema()) <= 2
    assert max(ImageStat.Stat(difference).mean) < 0.3
