from datetime import date

from freezegun import freeze_time

from odoo.tests import tagged

from .. import compat
from .common import SalesFunnelCommon

# Jan's row as of 1 February 2026: 2 open, 2 won (15,000 on average), 1
# lost, 15 days a sale: 2 × 15,000 × 2/3 ÷ 15 = 1,333.33 a day
JAN = ("Jan Kowalski", "Zespół Testowy", 2, 2, 1, 15000.0, 66.67, 15.0, 1333.33)


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestSalesVelocity(SalesFunnelCommon):
    """Sales velocity = open opportunities × average won value × win rate ÷
    average sales cycle, from the sales closed in the last twelve months."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_other = cls._create_other_salesperson("sfp_velocity_other")
        Lead = cls.env["crm.lead"]
        meeting = cls.stage_meeting
        with freeze_time("2026-01-05 09:00:00"):
            won = cls._create_opportunities(2, cls.stage_order)
            won[0].expected_revenue, won[1].expected_revenue = 10000, 20000
            lost = cls._create_opportunities(1, meeting)
            cls._create_opportunities(2, meeting)  # open
            cls._create_opportunities(
                1, meeting, user=cls.user_manager, user_id=cls.user_other.id
            )  # open, other
        with freeze_time("2024-05-05 09:00:00"):
            old = cls._create_opportunities(1, meeting)
        cls._history(
            ("2024-05-05 09:00:00", old, "lost"),  # outside the twelve months
            ("2026-01-15 09:00:00", won[0], "won"),  # 10 days
            ("2026-01-25 09:00:00", won[1], "won"),  # 20 days
            ("2026-01-25 09:00:00", lost, "lost"),
        )
        cls.leads = Lead.with_context(active_test=False).search(
            [("user_id", "in", (cls.user_salesman | cls.user_other).ids)]
        )

    def _rows(self, user):
        # each read as a new request reads it (the report's rows keep their
        # ids from one day to the next)
        self.env.invalidate_all()
        Report = self.env["sales.funnel.velocity.report"].with_user(user)
        return [
            (
                row.user_id.name,
                row.team_id.name,
                row.open_count,
                row.won_count,
                row.lost_count,
                row.avg_won_value,
                round(row.win_rate, 2),
                row.cycle_days,
                round(row.velocity, 2),
            )
            for row in Report.search([], order="user_id")
        ]

    @freeze_time("2026-02-01 09:00:00")
    def test_velocity_of_a_salesperson(self):
        self.assertEqual(self._rows(self.user_salesman), [JAN])

    @freeze_time("2026-02-01 09:00:00")
    def test_manager_sees_every_salesperson_and_team_total(self):
        rows = self._rows(self.user_manager)
        self.assertEqual(
            rows,
            [
                ("Ewa Zielińska", "Zespół Testowy", 1, 0, 0, 0.0, 0.0, 0.0, 0.0),
                JAN,
            ],
        )
        Report = self.env["sales.funnel.velocity.report"].with_user(self.user_manager)
        self.assertEqual(
            [
                (team.name, round(velocity, 2), count)
                for team, velocity, count in Report._read_group(
                    [], ["team_id"], ["velocity:sum", "open_count:sum"]
                )
            ],
            [("Zespół Testowy", 1333.33, 3)],
        )

    @freeze_time("2027-01-20 09:00:00")
    def test_only_the_last_twelve_months_count(self):
        # the win of 15 January 2026 and the loss of 25 January are a year old
        # for the first, within the year for the others
        self.assertEqual(
            self._rows(self.user_salesman),
            [
                (
                    "Jan Kowalski",
                    "Zespół Testowy",
                    2,
                    1,
                    1,
                    20000.0,
                    50.0,
                    20.0,
                    1000.0,
                ),
            ],
        )

    @freeze_time("2026-02-01 09:00:00")
    def test_archived_won_sale(self):
        """19.0 keeps an archived opportunity of the won stage won (crm's
        won_status): velocity and forecast still count its sale. On 18.0
        archiving is losing: the sale becomes a loss of 1 February."""
        won = self.leads.filtered(
            lambda lead: lead.stage_id.is_won and lead.expected_revenue == 10000
        )
        won.with_user(self.user_manager).action_archive()
        self.env.flush_all()
        forecast = (
            self.env["sales.funnel.forecast.report"]
            .with_user(self.user_manager)
            .search([("lead_id", "=", won.id)])
        )
        if compat.ODOO_19:
            self.assertEqual(
                self._rows(self.user_salesman),
                [
                    (
                        "Jan Kowalski",
                        "Zespół Testowy",
                        2,
                        2,
                        1,
                        15000.0,
                        66.67,
                        15.0,
                        1333.33,
                    ),
                ],
            )
            self.assertEqual(
                [(row.kind, row.date, row.won_revenue) for row in forecast],
                [("won", date(2026, 1, 15), 10000.0)],
            )
        else:
            # 2 open × 20,000 × 1/3 ÷ 20 days
            self.assertEqual(
                self._rows(self.user_salesman),
                [
                    (
                        "Jan Kowalski",
                        "Zespół Testowy",
                        2,
                        1,
                        2,
                        20000.0,
                        33.33,
                        20.0,
                        666.67,
                    ),
                ],
            )
            self.assertFalse(forecast)

    def test_window_ends_a_year_ago_to_the_day_in_warsaw(self):
        """The twelve months end a year before the user's day: at 00:30
        on 25 January 2027 in Warsaw (still the 24th in UTC) the win and the
        loss of 25 January 2026 are a year old and no longer count; the day
        before, they still do."""
        for moment, row in (
            # 23:30 on 24 January 2027 in Warsaw: 365 days after 24 January
            (
                "2027-01-24 22:30:00",
                (
                    "Jan Kowalski",
                    "Zespół Testowy",
                    2,
                    1,
                    1,
                    20000.0,
                    50.0,
                    20.0,
                    1000.0,
                ),
            ),
            # 00:30 on 25 January 2027 in Warsaw: only the open ones are left
            (
                "2027-01-24 23:30:00",
                ("Jan Kowalski", "Zespół Testowy", 2, 0, 0, 0.0, 0.0, 0.0, 0.0),
            ),
        ):
            with self.subTest(moment=moment), freeze_time(moment):
                self.assertEqual(self._rows(self.user_salesman), [row])

    def test_twelve_months_of_a_leap_year(self):
        """On 29 February 2028 in Warsaw the twelve months go back to 1 March
        2027 (366 days): the sale won that day still counts; at 00:30 on 1
        March 2028 in Warsaw (still 29 February in UTC) it no longer does.
        The sales of January 2026 are long out of it."""
        with freeze_time("2027-02-19 09:00:00"):
            lead = self._create_opportunities(1, self.stage_order)
        self._history(("2027-03-01 09:00:00", lead, "won"))  # 10 days
        for moment, row in (
            # 2 open × 10,000 × 1/1 ÷ 10 days
            (
                "2028-02-29 22:30:00",
                (
                    "Jan Kowalski",
                    "Zespół Testowy",
                    2,
                    1,
                    0,
                    10000.0,
                    100.0,
                    10.0,
                    2000.0,
                ),
            ),
            (
                "2028-02-29 23:30:00",
                ("Jan Kowalski", "Zespół Testowy", 2, 0, 0, 0.0, 0.0, 0.0, 0.0),
            ),
        ):
            with self.subTest(moment=moment), freeze_time(moment):
                self.assertEqual(self._rows(self.user_salesman), [row])

    @freeze_time("2026-02-01 09:00:00")
    def test_open_opportunity_without_salesperson(self):
        """An open opportunity nobody sells yet is no salesperson's velocity,
        nor its team's: the manager, who reads every salesperson's row, sees
        no row without one."""
        self._create_opportunities(
            1,
            self.stage_meeting,
            user=self.user_manager,
            name="Zapytanie bez opiekuna",
            user_id=False,
        )
        self.env.flush_all()
        self.assertEqual(
            self._rows(self.user_manager),
            [
                ("Ewa Zielińska", "Zespół Testowy", 1, 0, 0, 0.0, 0.0, 0.0, 0.0),
                JAN,
            ],
        )
        Report = self.env["sales.funnel.velocity.report"].with_user(self.user_manager)
        self.assertEqual(
            [
                (team.name, round(velocity, 2), count)
                for team, velocity, count in Report._read_group(
                    [], ["team_id"], ["velocity:sum", "open_count:sum"]
                )
            ],
            [("Zespół Testowy", 1333.33, 3)],
        )
