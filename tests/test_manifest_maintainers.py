# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The manifest's ``maintainers`` names real people or nobody: Odoo's Apps
page and the addon's README (scripts/addon-readme) show each entry as the
GitHub account of a person who maintains the addon. An entry counts as real
when the contributors' list (readme/CONTRIBUTORS.md) names that person with
the same GitHub account; the project knows of none today, so the manifest
has no entry and the README no "Maintainers" section."""

import ast
import re
from pathlib import Path

ADDON = Path(__file__).resolve().parents[1] / "sales_funnel_pl"
# a GitHub login: letters, digits and single hyphens inside, 39 at most
LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")


def _manifest():
    return ast.literal_eval((ADDON / "__manifest__.py").read_text(encoding="utf-8"))


def _contributor_accounts():
    """The GitHub accounts readme/CONTRIBUTORS.md links its people to."""
    text = (ADDON / "readme" / "CONTRIBUTORS.md").read_text(encoding="utf-8")
    return set(re.findall(r"https://github\.com/([A-Za-z0-9-]+)(?![\w/-])", text))


def test_maintainers_are_contributors_with_their_github_account():
    manifest = _manifest()
    maintainers = manifest.get("maintainers", [])
    assert isinstance(maintainers, list)
    assert "maintainers" not in manifest or maintainers, "an empty entry"
    assert all(LOGIN.match(login) for login in maintainers), maintainers
    # the project's GitHub organisation, named in the website, is no person
    assert not [
        login
        for login in maintainers
        if f"github.com/{login}/" in manifest.get("website", "")
    ]
    assert set(maintainers) <= _contributor_accounts(), maintainers


def test_readme_shows_the_manifests_maintainers_only():
    readme = (ADDON / "README.md").read_text(encoding="utf-8")
    shown = re.findall(r"^- \[([^\]]+)\]\(https://github\.com/\1\)$", readme, re.M)
    assert shown == _manifest().get("maintainers", [])
    assert ("### Maintainers" in readme) == bool(shown)
