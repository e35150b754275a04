"""Stand-ins for pictures in DOCX and PPTX: pandoc lays each out exactly as it would the
picture itself, and the package ends up holding the picture's own bytes."""
from __future__ import annotations

import base64
import io
import re
import subprocess
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from build_tools.export import tools
from build_tools.export.standins import Pictures, stand_in

from conftest import require_module

Image = require_module("PIL.Image", "pillow")

EXTENT = re.compile(r'<(?:wp:extent|a:ext) cx="\d+" cy="\d+"')


def picture(kind: str, size: tuple[int, int], mode: str, dpi: int | None) -> bytes:
    """A picture with noise in it (so it does not compress to nothing)."""
    image = Image.effect_noise(size, 64).convert(mode)
    out = io.BytesIO()
    extra = {"dpi": (dpi, dpi)} if dpi else {}
    if kind == "JPEG" and dpi and dpi % 2:  # odd resolutions in Exif, even ones in JFIF
        exif = Image.Exif()
        exif[282], exif[283], exif[296] = dpi, dpi, 2  # X/Y resolution, in inches
        extra = {"exif": exif.tobytes()}
    image.save(out, kind, **extra)
    return out.getvalue()


KINDS = st.sampled_from([("PNG", "1"), ("PNG", "L"), ("PNG", "P"), ("PNG", "RGB"),
                         ("PNG", "RGBA"), ("JPEG", "L"), ("JPEG", "RGB"), ("GIF", "P")])
SIZES = st.tuples(st.integers(1, 1500), st.integers(1, 1500))
DPIS = st.one_of(st.none(), st.integers(50, 600))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(KINDS, SIZES, DPIS)
def test_a_stand_in_is_a_whole_blank_picture_of_the_same_size_and_resolution(kind, size, dpi):
    real = picture(kind[0], size, kind[1], dpi)
    standing = stand_in(real, b"marker-1")
    assert standing is not None
    original, blank = Image.open(io.BytesIO(real)), Image.open(io.BytesIO(standing))
    blank.load()  # decodes every pixel: a well-formed file, not a header alone
    assert (blank.format, blank.size) == (original.format, original.size)
    if kind[0] != "GIF":  # GIF has no resolution
        assert _dpi(blank) == _dpi(original)
    assert b"marker-1" in standing and standing != stand_in(real, b"marker-2")
    if size[0] * size[1] > 10_000:
        assert len(standing) < len(real)


def _dpi(image) -> tuple[int, int] | None:
    dpi = image.info.get("dpi")
    if dpi is None and image.format == "JPEG":
        exif = image.getexif()
        dpi = (exif.get(282), exif.get(283)) if 282 in exif else None
    return tuple(round(float(x)) for x in dpi) if dpi else None


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b""]), st.binary(max_size=200))
def test_a_damaged_header_gives_no_stand_in_and_no_exception(signature, rest):
    result = stand_in(signature + rest, b"m")
    assert result is None or isinstance(result, bytes)


def test_a_header_claiming_too_many_pixels_is_not_believed():
    real = picture("PNG", (10, 10), "L", None)
    huge = real[:16] + (100_000).to_bytes(4, "big") + (100_000).to_bytes(4, "big") + real[24:]
    assert stand_in(huge, b"m") is None


@pytest.fixture(scope="module")
def pandoc():
    return tools.pandoc()


def sample_pictures() -> dict[str, bytes]:
    return {"photo.jpg": picture("JPEG", (1200, 800), "RGB", 150),
            "exif.jpg": picture("JPEG", (640, 960), "RGB", 301),
            "plot.png": picture("PNG", (900, 300), "RGBA", 200),
            "palette.png": picture("PNG", (530, 390), "P", None),
            "anim.gif": picture("GIF", (321, 123), "P", None)}


def write(pandoc: str, fmt: str, pictures: dict[str, str], out: Path) -> str:
    """The package pandoc writes for one picture per paragraph; its layout's extents."""
    text = "".join(f"![]({url})\n\n" for url in pictures.values())
    subprocess.run([pandoc, "--sandbox", "-f", "markdown", "-t", fmt, "-o", str(out)],
                   input=text.encode(), check=True, capture_output=True)
    with zipfile.ZipFile(out) as package:
        parts = [n for n in package.namelist() if n == "word/document.xml"
                 or n.startswith("ppt/slides/slide")]
        return "".join(EXTENT.findall("".join(package.read(n).decode() for n in sorted(parts))))


@pytest.mark.parametrize("fmt", ["docx", "pptx"])
def test_pandoc_lays_out_stand_ins_as_the_pictures_and_the_package_holds_the_pictures(
        pandoc, tmp_path, fmt):
    samples = sample_pictures()
    real_urls = {name: f"data:image/x;base64,{base64.b64encode(data).decode()}"
                 for name, data in samples.items()}
    real_urls = {name: url.replace("image/x", _kind(name)) for name, url in real_urls.items()}
    pictures = Pictures()
    stand_in_urls = {name: pictures.data_url(data, name) for name, data in samples.items()}
    assert all(len(stand_in_urls[n]) < len(real_urls[n]) / 5 for n in samples)

    expected = write(pandoc, fmt, real_urls, tmp_path / f"real.{fmt}")
    laid_out = write(pandoc, fmt, stand_in_urls, tmp_path / f"stand-in.{fmt}")
    assert laid_out == expected and laid_out.count("cx=") >= len(samples)

    pictures.put_in(tmp_path / f"stand-in.{fmt}")
    with zipfile.ZipFile(tmp_path / f"stand-in.{fmt}") as package:
        media = [package.read(n) for n in package.namelist() if "/media/" in n]
        xml = "".join(package.read(n).decode() for n in package.namelist() if n.endswith(".xml"))
    assert sorted(media) == sorted(samples.values())
    assert 'descr="data:' not in xml
    for name in samples:  # a picture with no words is described by its name
        assert f'descr="{name}"' in xml


def _kind(name: str) -> str:
    return {"jpg": "image/jpeg", "png": "image/png", "gif": "image/gif"}[name.rsplit(".", 1)[1]]


def test_a_picture_with_no_stand_in_goes_in_as_it_is():
    pictures = Pictures()
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'
    url = pictures.data_url(svg, "figure.svg", "A figure")
    assert base64.b64decode(url.split(",", 1)[1]) == svg and not pictures.real
    assert pictures.described[url] == "A figure"
