from datetime import date

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged, users

from .. import compat
from .common import SalesFunnelCommon

# 23:30 on 31 March 2026 in Warsaw (CEST), the last hour of the month there
MONTH_END = "2026-03-31 21:30:00"
# 00:30 on 1 April 2026 in Warsaw, still 31 March in UTC
NEXT_MONTH = "2026-03-31 22:30:00"


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestSalesFunnelBoard(SalesFunnelCommon):
    """The funnel board's data on a constructed funnel (March 2026, Warsaw):

    team A (``cls.team``), its opportunities started in March:
      L1 Jan 10 000: New Prospect → Need Information → Meeting (skips First
         Contact), lost there;
      L2 Jan 20 000: New Prospect → Order (skips 2 to 13) → won;
      L3 Jan 30 000: created in Meeting; L4 Jan 5 000: New Prospect;
      L5 Anna 40 000: Need Information → Project Development;
      L9 Anna 1 000: "Old stage" (archived since) → Meeting;
    and, outside the March cohort, L0 Jan 7 000 (February, Project
    Development) and L8 Jan 3 000 (created at 00:30 on 1 April in Warsaw).
    Team B, with a stage of its own ("Technical audit", after Meeting):
      L6 Anna 8 000: New Prospect → Technical audit → Opportunity Analysis.
    A second company (another currency, 1 = 0.25): L7 Anna 1 000, no team.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Stage = cls.env["crm.stage"]
        # the test database may hold other stages: keep the funnel's 17 only
        Stage.search([("id", "not in", cls.stages.ids)]).active = False
        cls.team_b = cls.env["crm.team"].create(
            {
                "name": "Zespół Południe",
                "member_ids": [(4, cls.user_manager.id)],
            }
        )
        cls.stage_audit = Stage.create(
            {
                "name": "Technical audit",
                "sequence": 4,
                "probability": 4,
                **compat.stage_team_values(cls.team_b),
            }
        )
        cls.stage_old = Stage.create(
            {"name": "Old stage", "sequence": 3, "probability": 2}
        )
        currency = cls.env.ref(
            "base.EUR" if cls.company.currency_id.name != "EUR" else "base.USD"
        )
        currency.active = True
        cls.env["res.currency.rate"].create(
            {
                "currency_id": currency.id,
                "company_id": False,
                "name": "2026-01-01",
                "rate": 0.25,
            }
        )
        cls.company_2 = cls.env["res.company"].create(
            {
                "name": "Stalprofil GmbH",
                "currency_id": currency.id,
            }
        )
        cls.user_manager.company_ids |= cls.company_2
        s = cls.stages
        jan, anna = cls.user_salesman.id, cls.user_manager.id

        def create(name, stage, revenue, user_id, **values):
            return cls._create_opportunities(
                1,
                stage,
                user=cls.user_manager,
                name=name,
                expected_revenue=revenue,
                user_id=user_id,
                **values,
            )

        with freeze_time("2026-02-20 09:00:00"):
            cls.l0 = create("L0", s[5], 7000, jan)
        with freeze_time("2026-03-02 09:00:00"):
            cls.l1 = create("L1", s[0], 10000, jan)
            cls.l2 = create("L2", s[0], 20000, jan)
            cls.l3 = create("L3", s[3], 30000, jan)
            cls.l4 = create("L4", s[0], 5000, jan)
            cls.l5 = create("L5", s[1], 40000, anna)
            cls.l6 = create("L6", s[0], 8000, anna, team_id=cls.team_b.id)
            cls.l7 = create(
                "L7", s[0], 1000, anna, team_id=False, company_id=cls.company_2.id
            )
            cls.l9 = create("L9", cls.stage_old, 1000, anna)
        with freeze_time("2026-03-05 09:00:00"):
            cls.l1.stage_id = s[1]
            cls.l2.stage_id = s[13]
            cls.l5.stage_id = s[5]
            cls.l6.stage_id = cls.stage_audit
            cls.l9.stage_id = s[3]
        with freeze_time("2026-03-10 09:00:00"):
            cls.l1.stage_id = s[3]
            cls.l6.stage_id = s[4]
            cls.l2.action_set_won()
        with freeze_time("2026-03-12 09:00:00"):
            cls.l1.action_set_lost()
            cls.l4.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=date(2026, 3, 20),
                user_id=jan,
            )
            cls.l3.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=date(2026, 4, 15),
                user_id=jan,
            )
        with freeze_time(NEXT_MONTH):
            cls.l8 = create("L8", s[0], 3000, jan)
        cls.stage_old.active = False
        # March targets: team A 100 000 in all, 30 000 of it Jan's; April's
        # is outside the month
        cls.env["sales.funnel.target"].create(
            [
                {"date": "2026-03-01", "team_id": cls.team.id, "amount": 100000},
                {
                    "date": "2026-03-01",
                    "team_id": cls.team.id,
                    "user_id": jan,
                    "amount": 30000,
                },
                {
                    "date": "2026-04-01",
                    "team_id": cls.team.id,
                    "user_id": jan,
                    "amount": 99999,
                },
            ]
        )

    def _board(self, reading, **kwargs):
        Board = self.env["sales.funnel.board"].with_context(tz="Europe/Warsaw")
        return Board.get_board_data(reading, **kwargs)

    def _bands(self, data):
        """(stage, count, expected, weighted, conversion) per band."""
        return [
            (
                band["stage_id"],
                band["count"],
                band["expected_revenue"],
                band["prorated_revenue"],
                band["conversion"],
            )
            for band in data["bands"]
        ]

    def _check_domains(self, data):
        """Each band's and figure's domain lists exactly what it counts."""
        Lead = self.env["crm.lead"]
        for band in data["bands"]:
            self.assertEqual(
                Lead.search_count(band["domain"]), band["count"], band["name"]
            )
        for key in ("open", "won", "overdue", "no_action", "stuck"):
            figure = data["headline"][key]
            self.assertEqual(Lead.search_count(figure["domain"]), figure["count"], key)
        win_rate = data["headline"]["win_rate"]
        self.assertEqual(
            Lead.search_count(win_rate["domain"]), win_rate["won"] + win_rate["lost"]
        )

    @users("sfp_manager")
    def test_cohort_reading(self):
        s = self.stages
        with freeze_time(MONTH_END):
            data = self._board("cohort", period="month", team_id=self.team.id)
        self.assertEqual(
            (data["date_from"], data["date_to"]), ("2026-03-01", "2026-03-31")
        )
        # L1..L5, L9: reached New Prospect; L4 went no further; the skipped
        # stages count as passed; Old stage (archived) in its place, entered by L9
        expected = [
            (s[0].id, 6, 106000.0, 24930.0, False),
            (s[1].id, 5, 101000.0, 24930.0, 83.3),
            (s[2].id, 5, 101000.0, 24930.0, 100.0),
            (self.stage_old.id, 1, 1000.0, 30.0, False),
            (s[3].id, 5, 101000.0, 24930.0, 100.0),
            (s[4].id, 2, 60000.0, 24000.0, 40.0),
            (s[5].id, 2, 60000.0, 24000.0, 100.0),
            (s[6].id, 1, 20000.0, 20000.0, 50.0),
        ] + [(stage.id, 1, 20000.0, 20000.0, 100.0) for stage in s[7:]]
        self.assertEqual(self._bands(data), expected)
        self.assertEqual(data["bands"][0]["name"], "New Prospect")
        self.assertTrue(data["bands"][3]["archived"])
        self._check_domains(data)

    @users("sfp_manager")
    def test_stage_archived_before_the_read(self):
        """A stage archived in the same transaction: the board reads how far
        each got without it. L5 got to Project Development, which goes: it
        counts as far as Need Information, and Project Development shows as
        an archived stage L5 entered."""
        s = self.stages
        s[5].active = False
        with freeze_time(MONTH_END):
            data = self._board("cohort", period="month", team_id=self.team.id)
        expected = [
            (s[0].id, 6, 106000.0, 24930.0, False),
            (s[1].id, 5, 101000.0, 24930.0, 83.3),
            (s[2].id, 4, 61000.0, 20930.0, 80.0),
            (self.stage_old.id, 1, 1000.0, 30.0, False),
            (s[3].id, 4, 61000.0, 20930.0, 100.0),
            (s[4].id, 1, 20000.0, 20000.0, 25.0),
            (s[5].id, 1, 40000.0, 4000.0, False),
            (s[6].id, 1, 20000.0, 20000.0, 100.0),
        ] + [(stage.id, 1, 20000.0, 20000.0, 100.0) for stage in s[7:]]
        self.assertEqual(self._bands(data), expected)
        self.assertTrue(data["bands"][6]["archived"])
        self._check_domains(data)

    @users("sfp_manager")
    def test_cohort_team_stages(self):
        """Team B's funnel holds its own stage, after Meeting; team A's not."""
        s = self.stages
        with freeze_time(MONTH_END):
            data = self._board("cohort", period="month", team_id=self.team_b.id)
        self.assertEqual(
            self._bands(data)[:7],
            [
                (s[0].id, 1, 8000.0, 400.0, False),
                (s[1].id, 1, 8000.0, 400.0, 100.0),
                (s[2].id, 1, 8000.0, 400.0, 100.0),
                (s[3].id, 1, 8000.0, 400.0, 100.0),
                (self.stage_audit.id, 1, 8000.0, 400.0, 100.0),
                (s[4].id, 1, 8000.0, 400.0, 100.0),
                (s[5].id, 0, 0.0, 0.0, 0.0),
            ],
        )
        # empty stages stay, as zeros, without a conversion from an empty band
        self.assertEqual(len(data["bands"]), 18)
        self.assertEqual(self._bands(data)[7], (s[6].id, 0, 0.0, 0.0, False))
        self._check_domains(data)

    @users("sfp_manager")
    def test_cohort_every_team(self):
        """Anna's opportunities of every team and company: team B's own stage
        counts team B's opportunities only, and is measured against the band
        before it; the next stage of every team against Meeting."""
        s = self.stages
        with freeze_time(MONTH_END):
            data = self._board("cohort", period="month", user_id=self.user_manager.id)
        # L5 (team A), L6 (team B), L7 (no team, second company: 1 000 = 4 000), L9
        self.assertEqual(
            self._bands(data)[:8],
            [
                (s[0].id, 4, 53000.0, 4430.0, False),
                (s[1].id, 3, 49000.0, 4430.0, 75.0),
                (s[2].id, 3, 49000.0, 4430.0, 100.0),
                (self.stage_old.id, 1, 1000.0, 30.0, False),
                (s[3].id, 3, 49000.0, 4430.0, 100.0),
                (self.stage_audit.id, 1, 8000.0, 400.0, 33.3),
                (s[4].id, 2, 48000.0, 4400.0, 66.7),
                (s[5].id, 1, 40000.0, 4000.0, 50.0),
            ],
        )
        self._check_domains(data)

    @users("sfp_manager")
    def test_cohort_every_team_two_stages_of_a_team(self):
        """On every team's funnel a team's own stage after another of its
        own is measured against that one, not against the band of every
        team before them: team B's "Technical review", after its "Technical
        audit", passed by L6 on its way to Opportunity Analysis."""
        s = self.stages
        review = (
            self.env["crm.stage"]
            .sudo()
            .create(
                {
                    "name": "Technical review",
                    "sequence": self.stage_audit.sequence,
                    "probability": 4,
                    **compat.stage_team_values(self.team_b),
                }
            )
        )
        with freeze_time(MONTH_END):
            data = self._board("cohort", period="month", user_id=self.user_manager.id)
        self.assertEqual(
            self._bands(data)[4:8],
            [
                (s[3].id, 3, 49000.0, 4430.0, 100.0),
                (self.stage_audit.id, 1, 8000.0, 400.0, 33.3),
                (review.id, 1, 8000.0, 400.0, 100.0),
                (s[4].id, 2, 48000.0, 4400.0, 66.7),
            ],
        )
        self._check_domains(data)

    @users("sfp_manager")
    def test_now_reading_and_headline(self):
        s = self.stages
        # Project Development: stuck after 20 days
        s[5].sudo().funnel_stuck_days = 20
        with freeze_time(MONTH_END):
            data = self._board("now", period="month", team_id=self.team.id)
        bands = {band[0]: band for band in self._bands(data)}
        # the open opportunities per stage; the won stage is no band
        self.assertEqual(len(bands), 16)
        self.assertNotIn(s[16].id, bands)
        self.assertEqual(bands[s[0].id], (s[0].id, 2, 8000.0, 0.0, False))  # L4, L8
        self.assertEqual(bands[s[3].id], (s[3].id, 2, 31000.0, 930.0, False))  # L3, L9
        self.assertEqual(bands[s[5].id], (s[5].id, 2, 47000.0, 4700.0, False))  # L5, L0
        self.assertEqual(sum(band[1] for band in bands.values()), 6)
        headline = data["headline"]
        self.assertEqual(
            {
                key: {k: v for k, v in value.items() if k not in ("domain", "model")}
                for key, value in headline.items()
            },
            {
                "open": {
                    "count": 6,
                    "expected_revenue": 86000.0,
                    "prorated_revenue": 5630.0,
                },
                "won": {"count": 1, "value": 20000.0},  # L2
                "win_rate": {"value": 50.0, "won": 1, "lost": 1},  # L2 won, L1 lost
                "cycle_days": {"value": 8.0},  # 2 to 10 March
                "overdue": {"count": 1},  # L4 (20 March)
                "no_action": {"count": 4},  # L5, L9, L0, L8
                # in Project Development since 5 March (L5) and 20 February (L0)
                "stuck": {"count": 2, "expected_revenue": 47000.0},
                # team A's March target; won 20 000 of it
                "target": {
                    "value": 100000.0,
                    "due": 100000.0,
                    "attainment": 20.0,
                    "count": 2,
                },
            },
        )
        self._check_domains(data)
        # the target opens the rows it sums: Jan's 30 000 and the team's own
        # 70 000 (not the team's total beside Jan's part of it)
        rows = self.env["sales.funnel.forecast.won.report"].search(
            headline["target"]["domain"]
        )
        self.assertEqual(
            sorted((row.user_id.name or "", row.target_amount) for row in rows),
            [("", 70000.0), ("Jan Kowalski", 30000.0)],
        )

    @users("sfp_salesman")
    def test_salesperson_sees_own(self):
        """Jan sees his own opportunities only, and the lists he opens agree."""
        s = self.stages
        with freeze_time(MONTH_END):
            data = self._board("cohort", period="month", team_id=self.team.id)
            now = self._board("now", period="month")
        bands = self._bands(data)
        # L1..L4; Old stage, entered by Anna's L9 only, is not shown
        self.assertNotIn(self.stage_old.id, [band[0] for band in bands])
        self.assertEqual(
            bands[:5],
            [
                (s[0].id, 4, 65000.0, 20900.0, False),
                (s[1].id, 3, 60000.0, 20900.0, 75.0),
                (s[2].id, 3, 60000.0, 20900.0, 100.0),
                (s[3].id, 3, 60000.0, 20900.0, 100.0),
                (s[4].id, 1, 20000.0, 20000.0, 33.3),
            ],
        )
        self._check_domains(data)
        # measured against his own target: 20 000 won (L2) of 30 000
        target = data["headline"]["target"]
        self.assertEqual((target["value"], target["attainment"]), (30000.0, 66.7))
        self.assertEqual(
            self.env["sales.funnel.forecast.won.report"]
            .search(target["domain"])
            .mapped("target_amount"),
            [30000.0],
        )
        # now, every team: L3, L4, L0, L8
        self.assertEqual(now["headline"]["open"]["count"], 4)
        self.assertEqual(sum(band["count"] for band in now["bands"]), 4)
        self._check_domains(now)

    @users("sfp_manager")
    def test_month_end_in_warsaw(self):
        """At 00:30 on 1 April in Warsaw, "this month" is April: L8 (started
        then) is its cohort, though it is still 31 March in UTC."""
        with freeze_time(NEXT_MONTH):
            data = self._board("cohort", period="month", team_id=self.team.id)
        self.assertEqual(
            (data["date_from"], data["date_to"]), ("2026-04-01", "2026-04-30")
        )
        self.assertEqual(data["bands"][0]["count"], 1)
        self.assertEqual(self.l8.date_process_start, date(2026, 4, 1))
        self.assertEqual(sum(band["count"] for band in data["bands"][1:]), 0)
        self._check_domains(data)

    @users("sfp_manager")
    def test_two_companies(self):
        """Anna's open opportunities, in the currency of the company she
        works in; the other company's converted (1 = 0.25)."""
        Board = self.env["sales.funnel.board"].with_context(tz="Europe/Warsaw")

        def board(companies):
            with freeze_time(MONTH_END):
                return Board.with_context(
                    allowed_company_ids=companies.ids
                ).get_board_data(
                    "now",
                    period="month",
                    user_id=self.user_manager.id,
                )

        def figures(data):
            head = data["headline"]["open"]
            return data["currency_id"], head["count"], head["expected_revenue"]

        main, other = self.company, self.company_2
        # L5, L9, L6 (team B); L7 only where the second company is allowed
        self.assertEqual(figures(board(main)), (main.currency_id.id, 3, 49000.0))
        self.assertEqual(
            figures(board(main | other)), (main.currency_id.id, 4, 53000.0)
        )
        self.assertEqual(
            figures(board(other | main)), (other.currency_id.id, 4, 13250.0)
        )
        data = board(main | other)
        Lead = self.env["crm.lead"].with_context(allowed_company_ids=(main | other).ids)
        self.assertEqual(Lead.search_count(data["headline"]["open"]["domain"]), 4)

    @users("sfp_manager")
    def test_periods(self):
        with freeze_time(MONTH_END):
            periods = {
                period: (data["date_from"], data["date_to"])
                for period in ("month", "quarter", "year", "last_12_months")
                for data in [self._board("now", period=period, team_id=self.team.id)]
            }
            custom = self._board(
                "cohort",
                period="custom",
                date_from="2026-02-01",
                date_to="2026-02-28",
                team_id=self.team.id,
            )
        self.assertEqual(
            periods,
            {
                "month": ("2026-03-01", "2026-03-31"),
                "quarter": ("2026-01-01", "2026-03-31"),
                "year": ("2026-01-01", "2026-12-31"),
                "last_12_months": ("2025-04-01", "2026-03-31"),
            },
        )
        # February: L0 alone, started in Project Development
        self.assertEqual([band["count"] for band in custom["bands"][:7]], [1] * 6 + [0])

    @users("sfp_salesman")
    def test_sales_closed_on_the_period_bounds(self):
        """A sale closed on the first or the last day of a custom period is
        the period's, both ends included: L2 won on 10 March, L1 lost on 12
        March (Jan's), read in Warsaw."""

        def closed(date_from, date_to):
            with freeze_time(MONTH_END):
                head = self._board(
                    "now",
                    period="custom",
                    date_from=date_from,
                    date_to=date_to,
                    team_id=self.team.id,
                )["headline"]
            return (
                head["won"]["count"],
                head["won"]["value"],
                head["win_rate"]["value"],
                head["win_rate"]["lost"],
                head["cycle_days"]["value"],
            )

        self.assertEqual(
            closed("2026-03-10", "2026-03-10"), (1, 20000.0, 100.0, 0, 8.0)
        )
        self.assertEqual(closed("2026-03-11", "2026-03-12"), (0, 0.0, 0.0, 1, False))
        self.assertEqual(closed("2026-03-01", "2026-03-09"), (0, 0.0, False, 0, False))

    @users("sfp_manager")
    def test_bad_input(self):
        Board = self.env["sales.funnel.board"]
        cases = [
            (("later",), {}, "Unknown funnel reading: later."),
            (("now",), {"period": "week"}, "Unknown period: week."),
            (
                ("now",),
                {"period": "custom"},
                "A custom period needs a start and an end date.",
            ),
            (
                ("now",),
                {
                    "period": "custom",
                    "date_from": "2026-13-01",
                    "date_to": "2026-01-01",
                },
                "A custom period needs a start and an end date.",
            ),
            (
                ("now",),
                {"period": "custom", "date_from": 20260301, "date_to": "2026-03-31"},
                "A custom period needs a start and an end date.",
            ),
            (
                ("now",),
                {
                    "period": "custom",
                    "date_from": "2026-03-02",
                    "date_to": "2026-03-01",
                },
                "The period cannot end before it starts.",
            ),
            (
                ("now",),
                {"team_id": "abc"},
                "A sales team or salesperson is given by its id, not 'abc'.",
            ),
        ]
        for args, kwargs, message in cases:
            with (
                self.subTest(args=args, kwargs=kwargs),
                self.assertRaises(UserError) as error,
            ):
                Board.get_board_data(*args, **kwargs)
            self.assertEqual(str(error.exception), message)

    @users("sfp_manager")
    def test_query_count(self):
        """Three queries per read (bands, headline figures, the stages'
        numbers of days of the stuck opportunities' domain; the stages and
        the company are in the cache), whatever the number of stages and
        opportunities; the cohort reading one more (the archived stages,
        written into its statement so that it is planned for their history)."""
        queries = {"cohort": 4, "now": 3}
        Board = self.env["sales.funnel.board"].with_context(tz="Europe/Warsaw")
        with freeze_time(MONTH_END):
            for reading in ("cohort", "now"):
                Board.get_board_data(reading, team_id=self.team.id)  # caches warm
                with self.assertQueryCount(queries[reading]):
                    Board.get_board_data(reading, team_id=self.team.id)
            self.env["crm.stage"].sudo().create({"name": "Extra", "sequence": 8})
            self._create_opportunities(20, self.stages[2], user=self.user_manager)
            self.env.invalidate_all()
            for reading in ("cohort", "now"):
                Board.get_board_data(reading, team_id=self.team.id)
                with self.assertQueryCount(queries[reading]):
                    Board.get_board_data(reading, team_id=self.team.id)


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestSalesFunnelBoardFilters(SalesFunnelCommon):
    """The board's filters: every salesperson of the companies worked in for
    a manager, oneself for a salesperson who sees their own opportunities
    only; every team the user may read."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the test database may hold other teams: keep this test's only
        cls.env["crm.team"].search([("id", "!=", cls.team.id)]).active = False
        cls.company_2 = cls.env["res.company"].create({"name": "Stalprofil GmbH"})
        cls.user_manager.company_ids |= cls.company_2
        cls.team_b = cls.env["crm.team"].create({"name": "Zespół Południe"})
        cls.team_gmbh = cls.env["crm.team"].create(
            {"name": "Vertrieb", "company_id": cls.company_2.id}
        )

        def user(login, name, groups, company, **values):
            values.setdefault("notification_type", "email")
            return cls._create_user(login, name, groups, company=company, **values)

        salesman = "sales_team.group_sale_salesman"
        # a salesperson who sees every opportunity ("All Documents"), in both
        # companies
        cls.user_all = user(
            "sfp_board_all",
            "Ewa Zielińska",
            "sales_team.group_sale_salesman_all_leads",
            cls.company,
        )
        cls.user_all.company_ids |= cls.company_2
        # a salesperson of the second company only
        cls.user_gmbh = user("sfp_board_gmbh", "Hans Becker", salesman, cls.company_2)
        # not offered: an employee who does not sell, a portal user, an
        # archived salesperson
        user("sfp_board_employee", "Piotr Wójcik", "base.group_user", cls.company)
        user("sfp_board_portal", "Klient Portalu", "base.group_portal", cls.company)
        user("sfp_board_gone", "Adam Dawny", salesman, cls.company, active=False)
        # one open opportunity each for Jan and Anna, one unassigned
        cls._create_opportunities(1, cls.stages[0], name="Jana")
        cls._create_opportunities(
            1,
            cls.stages[0],
            user=cls.user_manager,
            name="Anny",
            user_id=cls.user_manager.id,
        )
        cls._create_opportunities(
            1, cls.stages[0], user=cls.user_manager, name="Niczyja", user_id=False
        )
        cls.env["sales.funnel.target"].create(
            [
                {
                    "date": "2026-03-01",
                    "team_id": cls.team.id,
                    "user_id": user.id,
                    "amount": amount,
                }
                for user, amount in (
                    (cls.user_salesman, 30000),
                    (cls.user_manager, 50000),
                )
            ]
        )

    def _filters(self, companies=None):
        Board = self.env["sales.funnel.board"].with_context(tz="Europe/Warsaw")
        if companies:
            Board = Board.with_context(allowed_company_ids=companies.ids)
        filters = Board.get_board_filters()
        self.assertEqual(
            set(filters["views"]),
            {"list", "kanban", "search", "target_list", "target_search"},
        )
        return {key: value for key, value in filters.items() if key != "views"}

    @staticmethod
    def _people(*users):
        return [
            {"id": user.id, "name": user.name}
            for user in sorted(users, key=lambda user: user.name)
        ]

    @users("sfp_manager")
    def test_filters_manager(self):
        """A sales manager is offered every salesperson (sales managers
        included) of the companies they work in."""
        admin = self.env.ref("base.user_admin").sudo()
        team, team_b = self.team, self.team_b
        jan, anna, ewa = self.user_salesman, self.user_manager, self.user_all
        self.assertEqual(
            self._filters(self.company),
            {
                "teams": [
                    {"id": team_b.id, "name": "Zespół Południe"},
                    {"id": team.id, "name": "Zespół Testowy"},
                ],
                "users": self._people(admin, anna, ewa, jan),
                "own_only": False,
            },
        )
        self.assertEqual(
            self._filters(self.company_2),
            {
                # the teams of no company are every company's
                "teams": [
                    {"id": self.team_gmbh.id, "name": "Vertrieb"},
                    {"id": team_b.id, "name": "Zespół Południe"},
                    {"id": team.id, "name": "Zespół Testowy"},
                ],
                "users": [
                    {"id": anna.id, "name": "Anna Nowak"},
                    {"id": ewa.id, "name": "Ewa Zielińska"},
                    {"id": self.user_gmbh.id, "name": "Hans Becker"},
                ],
                "own_only": False,
            },
        )
        both = self._filters(self.company | self.company_2)
        self.assertEqual(
            both["users"], self._people(admin, anna, ewa, self.user_gmbh, jan)
        )

    @users("sfp_board_all")
    def test_filters_all_documents(self):
        """A salesperson with every opportunity's right is offered every
        salesperson of their companies, as a manager."""
        admin = self.env.ref("base.user_admin").sudo()
        filters = self._filters()
        self.assertEqual(
            (filters["users"], filters["own_only"]),
            (
                self._people(
                    admin,
                    self.user_manager,
                    self.user_all,
                    self.user_gmbh,
                    self.user_salesman,
                ),
                False,
            ),
        )

    @users("sfp_salesman")
    def test_filters_salesperson(self):
        """A salesperson who sees only their own opportunities is offered
        themselves alone (with "mine and unassigned"), and every team; asked
        for another salesperson's funnel, the board shows nothing of it."""
        jan = self.user_salesman
        self.assertEqual(
            self._filters(),
            {
                "teams": [
                    {"id": self.team_b.id, "name": "Zespół Południe"},
                    {"id": self.team.id, "name": "Zespół Testowy"},
                ],
                "users": [{"id": jan.id, "name": "Jan Kowalski"}],
                "own_only": True,
            },
        )
        Board = self.env["sales.funnel.board"].with_context(tz="Europe/Warsaw")

        def figures(user_id):
            data = Board.get_board_data("now", user_id=user_id)
            head = data["headline"]
            return (
                head["open"]["count"],
                head["open"]["expected_revenue"],
                sum(band["count"] for band in data["bands"]),
                head["target"]["value"],
            )

        with freeze_time("2026-03-15 10:00:00"):
            # his own and the unassigned one; his own; nothing of Anna's
            self.assertEqual(figures(False), (2, 20000.0, 2, 30000.0))
            self.assertEqual(figures(jan.id), (1, 10000.0, 1, 30000.0))
            self.assertEqual(figures(self.user_manager.id), (0, 0.0, 0, False))
