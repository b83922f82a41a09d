"""Just enough of the OpenType/TrueType file format to name the fonts in a file.

Workers have no fontTools, yet the installer must report which font it installed and
Windows needs the family and style for the registry value name. So this reads the
sfnt header (or the `ttcf` collection header) and the `name` table with `struct`,
checking every offset: a damaged file raises `SfntError`, never an IndexError.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

#: sfnt versions of a single font: TrueType outlines, CFF outlines, Apple 'true'/'typ1'.
_SFNT_VERSIONS = {b"\x00\x01\x00\x00": "truetype", b"OTTO": "cff", b"true": "truetype"}
_MAX_FONTS_IN_COLLECTION = 1024
_MAX_TABLES = 1024

# Name IDs: https://learn.microsoft.com/typography/opentype/spec/name#name-ids
FAMILY, SUBFAMILY, FULL_NAME, POSTSCRIPT = 1, 2, 4, 6
TYPO_FAMILY, TYPO_SUBFAMILY = 16, 17


class SfntError(ValueError):
    """The bytes are not a font this reader understands (or the file is damaged)."""


@dataclass(frozen=True)
class FaceNames:
    """The names of one font (one face) in a file."""

    postscript: str
    family: str
    style: str
    full_name: str
    outlines: str  # "truetype" or "cff"

    @property
    def label(self) -> str:
        """What a person calls the font: its PostScript name, else its full name."""
        return self.postscript or self.full_name or f"{self.family} {self.style}".strip()


def _unpack(fmt: str, data: bytes, offset: int) -> tuple[Any, ...]:
    size = struct.calcsize(fmt)
    if offset < 0 or offset + size > len(data):
        raise SfntError(f"truncated font file (need {size} bytes at offset {offset})")
    return struct.unpack_from(fmt, data, offset)


def face_offsets(data: bytes) -> list[int]:
    """Where each font's table directory starts: one for a font, several for a .ttc/.otc."""
    tag = data[:4]
    if tag == b"ttcf":
        (num_fonts,) = _unpack(">I", data, 8)
        if not 0 < num_fonts <= _MAX_FONTS_IN_COLLECTION:
            raise SfntError(f"font collection claims {num_fonts} fonts")
        return list(_unpack(f">{num_fonts}I", data, 12))
    if tag in _SFNT_VERSIONS:
        return [0]
    if tag in (b"wOFF", b"wOF2"):
        raise SfntError("WOFF web fonts cannot be installed; attach the .ttf/.otf instead")
    raise SfntError("not a TrueType/OpenType font (unknown file signature)")


def _tables(data: bytes, offset: int) -> tuple[str, dict[bytes, tuple[int, int]]]:
    version = data[offset : offset + 4]
    outlines = _SFNT_VERSIONS.get(version)
    if outlines is None:
        raise SfntError(f"no font at offset {offset} (signature {version!r})")
    (num_tables,) = _unpack(">H", data, offset + 4)
    if num_tables > _MAX_TABLES:
        raise SfntError(f"font claims {num_tables} tables")
    tables: dict[bytes, tuple[int, int]] = {}
    for i in range(num_tables):
        tag, _checksum, table_offset, length = _unpack(">4sIII", data, offset + 12 + 16 * i)
        if table_offset + length > len(data):
            raise SfntError(f"table {tag.decode('latin-1')!r} runs past the end of the file")
        tables[tag] = (table_offset, length)
    return outlines, tables


def _decode(platform: int, encoding: int, raw: bytes) -> str | None:
    if platform in (0, 3):  # Unicode and Windows platforms store UTF-16BE
        if len(raw) % 2:
            return None
        return raw.decode("utf-16-be", errors="replace")
    if platform == 1 and encoding == 0:  # Macintosh Roman
        return raw.decode("mac_roman")
    return None


def _rank(platform: int, language: int) -> int:
    """Lower is better: Windows English first, as fontTools' getDebugName does."""
    if platform == 3:
        return 0 if language == 0x409 else 1
    if platform == 0:
        return 2
    return 3 if language == 0 else 4


def read_names(data: bytes, offset: int = 0) -> dict[int, str]:
    """Name ID -> best string of the face whose table directory starts at `offset`."""
    _outlines, tables = _tables(data, offset)
    if b"name" not in tables:
        raise SfntError("font has no 'name' table")
    base, length = tables[b"name"]
    _fmt, count, string_offset = _unpack(">HHH", data, base)
    if 6 + 12 * count > length:
        raise SfntError("'name' table is truncated")
    best: dict[int, tuple[int, str]] = {}
    for i in range(count):
        platform, encoding, language, name_id, size, str_off = _unpack(
            ">HHHHHH", data, base + 6 + 12 * i
        )
        start = base + string_offset + str_off
        if start + size > base + length or start + size > len(data):
            continue  # one bad record should not hide the good ones
        text = _decode(platform, encoding, data[start : start + size])
        if text is None:
            continue
        rank = _rank(platform, language)
        if name_id not in best or rank < best[name_id][0]:
            best[name_id] = (rank, text)
    return {name_id: text for name_id, (_rank_, text) in best.items()}


def read_faces(data: bytes) -> list[FaceNames]:
    """The names of every font in a font file's bytes (several for a collection)."""
    faces = []
    for offset in face_offsets(data):
        outlines, _ = _tables(data, offset)
        names = read_names(data, offset)
        family = names.get(TYPO_FAMILY) or names.get(FAMILY, "")
        style = names.get(TYPO_SUBFAMILY) or names.get(SUBFAMILY, "")
        faces.append(
            FaceNames(
                postscript=names.get(POSTSCRIPT, ""),
                family=family,
                style=style,
                full_name=names.get(FULL_NAME, ""),
                outlines=outlines,
            )
        )
    return faces
