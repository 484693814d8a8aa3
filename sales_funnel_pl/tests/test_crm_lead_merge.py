# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date, datetime

from freezegun import freeze_time

from odoo.tests import tagged, users

from .common import SalesFunnelCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestCrmLeadMerge(SalesFunnelCommon):
    """Merging opportunities with crm's wizard merges their sales processes
    (Warsaw users, and a salesperson writing in UTC):

    - the older one, started by Anna (manager) at 00:30 on 5 January 2026 in
      Warsaw (still 4 January in UTC) in New Prospect; Jan moved it to
      Opportunity Analysis on 12 January (skipping three stages), then back
      to First Contact on 20 January;
    - the newer one, unassigned, started by Jan on 2 February in Need
      Information; John (UTC) moved it to Meeting on 3 February (skipping
      First Contact).

    Jan merges them on 10 February: crm keeps the newer one (its stage is
    further), which then started on 5 January, by Anna."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the test database may hold other stages: keep the funnel's 17 only
        cls.env["crm.stage"].search([("id", "not in", cls.stages.ids)]).active = False
        cls._setup_real_company()

    def _build(self):
        s = self.stages
        with freeze_time("2026-01-04 23:30:00"):
            older = self._create_opportunities(
                1, s[0], user=self.user_manager, name="Hala Gliwice"
            )
        with freeze_time("2026-01-12 08:00:00"):
            older.with_user(self.user_salesman).write({"stage_id": s[4].id})
        with freeze_time("2026-01-20 08:00:00"):
            older.with_user(self.user_salesman).write({"stage_id": s[2].id})
        with freeze_time("2026-02-02 08:00:00"):
            # unassigned (from the website): any salesperson may work on it
            newer = self._create_opportunities(
                1, s[1], name="Hala Gliwice (2)", user_id=False
            )
        with freeze_time("2026-02-03 08:00:00"):
            newer.with_user(self.user_salesman_utc).write({"stage_id": s[3].id})
        return older.with_env(self.env), newer.with_env(self.env)

    def _merge(self, leads):
        """Merge ``leads`` as the user does: crm's wizard on the selection."""
        wizard = (
            self.env["crm.merge.opportunity"]
            .with_context(active_model="crm.lead", active_ids=leads.ids)
            .create({"user_id": self.user_salesman.id, "team_id": self.team.id})
        )
        self.assertEqual(wizard.opportunity_ids, leads)
        action = wizard.action_merge()
        return self.env["crm.lead"].browse(action["res_id"])

    def _rows(self, lead):
        return lead.stage_history_ids.sorted(lambda row: (row.date_enter, row.id))

    @users("sfp_salesman")
    def test_merge_keeps_the_process(self):
        s = self.stages
        older, newer = self._build()
        older_id = older.id
        with freeze_time("2026-02-10 08:00:00"):
            merged = self._merge(older | newer)
        self.assertEqual(merged, newer)
        self.assertFalse(self.env["crm.lead"].browse(older_id).exists())
        # its stage and stage date are its own; the process started with the
        # older one, and got as far as it did
        self.assertRecordValues(
            merged,
            [
                {
                    "stage_id": s[3].id,
                    "date_stage": date(2026, 2, 3),
                    "date_process_start": date(2026, 1, 5),
                    "process_start_user_id": self.user_manager.id,
                    "stage_reached_id": s[4].id,
                    "stage_history_count": 5,
                }
            ],
        )
        self.assertEqual(
            merged.process_user_ids,
            self.user_manager | self.user_salesman | self.user_salesman_utc,
        )
        # both histories, as written; the older one's open row closed at the
        # merge, for no stage: the merged opportunity's own open row is its only one
        self.assertRecordValues(
            self._rows(merged),
            [
                {
                    "stage_id": s[0].id,
                    "change_type": "create",
                    "date_enter": datetime(2026, 1, 4, 23, 30),
                    "date_leave": datetime(2026, 1, 12, 8, 0),
                    "date_stage": date(2026, 1, 5),
                    "left_change": "stage",
                    "next_stage_id": s[4].id,
                    "user_id": self.user_manager.id,
                    "report_company_id": self.company.id,
                    "merged_lead_id": older_id,
                },
                {
                    "stage_id": s[4].id,
                    "change_type": "stage",
                    "date_enter": datetime(2026, 1, 12, 8, 0),
                    "date_leave": datetime(2026, 1, 20, 8, 0),
                    "date_stage": date(2026, 1, 12),
                    "left_change": "stage",
                    "next_stage_id": s[2].id,
                    "user_id": self.user_salesman.id,
                    "report_company_id": self.company.id,
                    "merged_lead_id": older_id,
                },
                {
                    "stage_id": s[2].id,
                    "change_type": "stage",
                    "date_enter": datetime(2026, 1, 20, 8, 0),
                    "date_leave": datetime(2026, 2, 10, 8, 0),
                    "date_stage": date(2026, 1, 20),
                    "left_change": "merge",
                    "next_stage_id": False,
                    "user_id": self.user_salesman.id,
                    "report_company_id": self.company.id,
                    "merged_lead_id": older_id,
                },
                {
                    "stage_id": s[1].id,
                    "change_type": "create",
                    "date_enter": datetime(2026, 2, 2, 8, 0),
                    "date_leave": datetime(2026, 2, 3, 8, 0),
                    "date_stage": date(2026, 2, 2),
                    "left_change": "stage",
                    "next_stage_id": s[3].id,
                    "user_id": self.user_salesman.id,
                    "report_company_id": self.company.id,
                    "merged_lead_id": 0,
                },
                {
                    "stage_id": s[3].id,
                    "change_type": "stage",
                    "date_enter": datetime(2026, 2, 3, 8, 0),
                    "date_leave": False,
                    "date_stage": date(2026, 2, 3),
                    "left_change": False,
                    "next_stage_id": False,
                    "user_id": self.user_salesman_utc.id,
                    "report_company_id": self.company.id,
                    "merged_lead_id": 0,
                },
            ],
        )
        # the next move closes the merged opportunity's open row only
        with freeze_time("2026-02-12 08:00:00"):
            merged.write({"stage_id": s[5].id})
        rows = self._rows(merged)
        self.assertEqual(
            [(row.stage_id, row.date_leave, row.left_change) for row in rows[2:]],
            [
                (s[2], datetime(2026, 2, 10, 8, 0), "merge"),
                (s[1], datetime(2026, 2, 3, 8, 0), "stage"),
                (s[3], datetime(2026, 2, 12, 8, 0), "stage"),
                (s[5], False, False),
            ],
        )
        self.assertEqual(merged.stage_reached_id, s[5])
        # a stage date corrected afterwards counts each opportunity's own
        # succession of stages: the merged-away one's rows keep their days
        with freeze_time("2026-02-13 08:00:00"):
            merged.with_user(self.user_manager).write({"date_stage": "2026-02-04"})
        rows = self._rows(merged)
        self.assertEqual(
            [(row.stage_id, row.duration_days) for row in rows],
            [
                (s[0], 7.0),
                (s[4], 8.0),
                (s[2], 0.0),
                (s[1], 1.0),
                (s[3], 1.0),
                (s[5], 0.0),
            ],
        )

    @users("sfp_salesman")
    def test_merged_counts_once_in_the_reports(self):
        s = self.stages
        older, newer = self._build()
        with freeze_time("2026-02-10 08:00:00"):
            merged = self._merge(older | newer)
            Board = self.env["sales.funnel.board"].with_context(tz="Europe/Warsaw")
            january, february = (
                Board.get_board_data(
                    "cohort",
                    period="custom",
                    date_from=date_from,
                    date_to=date_to,
                    team_id=self.team.id,
                )
                for date_from, date_to in [
                    ("2026-01-01", "2026-01-31"),
                    ("2026-02-01", "2026-02-28"),
                ]
            )
        # one opportunity, in the cohort of January (its process started
        # then), as far as Opportunity Analysis
        self.assertEqual(
            [(band["stage_id"], band["count"]) for band in january["bands"]],
            [(stage.id, 1 if stage in s[:5] else 0) for stage in s],
        )
        self.assertEqual([band["count"] for band in february["bands"]], [0] * len(s))
        # each band's domain lists what it counts: the merged opportunity's
        # history holds its entry into Opportunity Analysis
        Lead = self.env["crm.lead"]
        for band in january["bands"]:
            self.assertEqual(Lead.search_count(band["domain"]), band["count"])
        # the stage analysis: the entries and skipped stages of both, one
        # opportunity; no days counted in First Contact, left by the merge
        self.env.flush_all()
        report = self.env["sales.funnel.stage.report"]._read_group(
            [("lead_id", "in", (older | newer).ids)],
            ["stage_id"],
            [
                "lead_id:count_distinct",
                "entered_count:sum",
                "skipped_count:sum",
                "duration_days:avg",
            ],
        )
        self.assertEqual(
            report,
            [
                (s[0], 1, 1, 0, 7.0),
                (s[1], 1, 1, 1, 1.0),
                (s[2], 1, 1, 2, False),
                (s[3], 1, 1, 1, False),
                (s[4], 1, 1, 0, 8.0),
            ],
        )
        self.assertEqual(merged, newer)

    @users("sfp_salesman")
    def test_follow_ups_grow_from_the_merged(self):
        """What grew out of a merged-away opportunity grows out of the kept
        one, which grows out of what the merged-away one grew from."""
        s = self.stages
        with freeze_time("2026-01-05 08:00:00"):
            won = self._create_opportunities(1, s[15], name="Hala Zabrze")
            won.action_set_won()
        with freeze_time("2026-02-02 08:00:00"):
            grown, kept = self._create_opportunities(2, s[0])
            grown.origin_lead_id = won
            kept.write({"stage_id": s[2].id})
            follow_up = self._create_opportunities(1, s[0], name="Serwis hali")
            follow_up.origin_lead_id = grown
        with freeze_time("2026-02-10 08:00:00"):
            merged = self._merge(grown | kept)
        self.assertEqual(merged, kept)
        self.assertEqual(merged.origin_lead_id, won)
        self.assertEqual(follow_up.origin_lead_id, merged)
        self.assertEqual(won.follow_up_lead_ids, merged)

    @users("sfp_salesman")
    def test_query_count(self):
        """Merging the processes of one opportunity or three into the kept
        one: the same seven queries (the opportunities, their furthest
        stages, those stages in crm's stage order, the follow-ups to move,
        the history and workers, the kept one's values, the follow-ups'
        origin)."""
        s = self.stages

        def build(count):
            with freeze_time("2026-02-02 08:00:00"):
                kept = self._create_opportunities(1, s[3])
                others = self._create_opportunities(count, s[0], user=self.user_manager)
            with freeze_time("2026-02-03 08:00:00"):
                others.with_user(self.user_salesman).write({"stage_id": s[4].id})
                self._create_opportunities(1, s[0]).origin_lead_id = others[-1]
            return kept.with_env(self.env), others.with_env(self.env)

        with freeze_time("2026-02-10 08:00:00"):
            kept, others = build(1)
            self.env.invalidate_all()
            kept._merge_dependences_process(others)  # caches warm
        for count in (1, 3):
            kept, others = build(count)
            self.env.invalidate_all()
            with freeze_time("2026-02-10 08:00:00"):
                with self.assertQueryCount(sfp_salesman=7):
                    kept._merge_dependences_process(others)
            self.assertRecordValues(
                kept,
                [
                    {
                        "stage_reached_id": s[4].id,
                        "process_start_user_id": self.user_salesman.id,
                        "stage_history_count": 1 + 2 * count,
                    }
                ],
            )
            self.assertEqual(
                kept.process_user_ids, self.user_salesman | self.user_manager
            )

    @users("sfp_salesman")
    def test_stage_date_corrected_after_merging_parallel_opportunities(self):
        """Two opportunities worked at the same time, then merged: a stage
        date corrected afterwards counts each one's days in a stage up to its
        own next stage, never up to the other's row entered in between."""
        s = self.stages
        with freeze_time("2026-01-05 08:00:00"):
            older = self._create_opportunities(1, s[0], name="Hala Gliwice")
        with freeze_time("2026-02-02 08:00:00"):
            newer = self._create_opportunities(1, s[1], name="Hala Gliwice (2)")
        with freeze_time("2026-02-04 08:00:00"):
            older.write({"stage_id": s[2].id})
        with freeze_time("2026-02-06 08:00:00"):
            newer.write({"stage_id": s[3].id})
        with freeze_time("2026-02-10 08:00:00"):
            merged = self._merge((older | newer).with_env(self.env))
        self.assertEqual(merged, newer)
        with freeze_time("2026-02-13 08:00:00"):
            merged.with_user(self.user_manager).write({"date_stage": "2026-02-05"})
        self.assertEqual(
            [(row.stage_id, row.duration_days) for row in self._rows(merged)],
            [(s[0], 30.0), (s[1], 3.0), (s[2], 0.0), (s[3], 0.0)],
        )

    @users("sfp_salesman")
    def test_merging_an_opportunity_with_its_own_follow_up(self):
        """Merged with what grew out of it, the kept opportunity never grows
        out of itself; kept instead of what it grew out of, it grows out of
        what that one grew from."""
        s = self.stages
        with freeze_time("2026-01-05 08:00:00"):
            won = self._create_opportunities(1, s[15], name="Hala Zabrze")
            won.action_set_won()
        with freeze_time("2026-02-02 08:00:00"):
            # the kept one (further on); the other one grew out of it
            kept = self._create_opportunities(1, s[4], name="Rozbudowa hali")
            child = self._create_opportunities(1, s[0], name="Rozbudowa hali (2)")
            child.origin_lead_id = kept
        with freeze_time("2026-02-10 08:00:00"):
            merged = self._merge(kept | child)
        self.assertEqual(merged, kept)
        self.assertFalse(merged.origin_lead_id)
        # the other way: the kept one grew out of the one merged away, which
        # grew out of the won sale
        with freeze_time("2026-02-11 08:00:00"):
            parent = self._create_opportunities(1, s[0], name="Serwis hali")
            parent.origin_lead_id = won
            grown = self._create_opportunities(1, s[4], name="Serwis hali (2)")
            grown.origin_lead_id = parent
            merged = self._merge(parent | grown)
        self.assertEqual(merged, grown)
        self.assertEqual(merged.origin_lead_id, won)

    @users("sfp_salesman")
    def test_merged_twice_rows_keep_their_own_opportunity(self):
        """An opportunity merged into another, itself merged later into a
        third: each row still names the opportunity it was written for."""
        s = self.stages
        with freeze_time("2026-02-02 08:00:00"):
            first, second, third = (
                self._create_opportunities(1, stage, name=name)
                for stage, name in (
                    (s[0], "Hala Gliwice"),
                    (s[2], "Hala Gliwice (2)"),
                    (s[4], "Hala Gliwice (3)"),
                )
            )
        first_id, second_id = first.id, second.id
        with freeze_time("2026-02-10 08:00:00"):
            self.assertEqual(self._merge(first | second), second)
        with freeze_time("2026-02-11 08:00:00"):
            merged = self._merge(second | third)
        self.assertEqual(merged, third)
        self.assertEqual(
            [(row.stage_id, row.merged_lead_id) for row in self._rows(merged)],
            [(s[0], first_id), (s[2], second_id), (s[4], 0)],
        )
