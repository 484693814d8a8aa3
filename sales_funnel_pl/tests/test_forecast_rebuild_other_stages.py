# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from freezegun import freeze_time

from odoo.tests import tagged

from .common import SalesFunnelCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestForecastRebuildOtherStages(SalesFunnelCommon):
    """Past forecasts rebuilt from the stage history weigh an opportunity at
    the probability its history row recorded then, in a stage outside the
    funnel too (another team's own stage, whose % is the addon's 0), not at
    that stage's %."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_real_company()

    def test_rebuild_weighs_own_probability_outside_the_funnel(self):
        with freeze_time("2026-01-05 10:00:00"):
            lead = self._create_opportunities(
                1,
                self.other_stages[0],
                user=self.user_salesman_utc,
                name="S",
                user_id=self.user_salesman_utc.id,
                team_id=self.team_other.id,
                probability=60,
                date_deadline=date(2026, 4, 10),
            )
        self.assertEqual(self.other_stages[0].probability, 0)
        Snapshot = self.env["sales.funnel.forecast.snapshot"].sudo()
        with freeze_time("2026-03-15 10:00:00"):
            self.assertEqual(
                Snapshot._rebuild_from_history(self.company, "Europe/Warsaw"), 2
            )
        self.assertEqual(
            sorted(
                (
                    line.date_snapshot,
                    line.stage_id.name,
                    line.opportunity_count,
                    line.expected_revenue,
                    line.prorated_revenue,
                )
                for line in Snapshot.search([("team_id", "=", self.team_other.id)])
            ),
            [
                (date(2026, 2, 1), "Zgłoszenie", 1, 10000.0, 6000.0),
                (date(2026, 3, 1), "Zgłoszenie", 1, 10000.0, 6000.0),
            ],
        )
        self.assertEqual(lead.probability, 60)
