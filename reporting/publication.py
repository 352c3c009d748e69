"""A dataset folder (``--outdir``): its lock, publication and manifest, and ``verify``.

A run owns its folder while it runs: it holds an ``flock`` on ``.hospital-synth.lock`` inside
it (the kernel lets go when the process dies), writes into a hidden staging folder inside it
(same file system, so an outdir that is a mount point works, and nothing is written beside
it), then publishes:

1. every staged file is synced to disk, and ``.hospital-synth-publishing`` is written: the
   new files and the old ones, by name, size and SHA-256;
2. the old ``manifest.json`` is removed, each new file renamed into place, the tool's older
   files that this run does not write removed;
3. the new ``manifest.json`` (each file's size and SHA-256) is renamed into place last, then
   the marker is removed.

Ctrl-C and SIGTERM wait for the end of step 3, so a run publishes all or nothing. After a
SIGKILL or a power loss the folder holds the old dataset, the new one, or one marked as
unfinished, which ``verify`` reports and the next run replaces.

A run replaces or removes only the tool's own files: those the manifest lists whose contents
still match it. Any other file stays; one with a name the run writes is refused before
simulating (``--overwrite`` replaces it). A folder without a manifest (from before manifests)
has its files with the run's names replaced and nothing else removed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs

GENERATOR = "hospital-synth"
MANIFEST = "manifest.json"
MARKER = ".hospital-synth-publishing"
LOCK = ".hospital-synth.lock"
PRIVATE = ".hospital-synth-"  # staging and part folders: PRIVATE + kind-host-pid-token
LEFTOVER = re.compile(
    r"\.hospital-synth-(?P<kind>staging|parts)-(?P<host>.+)-(?P<pid>\d+)-[0-9a-f]{8}"
)
STALE_SECONDS = 24 * 3600  # a folder of another machine's run is left over after this long
HOST = re.sub(r"[^A-Za-z0-9.-]", "_", os.uname().nodename)[:64] or "localhost"


class FolderError(Exception):
    """The folder cannot be used (in use by another run, or holding files that are not the
    tool's); the message is one line for the user."""


@contextlib.contextmanager
def deferred_signals() -> Iterator[None]:
    """Within the block, Ctrl-C and SIGTERM are held back; one that arrived is acted on (by
    the handler from before the block) as soon as the block has finished. Outside the main
    thread nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.getsignal(number) for number in held}
    for number in held:
        signal.signal(number, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)
    if pending:
        handler = previous[pending[0]]
        if callable(handler):
            handler(pending[0], None)  # e.g. raises KeyboardInterrupt
        elif handler in (signal.SIG_DFL, None):
            os.kill(os.getpid(), pending[0])


def private_folder(parent: Path, kind: str) -> Path:
    """A new hidden folder of this run (``staging`` or ``parts``) in ``parent``."""
    folder = parent / f"{PRIVATE}{kind}-{HOST}-{os.getpid()}-{secrets.token_hex(4)}"
    folder.mkdir()
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_leftovers(parent: Path, kinds: tuple[str, ...], staging_is_dead: bool = False) -> None:
    """Remove the hidden folders of ``kinds`` that dead runs left in ``parent``: their process
    (on this machine) is gone, or they are older than ``STALE_SECONDS``; with
    ``staging_is_dead`` (the caller holds the folder's lock) every staging folder."""
    for path in parent.iterdir():
        match = LEFTOVER.fullmatch(path.name)
        if match is None or match["kind"] not in kinds or path.is_symlink() or not path.is_dir():
            continue
        dead = (match["kind"] == "staging" and staging_is_dead) or (
            match["host"] == HOST and not _alive(int(match["pid"]))
        )
        if dead or time.time() - path.stat().st_mtime > STALE_SECONDS:
            shutil.rmtree(path, ignore_errors=True)


def file_record(path: Path) -> dict:
    """A file's size and SHA-256, as the manifest lists them."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return {"bytes": path.stat().st_size, "sha256": digest.hexdigest()}


def _sync(path: Path) -> None:
    """Flush a file or a folder (its entries: renames, removals) to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    except OSError as error:  # some file systems cannot sync a folder
        if error.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(descriptor)


def _write_synced(path: Path, data: dict) -> None:
    with path.open("w", encoding="utf-8") as stream:
        stream.write(json.dumps(data, indent=2) + "\n")
        stream.flush()
        os.fsync(stream.fileno())


def _read_json(path: Path) -> dict | None:
    """A JSON object from ``path``; None when the file is missing or is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def read_manifest(folder: Path) -> dict | None:
    """The folder's manifest if it is one of this tool's, else None."""
    manifest = _read_json(folder / MANIFEST)
    if manifest is None or manifest.get("generator") != GENERATOR:
        return None
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(_is_record(r) for r in files.values()):
        return None
    if any("/" in name or name in ("", ".", "..") for name in files):  # names in the folder
        return None
    return manifest


def _is_record(record) -> bool:
    return (
        isinstance(record, dict)
        and isinstance(record.get("bytes"), int)
        and isinstance(record.get("sha256"), str)
    )


@attrs.frozen
class Plan:
    """What publishing into a folder does to the entries already there (the tool's files with
    a name the run writes, or any file there before the run in a folder without a manifest,
    are replaced)."""

    remove: tuple[str, ...]  # the tool's files the run does not write
    conflicts: tuple[str, ...]  # other entries with a name the run writes
    kept: tuple[str, ...]  # every other entry: the user's, or the tool's changed since


class Lock:
    """An exclusive ``flock`` on the folder's lock file, with the holder's pid, machine and
    start time in it. The kernel releases it when the holder dies, so a stale lock file is
    simply taken over."""

    def __init__(self, folder: Path, flag: str = "--outdir") -> None:
        self.folder, self.flag = folder, flag
        self.path = folder / LOCK
        self._descriptor: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise ``FolderError`` naming the run that holds it."""
        while True:
            descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_json(self.path) or {}
                os.close(descriptor)
                pid, host = holder.get("pid", "?"), holder.get("host", "?")
                raise FolderError(
                    f"{self.flag} {self.folder} is in use by another run (pid {pid} on {host}, "
                    f"started {holder.get('started', '?')}): wait for it, or choose another "
                    f"{self.flag}"
                ) from None
            try:  # the holder before us may have removed the file as we opened it
                if os.stat(self.path).st_ino == os.fstat(descriptor).st_ino:
                    break
            except FileNotFoundError:
                pass
            os.close(descriptor)
        holder = {
            "pid": os.getpid(),
            "host": HOST,
            "started": dt.datetime.now().astimezone().isoformat(sep=" ", timespec="seconds"),
        }
        os.ftruncate(descriptor, 0)
        os.write(descriptor, (json.dumps(holder) + "\n").encode())
        self._descriptor = descriptor

    def release(self) -> None:
        """Remove the lock file and let go of it."""
        if self._descriptor is None:
            return
        self.path.unlink(missing_ok=True)  # while locked: nobody else can hold this file
        os.close(self._descriptor)
        self._descriptor = None


def _identity(path: Path) -> tuple:
    """A file's name, inode, size and time of change: what changes when it is edited."""
    status = path.stat()
    return path.name, status.st_ino, status.st_size, status.st_mtime_ns


def _is_private(name: str) -> bool:
    return name in (LOCK, MARKER) or name.startswith(PRIVATE)


class DatasetFolder:
    """The output folder of one run, from before the simulation to after the database loads.

    Entering takes the lock, removes dead runs' leftovers, refuses (``FolderError``) files
    that are not the tool's with a name the run ``writes`` (unless ``overwrite``), and makes
    the staging folder; ``publish`` moves the staged files in; leaving removes what is left
    of the staging folder, lets go of the lock and, when the run made the folder and
    published nothing, removes the folder again."""

    def __init__(
        self, outdir: Path, writes: Iterable[str], overwrite: bool = False, flag: str = "--outdir"
    ) -> None:
        self.outdir = Path(outdir)
        self.writes = frozenset([*writes, MANIFEST])
        self.overwrite = overwrite
        self.flag = flag
        self.lock = Lock(self.outdir, flag)
        self.staging: Path | None = None
        self.published = False
        self._made: list[Path] = []  # folders this run created, innermost last
        self._records: dict[tuple, dict] = {}  # file records by _identity
        self._found: set[tuple] = set()  # the _identity of each file there when the run began

    def __enter__(self) -> DatasetFolder:
        missing = [p for p in (self.outdir, *self.outdir.parents) if not p.exists()]
        self.outdir.mkdir(parents=True, exist_ok=True)
        self._made = list(reversed(missing))
        try:
            self.lock.acquire()
            remove_leftovers(self.outdir, ("staging", "parts"), staging_is_dead=True)
            self._found = {_identity(p) for p in self.outdir.iterdir() if p.is_file()}
            plan = self.plan()
            if plan.conflicts and (
                not self.overwrite or any((self.outdir / n).is_dir() for n in plan.conflicts)
            ):
                raise FolderError(self._conflict_message(plan.conflicts))
            self.staging = private_folder(self.outdir, "staging")
        except BaseException:
            self._leave()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self._leave()

    def _leave(self) -> None:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
        self.lock.release()
        if not self.published:
            for folder in reversed(self._made):
                try:
                    folder.rmdir()  # only if empty: whatever else is there stays
                except OSError:
                    break

    def _conflict_message(self, names: Iterable[str]) -> str:
        names = sorted(names)
        shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
        if any((self.outdir / n).is_dir() for n in names):
            return f"{self.flag} {self.outdir}: {shown} would be replaced but is a folder"
        return (
            f"{self.flag} {self.outdir} holds {shown}, not written by this tool (or changed "
            "since): move them away, or give --overwrite to replace them"
        )

    def record(self, path: Path) -> dict:
        """A file's ``file_record``, remembered until the file changes (its ``_identity``):
        the summary lists the staged tables' records, and publishing them reads them again."""
        key = _identity(path)
        if key not in self._records:
            self._records[key] = file_record(path)
        return self._records[key]

    def plan(self) -> Plan:
        """What publishing now would remove, refuse and keep. The tool's files are those the
        manifest lists (and, after an unfinished publication, those the marker lists, old or
        new) with the same size and SHA-256."""
        known: dict[str, list[dict]] = {}
        for listing in self._listings():
            for name, record in listing.items():
                known.setdefault(name, []).append(record)
        legacy = not known  # no manifest (a folder from before manifests): remove nothing
        remove, conflicts, kept = [], [], []
        for path in sorted(self.outdir.iterdir()):
            name = path.name
            if _is_private(name) or (name == MANIFEST and read_manifest(self.outdir)):
                continue
            regular = path.is_file() and not path.is_symlink()
            ours = regular and name in known and self._matches(path, known[name])
            if name in self.writes:
                old = legacy and regular and _identity(path) in self._found  # not new, not edited
                if not (ours or old):
                    conflicts.append(name)
            else:
                (remove if ours else kept).append(name)
        return Plan(tuple(remove), tuple(conflicts), tuple(kept))

    def _listings(self) -> list[dict]:
        """The file listings of the tool's files: the manifest's, and those of the marker of
        an unfinished publication (the old and the new files)."""
        manifest = read_manifest(self.outdir)
        listings = [manifest["files"]] if manifest is not None else []
        marker = _read_json(self.outdir / MARKER) or {}
        for listing in marker.get("listings", []):
            if isinstance(listing, dict) and all(_is_record(r) for r in listing.values()):
                listings.append(listing)
        return listings

    def _matches(self, path: Path, records: list[dict]) -> bool:
        if all(path.stat().st_size != r.get("bytes") for r in records):
            return False
        record = self.record(path)
        return any(record == {"bytes": r["bytes"], "sha256": r["sha256"]} for r in records)

    def publish(self, about: dict) -> dict:
        """Move every staged file into the folder (see the module's docstring), the manifest
        last; ``about`` (generator, version, seed, ...) heads the manifest, which is
        returned. Ctrl-C and SIGTERM are held back until it is done."""
        staging = self.staging
        files = {path.name: self.record(path) for path in sorted(staging.iterdir())}
        for name in files:
            _sync(staging / name)
        now = dt.datetime.now(dt.timezone.utc)
        manifest = {
            **about,
            "generator": GENERATOR,
            "run_id": f"{now:%Y%m%dT%H%M%SZ}-{os.getpid()}",
            "published": now.isoformat(timespec="seconds"),
            "files": files,
        }
        _write_synced(staging / MANIFEST, manifest)
        _sync(staging)
        with deferred_signals():
            plan = self.plan()
            try:
                _write_synced(self.outdir / MARKER, {"listings": [*self._listings(), files]})
            except OSError:  # a full disk: the older dataset is still whole
                (self.outdir / MARKER).unlink(missing_ok=True)
                raise
            _sync(self.outdir)
            for name in plan.conflicts:
                if not self.overwrite or (self.outdir / name).is_dir():
                    _move_aside(self.outdir / name)  # appeared or changed while we ran
            (self.outdir / MANIFEST).unlink(missing_ok=True)
            for name in files:
                os.replace(staging / name, self.outdir / name)
            for name in plan.remove:
                (self.outdir / name).unlink(missing_ok=True)
            _sync(self.outdir)
            os.replace(staging / MANIFEST, self.outdir / MANIFEST)
            _sync(self.outdir)
            (self.outdir / MARKER).unlink()
            _sync(self.outdir)
            self.published = True
        return manifest


def _move_aside(path: Path) -> None:
    """Rename ``path`` to ``NAME.kept`` (or ``NAME.kept2``, ...): a file the run would
    otherwise replace."""
    number = 1
    while True:
        aside = path.with_name(f"{path.name}.kept{number if number > 1 else ''}")
        if not aside.exists():
            os.replace(path, aside)
            return
        number += 1


@attrs.frozen
class Verdict:
    """What ``verify`` found: ``status`` 0 (complete), 1 (damaged or unfinished) or 2 (not a
    dataset folder), and one line saying so."""

    status: int
    message: str


def verify(folder: Path) -> Verdict:
    """Check a folder against its manifest: no unfinished publication, every listed file
    present with its size and SHA-256. Other files in the folder do not matter."""
    folder = Path(folder)
    if not folder.is_dir():
        return Verdict(2, f"{folder} is not a folder")
    if (folder / MARKER).exists():
        return Verdict(
            1,
            f"{folder}: unfinished: a run is publishing into it or was stopped doing so "
            f"({MARKER} is there); a new run into it replaces it",
        )
    if not (folder / MANIFEST).exists():
        return Verdict(2, f"{folder} has no {MANIFEST}: not a dataset this tool published")
    manifest = read_manifest(folder)
    if manifest is None:
        return Verdict(1, f"{folder}: {MANIFEST} is damaged or not this tool's")
    bad = []
    for name, expected in manifest["files"].items():
        path = folder / name
        if not path.is_file():
            bad.append(f"{name} (missing)")
        elif path.stat().st_size != expected["bytes"]:
            bad.append(f"{name} (size)")
        elif file_record(path)["sha256"] != expected["sha256"]:
            bad.append(f"{name} (SHA-256)")
    if bad:
        listed = ", ".join(bad[:5]) + (", ..." if len(bad) > 5 else "")
        return Verdict(
            1, f"{folder}: {len(bad)} of {len(manifest['files'])} files differ from {MANIFEST}: "
            f"{listed}",
        )  # fmt: skip
    return Verdict(0, f"OK: {len(manifest['files'])} files verified")
