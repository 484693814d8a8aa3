# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Run Odoo's command line and `odoo shell` against a throw-away database.

Shared by the checks in tests/; every call is a separate process, so no Odoo
registry is ever loaded into the pytest process.
"""

import ast
import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from lxml import etree

import odoo.release

REPO = Path(__file__).resolve().parents[1]
MARK = "@@RESULT@@"
MANIFEST = "sales_funnel_pl/__manifest__.py"

# the series of the Odoo running the checks: 18.0 or 19.0
SERIES = odoo.release.series
ODOO_19 = odoo.release.version_info[0] >= 19
# demo data: 18.0 loads it unless told --without-demo=all; 19.0 only when
# told --with-demo (its --without-demo takes a boolean)
WITH_DEMO = ["--with-demo"] if ODOO_19 else []
WITHOUT_DEMO = ["--without-demo"] if ODOO_19 else ["--without-demo=all"]
# res.users' groups: groups_id on 18.0, group_ids on 19.0
USER_GROUPS_FIELD = "group_ids" if ODOO_19 else "groups_id"


def addons_path(addons=REPO):
    """Odoo's addons path with `addons` (the repo: this addon) first."""
    # odoo/release.py locates the package: 19.0's odoo is a namespace package
    odoo_pkg = Path(odoo.release.__file__).parent
    paths = [addons]
    if (odoo_pkg.parent / "addons" / "crm").is_dir():
        paths.append(odoo_pkg.parent / "addons")
    paths.append(odoo_pkg / "addons")
    return ",".join(str(path) for path in paths)


def run(db, *args, command="server", stdin=None, addons=REPO, log=False):
    """Run `python3 -m odoo <command>` on `db`, with the addons of the folder
    `addons` (default: the repo); fail on a non-zero exit or an ERROR.
    Returns what it printed, or with `log` its log (the addon's own lines
    and Odoo's models' from INFO on)."""
    if log:
        args = (
            *args,
            "--log-handler=odoo.addons.sales_funnel_pl:INFO",
            "--log-handler=odoo.models:INFO",
        )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "odoo",
            command,
            f"--addons-path={addons_path(addons)}",
            "-d",
            db,
            "--log-level=warn",
            "--no-http",
            *args,
        ],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    errors = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert not errors, "\n".join(errors)
    return result.stderr if log else result.stdout


def shell(db, code, addons=REPO, args=()):
    """Run `code` in `odoo shell` on `db` (with Odoo's options `args`
    besides); it prints its result with `emit(value)`."""
    script = (
        "import json\n"
        f"def emit(value): print({MARK!r} + json.dumps(value))\n"
        f"{code}\n"
        "env.cr.commit()\n"
    )
    out = run(db, *args, command="shell", stdin=script, addons=addons)
    lines = [line for line in out.splitlines() if line.startswith(MARK)]
    assert len(lines) == 1, out[-3000:]
    return json.loads(lines[0][len(MARK) :])


def _git(*args, **kwargs):
    return subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, check=True, **kwargs
    ).stdout


def release_before(folder, version, previous):
    """Extract into `folder` the addon as the repository held it just before
    its version went to `version` (the oldest commit that wrote it into the
    manifest, whatever was merged after it), when its version was
    `previous`; the check fails when the repository's history does not
    hold it."""
    try:
        bump = _git(
            "log",
            "--format=%H",
            "--reverse",
            "-S",
            f'"version": "{version}"',
            "--",
            MANIFEST,
            text=True,
        ).split()[0]
        manifest = _git("show", f"{bump}^:{MANIFEST}", text=True)
    except (OSError, IndexError, subprocess.CalledProcessError):
        manifest = ""
    if f'"version": "{previous}"' not in manifest:
        pytest.fail(f"the repository's history does not hold version {previous}")
    archive = _git("archive", "--format=tar", f"{bump}^", "sales_funnel_pl")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    return folder


def upgrade_release(db, old_addons, before_code, after_code, install_args=()):
    """Install the addon of the folder `old_addons` on a new database `db`
    (with Odoo's options `install_args` besides), run `before_code` in its
    shell, upgrade the addon with this tree's code, then run the code
    `after_code(before)` gives for what `before_code` emitted; returns what
    both emitted, (before, after)."""
    subprocess.run(["dropdb", "--if-exists", db], check=True)
    run(
        db,
        "-i",
        "sales_funnel_pl",
        *WITHOUT_DEMO,
        *install_args,
        "--stop-after-init",
        addons=old_addons,
    )
    before = shell(db, before_code, addons=old_addons)
    run(db, "-u", "sales_funnel_pl", "--stop-after-init")
    return before, shell(db, after_code(before))


def upgraded(tmp_path_factory, db, version, previous, before_code, after_code, **kw):
    """A module fixture's body (``yield from``): the addon as it was at
    `previous` (:func:`release_before` of `version`) installed on `db`,
    upgraded to this tree's (:func:`upgrade_release`, keyword arguments
    passed on); yields (before, after), then drops `db`."""
    old_addons = release_before(
        tmp_path_factory.mktemp(f"sales_funnel_pl-{previous}"), version, previous
    )
    try:
        yield upgrade_release(db, old_addons, before_code, after_code, **kw)
    finally:
        subprocess.run(["dropdb", "--if-exists", db], check=True)


def manifest_version():
    """The addon's version, as this tree's manifest writes it (x.y.z)."""
    return ast.literal_eval((REPO / MANIFEST).read_text())["version"]


def rule_in_data_file(path, record_id):
    """[name, domain] of the record rule `record_id` as the addon's data file
    `path` (in sales_funnel_pl/) writes it: what a new install has."""
    record = etree.parse(REPO / "sales_funnel_pl" / path).find(
        f".//record[@id='{record_id}']"
    )
    return [
        record.find(f"field[@name='{name}']").text.strip()
        for name in ("name", "domain_force")
    ]
