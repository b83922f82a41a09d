"""`stmpo doctor`: what a first run needs, checked, with how to fix each miss.

One line per check (`ok`, `WARN`, `MISSING`), or `--json`; exit 1 when a check is
MISSING (a first run would fail), 0 otherwise, 2 for bad arguments. The farm checks
call Deadline Cloud (GetFarm, GetQueue) only when the configuration and credentials
are there; `--offline` skips them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING

from stmpo.errors import Problem, StmpoError

if TYPE_CHECKING:
    from stmpo.doctor_checks import Check


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "doctor",
        help="check what a first run needs, and say how to fix each miss",
        description="Check Qt's platform libraries, the deadline configuration, AWS "
        "credentials, the farm and queue, aerender for local runs, the font index and "
        "Python. Exit 1 when something blocks a first run, 0 otherwise.",
    )
    p.add_argument("--json", action="store_true", help="one JSON object instead of lines")
    p.add_argument("--farm-id", help="default: defaults.farm_id of the deadline config")
    p.add_argument("--queue-id", help="default: defaults.queue_id of the deadline config")
    p.add_argument("--profile", help="AWS profile (default: the deadline config's)")
    p.add_argument(
        "--offline",
        action="store_true",
        help="skip the calls to Deadline Cloud (GetFarm, GetQueue)",
    )
    p.set_defaults(handler=run)


def _check_arguments(args: argparse.Namespace) -> None:
    from stmpo.submit.deadline_submit import _FARM_ID, _QUEUE_ID

    problems = []
    if args.farm_id is not None and not _FARM_ID.match(args.farm_id):
        problems.append(Problem("--farm-id", "is not a farm ID (farm-<32 hex digits>)"))
    if args.queue_id is not None and not _QUEUE_ID.match(args.queue_id):
        problems.append(Problem("--queue-id", "is not a queue ID (queue-<32 hex digits>)"))
    if args.profile is not None:
        import botocore.session

        if args.profile not in botocore.session.Session().available_profiles:
            problems.append(Problem("--profile", f'there is no AWS profile named "{args.profile}"'))
    if problems:
        raise StmpoError(problems)


def gather(args: argparse.Namespace) -> list[Check]:
    """Every check, in the order a newcomer would fix them."""
    from stmpo import doctor_checks as checks
    from stmpo import doctor_farm as farm
    from stmpo.doctor_checks import WARN, Check

    env = dict(os.environ)
    platform = checks.platform_name()
    found = checks.loader_sonames(env) if platform.startswith("linux") else set()
    results: list[Check] = [
        checks.python_check(tuple(sys.version_info[:3]), sys.executable),
        checks.qt_check(platform, env, found),
    ]
    config, target = farm.config_check(args.farm_id, args.queue_id, args.profile)
    results.append(config)
    credentials, session = farm.session_and_credentials(target)
    results.append(credentials)
    if args.offline:
        results.append(Check("farm", WARN, "not checked (--offline)"))
    elif config.blocks or session is None:
        # not a second miss: the one above already blocks, and says what to fix
        results.append(
            Check("farm", WARN, "not checked: fix the configuration and credentials first")
        )
    else:
        results.extend(farm.reachability_checks(target, session))
    results.append(checks.aerender_check(env, platform))
    results.append(_font_check())
    return results


def _font_check() -> Check:
    """The index the submitter resolves a project's fonts with (stmpo.fonts), built the
    same way, so a damaged cache or an empty font folder shows here first."""
    from stmpo.doctor_checks import font_check
    from stmpo.fonts.index import FontIndex, FontNameCache, default_cache_file, system_font_dirs

    folders = system_font_dirs()
    return font_check(folders, len(FontIndex(folders, FontNameCache(default_cache_file()))))


def run(args: argparse.Namespace) -> int:
    from stmpo._worker_scripts.stmpo_worker.logtext import text_line

    _check_arguments(args)
    results = gather(args)
    blocked = any(r.blocks for r in results)
    if args.json:
        print(
            json.dumps(
                {"ok": not blocked, "checks": [r.to_json() for r in results]},
                ensure_ascii=True,
                indent=2,
            )
        )
    else:
        for r in results:
            fix = f" -> fix: {r.fix}" if r.fix and r.status != "ok" else ""
            print(text_line(f"{r.status:<7} {r.name}: {r.detail}{fix}"))
    return 1 if blocked else 0
