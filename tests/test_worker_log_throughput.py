"""The merged log's fast paths (docs/performance.md, "Merged log: lines per second") give
exactly what the line-by-line paths give: the real worker with chatty children keeps
every line whole, once and in order under its child's prefix, and each shortcut equals
its reference on every input tried (every code point; seeded random line soups).
"""

from __future__ import annotations

import random
import re
import sys
from pathlib import Path

from stmpo._worker_scripts.stmpo_worker import logtext, progress
from stmpo._worker_scripts.stmpo_worker.childlog import Splitter
from stmpo._worker_scripts.stmpo_worker.progress import TaskProgress

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

import bench_log_lines  # noqa: E402

#: The class `escape` replaced before these shortcuts (issue 8), written out again.
REFERENCE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def test_chatty_children_merge_whole_once_in_order(tmp_path: Path) -> None:
    """The bench's check on a small run through the real worker: 16 children x 1500
    lines, one write and flush a line, every tenth a frame line."""
    lines_per_second, _cpu = bench_log_lines.run_once(
        ROOT / "worker_scripts" / "stmpo_render.py", 16, 1500, tmp_path
    )
    assert lines_per_second > 0  # run_once raises on a lost, split or interleaved line


def test_escape_and_lines_need_escaping_agree_with_the_class_on_every_code_point() -> None:
    def check(text: str) -> None:
        assert logtext.escape(text) == REFERENCE.sub(logtext._escaped, text)
        unsafe = REFERENCE.search(text.replace("\n", " ")) is not None
        assert logtext.lines_need_escaping(text) == unsafe

    for code in range(0x3000):  # one by one where the classes and the ASCII path are
        check(chr(code))
        check(f"ab{chr(code)}cd")
    for start in range(0, 0x110000, 0x800):  # the rest in blocks, with and without ASCII
        block = "".join(map(chr, range(start, start + 0x800)))
        check(block)
        check("a" + block[::7])
    assert not logtext.lines_need_escaping("PROGRESS: one\nPROGRESS: two")
    assert logtext.lines_need_escaping("one\ntwo\u202e")


def test_splitter_fast_path_equals_the_loop() -> None:
    rng = random.Random(7)
    alphabet = [b"a", b"\n", b"\r", b"\r\n", "é".encode(), "広".encode(), b"\xff", b"(", b" "]
    for _trial in range(3000):
        piece = rng.choice([4, 8, 16, 64])
        data = b"".join(rng.choice(alphabet) * rng.randint(1, 6) for _ in range(rng.randint(0, 60)))
        cuts = sorted(rng.sample(range(len(data) + 1), min(len(data) + 1, rng.randint(0, 8))))
        chunks = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        fast, loop = Splitter(piece), Splitter(piece)
        loop._whole_lines = lambda batch, data: 0  # type: ignore[method-assign]
        got: list[tuple[str, bool]] = []
        want: list[tuple[str, bool]] = []
        for chunk in chunks:
            got += fast.feed(chunk)
            want += loop.feed(chunk)
        assert got + fast.finish() == want + loop.finish(), (piece, chunks)


def test_feed_lines_counts_as_feeding_each_line() -> None:
    rng = random.Random(3)
    parts = ["PROGRESS:", " ", "0:00:01:05", "0;00;01;05", "1+15", "31", "(", ")", "(7)"]
    parts += ["(12U)", ":", "x", "é", "\t", "\xa0", "12:", "PROGRÈS :", "1234:00:00:00", "-5"]
    for _trial in range(20000):
        lines = [
            "".join(rng.choice(parts) for _ in range(rng.randint(0, 8)))
            for _ in range(rng.randint(1, 6))
        ]
        total = rng.randint(1, 5)
        one, many = TaskProgress([total]), TaskProgress([total])
        changed = [one.feed(0, line) for line in lines]
        assert many.feed_lines(0, "\n".join(lines)) == any(changed)
        assert many.done == one.done, lines


def test_every_problem_marker_holds_a_prefilter_word() -> None:
    markers = progress._ERROR_MARKERS + progress._MISSING_MARKERS
    for marker in markers:
        assert any(word in marker for word in progress.PROBLEM_WORDS), marker
    assert progress.may_hold_problem("x\nWARNING:After Effects warning: Missing Footage\ny")
    assert not progress.may_hold_problem("PROGRESS:  0:00:01:05 (31): 0 Seconds")


def test_the_bench_check_catches_a_lost_or_interleaved_line() -> None:
    good = "\n".join(
        f"[c1 f0-0] {body} #{bench_log_lines.zlib.crc32(body.encode()):08x}"
        for body in ("a c0 s1 x", "b c0 s2 x")
    )
    assert bench_log_lines.check(good, 1, 2) == 2
    for bad in (good.replace("s2", "s3"), good.replace(" x #", " y #", 1), good[:-3]):
        try:
            bench_log_lines.check(bad, 1, 2)
        except SystemExit:
            continue
        raise AssertionError(f"not caught: {bad!r}")
