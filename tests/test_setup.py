# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The project's own set-up (scripts/setup, scripts/_setup.sh) on this
machine, into temporary cache folders: from a local Odoo source tree, from a
pinned archive served on loopback, and PostgreSQL when none answers.

No test reaches outside the machine: the archive is served by a small HTTP
server on 127.0.0.1, made from the local Odoo source tree.
"""

import hashlib
import http.server
import os
import pwd
import shutil
import subprocess
import tarfile
import threading
import time
from pathlib import Path

import pytest

import odoo.release

REPO = Path(__file__).resolve().parents[1]
SERIES = odoo.release.serie
# the Odoo tree the tests run on (19.0's `odoo` is a namespace package)
SOURCE = Path(odoo.release.__file__).resolve().parents[1]
SOURCE_VAR = f"ODOO_{SERIES.split('.')[0]}_SRC"


def _env(home, **extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ODOO_", "SALES_FUNNEL_PL_", "PG"))
    }
    env.update(SALES_FUNNEL_PL_HOME=str(home), **extra)
    return env


def _bash(code, env, timeout=1200):
    return subprocess.run(
        ["bash", "-c", f"set -euo pipefail; source {REPO}/scripts/_setup.sh; {code}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def local_setup(tmp_path_factory):
    """scripts/setup from the local source tree into an empty cache folder."""
    home = tmp_path_factory.mktemp("sfp-home")
    env = _env(home, **{SOURCE_VAR: str(SOURCE)})
    started = time.monotonic()
    first = subprocess.run(
        [REPO / "scripts" / "setup", SERIES],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    first_seconds = time.monotonic() - started
    started = time.monotonic()
    second = subprocess.run(
        [REPO / "scripts" / "setup", SERIES],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    second_seconds = time.monotonic() - started
    yield {
        "home": home,
        "env": env,
        "first": first,
        "second": second,
        "first_seconds": first_seconds,
        "second_seconds": second_seconds,
    }
    shutil.rmtree(home, ignore_errors=True)


def test_setup_from_a_local_source_tree_imports_odoo_of_the_series(local_setup):
    first = local_setup["first"]
    assert first.returncode == 0, first.stderr[-3000:]
    assert f"Creating the Odoo {SERIES} environment" in first.stderr
    python = local_setup["home"] / f"odoo-{SERIES}" / "bin" / "python"
    result = subprocess.run(
        [
            python,
            "-c",
            "import odoo.release, websocket, pytest_odoo; "
            "print(odoo.release.serie, odoo.release.__file__)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    serie, path = result.stdout.split()
    assert serie == SERIES
    assert Path(path).resolve() == SOURCE / "odoo" / "release.py"


def test_second_setup_changes_nothing_and_takes_seconds(local_setup):
    second = local_setup["second"]
    assert second.returncode == 0, second.stderr[-3000:]
    assert "Creating" not in second.stderr and "Downloading" not in second.stderr
    assert local_setup["second_seconds"] < 15, local_setup["second_seconds"]
    check = subprocess.run(
        [REPO / "scripts" / "setup", "--check"],
        env=local_setup["env"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert f"ok       Odoo {SERIES} environment" in check.stdout, check.stdout


def test_missing_source_says_which_variable_to_set(tmp_path):
    result = subprocess.run(
        [REPO / "scripts" / "setup", SERIES],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"error: no Odoo {SERIES} source: "
        f"set {SOURCE_VAR} to an Odoo {SERIES} source tree"
    ]
    assert not (tmp_path / f"odoo-{SERIES}").exists()


@pytest.fixture()
def archive_server(tmp_path):
    """A tarball of the local Odoo tree's core (odoo/, requirements.txt),
    laid out as an official archive (one top folder), served on loopback."""
    served = tmp_path / "served"
    served.mkdir()
    archive = served / "odoo.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        tar.add(SOURCE / "odoo", arcname="odoo-pinned/odoo")
        tar.add(SOURCE / "requirements.txt", arcname="odoo-pinned/requirements.txt")
    handler = lambda *args: http.server.SimpleHTTPRequestHandler(  # noqa: E731
        *args, directory=str(served)
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {
        "url": f"http://127.0.0.1:{server.server_port}/odoo.tar.gz",
        "sha256": hashlib.sha256(archive.read_bytes()).hexdigest(),
    }
    server.shutdown()


def test_download_checks_the_checksum_and_unpacks(tmp_path, archive_server):
    home = tmp_path / "home"
    env = _env(
        home,
        SALES_FUNNEL_PL_ODOO_URL=archive_server["url"],
        SALES_FUNNEL_PL_ODOO_SHA256="0" * 64,
    )
    # a pin is needed; the test's pin points at the loopback server
    pins = (
        "series_pin() { "
        'echo "$SALES_FUNNEL_PL_ODOO_URL $SALES_FUNNEL_PL_ODOO_SHA256"; }; '
    )
    bad = _bash(pins + f"series_source {SERIES}", env)
    assert bad.returncode != 0
    assert f"does not have the pinned checksum {'0' * 64}" in bad.stderr
    assert not (home / "src" / f"odoo-{SERIES}").exists()
    env["SALES_FUNNEL_PL_ODOO_SHA256"] = archive_server["sha256"]
    good = _bash(pins + f"series_source {SERIES}", env)
    assert good.returncode == 0, good.stderr
    dest = home / "src" / f"odoo-{SERIES}"
    assert good.stdout.strip() == str(dest)
    assert f"Downloading Odoo {SERIES} from {archive_server['url']}" in good.stderr
    release = {}
    exec((dest / "odoo" / "release.py").read_text(), release)  # noqa: S102
    assert release["serie"] == SERIES
    # a second call reuses the unpacked tree
    again = _bash(pins + f"series_source {SERIES}", env)
    assert again.stdout.strip() == str(dest) and "Downloading" not in again.stderr


def test_missing_postgresql_says_what_to_install(tmp_path):
    env = _env(
        tmp_path,
        PGHOST=str(tmp_path / "no-server"),
        PGPORT="1",
        SALES_FUNNEL_PL_PG_DIR=str(tmp_path / "pg"),
        SALES_FUNNEL_PL_PG_SEARCH=str(tmp_path / "no-programs"),
    )
    result = _bash("ensure_postgres", env)
    assert result.returncode != 0
    assert result.stderr.strip() == (
        "error: no PostgreSQL answers and its server programs are missing: "
        "install PostgreSQL (e.g. apt-get install postgresql)"
    )


def test_private_cluster_starts_on_a_free_port_and_stops(tmp_path):
    pg_dir = Path("/tmp") / f"sfp-test-pg-{os.getpid()}"
    env = _env(
        tmp_path,
        PGHOST=str(tmp_path / "no-server"),
        PGPORT="1",
        SALES_FUNNEL_PL_PG_DIR=str(pg_dir),
    )
    try:
        result = _bash(
            'ensure_postgres; echo "$PGHOST $PGPORT $PG_STARTED_HERE"; '
            "createdb sfp_private_check; "
            "psql -d sfp_private_check -Atc 'SELECT current_user'; "
            "dropdb sfp_private_check; stop_private_postgres",
            env,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr
        host, port, started, user = result.stdout.split()
        assert host == str(pg_dir / "run") and started == "1"
        assert int(port) == int((pg_dir / "port").read_text())
        assert user == pwd.getpwuid(os.getuid()).pw_name
        assert "creating a private cluster" in result.stderr
        assert not (pg_dir / "data" / "postmaster.pid").exists()
        if os.getuid() == 0:
            # initdb refuses root: the cluster belongs to the postgres user
            assert (pg_dir / "data").stat().st_uid == pwd.getpwnam("postgres").pw_uid
    finally:
        _bash("stop_private_postgres", env)
        shutil.rmtree(pg_dir, ignore_errors=True)
