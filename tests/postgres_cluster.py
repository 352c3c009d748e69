"""A throwaway PostgreSQL cluster for the tests: initdb in a temporary folder, a free port,
a Unix socket in that folder, trust authentication; stopped and removed afterwards.

Set HOSPITAL_SIM_TEST_POSTGRES to a DSN to use an existing server instead. Without PostgreSQL
binaries the database tests are skipped, unless HOSPITAL_SIM_REQUIRE_POSTGRES=1 (as in CI).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator


def _binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Yields a DSN of a fresh, empty cluster; raises RuntimeError when none can be made."""
    initdb, pg_ctl = _binary("initdb"), _binary("pg_ctl")
    if not initdb or not pg_ctl:
        raise RuntimeError("no PostgreSQL binaries (initdb, pg_ctl) found")
    prefix: list[str] = []
    folder = tempfile.mkdtemp(prefix="pg-", dir="/tmp")
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: use its own system user
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("running as root and there is no 'postgres' user") from None
        os.chown(folder, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(folder, "data")
    port = _free_port()
    try:
        subprocess.run(
            [*prefix, initdb, "-D", data, "-A", "trust", "-U", "tester", "--no-sync"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        options = f"-p {port} -k {folder} -c listen_addresses='' -c fsync=off"
        subprocess.run(
            [*prefix, pg_ctl, "-D", data, "-o", options, "-l", f"{folder}/log", "-w", "start"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {error}") from None
    try:
        yield f"postgresql://tester@/postgres?host={folder}&port={port}"
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", data, "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
        )
        shutil.rmtree(folder, ignore_errors=True)
