# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from freezegun import freeze_time

from odoo.tests import tagged, users

from .. import compat
from .common import SalesFunnelCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestReportsIndexedReads(SalesFunnelCommon):
    """The reports read the open opportunities and the won sales through
    indexes, in parts (open; won with a process end; won without one), and
    still count every opportunity their rule counts: a sale won before the
    addon recorded process ends (won on crm's closing day) and an open
    opportunity without a stage."""

    def setUp(self):
        super().setUp()
        with freeze_time("2026-03-10 10:00:00"):
            self.won_before = self._create_opportunity(
                "Wygrana przed dodatkiem", self.stage_meeting, 7000
            )
            self.won_before.action_set_won()
            self.won_now = self._create_opportunity("Wygrana", self.stage_meeting, 3000)
            self.won_now.action_set_won()
            self.stageless = self._create_opportunity(
                "Bez etapu", self.stage_meeting, 5000
            )
            self.stageless.stage_id = False
        self.env.flush_all()
        # as an opportunity won before the install left it: no process end,
        # crm's closing date 20 February 2026 (in Warsaw)
        self.env.cr.execute(
            """UPDATE crm_lead SET date_process_end = NULL,
                      date_closed = '2026-02-20 09:00:00'
                WHERE id = %s""",
            [self.won_before.id],
        )
        self.env.invalidate_all()

    @users("sfp_manager")
    def test_forecast_counts_every_won_sale_in_its_month(self):
        Report = self.env["sales.funnel.forecast.report"].with_context(
            tz="Europe/Warsaw"
        )
        rows = Report.search([("kind", "=", "won"), ("lead_id", "in", self.leads.ids)])
        self.assertEqual(
            sorted((row.lead_id.name, str(row.date), row.won_revenue) for row in rows),
            [
                ("Wygrana", "2026-03-10", 3000),
                ("Wygrana przed dodatkiem", "2026-02-20", 7000),
            ],
        )
        # the won sales of a period: each in its own month
        groups = compat.grouped_read(
            Report,
            [("kind", "=", "won"), ("date", ">=", "2026-02-01")],
            ["date:month"],
            ["won_revenue:sum"],
        )
        self.assertEqual([group["won_revenue"] for group in groups], [7000, 3000])

    @users("sfp_manager")
    def test_forecast_won_counts_every_won_sale_in_its_month(self):
        Report = self.env["sales.funnel.forecast.won.report"].with_context(
            tz="Europe/Warsaw", sales_funnel_horizon=0
        )
        groups = compat.grouped_read(
            Report,
            [("kind", "=", "won"), ("date", ">=", date(2026, 2, 1))],
            ["date:month"],
            ["won_revenue:sum"],
        )
        self.assertEqual([group["won_revenue"] for group in groups], [7000, 3000])

    @users("sfp_manager")
    def test_velocity_counts_an_open_opportunity_without_a_stage(self):
        with freeze_time("2026-03-20 10:00:00"):
            row = self.env["sales.funnel.velocity.report"].search(
                [("user_id", "=", self.user_salesman.id)]
            )
            self.assertEqual(
                (row.open_count, row.won_count, row.won_value), (1, 1, 3000)
            )

    @property
    def leads(self):
        return self.won_before | self.won_now | self.stageless
