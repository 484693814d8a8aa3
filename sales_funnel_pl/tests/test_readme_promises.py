# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Promises of docs/reference.md (the README's rules until the docs split),
each with a test that goes red when the one line keeping it breaks (rights,
record rules, report conditions, what a report reads before it reads)."""

from datetime import date

from freezegun import freeze_time

from odoo.exceptions import AccessError, ValidationError
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


@tagged("post_install", "-at_install", "sales_funnel_pl")
@freeze_time("2026-03-10 10:00:00")
class TestSnapshotScopePromises(SalesFunnelCommon):
    """What a saved forecast holds: "open opportunities summed per expected
    closing month [...] the overdue ones, which count in the snapshot's own
    month and are flagged "Zaległe"" (a month already past, not a day);
    a scheduled action stores the forecast of every company."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_real_company()
        cls.team_west = cls.env["crm.team"].create(
            {"name": "Zespół Zachód", "member_ids": [(4, cls.user_salesman.id)]}
        )

    def _lines(self, team, day):
        Snapshot = self.env["sales.funnel.forecast.snapshot"]
        return sorted(
            (
                line.company_id.name,
                line.date_expected,
                line.is_overdue,
                line.opportunity_count,
                line.expected_revenue,
                line.prorated_revenue,
            )
            for line in Snapshot.search(
                [("date_snapshot", "=", day), ("team_id", "=", team.id)]
            )
        )

    @users("sfp_manager")
    def test_open_opportunities_only_overdue_by_month(self):
        order = self.stage_order
        values = {"team_id": self.team_west.id, "user": self.user_manager}
        self._create_opportunities(
            1, order, date_deadline=date(2026, 3, 5), expected_revenue=300, **values
        )
        self._create_opportunities(
            1, order, date_deadline=date(2026, 2, 27), expected_revenue=400, **values
        )
        lost = self._create_opportunities(
            1, order, date_deadline=date(2026, 4, 10), expected_revenue=200, **values
        )
        lost.action_set_lost()
        self._create_opportunities(
            1,
            order,
            type="lead",
            date_deadline=date(2026, 4, 10),
            expected_revenue=100,
            **values,
        )
        # the manager's button in the middle of March
        self.env["sales.funnel.forecast.snapshot"].action_take_snapshot()
        company = self.company.name
        self.assertEqual(
            self._lines(self.team_west, date(2026, 3, 10)),
            [
                # 5 March: this month, not overdue; 27 February: overdue
                (company, date(2026, 3, 1), False, 1, 300.0, 240.0),
                (company, date(2026, 3, 1), True, 1, 400.0, 320.0),
            ],
        )

    def test_scheduled_action_saves_every_company(self):
        self._create_opportunities(
            1,
            self.stage_order,
            user=self.user_salesman_b,
            user_id=self.user_salesman_b.id,
            team_id=self.team_b.id,
            company_id=self.company_b.id,
            date_deadline=date(2026, 4, 10),
            expected_revenue=1000,
        )
        with freeze_time("2026-04-01 05:00:00"):
            # as the scheduled action runs: its user works in one company
            self.env["sales.funnel.forecast.snapshot"].sudo().with_context(
                allowed_company_ids=[self.company.id]
            )._cron_take_snapshot()
        self.assertEqual(
            self._lines(self.team_b.sudo(), date(2026, 4, 1)),
            [("Stalprofil Sever", date(2026, 4, 1), False, 1, 1000.0, 800.0)],
        )


@tagged("post_install", "-at_install", "sales_funnel_pl")
@freeze_time("2026-03-10 10:00:00")
class TestReportScopePromises(SalesFunnelCommon):
    """The reports count opportunities (leads keep crm's own behaviour) and
    read as docs/reference.md says: "Sales targets [...] what the team's target
    exceeds them by shows as the team's own line" (never below 0)."""

    @users("sfp_salesman")
    def test_forecast_counts_opportunities_not_leads(self):
        opportunity = self._create_opportunities(
            1, self.stage_meeting, date_deadline=date(2026, 4, 15)
        )
        lead = self._create_opportunities(
            1, self.stage_meeting, type="lead", date_deadline=date(2026, 4, 15)
        )
        Report = self.env["sales.funnel.forecast.report"]
        self.assertEqual(
            Report.search([("lead_id", "in", (opportunity | lead).ids)]).lead_id,
            opportunity,
        )

    @users("sfp_salesman")
    def test_won_opportunity_is_never_overdue(self):
        """A won opportunity whose expected closing month is past counts in
        its closing month, as won: no overdue expected date."""
        won = self._create_opportunities(
            1, self.stage_order, date_deadline=date(2026, 2, 10)
        )
        won.action_set_won()
        self.assertEqual(
            self.env["sales.funnel.forecast.report"].search_read(
                [("lead_id", "=", won.id)], ["date", "kind", "is_overdue"]
            ),
            [
                {
                    "id": won.id,
                    "date": date(2026, 3, 10),
                    "kind": "won",
                    "is_overdue": False,
                }
            ],
        )

    @users("sfp_salesman")
    def test_velocity_counts_opportunities_not_leads(self):
        self._create_opportunities(1, self.stage_meeting)
        self._create_opportunities(1, self.stage_meeting, type="lead")
        rows = self.env["sales.funnel.velocity.report"].search(
            [("user_id", "=", self.user_salesman.id)]
        )
        self.assertEqual(rows.mapped("open_count"), [1])

    @users("sfp_salesman")
    def test_sale_won_the_day_it_started_took_a_day(self):
        won = self._create_opportunities(1, self.stage_order, expected_revenue=5000)
        won.action_set_won()
        self._create_opportunities(1, self.stage_meeting)
        row = self.env["sales.funnel.velocity.report"].search(
            [("user_id", "=", self.user_salesman.id)]
        )
        # 1 open × 5,000 × 100% ÷ 1 day
        self.assertEqual(
            (row.open_count, row.won_count, row.cycle_days, row.velocity),
            (1, 1, 1.0, 5000.0),
        )

    @users("sfp_manager")
    def test_team_own_target_never_below_zero(self):
        """The salespeople's targets exceed the team's: the team's own line
        is 0, not negative."""
        self.env["sales.funnel.target"].create(
            [
                {"date": date(2026, 3, 1), "team_id": self.team.id, "amount": 10000},
                {
                    "date": date(2026, 3, 1),
                    "team_id": self.team.id,
                    "user_id": self.user_salesman.id,
                    "amount": 15000,
                },
            ]
        )
        groups = compat.grouped_read(
            self.env["sales.funnel.forecast.won.report"],
            [("team_id", "=", self.team.id), ("kind", "=", "target")],
            ["user_id"],
            ["target_amount:sum"],
        )
        self.assertEqual(
            sorted(
                (group["user_id"] and group["user_id"][1] or "", group["target_amount"])
                for group in groups
            ),
            [("", 0.0), ("Jan Kowalski", 15000.0)],
        )


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestRecordRulePromises(SalesFunnelCommon):
    """ "Salespeople read the history of the opportunities they can read"
    (their own and the unassigned ones); a manager reads the targets of the
    companies they work in."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_real_company()

    @users("sfp_salesman")
    def test_salesperson_reads_history_of_own_and_unassigned(self):
        mine = self._create_opportunities(1, self.stage_new)
        unassigned = self._create_opportunities(
            1, self.stage_new, user=self.user_manager, user_id=False
        )
        theirs = self._create_opportunities(
            1,
            self.stage_new,
            user=self.user_manager,
            user_id=self.user_salesman_utc.id,
        )
        History = self.env["crm.lead.stage.history"]
        self.assertEqual(
            History.search(
                [("lead_id", "in", (mine | unassigned | theirs).ids)]
            ).lead_id,
            mine | unassigned,
        )

    @users("sfp_manager")
    def test_manager_reads_targets_of_the_companies_worked_in(self):
        Target = self.env["sales.funnel.target"].sudo()
        ours = Target.create(
            {"date": date(2026, 3, 1), "team_id": self.team.id, "amount": 1000}
        )
        Target.create(
            {
                "date": date(2026, 3, 1),
                "team_id": self.team_b.id,
                "company_id": self.company_b.id,
                "amount": 2000,
            }
        )
        targets = (
            self.env["sales.funnel.target"]
            .with_context(allowed_company_ids=[self.company.id])
            .search([("date", "=", date(2026, 3, 1))])
        )
        self.assertEqual(targets, ours)


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestBoardPromises(SalesFunnelCommon):
    """The funnel board: "open opportunities with an overdue next action"
    (one due today is not overdue yet, in the user's day); a period's
    cohort includes its last day."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team_west = cls.env["crm.team"].create(
            {"name": "Zespół Zachód", "member_ids": [(4, cls.user_salesman.id)]}
        )

    def _board(self, reading, **kwargs):
        return self.env["sales.funnel.board"].get_board_data(
            reading, team_id=self.team_west.id, **kwargs
        )

    @users("sfp_salesman")
    def test_overdue_next_action_is_due_before_today(self):
        # 00:30 on 11 March in Warsaw, still 10 March in UTC
        with freeze_time("2026-03-10 23:30:00"):
            leads = self._create_opportunities(
                2, self.stage_meeting, team_id=self.team_west.id
            )
            for lead, day in zip(
                leads, (date(2026, 3, 10), date(2026, 3, 11)), strict=False
            ):
                lead.activity_schedule(
                    "mail.mail_activity_data_todo",
                    date_deadline=day,
                    user_id=self.user_salesman.id,
                )
            overdue = self._board("now", period="month")["headline"]["overdue"]
        self.assertEqual(overdue["count"], 1)
        self.assertEqual(self.env["crm.lead"].search(overdue["domain"]), leads[0])

    @users("sfp_salesman")
    def test_cohort_includes_the_period_last_day(self):
        with freeze_time("2026-03-10 10:00:00"):
            self._create_opportunities(1, self.stage_new, team_id=self.team_west.id)
        with freeze_time("2026-03-12 10:00:00"):
            data = self._board(
                "cohort", period="custom", date_from="2026-03-01", date_to="2026-03-10"
            )
        self.assertEqual(
            [
                band["count"]
                for band in data["bands"]
                if band["stage_id"] == self.stage_new.id
            ],
            [1],
        )


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestTargetCopyPromises(SalesFunnelCommon):
    """ "Kopiuj na kolejne miesiące" copies the targets "to the next 1–24
    months"."""

    @users("sfp_manager")
    def test_copy_to_no_month_refused(self):
        target = self.env["sales.funnel.target"].create(
            {"date": date(2026, 3, 1), "team_id": self.team.id, "amount": 1000}
        )
        Copy = self.env["sales.funnel.target.copy"]
        with self.assertRaises(ValidationError) as error:
            Copy.create({"target_ids": target.ids, "months": 0})
        self.assertEqual(str(error.exception), "Copy the targets to 1 to 24 months.")
        self.assertEqual(
            self.env["sales.funnel.target"].search([("team_id", "=", self.team.id)]),
            target,
        )
