# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""1.5.0: "Prognoza a wykonanie" shows a salesperson the targets of their
own teams only (it showed every team's own target line). Its rule for
salespeople is a ``noupdate`` record, which an upgrade leaves as it is: this
script gives it the name and domain 1.5.0 installs, unless an administrator
changed it since 1.3.0 wrote it. Both are written here as 1.5.0 has them,
not read from the data file, which later versions may change."""

from odoo import SUPERUSER_ID, api

RULE = "sales_funnel_pl.sales_funnel_forecast_won_report_rule_salesman"
# the rule's domain as 1.3.0 and 1.4.0 wrote it
BEFORE = "['|', ('user_id', '=', user.id), ('user_id', '=', False)]"
# forecast and won rows: own and unassigned; target rows: the targets' own
# rule (own, and the own teams' own), as the forecast's rule has them
AFTER = {
    "name": "Forecast vs. won: own and unassigned, own and own teams' targets",
    "domain_force": "['|', '&', ('kind', '!=', 'target'), '|', "
    "('user_id', '=', user.id), ('user_id', '=', False), "
    "'&', ('kind', '=', 'target'), '|', ('user_id', '=', user.id), "
    "'&', ('user_id', '=', False), ('team_id.member_ids', 'in', [user.id])]",
}


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    rule = env.ref(RULE, raise_if_not_found=False)
    if rule and (rule.domain_force or "").strip() == BEFORE:
        rule.write(AFTER)
