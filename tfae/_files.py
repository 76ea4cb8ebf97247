"""Writing files so that a crash never destroys the previous good copy: write beside, flush, rename."""

from __future__ import annotations

import glob
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

PARTIAL = ".tfae-partial-"  # the prefix of what is being written; a crash may leave one, the next write sweeps it
_OLD = ".tfae-old-"


def sync(path: Path) -> None:
    """Flush `path` (a file or a folder) to disk, so a rename cannot reach the disk before the data."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _sweep(path: Path) -> None:
    for prefix in (PARTIAL, _OLD):
        for stale in path.parent.glob(f"{prefix}{'[0-9a-f]' * 8}-{glob.escape(path.name)}"):
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink(missing_ok=True)


def _beside(path: Path, prefix: str = PARTIAL) -> Path:
    return path.parent / f"{prefix}{uuid.uuid4().hex[:8]}-{path.name}"  # same suffix: Keras checks it


def _real(path: Path) -> Path:
    """`path` with its folders resolved (links, `..` through folders yet to be made); the last name kept as given."""
    if path.name in ("", ".."):  # `.` or a path ending in `..`: no last name of its own
        return Path(os.path.realpath(path))
    return Path(os.path.realpath(path.parent)) / path.name


def write_file(path: Path, write: Callable[[Path], None]) -> None:
    """`write(partial)` writes the file; it then replaces `path` in one rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _sweep(path)
    partial = _beside(path)
    try:
        write(partial)
        sync(partial)
        os.replace(partial, path)
        sync(path.parent)
    finally:
        partial.unlink(missing_ok=True)


def recover_folder(path: Path) -> None:
    """Put back the previous folder a save moved aside, if a crash came before the new one moved in."""
    if path.exists():
        return
    moved = sorted(path.parent.glob(f"{_OLD}{'[0-9a-f]' * 8}-{glob.escape(path.name)}"),
                   key=lambda candidate: candidate.stat().st_mtime)
    if moved:
        os.replace(moved[-1], path)


def holds_other_files(path: Path, replaceable: Callable[[Path], bool]) -> bool:
    """Whether something is at `path` that a folder save must not replace: a file, or a folder `replaceable` refuses."""
    return path.exists() and not (path.is_dir() and replaceable(path))


def write_folder(path: Path, write: Callable[[Path], None], *, replaceable: Callable[[Path], bool]) -> None:
    """`write(partial)` fills a new folder; it then takes the place of `path` (a folder `replaceable` accepts).

    The old folder is renamed aside before the new one moves in and deleted
    after, so a crash leaves the old or the new folder under `path`, or, in
    the instant between the two renames, the old one beside it, hidden: then
    `recover_folder` (called here and by every reader) puts it back.
    """
    given, path = path, _real(path)  # checked where it will be written: `new/../notes.txt` is `notes.txt`
    recover_folder(path)
    if holds_other_files(path, replaceable):
        raise ValueError(f"Expected `path` to be a new folder or one this would replace. Received: path={str(given)!r}, "
                         "which holds other files")
    path.parent.mkdir(parents=True, exist_ok=True)
    _sweep(path)
    partial = _beside(path)
    partial.mkdir()
    try:
        write(partial)
        for file in partial.iterdir():
            sync(file)
        sync(partial)
        old = None
        if path.exists():
            old = _beside(path, _OLD)
            os.replace(path, old)
        os.replace(partial, path)
        sync(path.parent)
        if old is not None:
            shutil.rmtree(old)
    finally:
        if partial.exists():
            shutil.rmtree(partial)
