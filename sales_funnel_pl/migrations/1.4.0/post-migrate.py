# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""1.4.0: how far each opportunity got (``crm.lead.stage_reached_id``), the
funnel board's cohort reading, is filled from the stage history (see
hooks.py).

The forecast shows the sales targets on rows of their own, without an
opportunity: its rule for salespeople (a ``noupdate`` record, which an
upgrade leaves as it is) now lets them read their own targets and their
teams' own. The rule takes its name and domain from the data file, unless an
administrator changed it since 1.2.0 and 1.3.0 wrote it."""

from lxml import etree

from odoo import SUPERUSER_ID, api
from odoo.tools.misc import file_path

# how far each opportunity got, as 1.4.0 computed it (frozen here)
FILL_STAGE_REACHED = """
WITH reached AS (
    SELECT DISTINCT ON (h.lead_id) h.lead_id, h.stage_id
      FROM crm_lead_stage_history h
      JOIN crm_stage s ON s.id = h.stage_id AND s.active
     ORDER BY h.lead_id, s.sequence DESC, s.id DESC
)
UPDATE crm_lead l SET stage_reached_id = r.stage_id
  FROM reached r
 WHERE r.lead_id = l.id AND l.stage_reached_id IS DISTINCT FROM r.stage_id
"""

FORECAST_RULE = "sales_funnel_forecast_report_rule_salesman"
FORECAST_RULE_FILE = "sales_funnel_pl/security/crm_lead_stage_history_security.xml"
# the rule's domain as 1.2.0 and 1.3.0 wrote it
FORECAST_RULE_BEFORE = (
    "['|', ('lead_id.user_id', '=', user.id), ('lead_id.user_id', '=', False)]"
)


def _update_forecast_rule(env):
    rule = env.ref(f"sales_funnel_pl.{FORECAST_RULE}", raise_if_not_found=False)
    if not rule or rule.domain_force != FORECAST_RULE_BEFORE:
        return
    record = etree.parse(file_path(FORECAST_RULE_FILE)).find(
        f".//record[@id='{FORECAST_RULE}']"
    )
    rule.write(
        {
            name: record.find(f"field[@name='{name}']").text.strip()
            for name in ("name", "domain_force")
        }
    )


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    env.cr.execute(FILL_STAGE_REACHED)
    _update_forecast_rule(env)
