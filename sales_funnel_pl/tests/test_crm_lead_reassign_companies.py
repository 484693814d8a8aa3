# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from lxml import etree
from markupsafe import Markup

from odoo.exceptions import UserError
from odoo.tests import Form, tagged, users
from odoo.tools.safe_eval import safe_eval

from .common_companies import SalesFunnelCompaniesCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestCrmLeadReassignCompanies(SalesFunnelCompaniesCommon):
    """A departing salesperson's opportunities in every company the sales
    manager works in are handed over, whatever the company switcher shows;
    those of a company the new salesperson cannot work in stay, and the
    wizard says so."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_leaving = cls._create_leaving_salesperson(
            company_ids=[(6, 0, (cls.company | cls.company_b).ids)]
        )
        piotr, meeting = cls.user_leaving, cls.stage_meeting
        cls.open_a = cls._create_opportunities_of(
            piotr, meeting, ["Szansa A 1", "Szansa A 2"]
        )
        cls.open_b = cls._create_opportunities_of(
            piotr,
            meeting,
            ["Szansa B 1", "Szansa B 2"],
            team_id=cls.team_b.id,
            company_id=cls.company_b.id,
        )
        cls.activity_b = cls.open_b[0].activity_schedule(
            "mail.mail_activity_data_todo",
            user_id=cls.user_leaving.id,
            summary="Zadzwonić do klienta",
        )
        cls.user_leaving.active = False

    def _wizard(self, **values):
        """The wizard as the sales manager opens it with the company switcher
        showing the first company only."""
        env = self._env_switcher_a()
        with Form(env["crm.lead.reassign"]) as form:
            form.from_user_id = self.user_leaving
            for name, value in values.items():
                setattr(form, name, value)
        return form

    def _shown(self, field_name, to_user):
        """The rows of the list ``field_name`` (what will move), as the web
        client reads them in the form (its fields, the form view's context),
        with the company switcher showing the first company only."""
        Wizard = self._env_switcher_a()["crm.lead.reassign"]
        arch = etree.fromstring(
            Wizard.get_views([(False, "form")])["views"]["form"]["arch"]
        )
        [node] = arch.xpath(f"//field[@name='{field_name}']")
        spec = {
            field_name: {
                "fields": dict.fromkeys(node.xpath("./list/field/@name"), {}),
                "context": safe_eval(node.get("context", "{}")),
            }
        }
        result = Wizard.onchange(
            {"from_user_id": self.user_leaving.id, "to_user_id": to_user.id}, [], spec
        )
        return [command[2] for command in result["value"][field_name]]

    def _assert_reassigned(self, leads, to_user, author):
        body = Markup("<p>Reassigned from Piotr Wiśniewski to %s by %s.</p>") % (
            to_user.name,
            author.name,
        )
        for lead in leads:
            self.assertEqual(lead.user_id, to_user)
            self.assertEqual(lead.message_ids.mapped("body"), [body])

    def _assert_staying(self, leads):
        self.assertEqual(set(leads.mapped("user_id")), {self.user_leaving})
        self.assertFalse(leads.message_ids)

    @users("sfp_manager")
    def test_reassign_every_company(self):
        form = self._wizard(to_user_id=self.user_salesman)
        self.assertEqual(form.lead_count, 4)
        self.assertEqual(
            {lead.id for lead in form.moving_lead_ids},
            set((self.open_a | self.open_b).ids),
        )
        self.assertEqual(
            {activity.id for activity in form.moving_activity_ids}, {self.activity_b.id}
        )
        # the list shows the other company's opportunities as they are
        shown = self._shown("moving_lead_ids", self.user_salesman)
        self.assertEqual(
            sorted(
                (lead["name"], lead["company_id"], lead["next_action"])
                for lead in shown
            ),
            [
                ("Szansa A 1", self.company.id, False),
                ("Szansa A 2", self.company.id, False),
                ("Szansa B 1", self.company_b.id, "Zadzwonić do klienta"),
                ("Szansa B 2", self.company_b.id, False),
            ],
        )
        self.assertEqual(
            [
                (activity["res_name"], activity["summary"])
                for activity in self._shown("moving_activity_ids", self.user_salesman)
            ],
            [("Szansa B 1", "Zadzwonić do klienta")],
        )
        self.assertFalse(form.staying_message)
        action = form.record.action_reassign()

        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(
            action["params"]["message"],
            "4 opportunities reassigned from Piotr Wiśniewski to Jan Kowalski: "
            f"2 in {self.company.name}, 2 in Stalprofil Sever.",
        )
        self._assert_reassigned(
            self.open_a | self.open_b, self.user_salesman, self.user_manager
        )
        # each stays in its company and team
        self.assertEqual(
            [(lead.company_id, lead.team_id) for lead in self.open_a | self.open_b],
            [(self.company, self.team)] * 2 + [(self.company_b, self.team_b)] * 2,
        )
        self.assertEqual(self.activity_b.user_id, self.user_salesman)

    @users("sfp_manager")
    def test_reassign_keeps_what_the_new_salesperson_cannot_receive(self):
        staying = (
            "2 opportunities stay with Piotr Wiśniewski: John Smith has no access to "
            "Stalprofil Sever. Reassign them to a salesperson who works there."
        )
        # John Smith works in the first company only
        form = self._wizard(to_user_id=self.user_salesman_utc)
        self.assertEqual(form.lead_count, 2)
        self.assertEqual(
            {lead.id for lead in form.moving_lead_ids}, set(self.open_a.ids)
        )
        self.assertEqual(form.staying_message, staying)
        action = form.record.action_reassign()

        self.assertEqual(action["params"]["type"], "warning")
        self.assertTrue(action["params"]["sticky"])
        self.assertEqual(
            action["params"]["message"],
            "2 opportunities reassigned from Piotr Wiśniewski to John Smith. "
            + staying,
        )
        self._assert_reassigned(self.open_a, self.user_salesman_utc, self.user_manager)
        self._assert_staying(self.open_b)
        self.assertEqual(self.activity_b.user_id, self.user_leaving)

        # then to a salesperson of the second company: what stayed moves
        form = self._wizard(to_user_id=self.user_salesman_b)
        self.assertEqual(form.lead_count, 2)
        self.assertFalse(form.staying_message)
        action = form.record.action_reassign()
        self.assertEqual(
            action["params"]["message"],
            "2 opportunities reassigned from Piotr Wiśniewski to Ewa Maj.",
        )
        self._assert_reassigned(self.open_b, self.user_salesman_b, self.user_manager)
        self.assertEqual(self.activity_b.user_id, self.user_salesman_b)

    @users("sfp_manager")
    def test_reassign_nothing_the_new_salesperson_can_receive(self):
        form = self._wizard(to_user_id=self.user_salesman_utc, team_id=self.team_b)
        self.assertEqual(form.lead_count, 0)
        with self.assertRaises(UserError) as error:
            form.record.action_reassign()
        self.assertEqual(
            str(error.exception),
            "None of these opportunities can go to John Smith. 2 opportunities stay "
            "with Piotr Wiśniewski: John Smith has no access to Stalprofil Sever. "
            "Reassign them to a salesperson who works there.",
        )
        self._assert_staying(self.open_a | self.open_b)

    @users("sfp_manager_a")
    def test_reassign_by_manager_of_one_company(self):
        """A manager who cannot open the second company hands over the
        opportunities of the first one and learns that others stay."""
        staying = (
            "2 opportunities in companies you have no access to stay with "
            "Piotr Wiśniewski."
        )
        form = self._wizard(to_user_id=self.user_salesman)
        self.assertEqual(form.lead_count, 2)
        self.assertEqual(form.staying_message, staying)
        action = form.record.action_reassign()

        self.assertEqual(
            action["params"]["message"],
            "2 opportunities reassigned from Piotr Wiśniewski to Jan Kowalski. "
            + staying,
        )
        self._assert_reassigned(self.open_a, self.user_salesman, self.user_manager_a)
        self._assert_staying(self.open_b)
        self.assertEqual(self.activity_b.user_id, self.user_leaving)
