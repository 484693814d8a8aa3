# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.modules.migration import load_script
from odoo.tests import TransactionCase, tagged

SCRIPT = "sales_funnel_pl/migrations/1.5.0/post-10-forecast-won-rule.py"
RULE = "sales_funnel_pl.sales_funnel_forecast_won_report_rule_salesman"
# the rule as 1.3.0 and 1.4.0 installed it
RULE_1_4 = {
    "name": "Forecast vs. won: own and unassigned",
    "domain_force": "['|', ('user_id', '=', user.id), ('user_id', '=', False)]",
}


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestMigration150(TransactionCase):
    """1.5.0's migration, run on this database: the salespeople's rule of
    "Prognoza a wykonanie" (``noupdate``) as 1.4.0 left it becomes the rule
    1.5.0 installs; a rule an administrator changed stays theirs."""

    def _migrate(self):
        load_script(SCRIPT, "sales_funnel_pl_migration_1_5_0").migrate(
            self.env.cr, "18.0.1.4.0"
        )

    def _rule(self, rule):
        return {name: rule[name] for name in ("name", "domain_force")}

    def test_forecast_won_rule_as_installed(self):
        rule = self.env.ref(RULE)
        installed = self._rule(rule)
        rule.write(RULE_1_4)
        self._migrate()
        self.assertEqual(self._rule(rule), installed)
        self.assertIn("team_id.member_ids", rule.domain_force)

    def test_forecast_won_rule_changed_by_an_admin_stays(self):
        rule = self.env.ref(RULE)
        custom = {"name": "Own only", "domain_force": "[('user_id', '=', user.id)]"}
        rule.write(custom)
        self._migrate()
        self.assertEqual(self._rule(rule), custom)
