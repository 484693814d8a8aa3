# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The project's own set-up (scripts/setup, scripts/_setup.sh) on this
machine, into temporary cache folders: from a local Odoo source tree, from a
pinned archive served on loopback, from a git repository standing in for
Odoo's public one, and PostgreSQL when none answers.

No test reaches outside the machine: the archive is served by a small HTTP
server on 127.0.0.1 and the repository by git daemon on 127.0.0.1, both made
from the local Odoo source tree; the tests only override their URLs.
"""

import hashlib
import http.server
import os
import pwd
import re
import shutil
import socket
import subprocess
import tarfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

import odoo.release

REPO = Path(__file__).resolve().parents[1]
SERIES = odoo.release.serie
# the Odoo tree the tests run on (19.0's `odoo` is a namespace package)
SOURCE = Path(odoo.release.__file__).resolve().parents[1]
SOURCE_VAR = f"ODOO_{SERIES.split('.')[0]}_SRC"
REF_VAR = f"SALES_FUNNEL_PL_ODOO_{SERIES.split('.')[0]}_REF"
# the files of an Odoo tree the set-up checks before it uses one
CHECKED_FILES = ("odoo/release.py", "addons/crm/__manifest__.py", "requirements.txt")


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


def _setup(*args, env, timeout=600, scripts=REPO / "scripts"):
    """scripts/setup ARGS, as a user runs it."""
    return subprocess.run(
        [scripts / "setup", *args],
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
    first = _setup(SERIES, env=env, timeout=1800)
    first_seconds = time.monotonic() - started
    started = time.monotonic()
    second = _setup(SERIES, env=env)
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
    assert "Fetching" not in second.stderr
    assert local_setup["second_seconds"] < 15, local_setup["second_seconds"]
    check = _setup("--check", env=local_setup["env"], timeout=60)
    assert f"ok       Odoo {SERIES} environment" in check.stdout, check.stdout


@contextmanager
def _http_server(directory):
    """DIRECTORY served over HTTP on loopback; yields its base URL."""
    handler = lambda *args: http.server.SimpleHTTPRequestHandler(  # noqa: E731
        *args, directory=str(directory)
    )
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


@pytest.fixture()
def archive_server(tmp_path):
    """A tarball of the local Odoo tree's core (odoo/, requirements.txt,
    crm's manifest), laid out as an official archive (one top folder), served
    on loopback."""
    served = tmp_path / "served"
    served.mkdir()
    archive = served / "odoo.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        for name in ("odoo", *CHECKED_FILES[1:]):
            tar.add(SOURCE / name, arcname=f"odoo-pinned/{name}")
    with _http_server(served) as base_url:
        yield {
            "url": f"{base_url}/odoo.tar.gz",
            "sha256": hashlib.sha256(archive.read_bytes()).hexdigest(),
        }


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


# --- Odoo's source fetched from its repository ------------------------------


def _git(*args, cwd=None):
    return subprocess.run(
        ["git", "-c", "user.name=Test", "-c", "user.email=test@example.com", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.strip()


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture()
def odoo_repository(tmp_path):
    """A git repository standing in for Odoo's public one, served by git
    daemon on loopback: the series' branch holds the files of the local
    Odoo tree the set-up checks, in a first commit (tagged `first`) and a
    second one on top (adding odoo/second.txt)."""
    base = tmp_path / "git"
    work = base / "work"
    for name in CHECKED_FILES:
        (work / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SOURCE / name, work / name)
    _git("init", "-q", "-b", SERIES, str(work))
    _git("add", "-A", cwd=work)
    _git("commit", "-q", "-m", "first", cwd=work)
    _git("tag", "first", cwd=work)
    first = _git("rev-parse", "HEAD", cwd=work)
    (work / "odoo" / "second.txt").write_text("second\n")
    _git("add", "-A", cwd=work)
    _git("commit", "-q", "-m", "second", cwd=work)
    second = _git("rev-parse", "HEAD", cwd=work)
    _git("clone", "-q", "--bare", str(work), str(base / "odoo.git"))
    port = _free_port()
    daemon = subprocess.Popen(
        [
            "git",
            "daemon",
            "--export-all",
            f"--base-path={base}",
            "--listen=127.0.0.1",
            f"--port={port}",
            "--reuseaddr",
            str(base),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while not _answers(port):
        assert daemon.poll() is None and time.monotonic() < deadline, "git daemon"
        time.sleep(0.1)

    def stop():
        daemon.terminate()
        daemon.wait(timeout=20)
        assert not _answers(port)

    yield {
        "url": f"git://127.0.0.1:{port}/odoo.git",
        "first": first,
        "second": second,
        "bare": base / "odoo.git",
        "stop": stop,
    }
    if daemon.poll() is None:
        stop()


def _source_only(env, scripts=REPO / "scripts"):
    """scripts/setup --source SERIES: Odoo's source only, no environment."""
    return _setup("--source", SERIES, env=env, scripts=scripts)


def test_fetch_takes_the_series_branch_records_its_commit_and_reuses_it_offline(
    tmp_path, odoo_repository
):
    home = tmp_path / "home"
    url = odoo_repository["url"]
    env = _env(home, SALES_FUNNEL_PL_ODOO_REPO_URL=url)
    first = _source_only(env)
    assert first.returncode == 0, first.stderr
    dest = home / "src" / f"odoo-{SERIES}"
    commit = odoo_repository["second"]
    assert first.stdout == f"{dest}\n"
    assert first.stderr.splitlines() == [
        f"Fetching Odoo {SERIES} (branch {SERIES}) from {url}: "
        "one commit, no history (about 200 MB) ...",
        f"Odoo {SERIES}: commit {commit}, from {url}, in {dest}",
    ]
    record = home / "src" / f"odoo-{SERIES}.source"
    assert record.read_text() == f"commit {commit}\nsource ref {SERIES}\nurl {url}\n"
    # the branch's head, its files as the repository has them, no git objects
    assert (dest / "odoo" / "second.txt").read_text() == "second\n"
    for name in CHECKED_FILES:
        assert (dest / name).read_bytes() == (SOURCE / name).read_bytes(), name
    assert not (dest / ".git").exists()
    assert sorted(p.name for p in (home / "src").iterdir()) == [
        f"odoo-{SERIES}",
        f"odoo-{SERIES}.source",
    ]

    # the repository gone, the recorded tree is used as it is
    odoo_repository["stop"]()
    again = _source_only(env)
    assert again.returncode == 0, again.stderr
    assert again.stdout == f"{dest}\n"
    assert again.stderr.splitlines() == [
        f"Odoo {SERIES}: commit {commit}, fetched earlier from {url} ({dest})"
    ]
    check = _setup("--check", env=env, timeout=120)
    assert (
        f"ok       Odoo {SERIES} source: commit {commit} from {url}, in {dest}"
        in check.stdout.splitlines()
    ), check.stdout


def test_ref_pins_a_commit_or_a_tag_and_a_new_ref_is_fetched_anew(
    tmp_path, odoo_repository
):
    home = tmp_path / "home"
    url = odoo_repository["url"]
    first, second = odoo_repository["first"], odoo_repository["second"]
    dest = home / "src" / f"odoo-{SERIES}"
    record = home / "src" / f"odoo-{SERIES}.source"
    # a commit that is not the branch's head (git fetch --depth 1 <sha>)
    env = _env(home, SALES_FUNNEL_PL_ODOO_REPO_URL=url, **{REF_VAR: first})
    pinned = _source_only(env)
    assert pinned.returncode == 0, pinned.stderr
    assert pinned.stderr.splitlines() == [
        f"Fetching Odoo {SERIES} ({REF_VAR}={first}) from {url}: "
        "one commit, no history (about 200 MB) ...",
        f"Odoo {SERIES}: commit {first}, from {url}, in {dest}",
    ]
    assert record.read_text() == f"commit {first}\nsource ref {first}\nurl {url}\n"
    assert (dest / "odoo" / "release.py").is_file()
    assert not (dest / "odoo" / "second.txt").exists()
    # the same commit by its tag: another ref, fetched again
    env[REF_VAR] = "first"
    tagged = _source_only(env)
    assert tagged.returncode == 0, tagged.stderr
    assert tagged.stderr.splitlines()[-1] == (
        f"Odoo {SERIES}: commit {first}, from {url}, in {dest}"
    )
    assert record.read_text() == f"commit {first}\nsource ref first\nurl {url}\n"
    # no ref any more: the branch again
    del env[REF_VAR]
    branch = _source_only(env)
    assert branch.returncode == 0, branch.stderr
    assert record.read_text() == f"commit {second}\nsource ref {SERIES}\nurl {url}\n"
    assert (dest / "odoo" / "second.txt").is_file()


def test_an_environment_on_a_fetched_tree_is_redone_when_the_ref_changes(
    tmp_path, odoo_repository
):
    """setup_series redoes an environment whose fetched tree is no longer
    what the set-up would fetch; the environment itself (minutes to build)
    is stood in for by its marker."""
    home = tmp_path / "home"
    env = _env(home, SALES_FUNNEL_PL_ODOO_REPO_URL=odoo_repository["url"])
    assert _source_only(env).returncode == 0
    marker = home / f"odoo-{SERIES}" / ".sales_funnel_pl-ready"
    marker.parent.mkdir()
    marker.write_text(f"{home / 'src' / f'odoo-{SERIES}'}\n0\n")
    changed = f"series_source_changed {SERIES} && echo changed || echo same"
    assert _bash(changed, env).stdout == "same\n"
    env[REF_VAR] = odoo_repository["first"]
    assert _bash(changed, env).stdout == "changed\n"
    # a tree named by ODOO_<n>_SRC is the user's: never replaced
    assert _bash(changed, {**env, SOURCE_VAR: str(SOURCE)}).stdout == "same\n"


def test_a_pin_in_odoo_sources_wins_over_the_repository_and_the_ref(
    tmp_path, odoo_repository
):
    """A copy of scripts/ whose odoo-sources pins an archive made by
    git archive (as GitHub's are) of the repository's first commit."""
    scripts = tmp_path / "repo" / "scripts"
    shutil.copytree(REPO / "scripts", scripts)
    served = tmp_path / "served"
    served.mkdir()
    archive = served / "odoo-first.tar.gz"
    first = odoo_repository["first"]
    _git(
        "archive",
        "--format=tar.gz",
        f"--prefix=odoo-{first}/",
        f"--output={archive}",
        first,
        cwd=odoo_repository["bare"],
    )
    sha256 = hashlib.sha256(archive.read_bytes()).hexdigest()
    home = tmp_path / "home"
    dest = home / "src" / f"odoo-{SERIES}"
    with _http_server(served) as base_url:
        pin_url = f"{base_url}/odoo-first.tar.gz"
        with (scripts / "odoo-sources").open("a") as pins:
            pins.write(f"{SERIES} {pin_url} {sha256}\n")
        env = _env(
            home,
            SALES_FUNNEL_PL_ODOO_REPO_URL=odoo_repository["url"],
            **{REF_VAR: odoo_repository["second"]},
        )
        result = _source_only(env, scripts)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{dest}\n"
    assert result.stderr.splitlines() == [
        f"note: scripts/odoo-sources pins Odoo {SERIES}: {REF_VAR} is not used",
        f"Downloading Odoo {SERIES} from {pin_url} ...",
        f"Unpacking Odoo {SERIES} ...",
        f"Odoo {SERIES}: commit {first}, from {pin_url}, in {dest}",
    ]
    assert (home / "src" / f"odoo-{SERIES}.source").read_text() == (
        f"commit {first}\nsource archive {pin_url} {sha256}\nurl {pin_url}\n"
    )
    assert not (dest / "odoo" / "second.txt").exists()
    assert (dest / "odoo" / "release.py").read_bytes() == (
        SOURCE / "odoo" / "release.py"
    ).read_bytes()


@pytest.mark.parametrize("ref", [None, "first"])
def test_unreachable_repository_and_nothing_cached_names_the_variable(tmp_path, ref):
    url = f"git://127.0.0.1:{_free_port()}/odoo.git"
    env = _env(tmp_path, SALES_FUNNEL_PL_ODOO_REPO_URL=url)
    if ref:
        env[REF_VAR] = ref
    result = _setup(SERIES, env=env, timeout=120)
    assert result.returncode == 2
    fetching, error = result.stderr.splitlines()
    assert fetching.startswith(f"Fetching Odoo {SERIES} ")
    if ref:
        what = f"at {REF_VAR}={ref}"
        cause = "no network, or no such commit or tag?"
        fix = f"check {REF_VAR}, or set {SOURCE_VAR}"
    else:
        what, cause, fix = f"(branch {SERIES})", "no network?", f"set {SOURCE_VAR}"
    expected = (
        re.escape(f"error: cannot fetch Odoo {SERIES} {what} from {url} ({cause} git: ")
        + r"[^()]*Connection refused"
        + re.escape(f"): {fix} to an Odoo {SERIES} source tree")
    )
    assert re.fullmatch(expected, error), error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]
    assert list((tmp_path / "src").iterdir()) == []
