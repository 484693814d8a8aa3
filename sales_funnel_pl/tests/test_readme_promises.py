# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Promises of the README, each with a test that goes red when the one line
keeping it breaks (rights, record rules, report conditions, what a report
reads before it reads)."""

from datetime import date

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged, users

from .. import compat
from .common import SalesFunnelCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
@freeze_time("2026-03-10 10:00:00")
class TestSavedForecastPromises(SalesFunnelCommon):
    """Saved forecasts: "Lines are never changed afterwards (no write or
    delete right for anyone)"; "Salespeople who see their own documents
    only read their own (and unassigned) lines"."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # another salesperson of the team: John Smith
        cls._setup_real_company()
        with freeze_time("2026-03-02 09:00:00"):
            cls._create_opportunities(1, cls.stage_order, expected_revenue=1000)
            cls._create_opportunities(
                1,
                cls.stage_order,
                user=cls.user_manager,
                user_id=False,
                expected_revenue=2000,
            )
            cls._create_opportunities(
                1,
                cls.stage_order,
                user=cls.user_manager,
                user_id=cls.user_salesman_utc.id,
                expected_revenue=4000,
            )
            cls.env["sales.funnel.forecast.snapshot"]._take_snapshot(
                cls.company, date(2026, 3, 2)
            )

    def _lines(self):
        return self.env["sales.funnel.forecast.snapshot"].search(
            [("date_snapshot", "=", date(2026, 3, 2)), ("team_id", "=", self.team.id)]
        )

    @users("sfp_salesman")
    def test_salesperson_reads_own_and_unassigned_lines(self):
        self.assertEqual(
            sorted(
                (line.user_id.name or "", line.expected_revenue, line.prorated_revenue)
                for line in self._lines()
            ),
            [("", 2000.0, 1600.0), ("Jan Kowalski", 1000.0, 800.0)],
        )

    @users("sfp_manager")
    def test_manager_cannot_change_nor_delete_lines(self):
        lines = self._lines()
        self.assertEqual(len(lines), 3)
        with self.assertRaises(AccessError):
            lines.write({"prorated_revenue": 1})
        with self.assertRaises(AccessError):
            lines.unlink()
        with self.assertRaises(AccessError):
            self.env["sales.funnel.forecast.snapshot"].create(
                {
                    "date_snapshot": date(2026, 3, 3),
                    "stage_id": self.stage_order.id,
                    "company_id": self.company.id,
                    "currency_id": self.company.currency_id.id,
                }
            )
        self.assertEqual(
            sorted(lines.mapped("prorated_revenue")), [800.0, 1600.0, 3200.0]
        )


@tagged("post_install", "-at_install", "sales_funnel_pl")
@freeze_time("2026-03-10 10:00:00")
class TestForecastPromises(SalesFunnelCommon):
    """ "Prognoza sprzedaży": per expected closing month, overdue months
    flagged (an expected closing month already past)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("pl_PL")

    def _forecast(self, leads):
        Report = self.env["sales.funnel.forecast.report"]
        return Report.search_read(
            [("lead_id", "in", leads.ids)], ["date", "is_overdue"], order="date"
        )

    def _months(self, lead):
        """The month groups as a Polish user's pivot reads them."""
        groups = compat.grouped_read(
            self.env["sales.funnel.forecast.report"].with_context(lang="pl_PL"),
            [("lead_id", "=", lead.id)],
            ["date:month"],
            ["opportunity_count:sum"],
        )
        return [group["date:month"] for group in groups]

    @users("sfp_salesman")
    def test_overdue_is_a_past_month_not_a_past_day(self):
        leads = self.env["crm.lead"]
        for deadline in (date(2026, 2, 27), date(2026, 3, 5), date(2026, 3, 10)):
            leads |= self._create_opportunities(
                1, self.stage_meeting, date_deadline=deadline
            )
        self.assertEqual(
            [(row["date"], row["is_overdue"]) for row in self._forecast(leads)],
            [
                (date(2026, 2, 27), True),
                # earlier this month, but March is not over: not overdue
                (date(2026, 3, 5), False),
                (date(2026, 3, 10), False),
            ],
        )

    @users("sfp_salesman")
    def test_reads_a_pending_expected_closing_date(self):
        """A new expected closing date written in the same transaction (a
        server action, an import) is read by the forecast, without a flush
        by the caller: the report's ``_depends`` name it."""
        lead = self._create_opportunities(
            1, self.stage_meeting, date_deadline=date(2026, 4, 15)
        )
        self.env.flush_all()
        self.assertEqual(self._months(lead), ["kwietnia 2026"])
        lead.date_deadline = date(2026, 6, 20)
        self.assertEqual(self._months(lead), ["czerwca 2026"])


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestStageFormPromises(SalesFunnelCommon):
    """The stage form's "Apply probability to open opportunities": the
    opportunities of the stage; leads keep crm's own behaviour."""

    @users("sfp_manager")
    def test_apply_probability_leaves_leads(self):
        opportunity = self._create_opportunities(1, self.stage_meeting)
        lead = self._create_opportunities(
            1, self.stage_meeting, type="lead", name="Zapytanie ze strony"
        )
        # crm's scoring (or a person) gave the lead its own probability
        lead.probability = 37
        stage = self.env["crm.stage"].browse(self.stage_meeting.id)
        stage.probability = 4
        action = stage.action_apply_probability()
        self.assertEqual(
            action["params"]["message"],
            "Probability 4% applied to 1 open opportunities.",
        )
        self.assertEqual((opportunity.probability, lead.probability), (4, 37))
