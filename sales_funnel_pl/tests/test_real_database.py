# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The addon on a database shaped like a real company's: a team working its
own stages, leads, activities planned by people outside sales, batch writes
with x2many commands, writers in two time zones, stages sharing a
sequence. Outside the funnel, crm's behaviour stays."""

from datetime import date

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import Command, fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from .. import compat
from .common import SalesFunnelCommon


@tagged("post_install", "-at_install")
class TestRealDatabase(SalesFunnelCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_real_company()

    def _other_team_opportunity(self, **values):
        return (
            self.env["crm.lead"]
            .with_user(self.user_salesman_utc)
            .create(
                {
                    "name": "Serwis kotłowni",
                    "type": "opportunity",
                    "team_id": self.team_other.id,
                    "user_id": self.user_salesman_utc.id,
                    "stage_id": self.other_stages[0].id,
                    "expected_revenue": 10000,
                    **values,
                }
            )
        )

    def _team_lead(self, stage, **values):
        """A lead (type 'lead') of the funnel's team, created by Jan."""
        return (
            self.env["crm.lead"]
            .with_user(self.user_salesman)
            .create(
                {
                    "name": "Zapytanie ze strony",
                    "type": "lead",
                    "team_id": self.team.id,
                    "stage_id": stage.id,
                    **values,
                }
            )
        )

    # ------------------------------------------------------------
    # Defect 1: crm's behaviour outside the funnel
    # ------------------------------------------------------------

    def test_other_team_stage_move_keeps_typed_probability(self):
        """A team with its own stages: a typed 60% survives a stage move, as
        in plain crm (the funnel's stage % never applies there)."""
        lead = self._other_team_opportunity(probability=60)
        self.assertEqual(lead.probability, 60)
        lead.write({"stage_id": self.other_stages[1].id})
        self.assertEqual(lead.probability, 60)
        self.assertEqual(lead.prorated_revenue, 6000)
        # and the funnel's own opportunities still follow their stage
        funnel_lead = self._create_opportunities(1, self.stage_new, probability=60)
        funnel_lead.write({"stage_id": self.stage_meeting.id})
        self.assertEqual(funnel_lead.probability, 3)

    def _score_stage(self, stage, won, lost):
        """Predictive lead scoring's experience of ``stage`` (and of crm's
        first stage, which gives its totals)."""
        first = self.env["crm.stage"].search(
            compat.stage_team_domain(False), order="sequence, id", limit=1
        )
        self.env["crm.lead.scoring.frequency"].create(
            [
                {
                    "variable": "stage_id",
                    "value": str(stage_id),
                    "won_count": won,
                    "lost_count": lost,
                }
                for stage_id in {first.id, stage.id}
            ]
        )

    def test_lead_keeps_lead_scoring_probability(self):
        """A lead (type 'lead') in a funnel stage is scored by crm, and its
        probability follows the score, as in plain crm."""
        self._score_stage(self.stage_new, won=37, lost=63)
        lead = self._team_lead(self.stage_new)
        self.assertGreater(lead.automated_probability, 0)
        self.assertEqual(lead.probability, lead.automated_probability)
        # an opportunity of the same stage takes the stage's 0%
        opportunity = self._create_opportunities(1, self.stage_new)
        self.assertEqual(opportunity.probability, 0)

    def test_lead_converted_in_funnel_stage_takes_stage_probability(self):
        """A lead converted into an opportunity of a funnel stage enters the
        funnel: the stage proposes its %."""
        lead = self._team_lead(self.stage_meeting, probability=37)
        self.assertEqual(lead.probability, 37)
        lead.write({"type": "opportunity"})
        self.assertEqual(lead.probability, 3)

    def test_stage_apply_probability_touches_funnel_opportunities_only(self):
        lead = self._team_lead(self.stage_meeting, probability=37, name="Zapytanie")
        opportunity = self._create_opportunities(1, self.stage_meeting, probability=50)
        self.stage_meeting.with_user(self.user_manager).action_apply_probability()
        self.assertEqual(opportunity.probability, 3)
        self.assertEqual(lead.probability, 37)

    def test_reminder_concerns_funnel_opportunities_only(self):
        """The daily reminder lists what the funnel asks for: another team's
        opportunity without a next action is not the funnel's business."""
        self._other_team_opportunity()
        self.assertEqual(self.env["crm.lead"]._cron_next_action_reminders(), 0)
        self._create_opportunities(1, self.stage_meeting)
        self.assertEqual(self.env["crm.lead"]._cron_next_action_reminders(), 1)

    def test_scoring_update_skips_a_failing_batch(self):
        """Predictive lead scoring's nightly update: a batch that fails (here
        a row the database refuses to update) is logged and skipped, the
        other batches are written, as crm's own cron does."""
        self._score_stage(self.stage_new, won=37, lost=63)
        self._score_stage(self.stage_meeting, won=10, lost=90)
        self.env["ir.config_parameter"].sudo().set_param(
            "crm.pls_start_date", "2000-01-01"
        )
        refused = self._create_opportunities(1, self.stage_new)
        updated = self._create_opportunities(1, self.stage_meeting)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET automated_probability = 99 WHERE id = ANY(%s)",
            [(refused | updated).ids],
        )
        self.env.cr.execute(
            """CREATE FUNCTION sfp_refuse() RETURNS trigger AS $$
               BEGIN RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql;
               CREATE TRIGGER sfp_refuse BEFORE UPDATE ON crm_lead FOR EACH ROW
               WHEN (OLD.id = %s) EXECUTE FUNCTION sfp_refuse()""",
            [refused.id],
        )
        self.env.invalidate_all()
        with mute_logger(
            "odoo.sql_db", "odoo.addons.sales_funnel_pl.models.crm_lead_probability"
        ):
            self.env["crm.lead"]._update_automated_probabilities()
        self.assertEqual(refused.automated_probability, 99)
        self.assertNotEqual(updated.automated_probability, 99)
        # the probabilities of the funnel's opportunities stay their stage's
        self.assertEqual(updated.probability, 3)

    # ------------------------------------------------------------
    # Defect 3: winning closes the salesperson's activities only
    # ------------------------------------------------------------

    def test_winning_keeps_other_people_s_activities(self):
        lead = self._create_opportunities(1, self.stage_order)
        todo = self.env.ref("mail.mail_activity_data_todo")
        mine = lead.activity_schedule(
            activity_type_id=todo.id,
            summary="Zadzwonić w sprawie podpisu",
            user_id=self.user_salesman.id,
            date_deadline=date(2026, 3, 20),
        )
        invoice = lead.sudo().activity_schedule(
            activity_type_id=todo.id,
            summary="Wystawić fakturę",
            user_id=self.user_accountant.id,
        )
        survey = lead.sudo().activity_schedule(
            activity_type_id=todo.id,
            summary="Ankieta satysfakcji",
            user_id=self.user_accountant.id,
        )
        lead.with_user(self.user_salesman).write({"stage_id": self.stage_won.id})
        self.assertFalse(mine.exists())
        self.assertEqual(
            lead.activity_ids.filtered(lambda act: act.user_id == self.user_accountant),
            invoice | survey,
        )
        after_sale = self.env.ref("sales_funnel_pl.mail_activity_type_after_sale")
        self.assertEqual(
            (lead.activity_ids - invoice - survey).activity_type_id, after_sale
        )
        # the cancelled next action leaves a trace in the chatter
        note = lead.message_ids.filtered(
            lambda message: "Zadzwonić w sprawie podpisu" in (message.body or "")
        )
        self.assertEqual(len(note), 1)
        self.assertEqual(note.author_id, self.user_salesman.partner_id)

    def test_winning_outside_the_funnel_keeps_crm_activities(self):
        lead = self._other_team_opportunity()
        todo = self.env.ref("mail.mail_activity_data_todo")
        activity = lead.activity_schedule(
            activity_type_id=todo.id, user_id=self.user_salesman_utc.id
        )
        lead.write({"stage_id": self.other_stages[2].id})
        self.assertTrue(activity.exists())
        self.assertEqual(lead.activity_ids, activity)

    # ------------------------------------------------------------
    # Defect 6: a batch write writes the caller's values once
    # ------------------------------------------------------------

    def test_batch_write_with_x2many_commands_creates_once(self):
        leads = (
            self._create_opportunities(2, self.stage_new)
            | self._create_opportunities(2, self.stage_meeting)
            | self._create_opportunities(1, self.stage_order)
        )
        leads.with_user(self.user_salesman).write(
            {
                "stage_id": self.stages[4].id,
                "tag_ids": [Command.create({"name": "Import z targów"})],
            }
        )
        tags = self.env["crm.tag"].search([("name", "=", "Import z targów")])
        self.assertEqual(len(tags), 1)
        self.assertEqual(leads.tag_ids, tags)
        self.assertEqual(set(leads.mapped("probability")), {5})
        self.assertEqual(leads.stage_id, self.stages[4])

    # ------------------------------------------------------------
    # Defect 8: stage dates never go backwards across time zones
    # ------------------------------------------------------------

    def test_move_by_writer_behind_is_not_dated_before_previous_stage(self):
        with freeze_time("2026-03-09 22:00:00"):  # 9 March, 23:00 in Warsaw
            lead = self._create_opportunities(1, self.stage_new)
        with freeze_time("2026-03-09 23:30:00"):  # 10 March, 00:30 in Warsaw
            lead.with_user(self.user_salesman).write({"stage_id": self.stages[1].id})
            self.assertEqual(lead.date_stage, date(2026, 3, 10))
            # still 9 March in UTC
            lead.with_user(self.user_salesman_utc).write(
                {"stage_id": self.stages[2].id}
            )
            self.assertEqual(lead.date_stage, date(2026, 3, 10))
            rows = lead.stage_history_ids.sorted("id")
            self.assertEqual(
                rows.mapped("date_stage"),
                [date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 10)],
            )
        with freeze_time("2026-03-11 09:00:00"):
            # the stage date can still be corrected afterwards
            lead.with_user(self.user_salesman).write({"date_stage": "2026-03-11"})
            self.assertEqual(rows[-1].date_stage, date(2026, 3, 11))

    # ------------------------------------------------------------
    # Defect 9: one stage order, crm's
    # ------------------------------------------------------------

    def test_stage_sharing_a_sequence_follows_crm_order(self):
        """ "Demo", given the sequence of "Meeting", is an earlier column in
        crm's order (sequence, name, id): moving from it to "Meeting" moves
        on and makes "Meeting" the furthest stage."""
        demo = self.env["crm.stage"].create(
            {
                "name": "Demo",
                "sequence": self.stage_meeting.sequence,
                "is_funnel_stage": True,
                "probability": 3,
            }
        )
        order = self.env["crm.stage"].search(
            [("id", "in", (demo | self.stage_meeting).ids)]
        )
        self.assertEqual(order, demo | self.stage_meeting)
        lead = self._create_opportunities(1, demo)
        self.assertEqual(lead.stage_reached_id, demo)
        lead.with_user(self.user_salesman).write({"stage_id": self.stage_meeting.id})
        self.assertEqual(lead.stage_reached_id, self.stage_meeting)
        first_row = lead.stage_history_ids.sorted("id")[0]
        self.assertTrue(first_row.moved_on)
        self.assertEqual(
            (demo | self.stage_meeting)._sorted_in_order(), demo | self.stage_meeting
        )

    # ------------------------------------------------------------
    # Defect 10: a mapping is a migration
    # ------------------------------------------------------------

    def test_mapping_keeps_stage_date_and_workers(self):
        with freeze_time("2026-03-02 09:00:00"):
            lead = self._other_team_opportunity()
        with freeze_time("2026-03-20 09:00:00"):
            self.env["crm.lead"].browse(lead.ids).with_user(
                self.user_manager
            ).with_context(sales_funnel_stage_mapping=True).write(
                {"stage_id": self.stage_meeting.id}
            )
        self.assertEqual(lead.date_stage, date(2026, 3, 2))
        self.assertEqual(lead.process_user_ids, self.user_salesman_utc)
        self.assertEqual(lead.stage_history_ids.sorted("id")[-1].change_type, "map")

    # ------------------------------------------------------------
    # Defect 11: the install's won rule
    # ------------------------------------------------------------

    def test_install_dates_open_opportunity_at_100_is_open(self):
        lead = self._create_opportunities(1, self.stage_order, probability=100)
        self.env["crm.lead"].flush_model()
        self.env["crm.lead"]._fill_process_dates()
        self.assertFalse(lead.date_process_end)
        with freeze_time(fields.Date.today()):
            lead.with_user(self.user_salesman).write({"stage_id": self.stage_won.id})
        self.assertEqual(lead.stage_history_ids.sorted("id")[-1].change_type, "won")
        self.assertEqual(lead.process_end_user_id, self.user_salesman)

    def test_backfill_weighs_other_stages_at_the_opportunity_s_probability(self):
        """The install's history of an opportunity that moved through another
        team's stages: crm kept its probability from stage to stage, so the
        past rows record it (not the stage's 0%), and past forecasts rebuilt
        from them count it; a funnel opportunity's past rows record their
        stage's %."""
        other = self._other_team_opportunity(probability=60)
        funnel = self._create_opportunities(1, self.stage_new)
        customer = self.env["res.partner"].create({"name": "Hurtownia Wisła"})
        # created without tracking, as the tests' opportunities are: the
        # tracking of their first move waits for that creation's commit
        self.env.cr.flush()
        with freeze_time(fields.Datetime.now() + relativedelta(seconds=5)):
            other.with_context(tracking_disable=False).write(
                {"stage_id": self.other_stages[1].id}
            )
            # with other tracked fields in the same message (the customer,
            # whose values are ids too, and the contact's name): not stage
            # changes
            funnel.with_context(tracking_disable=False).write(
                {"stage_id": self.stage_meeting.id, "partner_id": customer.id}
            )
            # the tracking messages are written before the commit
            self.env.cr.flush()
        self.env.cr.execute(
            "DELETE FROM crm_lead_stage_history WHERE lead_id = ANY(%s)",
            [(other | funnel).ids],
        )
        self.env.cr.execute(
            """SELECT f.name FROM mail_tracking_value v
                 JOIN mail_message m ON m.id = v.mail_message_id
                 JOIN ir_model_fields f ON f.id = v.field_id
                WHERE m.model = 'crm.lead' AND m.res_id = %s ORDER BY f.name""",
            [funnel.id],
        )
        self.assertEqual(
            self.env.cr.fetchall(), [("contact_name",), ("partner_id",), ("stage_id",)]
        )
        History = self.env["crm.lead.stage.history"]
        History.invalidate_model()
        self.assertEqual(History._backfill(), 2)
        (other | funnel).invalidate_recordset()
        self.assertEqual(
            other.stage_history_ids.sorted("id").mapped(
                lambda row: (row.stage_id, row.probability, row.prorated_revenue)
            ),
            [
                (self.other_stages[0], 60, 6000),
                (self.other_stages[1], 60, 6000),
            ],
        )
        self.assertEqual(
            funnel.stage_history_ids.sorted("id").mapped(
                lambda row: (row.stage_id, row.probability)
            ),
            [(self.stage_new, 0), (self.stage_meeting, 3)],
        )

    def test_backfill_skips_only_stages_there_at_the_move(self):
        """The install's history of a move made before the funnel's stages
        existed: a company moved an opportunity from "New" to "Meeting" on
        15 January, when of the stages between them only "Need Information"
        existed (the others came with the install, this year): that one is
        recorded as skipped, not the stages created after the move (about
        13 rows per sale of past years at a million opportunities). A move
        made now skips the stages as they stand."""
        lead = self._create_opportunities(1, self.stage_new)
        self.env.cr.flush()
        with freeze_time(fields.Datetime.now() + relativedelta(seconds=5)):
            lead.with_context(tracking_disable=False).write(
                {"stage_id": self.stage_meeting.id}
            )
            self.env.cr.flush()
        between = self.stages[1:3]
        self.assertEqual(len(between), 2)
        existing = between[0]
        self.env.cr.execute(
            """UPDATE mail_message SET date = '2026-01-15 09:00:00'
                WHERE model = 'crm.lead' AND res_id = %s""",
            [lead.id],
        )
        self.env.cr.execute(
            """UPDATE crm_lead SET create_date = '2026-01-10 09:00:00',
                                   date_last_stage_update = '2026-01-15 09:00:00'
                WHERE id = %s""",
            [lead.id],
        )
        self.env.cr.execute(
            "UPDATE crm_stage SET create_date = '2026-01-02 08:00:00' WHERE id = %s",
            [existing.id],
        )
        self.env.cr.execute(
            "DELETE FROM crm_lead_stage_history WHERE lead_id = %s", [lead.id]
        )
        History = self.env["crm.lead.stage.history"]
        History.invalidate_model()
        self.assertEqual(History._backfill(), 1)
        lead.invalidate_recordset()
        self.assertEqual(
            lead.stage_history_ids.sorted("id").mapped(
                lambda row: (row.stage_id, row.skipped_stage_ids)
            ),
            [
                (self.stage_new, self.env["crm.stage"]),
                (self.stage_meeting, existing),
            ],
        )
        # a move made now: every stage between, as they stand
        lead.with_user(self.user_salesman).write({"stage_id": self.stage_order.id})
        self.assertEqual(
            lead.stage_history_ids.sorted("id")[-1].skipped_stage_ids,
            self.stages[4:13],
        )

    def test_install_days_of_odoobot_are_the_company_s(self):
        """The install runs as OdooBot (no time zone): its days are those of
        the time zone the company's users work in, not UTC's."""
        from ..utils import user_tz

        odoobot = self.env.ref("base.user_root")
        self.assertFalse(odoobot.tz)
        self.assertEqual(user_tz(self.env(user=odoobot, context={})), "Europe/Warsaw")

    # ------------------------------------------------------------
    # Breaks the suite let through (a mutation pass over the fixes)
    # ------------------------------------------------------------

    def test_lead_written_with_its_type_keeps_crm_probability(self):
        """An import writes every column: a lead moved with its type written
        again, and an opportunity turned back into a lead and moved, keep
        crm's probability (the funnel's stage % is for opportunities)."""
        lead = self._team_lead(self.stage_new, probability=37)
        opportunity = self._create_opportunities(1, self.stage_new, probability=40)
        (lead | opportunity).with_user(self.user_salesman).write(
            {"type": "lead", "stage_id": self.stage_meeting.id}
        )
        self.assertEqual(
            (lead | opportunity).mapped(lambda rec: (rec.type, rec.probability)),
            [("lead", 37), ("lead", 40)],
        )

    def test_stage_apply_probability_outside_the_funnel_changes_nothing(self):
        """Re-applying the % of another team's stage (not the funnel's) leaves
        its opportunities' probabilities to crm: a typed 60% stays."""
        lead = self._other_team_opportunity(probability=60)
        self.other_stages[0].with_user(self.user_manager).action_apply_probability()
        self.assertEqual(lead.probability, 60)
        self.assertEqual(lead.prorated_revenue, 6000)

    def test_board_bands_follow_crm_stage_order(self):
        """The funnel board ranks stages in crm's order: "Demo", given the
        sequence of "Meeting", is the earlier band, and an opportunity that
        got as far as Demo does not count in Meeting's band."""
        demo = self.env["crm.stage"].create(
            {
                "name": "Demo",
                "sequence": self.stage_meeting.sequence,
                "is_funnel_stage": True,
                "probability": 3,
            }
        )
        with freeze_time("2026-03-10 09:00:00"):
            lead = self._create_opportunities(1, demo)
            data = (
                self.env["sales.funnel.board"]
                .with_user(self.user_manager)
                .with_context(tz="Europe/Warsaw")
                .get_board_data("cohort", period="month", team_id=self.team.id)
            )
        bands = [
            (band["stage_id"], band["count"])
            for band in data["bands"]
            if band["stage_id"] in (self.stages[2] | demo | self.stage_meeting).ids
        ]
        self.assertEqual(
            bands, [(self.stages[2].id, 1), (demo.id, 1), (self.stage_meeting.id, 0)]
        )
        domains = {band["stage_id"]: band["domain"] for band in data["bands"]}
        Lead = self.env["crm.lead"].with_user(self.user_manager)
        self.assertEqual(Lead.search(domains[demo.id]), lead)
        self.assertFalse(Lead.search(domains[self.stage_meeting.id]))

    def test_batch_write_over_several_transitions_writes_commands_once(self):
        """A batch whose opportunities make different moves (two move on,
        one is already there, one reopens from won) gets what the caller
        wrote once: one tag, on each of them."""
        moving = self._create_opportunities(2, self.stage_new)
        there = self._create_opportunities(1, self.stages[4])
        won = self._create_opportunities(1, self.stage_order)
        won.with_user(self.user_salesman).write({"stage_id": self.stage_won.id})
        self.assertTrue(won.date_process_end)
        leads = moving | there | won
        leads.with_user(self.user_salesman).write(
            {
                "stage_id": self.stages[4].id,
                "tag_ids": [Command.create({"name": "Import z targów"})],
            }
        )
        tags = self.env["crm.tag"].search([("name", "=", "Import z targów")])
        self.assertEqual(len(tags), 1)
        self.assertEqual(
            leads.mapped(
                lambda lead: (
                    lead.tag_ids,
                    lead.stage_id,
                    lead.probability,
                    lead.date_process_end,
                )
            ),
            [(tags, self.stages[4], 5, False)] * 4,
        )
