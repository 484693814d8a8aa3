# shellcheck shell=bash
# Set-up functions shared by scripts/setup, scripts/demo and scripts/test
# (sourced, not run). Everything lands in one cache folder outside the repo:
#   $CACHE_HOME/odoo-<series>/   a Python virtual environment per Odoo series
#   $CACHE_HOME/src/odoo-<series>/  Odoo's source when it was fetched, and
#   $CACHE_HOME/src/odoo-<series>.source  its commit and where it came from
#   $CACHE_HOME/postgresql/      a private PostgreSQL cluster, when no server answers
CACHE_HOME="${SALES_FUNNEL_PL_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/sales_funnel_pl}"
SETUP_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="${REPO_ROOT:-$(cd "$SETUP_DIR/.." && pwd)}"

say() { printf '%s\n' "$*" >&2; }

series_source_var() {  # 18.0 -> ODOO_18_SRC
    printf 'ODOO_%s_SRC' "${1%%.*}"
}

series_python() { printf '%s/odoo-%s/bin/python' "$CACHE_HOME" "$1"; }

# The checksum of requirements-test.txt, kept in the marker: when the file
# changes, the environment gets its test requirements again (pip adds what
# is new) without Odoo's source.
requirements_sum() { sha256sum "$REPO_ROOT/requirements-test.txt" | cut -d' ' -f1; }

# The environment's Python imports Odoo of that series.
series_has_odoo() {
    local python
    python="$(series_python "$1")"
    [ -x "$python" ] && "$python" -c \
        'import sys, odoo.release; sys.exit(odoo.release.serie != sys.argv[1])' "$1" >/dev/null 2>&1
}

# Write the marker: Odoo's tree (odoo/release.py locates it: 19.0's `odoo`
# is a namespace package), then the checksum of requirements-test.txt.
series_mark() {
    {
        "$(series_python "$1")" -c 'import os, odoo.release as r; print(os.path.dirname(os.path.dirname(r.__file__)))'
        requirements_sum
    } >"$CACHE_HOME/odoo-$1/.sales_funnel_pl-ready"
}

# The environment of a series is ready: Odoo of that series, the test
# dependencies and the lint tools import, installed from the current
# requirements-test.txt. The marker (written once this was checked) keeps
# later runs fast.
series_ready() {
    local python marker
    python="$(series_python "$1")"
    marker="$CACHE_HOME/odoo-$1/.sales_funnel_pl-ready"
    [ -x "$python" ] || return 1
    [ -f "$marker" ] && [ "$(sed -n 2p "$marker")" = "$(requirements_sum)" ] || return 1
    [ -f "$(head -n1 "$marker")/odoo/release.py" ] && return 0
    "$python" - "$1" >/dev/null 2>&1 <<'PY' || return 1
import sys
import odoo.release
import pytest, pytest_odoo, websocket, freezegun, polib  # noqa: F401
import pre_commit, pre_commit_hooks, ruff, pylint_odoo, oca_pre_commit_hooks  # noqa: F401
sys.exit(odoo.release.serie != sys.argv[1])
PY
    series_mark "$1"
}

# The pinned official source of a series: "<url> <sha256>" from
# scripts/odoo-sources (one line per series), or nothing.
series_pin() {
    awk -v series="$1" '$1 == series && $2 != "" && $3 != "" {print $2, $3}' \
        "$SETUP_DIR/odoo-sources" 2>/dev/null
}

# --- Odoo's source ------------------------------------------------------
# In order: the tree named by ODOO_<n>_SRC; else the official archive pinned
# in scripts/odoo-sources; else Odoo's public repository (a shallow fetch of
# the series' branch, or of SALES_FUNNEL_PL_ODOO_<n>_REF: a commit or a tag).
# What was fetched is kept in $CACHE_HOME/src/odoo-<series>/, its commit and
# origin in $CACHE_HOME/src/odoo-<series>.source, and reused without network
# as long as the set-up would fetch the same thing.

odoo_repo_url() { printf '%s\n' "${SALES_FUNNEL_PL_ODOO_REPO_URL:-https://github.com/odoo/odoo}"; }

series_ref_var() {  # 18.0 -> SALES_FUNNEL_PL_ODOO_18_REF
    printf 'SALES_FUNNEL_PL_ODOO_%s_REF' "${1%%.*}"
}

fetched_dir() { printf '%s/src/odoo-%s\n' "$CACHE_HOME" "$1"; }
fetched_record() { printf '%s/src/odoo-%s.source\n' "$CACHE_HOME" "$1"; }

# A field of the record of what was fetched: commit, source or url.
fetched_field() {
    sed -n "s/^$2 //p" "$(fetched_record "$1")" 2>/dev/null
}

# What the set-up fetches for a series when no ODOO_<n>_SRC is set, as the
# record keeps it: "archive <url> <sha256>" (the pin) or "ref <ref>".
series_wanted() {
    local ref_var pin url sha
    pin="$(series_pin "$1")"
    if [ -n "$pin" ]; then
        read -r url sha <<<"$pin"
        printf 'archive %s %s\n' "${SALES_FUNNEL_PL_ODOO_URL:-$url}" "${SALES_FUNNEL_PL_ODOO_SHA256:-$sha}"
        return 0
    fi
    ref_var="$(series_ref_var "$1")"
    printf 'ref %s\n' "${!ref_var:-$1}"
}

# Where the set-up fetches a series from: the pinned archive or the repository.
series_origin() {
    local kind url
    read -r kind url _ <<<"$(series_wanted "$1")"
    if [ "$kind" = archive ]; then
        printf '%s\n' "$url"
    else
        odoo_repo_url
    fi
}

# The series of an Odoo source tree (its odoo/release.py), or nothing.
odoo_tree_series() {
    python3 - "$1/odoo/release.py" 2>/dev/null <<'PY'
import sys
release = {}
with open(sys.argv[1]) as file:
    exec(file.read(), release)
print(release.get("serie", ""))
PY
}

# Fail, saying so, when DIR is not an Odoo source tree of SERIES.
check_odoo_tree() {  # DIR SERIES WHAT
    local found
    if [ ! -f "$1/odoo/release.py" ] || [ ! -d "$1/addons/crm" ]; then
        say "error: $3 is not an Odoo $2 source tree (no odoo/release.py or addons/crm)"
        return 2
    fi
    found="$(odoo_tree_series "$1")"
    if [ "$found" != "$2" ]; then
        say "error: $3 is Odoo ${found:-of an unknown series}, not Odoo $2"
        return 2
    fi
}

# Download the pinned archive (checksum checked) and unpack it into DIR;
# print the commit it was made from (git archive's header, as GitHub's
# archives have it), or "unknown".
fetch_archive() {  # SERIES URL SHA256 DIR LOG
    local series=$1 url=$2 sha=$3 dir=$4 log=$5 archive var commit said
    var="$(series_source_var "$series")"
    archive="$dir.tar.gz"
    say "Downloading Odoo $series from $url ..."
    if ! curl -fsSL --connect-timeout 15 -o "$archive" "$url" 2>"$log"; then
        said="$(grep -v "^[[:space:]]*$" "$log" | tail -n1)"
        rm -f "$archive" "$log"
        say "error: cannot download Odoo $series from $url (no network? $said): set $var to an Odoo $series source tree"
        return 2
    fi
    rm -f "$log"
    if [ "$(sha256sum "$archive" | cut -d' ' -f1)" != "$sha" ]; then
        rm -f "$archive"
        say "error: the Odoo $series archive from $url does not have the pinned checksum $sha"
        return 2
    fi
    commit="$(gzip -dc "$archive" 2>/dev/null | git get-tar-commit-id 2>/dev/null || true)"
    say "Unpacking Odoo $series ..."
    mkdir -p "$dir"
    tar -xzf "$archive" -C "$dir" --strip-components=1
    rm -f "$archive"
    printf '%s\n' "${commit:-unknown}"
}

# Fetch REF (a branch, a tag or a commit) of Odoo's repository at URL, only
# that commit's files (git fetch --depth 1), into DIR; print its commit.
fetch_git() {  # SERIES URL REF DIR LOG
    local series=$1 url=$2 ref=$3 dir=$4 log=$5 var ref_var how said
    var="$(series_source_var "$series")"
    ref_var="$(series_ref_var "$series")"
    if [ -n "${!ref_var:-}" ]; then
        how="$ref_var=$ref"
    else
        how="branch $ref"
    fi
    say "Fetching Odoo $series ($how) from $url: one commit, no history (about 200 MB) ..."
    if ! command -v git >/dev/null 2>&1; then
        say "error: git is missing, needed to fetch Odoo $series (apt-get install git), or set $var to an Odoo $series source tree"
        return 2
    fi
    if ! {
        git init -q "$dir" &&
            GIT_TERMINAL_PROMPT=0 git -C "$dir" -c http.lowSpeedLimit=1000 -c http.lowSpeedTime=60 \
                fetch --depth 1 --no-tags "$url" "$ref" &&
            git -C "$dir" -c advice.detachedHead=false checkout -q FETCH_HEAD
    } >"$log" 2>&1; then
        said="$(grep -v "^[[:space:]]*$" "$log" | tail -n1)"
        rm -f "$log"
        if [ -n "${!ref_var:-}" ]; then
            say "error: cannot fetch Odoo $series at $how from $url (no network, or no such commit or tag? git: $said): check $ref_var, or set $var to an Odoo $series source tree"
        else
            say "error: cannot fetch Odoo $series ($how) from $url (no network? git: $said): set $var to an Odoo $series source tree"
        fi
        return 2
    fi
    git -C "$dir" rev-parse HEAD
    # the commit is recorded; its git objects would double the tree's size
    rm -rf "$dir/.git"
}

# Print the Odoo source tree of a series, fetching it when needed.
series_source() {
    local series=$1 var src dest record wanted kind url sha ref ref_var commit log
    var="$(series_source_var "$series")"
    src="${!var:-}"
    if [ -n "$src" ]; then
        check_odoo_tree "$src" "$series" "$var=$src" || return 2
        (cd "$src" && pwd)
        return 0
    fi
    dest="$(fetched_dir "$series")"
    record="$(fetched_record "$series")"
    wanted="$(series_wanted "$series")"
    read -r kind url sha <<<"$wanted"
    ref_var="$(series_ref_var "$series")"
    if [ "$kind" = archive ] && [ -n "${!ref_var:-}" ]; then
        say "note: scripts/odoo-sources pins Odoo $series: $ref_var is not used"
    fi
    if [ -f "$dest/odoo/release.py" ]; then
        if [ ! -f "$record" ]; then
            # an earlier set-up's download, from before the record was kept
            printf '%s\n' "$dest"
            return 0
        fi
        if [ "$(fetched_field "$series" source)" = "$wanted" ]; then
            say "Odoo $series: commit $(fetched_field "$series" commit), fetched earlier from $(fetched_field "$series" url) ($dest)"
            printf '%s\n' "$dest"
            return 0
        fi
    fi
    mkdir -p "$CACHE_HOME/src"
    rm -rf "$dest.part"
    log="$CACHE_HOME/src/odoo-$series.fetch.log"
    if [ "$kind" = archive ]; then
        commit="$(fetch_archive "$series" "$url" "$sha" "$dest.part" "$log")" || { rm -rf "$dest.part"; return 2; }
    else
        ref="$url"
        url="$(odoo_repo_url)"
        commit="$(fetch_git "$series" "$url" "$ref" "$dest.part" "$log")" || { rm -rf "$dest.part"; return 2; }
    fi
    rm -f "$log"
    check_odoo_tree "$dest.part" "$series" "the source fetched from $url" || { rm -rf "$dest.part"; return 2; }
    rm -rf "$dest" "$record"
    mv "$dest.part" "$dest"
    printf 'commit %s\nsource %s\nurl %s\n' "$commit" "$wanted" "$url" >"$record"
    say "Odoo $series: commit $commit, from $url, in $dest"
    printf '%s\n' "$dest"
}

# The environment runs on a fetched tree that is no longer what the set-up
# would fetch (SALES_FUNNEL_PL_ODOO_<n>_REF or the pin changed since).
series_source_changed() {
    local series=$1 var marker
    var="$(series_source_var "$series")"
    marker="$CACHE_HOME/odoo-$series/.sales_funnel_pl-ready"
    [ -z "${!var:-}" ] && [ -f "$(fetched_record "$series")" ] && [ -f "$marker" ] || return 1
    [ "$(realpath -m "$(head -n1 "$marker")")" = "$(realpath -m "$(fetched_dir "$series")")" ] || return 1
    [ "$(fetched_field "$series" source)" != "$(series_wanted "$series")" ]
}

# Create the virtual environment of a series (once).
setup_series() {
    local series=$1 src venv python constraints requirements changed=0
    series_source_changed "$series" && changed=1
    if [ "$changed" = 0 ] && series_ready "$series"; then
        return 0
    fi
    venv="$CACHE_HOME/odoo-$series"
    python="$(series_python "$series")"
    if [ "$changed" = 0 ] && series_has_odoo "$series"; then
        # Odoo is there: requirements-test.txt changed (or was never installed)
        say "Installing requirements-test.txt into the Odoo $series environment ..."
        "$python" -m pip install --disable-pip-version-check --progress-bar on \
            -r "$REPO_ROOT/requirements-test.txt" >"$venv/pip-test.log" 2>&1 || {
            say "error: installing requirements-test.txt failed (log: $venv/pip-test.log)"
            tail -n 15 "$venv/pip-test.log" >&2
            return 2
        }
        series_mark "$series"
        series_ready "$series" && return 0
    fi
    src="$(series_source "$series")" || return 2
    say "Creating the Odoo $series environment in $venv (Odoo's requirements: a few minutes the first time) ..."
    mkdir -p "$CACHE_HOME"
    [ -x "$python" ] || python3 -m venv "$venv"
    constraints="$venv/constraints.txt"
    requirements="$venv/requirements-odoo.txt"
    # Python 3.11 here: cbor2 5.4.2 does not build, 5.4.6 does; sdists build
    # with setuptools<70; python-ldap (LDAP login) is optional.
    echo "setuptools<70" >"$constraints"
    sed -e 's/^cbor2==5\.4\.2\b.*/cbor2==5.4.6/' -e '/^python-ldap/d' \
        "$src/requirements.txt" >"$requirements"
    PIP_CONSTRAINT="$constraints" "$python" -m pip install --disable-pip-version-check \
        --progress-bar on -r "$requirements" -r "$REPO_ROOT/requirements-test.txt" \
        phonenumbers >"$venv/pip.log" 2>&1 || {
        say "error: installing Odoo $series's requirements failed (log: $venv/pip.log)"
        tail -n 15 "$venv/pip.log" >&2
        return 2
    }
    # Odoo runs from its source tree: make it importable as `odoo`
    printf '%s\n' "$src" >"$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/odoo-src.pth"
    series_has_odoo "$series" && series_mark "$series"
    if ! series_ready "$series"; then
        say "error: the Odoo $series environment does not import odoo $series (log: $venv/pip.log)"
        return 2
    fi
    say "Odoo $series environment ready."
}

# --- Node tools (prettier and its XML plugin, for pre-commit) -----------

# The versions OCA's 18.0 pre-commit template pins.
NODE_TOOLS=(prettier@3.3.3 @prettier/plugin-xml@3.4.1)

node_tools_dir() { printf '%s/node\n' "$CACHE_HOME"; }

# Every pinned package is installed at its version.
node_tools_ready() {
    local spec name version dir
    dir="$(node_tools_dir)/node_modules"
    for spec in "${NODE_TOOLS[@]}"; do
        name="${spec%@*}" version="${spec##*@}"
        grep -q "\"version\": \"$version\"" "$dir/$name/package.json" 2>/dev/null || return 1
    done
}

# Install prettier and its XML plugin into the cache folder (once).
setup_node_tools() {
    node_tools_ready && return 0
    if ! command -v npm >/dev/null 2>&1; then
        say "error: npm is missing, needed for prettier (apt-get install nodejs npm)"
        return 2
    fi
    say "Installing ${NODE_TOOLS[*]} into $(node_tools_dir) ..."
    mkdir -p "$(node_tools_dir)"
    npm install --prefix "$(node_tools_dir)" --no-save --no-audit --no-fund --prefer-offline \
        --loglevel=error "${NODE_TOOLS[@]}" >&2 || {
        say "error: npm could not install ${NODE_TOOLS[*]}"
        return 2
    }
}

# --- PostgreSQL ---------------------------------------------------------

pg_answers() { pg_isready -q >/dev/null 2>&1 && psql -d postgres -Atc 'SELECT 1' >/dev/null 2>&1; }

pg_bindir() {
    local dir
    # SALES_FUNNEL_PL_PG_SEARCH: where to look instead (a glob), for tests
    for dir in $(ls -d ${SALES_FUNNEL_PL_PG_SEARCH:-/usr/lib/postgresql/*/bin} 2>/dev/null | sort -rV) ; do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            printf '%s\n' "$dir"
            return 0
        fi
    done
    [ -z "${SALES_FUNNEL_PL_PG_SEARCH:-}" ] && command -v initdb >/dev/null 2>&1 \
        && command -v pg_ctl >/dev/null 2>&1 && dirname "$(command -v initdb)"
}

# The private cluster lives in the cache folder; run as root, initdb refuses,
# so the cluster runs as the unprivileged `postgres` system user, who must
# reach its folder: root's cache is under /root (closed), hence /var/lib.
pg_private_dir() {
    if [ "$(id -u)" -eq 0 ]; then
        printf '%s\n' "${SALES_FUNNEL_PL_PG_DIR:-/var/lib/sales_funnel_pl/postgresql}"
    else
        printf '%s\n' "${SALES_FUNNEL_PL_PG_DIR:-$CACHE_HOME/postgresql}"
    fi
}

pg_as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Use the server that answers; else start (creating it once) the private
# cluster and export PGHOST/PGPORT for psql and Odoo. Sets PG_STARTED_HERE=1
# when this call started the cluster.
ensure_postgres() {
    PG_STARTED_HERE=0
    if pg_answers; then
        return 0
    fi
    local dir bindir port
    dir="$(pg_private_dir)"
    if [ -f "$dir/port" ]; then
        export PGHOST="$dir/run" PGPORT="$(cat "$dir/port")"
        pg_answers && return 0
    fi
    bindir="$(pg_bindir)" || {
        say "error: no PostgreSQL answers and its server programs are missing: install PostgreSQL (e.g. apt-get install postgresql)"
        return 2
    }
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        say "error: running as root, the private PostgreSQL cluster needs the unprivileged 'postgres' user (created by Debian's postgresql packages)"
        return 2
    fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        say "No PostgreSQL answers: creating a private cluster in $dir ..."
        mkdir -p "$dir/run"
        [ "$(id -u)" -eq 0 ] && chown -R postgres: "$dir"
        port="$(free_port)"
        pg_as_owner "$bindir/initdb" -D "$dir/data" -A trust -U postgres >"$dir/initdb.log" 2>&1 || {
            say "error: initdb failed (log: $dir/initdb.log)"
            return 2
        }
        printf '%s\n' "$port" >"$dir/port"
    fi
    export PGHOST="$dir/run" PGPORT="$(cat "$dir/port")"
    say "Starting the private PostgreSQL cluster ($dir, port $PGPORT) ..."
    pg_as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
        -o "-p $PGPORT -k $dir/run -c listen_addresses=''" start >/dev/null || {
        say "error: the private PostgreSQL cluster did not start (log: $dir/server.log)"
        return 2
    }
    PG_STARTED_HERE=1
    # a database role for the current user
    if ! psql -U postgres -d postgres -Atc "SELECT 1 FROM pg_roles WHERE rolname = '$(id -un)'" | grep -q 1; then
        psql -q -U postgres -d postgres -c "CREATE ROLE \"$(id -un)\" SUPERUSER LOGIN" >/dev/null
    fi
    psql -U postgres -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$(id -un)'" | grep -q 1 \
        || psql -q -U postgres -d postgres -c "CREATE DATABASE \"$(id -un)\" OWNER \"$(id -un)\"" >/dev/null
}

stop_private_postgres() {
    local dir bindir
    dir="$(pg_private_dir)"
    bindir="$(pg_bindir)" || return 0
    [ -f "$dir/data/postmaster.pid" ] || return 0
    say "Stopping the private PostgreSQL cluster ..."
    pg_as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
}

chromium_binary() {
    command -v chromium || command -v chromium-browser || command -v google-chrome || true
}
