"""A child's output as bounded pieces: what the orchestrator's reader threads do.

A child may print anything: a comp name or a path with a newline in it, a line of a
million characters, a gigabyte without a newline. Reading it line by line would hold
whole lines in memory and hand the log one line longer than OpenJD's 64,000-character
split. So each reader reads at most `READ_PIECE` bytes at a time, cuts what it got
into lines and pieces of lines of at most `READ_PIECE` bytes, and hands them, one
batch a read, to a bounded queue: when the orchestrator cannot keep up, `put`
blocks, the pipe fills and the child waits in `write` (back-pressure), instead of
the orchestrator buffering the child's output.

The pieces of one line keep their order and say whether they continue a line, so
progress and error detection can look across the cut (`Scanner`).

Standard library only, Python 3.9+: these files run on the worker.
"""

from __future__ import annotations

import locale
from collections.abc import Callable
from itertools import repeat
from typing import IO

# Bytes per read, and the longest piece of a line: aerender's lines are far shorter.
# Bigger reads cost fewer queue hand-offs (16 KiB: 31 MB/s merged vs 25 MB/s at 4 KiB).
READ_PIECE = 16384
# How much of a piece's end is looked at again with the next piece of the same line:
# longer than any marker the scanners look for (`after effects error:`, a timecode).
CARRY = 64

# (kind, child index, [(text, continues the previous piece's line), ...])
Event = tuple[str, int, list[tuple[str, bool]]]


class PieceDecoder:
    """UTF-8 that may be cut mid-character at a piece boundary; anything that is not
    UTF-8 at all (a Windows aerender in the ANSI code page) in the locale's encoding."""

    def __init__(self) -> None:
        self.pending = b""
        self.fallback = locale.getpreferredencoding(False) or "utf-8"

    def decode(self, raw: bytes, final: bool) -> str:
        data, self.pending = self.pending + raw, b""
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            if not final and exc.reason == "unexpected end of data" and len(data) - exc.start < 4:
                try:
                    text = data[: exc.start].decode("utf-8")
                except UnicodeDecodeError:
                    pass
                else:
                    self.pending = data[exc.start :]
                    return text
            return data.decode(self.fallback, errors="replace")


class Splitter:
    """Bytes as they arrive -> lines and pieces of lines, each at most `piece` bytes.

    A line is cut every `piece` bytes from its start, whatever sizes the reads had, so
    where a long line is cut does not depend on timing. Holds less than `piece` bytes
    between calls."""

    def __init__(self, piece: int = READ_PIECE) -> None:
        self.piece = piece
        self.partial = b""
        self.continued = False  # the next text continues a line already cut
        self.decoder = PieceDecoder()

    def _add(self, batch: list[tuple[str, bool]], raw: bytes, ends: bool) -> None:
        text = self.decoder.decode(raw, final=ends)
        if ends and text.endswith("\r"):
            text = text[:-1]  # CRLF, as aerender writes on Windows
        if text or not self.continued:  # not the bare newline after a cut
            batch.append((text, self.continued))
        self.continued = not ends

    def feed(self, raw: bytes) -> list[tuple[str, bool]]:
        """The lines and pieces `raw` completes, as (text, continues a cut line)."""
        batch: list[tuple[str, bool]] = []
        data = self.partial + raw
        start = self._whole_lines(batch, data)
        while True:
            end = data.find(b"\n", start, start + self.piece + 1)
            if end >= 0:
                self._add(batch, data[start:end], ends=True)
                start = end + 1
            elif len(data) - start >= self.piece:
                self._add(batch, data[start : start + self.piece], ends=False)
                start += self.piece
            else:
                break
        self.partial = data[start:]
        return batch

    def _whole_lines(self, batch: list[tuple[str, bool]], data: bytes) -> int:
        """The fast path for a read of many short lines (a chatty child): when every
        complete line in `data` fits a piece and is UTF-8, they are decoded and split
        at once, not one by one; the result is exactly the loop's in `feed`. Where the
        loop must go on: 0 when it must do it all (a long line, another encoding)."""
        end = data.rfind(b"\n") + 1
        if end == 0 or (end > self.piece and max(map(len, data[:end].split(b"\n"))) > self.piece):
            return 0
        try:
            text = (self.decoder.pending + data[:end]).decode("utf-8")
        except UnicodeDecodeError:
            return 0
        self.decoder.pending = b""
        # CRLF as aerender writes it on Windows: one pass, the same as each line's own
        # trailing "\r" removed (`_add`).
        lines = text.replace("\r\n", "\n").split("\n")
        lines.pop()  # after the last newline
        first = 0
        if self.continued:
            if lines[0]:
                batch.append((lines[0], True))
            first = 1  # else the bare newline after a cut
        batch.extend(zip(lines[first:], repeat(False)))
        self.continued = False
        return end

    def finish(self) -> list[tuple[str, bool]]:
        """What is left when the pipe closes: a last line without a newline."""
        batch: list[tuple[str, bool]] = []
        if self.partial or self.decoder.pending:
            self._add(batch, self.partial, ends=True)
            self.partial = b""
        return batch


def read_pieces(
    index: int, stream: IO[bytes], put: Callable[[Event], None], piece: int = READ_PIECE
) -> None:
    """Reader thread body: what `stream` gives, as batches of lines and pieces, to `put`
    (which blocks when the queue is full), then one `eof` event, whatever happens to
    the pipe. A batch is whatever one read returned: many short lines cost one queue
    hand-off, not one each."""
    splitter = Splitter(piece)
    read = getattr(stream, "read1", stream.read)
    try:
        for raw in iter(lambda: read(piece), b""):
            batch = splitter.feed(raw)
            if batch:
                put(("lines", index, batch))
        batch = splitter.finish()
        if batch:
            put(("lines", index, batch))
    except (OSError, ValueError):
        pass
    finally:
        put(("eof", index, []))


class Scanner:
    """Per child: the text to search for markers, so a marker cut in two by a piece
    boundary is still found (a piece continuing a line is searched with the end of the
    previous piece in front of it)."""

    def __init__(self) -> None:
        self.carry = ""

    def text(self, piece: str, continued: bool) -> str:
        scanned = self.carry + piece if continued else piece
        self.carry = scanned[-CARRY:]
        return scanned
