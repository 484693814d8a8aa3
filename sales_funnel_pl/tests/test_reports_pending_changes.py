# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from freezegun import freeze_time

from odoo.tests import tagged, users

from .. import compat
from .common import SalesFunnelCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
@freeze_time("2026-03-10 10:00:00")
class TestReportsReadPendingChanges(SalesFunnelCommon):
    """A report read in the transaction that changed an opportunity (a
    server action, a scheduled action, a script) reads the change: what each
    report's statement reads is written to the database first (its
    ``_depends``), with no flush by the caller."""

    def setUp(self):
        super().setUp()
        self.open_lead = self._create_opportunities(
            1, self.stage_meeting, date_deadline=date(2026, 4, 15)
        )
        self.won_lead = self._create_opportunities(1, self.stage_new)
        self.won_lead.action_set_won()
        self.env.flush_all()

    def _sums(self, model, measures, domain=()):
        [group] = compat.grouped_read(self.env[model], list(domain), [], measures)
        return [group[spec.split(":")[0]] for spec in measures]

    @users("sfp_salesman")
    def test_forecast(self):
        measures = ["expected_revenue:sum", "won_revenue:sum"]
        domain = [("kind", "!=", "target")]
        self.assertEqual(
            self._sums("sales.funnel.forecast.report", measures, domain), [10000, 10000]
        )
        self.open_lead.expected_revenue = 12000
        self.won_lead.expected_revenue = 30000
        self.assertEqual(
            self._sums("sales.funnel.forecast.report", measures, domain), [12000, 30000]
        )

    @users("sfp_salesman")
    def test_forecast_vs_won(self):
        measures = ["won_count:sum", "won_revenue:sum"]
        self.assertEqual(
            self._sums("sales.funnel.forecast.won.report", measures), [1, 10000]
        )
        self.won_lead.expected_revenue = 30000
        self.assertEqual(
            self._sums("sales.funnel.forecast.won.report", measures), [1, 30000]
        )

    @users("sfp_salesman")
    def test_velocity(self):
        measures = ["open_count:sum", "won_value:sum"]
        self.assertEqual(
            self._sums("sales.funnel.velocity.report", measures), [1, 10000]
        )
        self.won_lead.expected_revenue = 30000
        self.open_lead.user_id = False
        self.assertEqual(
            self._sums("sales.funnel.velocity.report", measures), [0, 30000]
        )

    @users("sfp_manager")
    def test_stage_analysis(self):
        measures = ["days_to_win:avg"]
        domain = [("lead_id", "=", self.won_lead.id)]
        self.assertEqual(self._sums("sales.funnel.stage.report", measures, domain), [0])
        self.won_lead.date_process_start = date(2026, 3, 1)
        self.assertEqual(self._sums("sales.funnel.stage.report", measures, domain), [9])
