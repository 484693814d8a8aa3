# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from markupsafe import Markup

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged, users

from .common import SalesFunnelCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestCrmLeadReassign(SalesFunnelCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_leaving = cls._create_leaving_salesperson()
        cls.user_portal = cls._create_user(
            "sfp_portal",
            "Ewa Zielińska",
            "base.group_portal",
            email="ewa.zielinska@example.com",
            notification_type="email",
        )
        # a team the new salesperson is no member of
        cls.team_other = cls.env["crm.team"].create({"name": "Zespół Eksportowy"})

        piotr, new, meeting = cls.user_leaving, cls.stage_new, cls.stage_meeting
        cls.open_new = cls._create_opportunities_of(piotr, new, ["N1", "N2"])
        cls.open_meeting = cls._create_opportunities_of(piotr, meeting, ["M1", "M2"])
        cls.open_other_team = cls._create_opportunities_of(
            piotr, new, ["Eksport"], team_id=cls.team_other.id
        )
        cls.won = cls._create_opportunities_of(piotr, cls.stage_won, ["Wygrana"])
        cls.lost = cls._create_opportunities_of(piotr, meeting, ["Przegrana"])
        cls.lost.action_set_lost()
        cls.lead = cls._create_opportunities_of(piotr, new, ["Lead"], type="lead")
        cls.open_leads = cls.open_new | cls.open_meeting | cls.open_other_team
        cls.leaving_leads = cls.open_leads | cls.won | cls.lost | cls.lead
        cls.own_leads = cls._create_opportunities(2, cls.stage_new)

        cls.activity_new = cls.open_new[0].activity_schedule(
            "mail.mail_activity_data_todo",
            user_id=cls.user_leaving.id,
            summary="Zadzwonić do klienta",
        )
        cls.activity_meeting = cls.open_meeting[1].activity_schedule(
            "mail.mail_activity_data_todo",
            user_id=cls.user_leaving.id,
            summary="Przygotować spotkanie",
        )
        cls.activity_manager = cls.open_meeting[1].activity_schedule(
            "mail.mail_activity_data_todo",
            user_id=cls.user_manager.id,
            summary="Sprawdzić budżet",
        )
        cls.activity_won = cls.won.activity_schedule(
            "mail.mail_activity_data_todo",
            user_id=cls.user_leaving.id,
            summary="Wysłać fakturę",
        )
        # archived by a write (import, RPC): unlike the Archive action, that
        # keeps the user's activities, which must move with the opportunities
        cls.user_leaving.write({"active": False})

    def _assert_untouched(self):
        leads = self.leaving_leads.with_context(active_test=False)
        self.assertEqual(set(leads.mapped("user_id")), {self.user_leaving})
        self.assertEqual(set(self.own_leads.mapped("user_id")), {self.user_salesman})
        self.assertEqual(
            (self.activity_new | self.activity_meeting | self.activity_won).user_id,
            self.user_leaving,
        )
        self.assertFalse(leads.message_ids)

    def _assert_reassigned(self, leads, to_user):
        body = Markup("<p>Reassigned from %s to %s by Anna Nowak.</p>") % (
            self.user_leaving.name,
            to_user.name,
        )
        for lead in leads:
            self.assertEqual(lead.user_id, to_user)
            self.assertEqual(lead.message_ids.mapped("body"), [body])
            self.assertEqual(lead.message_ids.author_id, self.user_manager.partner_id)
            self.assertEqual(lead.message_ids.subtype_id, self.env.ref("mail.mt_note"))

    @users("sfp_manager")
    def test_reassign_archived_salesman(self):
        with Form(self.env["crm.lead.reassign"]) as form:
            self.assertEqual(form.lead_count, 0)
            form.from_user_id = self.user_leaving
            form.to_user_id = self.user_salesman
            self.assertEqual(form.lead_count, 5)
        action = form.record.action_reassign()

        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(
            action["params"]["message"],
            "5 opportunities reassigned from Piotr Wiśniewski to Jan Kowalski.",
        )
        self._assert_reassigned(self.open_leads, self.user_salesman)
        self.assertEqual(
            [lead.team_id for lead in self.open_leads],
            [self.team] * 4 + [self.team_other],
        )
        self.assertEqual(
            [lead.stage_id for lead in self.open_leads],
            [self.stage_new] * 2 + [self.stage_meeting] * 2 + [self.stage_new],
        )
        self.assertEqual(self.activity_new.user_id, self.user_salesman)
        self.assertEqual(self.activity_meeting.user_id, self.user_salesman)
        self.assertEqual(self.activity_manager.user_id, self.user_manager)
        self.assertEqual(
            self.open_meeting[1].activity_ids,
            self.activity_meeting | self.activity_manager,
        )
        # won, lost and the lead stay with the archived salesperson
        untouched = (self.won | self.lost | self.lead).with_context(active_test=False)
        self.assertEqual(set(untouched.mapped("user_id")), {self.user_leaving})
        self.assertFalse(untouched.message_ids)
        self.assertEqual(self.activity_won.user_id, self.user_leaving)
        self.assertTrue(self.won.stage_id.is_won)
        self.assertFalse(self.lost.active)
        self.assertEqual(self.lost.probability, 0)
        self.assertEqual(set(self.own_leads.mapped("user_id")), {self.user_salesman})
        self.assertFalse(form.record.lead_count)

    @users("sfp_manager")
    def test_reassign_limited_by_stage(self):
        wizard = self.env["crm.lead.reassign"].create(
            {
                "from_user_id": self.user_leaving.id,
                "to_user_id": self.user_manager.id,
                "stage_ids": [(6, 0, self.stage_meeting.ids)],
            }
        )
        self.assertEqual(wizard.lead_count, 2)
        action = wizard.action_reassign()

        self.assertEqual(
            action["params"]["message"],
            "2 opportunities reassigned from Piotr Wiśniewski to Anna Nowak.",
        )
        self._assert_reassigned(self.open_meeting, self.user_manager)
        self.assertEqual(self.activity_meeting.user_id, self.user_manager)
        staying = self.open_new | self.open_other_team
        self.assertEqual(set(staying.mapped("user_id")), {self.user_leaving})
        self.assertEqual(self.activity_new.user_id, self.user_leaving)
        self.assertFalse(staying.message_ids)

    @users("sfp_manager")
    def test_reassign_limited_by_team(self):
        wizard = self.env["crm.lead.reassign"].create(
            {
                "from_user_id": self.user_leaving.id,
                "to_user_id": self.user_salesman.id,
                "team_id": self.team_other.id,
            }
        )
        self.assertEqual(wizard.lead_count, 1)
        wizard.action_reassign()

        self._assert_reassigned(self.open_other_team, self.user_salesman)
        self.assertEqual(self.open_other_team.team_id, self.team_other)
        staying = self.open_new | self.open_meeting
        self.assertEqual(set(staying.mapped("user_id")), {self.user_leaving})
        self.assertFalse(staying.message_ids)

    @users("sfp_manager")
    def test_reassign_selected_opportunities(self):
        selected = self.open_new | self.open_meeting[0] | self.won
        Wizard = self.env["crm.lead.reassign"].with_context(
            active_model="crm.lead", active_ids=selected.ids
        )
        with Form(Wizard) as form:
            self.assertEqual(form.from_user_id, self.user_leaving)
            self.assertEqual({lead.id for lead in form.lead_ids}, set(selected.ids))
            self.assertEqual(form.lead_count, 3)
            form.to_user_id = self.user_salesman
        form.record.action_reassign()

        self._assert_reassigned(
            self.open_new | self.open_meeting[0], self.user_salesman
        )
        self.assertEqual(self.activity_new.user_id, self.user_salesman)
        staying = self.open_meeting[1] | self.open_other_team | self.won
        self.assertEqual(set(staying.mapped("user_id")), {self.user_leaving})
        self.assertEqual(self.activity_meeting.user_id, self.user_leaving)
        self.assertFalse(staying.message_ids)

    @users("sfp_manager")
    def test_reassign_errors(self):
        Wizard = self.env["crm.lead.reassign"]
        cases = [
            (
                self.user_salesman,
                self.user_leaving,
                {},
                "Piotr Wiśniewski is archived: choose an active salesperson.",
            ),
            (
                self.user_leaving,
                self.user_portal,
                {},
                "Ewa Zielińska is not an internal user: opportunities can only be "
                "assigned to internal users.",
            ),
            (
                self.user_leaving,
                self.user_leaving,
                {},
                "The opportunities already belong to Piotr Wiśniewski: choose "
                "another salesperson to reassign them to.",
            ),
            (
                self.user_leaving,
                self.user_salesman,
                {"stage_ids": [(6, 0, self.stage_order.ids)]},
                "Piotr Wiśniewski has no open opportunity matching these limits.",
            ),
            (
                self.user_leaving,
                self.user_salesman,
                {"lead_ids": [(6, 0, (self.won | self.own_leads).ids)]},
                "Piotr Wiśniewski has no open opportunity matching these limits.",
            ),
        ]
        for from_user, to_user, values, message in cases:
            with self.subTest(message=message):
                wizard = Wizard.create(
                    {"from_user_id": from_user.id, "to_user_id": to_user.id, **values}
                )
                with self.assertRaises(UserError) as error:
                    wizard.action_reassign()
                self.assertEqual(str(error.exception), message)
                self._assert_untouched()

    @users("sfp_salesman")
    def test_salesman_cannot_reassign(self):
        with self.assertRaises(AccessError):
            self.env["crm.lead.reassign"].create(
                {
                    "from_user_id": self.user_leaving.id,
                    "to_user_id": self.user_salesman.id,
                }
            )
