# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The upgrade from 1.4.0 to this version, for real: the addon as the
repository held it before the version went to 1.5.0 (``git archive``) is
installed on a throw-away database, then Odoo upgrades it with this tree's
code.

1.5.0 lets a salesperson read in "Prognoza a wykonanie" the targets of their
own teams only: its rule for salespeople is a ``noupdate`` record, which the
migration rewrites (unless an administrator changed it)."""

import ast
import os

import pytest
from odoo_cli import (
    MANIFEST,
    REPO,
    rule_in_data_file,
    upgraded,
)

DB = os.environ.get("SALES_FUNNEL_PL_UPGRADE_1_4_DB", "sales_funnel_pl_upgrade_1_4")
RULE = "sales_funnel_forecast_won_report_rule_salesman"

READ = """
rule = env.ref("sales_funnel_pl.{rule}")
emit({{"rule": [rule.name, rule.domain_force],
      "version": env["ir.module.module"].search(
          [("name", "=", "sales_funnel_pl")]).latest_version}})
"""


@pytest.fixture(scope="module")
def upgrade(tmp_path_factory):
    yield from upgraded(
        tmp_path_factory,
        DB,
        "1.5.0",
        "1.4.0",
        READ.format(rule=RULE),
        lambda before: READ.format(rule=RULE),
    )


def test_forecast_won_rule_shows_own_teams_targets_only(upgrade):
    """The rule 1.4.0 installed (every team's own target line) becomes the
    data file's: as a new install has it."""
    before, after = upgrade
    assert before["version"].endswith(".1.4.0")
    manifest = ast.literal_eval((REPO / MANIFEST).read_text())
    assert after["version"].endswith("." + manifest["version"])
    assert before["rule"] == [
        "Forecast vs. won: own and unassigned",
        "['|', ('user_id', '=', user.id), ('user_id', '=', False)]",
    ]
    assert after["rule"] == rule_in_data_file(
        "security/sales_funnel_forecast_security.xml", RULE
    )
