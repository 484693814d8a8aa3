from datetime import date

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged, users

from .common import SalesFunnelCommon

# the lines' salespeople and months
JAN, EWA = "Jan Kowalski", "Ewa Zielińska"
FEB, MAR, APR = date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)
FEB_2027 = date(2027, 2, 1)


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestForecastSnapshot(SalesFunnelCommon):
    """The forecast stored at the start of a month: taken now, or rebuilt
    from the stage history."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_other = cls._create_other_salesperson()

    def _lines(self, user, day):
        Snapshot = self.env["sales.funnel.forecast.snapshot"].with_user(user)
        return self._sorted(
            (
                line.date_expected,
                line.is_overdue,
                line.user_id.name,
                line.stage_id.name,
                line.opportunity_count,
                line.expected_revenue,
                line.prorated_revenue,
                line.source,
            )
            for line in Snapshot.search(
                [("date_snapshot", "=", day), ("team_id", "=", self.team.id)]
            )
        )

    @staticmethod
    def _sorted(lines):
        return sorted(lines, key=lambda line: (line[0] or date.min, *line[1:]))

    def _build_pipeline(self):
        """The forecast's pipeline (A, B, F) and, the same day, Jan's C
        (New, undated), D (Order, due last December) and E (Meeting, beyond
        the 12 months a snapshot of February looks ahead)."""
        self.lead_a, self.lead_b, _f = self._create_forecast_pipeline(self.user_other)
        with freeze_time("2026-01-10 09:00:00"):
            self._create_opportunity("C", self.stage_new, 5000)
            self._create_opportunity("D", self.stage_order, 1000, date(2025, 12, 10))
            self._create_opportunity("E", self.stage_meeting, 7000, date(2027, 2, 1))

    FEBRUARY = [
        (False, False, JAN, "New Prospect", 1, 5000.0, 0.0, "live"),
        (FEB, False, EWA, "Order", 1, 4000.0, 3200.0, "live"),
        (FEB, False, JAN, "Order", 1, 10000.0, 8000.0, "live"),
        (FEB, True, JAN, "Order", 1, 1000.0, 800.0, "live"),
        (MAR, False, JAN, "Meeting", 1, 20000.0, 600.0, "live"),
    ]

    @users("sfp_manager")
    def test_snapshot_idempotent_and_immune_to_later_changes(self):
        self._build_pipeline()
        Snapshot = self.env["sales.funnel.forecast.snapshot"]
        # 05:00 UTC on the 1st, as the scheduled action runs: 06:00 in Warsaw
        with freeze_time("2026-02-01 05:00:00"):
            action = Snapshot.action_take_snapshot()
        self.assertEqual(action["params"]["message"], "The forecast is saved: 5 lines.")
        self.assertEqual(
            self._lines(self.user_manager, date(2026, 2, 1)), self.FEBRUARY
        )
        # the stage's % changes, and the opportunities with it; B moves on
        self.stage_order.sudo().probability = 90
        (self.lead_b | self.lead_a).sudo().write({"probability": 90})
        with freeze_time("2026-02-01 15:00:00"):
            self.lead_a.write({"stage_id": self.stage_order.id})
            # the same day again: the first snapshot of the day stands
            action = Snapshot.action_take_snapshot()
        self.assertEqual(
            action["params"]["message"],
            "Today's forecast was already saved; it stays as it was saved.",
        )
        self.assertEqual(
            self._lines(self.user_manager, date(2026, 2, 1)), self.FEBRUARY
        )
        with freeze_time("2026-03-01 05:00:00"):
            Snapshot.sudo()._cron_take_snapshot()
        self.assertEqual(
            self._lines(self.user_manager, date(2026, 3, 1)),
            [
                (False, False, JAN, "New Prospect", 1, 5000.0, 0.0, "live"),
                # B (due in February) and D are overdue in March
                (MAR, False, JAN, "Order", 1, 20000.0, 18000.0, "live"),
                (MAR, True, EWA, "Order", 1, 4000.0, 3200.0, "live"),
                (MAR, True, JAN, "Order", 2, 11000.0, 9800.0, "live"),
                # E now within the 12 months
                (FEB_2027, False, JAN, "Meeting", 1, 7000.0, 210.0, "live"),
            ],
        )
        # February's lines never changed
        self.assertEqual(
            self._lines(self.user_manager, date(2026, 2, 1)), self.FEBRUARY
        )

    @users("sfp_salesman")
    def test_snapshot_rights(self):
        self._build_pipeline()
        Snapshot = self.env["sales.funnel.forecast.snapshot"]
        with self.assertRaises(AccessError):
            Snapshot.action_take_snapshot()
        with self.assertRaises(AccessError):
            Snapshot.create(
                {
                    "date_snapshot": date(2026, 2, 1),
                    "stage_id": self.stage_new.id,
                    "company_id": self.company.id,
                    "currency_id": self.company.currency_id.id,
                }
            )
        with freeze_time("2026-02-01 05:00:00"):
            Snapshot.sudo()._cron_take_snapshot()
        lines = Snapshot.search(
            [("date_snapshot", "=", date(2026, 2, 1)), ("team_id", "=", self.team.id)]
        )
        # a salesperson with "own documents only" reads their own lines
        self.assertEqual(lines.user_id, self.user_salesman)
        self.assertEqual(sum(lines.mapped("prorated_revenue")), 8800.0 + 600.0)
        with self.assertRaises(AccessError):
            lines.write({"prorated_revenue": 1})
        with self.assertRaises(AccessError):
            lines.unlink()

    @users("sfp_manager")
    def test_snapshot_rebuilt_from_history(self):
        """Each month's first day at midnight in Warsaw, as the stage
        history shows it: open then, in the stage and at the % of then."""
        new, meeting, order = self.stage_new, self.stage_meeting, self.stage_order
        with freeze_time("2026-01-05 10:00:00"):
            lead_g = self._create_opportunity("G", new, 10000, date(2026, 4, 10))
        with freeze_time("2026-01-06 10:00:00"):
            lead_h = self._create_opportunity("H", order, 2000)
        with freeze_time("2026-01-07 10:00:00"):
            lead_i = self._create_opportunity("I", meeting, 3000, date(2026, 2, 15))
        with freeze_time("2026-01-10 10:00:00"):
            lead_j = self._create_opportunity("J", new, 1000, date(2026, 2, 10))
        self._history(
            ("2026-01-20 10:00:00", lead_g, meeting),
            ("2026-01-25 10:00:00", lead_h, "lost"),
            # 00:30 on February 1st in Warsaw: after the snapshot's midnight
            ("2026-01-31 23:30:00", lead_j, order),
            ("2026-02-10 10:00:00", lead_g, order),
            ("2026-02-20 10:00:00", lead_i, "won"),
        )
        # the stage's % changes afterwards: the history keeps the % of then
        self.stage_meeting.sudo().probability = 7
        Snapshot = self.env["sales.funnel.forecast.snapshot"].sudo()
        with freeze_time("2026-03-15 10:00:00"):
            written = Snapshot._rebuild_from_history(self.company, "Europe/Warsaw")
            self.assertEqual(written, 5)
            # run again: the days already stored are kept
            self.assertEqual(
                Snapshot._rebuild_from_history(self.company, "Europe/Warsaw"), 0
            )
        self.assertEqual(
            self._lines(self.user_manager, date(2026, 2, 1)),
            [
                (FEB, False, JAN, "Meeting", 1, 3000.0, 90.0, "history"),
                (FEB, False, JAN, "New Prospect", 1, 1000.0, 0.0, "history"),
                (APR, False, JAN, "Meeting", 1, 10000.0, 300.0, "history"),
            ],
        )
        self.assertEqual(
            self._lines(self.user_manager, date(2026, 3, 1)),
            [
                # J's February is overdue in March
                (MAR, True, JAN, "Order", 1, 1000.0, 800.0, "history"),
                (APR, False, JAN, "Order", 1, 10000.0, 8000.0, "history"),
            ],
        )

    def test_rebuild_uses_the_recorded_values(self):
        """From the start of the recording of opportunities' changes on
        (here 1 January 2026, 00:00 UTC), a rebuilt month holds the closing
        date, revenue and probability each opportunity had at its midnight,
        not today's; before it (1 January, 00:00 in Warsaw, is still 31
        December in UTC) the closing date is the earliest one known and the
        revenue and probability the stage history's."""
        self.env["ir.config_parameter"].sudo().set_param(
            "sales_funnel_pl.value_changes_since", "2026-01-01 00:00:00"
        )
        with freeze_time("2025-12-10 10:00:00"):
            lead_l = self._create_opportunity(
                "L", self.stage_order, 4000, date(2026, 1, 15)
            )
        with freeze_time("2026-01-05 10:00:00"):
            lead_k = self._create_opportunity(
                "K", self.stage_meeting, 20000, date(2026, 2, 20)
            )
        salesman = self.env(user=self.user_salesman)
        with freeze_time("2026-01-20 10:00:00"):
            lead_l.with_env(salesman).write({"date_deadline": date(2026, 3, 31)})
            lead_k.with_env(salesman).write(
                {"date_deadline": date(2026, 4, 30), "expected_revenue": 25000}
            )
        with freeze_time("2026-02-10 10:00:00"):
            lead_k.with_env(salesman).write({"probability": 10})
        with freeze_time("2026-03-10 10:00:00"):
            (lead_k | lead_l).with_env(salesman).write(
                {"date_deadline": date(2026, 6, 30)}
            )
        Snapshot = self.env["sales.funnel.forecast.snapshot"].sudo()
        with freeze_time("2026-03-15 10:00:00"):
            Snapshot._rebuild_from_history(self.company, "Europe/Warsaw")
        jan = date(2026, 1, 1)
        self.assertEqual(
            [self._lines(self.user_manager, day) for day in (jan, FEB, MAR)],
            [
                # before the recording: L's first known closing date
                [(jan, False, JAN, "Order", 1, 4000.0, 3200.0, "history")],
                [
                    (MAR, False, JAN, "Order", 1, 4000.0, 3200.0, "history"),
                    (APR, False, JAN, "Meeting", 1, 25000.0, 750.0, "history"),
                ],
                [
                    (MAR, False, JAN, "Order", 1, 4000.0, 3200.0, "history"),
                    (APR, False, JAN, "Meeting", 1, 25000.0, 2500.0, "history"),
                ],
            ],
        )

    @users("sfp_manager")
    def test_rebuild_keeps_a_taken_snapshot(self):
        with freeze_time("2026-01-05 10:00:00"):
            lead = self._create_opportunity(
                "G", self.stage_new, 10000, date(2026, 4, 10)
            )
        with freeze_time("2026-02-01 05:00:00"):
            self.env["sales.funnel.forecast.snapshot"].action_take_snapshot()
            lead.write({"stage_id": self.stage_order.id})
        with freeze_time("2026-02-15 10:00:00"):
            self.env["sales.funnel.forecast.snapshot"].sudo()._rebuild_from_history(
                self.company, "Europe/Warsaw"
            )
        self.assertEqual(
            self._lines(self.user_manager, date(2026, 2, 1)),
            [
                (APR, False, JAN, "New Prospect", 1, 10000.0, 0.0, "live"),
            ],
        )

    def test_snapshot_per_company(self):
        """Each company's lines in its own currency; the second company's
        are hidden to a user not working in it; a company keeps its day's
        snapshot while another one takes its first."""
        currency = self.env.ref(
            "base.EUR" if self.company.currency_id.name != "EUR" else "base.USD"
        )
        currency.active = True
        company_2 = self.env["res.company"].create(
            {"name": "Stalprofil GmbH", "currency_id": currency.id}
        )
        self.user_manager.company_ids |= company_2
        with freeze_time("2026-01-10 09:00:00"):
            self._create_opportunity(
                "M1",
                self.stage_order,
                1000,
                user=self.user_manager,
                team_id=False,
                user_id=self.user_manager.id,
                company_id=company_2.id,
            )
            self._create_opportunity("M2", self.stage_order, 500)
        Snapshot = self.env["sales.funnel.forecast.snapshot"]
        with freeze_time("2026-02-01 05:00:00"):
            self.assertEqual(Snapshot._take_snapshot(self.company, date(2026, 2, 1)), 1)
            # the second company has no snapshot of the day yet: it gets one
            self.assertEqual(
                Snapshot._take_snapshot(self.company | company_2, date(2026, 2, 1)), 1
            )
        lines = (
            Snapshot.with_user(self.user_manager)
            .with_context(allowed_company_ids=[self.company.id, company_2.id])
            .search([("date_snapshot", "=", date(2026, 2, 1))])
        )
        self.assertEqual(
            sorted(
                (line.company_id.name, line.currency_id.name, line.prorated_revenue)
                for line in lines
            ),
            sorted(
                [
                    ("Stalprofil GmbH", currency.name, 800.0),
                    (self.company.name, self.company.currency_id.name, 400.0),
                ]
            ),
        )
        only_first = (
            Snapshot.with_user(self.user_manager)
            .with_context(allowed_company_ids=[self.company.id])
            .search([("date_snapshot", "=", date(2026, 2, 1))])
        )
        self.assertEqual(only_first.company_id, self.company)
