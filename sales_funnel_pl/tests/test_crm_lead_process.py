# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from freezegun import freeze_time

from odoo.exceptions import ValidationError
from odoo.tests import tagged, users

from .. import compat
from .common import SalesFunnelCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestCrmLeadProcess(SalesFunnelCommon):
    """What a write does to each opportunity of a batch: only those whose
    process ends or reopens change; moves by the stage mapping are a
    migration; days in a stage follow the business stage dates."""

    def _rows(self, lead):
        return lead.stage_history_ids.sorted(lambda row: (row.date_enter, row.id))

    @users("sfp_salesman")
    def test_batch_into_won_stage_ends_only_new_wins(self):
        with freeze_time("2026-03-02 09:00:00"):
            leads = self._create_opportunities(3, self.stage_order)
            already_won, open_lead, lost = leads
            already_won.with_user(self.user_manager).action_set_won()
            lost.action_set_lost()
        with freeze_time("2026-03-09 09:00:00"):
            self.env["crm.lead"].with_context(active_test=False).browse(
                leads.ids
            ).write({"stage_id": self.stage_won.id})
        self.assertRecordValues(
            leads.with_context(active_test=False),
            [
                {
                    "date_process_end": date(2026, 3, 2),
                    "active": True,
                    "process_end_user_id": self.user_manager.id,
                    "probability": 100,
                },
                {
                    "date_process_end": date(2026, 3, 9),
                    "active": True,
                    "process_end_user_id": self.user_salesman.id,
                    "probability": 100,
                },
                # a lost opportunity written into the won stage: 18.0 keeps it
                # lost, 19.0's crm restores it, won (see compat.py)
                {
                    "date_process_end": date(2026, 3, 9),
                    "active": True,
                    "process_end_user_id": self.user_salesman.id,
                    "probability": 100,
                }
                if compat.WON_STAGE_RESTORES
                else {
                    "date_process_end": date(2026, 3, 2),
                    "active": False,
                    "process_end_user_id": self.user_salesman.id,
                    "probability": 100,
                },
            ],
        )
        # the already won one did not move: no new history row, no second win
        self.assertEqual(
            self._rows(already_won).mapped("change_type"), ["create", "won"]
        )
        self.assertEqual(self._rows(open_lead).mapped("change_type"), ["create", "won"])
        # the lost one: a move (18.0) or a win (19.0), never both
        self.assertEqual(
            self._rows(lost).mapped("change_type"),
            ["create", "lost", "won" if compat.WON_STAGE_RESTORES else "stage"],
        )
        self.assertEqual(lost.date_stage, date(2026, 3, 9))

    def _won_opportunities(self, lead):
        """The stage analysis' won opportunities among ``lead``'s rows: 1
        while it is won (its Order and Payment Received entries count it
        once), else 0."""
        self.env.flush_all()
        [[won]] = (
            self.env["sales.funnel.stage.report"]
            .sudo()
            ._read_group([("lead_id", "=", lead.id)], [], ["won_count:sum"])
        )
        return won

    @users("sfp_salesman")
    def test_archiving_a_won_opportunity(self):
        """18.0: archived is lost, whatever the stage; 19.0: crm keeps an
        archived opportunity of a won stage won (see compat.py)."""
        with freeze_time("2026-03-02 09:00:00"):
            lead = self._create_opportunities(1, self.stage_order)
            lead.action_set_won()
        with freeze_time("2026-03-04 09:00:00"):
            lead.action_archive()
        if compat.ODOO_19:
            self.assertRecordValues(
                lead,
                [
                    {
                        "active": False,
                        "probability": 100,
                        "won_status": "won",
                        "date_process_end": date(2026, 3, 2),
                    }
                ],
            )
            self.assertEqual(self._rows(lead).mapped("change_type"), ["create", "won"])
            # still a win in the stage analysis
            self.assertEqual(self._won_opportunities(lead), 1)
            with freeze_time("2026-03-05 09:00:00"):
                lead.action_unarchive()
            self.assertRecordValues(
                lead,
                [
                    {
                        "active": True,
                        "probability": 100,
                        "won_status": "won",
                        "date_process_end": date(2026, 3, 2),
                    }
                ],
            )
            self.assertEqual(self._rows(lead).mapped("change_type"), ["create", "won"])
        else:
            self.assertRecordValues(
                lead,
                [
                    {
                        "active": False,
                        "probability": 0,
                        "date_process_end": date(2026, 3, 4),
                    }
                ],
            )
            self.assertEqual(
                self._rows(lead).mapped("change_type"), ["create", "won", "lost"]
            )
            self.assertEqual(self._won_opportunities(lead), 0)

    @users("sfp_manager")
    def test_mapping_moves_lost_ones_as_a_migration(self):
        old_stage = (
            self.env["crm.stage"].sudo().create({"name": "Stary etap", "sequence": 1})
        )
        with freeze_time("2026-03-02 09:00:00"):
            leads = self._create_opportunities(2, old_stage, user=self.user_manager)
            open_lead, lost = leads
            lost.action_set_lost()
        with freeze_time("2026-03-05 09:00:00"):
            wizard = self.env["crm.stage.map"].create({})
            wizard.line_ids.target_stage_id = self.stage_order
            wizard.action_apply()
        self.assertRecordValues(
            leads.with_context(active_test=False),
            [
                {
                    "stage_id": self.stage_order.id,
                    "date_process_end": False,
                    "process_end_user_id": False,
                    "probability": 80,
                    "active": True,
                },
                {
                    "stage_id": self.stage_order.id,
                    "date_process_end": date(2026, 3, 2),
                    "process_end_user_id": self.user_manager.id,
                    "probability": 0,
                    "active": False,
                },
            ],
        )
        rows = self._rows(open_lead)
        self.assertRecordValues(
            rows,
            [
                {
                    "change_type": "create",
                    "left_change": "map",
                    "moved_on": False,
                    "stage_id": old_stage.id,
                },
                {
                    "change_type": "map",
                    "left_change": False,
                    "moved_on": False,
                    "stage_id": self.stage_order.id,
                },
            ],
        )
        # 13 funnel stages lie between, none of them skipped by a sale
        self.assertFalse(rows.skipped_stage_ids)
        Skip = self.env["crm.lead.stage.history.skip"].sudo()
        self.assertFalse(Skip.search([("lead_id", "in", leads.ids)]))
        report = self.env["sales.funnel.stage.report"].with_context(active_test=False)
        self.assertEqual(
            report._read_group(
                [("lead_id", "in", leads.ids)],
                [],
                ["skipped_count:sum", "moved_on_count:sum", "entered_count:sum"],
            ),
            [(0, 0, 4)],
        )

    @users("sfp_salesman")
    def test_won_back_to_a_zero_stage_reopens(self):
        with freeze_time("2026-03-02 09:00:00"):
            lead = self._create_opportunities(1, self.stage_order)
            lead.action_set_won()
            self.assertTrue(lead.date_closed)
        with freeze_time("2026-03-04 09:00:00"):
            lead.write({"stage_id": self.stage_new.id})
        self.assertRecordValues(
            lead,
            [
                {
                    "probability": 0,
                    "date_closed": False,
                    "date_process_end": False,
                    "process_end_user_id": False,
                    "date_stage": date(2026, 3, 4),
                }
            ],
        )
        won_row = self._rows(lead)[1]
        self.assertRecordValues(
            won_row,
            [
                {
                    "change_type": "won",
                    "left_change": "stage",
                    "moved_on": False,
                    "duration_days": 2.0,
                }
            ],
        )

    @users("sfp_salesman")
    def test_backward_move_is_not_moved_on(self):
        with freeze_time("2026-03-02 09:00:00"):
            lead = self._create_opportunities(1, self.stage_order)
        self._history(
            ("2026-03-03 09:00:00", lead, self.stage_meeting),
            ("2026-03-04 09:00:00", lead, self.stages[5]),
        )
        rows = self._rows(lead)
        self.assertEqual(rows.mapped("moved_on"), [False, True, False])
        # moving back skips nothing; moving on from Meeting skips one stage
        self.assertEqual(rows[1].skipped_stage_ids, self.env["crm.stage"])
        self.assertEqual(rows[2].skipped_stage_ids, self.stages[4])

    @users("sfp_salesman")
    def test_skipped_stages_follow_the_team(self):
        other_team = self.env["crm.team"].sudo().create({"name": "Inny zespół"})
        stages = (
            self.env["crm.stage"]
            .sudo()
            .create(
                [
                    {
                        "name": "Etap innego zespołu",
                        "sequence": self.stage_meeting.sequence,
                        **compat.stage_team_values(other_team),
                    },
                    {
                        "name": "Etap naszego zespołu",
                        "sequence": self.stage_meeting.sequence,
                        **compat.stage_team_values(self.team),
                    },
                ]
            )
        )
        lead, teamless = self._create_opportunities(2, self.stages[2])
        # an opportunity of no team (an import, a lead of the website) skips
        # the stages of no team only, in the same batch
        teamless.team_id = False
        (lead | teamless).write({"stage_id": self.stages[4].id})
        self.assertEqual(
            self._rows(lead)[1].skipped_stage_ids,
            (self.stage_meeting | stages[1]).sorted(),
        )
        self.assertFalse(teamless.team_id)
        self.assertEqual(self._rows(teamless)[1].skipped_stage_ids, self.stage_meeting)

    def test_batch_of_mixed_transitions_constant_queries(self):
        """Open, lost and already-there opportunities in one write: the same
        number of queries for 4 and for 16 of them."""
        # already there, lost (created lost: lead scoring learns nothing that
        # would change between the batches), further on, to move
        batches = [
            self.env["crm.lead"]
            .with_context(active_test=False)
            .union(
                self._create_opportunities(size // 4, self.stages[4]),
                self._create_opportunities(
                    size // 4, self.stage_meeting, active=False, probability=0
                ),
                self._create_opportunities(size // 4, self.stage_order),
                self._create_opportunities(size // 4, self.stage_meeting),
            )
            for size in (4, 4, 16)
        ]
        # crm's lead scoring gives lost opportunities uneven automated
        # probabilities once they move, which its flush then writes in
        # separate statements: move them once before counting
        self.env["crm.lead"].with_context(active_test=False).union(
            *(batch[len(batch) // 4 :] for batch in batches)
        ).write({"stage_id": self.stages[6].id})
        counts = []
        for batch in batches:  # the first one warms the caches
            self.env.flush_all()
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            batch.with_user(self.user_manager).write({"stage_id": self.stages[4].id})
            self.env.flush_all()
            counts.append(self.env.cr.sql_log_count - before)
        self.assertEqual(counts[1], counts[2], counts)
        self.assertEqual(
            batches[2].mapped(lambda lead: (lead.active, lead.probability)),
            [(True, 5.0)] * 4 + [(False, 0.0)] * 4 + [(True, 5.0)] * 8,
        )
        self.assertEqual(
            batches[2].mapped(lambda lead: lead.stage_history_ids[:1].change_type),
            ["create"] * 4 + ["stage"] * 12,
        )

    @users("sfp_manager")
    def test_days_in_stage_follow_backdated_stage_dates(self):
        with freeze_time("2026-01-01 09:00:00"):
            lead = self._create_opportunities(1, self.stage_new, user=self.user_manager)
        with freeze_time("2026-01-20 09:00:00"):
            lead.write({"stage_id": self.stage_meeting.id})
            lead.date_stage = date(2026, 1, 10)
            self.assertEqual(self._rows(lead).mapped("duration_days"), [9.0, 0.0])
        with freeze_time("2026-01-25 09:00:00"):
            lead.write({"stage_id": self.stage_order.id})
            rows = self._rows(lead)
            self.assertEqual(
                rows.mapped("date_stage"),
                [date(2026, 1, 1), date(2026, 1, 10), date(2026, 1, 25)],
            )
            self.assertEqual(rows.mapped("duration_days"), [9.0, 15.0, 0.0])
            # earlier than the previous stage's date: refused, nothing changed
            with self.assertRaisesRegex(
                ValidationError, "cannot be earlier than the date"
            ):
                with self.env.cr.savepoint():
                    lead.date_stage = date(2026, 1, 5)
            self.assertEqual(lead.date_stage, date(2026, 1, 25))
            # a manager corrects the meeting's date in the history
            rows[1].date_stage = date(2026, 1, 12)
            self.assertEqual(rows.mapped("duration_days"), [11.0, 13.0, 0.0])
            with self.assertRaisesRegex(
                ValidationError, "cannot be earlier than the date"
            ):
                with self.env.cr.savepoint():
                    rows[2].date_stage = date(2026, 1, 11)
            # the open row's date is the opportunity's stage date
            rows[2].date_stage = date(2026, 1, 20)
            self.assertEqual(lead.date_stage, date(2026, 1, 20))
            self.assertEqual(rows.mapped("duration_days"), [11.0, 8.0, 0.0])
        report = self.env["sales.funnel.stage.report"]
        self.assertEqual(
            report._read_group(
                [("lead_id", "=", lead.id), ("entered_count", "=", 1)],
                ["stage_id"],
                ["duration_days:avg", "median_days:median"],
            ),
            [
                (self.stage_new, 11.0, 11.0),
                (self.stage_meeting, 8.0, 8.0),
                (self.stage_order, False, False),
            ],
        )

    def test_history_company_follows_the_customer(self):
        other_company = self.env["res.company"].create({"name": "Druga Firma"})
        other_partner = self.env["res.partner"].create(
            {"name": "Klient drugiej firmy", "company_id": other_company.id}
        )
        lead = self.env["crm.lead"].create(
            {
                "name": "Bez zespołu",
                "type": "opportunity",
                "stage_id": self.stage_new.id,
                "user_id": False,
                "team_id": False,
            }
        )
        lead.write({"stage_id": self.stages[2].id})
        self.assertFalse(lead.company_id)
        lead.partner_id = other_partner
        self.assertEqual(lead.company_id, other_company)
        History = self.env["crm.lead.stage.history"]
        self.assertEqual(
            History.search(
                [("lead_id", "=", lead.id), ("company_id", "=", other_company.id)]
            ),
            lead.stage_history_ids,
        )
        self.assertEqual(lead.stage_history_ids.company_id, other_company)
        other_manager = self._create_user(
            "sfp_other_company",
            "Ewa Druga",
            "sales_team.group_sale_manager",
            company=other_company,
        )
        report = self.env["sales.funnel.stage.report"]
        self.assertEqual(
            report.with_user(other_manager)._read_group(
                [("lead_id", "=", lead.id)],
                [],
                ["entered_count:sum", "skipped_count:sum"],
            ),
            [(2, 1)],
        )
        self.assertEqual(
            report.with_user(self.user_manager)._read_group(
                [("lead_id", "=", lead.id)], [], ["entered_count:sum"]
            ),
            [(False,)],
        )

    @users("sfp_salesman")
    def test_winning_from_zero_keeps_lead_scoring_counts(self):
        Frequency = self.env["crm.lead.scoring.frequency"].sudo()
        self._score_on_email_only()
        lost = self._create_opportunities(
            1, self.stage_meeting, email_from="a@example.com"
        )
        lost.action_set_lost()
        lead = self._create_opportunities(1, self.stage_new, email_from="b@example.com")
        self.assertEqual(lead.probability, 0)

        def lost_counts():
            return {
                (freq.variable, freq.value): freq.lost_count
                for freq in Frequency.search([("team_id", "=", self.team.id)])
            }

        before = lost_counts()
        self.assertEqual(before[("email_state", "correct")], 1.1)
        lead.action_set_won()
        after = lost_counts()
        # an open 0% opportunity was never counted lost: nothing is taken back
        self.assertEqual({key: after[key] for key in before}, before)

    def test_whoever_completes_an_activity_works_on_the_process(self):
        lead = self._create_opportunities(1, self.stage_meeting)
        activity = lead.activity_schedule(
            activity_type_id=self.env.ref("mail.mail_activity_data_call").id,
            user_id=self.user_manager.id,
        )
        self.assertEqual(lead.process_user_ids, self.user_salesman)
        activity.with_user(self.user_manager).action_done()
        self.assertEqual(lead.process_user_ids, self.user_salesman | self.user_manager)

    @users("sfp_manager")
    def test_stage_analysis_orders_stages_both_ways(self):
        lead = self._create_opportunities(1, self.stage_new, user=self.user_manager)
        lead.write({"stage_id": self.stage_meeting.id})
        lead.write({"stage_id": self.stage_order.id})
        report = self.env["sales.funnel.stage.report"]
        domain = [("lead_id", "=", lead.id), ("entered_count", "=", 1)]
        for order, expected in (
            ("stage_id", [self.stage_new, self.stage_meeting, self.stage_order]),
            ("stage_id desc", [self.stage_order, self.stage_meeting, self.stage_new]),
        ):
            groups = compat.grouped_read(
                report, domain, ["stage_id"], ["entered_count:sum"], order=order
            )
            self.assertEqual(
                [group["stage_id"][0] for group in groups],
                [stage.id for stage in expected],
                order,
            )

    @users("sfp_salesman")
    def test_active_written_again_changes_nothing(self):
        """Writing ``active`` an opportunity already has (an import, an API
        client sending the whole record) is no event: a won sale written
        active stays won on its day, a lost one written archived stays lost
        on its day, and neither history gets a row."""
        with freeze_time("2026-03-02 09:00:00"):
            won, lost = self._create_opportunities(2, self.stage_order)
            won.action_set_won()
            lost.action_set_lost()
        with freeze_time("2026-03-04 09:00:00"):
            won.write({"active": True})
            lost.write({"active": False})
        self.assertRecordValues(
            (won | lost).with_context(active_test=False),
            [
                {
                    "active": True,
                    "probability": 100,
                    "date_process_end": date(2026, 3, 2),
                    "process_end_user_id": self.user_salesman.id,
                },
                {
                    "active": False,
                    "probability": 0,
                    "date_process_end": date(2026, 3, 2),
                    "process_end_user_id": self.user_salesman.id,
                },
            ],
        )
        self.assertEqual(self._rows(won).mapped("change_type"), ["create", "won"])
        self.assertEqual(self._rows(lost).mapped("change_type"), ["create", "lost"])

    @users("sfp_salesman")
    def test_won_moved_to_another_won_stage_stays_won_on_its_day(self):
        """A company with a second won stage ("Zrealizowane", after
        "Płatność otrzymana"): a won sale moved on into it is a stage move,
        neither a second win nor a reopening; its process ended when it was
        won, by whoever won it."""
        done = (
            self.env["crm.stage"]
            .sudo()
            .create(
                {
                    "name": "Zrealizowane",
                    "sequence": self.stage_won.sequence + 1,
                    "is_won": True,
                    "is_funnel_stage": True,
                    "probability": 100,
                }
            )
        )
        with freeze_time("2026-03-02 09:00:00"):
            lead = self._create_opportunities(1, self.stage_order)
            lead.with_user(self.user_manager).action_set_won()
        with freeze_time("2026-03-04 09:00:00"):
            lead.write({"stage_id": done.id})
        self.assertRecordValues(
            lead,
            [
                {
                    "stage_id": done.id,
                    "active": True,
                    "probability": 100,
                    "date_stage": date(2026, 3, 4),
                    "date_process_end": date(2026, 3, 2),
                    "process_end_user_id": self.user_manager.id,
                }
            ],
        )
        self.assertEqual(
            self._rows(lead).mapped("change_type"), ["create", "won", "stage"]
        )

    def test_whoever_completes_someone_elses_activity_works_on_the_process(self):
        """The manager marking done the call planned for Jan works on the
        process; Jan, who did not, does not become one of its workers."""
        lead = self._create_opportunities(
            1, self.stage_meeting, user=self.user_manager, user_id=False
        )
        activity = lead.activity_schedule(
            activity_type_id=self.env.ref("mail.mail_activity_data_call").id,
            user_id=self.user_salesman.id,
        )
        self.assertEqual(lead.process_user_ids, self.user_manager)
        activity.with_user(self.user_manager).action_done()
        self.assertEqual(lead.process_user_ids, self.user_manager)
