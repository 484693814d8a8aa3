# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from freezegun import freeze_time

from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged, users

from .common import SalesFunnelCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestCrmLeadNextAction(SalesFunnelCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.activity_type = cls.env.ref("mail.mail_activity_data_todo")
        cls.call_type = cls.env.ref("mail.mail_activity_data_call")
        cls.email_type = cls.env.ref("mail.mail_activity_data_email")
        cls.after_sale_type = cls.env.ref(
            "sales_funnel_pl.mail_activity_type_after_sale"
        )

    @users("sfp_salesman")
    @freeze_time("2026-04-01 08:00:00")
    def test_next_action_plans_one_activity(self):
        lead = self._create_opportunities(1, self.stage_meeting)
        self.assertEqual(lead.next_action_state, "missing")
        lead.write(
            {"next_action": "Wysłać ofertę", "next_action_date": date(2026, 4, 3)}
        )
        activity = lead.next_activity_id
        self.assertRecordValues(
            activity,
            [
                {
                    "activity_type_id": self.activity_type.id,
                    "summary": "Wysłać ofertę",
                    "date_deadline": date(2026, 4, 3),
                    "user_id": self.user_salesman.id,
                    "res_id": lead.id,
                }
            ],
        )
        self.assertEqual(lead.next_action_state, "planned")
        # moving the next action moves the same activity
        lead.next_action_date = date(2026, 4, 6)
        self.assertEqual(lead.activity_ids, activity)
        self.assertEqual(activity.date_deadline, date(2026, 4, 6))
        # editing the activity updates the opportunity
        activity.write(
            {"summary": "Zadzwonić do klienta", "date_deadline": date(2026, 3, 30)}
        )
        self.assertEqual(lead.next_action, "Zadzwonić do klienta")
        self.assertEqual(lead.next_action_date, date(2026, 3, 30))
        self.assertEqual(lead.next_action_state, "overdue")
        # done: the next action is cleared and the user worked on the process
        activity.action_done()
        self.assertFalse(lead.next_action)
        self.assertFalse(lead.next_action_date)
        self.assertFalse(lead.activity_ids)
        self.assertEqual(lead.next_action_state, "missing")
        self.assertIn(self.user_salesman, lead.process_user_ids)

    @users("sfp_salesman")
    @freeze_time("2026-04-01 08:00:00")
    def test_next_action_in_form_and_cleared(self):
        with self._opportunity_form("Serwis drukarek") as form:
            form.next_action = "Spotkanie u klienta"
        lead = form.record
        self.assertEqual(lead.next_action_date, date(2026, 4, 1))
        self.assertEqual(lead.next_activity_id.summary, "Spotkanie u klienta")
        lead.write({"next_action": False, "next_action_date": False})
        self.assertFalse(lead.activity_ids)
        self.assertFalse(lead.next_activity_id)

    @users("sfp_salesman")
    @freeze_time("2026-05-10 08:00:00")
    def test_won_plans_after_sale_and_follow_up_opportunity(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "sales_funnel_pl.after_sale_days", "10"
        )
        lead = self._create_opportunities(1, self.stage_order)
        lead.action_set_won()
        after_sale = lead.activity_ids.filtered(
            lambda activity: activity.activity_type_id == self.after_sale_type
        )
        self.assertRecordValues(
            after_sale,
            [
                {
                    "date_deadline": date(2026, 5, 20),
                    "user_id": self.user_salesman.id,
                }
            ],
        )
        action = lead.action_new_follow_up_opportunity()
        with Form(self.env["crm.lead"].with_context(**action["context"])) as form:
            form.name = "Rozbudowa systemu"
        follow_up = form.record
        self.assertEqual(follow_up.origin_lead_id, lead)
        self.assertEqual(follow_up.partner_id, self.partner)
        self.assertEqual(follow_up.stage_id, self.stages[0])
        self.assertEqual(follow_up.probability, 0)
        self.assertEqual(lead.follow_up_lead_ids, follow_up)

    @users("sfp_salesman")
    def test_won_again_keeps_one_after_sale_action(self):
        """Won, reopened (moved back to Zamówienie) and won again a week
        later: the after-sale next action planned at the first win stands,
        alone, with its date; one won with it in the same batch gets its
        own."""
        with freeze_time("2026-05-10 08:00:00"):
            lead, other = self._create_opportunities(2, self.stage_order)
            lead.action_set_won()
            lead.write({"stage_id": self.stage_order.id})
        with freeze_time("2026-05-17 08:00:00"):
            (lead | other).action_set_won()
        self.assertRecordValues(
            (lead | other).activity_ids.sorted("res_id"),
            [
                {
                    "res_id": lead.id,
                    "activity_type_id": self.after_sale_type.id,
                    "date_deadline": date(2026, 6, 9),
                    "user_id": self.user_salesman.id,
                },
                {
                    "res_id": other.id,
                    "activity_type_id": self.after_sale_type.id,
                    "date_deadline": date(2026, 6, 16),
                    "user_id": self.user_salesman.id,
                },
            ],
        )

    def test_filters(self):
        with freeze_time("2026-06-10 08:00:00"):
            overdue = self._create_opportunities(1, self.stage_meeting)
            overdue.write({"next_action": "A", "next_action_date": date(2026, 6, 1)})
            planned = self._create_opportunities(1, self.stage_meeting)
            planned.write({"next_action": "B", "next_action_date": date(2026, 6, 20)})
            missing = self._create_opportunities(1, self.stage_meeting)
            leaver = self._create_user("sfp_leaver", "Odchodzący")
            orphan = self._create_opportunities(
                1, self.stage_meeting, user=self.user_manager, user_id=leaver.id
            )
            leaver.active = False
            Lead = self.env["crm.lead"].with_user(self.user_manager)
            mine = [("id", "in", (overdue | planned | missing | orphan).ids)]
            for name, expected in (
                ("next_action_overdue", overdue),
                ("next_action_missing", missing | orphan),
                ("salesperson_inactive", orphan),
            ):
                domain = self._filter_domain(name)
                self.assertEqual(Lead.search(mine + domain), expected, name)

    def _filter_domain(self, name):
        from lxml import etree

        from odoo.tools.safe_eval import datetime as safe_datetime
        from odoo.tools.safe_eval import safe_eval

        arch = self.env.ref("sales_funnel_pl.view_crm_case_opportunities_filter").arch
        node = etree.fromstring(arch).xpath(f"//filter[@name='{name}']")[0]
        return safe_eval(
            node.get("domain"),
            {"context_today": lambda: safe_datetime.date.today()},
        )

    @freeze_time("2026-07-01 06:00:00")
    def test_daily_reminder(self):
        # English, with its date format, whatever language the database has
        self.env["res.lang"]._activate_lang("en_US")
        self.user_salesman.lang = "en_US"
        overdue = self._create_opportunities(
            1, self.stage_meeting, name="Drukarnia Wisła"
        )
        overdue.write({"next_action": "Oferta", "next_action_date": date(2026, 6, 28)})
        self._create_opportunities(1, self.stage_order, name="Stalprofil ERP")
        planned = self._create_opportunities(1, self.stage_order, name="Zaplanowana")
        planned.write({"next_action": "Telefon", "next_action_date": date(2026, 7, 5)})
        quiet = self._create_user("sfp_quiet", "Spokojny", notification_type="email")
        quiet_lead = self._create_opportunities(
            1, self.stage_order, user=self.user_manager, user_id=quiet.id
        )
        quiet_lead.write({"next_action": "X", "next_action_date": date(2026, 7, 2)})
        Message = self.env["mail.message"]
        before = Message.search([]).ids
        sent = self.env["crm.lead"]._cron_next_action_reminders()
        messages = Message.search(
            [
                ("id", "not in", before),
                ("partner_ids", "in", self.user_salesman.partner_id.ids),
            ]
        )
        self.assertEqual(len(messages), 1)
        self.assertFalse(
            Message.search(
                [("id", "not in", before), ("partner_ids", "in", quiet.partner_id.ids)]
            )
        )
        self.assertEqual(sent, 1)
        self.assertEqual(messages.subject, "Your sales funnel: next actions to plan")
        body = str(messages.body)
        self.assertIn("Overdue next actions", body)
        self.assertIn("Drukarnia Wisła</a>: Oferta (06/28/2026)", body)
        self.assertIn("Open opportunities without a next action", body)
        self.assertIn("Stalprofil ERP</a>: Order", body)
        self.assertNotIn("Zaplanowana", body)

    @users("sfp_salesman")
    @freeze_time("2026-04-01 08:00:00")
    def test_next_action_is_the_earliest_activity_of_any_type(self):
        lead = self._create_opportunities(1, self.stage_meeting)
        call = lead.activity_schedule(
            activity_type_id=self.call_type.id,
            summary="Zadzwonić do prezesa",
            date_deadline=date(2026, 3, 30),
            user_id=self.user_salesman.id,
        )
        email = lead.activity_schedule(
            activity_type_id=self.email_type.id,
            date_deadline=date(2026, 4, 1),
            user_id=self.user_salesman.id,
        )
        self.assertRecordValues(
            lead,
            [
                {
                    "next_activity_id": call.id,
                    "next_action": "Zadzwonić do prezesa",
                    "next_action_date": date(2026, 3, 30),
                    "next_action_state": "overdue",
                }
            ],
        )
        # the form moves that activity, whatever its type
        lead.next_action_date = date(2026, 4, 2)
        self.assertEqual(call.date_deadline, date(2026, 4, 2))
        self.assertEqual(call.summary, "Zadzwonić do prezesa")
        # now the e-mail comes first: its type names it
        self.assertRecordValues(
            lead,
            [
                {
                    "next_activity_id": email.id,
                    "next_action": "Email",
                    "next_action_date": date(2026, 4, 1),
                    "next_action_state": "planned",
                }
            ],
        )
        email.action_done()
        self.assertRecordValues(
            lead,
            [
                {
                    "next_activity_id": call.id,
                    "next_action": "Zadzwonić do prezesa",
                    "next_action_date": date(2026, 4, 2),
                }
            ],
        )

    @users("sfp_salesman")
    @freeze_time("2026-04-01 08:00:00")
    def test_a_date_alone_plans_a_todo_without_summary(self):
        lead = self._create_opportunities(1, self.stage_meeting)
        lead.next_action_date = date(2026, 4, 8)
        # no summary of its own: the type's default one (none in 18.0's
        # To-Do, "To-Do" in 19.0's)
        default_summary = self.activity_type.summary or False
        self.assertRecordValues(
            lead.activity_ids,
            [
                {
                    "activity_type_id": self.activity_type.id,
                    "summary": default_summary,
                    "date_deadline": date(2026, 4, 8),
                    "user_id": self.user_salesman.id,
                }
            ],
        )
        self.assertEqual(lead.next_action, "To-Do")
        lead.next_action_date = date(2026, 4, 9)
        self.assertRecordValues(
            lead.activity_ids,
            [
                {
                    "summary": default_summary,
                    "date_deadline": date(2026, 4, 9),
                }
            ],
        )

    @users("sfp_salesman")
    @freeze_time("2026-05-10 08:00:00")
    def test_winning_closes_the_pre_sale_next_actions(self):
        lead = self._create_opportunities(1, self.stage_order)
        lead.write(
            {
                "next_action": "Zadzwonić do prezesa",
                "next_action_date": date(2026, 5, 12),
            }
        )
        lead.activity_schedule(
            activity_type_id=self.call_type.id,
            date_deadline=date(2026, 5, 15),
            user_id=self.user_salesman.id,
        )
        lead.action_set_won()
        self.assertEqual(lead.activity_ids.activity_type_id, self.after_sale_type)
        self.assertRecordValues(
            lead,
            [
                {
                    # in the salesperson's language
                    "next_action": self.after_sale_type.with_context(
                        lang=self.user_salesman.lang
                    ).summary,
                    "next_action_date": date(2026, 6, 9),
                    "next_action_state": "closed",
                }
            ],
        )
        # losing cancels them too
        other = self._create_opportunities(1, self.stage_order)
        other.next_action = "Oferta"
        other.action_set_lost()
        self.assertFalse(other.with_context(active_test=False).activity_ids)

    @freeze_time("2026-07-01 06:00:00")
    def test_reminder_reaches_each_user_in_their_language(self):
        self.env["res.lang"]._activate_lang("pl_PL")
        self.env["res.lang"]._activate_lang("en_US")
        self.env["ir.module.module"]._load_module_terms(["sales_funnel_pl"], ["pl_PL"])
        self.user_salesman.lang = "pl_PL"
        by_email = self._create_user(
            "sfp_by_email",
            "Ewa Mailowa",
            email="ewa@example.com",
            notification_type="email",
            lang="en_US",
        )
        archived = self._create_user(
            "sfp_archived",
            "Były",
            email="byly@example.com",
            notification_type="email",
        )
        portal = self._create_user(
            "sfp_portal",
            "Portal",
            "base.group_portal",
            email="portal@example.com",
            notification_type="email",
        )
        mine = self._create_opportunities(1, self.stage_meeting, name="Drukarnia Wisła")
        mine.activity_schedule(
            activity_type_id=self.call_type.id,
            summary="Telefon",
            date_deadline=date(2026, 6, 29),
            user_id=self.user_salesman.id,
        )
        self._create_opportunities(
            1,
            self.stage_meeting,
            name="Poczta",
            user_id=by_email.id,
            user=self.user_manager,
        )
        for user in (archived, portal):
            self._create_opportunities(
                1,
                self.stage_meeting,
                name="Nikt",
                user_id=user.id,
                user=self.user_manager,
            )
        archived.active = False
        Notification = self.env["mail.notification"]
        before = Notification.search([]).ids
        self.assertEqual(self.env["crm.lead"]._cron_next_action_reminders(), 2)
        notifications = Notification.search([("id", "not in", before)])
        self.assertEqual(
            sorted((n.res_partner_id.name, n.notification_type) for n in notifications),
            [("Ewa Mailowa", "email"), ("Jan Kowalski", "inbox")],
        )
        inbox = notifications.filtered(
            lambda n: n.notification_type == "inbox"
        ).mail_message_id
        self.assertEqual(inbox.author_id, self.env.ref("base.partner_root"))
        self.assertEqual(
            inbox.subject, "Twój lejek sprzedaży: następne działania do zaplanowania"
        )
        body = str(inbox.body)
        self.assertIn("Zaległe następne działania", body)
        self.assertIn("Drukarnia Wisła</a>: Telefon (29.06.2026)", body)
        self.assertNotIn("bez następnego działania", body)
        email = notifications.filtered(lambda n: n.notification_type == "email")
        self.assertEqual(
            email.mail_message_id.subject, "Your sales funnel: next actions to plan"
        )
        self.assertIn(
            "Open opportunities without a next action", str(email.mail_message_id.body)
        )

    @users("sfp_manager")
    @freeze_time("2026-04-01 08:00:00")
    def test_manager_plans_the_next_action_for_the_salesperson(self):
        """A manager writing the next action of Jan's opportunity plans it
        for Jan, who will do it, not for the manager."""
        lead = self._create_opportunities(1, self.stage_meeting, user=self.user_manager)
        lead.write(
            {"next_action": "Wysłać umowę", "next_action_date": date(2026, 4, 3)}
        )
        self.assertRecordValues(
            lead.activity_ids,
            [
                {
                    "summary": "Wysłać umowę",
                    "date_deadline": date(2026, 4, 3),
                    "user_id": self.user_salesman.id,
                }
            ],
        )

    @users("sfp_salesman")
    @freeze_time("2026-04-01 08:00:00")
    def test_next_action_of_the_longest_length_accepted(self):
        """500 characters are accepted, 501 refused."""
        lead = self._create_opportunities(1, self.stage_meeting)
        lead.next_action = "a" * 500
        self.assertEqual(len(lead.next_activity_id.summary), 500)
        with self.assertRaises(ValidationError):
            lead.next_action = "b" * 501

    @users("sfp_salesman")
    @freeze_time("2026-05-10 08:00:00")
    def test_winning_an_unassigned_opportunity_closes_the_winners_next_actions(
        self,
    ):
        """An opportunity without a salesperson (from the website): the next
        actions of whoever wins it are its salesperson's, and close."""
        lead = self._create_opportunities(1, self.stage_order, user_id=False)
        call = lead.activity_schedule(
            activity_type_id=self.call_type.id,
            summary="Zadzwonić do klienta",
            date_deadline=date(2026, 5, 12),
            user_id=self.user_salesman.id,
        )
        lead.action_set_won()
        self.assertFalse(call.exists())
        self.assertRecordValues(
            lead.activity_ids,
            [
                {
                    "activity_type_id": self.after_sale_type.id,
                    "user_id": self.user_salesman.id,
                    "date_deadline": date(2026, 6, 9),
                }
            ],
        )

    @freeze_time("2026-07-01 06:00:00")
    def test_reminder_leaves_out_what_is_due_today(self):
        """A next action due today (1 July in Warsaw) is not overdue: Jan,
        whose only open opportunity has its next action today, gets no
        reminder."""
        lead = self._create_opportunities(1, self.stage_meeting, name="Drukarnia")
        lead.write({"next_action": "Telefon", "next_action_date": date(2026, 7, 1)})
        Lead = self.env["crm.lead"].with_user(self.user_salesman)
        self.assertFalse(Lead._next_action_reminder_send())
