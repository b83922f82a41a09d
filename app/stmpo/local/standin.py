"""`stmpo run-local EXPORT --standin`: render an export on this machine with the
repository's aerender stand-in instead of After Effects.

A shipped sample names a project that does not exist here, and the stand-in cannot read
a `.aep` anyway; so the export is re-pointed the way `stmpo demo` does it
(`stmpo.local.demo.write_demo_inputs`: a placeholder project, the stand-in's sidecar,
frames under one folder) and the job runs with the stand-in as `AerenderPath`. The
folder is a fresh temporary one unless `--out` names one, never the repository or the
user's project folder, and an existing folder is cleared only under the demo's rule
(docs/safety.md).
"""

from __future__ import annotations

import shlex
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

from stmpo.errors import Problem, writing
from stmpo.output_paths import follow_link

#: The job parameters `--standin` sets; a `-p` for one of them contradicts it.
STANDIN_PARAMETERS = ("AerenderPath", "Python")


def standin_parameters() -> dict[str, str]:
    """The stand-in as aerender, run by this Python (the stand-in is a Python script)."""
    from stmpo.locations import aerender_standin

    return {"AerenderPath": str(aerender_standin()), "Python": sys.executable}


def argument_problems(
    *, standin: bool, out: Path | None, bundle_input: bool, overrides: Mapping[str, str]
) -> list[Problem]:
    """What is wrong with `--standin`/`--out` together with the rest of the command
    line, each naming the argument at fault (checked before anything is written)."""
    if not standin:
        return [Problem("--out", "only applies with --standin")] if out is not None else []
    problems = [
        Problem(f"-p {name}", "cannot be combined with --standin, which sets it")
        for name in STANDIN_PARAMETERS
        if name in overrides
    ]
    if bundle_input:
        problems.append(
            Problem(
                "--standin",
                "needs an export JSON or a .aep, not a bundle directory "
                "(a bundle's project and output paths are already fixed)",
            )
        )
    return problems


def standin_folder(out: Path | None) -> Path:
    """The folder to re-point the export into: `out` (cleared only if it is an earlier
    demo folder and holds nothing else) or a fresh temporary folder."""
    if out is None:
        return Path(tempfile.mkdtemp(prefix="stmpo-standin-"))
    from stmpo.local.demo import prepare_demo_folder

    with writing("--out"):
        real = follow_link(out.absolute())
        prepare_demo_folder(real)
    return real


def prepare_standin_export(source: Path, out: Path | None) -> tuple[Path, Path]:
    """Re-point `source` for the stand-in; returns (the export to bundle, its folder).

    The export is loaded before the folder is made, so a broken export writes nothing.
    """
    from stmpo.local.demo import source_data, write_demo_data

    data = source_data(source)
    folder = standin_folder(out)
    try:
        with writing("--out"):
            export_path, _export = write_demo_data(data, folder)
    except BaseException:
        if out is None:  # the fresh temporary folder is ours alone
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return export_path, folder


def standin_hint(input_arg: str, project: str) -> str:
    """The line a failed run of an export whose project is not here ends with: a
    newcomer trying a shipped sample has neither After Effects nor that project, and the
    way to see it render is one flag away."""
    return (
        f"stmpo run-local: hint: the project {project} is not on this computer; to try the "
        f"export without After Effects, render it with the aerender stand-in: "
        f"stmpo run-local {shlex.quote(input_arg)} --standin"
    )
