#!/usr/bin/env python3
"""aerender stand-in: behaves like After Effects' command-line renderer, without AE.

Used by the tests, `stmpo demo` and the benchmarks wherever a real `aerender` would
run. Standard library only. Full documentation: docs/aerender-standin.md.

Command line (aerender's flags; values as aerender takes them)
    -project P -rqindex N -comp NAME -s S -e E -i I -output PATH -OMtemplate T
    -RStemplate T -mfr ON|OFF PCT -v LEVEL -close MODE -sound ON|OFF
    -mem_usage A B -reuse -continueOnMissingFootage -log FILE -version

Where frames go (AE keeps output paths inside the project; the stand-in cannot read
.aep files): when `-project X.aep` is given, the sidecar `X.aep.standin.json`
    {"frameRate": 25,
     "items": {"1": {"comp": "MAIN", "outputs": ["/abs/out/MAIN_[#####].png"],
                     "frames": {"start": 0, "end": 99}, "frameRate": 25,
                     "renderFrameRate": 12.5, "displayStartTime": 0,
                     "faults": "crash@42", "status": "QUEUED"}}}
gives each render queue item's output paths (strings or {"path": ...}). `-output`
replaces the first output path, as in aerender. `[#####]` becomes the zero-padded
frame number; a path without `[#]` is a movie: one file written at the end. The
project file itself must exist, and each output folder too (as with AE). An item's
"status" (an RQItemStatus name, default QUEUED) of DONE, USER_STOPPED, ERR_STOPPED or
RENDERING makes `-rqindex` fail as in aerender, which cannot set such an item's Render
flag: one `aerender ERROR: After Effects error: Can not ...` line, exit 1, no frames.
`renderFrameRate` (render settings "Use this frame rate") other than the comp's
`frameRate`: the stand-in writes and reports the output frames of the -s/-e span at
that rate (`output_frames`; faults then name output frames).

Startup, in aerender's own order (its driver's output in the logs of inlife/nexrender
issue 428 and RxLaboratory/DuME issue 222): `aerender version ...` and `PROGRESS:
Launching After Effects...` at once, then the startup (STANDIN_STARTUP_*), then
`PROGRESS: ...After Effects successfully launched`, so a child's first line comes before
its startup, as on a farm.

Each frame: optional CPU burn, a small valid PNG written to every sequence output,
then `PROGRESS:  0:00:00:05 (6): 0 Seconds`.

Environment
    STANDIN_STARTUP_SEC=0.5        CPU busy-loop seconds at startup (default 0)
    STANDIN_STARTUP_SLEEP_SEC=2    idle seconds at startup (plugin loading, disk)
    STANDIN_FRAME_SEC=0.1          CPU busy-loop seconds per frame (default 0)
    STANDIN_FRAME_SEC_AT=36-47:1.0 that many seconds for frames 36 to 47 instead (ranges
                                   comma separated, `F:SEC` for one frame): uneven work
    STANDIN_FAIL=crash@12,spawn_child   faults, comma separated (also the sidecar's
                                   per-item "faults", a string or a list):
        crash@F          exit 3 abruptly at frame F (grandchild left behind)
        crash_once@F     the same, but only the first launch that reaches frame F
                         crashes (it leaves PROJECT.standin-crashed-F): a transient
                         fault that a retry of the frames gets past
        error_exit0@F    print `aerender ERROR: After Effects error: ...` at frame F,
                         stop rendering, exit 0 (as aerender sometimes does)
        hang@F           after frame F-1, print `PROGRESS:  (hanging at frame F)` and
                         sleep forever (SIGTERM ends it): a stall
        licence          after the startup, instead of `successfully launched`, print
                         the trial-expired prompt's words `Renew your subscription at
                         adobe.com today` (inlife/nexrender issue 197; AE shows them in
                         a dialog), then wait forever without rendering (SIGTERM ends
                         it): AE stuck at a licence dialog
        missing_frame@F  render frame F without writing its files
        empty_frame@F    leave a 0-byte file for frame F (a full disk; AE's
                         multi-machine "frame in progress" placeholder)
        skip_existing    every frame whose file already exists is reported but not
                         written (AE's render setting "Skip existing files")
        detached_helper  at startup double-fork a helper that calls setsid() and keeps
                         the stand-in's stdout open while it sleeps (POSIX only)
        detached_helper_clean_env   the same, exec'd with an empty environment
        detached_daemon  the same, but a proper daemon: stdio on /dev/null and an empty
                         environment (POSIX only)
        quiet_exit0@F    stop at frame F with no error line and exit 0: aerender's
                         exit status does not prove the frames exist (what the
                         worker's --verify-outputs check is for)
        disk_full@F      writing frame F fails with ENOSPC, as on a full disk (a real
                         OSError from any write, e.g. `-output /dev/full`, is handled
                         the same way): `aerender ERROR: ...`, exit 1
        slow@F:SEC       sleep SEC seconds at frame F
        missing_footage@F[:PATH]  footage PATH (default missing.png) is missing from
                         frame F on. Without -continueOnMissingFootage the render stops
                         there: `WARNING:After Effects warning: logged one error  error:
                         Unable to Render: File Not Found PATH`, exit 0 (the real line,
                         inlife/nexrender issue 206). With it, aerender "does not stop
                         rendering on missing footage" but renders placeholder color
                         bars (aerender -help): the stand-in prints `WARNING:After
                         Effects warning: File Not Found PATH` once and renders on
        missing_font     at startup `WARNING:After Effects warning: Project has missing
                         fonts.` (nexrender issues 123, 1043), then renders on with a
                         substitute font, as AE does (aws-deadline/deadline-cloud-for-
                         after-effects pull request 118)
        missing_effect   at startup AE's "missing dependencies" warning (nexrender
                         issue 148's shape) naming `Effect: STMPO Missing Effect`, then
                         renders on without it
        spawn_child      start a grandchild that lives as long as the stand-in
                         (like AfterFX under aerender); ended on a normal exit only
        ignore_term      ignore SIGTERM (stand-in, grandchild, helper): only SIGKILL works
      A fault without @F fires at the first frame. A fault whose frame is outside
      this process's -s/-e range never fires, so one STANDIN_FAIL can fail exactly
      one child of a fanned-out task.
    STANDIN_TRACE=/path/trace.jsonl   append one JSON line per event (start, grandchild,
                                   frame, write (path of each file written), end) with
                                   pid, rqindex, s, e, time and argv
    STANDIN_BARRIER_DIR=/dir STANDIN_BARRIER_COUNT=2 [STANDIN_BARRIER_TIMEOUT=60]
                                   wait until COUNT stand-ins have started before the
                                   first frame (proves they run at once); timeout:
                                   `aerender ERROR` and exit 4
    STANDIN_START_NUMBER=N         model the output module's "Use Comp Frame Number" off
                                   with "Starting #" N: aerender has no flag for it (it is
                                   in the project), and AE names the n-th frame this launch
                                   renders N + n (n from 0), whatever -s/-i (Adobe, AE
                                   Help "Output modules and output module settings")
    STANDIN_SKIP_EXISTING=1        model render settings "Skip Existing Files": a frame
                                   whose file exists is reported but left untouched (the
                                   same as the skip_existing fault)
    STANDIN_LANG=de                German progress words (the frame lines keep their shape)
    STANDIN_GRANDCHILD_MAX_SEC=300 safety limit for a leaked grandchild

Output that cannot be written (a full disk, a vanished share) ends the render the way
aerender reports it, one `aerender ERROR: After Effects error: ...` line naming the file,
as in these real aerender logs:
    aerender Error: After Effects error: Error in output for render queue item 1, output
    module 1. Can not create a file in directory ... Try checking write permissions.
        (github.com/inlife/nexrender issue 116)
    After Effects warning: logged one error  error: Rendering error while writing to
    file ...\result.mov. An output module failed. The file may be damaged or corrupted.
        (github.com/inlife/nexrender issue 62)
never with a Python traceback. Ctrl+C exits 130 with one line on stderr. Output that
the console encoding cannot show (a CJK comp name under cp1252) is escaped, not fatal.

Exit status: 0 rendered (or error_exit0); 1 bad arguments, missing project, item or
output folder, an item that already ran (status DONE ...), output not writable (disk
full); 3 crash; 4 barrier timeout; 130 Ctrl+C; killed by a signal when killed.
"""

# ruff: noqa: E402 - the Ctrl+C handler goes in before the other imports, to cover them
from __future__ import annotations

import os
import signal
import sys


def _interrupted(signum: int, frame: object) -> None:
    """Ctrl+C at any moment, the imports below included: one line, exit 130, no
    traceback. `os.write`, not print: safe inside a signal handler mid-write."""
    try:
        os.write(2, b"aerender: interrupted\n")
    finally:
        os._exit(130)


if __name__ == "__main__" and signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
    signal.signal(signal.SIGINT, _interrupted)  # (a parent that ignores Ctrl+C wins)

import errno
import json
import math
import re
import struct
import subprocess
import time
import zlib
from datetime import datetime
from fractions import Fraction
from typing import Any

ARITY = {
    "-project": 1, "-rqindex": 1, "-comp": 1, "-s": 1, "-e": 1, "-i": 1, "-output": 1,
    "-OMtemplate": 1, "-RStemplate": 1, "-mfr": 2, "-v": 1, "-close": 1, "-sound": 1,
    "-mem_usage": 2, "-reuse": 0, "-continueOnMissingFootage": 0, "-log": 1, "-version": 0,
}  # fmt: skip
VERSION = "24.6.2x3 (STMPO stand-in)"
WORDS = {
    "en": {"seconds": "Seconds", "start": "Starting composition", "done": "Finished composition",
           "total": "Total Time Elapsed"},
    "de": {"seconds": "Sekunden", "start": "Komposition wird gestartet",
           "done": "Komposition abgeschlossen", "total": "Verstrichene Gesamtzeit"},
}  # fmt: skip
_HASHES = re.compile(r"\[(#+)\]")


class Usage(Exception):
    pass


class WriteFailed(Exception):
    """An output file could not be written: AE stops the render and says which file."""

    def __init__(self, path: str, exc: OSError) -> None:
        reason = exc.strerror or str(exc)
        super().__init__(
            f'After Effects error: Rendering error while writing to file "{path}". '
            f"An output module failed. The file may be damaged or corrupted. ({reason})"
        )


def write_output(path: str, data: bytes, disk_full: bool = False) -> None:
    """Write one output file; any OSError (ENOSPC above all) becomes `WriteFailed`."""
    try:
        with open(path, "wb") as fh:
            if disk_full:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
            fh.write(data)
    except OSError as exc:
        raise WriteFailed(path, exc) from None


class Log:
    def __init__(self) -> None:
        self.file: Any = None

    def line(self, text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        if self.file is not None:
            self.file.write(text + "\n")
            self.file.flush()


LOG = Log()


def parse_args(argv: list[str]) -> dict[str, list[str]]:
    opts: dict[str, list[str]] = {}
    i = 0
    while i < len(argv):
        flag = argv[i]
        if flag not in ARITY:
            raise Usage(f"unknown flag {flag!r}")
        n = ARITY[flag]
        values = argv[i + 1 : i + 1 + n]
        if len(values) != n:
            raise Usage(f"{flag} needs {n} value(s)")
        opts[flag] = values
        i += 1 + n
    return opts


def faults_from(spec: Any) -> list[tuple[str, int | None, str]]:
    """`crash@12,slow@3:2.5` -> [(name, frame or None, argument)]."""
    items = spec if isinstance(spec, list) else str(spec or "").split(",")
    out = []
    for item in items:
        token = str(item).strip()
        if not token:
            continue
        name, _, rest = token.partition("@")
        frame_text, _, arg = rest.partition(":")
        frame = int(frame_text) if frame_text.strip() else None
        out.append((name.strip(), frame, arg.strip()))
    return out


def frame_costs(spec: str) -> list[tuple[int, int, float]]:
    """`36-47:1.0,50:2` -> [(36, 47, 1.0), (50, 50, 2.0)]."""
    costs = []
    for token in spec.split(","):
        token = token.strip()
        if not token:
            continue
        span, _, seconds = token.partition(":")
        first, dash, last = span.strip().lstrip("-").partition("-")
        sign = -1 if span.strip().startswith("-") else 1
        lo = sign * int(first)
        hi = int(last) if dash else lo
        costs.append((lo, hi, float(seconds)))
    return costs


def burn(seconds: float) -> None:
    """Busy-loop for `seconds` of this process's CPU time (not wall time)."""
    if seconds <= 0:
        return
    end = time.process_time() + seconds
    x = 0
    while time.process_time() < end:
        for _ in range(2000):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF


def png_bytes(frame: int, size: int = 4) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    r, g, b = (frame * 37) % 256, (frame * 91) % 256, (frame * 53) % 256
    row = b"\x00" + bytes((r, g, b)) * size
    ihdr = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )


def frame_path(pattern: str, frame: int) -> str:
    return _HASHES.sub(lambda m: f"{frame:0{len(m.group(1))}d}", pattern)


def timecode(frame: int, rate: float) -> str:
    """How AE displays a frame's time in a timecode project: `H:MM:SS:FF` at the
    rate's timecode base (30 for 29.97), and for the NTSC rates 29.97 and 59.94 SMPTE
    drop-frame timecode `H;MM;SS;FF` (SMPTE ST 12-1: the labels FF = 0, 1 - 0 to 3 at
    59.94 - are skipped at the start of every minute except minutes 0, 10, 20, ...).
    Written as a walk over ten-minute blocks and minutes, independently of the worker's
    arithmetic (worker_scripts/stmpo_worker/timecode.py), so each checks the other."""
    fps = max(1, round(rate))
    drop = fps in (30, 60) and abs(rate - fps * 1000 / 1001) < 0.01
    if not drop or frame < 0:
        ff, total = frame % fps, frame // fps
        return f"{total // 3600}:{total // 60 % 60:02d}:{total % 60:02d}:{ff:02d}"
    skip = fps // 15  # labels dropped per minute: 2 at 29.97, 4 at 59.94
    label, left = 0, frame
    block = fps * 600 - 9 * skip  # real frames in ten minutes
    label += (left // block) * fps * 600
    left %= block
    first_minute = fps * 60  # minute 0 of a block drops nothing
    if left >= first_minute:
        label += first_minute
        left -= first_minute
        minute = fps * 60 - skip
        label += (left // minute) * fps * 60
        left %= minute
        label += skip  # this minute's labels start at FF = skip
    label += left
    ff, total = label % fps, label // fps
    return f"{total // 3600};{total // 60 % 60:02d};{total % 60:02d};{ff:02d}"


def exact_rate(rate: float) -> Fraction:
    """AE's NTSC rates are n/1001 (it stores 29.97 as the float 29.970001220703125)."""
    for numerator in (24000, 30000, 48000, 60000, 120000):
        if abs(rate - numerator / 1001) <= 1e-5 * numerator / 1001:
            return Fraction(numerator, 1001)
    return Fraction(rate).limit_denominator(1001 * 1000)


def output_frames(
    start: int, end: int, comp_rate: float, render_rate: float, start_time: float, first: int
) -> range:
    """The displayed output frames `-s start -e end` writes when render settings "Use
    this frame rate" differs from the comp's (Adobe, AE Help "Render settings": Frame
    Rate; Scripting Guide, RenderQueueItem settings "Frame Rate"/"Use this frame rate").
    aerender turns -s/-e into the span [(start - O)/C, (end + 1 - O)/C) with the comp's
    frame duration (its commandLineRenderer.jsx), O the displayed number of comp time 0;
    AE then renders every output frame k (time k/R) inside the span and, with "Use Comp
    Frame Number", numbers it k plus the displayed start at the output rate."""
    c, r = exact_rate(comp_rate), exact_rate(render_rate)
    t0 = Fraction(start_time).limit_denominator(1001 * 1000)
    comp_origin = math.floor(t0 * c) + first
    render_origin = math.floor(t0 * r) + first
    lo = math.ceil((start - comp_origin) * r / c)
    hi = math.ceil((end + 1 - comp_origin) * r / c)
    return range(lo + render_origin, hi + render_origin)


def trace(event: str, **fields: Any) -> None:
    path = os.environ.get("STANDIN_TRACE")
    if not path:
        return
    record = {"event": event, "pid": os.getpid(), "t": time.time(), **fields}
    data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def spawn_grandchild(ignore_term: bool) -> subprocess.Popen[bytes]:
    limit = float(os.environ.get("STANDIN_GRANDCHILD_MAX_SEC", "300"))
    code = (
        "import signal, time\n"
        + ("signal.signal(signal.SIGTERM, signal.SIG_IGN)\n" if ignore_term else "")
        + f"end = time.monotonic() + {limit!r}\n"
        "while time.monotonic() < end:\n    time.sleep(0.2)\n"
    )
    # Not attached to the stand-in's output, so a leaked grandchild cannot hide behind
    # a pipe that stays open: the orchestrator must find it by its process group.
    return subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


_DAEMON = """
import json, os, signal, sys, time
trace, owner, ready, limit, ignore = sys.argv[1:6]
signal.signal(signal.SIGTERM, signal.SIG_IGN if ignore == "1" else signal.SIG_DFL)
if trace:
    record = {"event": "helper", "pid": os.getpid(), "t": time.time(), "stand_in": int(owner)}
    with open(trace, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + chr(10))
os.close(int(ready))
end = time.monotonic() + float(limit)
while time.monotonic() < end:
    time.sleep(0.2)
"""


def spawn_detached_helper(ignore_term: bool, keep_stdio: bool, keep_env: bool) -> None:
    """A helper that leaves the stand-in's process tree the way a daemon does
    (daemon(3); Stevens and Rago, "Advanced Programming in the UNIX Environment",
    section 13.3): fork, setsid() in the child (a session and process group of its
    own, so a signal to the render's group misses it), fork again and let the middle
    process exit (so the helper is nobody's descendant: the kernel reparents it to
    init, or to the nearest child subreaper, prctl(2)). It models a plugin or service
    started during a render that detaches instead of ending with it; no trace of real
    AE was taken for this.

    Fault `detached_helper`: the helper keeps stdout and stderr, so the render's
    output pipe stays open while it lives. `detached_helper_clean_env`: the same, but
    exec'd with an empty environment (a launcher that scrubs it), so only the pipe it
    holds ties it to the render. `detached_daemon`: a proper daemon, stdio on
    /dev/null and an empty environment, so nothing ties it to the render.
    """
    limit = os.environ.get("STANDIN_GRANDCHILD_MAX_SEC", "300")
    owner = os.getpid()
    ready_r, ready_w = os.pipe()  # the stand-in goes on once the helper is traced
    middle = os.fork()
    if middle:
        os.close(ready_w)
        os.waitpid(middle, 0)
        os.read(ready_r, 1)
        os.close(ready_r)
        return
    try:
        os.close(ready_r)
        os.setsid()
        if os.fork():
            os._exit(0)
        if not keep_stdio:
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(null, fd)
        if not keep_env:
            os.set_inheritable(ready_w, True)
            trace_path = os.environ.get("STANDIN_TRACE", "")
            argv = [sys.executable, "-c", _DAEMON, trace_path, str(owner), str(ready_w)]
            os.execve(sys.executable, [*argv, limit, "1" if ignore_term else "0"], {})
        signal.signal(signal.SIGTERM, signal.SIG_IGN if ignore_term else signal.SIG_DFL)
        trace("helper", stand_in=owner)
        os.close(ready_w)
        end = time.monotonic() + float(limit)
        while time.monotonic() < end:
            time.sleep(0.2)
    finally:
        os._exit(0)


def barrier() -> None:
    directory = os.environ.get("STANDIN_BARRIER_DIR")
    if not directory:
        return
    count = int(os.environ.get("STANDIN_BARRIER_COUNT", "2"))
    timeout = float(os.environ.get("STANDIN_BARRIER_TIMEOUT", "60"))
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, f"{os.getpid()}.arrived"), "w") as fh:
        fh.write("1")
    deadline = time.monotonic() + timeout
    while len([n for n in os.listdir(directory) if n.endswith(".arrived")]) < count:
        if time.monotonic() > deadline:
            LOG.line(f"aerender ERROR: barrier: fewer than {count} renders ran at once")
            sys.exit(4)
        time.sleep(0.05)


def load_sidecar(project: str) -> dict[str, Any]:
    path = project + ".standin.json"
    if not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    return data if isinstance(data, dict) else {}


#: The start of AE's grouped "missing dependencies" warning (nexrender issue 148).
_MISSING_DEPENDENCIES = (
    "Grouped_Message_{some layers have missing dependencies. Press Ctrl-C to copy this "
    "list.|||a layer has missing dependencies.###@0 dependencies are missing:}"
)


#: Statuses whose Render flag AE will not set (Scripting Guide, "RenderQueueItem.render"
#: and "RenderQueueItem.status"): aerender's own driver sets it for `-rqindex`, so these fail.
UNRENDERABLE_STATUSES = frozenset({"DONE", "USER_STOPPED", "ERR_STOPPED", "RENDERING"})
RENDERABLE_STATUSES = frozenset({"QUEUED", "UNQUEUED", "NEEDS_OUTPUT", "WILL_CONTINUE"})


def refuse_status(status: object, opts: dict[str, list[str]]) -> str:
    """Why aerender cannot render an `-rqindex` item with this status ("" when it can).

    aerender's commandLineRenderer.jsx turns `-rqindex N` into scripting calls on item N:
    `applyTemplate` for `-RStemplate`/`-OMtemplate`, then `render = true`. AE refuses
    both on an item that already ran. The `applyTemplate` wording is a real aerender
    log (github.com/RxLaboratory/DuME issue 160); no public log of the `render` refusal
    was found, so its line is the stand-in's, shaped like that one.
    """
    name = str(status)
    if name in RENDERABLE_STATUSES:
        return ""
    if name not in UNRENDERABLE_STATUSES:
        raise Usage(f"sidecar status must be one of the RQItemStatus names, got {name!r}")
    what = 'call "applyTemplate"' if {"-RStemplate", "-OMtemplate"} & set(opts) else 'set "render"'
    return (
        f"After Effects error: Can not {what} when RenderQueueItem status is RENDERING, "
        "STOPPED, or DONE."
    )


def render(opts: dict[str, list[str]], argv: list[str]) -> int:
    project = opts.get("-project", [""])[0]
    if project and not os.path.isfile(project):
        LOG.line(f'aerender ERROR: No project exists at path "{project}".')
        return 1
    sidecar = load_sidecar(project) if project else {}
    rqindex = opts.get("-rqindex", [""])[0]
    items = sidecar.get("items", {}) if isinstance(sidecar.get("items"), dict) else {}
    item: dict[str, Any] = {}
    if rqindex:
        if items and rqindex not in items:
            LOG.line(f"aerender ERROR: No render queue item at index {rqindex}.")
            return 1
        item = items.get(rqindex, {})
        refusal = refuse_status(item.get("status", "QUEUED"), opts)
        if refusal:
            LOG.line(f"aerender ERROR: {refusal}")
            return 1
    elif "-comp" in opts:
        item = next((v for v in items.values() if v.get("comp") == opts["-comp"][0]), {})
    comp = opts.get("-comp", [item.get("comp", "Comp 1")])[0]
    rate = float(item.get("frameRate", sidecar.get("frameRate", 25)))
    frames_info = item.get("frames", {})
    try:
        start = int(opts["-s"][0]) if "-s" in opts else int(frames_info.get("start", 0))
        end = int(opts["-e"][0]) if "-e" in opts else int(frames_info.get("end", start))
        step = int(opts["-i"][0]) if "-i" in opts else 1
    except ValueError as exc:
        raise Usage(f"frame numbers must be integers ({exc})") from None
    if step < 1 or end < start:
        raise Usage(f"bad frame range -s {start} -e {end} -i {step}")
    render_rate_value = item.get("renderFrameRate")
    render_rate = rate if render_rate_value is None else float(render_rate_value)
    other_rate = exact_rate(render_rate) != exact_rate(rate)
    if other_rate and step != 1:
        raise Usage(f"-i {step} with a render frame rate other than the comp's is not modelled")
    outputs = [o["path"] if isinstance(o, dict) else str(o) for o in item.get("outputs", [])]
    if "-output" in opts:
        outputs = [opts["-output"][0], *outputs[1:]]
    if not outputs:
        LOG.line(
            "aerender ERROR: no output path: give -output or write "
            f"{project or '<project>'}.standin.json"
        )
        return 1
    for path in outputs:
        folder = os.path.dirname(path) or "."
        if not os.path.isdir(folder):
            LOG.line(
                f"aerender ERROR: After Effects error: Unable to render: the output folder "
                f'"{folder}" does not exist.'
            )
            return 1

    faults = faults_from(os.environ.get("STANDIN_FAIL", "")) + faults_from(item.get("faults"))
    frames = range(start, end + 1, step)  # lazy: a task may span 10^9 frames
    if other_rate:  # files and progress lines are output frames at the render rate
        frames = output_frames(
            start,
            end,
            rate,
            render_rate,
            float(item.get("displayStartTime", 0.0)),
            int(sidecar.get("displayStartFrame", 0)),
        )
    names = {name for name, _, _ in faults}
    if os.environ.get("STANDIN_SKIP_EXISTING", "") not in ("", "0"):
        names.add("skip_existing")
    start_number_text = os.environ.get("STANDIN_START_NUMBER", "")
    try:
        start_number = int(start_number_text) if start_number_text else None
    except ValueError:
        raise Usage(f"STANDIN_START_NUMBER must be an integer, got {start_number_text!r}") from None

    def at(name: str, frame: int) -> tuple[bool, str]:
        for fname, fframe, arg in faults:
            if fname == name and (fframe == frame or (fframe is None and frame == frames[0])):
                return True, arg
        return False, ""

    ignore_term = "ignore_term" in names
    if ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    words = WORDS.get(os.environ.get("STANDIN_LANG", "en"), WORDS["en"])
    trace("start", rqindex=rqindex, s=start, e=end, i=step, argv=argv)
    began = time.monotonic()
    grandchild = spawn_grandchild(ignore_term) if "spawn_child" in names else None
    if "detached_helper" in names:
        spawn_detached_helper(ignore_term, keep_stdio=True, keep_env=True)
    if "detached_helper_clean_env" in names:
        spawn_detached_helper(ignore_term, keep_stdio=True, keep_env=False)
    if "detached_daemon" in names:
        spawn_detached_helper(ignore_term, keep_stdio=False, keep_env=False)
    if grandchild is not None:
        trace("grandchild", child_pid=grandchild.pid)
    # aerender's driver prints its banner and "Launching" at once, before After Effects
    # starts and loads the project (the startup below), and "successfully launched" once
    # it runs (logs in inlife/nexrender issue 428 and RxLaboratory/DuME issue 222): the
    # worker's first line of a child comes before its startup, not after.
    LOG.line(f"aerender version {VERSION}")
    LOG.line("PROGRESS: Launching After Effects...")
    time.sleep(float(os.environ.get("STANDIN_STARTUP_SLEEP_SEC", "0")))
    burn(float(os.environ.get("STANDIN_STARTUP_SEC", "0")))
    if "licence" in names:
        # The words of AE's trial-expired prompt (nexrender issue 197): AE waits at the
        # dialog, never says it launched, and renders nothing.
        LOG.line("Renew your subscription at adobe.com today")
        trace("licence", rqindex=rqindex)
        while True:
            time.sleep(1)
    LOG.line("PROGRESS: ...After Effects successfully launched")
    stamp = datetime.now().strftime("%m/%d/%Y %I:%M:%S %p")
    LOG.line(f"PROGRESS:  {stamp}: {words['start']} “{comp}”.")
    LOG.line(f"PROGRESS:  Render Settings: {opts.get('-RStemplate', ['Best Settings'])[0]}")
    for path in outputs:
        LOG.line(f"PROGRESS:  Output To: {path}")
    if "missing_font" in names:
        LOG.line("WARNING:After Effects warning: Project has missing fonts.")
    if "missing_effect" in names:
        LOG.line(
            f"WARNING:After Effects warning: {_MISSING_DEPENDENCIES}Effect: STMPO Missing Effect"
        )
    barrier()
    keep_going = "-continueOnMissingFootage" in opts
    footage_missing = ""

    frame_cost = float(os.environ.get("STANDIN_FRAME_SEC", "0"))
    try:
        costs = frame_costs(os.environ.get("STANDIN_FRAME_SEC_AT", ""))
    except ValueError as exc:
        raise Usage(f"STANDIN_FRAME_SEC_AT must be FIRST-LAST:SEC,... ({exc})") from None
    for n, frame in enumerate(frames, start=1):
        if at("crash_once", frame)[0]:
            marker = f"{project or 'standin'}.standin-crashed-{frame}"
            try:
                os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            except FileExistsError:
                pass  # an earlier launch crashed here already: render on
            else:
                LOG.line(f"PROGRESS:  simulated crash at frame {frame}")
                os._exit(3)
        if at("crash", frame)[0]:
            LOG.line(f"PROGRESS:  simulated crash at frame {frame}")
            os._exit(3)
        if at("error_exit0", frame)[0]:
            LOG.line(
                f"aerender ERROR: After Effects error: simulated render error at frame {frame}."
            )
            break
        if at("quiet_exit0", frame)[0]:
            break
        missing, arg = at("missing_footage", frame)
        if missing and not footage_missing:
            footage_missing = arg or "missing.png"
            if not keep_going:
                break  # the render stops; the warning comes after the summary lines
            LOG.line(f"WARNING:After Effects warning: File Not Found {footage_missing}")
        if at("hang", frame)[0]:
            LOG.line(f"PROGRESS:  (hanging at frame {frame})")
            while True:
                time.sleep(1)
        slow, arg = at("slow", frame)
        if slow:
            time.sleep(float(arg or "1"))
        burn(next((sec for lo, hi, sec in costs if lo <= frame <= hi), frame_cost))
        if not at("missing_frame", frame)[0]:
            empty = at("empty_frame", frame)[0]
            full = at("disk_full", frame)[0]
            for path in outputs:
                number = frame if start_number is None else start_number + n - 1
                target = frame_path(path, number)
                if not _HASHES.search(path) or (
                    "skip_existing" in names and os.path.exists(target)
                ):
                    continue
                write_output(target, b"" if empty else png_bytes(frame), full)
                trace("write", rqindex=rqindex, path=target)
        trace("frame", rqindex=rqindex, frame=frame)
        LOG.line(f"PROGRESS:  {timecode(frame, render_rate)} ({n}): 0 {words['seconds']}")
    for path in outputs:
        if not _HASHES.search(path):
            movie = b"STMPO-STANDIN-MOVIE\n" + ",".join(map(str, frames)).encode()
            write_output(path, movie, any(at("disk_full", f)[0] for f in frames))
    elapsed = int(time.monotonic() - began)
    LOG.line(f"PROGRESS:  {stamp}: {words['done']} “{comp}”.")
    LOG.line(f"PROGRESS:  {words['total']}: {elapsed} {words['seconds']}")
    if footage_missing and not keep_going:
        LOG.line(
            "WARNING:After Effects warning: logged one error  error: Unable to Render: "
            f"File Not Found {footage_missing}"
        )
    if grandchild is not None:
        grandchild.kill()
        grandchild.wait()
    trace("end", rqindex=rqindex, s=start, e=end)
    return 0


def setup_streams() -> None:
    """Keep the console's encoding (as aerender does) but never die on a character it
    cannot show: a CJK comp name under cp1252 is written as an escape."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                continue


def main(argv: list[str]) -> int:
    try:
        opts = parse_args(argv)
        if "-version" in opts:
            LOG.line(f"aerender version {VERSION}")
            return 0
        if "-log" in opts:
            LOG.file = open(opts["-log"][0], "a", encoding="utf-8")  # noqa: SIM115
        return render(opts, argv)
    except Usage as exc:
        LOG.line(f"aerender ERROR: {exc}")
        LOG.line("Usage: aerender -project PATH -rqindex N -s START -e END [...]")
        return 1
    except WriteFailed as exc:
        LOG.line(f"aerender ERROR: {exc}")
        return 1


if __name__ == "__main__":
    setup_streams()
    sys.exit(main(sys.argv[1:]))
