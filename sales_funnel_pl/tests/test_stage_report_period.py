# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from freezegun import freeze_time
from lxml import etree

from odoo.tests import tagged
from odoo.tools.safe_eval import safe_eval

from .. import compat
from .common import SalesFunnelCommon, client_eval_context

ACTION = "sales_funnel_pl.sales_funnel_stage_report_action"


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestStageReportPeriod(SalesFunnelCommon):
    """ "Analiza etapów" opens on a year of entries (a million opportunities'
    history is not read to open it): the current month and the eleven
    before, from midnight of the 1st in the user's time zone. On 15 March
    2026 in Warsaw that is from 1 April 2025, 00:00 (CEST: 31 March, 22:00
    UTC)."""

    def setUp(self):
        super().setUp()
        # (entered in the test: the history dates its rows with the
        # transaction's time, which follows the frozen clock from setUp on)
        # 23:30 on 31 March in Warsaw: outside; 00:30 on 1 April: inside
        with freeze_time("2025-03-31 21:30:00"):
            self._create_opportunity("Przed", self.stage_meeting)
        with freeze_time("2025-03-31 22:30:00"):
            self._create_opportunity("W roku", self.stage_meeting)
        with freeze_time("2026-03-14 10:00:00"):
            self._create_opportunity("Świeża", self.stage_meeting)

    def _opening_domain(self, user):
        """The domain the web client of ``user`` sends when the screen opens:
        the action's default filters, evaluated as the client does."""
        action = self.env.ref(ACTION)
        search = etree.fromstring(
            self.env["sales.funnel.stage.report"]
            .with_user(user)
            .get_views([(action.search_view_id.id, "search")])["views"]["search"][
                "arch"
            ]
        )
        context = safe_eval(action.context)
        defaults = [
            key[len("search_default_") :]
            for key, value in context.items()
            if key.startswith("search_default_") and value
        ]
        self.assertEqual(sorted(defaults), ["current_funnel", "last_12_months"])
        today = date(2026, 3, 15)
        return compat.domain_and(
            [
                safe_eval(
                    search.xpath(f"//filter[@name='{name}']")[0].get("domain"),
                    client_eval_context(today, user.tz),
                )
                for name in defaults
            ]
        )

    def test_opens_on_the_last_twelve_months_in_the_user_s_days(self):
        user = self.user_salesman
        self.assertEqual(user.tz, "Europe/Warsaw")
        domain = self._opening_domain(user)
        self.assertIn(("date_enter", ">=", "2025-03-31 22:00:00"), domain)
        Report = self.env["sales.funnel.stage.report"].with_user(user)
        with freeze_time("2026-03-15 10:00:00"):
            rows = Report.search(domain + [("stage_id", "=", self.stage_meeting.id)])
        self.assertEqual(
            sorted(rows.mapped("lead_id.name")), sorted(["W roku", "Świeża"])
        )
        # everything is still there, one filter away
        rows = Report.search([("stage_id", "=", self.stage_meeting.id)])
        self.assertEqual(
            sorted(rows.mapped("lead_id.name")), sorted(["Przed", "W roku", "Świeża"])
        )
