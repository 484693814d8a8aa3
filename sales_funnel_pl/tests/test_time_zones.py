# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from freezegun import freeze_time

from odoo.tests import tagged

from .common import SalesFunnelCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestTimeZones(SalesFunnelCommon):
    """Every date the addon shows or groups by is the user's local day: a
    Polish salesperson (Europe/Warsaw) wins a deal at 00:30 on 1 November
    2030, local time (23:30 UTC on 31 October)."""

    def test_win_after_midnight_in_warsaw(self):
        Lead = self.env["crm.lead"].with_user(self.user_salesman)
        with freeze_time("2030-10-31 22:00:00"):  # 23:00 in Warsaw
            lead = self._create_opportunities(
                1, self.stage_order, expected_revenue=5000
            )
            late = self._create_opportunities(
                1,
                self.stage_order,
                date_deadline=date(2030, 10, 20),
                expected_revenue=1000,
            )
            self.assertEqual(lead.date_process_start, date(2030, 10, 31))
        with freeze_time("2030-10-31 23:30:00"):  # 00:30 on 1 November in Warsaw
            Lead.browse(lead.id).action_set_won()
            self.assertRecordValues(
                lead,
                [
                    {
                        "date_stage": date(2030, 11, 1),
                        "date_process_end": date(2030, 11, 1),
                    }
                ],
            )
            rows = lead.stage_history_ids.sorted("id")
            self.assertEqual(
                rows.mapped("date_stage"), [date(2030, 10, 31), date(2030, 11, 1)]
            )
            self.assertEqual(rows[0].duration_days, 1.0)
            # the forecast reads with the web client's context (tz of the user)
            Forecast = (
                self.env["sales.funnel.forecast.report"]
                .with_user(self.user_salesman)
                .with_context(tz="Europe/Warsaw")
            )
            self.assertEqual(
                Forecast.search_read(
                    [("lead_id", "in", (lead | late).ids)],
                    ["lead_id", "date", "kind", "is_overdue"],
                    order="id",
                ),
                [
                    {
                        "id": lead.id,
                        "lead_id": (lead.id, lead.display_name),
                        "date": date(2030, 11, 1),
                        "kind": "won",
                        "is_overdue": False,
                    },
                    {
                        "id": late.id,
                        "lead_id": (late.id, late.display_name),
                        "date": date(2030, 10, 20),
                        "kind": "open",
                        "is_overdue": True,
                    },
                ],
            )
            self.assertEqual(
                Forecast._read_group(
                    [("lead_id", "in", (lead | late).ids)],
                    ["date:month"],
                    ["won_revenue:sum", "prorated_revenue:sum"],
                ),
                [(date(2030, 10, 1), 0.0, 800.0), (date(2030, 11, 1), 5000.0, 0.0)],
            )
            Stages = self.env["sales.funnel.stage.report"].with_user(self.user_salesman)
            self.assertEqual(
                Stages._read_group(
                    [("lead_id", "=", lead.id), ("entered_count", "=", 1)],
                    ["stage_id"],
                    ["days_to_win:avg", "duration_days:avg"],
                ),
                [(self.stage_order, False, 1.0), (self.stage_won, 1.0, False)],
            )

    def test_overdue_from_the_first_of_the_month_in_warsaw(self):
        """An expected closing date is overdue once its month is past in the
        user's days: expected on 31 October, it is overdue at 00:30 on 1
        November in Warsaw (23:30 UTC on 31 October), not an hour before;
        expected on 1 November, it is not overdue on 1 November."""
        with freeze_time("2030-10-20 09:00:00"):
            october, november = (
                self._create_opportunity(
                    name, self.stage_meeting, 1000, deadline, user=self.user_salesman
                )
                for name, deadline in (
                    ("Hala Październik", date(2030, 10, 31)),
                    ("Hala Listopad", date(2030, 11, 1)),
                )
            )
        Forecast = (
            self.env["sales.funnel.forecast.report"]
            .with_user(self.user_salesman)
            .with_context(tz="Europe/Warsaw")
        )
        for moment, overdue in (
            ("2030-10-31 22:00:00", []),  # 23:00 on 31 October in Warsaw
            ("2030-10-31 23:30:00", ["Hala Październik"]),  # 00:30 on 1 November
            ("2030-11-30 22:30:00", ["Hala Październik"]),  # 23:30 on 30 November
        ):
            with self.subTest(moment=moment), freeze_time(moment):
                self.assertEqual(
                    Forecast.search(
                        [
                            ("lead_id", "in", (october | november).ids),
                            ("is_overdue", "=", True),
                        ]
                    ).lead_id.mapped("name"),
                    overdue,
                )

    def test_move_by_a_writer_behind_the_creators_day(self):
        """At 00:30 on 1 April in Warsaw a Polish salesperson creates an
        opportunity (its process starts on 1 April); a colleague in UTC,
        still on 31 March, moves it at once: the move is dated 1 April, the
        process's first day, not refused as earlier than the start."""
        with freeze_time("2026-03-31 22:30:00"):
            lead = self._create_opportunities(1, self.stage_new)
            self.assertEqual(lead.date_process_start, date(2026, 4, 1))
            self.user_manager.tz = "UTC"
            lead.with_user(self.user_manager).write({"stage_id": self.stage_meeting.id})
            self.assertEqual(lead.date_stage, date(2026, 4, 1))
            self.assertEqual(
                lead.stage_history_ids.sorted("id")[-1].date_stage, date(2026, 4, 1)
            )
