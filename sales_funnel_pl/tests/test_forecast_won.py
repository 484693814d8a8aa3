from datetime import date

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged, users

from .. import compat
from .common import SalesFunnelCommon

MEASURES = [
    "forecast_revenue:sum",
    "won_revenue:sum",
    "difference:sum",
    "accuracy:avg",
    "target_amount:sum",
    "attainment:avg",
]


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestForecastWon(SalesFunnelCommon):
    """ "Prognoza a wykonanie": the forecast stored at the start of each
    month beside what was won in it and the month's target; the targets."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the reports read as a Polish user's web client reads them (its
        # language in the context): months named in Polish
        cls.env["res.lang"]._activate_lang("pl_PL")
        cls.user_other = cls._create_other_salesperson()
        cls.team_2 = cls.env["crm.team"].create({"name": "Zespół Drugi"})
        order = cls.stage_order
        cls.lead_a, cls.lead_b, _f = cls._create_forecast_pipeline(cls.user_other)
        with freeze_time("2026-01-10 09:00:00"):
            cls.lead_k = cls._create_opportunity("K", order, 5000, date(2026, 2, 10))
        Snapshot = cls.env["sales.funnel.forecast.snapshot"]
        with freeze_time("2026-02-01 05:00:00"):
            Snapshot._cron_take_snapshot()
        cls._history(("2026-02-14 10:00:00", cls.lead_a, order))
        with freeze_time("2026-02-15 10:00:00"):
            # a snapshot in the middle of the month: not the month's forecast
            Snapshot._cron_take_snapshot()
        cls._history(
            # 23:30 on February 28th in Warsaw, and 00:30 on March 1st
            ("2026-02-28 22:30:00", cls.lead_k, "won"),
            ("2026-02-28 23:30:00", cls.lead_b, "won"),
        )
        with freeze_time("2026-03-01 05:00:00"):
            Snapshot._cron_take_snapshot()
        Target = cls.env["sales.funnel.target"]
        cls.targets = Target.create(
            [
                {"date": date(2026, 2, 14), "team_id": cls.team.id, "amount": 20000},
                {
                    "date": date(2026, 2, 1),
                    "team_id": cls.team.id,
                    "user_id": cls.user_salesman.id,
                    "amount": 15000,
                },
                {
                    "date": date(2026, 2, 1),
                    "team_id": cls.team.id,
                    "user_id": cls.user_other.id,
                    "amount": 2000,
                },
                {"date": date(2026, 3, 1), "team_id": cls.team.id, "amount": 10000},
                {"date": date(2026, 2, 1), "team_id": cls.team_2.id, "amount": 7000},
            ]
        )

    def _report(self, horizon=0, groupby="date:month", domain=None):
        Report = self.env["sales.funnel.forecast.won.report"].with_context(
            lang="pl_PL", sales_funnel_horizon=horizon
        )
        if domain is None:
            domain = [("team_id", "=", self.team.id)]
        groups = compat.grouped_read(Report, domain, [groupby], MEASURES)
        return {
            group[groupby]: tuple(group[spec.split(":")[0]] for spec in MEASURES)
            for group in groups
        }

    @users("sfp_manager")
    def test_forecast_vs_won_manager(self):
        self.assertEqual(
            self._report(),
            {
                # forecast of February 1st: B 8,000, K 4,000, F 3,200; K won
                # (23:30 in Warsaw); target 20,000
                "lutego 2026": (15200.0, 5000.0, -10200.0, 32.89, 20000.0, 25.0),
                # forecast of March 1st: A 16,000 (Order since February 14th),
                # F 3,200 (overdue); B won at 00:30 in Warsaw
                "marca 2026": (19200.0, 10000.0, -9200.0, 52.08, 10000.0, 100.0),
            },
        )
        # a month ahead: March from February 1st's forecast (A at 3%), not
        # from the snapshot of February 15th
        self.assertEqual(
            self._report(horizon=1)["marca 2026"],
            (600.0, 10000.0, 9400.0, 0.0, 10000.0, 100.0),
        )

    @users("sfp_manager")
    def test_archived_won_sale(self):
        """19.0 keeps an archived won opportunity won: K stays a February
        sale (the day its sale ended), though crm moves its closing date to
        the day it is archived. On 18.0 archiving is losing: no win is left."""
        with freeze_time("2026-03-20 10:00:00"):
            self.lead_k.with_user(self.user_manager).action_archive()
        self.env.flush_all()
        report = self._report()
        self.assertEqual(report["lutego 2026"][1], 5000.0 if compat.ODOO_19 else 0.0)
        self.assertEqual(report["marca 2026"][1], 10000.0)

    @users("sfp_manager")
    def test_forecast_vs_won_per_salesperson(self):
        report = self._report(groupby="user_id")
        self.assertEqual(
            report[(self.user_salesman.id, "Jan Kowalski")],
            (12000.0 + 16000.0, 15000.0, -13000.0, 53.57, 15000.0, 100.0),
        )
        self.assertEqual(
            report[(self.user_other.id, "Ewa Zielińska")],
            (6400.0, 0.0, -6400.0, 0.0, 2000.0, 0.0),
        )
        # the team's target not shared out to its salespeople: 20,000 - 17,000
        self.assertEqual(report[False], (0.0, 0.0, 0.0, False, 13000.0, 0.0))

    @users("sfp_salesman")
    def test_forecast_vs_won_salesperson_sees_own(self):
        """The whole report as a salesperson reads it (no team chosen): their
        own forecast, sales and target, their team's own target line; not a
        colleague's, not another team's (Zespół Drugi: 7,000 in February,
        777,000 in March), as in the targets list and "Prognoza sprzedaży"."""
        self.env["sales.funnel.target"].sudo().create(
            {"date": date(2026, 3, 1), "team_id": self.team_2.id, "amount": 777000}
        )
        self.assertEqual(
            self._report(domain=[]),
            {
                # own forecast (B, K), own won (K), own target and the team's
                # share (15,000 + 3,000)
                "lutego 2026": (12000.0, 5000.0, -7000.0, 41.67, 18000.0, 27.78),
                # own forecast (A), own won (B), the team's own target
                "marca 2026": (16000.0, 10000.0, -6000.0, 62.5, 10000.0, 100.0),
            },
        )
        self.assertEqual(
            self._report(domain=[], groupby="team_id"),
            {
                (self.team.id, "Zespół Testowy"): (
                    28000.0,
                    15000.0,
                    -13000.0,
                    53.57,
                    28000.0,
                    53.57,
                )
            },
        )

    def _forecast_targets(self, user):
        Report = self.env["sales.funnel.forecast.report"].with_user(user)
        return sorted(
            (str(row.date), row.user_id.name or "", row.target_amount)
            for row in Report.search(
                [("kind", "=", "target"), ("team_id", "=", self.team.id)]
            )
        )

    def test_forecast_shows_targets(self):
        # the team's own line is its target less its salespeople's
        self.assertEqual(
            self._forecast_targets(self.user_manager),
            [
                ("2026-02-01", "", 3000.0),
                ("2026-02-01", "Ewa Zielińska", 2000.0),
                ("2026-02-01", "Jan Kowalski", 15000.0),
                ("2026-03-01", "", 10000.0),
            ],
        )
        # a salesperson: their own target and their team's own line
        self.assertEqual(
            self._forecast_targets(self.user_salesman),
            [
                ("2026-02-01", "", 3000.0),
                ("2026-02-01", "Jan Kowalski", 15000.0),
                ("2026-03-01", "", 10000.0),
            ],
        )
        # won in % of the target, per month
        Report = self.env["sales.funnel.forecast.report"].with_user(self.user_manager)
        groups = compat.grouped_read(
            Report.with_context(lang="pl_PL"),
            [("team_id", "=", self.team.id), ("date", ">=", date(2026, 2, 1))],
            ["date:month"],
            ["won_revenue:sum", "target_amount:sum", "attainment:avg"],
        )
        self.assertEqual(
            [
                (g["date:month"], g["won_revenue"], g["target_amount"], g["attainment"])
                for g in groups
            ],
            [
                ("lutego 2026", 5000.0, 20000.0, 25.0),
                ("marca 2026", 10000.0, 10000.0, 100.0),
            ],
        )

    def _forecast_months(self):
        Report = self.env["sales.funnel.forecast.report"].with_context(lang="pl_PL")
        measures = [
            "opportunity_count:sum",
            "prorated_revenue:sum",
            "won_revenue:sum",
            "target_amount:sum",
            "attainment:avg",
        ]
        groups = compat.grouped_read(
            Report, [("date", ">=", date(2026, 2, 1))], ["date:month"], measures
        )
        return {
            group["date:month"]: tuple(group[spec.split(":")[0]] for spec in measures)
            for group in groups
        }

    @users("sfp_salesman")
    def test_forecast_salesperson_sees_own_targets(self):
        """ "Prognoza sprzedaży" as a salesperson, as the pivot reads it:
        their own target and their team's own line (not a colleague's, not
        another team's), beside their own forecast and sales (not a
        colleague's), and what they won in % of that target."""
        self.assertEqual(
            self._forecast_months(),
            {
                # count, weighted, won, target, attainment: K won (23:30 in
                # Warsaw); own target 15,000 and the team's 3,000 (not Ewa's
                # 2,000 nor her F, not Zespół Drugi's 7,000)
                "lutego 2026": (0, 0.0, 5000.0, 18000.0, 27.78),
                # A open at 80%, B won at 00:30 in Warsaw; the team's target
                "marca 2026": (1, 16000.0, 10000.0, 10000.0, 100.0),
            },
        )
        # as in "Prognoza a wykonanie"
        won_report = self._report()["lutego 2026"]
        self.assertEqual((won_report[4], won_report[5]), (18000.0, 27.78))

    @users("sfp_salesman")
    def test_forecast_attainment_of_the_months_due_in_warsaw(self):
        """ "Prognoza sprzedaży" over February to April: the attainment
        measures what was won against the targets of the months up to and
        including the user's current one (a month still to come has nothing
        won yet), the coverage the won and the weighted open against every
        target. At 23:30 on 31 March in Warsaw April's target is not due
        yet; at 00:30 on 1 April (still 31 March in UTC) it is."""
        self.env["sales.funnel.target"].sudo().create(
            {"date": date(2026, 4, 1), "team_id": self.team.id, "amount": 12000}
        )
        Report = self.env["sales.funnel.forecast.report"].with_context(
            tz="Europe/Warsaw"
        )
        aggregates = [
            "won_revenue:sum",
            "prorated_revenue:sum",
            "target_amount:sum",
            "target_due:sum",
            "attainment:avg",
            "coverage:avg",
        ]
        for moment, figures in (
            # won: K (5,000), B (10,000); A open at 80% (16,000); targets:
            # February 18,000 (Jan's and the team's own), March 10,000,
            # April 12,000
            ("2026-03-31 21:30:00", (15000.0, 16000.0, 40000.0, 28000.0, 53.57, 77.5)),
            ("2026-03-31 22:30:00", (15000.0, 16000.0, 40000.0, 40000.0, 37.5, 77.5)),
        ):
            with self.subTest(moment=moment), freeze_time(moment):
                self.assertEqual(
                    Report._read_group(
                        [("date", ">=", date(2026, 2, 1))], [], aggregates
                    ),
                    [figures],
                )

    def test_forecast_salesperson_targets_per_company(self):
        """A salesperson's target in a second company counts only when they
        work in it (the companies chosen in the switcher)."""
        company_2 = self.env["res.company"].create({"name": "Druga Firma"})
        self.user_salesman.company_ids |= company_2
        self.env["sales.funnel.target"].create(
            {
                "date": date(2026, 2, 1),
                "team_id": self.team.id,
                "user_id": self.user_salesman.id,
                "company_id": company_2.id,
                "amount": 4000,
            }
        )
        Report = self.env["sales.funnel.forecast.report"].with_user(self.user_salesman)
        for companies, target, attainment in (
            (self.company, 18000.0, 27.78),
            (company_2, 4000.0, 0.0),
            (self.company | company_2, 22000.0, 22.73),
        ):
            with self.subTest(companies=companies.mapped("name")):
                groups = compat.grouped_read(
                    Report.with_context(allowed_company_ids=companies.ids),
                    [("date", ">=", date(2026, 2, 1)), ("date", "<", date(2026, 3, 1))],
                    ["date:month"],
                    ["target_amount:sum", "attainment:avg"],
                )
                self.assertEqual(
                    [(g["target_amount"], g["attainment"]) for g in groups],
                    [(target, attainment)],
                )

    @users("sfp_manager")
    def test_forecast_manager_sees_all_targets(self):
        self.assertEqual(
            self._forecast_months(),
            {
                # F open at 80% (Ewa's); every target: 20,000 of Zespół
                # Testowy and 7,000 of Zespół Drugi
                "lutego 2026": (1, 3200.0, 5000.0, 27000.0, 18.52),
                "marca 2026": (1, 16000.0, 10000.0, 10000.0, 100.0),
            },
        )

    @users("sfp_salesman")
    def test_report_read_is_one_query(self):
        Report = self.env["sales.funnel.forecast.won.report"]
        Report._read_group([], ["date:month", "kind"], MEASURES)  # warm the caches
        with self.assertQueryCount(sfp_salesman=1):
            Report._read_group([], ["date:month", "kind"], MEASURES)

    def test_horizon_out_of_range(self):
        Report = self.env["sales.funnel.forecast.won.report"].with_context(
            sales_funnel_horizon=13
        )
        with self.assertRaises(UserError):
            Report.search([])

    @users("sfp_salesman")
    def test_targets_salesperson_reads_own_cannot_write(self):
        Target = self.env["sales.funnel.target"]
        targets = Target.search([])
        # own, and their team's own target; not a colleague's, not another team's
        self.assertEqual(
            sorted(
                (t.date, t.team_id.name, t.user_id.name or "", t.amount)
                for t in targets
                if t.team_id in (self.team | self.team_2)
            ),
            [
                (date(2026, 2, 1), "Zespół Testowy", "", 20000.0),
                (date(2026, 2, 1), "Zespół Testowy", "Jan Kowalski", 15000.0),
                (date(2026, 3, 1), "Zespół Testowy", "", 10000.0),
            ],
        )
        with self.assertRaises(AccessError):
            targets[:1].write({"amount": 1})
        with self.assertRaises(AccessError):
            Target.create(
                {"date": date(2026, 4, 1), "team_id": self.team.id, "amount": 1}
            )
        with self.assertRaises(AccessError):
            targets[:1].unlink()
        with self.assertRaises(AccessError):
            self.env["sales.funnel.target.copy"].create(
                {"target_ids": targets.ids, "months": 1}
            )

    @users("sfp_manager")
    def test_targets_manager_copy_forward(self):
        Target = self.env["sales.funnel.target"]
        february = Target.search(
            [("date", "=", date(2026, 2, 1)), ("team_id", "=", self.team.id)]
        )
        wizard = Form(
            self.env["sales.funnel.target.copy"].with_context(
                active_model="sales.funnel.target", active_ids=february.ids
            )
        )
        wizard.months = 25
        with self.assertRaises(ValidationError):
            wizard.save()
        wizard.months = 2
        action = wizard.save().action_copy()
        # March's team target (10,000) stays; the rest is copied to March and April
        self.assertEqual(action["params"]["message"], "5 targets copied.")
        self.assertEqual(
            sorted(
                (t.date, t.user_id.name or "", t.amount)
                for t in Target.search(
                    [("team_id", "=", self.team.id), ("date", ">", date(2026, 2, 1))]
                )
            ),
            [
                (date(2026, 3, 1), "", 10000.0),
                (date(2026, 3, 1), "Ewa Zielińska", 2000.0),
                (date(2026, 3, 1), "Jan Kowalski", 15000.0),
                (date(2026, 4, 1), "", 20000.0),
                (date(2026, 4, 1), "Ewa Zielińska", 2000.0),
                (date(2026, 4, 1), "Jan Kowalski", 15000.0),
            ],
        )

    @users("sfp_manager")
    def test_targets_checks(self):
        Target = self.env["sales.funnel.target"]
        # in English, the month's English name (whatever the company's language)
        self.env["res.lang"].sudo()._activate_lang("en_US")
        with self.assertRaises(ValidationError) as error:
            Target.with_context(lang="en_US").create(
                {"date": date(2026, 2, 20), "team_id": self.team.id, "amount": 5}
            )
        self.assertEqual(
            str(error.exception),
            f"{self.team.display_name} already has a target for February 2026.",
        )
        # in Polish, the month's Polish name
        self._load_polish()
        with self.assertRaises(ValidationError) as error:
            Target.with_context(lang="pl_PL").create(
                {"date": date(2026, 2, 20), "team_id": self.team.id, "amount": 5}
            )
        self.assertEqual(
            str(error.exception), f"{self.team.display_name} ma już cel na luty 2026."
        )
        with self.assertRaises(ValidationError):
            Target.create(
                {"date": date(2026, 5, 1), "team_id": self.team.id, "amount": -5}
            )
        target = Target.create(
            {"date": date(2026, 5, 31), "team_id": self.team.id, "amount": 5}
        )
        self.assertEqual(target.date, date(2026, 5, 1))
