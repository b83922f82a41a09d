"""Which folders of a written bundle Deadline Cloud refuses without a yes: one check for
the dry run and the real run.

The `deadline` library (`deadline/client/api/_submit_job_bundle.py`,
`create_job_from_job_bundle`, `_generate_message_for_asset_paths` and
`_classify_asset_paths`) collects every folder the job transfers: the folder of each
input file (the bundle's `asset_references` and its IN PATH parameters; an input
directory counts by the folders of the files under it), and each output directory (OUT
PATH parameters, `asset_references` outputs). Every such folder must be inside a known
asset path: the bundle's own folder, the `known_asset_paths` it is given (stmpo passes
the project's folder and `--known-asset-path`), the config's
`settings.known_asset_paths` (split on `os.pathsep`) and the storage profile's LOCAL
locations; files under its SHARED locations are not transferred at all
(`S3AssetManager._get_asset_groups`). Input files that do not exist are only referenced,
so they are not checked. Run without a terminal (no confirmation callback), the library
prints the list and cancels when any folder is unknown. Containment is on whole path
components (`_is_known_path` -> `is_any_path_contained`), which this module calls.

Output folders are checked although nothing is uploaded from them at submission: the
job's workers upload the frames they render there, and downloading the job's output
(`deadline job download-output`, the monitor) writes them into that folder on this
computer, so the library wants the folder approved as well.

The storage profile needs the farm (GetStorageProfileForQueue). It only ever allows more:
a folder under one of its locations is known or not transferred. So a check without it
can only be stricter than the library's, never laxer: a dry run passes exactly what the
real run passes, and refuses what the real run refuses unless the configured storage
profile lists the folder, which the refusal then says it did not check.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Iterable, Sequence
from configparser import ConfigParser
from dataclasses import dataclass
from pathlib import Path

from stmpo._worker_scripts.stmpo_worker.logtext import shown
from stmpo.errors import Problem

#: Folders a refusal names one by one when a folder holding them all can be named instead
#: (forty_items.json has 40 output folders under one); without one, every folder is named.
MAX_FOLDERS_SHOWN = 12


@dataclass(frozen=True)
class Transfers:
    """What the library would transfer for a bundle: input files' folders, output folders."""

    input_folders: tuple[str, ...]
    output_folders: tuple[str, ...]


@dataclass(frozen=True)
class StorageProfileView:
    """What the check knows of the storage profile: nothing (`checked` False, its id if
    configured) or its LOCAL and SHARED locations."""

    profile_id: str | None = None
    checked: bool = False
    local: tuple[str, ...] = ()
    shared: tuple[str, ...] = ()


@dataclass(frozen=True)
class UnknownFolders:
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    storage_profile: StorageProfileView

    def __bool__(self) -> bool:
        return bool(self.inputs or self.outputs)


def bundle_transfers(bundle_dir: Path) -> Transfers:
    """The folders the library would transfer for `bundle_dir`, read with the library's own
    parameter and asset-reference functions (no queue parameters: stmpo's queue
    environments add no PATH parameter)."""
    from deadline.client.job_bundle.loader import read_yaml_or_json_object
    from deadline.client.job_bundle.parameters import (
        apply_job_parameters,
        merge_queue_job_parameters,
        read_job_bundle_parameters,
    )
    from deadline.client.job_bundle.submission import AssetReferences

    folder = str(bundle_dir)
    references = AssetReferences.from_dict(
        read_yaml_or_json_object(folder, "asset_references", required=False)
    )
    parameters = merge_queue_job_parameters(
        job_parameters=read_job_bundle_parameters(folder), queue_parameters=[]
    )
    apply_job_parameters([], folder, parameters, references)
    files = set(references.input_filenames)
    for directory in references.input_directories:
        for root, _dirs, names in os.walk(directory):
            files.update(os.path.join(root, name) for name in names)
    inputs = {
        os.path.dirname(os.path.normpath(os.path.abspath(path)))
        for path in files
        if os.path.isfile(path)
    }
    outputs = {os.path.normpath(os.path.abspath(path)) for path in references.output_directories}
    return Transfers(tuple(sorted(inputs)), tuple(sorted(outputs)))


def configured_known_paths(config: ConfigParser) -> list[str]:
    """The deadline config's `settings.known_asset_paths`, split as the library does."""
    from deadline.client.config import config_file

    value = config_file.get_setting("settings.known_asset_paths", config=config).strip()
    return [path for path in value.split(os.pathsep) if path] if value else []


def configured_storage_profile(config: ConfigParser) -> StorageProfileView:
    """The storage profile the config names (`settings.storage_profile_id`), unchecked."""
    from deadline.client.config import config_file

    value = config_file.get_setting("settings.storage_profile_id", config=config)
    return StorageProfileView(profile_id=value or None)


def check_bundle(
    bundle_dir: Path, cli_paths: Iterable[str], config: ConfigParser, storage: StorageProfileView
) -> UnknownFolders:
    """The one check, for the dry run (storage profile unchecked) and the real run."""
    from stmpo.submit.deadline_submit import bundle_project_file

    roots = known_roots(
        bundle_dir,
        bundle_project_file(bundle_dir),
        cli_paths,
        configured_known_paths(config),
        storage,
    )
    return unknown_folders(bundle_transfers(bundle_dir), roots, storage)


def known_roots(
    bundle_dir: Path,
    project_file: str | None,
    cli_paths: Iterable[str],
    configured: Iterable[str],
    storage: StorageProfileView,
) -> list[str]:
    """Every known asset path, as the library gathers them (see the module docstring)."""
    from stmpo.submit.deadline_submit import project_folder_known

    roots = [
        os.path.abspath(str(bundle_dir)),
        *(project_folder_known(project_file) if project_file else []),
        *(os.path.abspath(os.path.expanduser(path)) for path in cli_paths),
        *(os.path.expanduser(path) for path in configured),
        *storage.local,
    ]
    return [root for root in roots if os.path.isabs(root)]


def unknown_folders(
    transfers: Transfers, roots: Sequence[str], storage: StorageProfileView
) -> UnknownFolders:
    """The transferred folders outside every known root (the library's `_is_known_path`);
    an input folder inside another unknown one is left out, as the library's list does."""
    from deadline.client._path_utils import is_any_path_contained

    def unknown(folders: Iterable[str]) -> list[str]:
        return [
            folder
            for folder in folders
            if not is_any_path_contained(folder, storage.shared, path_module=os.path)
            and not is_any_path_contained(folder, roots, path_module=os.path)
        ]

    inputs: list[str] = []
    for folder in sorted(unknown(transfers.input_folders)):
        if not is_any_path_contained(folder, inputs, path_module=os.path):
            inputs.append(folder)
    return UnknownFolders(tuple(inputs), tuple(unknown(transfers.output_folders)), storage)


def _argument(folder: str) -> str:
    return "--known-asset-path " + shown(shlex.quote(folder), 1000)


def _counted(folders: Sequence[str], what: str) -> str:
    return f"{len(folders)} {what} folder{'s' if len(folders) != 1 else ''}"


def _common_folder(folders: Sequence[str]) -> str | None:
    """The folder holding all of them, unless it is too broad to name (a root, a home)."""
    from stmpo.bundle.upload_policy import broad_folder_reason

    if len(folders) < 2:
        return None
    try:
        common = os.path.commonpath(list(folders))
    except ValueError:
        return None
    return common if broad_folder_reason(common) is None else None


def refusal_problem(found: UnknownFolders) -> Problem:
    """The refusal, in a wrangler's words: how many folders of which kind, why each kind
    is checked, and the arguments that allow them, one `--known-asset-path` per folder,
    ready to paste (a POSIX shell's quoting; outside text escaped as everywhere)."""
    from deadline.client._path_utils import is_any_path_contained

    folders: list[str] = []
    for folder in sorted([*found.inputs, *found.outputs]):
        # An output folder inside an input one (or the reverse) needs no argument of its own.
        if not is_any_path_contained(folder, folders, path_module=os.path):
            folders.append(folder)
    kinds = []
    if found.inputs:
        them = "its" if len(found.inputs) == 1 else "their"
        kinds.append(_counted(found.inputs, "input") + f" ({them} files are uploaded)")
    if found.outputs:
        them = "it" if len(found.outputs) == 1 else "them"
        kinds.append(
            _counted(found.outputs, "output")
            + f" (nothing is uploaded from {them} now, but the job renders into {them} and "
            f"downloading its output writes into {them} on this computer)"
        )
    text = (
        f"{' and '.join(kinds)} outside the known asset paths (the project's folder, "
        "--known-asset-path, the deadline setting settings.known_asset_paths, the storage "
        "profile's LOCAL locations): Deadline Cloud refuses a job with folders nobody "
        "approved; nothing was uploaded"
    )
    storage = found.storage_profile
    if storage.profile_id and not storage.checked:
        text += (
            f"; the storage profile {shown(storage.profile_id, 80)} was not checked (a dry "
            "run makes no AWS call): if it lists these folders, the real run accepts them"
        )
    common = _common_folder(folders)
    if len(folders) <= MAX_FOLDERS_SHOWN or common is None:
        text += ". To approve, add: " + " ".join(_argument(f) for f in folders)
        if common is not None:
            text += f" (or, for all of them, {_argument(common)})"
    else:
        text += (
            f". To approve, add the folder holding all {len(folders)}: "
            f"{_argument(common)} (or one --known-asset-path per folder)"
        )
    return Problem("--known-asset-path", text)
