# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from freezegun import freeze_time

from odoo.tests import tagged, users

from .. import compat
from .common import SalesFunnelCommon

MEASURES = [
    "entered_count:sum",
    "opportunity_count:sum",
    "won_count:sum",
    "conversion:avg",
    "days_to_win:avg",
]


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestStageReportOpportunities(SalesFunnelCommon):
    """ "Analiza etapów" counts opportunities where its ratios mean them: A
    enters "Spotkanie" three times and is won (twice: reopened after its
    first win), B enters it once and is lost. Entries stay entries; the
    opportunities, the won ones and the conversion count A once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        meeting, analysis = cls.stage_meeting, cls.stages[4]
        with freeze_time("2026-03-02 09:00:00"):
            cls.lead_a = cls._create_opportunities(1, cls.stage_new, name="A")
            cls.lead_b = cls._create_opportunities(1, cls.stage_new, name="B")
        leads = cls.lead_a | cls.lead_b
        for day, lead, stage in (
            ("03", leads, meeting),
            ("04", cls.lead_a, analysis),
            ("05", cls.lead_a, meeting),
            ("06", cls.lead_a, analysis),
            ("09", cls.lead_a, meeting),
        ):
            with freeze_time(f"2026-03-{day} 09:00:00"):
                lead.write({"stage_id": stage.id})
        with freeze_time("2026-03-10 09:00:00"):
            cls.lead_b.action_set_lost()
        with freeze_time("2026-03-12 09:00:00"):
            cls.lead_a.action_set_won()
        # reopened, then won again: the win that stands took 18 days
        with freeze_time("2026-03-13 09:00:00"):
            cls.lead_a.write({"stage_id": cls.stage_order.id})
        with freeze_time("2026-03-20 09:00:00"):
            cls.lead_a.action_set_won()
        cls.leads = leads

    def _report(self, groupby):
        groups = compat.grouped_read(
            self.env["sales.funnel.stage.report"],
            [("lead_id", "in", self.leads.ids)],
            [groupby],
            MEASURES,
        )
        return {
            group[groupby][1]: tuple(group[spec.split(":")[0]] for spec in MEASURES)
            for group in groups
        }

    @users("sfp_salesman")
    def test_stage_ratios_count_opportunities(self):
        report = self._report("stage_id")
        # entries, opportunities, won, conversion %, days to win
        self.assertEqual(report["Meeting"], (4, 2, 1, 50.0, False))
        self.assertEqual(report["Opportunity Analysis"], (2, 1, 1, 100.0, False))
        self.assertEqual(report["New Prospect"], (2, 2, 1, 50.0, False))
        self.assertEqual(report["Payment Received"], (2, 1, 1, 100.0, 18.0))
        # a stage only skipped: no opportunity entered it, no conversion
        self.assertEqual(report["First Contact"], (0, 0, 0, False, False))

    @users("sfp_salesman")
    def test_total_counts_each_opportunity_once(self):
        """Over every stage (the pivot's total): A and B, one of them won,
        whatever the number of their entries (9 and 2)."""
        self.assertEqual(
            self._report("team_id"), {"Zespół Testowy": (11, 2, 1, 50.0, 18.0)}
        )
