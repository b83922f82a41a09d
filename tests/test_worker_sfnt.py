"""The worker's stdlib `name` table reader, checked against fontTools on real fonts."""

from __future__ import annotations

from pathlib import Path

import pytest
from fontgen import write_collection, write_font
from fontTools.ttLib import TTFont
from hypothesis import given, settings
from hypothesis import strategies as st
from stmpo._worker_scripts.stmpo_worker.sfnt import SfntError, face_offsets, read_faces


def test_truetype_names_match_fonttools(tmp_path: Path) -> None:
    path = write_font(tmp_path / "a.ttf", "Inter-Bold", family="Inter", style="Bold")
    [face] = read_faces(path.read_bytes())
    reference = TTFont(str(path))["name"]
    assert face.postscript == reference.getDebugName(6) == "Inter-Bold"
    assert (face.family, face.style, face.full_name) == ("Inter", "Bold", "Inter Bold")
    assert face.outlines == "truetype"


def test_cff_font(tmp_path: Path) -> None:
    path = write_font(tmp_path / "b.otf", "Minion-It", family="Minion", style="Italic", cff=True)
    [face] = read_faces(path.read_bytes())
    assert (face.postscript, face.outlines) == ("Minion-It", "cff")


def test_collection_lists_every_font(tmp_path: Path) -> None:
    path = write_collection(tmp_path / "c.ttc", ["Coll-A", "Coll-B", "Coll-C"])
    data = path.read_bytes()
    assert len(face_offsets(data)) == 3
    assert [f.postscript for f in read_faces(data)] == ["Coll-A", "Coll-B", "Coll-C"]


def test_mac_roman_names(tmp_path: Path) -> None:
    path = write_font(tmp_path / "m.ttf", "Caf\u00e9-Regular", family="Caf\u00e9", mac_names=True)
    [face] = read_faces(path.read_bytes())
    assert (face.postscript, face.family) == ("Caf\u00e9-Regular", "Caf\u00e9")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "unknown file signature"),
        (b"wOFF" + b"\0" * 40, "WOFF"),
        (b"PK\x03\x04zipfile", "unknown file signature"),
        (b"ttcf\x00\x01\x00\x00\x00\x00\x00\x00", "claims 0 fonts"),
        (b"\x00\x01\x00\x00\x00\x05", "truncated"),
    ],
)
def test_bad_files_raise_sfnt_error(data: bytes, message: str) -> None:
    with pytest.raises(SfntError, match=message):
        read_faces(data)


def test_every_truncation_of_a_real_font_raises_only_sfnt_error(tmp_path: Path) -> None:
    data = write_font(tmp_path / "t.ttf", "Trunc-Regular").read_bytes()
    for cut in range(0, len(data), 7):
        try:
            faces = read_faces(data[:cut])
        except SfntError:
            continue
        # Only a cut past the name strings can still be read, and then correctly.
        assert faces[0].postscript == "Trunc-Regular"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300), st.sampled_from([b"\x00\x01\x00\x00", b"OTTO", b"ttcf", b""]))
def test_random_bytes_never_crash(tail: bytes, head: bytes) -> None:
    try:
        faces = read_faces(head + tail)
    except SfntError:
        return
    assert faces and all(face.outlines in ("truetype", "cff") for face in faces)
