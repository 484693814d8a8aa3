# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""A private PostgreSQL primary and a hot-standby replica of it, streaming
its WAL, for the checks in tests/ that run Odoo on a real replica; or a
primary alone (``private_cluster``), for a check that restarts PostgreSQL.

Each cluster lives in a temporary folder of its own, on its own port and
unix socket directory (no TCP: loopback unix sockets only), started as the
set-up's private cluster is (scripts/_setup.sh: its server programs found by
``pg_bindir``, run as the unprivileged ``postgres`` system user through
``pg_as_owner`` when the checks run as root, since initdb refuses root).
Both load ``pg_stat_statements``: what ran on each cluster can be read from
the cluster itself. A missing server program or extension fails the check
with what to install: it never skips.
"""

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import pytest
from odoo_server import free_port

REPO = Path(__file__).resolve().parents[1]
SERVER_OPTIONS = (
    "-c listen_addresses='' -c wal_level=replica -c hot_standby=on "
    "-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.max=10000 "
    "-c fsync=off -c full_page_writes=off -c max_wal_senders=4"
)


def _setup_sh(code, *args, check=True, timeout=120):
    """Run ``code`` with scripts/_setup.sh's functions (one rule for where
    PostgreSQL's programs are and who runs them), with ``args`` as $@."""
    result = subprocess.run(
        [
            "bash",
            "-c",
            f'set -euo pipefail; source "{REPO}/scripts/_setup.sh"; {code}',
            "_",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode:
        pytest.fail(f"{code} {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


def server_programs():
    """PostgreSQL's server programs folder, as the set-up finds it; the
    check fails (it does not skip) when a program it needs is missing."""
    bindir = _setup_sh("pg_bindir", check=False).stdout.strip()
    if not bindir:
        pytest.fail(
            "PostgreSQL's server programs (initdb, pg_ctl) are missing: "
            "install PostgreSQL (e.g. apt-get install postgresql)"
        )
    for program in ("initdb", "pg_ctl", "pg_basebackup"):
        if not os.access(Path(bindir) / program, os.X_OK):
            pytest.fail(
                f"{program} is missing from {bindir}: install PostgreSQL's "
                "server package (e.g. apt-get install postgresql)"
            )
    sharedir = subprocess.run(
        [str(Path(bindir) / "pg_config"), "--sharedir"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip() or str(Path(bindir).parents[2] / "share" / "postgresql")
    control = Path(sharedir) / "extension" / "pg_stat_statements.control"
    if not control.exists():
        pytest.fail(
            f"the pg_stat_statements extension is missing ({control}): install "
            "PostgreSQL's contrib modules (e.g. apt-get install postgresql-contrib)"
        )
    if os.getuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail(
                "run as root, the clusters need the unprivileged 'postgres' "
                "system user (created by Debian's postgresql packages)"
            )
    return Path(bindir)


def as_owner(*command, timeout=120):
    """Run a PostgreSQL program as the clusters' owner (``pg_as_owner``)."""
    return _setup_sh('pg_as_owner "$@"', *map(str, command), timeout=timeout)


class Cluster:
    """One PostgreSQL cluster: data in ``<folder>/data``, its socket in
    ``<folder>/run``, its log in ``<folder>/server.log``."""

    def __init__(self, bindir, folder, name):
        self.bindir, self.name = bindir, name
        self.folder = folder / name
        self.data, self.run = self.folder / "data", self.folder / "run"
        self.log = self.folder / "server.log"
        self.port = free_port()
        self.started = False
        self.run.mkdir(parents=True)

    @property
    def options(self):
        """The server's options: its port, socket directory and settings."""
        return f"-p {self.port} -k {self.run} {SERVER_OPTIONS}"

    @property
    def host(self):
        """libpq's host for this cluster: its socket directory."""
        return str(self.run)

    def start(self):
        as_owner(
            self.bindir / "pg_ctl",
            "-D",
            self.data,
            "-l",
            self.log,
            "-w",
            "-t",
            "120",
            "-o",
            self.options,
            "start",
            timeout=150,
        )
        self.started = True

    def restart(self, mode="fast"):
        """``pg_ctl restart -m <mode>``, waiting until it answers again (the
        load test restarts PostgreSQL under load)."""
        as_owner(
            self.bindir / "pg_ctl",
            "-D",
            self.data,
            "-l",
            self.log,
            "-w",
            "-t",
            "120",
            "-m",
            mode,
            "-o",
            self.options,
            "restart",
            timeout=150,
        )

    def odoo_options(self):
        """Odoo's options that point it at this cluster."""
        return [f"--db_host={self.host}", f"--db_port={self.port}"]

    def stop(self):
        if self.started:
            _setup_sh(
                'pg_as_owner "$@"',
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                "immediate",
                "-w",
                "stop",
                check=False,
            )
            self.started = False

    def connect(self, dbname="postgres", user=None):
        """A connection in autocommit (no transaction stays open: a replica
        replays without waiting for it)."""
        conn = psycopg2.connect(
            host=self.host,
            port=self.port,
            dbname=dbname,
            user=user or pwd.getpwuid(os.getuid()).pw_name,
        )
        conn.autocommit = True
        return conn

    def log_tail(self, chars=3000):
        try:
            return self.log.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def query(conn, sql, params=None):
    with conn.cursor() as cr:
        cr.execute(sql, params)
        return cr.fetchall() if cr.description else None


def wait_for(what, predicate, timeout=60, interval=0.2, detail=None):
    """Poll ``predicate()`` until it returns a true value (returned), at most
    ``timeout`` seconds; fail saying ``what`` did not happen (and
    ``detail()``, what was seen instead)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            seen = f": {detail()}" if detail else ""
            pytest.fail(f"{what}: not within {timeout} s{seen}")
        time.sleep(interval)


class Replication:
    """A primary and its streaming hot standby (see the module)."""

    def __init__(self):
        self.bindir = server_programs()
        # /tmp, not pytest's folder: the postgres system user must reach it
        self.folder = Path(tempfile.mkdtemp(prefix="sfp-replica-"))
        self.primary = Cluster(self.bindir, self.folder, "primary")
        self.replica = Cluster(self.bindir, self.folder, "replica")
        self.owner = "postgres" if os.getuid() == 0 else pwd.getpwuid(os.getuid())[0]

    def _own(self):
        if os.getuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            for path in self.folder.rglob("*"):
                shutil.chown(path, "postgres", "postgres")

    def start_primary(self):
        self._own()
        as_owner(
            self.bindir / "initdb",
            "-D",
            self.primary.data,
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
            timeout=300,
        )
        self.primary.start()
        # a role for the user running the checks (Odoo refuses `postgres`),
        # as the set-up's private cluster has one
        user = pwd.getpwuid(os.getuid()).pw_name
        conn = self.primary.connect(user="postgres")
        try:
            if user != "postgres":
                query(conn, f'CREATE ROLE "{user}" SUPERUSER LOGIN')
            query(conn, f'CREATE DATABASE "{user}" OWNER "{user}"')
        finally:
            conn.close()

    def start_replica(self):
        """A base backup of the primary (``pg_basebackup -R``: it writes the
        standby's connection to the primary), started as a hot standby; it
        answers once it streams."""
        self._own()
        as_owner(
            self.bindir / "pg_basebackup",
            "-D",
            self.replica.data,
            "-h",
            self.primary.host,
            "-p",
            self.primary.port,
            "-U",
            "postgres",
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
            "--no-sync",
            timeout=600,
        )
        self.replica.start()
        wait_for(
            "the replica streams from the primary",
            lambda: self.streaming(),
            timeout=60,
        )

    def streaming(self):
        conn = self.primary.connect()
        try:
            return query(
                conn,
                "SELECT 1 FROM pg_stat_replication WHERE state = 'streaming'",
            )
        finally:
            conn.close()

    def stop(self):
        for cluster in (self.replica, self.primary):
            cluster.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


@contextmanager
def replication():
    """A primary and its streaming replica, both stopped and deleted at the
    end whatever happens."""
    pair = Replication()
    try:
        yield pair
    finally:
        pair.stop()


@contextmanager
def private_cluster():
    """A primary alone (a cluster of a check's own, which it may restart),
    stopped and deleted at the end whatever happens."""
    pair = Replication()
    try:
        pair.start_primary()
        yield pair.primary
    finally:
        pair.stop()
