# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from babel.dates import format_date
from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo.tests import tagged, users

from .. import compat
from .common import SalesFunnelCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestSalesFunnelReports(SalesFunnelCommon):
    """A constructed funnel: opportunities moved through chosen stages on
    frozen dates, some stages skipped, one lost, one won."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the forecast's months as a Polish user reads them
        cls.env["res.lang"]._activate_lang("pl_PL")
        # Ewa sells in the team without being one of its members
        cls.user_other = cls._create_other_salesperson(team=False)
        s = cls.stages
        today = date.today()
        cls.deadline_c = today + relativedelta(months=2)
        cls.deadline_e = today - relativedelta(months=2)
        with freeze_time("2026-01-01 00:00:00"):
            cls.lead_a = cls._create_opportunity("A", s[0])
            cls.lead_b = cls._create_opportunity("B", s[0])
        with freeze_time("2026-01-02 00:00:00"):
            cls.lead_c = cls._create_opportunity("C", s[1], 20000, cls.deadline_c)
            cls.lead_d = cls._create_opportunity("D", s[0], 5000)
            cls.lead_e = cls._create_opportunity(
                "E",
                s[13],
                1000,
                cls.deadline_e,
                user=cls.user_manager,
                user_id=cls.user_other.id,
            )
        cls._history(
            ("2026-01-03 00:00:00", cls.lead_a, s[1]),
            ("2026-01-04 00:00:00", cls.lead_c, s[3]),  # skips Firma
            ("2026-01-05 00:00:00", cls.lead_b, s[1]),
            ("2026-01-06 00:00:00", cls.lead_b, "lost"),
            ("2026-01-07 00:00:00", cls.lead_a, s[3]),  # skips Firma
            ("2026-01-08 00:00:00", cls.lead_a, "won"),  # skips stages 5 to 16
        )
        cls.leads = cls.lead_a | cls.lead_b | cls.lead_c | cls.lead_d | cls.lead_e

    def _stage_report(self, groupby="stage_id"):
        Report = self.env["sales.funnel.stage.report"]
        groups = compat.grouped_read(
            Report,
            [("lead_id", "in", self.leads.ids)],
            [groupby],
            [
                "entered_count:sum",
                "skipped_count:sum",
                "moved_on_count:sum",
                "lost_count:sum",
                "won_count:sum",
                "conversion:avg",
                "duration_days:avg",
                "median_days:median",
                "days_to_win:avg",
            ],
        )
        return {
            group[groupby][1] if group[groupby] else False: (
                group["entered_count"],
                group["skipped_count"],
                group["moved_on_count"],
                group["lost_count"],
                group["won_count"],
                round(group["conversion"] or 0, 2),
                round(group["duration_days"] or 0, 3),
                group["median_days"],
                group["days_to_win"],
            )
            for group in groups
        }

    @users("sfp_manager")
    def test_stage_analysis(self):
        report = self._stage_report()
        skipped_once = (0, 1, 0, 0, 0, 0, 0, False, False)
        self.assertEqual(
            report,
            {
                # entered, skipped, moved on, lost, won, conversion %, avg days,
                # median days, days to win
                "New Prospect": (3, 0, 2, 0, 1, 33.33, 3.0, 3.0, False),
                "Need Information": (3, 0, 2, 1, 1, 33.33, 2.333, 2.0, False),
                "First Contact": (0, 2, 0, 0, 0, 0, 0, False, False),
                "Meeting": (2, 0, 1, 0, 1, 50.0, 1.0, 1.0, False),
                "Opportunity Analysis": skipped_once,
                "Project Development": skipped_once,
                "Project Presentation": skipped_once,
                "Prospect Evaluation": skipped_once,
                "Project 2 Preparation": skipped_once,
                "Project 2 Presentation": skipped_once,
                "Prospect Evaluation of Project 2": skipped_once,
                "Negotiation": skipped_once,
                "Negotiation 2": skipped_once,
                "Order": (1, 1, 0, 0, 0, 0.0, 0, False, False),
                "Delivery": skipped_once,
                "Invoice": skipped_once,
                "Payment Received": (1, 0, 0, 0, 1, 100.0, 0, False, 7.0),
            },
        )
        # groups come in funnel order
        self.assertEqual(list(report), self.stages.mapped("name"))

    @users("sfp_manager")
    def test_velocity_per_salesperson(self):
        report = self._stage_report("user_id")
        self.assertEqual(report["Jan Kowalski"][8], 7.0)
        self.assertEqual(report["Ewa Zielińska"][8], False)

    @users("sfp_salesman")
    def test_stage_analysis_salesman_sees_own(self):
        report = self._stage_report()
        # E belongs to another salesperson: its Order entry is not visible
        self.assertEqual(report["Order"], (0, 1, 0, 0, 0, 0, 0, False, False))
        self.assertEqual(report["New Prospect"][0], 3)

    def _forecast(self, user):
        """The month groups as a Polish user's pivot reads them."""
        Report = (
            self.env["sales.funnel.forecast.report"]
            .with_user(user)
            .with_context(lang="pl_PL")
        )
        groups = compat.grouped_read(
            Report,
            [("lead_id", "in", self.leads.ids)],
            ["date:month"],
            [
                "opportunity_count:sum",
                "expected_revenue:sum",
                "prorated_revenue:sum",
                "won_revenue:sum",
            ],
        )
        return {
            group["date:month"]: (
                group["opportunity_count"],
                group["expected_revenue"],
                group["prorated_revenue"],
                group["won_revenue"],
            )
            for group in groups
        }

    @staticmethod
    def _month(day):
        """The label Odoo gives to a month group, in Polish."""
        return format_date(day, "MMMM yyyy", locale="pl_PL")

    def test_forecast_manager_and_salesman(self):
        month_c, month_e = self._month(self.deadline_c), self._month(self.deadline_e)
        self.assertEqual(
            self._forecast(self.user_manager),
            {
                "stycznia 2026": (0, 0.0, 0.0, 10000.0),  # A, won
                month_e: (1, 1000.0, 800.0, 0.0),  # E, 80%, overdue
                month_c: (1, 20000.0, 600.0, 0.0),  # C, 3%
                False: (1, 5000.0, 0.0, 0.0),  # D, no expected date
            },
        )
        forecast = self._forecast(self.user_salesman)
        self.assertNotIn(month_e, forecast)
        self.assertEqual(forecast[False], (1, 5000.0, 0.0, 0.0))
        Report = self.env["sales.funnel.forecast.report"].with_user(self.user_manager)
        self.assertEqual(
            Report.search(
                [("lead_id", "in", self.leads.ids), ("is_overdue", "=", True)]
            ).lead_id,
            self.lead_e,
        )
        self.assertEqual(
            Report.search(
                [("lead_id", "in", self.leads.ids), ("has_date", "=", False)]
            ).lead_id,
            self.lead_d,
        )

    def _other_company_opportunity(self, rates, deadline):
        """A second company in another currency, with ``rates`` ((day,
        rate): 1 of the first company's currency = rate, for both
        companies), worked in by the manager, and its opportunity F: 1,000
        at 80% due on ``deadline``. Returns (its currency, the company)."""
        currency = self.env.ref(
            "base.EUR" if self.company.currency_id.name != "EUR" else "base.USD"
        )
        currency.active = True
        self.env["res.currency.rate"].create(
            [
                {
                    "currency_id": currency.id,
                    "company_id": False,
                    "name": day,
                    "rate": rate,
                }
                for day, rate in rates
            ]
        )
        company_2 = self.env["res.company"].create(
            {"name": "Stalprofil GmbH", "currency_id": currency.id}
        )
        self.user_manager.company_ids |= company_2
        self._create_opportunities(
            1,
            self.stages[13],
            user=self.user_manager,
            name="F",
            company_id=company_2.id,
            team_id=False,
            user_id=self.user_manager.id,
            expected_revenue=1000,
            date_deadline=deadline,
        )
        return currency, company_2

    def test_forecast_converts_other_company_currency(self):
        """A manager working in two companies sees the forecast in the
        currency of the company they work in, the other one's converted."""
        company = self.company
        currency, company_2 = self._other_company_opportunity(
            [("2026-01-01", 0.25)], self.deadline_c
        )
        Report = self.env["sales.funnel.forecast.report"].with_user(self.user_manager)
        month_c = self._month(self.deadline_c)

        def forecast(companies):
            groups = compat.grouped_read(
                Report.with_context(allowed_company_ids=companies.ids, lang="pl_PL"),
                [("date", "=", self.deadline_c)],
                ["date:month", "company_currency"],
                [
                    "opportunity_count:sum",
                    "expected_revenue:sum",
                    "prorated_revenue:sum",
                ],
            )
            return [
                (
                    group["date:month"],
                    group["company_currency"][0],
                    group["opportunity_count"],
                    group["expected_revenue"],
                    group["prorated_revenue"],
                )
                for group in groups
            ]

        self.assertEqual(
            forecast(company),
            [
                (month_c, company.currency_id.id, 1, 20000.0, 600.0),  # C only
            ],
        )
        self.assertEqual(
            forecast(company | company_2),
            [
                # C, and F: 1,000 at 80% in the other currency, worth 4 each
                (month_c, company.currency_id.id, 2, 24000.0, 3800.0),
            ],
        )
        self.assertEqual(
            forecast(company_2 | company),
            [
                # the same in the second company's currency
                (month_c, currency.id, 2, 6000.0, 950.0),
            ],
        )

    def test_forecast_converts_at_the_rate_of_the_users_day(self):
        """At 00:30 on 7 December in Warsaw (still the 6th in UTC) the
        forecast converts the other company's amounts at the rate dated the
        7th, the manager's day, not at the one before it."""
        company = self.company
        # 1 of the first company's = 0.25, then 0.5 from the 7th
        __, company_2 = self._other_company_opportunity(
            [("2026-01-01", 0.25), ("2026-12-07", 0.5)], date(2027, 2, 15)
        )
        Report = self.env["sales.funnel.forecast.report"].with_user(self.user_manager)
        Report = Report.with_context(allowed_company_ids=(company | company_2).ids)
        for moment, worth in (
            ("2026-12-06 22:30:00", 4.0),
            ("2026-12-06 23:30:00", 2.0),
        ):
            with self.subTest(moment=moment), freeze_time(moment):
                self.env.invalidate_all()
                groups = compat.grouped_read(
                    Report,
                    [
                        ("date", "=", date(2027, 2, 15)),
                        ("company_id", "=", company_2.id),
                    ],
                    ["company_currency"],
                    ["expected_revenue:sum", "prorated_revenue:sum"],
                )
                self.assertEqual(
                    [
                        (
                            group["company_currency"][0],
                            group["expected_revenue"],
                            group["prorated_revenue"],
                        )
                        for group in groups
                    ],
                    # 1,000 at 80% in the other currency, worth 4 or 2 each
                    [(company.currency_id.id, 1000 * worth, 800 * worth)],
                )

    @users("sfp_manager")
    def test_funnel_shows_every_stage(self):
        # as the pivot and graph views of the series ask for it
        groups = compat.grouped_read(
            self.env["crm.lead"].with_context(sales_funnel_fill_stages=True),
            [
                ("id", "in", self.leads.ids),
                ("type", "=", "opportunity"),
                ("probability", "<", 100),
            ],
            ["stage_id"],
            ["expected_revenue:sum", "prorated_revenue:sum"],
        )
        funnel = {
            group["stage_id"][1]: (
                group["__count"],
                group["expected_revenue"],
                group["prorated_revenue"],
            )
            for group in groups
        }
        self.assertEqual([group["stage_id"][0] for group in groups], self.stages.ids)
        self.assertEqual(len(funnel), 17)
        self.assertEqual(funnel["New Prospect"], (1, 5000.0, 0.0))
        self.assertEqual(funnel["Meeting"], (1, 20000.0, 600.0))
        self.assertEqual(funnel["Order"], (1, 1000.0, 800.0))
        self.assertEqual(funnel["First Contact"], (0, 0.0, 0.0))
        self.assertEqual(sum(count for count, _e, _p in funnel.values()), 3)

    @users("sfp_manager")
    def test_report_reads_are_one_query(self):
        for model, measures in (
            ("sales.funnel.stage.report", ["entered_count:sum", "median_days:median"]),
            ("sales.funnel.forecast.report", ["prorated_revenue:sum"]),
        ):
            Report = self.env[model]
            Report._read_group([], ["stage_id"], measures)  # warm the caches
            with self.assertQueryCount(sfp_manager=1):
                Report._read_group([], ["stage_id"], measures)
        # the funnel: its read, and the stages to show with their names
        Lead = self.env["crm.lead"].with_context(sales_funnel_fill_stages=True)
        compat.grouped_read(Lead, [], ["stage_id"], ["expected_revenue:sum"])
        with self.assertQueryCount(sfp_manager=2):
            compat.grouped_read(Lead, [], ["stage_id"], ["expected_revenue:sum"])

    @users("sfp_manager")
    def test_funnel_shows_a_team_s_own_stages_in_stage_order(self):
        """A team working its own stages ("Serwis": "Wycena" and
        "Zgłoszenie", placed before the funnel's): the funnel shows the one
        an opportunity stands in, in crm's stage order; opened for that team,
        it shows the team's empty stage too, with zeros."""
        service = self.env["crm.team"].create({"name": "Serwis"})
        quote, request = self.env["crm.stage"].create(
            [
                {"name": name, "sequence": 0, **compat.stage_team_values(service)}
                for name in ("Wycena", "Zgłoszenie")
            ]
        )
        repair = self._create_opportunity(
            "Naprawa", request, 3000, user=self.user_manager, team_id=service.id
        )
        domain = [("id", "in", (self.leads | repair).ids), ("probability", "<", 100)]
        for team, expected in (
            (False, [(request.id, 1)]),
            (service.id, [(quote.id, 0), (request.id, 1)]),
        ):
            with self.subTest(team=team):
                Lead = self.env["crm.lead"].with_context(
                    sales_funnel_fill_stages=True, default_team_id=team
                )
                groups = compat.grouped_read(
                    Lead, domain, ["stage_id"], ["expected_revenue:sum"]
                )
                self.assertEqual(
                    [(group["stage_id"][0], group["__count"]) for group in groups],
                    expected
                    + [
                        (stage.id, count)
                        for stage, count in zip(
                            self.stages,
                            [1, 0, 0, 1] + [0] * 9 + [1] + [0] * 3,
                            strict=True,
                        )
                    ],
                )
