"""Pictures in DOCX and PPTX packages: pandoc lays the document out around stand-ins, and
the pictures' own bytes are put in the package afterwards.

pandoc's DOCX and PPTX writers spend most of their time on the pictures, which they
decode, though all they need of a picture is its size and resolution (a lecture's
photographs cost seconds).  So pandoc is handed, for each PNG, JPEG or GIF, a
stand-in: a valid picture of the same kind, size and resolution, blank (one bit per
PNG pixel, two bits per JPEG block: a few hundred bytes), with a marker that makes it
unique.  Because pandoc decodes it, a stand-in is a whole, well-formed file, never a
truncated one.  Once pandoc has written the package, each stand-in is replaced by the
picture.  Other pictures (SVG, which is small) go in as they are.

pandoc describes a picture that has no alternative text by its source, here a
``data:`` URL: each such description is replaced by the picture's caption or name.
"""
from __future__ import annotations

import base64
import mimetypes
import secrets
import struct
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Callable
from xml.sax.saxutils import quoteattr

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_FRAMES = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
"""Start-of-frame markers (the others in that range are tables)."""
JPEG_START_OF_SCAN = 0xDA
JPEG_STANDALONE = set(range(0xD0, 0xD8)) | {0x01}
"""Markers without a length (restart markers, TEM)."""
JPEG_RESOLUTION = (0xE0, 0xE1)
"""JFIF and Exif, where a JPEG's resolution is written."""
MAX_PIXELS = 100_000_000
"""The most pixels a picture handed to an export's tools may claim: decoding one costs
memory in proportion (Typst aborts on a 40000x40000 PNG of 4.6 MB), and a photograph
from a 50-megapixel camera has half as many."""
MEDIA_FOLDERS = ("word/media/", "ppt/media/")
DESCRIBED_PARTS = ("word/document.xml", "ppt/slides/slide")


@dataclass
class Pictures:
    """The pictures of one document: what pandoc is handed for each, and what replaces it."""

    marker: str = field(default_factory=lambda: secrets.token_hex(8))
    """Makes this document's stand-ins unlike any real picture."""
    real: dict[bytes, bytes] = field(default_factory=dict)
    """Stand-in -> the picture it stands for."""
    described: dict[str, str] = field(default_factory=dict)
    """``data:`` URL handed to pandoc -> the words describing the picture."""
    _urls: dict[tuple[str, bytes], str] = field(default_factory=dict)

    def data_url(self, content: bytes, name: str, description: str = "") -> str:
        """The ``data:`` URL to hand pandoc for a picture (a stand-in where it can be)."""
        key = (name, content)
        if key not in self._urls:
            kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
            standing = stand_in(content, f"{self.marker}-{len(self._urls)}".encode("ascii"))
            if standing is not None:
                self.real[standing] = content
            given = standing if standing is not None else content
            self._urls[key] = f"data:{kind};base64,{base64.b64encode(given).decode('ascii')}"
        url = self._urls[key]
        self.described.setdefault(url, " ".join(description.split()) or Path(name).name)
        return url

    def put_in(self, package: Path, rewrite: Callable[[str, bytes], bytes] | None = None) -> None:
        """Replace every stand-in in the package pandoc wrote with its picture, and every
        description that is a ``data:`` URL with the picture's words, in place; ``rewrite``
        (part name, content) -> content is given every other part of ``DESCRIBED_PARTS``."""
        with zipfile.ZipFile(package) as old:
            parts = [(info, old.read(info)) for info in old.infolist()]
        tmp = package.with_name(package.name + ".pictures")
        with zipfile.ZipFile(tmp, "w") as new:
            for info, data in parts:
                if info.filename.startswith(MEDIA_FOLDERS) and data in self.real:
                    # pictures are compressed already: stored as they are, they cost nothing
                    info.compress_type = zipfile.ZIP_STORED
                    data = self.real[data]
                elif info.filename.startswith(DESCRIBED_PARTS):
                    if b'descr="data:' in data:
                        data = self._described(data.decode("utf-8")).encode("utf-8")
                    if rewrite is not None:
                        data = rewrite(info.filename, data)
                new.writestr(info, data)
        tmp.replace(package)

    def _described(self, xml: str) -> str:
        for url, words in self.described.items():
            xml = xml.replace(f'descr="{url}"', f"descr={quoteattr(words)}")
        return xml


def stand_in(content: bytes, marker: bytes) -> bytes | None:
    """A blank picture of the same kind, size and resolution, carrying ``marker``; None for
    a kind without one, a header that cannot be read, or more than ``MAX_PIXELS``."""
    header = _header(content)
    if header is None or not 0 < header.width * header.height <= MAX_PIXELS:
        return None
    return {"png": _png, "jpeg": _jpeg, "gif": _gif}[header.kind](header, marker)


def picture_size(content: bytes) -> tuple[int, int] | None:
    """(width, height) that a PNG, JPEG or GIF header (the start of the file will do)
    claims; None for another kind, or a header that cannot be read."""
    header = _header(content)
    return (header.width, header.height) if header else None


@dataclass(frozen=True)
class _Header:
    kind: str
    width: int
    height: int
    kept: tuple[bytes, ...] = ()
    """What the stand-in keeps of the original: its resolution (PNG pHYs; JFIF, Exif)."""


def _header(content: bytes) -> _Header | None:
    try:
        if content.startswith(PNG_SIGNATURE):
            return _png_header(content)
        if content.startswith(b"\xff\xd8\xff"):
            return _jpeg_header(content)
        if content[:6] in (b"GIF87a", b"GIF89a") and len(content) >= 10:
            return _Header("gif", *struct.unpack("<HH", content[6:10]))
    except (struct.error, IndexError, ValueError):
        return None
    return None


def _png_header(content: bytes) -> _Header | None:
    at = len(PNG_SIGNATURE)
    if content[at + 4:at + 8] != b"IHDR":
        return None
    width, height = struct.unpack(">II", content[at + 8:at + 16])
    kept = []
    while at + 8 <= len(content):
        length, kind = struct.unpack(">I4s", content[at:at + 8])
        if kind == b"pHYs":
            kept.append(_png_chunk(kind, content[at + 8:at + 8 + length]))
        if kind == b"IDAT":
            break
        at += 12 + length
    return _Header("png", width, height, tuple(kept))


def _jpeg_header(content: bytes) -> _Header | None:
    """The frame's size, and the JFIF or Exif segments before it."""
    at, kept = 2, []
    while at + 4 <= len(content):
        if content[at] != 0xFF:
            return None
        kind = content[at + 1]
        if kind == 0xFF:  # fill byte
            at += 1
            continue
        if kind in JPEG_STANDALONE:
            at += 2
            continue
        if kind == JPEG_START_OF_SCAN:
            return None
        end = at + 2 + struct.unpack(">H", content[at + 2:at + 4])[0]
        if kind in JPEG_RESOLUTION:
            kept.append(content[at:end])
        elif kind in JPEG_FRAMES:
            height, width = struct.unpack(">HH", content[at + 5:at + 9])
            return _Header("jpeg", width, height, tuple(kept))
        at = end
    return None


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(header: _Header, marker: bytes) -> bytes:
    """Same width, height and pHYs resolution; one bit of grey per pixel, all black.  (pandoc
    reads no size from a PNG without picture data, so it has some.)"""
    width, height = header.width, header.height
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grey, no interlace
    return b"".join([PNG_SIGNATURE, _png_chunk(b"IHDR", ihdr), *header.kept,
                     _png_chunk(b"tEXt", b"talks\0" + marker),
                     _png_chunk(b"IDAT", _blank_rows(height, 1 + (width + 7) // 8)),
                     _png_chunk(b"IEND", b"")])


def _blank_rows(rows: int, row_bytes: int) -> bytes:
    """``rows`` rows of zeros (filter byte and pixels), compressed a block at a time."""
    packer, block = zlib.compressobj(9), bytes(row_bytes * max(1, 65536 // row_bytes))
    out, left = [], rows * row_bytes
    while left > 0:
        out.append(packer.compress(block[:left]))
        left -= len(block)
    return b"".join(out) + packer.flush()


def _jpeg(header: _Header, marker: bytes) -> bytes:
    """The JFIF or Exif segments (the resolution), then a grey baseline picture of the same
    size whose every block is flat: two bits of data per block."""
    width, height = header.width, header.height
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    bits = 2 * blocks  # each block: DC difference 0 ("0"), end of block ("0")
    data = bytes(bits // 8) + (bytes([0xFF >> (bits % 8)]) if bits % 8 else b"")  # 1s pad

    def segment(kind: int, payload: bytes) -> bytes:
        return bytes([0xFF, kind]) + struct.pack(">H", len(payload) + 2) + payload

    one_code = bytes([1] + [0] * 15) + b"\x00"  # a single one-bit code, for symbol 0
    return b"".join([b"\xff\xd8", *header.kept, segment(0xFE, marker),
                     segment(0xDB, b"\x00" + bytes([1] * 64)),
                     segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"),
                     segment(0xC4, b"\x00" + one_code), segment(0xC4, b"\x10" + one_code),
                     segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"), data, b"\xff\xd9"])


def _gif(header: _Header, marker: bytes) -> bytes:
    """The same screen size, a comment with the marker, one blank pixel."""
    return b"".join([b"GIF89a", struct.pack("<HHBBB", header.width, header.height, 0x80, 0, 0),
                     b"\x00\x00\x00\xff\xff\xff",  # two colours
                     b"\x21\xfe", bytes([len(marker)]), marker, b"\x00",
                     b"\x2c", struct.pack("<HHHHB", 0, 0, 1, 1, 0),
                     b"\x02\x02\x44\x01\x00", b"\x3b"])
