"""The one definition of how values reach the worker (docs/architecture.md, "The worker
command line"); the job template (app/stmpo/bundle/template.py) is built from it.

Why three channels: Windows refuses a command line over 32,767 characters and an agent
that starts actions through `CreateProcessWithLogonW` refuses 1,024, so an action's
command line may only carry what changes per task (the frames) and short names.
- Per-item constants (comp name, outputs, rqindex, step) and the job's output folders
  are JSON files in the bundle's `scripts/` folder, which job attachments carry to the
  worker beside `stmpo_render.py`; the command line names them (`--item=rq003`).
- Job parameters reach the worker as environment variables that the job environment's
  `variables` map sets for every action of the session (`STMPO_CONCURRENCY` for
  `--concurrency`); a command-line flag overrides its variable (tests, hand runs).
JSON files are ASCII-escaped UTF-8, so hostile comp names arrive byte-exact.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import Any

from .outputs import ArgumentProblem

ITEMS_DIR = "items"
OUTPUT_DIRS_FILE = "output_dirs.json"
FONTS_DIR = "fonts"
#: An item file holds one item's comp name and outputs: far below this. A bound keeps a
#: damaged or hostile file from costing the worker its memory.
MAX_JSON_FILE_BYTES = 16 * 1024 * 1024
_ITEM_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z", re.ASCII)

#: The worker's own bounds on a task (the export contract's frame bound, and the processes
#: one task may start): the table below and planning.py use the same numbers.
MAX_FRAME_NUMBER = 10**9
MAX_PROCESSES = 256
SPLIT_STRATEGIES = ("dynamic", "static")
#: The group of the file cache rows (issue 12): the template's and the submitter's label.
CACHE_GROUP = "File cache"
#: A file cache links at most 8 data repositories, so CacheRootPaths holds at most 8.
MAX_CACHE_ROOTS = 8


@dataclass(frozen=True)
class Setting:
    """One row of the worker's command line (docs/architecture.md, "The worker command
    line"). Everything else derives from it: the worker's argparse (cli.py), the job
    template's parameter definition and the job environment's `STMPO_*` variable (the
    app's bundle/parameters.py), the submitter's control (app's gui) and the tests.

    `kind` is "bool", "int", "float", "text", "choice" or "file" (a PATH parameter the job
    attachments carry). `low`/`high` bound numbers, inclusive, and are the template's
    minValue/maxValue. `parameter` is the job parameter (None: a per-task flag the
    template's command line or a hand run gives). `gui` puts a control for it in the
    submitter's STMPO box."""

    flag: str
    kind: str
    default: Any
    parameter: str | None
    label: str
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    group: str = "STMPO"
    gui: bool = True
    #: The spin box's step and decimals (float parameters).
    step: float = 1.0
    decimals: int = 1
    suffix: str = ""
    #: What an empty text control says (the submitter's placeholder).
    placeholder: str = "empty: the worker's default"

    @property
    def dest(self) -> str:
        """The argparse attribute: `--max-concurrency` -> `max_concurrency`."""
        return self.flag.lstrip("-").replace("-", "_")


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "--project",
        "file",
        "",
        "ProjectFile",
        "Project file",
        "The saved After Effects project the workers open.",
        group="After Effects",
        gui=False,
    ),
    Setting(
        "--aerender-path",
        "text",
        "",
        "AerenderPath",
        "aerender path",
        "Full path of aerender on the worker; empty finds the newest installed After Effects.",
        group="After Effects",
    ),
    Setting(
        "--continue-on-missing-footage",
        "bool",
        False,
        "ContinueOnMissingFootage",
        "Continue on missing footage, fonts, effects",
        "Render on when After Effects reports missing footage, fonts or effects "
        "(aerender -continueOnMissingFootage: color bars for missing footage). Off: such "
        "a warning fails the task.",
        group="After Effects",
    ),
    Setting(
        "--concurrency",
        "int",
        0,
        "Concurrency",
        "Concurrency (0 = auto)",
        "aerender processes per task; 0 chooses from cores, RAM, MFR and the frames "
        "(a process gets at least the frames its launch is worth).",
        low=0,
        high=MAX_PROCESSES,
    ),
    Setting(
        "--max-concurrency",
        "int",
        24,
        "MaxConcurrency",
        "Max concurrency",
        "Upper bound on aerender processes per task when Concurrency is auto.",
        low=1,
        high=MAX_PROCESSES,
    ),
    Setting(
        "--ram-per-process-gb",
        "float",
        32.0,
        "RamPerProcessGB",
        "RAM per process",
        "RAM budget of one aerender process, used by auto concurrency.",
        low=0.5,
        high=4096.0,
        step=4.0,
        suffix=" GB",
    ),
    Setting(
        "--disable-mfr",
        "bool",
        False,
        "DisableMFR",
        "Disable Multi-Frame Rendering",
        "Turn After Effects Multi-Frame Rendering off in every aerender process.",
    ),
    Setting(
        "--disable-affinity",
        "bool",
        False,
        "DisableAffinity",
        "Disable CPU affinity (NUMA pinning)",
        "Do not pin aerender processes to CPU/NUMA blocks.",
    ),
    Setting(
        "--spawn-delay",
        "float",
        2.0,
        "SpawnDelay",
        "Spawn delay",
        "Seconds between starting two aerender processes at most (the next one starts "
        "as soon as the previous one prints its first line).",
        low=0.0,
        high=600.0,
        step=0.5,
        suffix=" s",
    ),
    Setting(
        "--child-grace-sec",
        "float",
        30.0,
        "ChildGraceSec",
        "Cancel grace period",
        "On cancel, seconds each aerender process gets to stop before it is killed.",
        low=0.0,
        high=240.0,
        step=5.0,
        suffix=" s",
    ),
    Setting(
        "--no-kill-on-fail",
        "bool",
        False,
        "NoKillOnFail",
        "Keep rendering when a process fails",
        "Let the other processes finish when one fails (the task still fails).",
    ),
    Setting(
        "--split-strategy",
        "choice",
        "dynamic",
        "SplitStrategy",
        "Split strategy",
        "dynamic: as processes free up, the frames still to render are shared out "
        "again, so every slot stays busy to the end; static: equal contiguous ranges "
        "fixed at the start (STMPO before issue 11).",
        choices=SPLIT_STRATEGIES,
    ),
    Setting(
        "--retry-failed-ranges",
        "int",
        1,
        "RetryFailedRanges",
        "Retry failed ranges",
        "Times a failed process's unfinished frames are rendered again before the task "
        "fails (0 = fail at once).",
        low=0,
        high=10,
    ),
    Setting(
        "--skip-existing",
        "bool",
        True,
        "SkipExisting",
        "Resume: keep frames an earlier attempt of this job rendered",
        "When Deadline retries a task, image-sequence frames that an earlier attempt of "
        "this same job wrote completely are not rendered again (movies always render "
        "whole; files left by anything else are rendered again).",
    ),
    Setting(
        "--stall-timeout-sec",
        "float",
        1800.0,
        "StallTimeoutSec",
        "Stall timeout",
        "A process that finishes no frame for this many seconds is ended and its "
        "remaining frames retried (0 = off).",
        low=0.0,
        high=86400.0,
        step=60.0,
        decimals=1,
        suffix=" s",
    ),
    Setting(
        "--startup-timeout-sec",
        "float",
        600.0,
        "StartupTimeoutSec",
        "Startup timeout",
        "A process that renders no first frame this many seconds after its launch is "
        "ended and reported (a licence or splash dialog; 0 = off).",
        low=0.0,
        high=86400.0,
        step=30.0,
        decimals=1,
        suffix=" s",
    ),
    Setting(
        "--numa-map",
        "text",
        "",
        "NumaMap",
        "NUMA map (empty = host topology)",
        "Path of a NUMA map JSON on the worker; empty reads the host topology.",
        gui=False,
    ),
    # Issue 12: burst rendering through a shared file cache (docs/file-cache.md). The
    # submitter adds the cache steps when a path lies under a root; the worker's cache-*
    # subcommands read these.
    Setting(
        "--cache-root-paths",
        "text",
        "",
        "CacheRootPaths",
        "File cache root paths",
        "Semicolon-separated absolute paths (at most 8: a cache links at most 8 data "
        "repositories) whose files reach the workers through a file cache mount: they "
        "are not uploaded, and the job gains cache refresh and write-back steps. "
        "Empty = no file cache.",
        placeholder="empty: no file cache",
        group=CACHE_GROUP,
    ),
    Setting(
        "--cache-eviction",
        "bool",
        True,
        "CacheEviction",
        "Release stale cached inputs before rendering",
        "Cache refresh: lfs hsm_release the inputs under a root that are archived and "
        "not dirty, so the cache reads them again from the origin (never a dirty or "
        "unarchived file).",
        group=CACHE_GROUP,
    ),
    Setting(
        "--cache-hydration",
        "bool",
        True,
        "CacheHydration",
        "Restore cached inputs before rendering",
        "Cache refresh: lfs hsm_restore the inputs under a root and wait until none is "
        "released, so the render does not wait on the origin file by file.",
        group=CACHE_GROUP,
    ),
    Setting(
        "--cache-write-back",
        "bool",
        True,
        "CacheWriteBack",
        "Write rendered frames back to the origin",
        "After each render task, lfs hsm_archive the files it rendered under a root and "
        "wait until each is archived; a file that does not make it fails the task.",
        group=CACHE_GROUP,
    ),
    Setting(
        "--lfs-command",
        "text",
        "sudo lfs",
        "LfsCommand",
        "lfs command",
        "How the cache steps run the Lustre lfs tool (split like a shell would, never "
        "run through one), e.g. 'sudo lfs' or '/usr/bin/lfs'.",
        group=CACHE_GROUP,
    ),
    Setting(
        "--cache-poll-timeout-sec",
        "float",
        3600.0,
        "CachePollTimeoutSec",
        "Cache poll timeout",
        "Seconds a cache step waits for restores or archives to finish before it fails, "
        "naming the files.",
        low=1.0,
        high=604800.0,
        step=60.0,
        decimals=1,
        suffix=" s",
        group=CACHE_GROUP,
    ),
    # Per-task flags: the template's command line or a hand run gives them.
    Setting(
        "--verify-outputs",
        "bool",
        True,
        None,
        "Verify outputs",
        "Fail a child that exits 0 but leaves expected frame files missing.",
    ),
    Setting(
        "--timings",
        "text",
        "",
        None,
        "Timings file",
        "JSON of the startup and frame times observed in this session (the job "
        "template names one in the session's working directory): the plan uses them "
        "to weigh a launch; empty or missing = the conservative estimate.",
    ),
    Setting(
        "--dry-run",
        "bool",
        False,
        None,
        "Dry run",
        "Print the plan (processes, ranges, reasons) and exit without starting aerender.",
    ),
)

#: (worker option, job parameter): the job environment sets `variable_for(option)` to
#: `{{Param.<parameter>}}`, and `render` reads it when the option is not given.
JOB_SETTINGS: tuple[tuple[str, str], ...] = tuple(
    (s.flag, s.parameter) for s in SETTINGS if s.parameter is not None
)


def setting(flag: str) -> Setting:
    """The table's row for `flag`."""
    for row in SETTINGS:
        if row.flag == flag:
            return row
    raise KeyError(flag)


def variable_for(option: str) -> str:
    """`--max-concurrency` -> `STMPO_MAX_CONCURRENCY`."""
    return "STMPO_" + option.lstrip("-").upper().replace("-", "_")


def job_variables() -> dict[str, str]:
    """The job environment's `variables` map: every job setting as a format string."""
    return {variable_for(option): "{{Param." + param + "}}" for option, param in JOB_SETTINGS}


def item_name(rqindex: int) -> str:
    """`rq003`: the short name `--item` takes for render queue item 3."""
    return f"rq{rqindex:03d}"


def item_relpath(name: str) -> str:
    """Where the item file lives inside the scripts folder (`/`-separated)."""
    return f"{ITEMS_DIR}/{name}.json"


def scripts_dir() -> str:
    """The folder holding `stmpo_render.py` and this package: the bundle's `scripts/`."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def in_scripts(path: str) -> str:
    """A relative path names a file that travels in the scripts folder; absolute stays."""
    return path if os.path.isabs(path) else os.path.join(scripts_dir(), path)


def item_path(name: str, arg: str = "--item") -> str:
    if not _ITEM_NAME.match(name):
        raise ArgumentProblem(arg, f"expected a name such as rq003, got {name!r}")
    return os.path.join(scripts_dir(), ITEMS_DIR, name + ".json")


def encode_json_file(value: Any) -> str:
    """The text of a job file: ASCII-escaped JSON (even a lone surrogate survives)."""
    return json.dumps(value, ensure_ascii=True, indent=1) + "\n"


def read_json_file(path: str, arg: str) -> Any:
    """JSON from a job file; ArgumentProblem naming `arg` when it cannot be used."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_JSON_FILE_BYTES + 1)
    except OSError as exc:
        raise ArgumentProblem(arg, f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_JSON_FILE_BYTES:
        raise ArgumentProblem(arg, f"{path} is larger than {MAX_JSON_FILE_BYTES} bytes")
    try:
        return json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise ArgumentProblem(arg, "not JSON this worker can read (nested too deeply)") from None
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError
        raise ArgumentProblem(arg, f"{path} is not UTF-8 JSON ({exc})") from None
