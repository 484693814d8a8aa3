# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Every message the addon sends, rendered as its reader gets it: the daily
reminder (the e-mail of a salesperson who reads their notifications by
e-mail, the messaging menu of one who reads them in Odoo), the note of a
won or lost sale, the note of a reassignment. Links open their record from
a mail client; the Polish reads as a Polish salesperson would write it."""

from datetime import date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from freezegun import freeze_time
from lxml import html

from odoo import fields
from odoo.tests import HttpCase, tagged

from odoo.addons.mail.tests.common import MockEmail, mail_new_test_user

from .. import compat
from .common import SalesFunnelCommon


def _text(node):
    return " ".join(node.text_content().split())


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestMessages(HttpCase, SalesFunnelCommon, MockEmail):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._load_polish()
        cls.user_salesman.write({"lang": "pl_PL", "tour_enabled": False})
        cls.user_by_email = mail_new_test_user(
            cls.env,
            login="sfp_by_email",
            name="Ewa Mailowa",
            email="ewa.mailowa@example.com",
            groups="sales_team.group_sale_salesman",
            notification_type="email",
            tz="Europe/Warsaw",
            lang="pl_PL",
        )
        cls.user_colleague = mail_new_test_user(
            cls.env,
            login="sfp_colleague",
            name="Piotr Wiśniewski",
            groups="sales_team.group_sale_salesman",
        )
        cls.call_type = cls.env.ref("mail.mail_activity_data_call")

    def _today(self):
        return fields.Date.context_today(
            self.env["crm.lead"].with_context(tz="Europe/Warsaw")
        )

    def _reminded_opportunities(self, user):
        """An overdue next action and an opportunity without one, ``user``'s."""
        overdue = self._create_opportunities(
            1, self.stage_meeting, user=user, user_id=user.id, name="Drukarnia Wisła"
        )
        overdue.activity_schedule(
            activity_type_id=self.call_type.id,
            summary="Telefon do prezesa",
            date_deadline=self._today() - timedelta(days=3),
            user_id=user.id,
        )
        missing = self._create_opportunities(
            1, self.stage_order, user=user, user_id=user.id, name="Stalprofil / ERP"
        )
        return overdue, missing

    def _send_reminders(self):
        """The scheduled action's run, its e-mails sent through Odoo's own
        gateway up to the SMTP connection, which Odoo's mail tests capture
        (``_new_mails``: the ``mail.mail`` created; ``_mails``: what went
        out, as built for each recipient)."""
        with self.mock_mail_gateway():
            self.env["crm.lead"]._cron_next_action_reminders()

    def _assert_links_open(self, anchors, user):
        """Each link of ``anchors`` (``(href, record)``) is absolute on the
        database's address and opens its record: for ``user`` logged in,
        Odoo's own route lands on the record; logged out (a mail client's
        browser), on the login page, which brings back to the record."""
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        self.authenticate(user.login, user.login)
        for href, record in anchors:
            self.assertTrue(href.startswith(f"{base_url}/"), href)
            response = self.url_open(href, allow_redirects=False)
            self.assertEqual(response.status_code, 303, href)
            landing = urlsplit(response.headers["Location"])
            self.assertEqual(landing.path, f"/odoo/{record._name}/{record.id}")
            page = self.url_open(response.headers["Location"])
            self.assertEqual(page.status_code, 200)
        self.authenticate(None, None)
        for href, _record in anchors:
            logged_out = self.url_open(href, allow_redirects=False)
            self.assertEqual(logged_out.status_code, 303, href)
            login = urlsplit(logged_out.headers["Location"])
            self.assertEqual(login.path, "/web/login")
            target = urlsplit(href)
            self.assertEqual(
                parse_qs(login.query), {"redirect": [f"{target.path}?{target.query}"]}
            )

    # ------------------------------------------------------------
    # The daily reminder
    # ------------------------------------------------------------

    def test_reminder_email(self):
        """The e-mail a Polish salesperson (Europe/Warsaw) gets: headed by the
        reminder's title in Polish, each opportunity a link that opens it."""
        overdue, missing = self._reminded_opportunities(self.user_by_email)
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        self._send_reminders()
        mail = self._new_mails.filtered(
            lambda mail: mail.recipient_ids == self.user_by_email.partner_id
        )
        self.assertEqual(len(mail), 1)
        self.assertEqual(
            mail.subject, "Twój lejek sprzedaży: następne działania do zaplanowania"
        )
        email = html.fromstring(mail.body_html)
        # the header: the first cell of Odoo's layout, with its logo beside
        self.assertEqual(
            _text(email.xpath("//td[@valign='middle']")[0]),
            "Twój lejek sprzedaży Następne działania do zaplanowania",
        )
        self.assertEqual(
            [_text(div) for div in email.xpath("//td[@valign='middle']/div")],
            ["Twój lejek sprzedaży", "Następne działania do zaplanowania"],
        )
        self.assertEqual(
            [_text(node) for node in email.xpath("//p[b] | //li")],
            [
                "Zaległe następne działania",
                "Drukarnia Wisła: Telefon do prezesa (%s)"
                % (self._today() - timedelta(days=3)).strftime("%d.%m.%Y"),
                "Otwarte szanse bez następnego działania",
                "Stalprofil / ERP: Zamówienie",
            ],
        )
        record_links = [
            f"{base_url}/mail/view?model=crm.lead&res_id={overdue.id}",
            f"{base_url}/mail/view?model=crm.lead&res_id={missing.id}",
        ]
        self.assertEqual(email.xpath("//li/a/@href"), record_links)
        # every link of the e-mail as it went out (Odoo resolves its layout's
        # "/mail/unfollow" then: gone, nothing to unfollow), the
        # opportunities' first, then the layout's (the company's, Odoo's)
        [sent] = self._mails
        self.assertEqual(sent["email_to"], ['"Ewa Mailowa" <ewa.mailowa@example.com>'])
        self.assertEqual(
            sent["subject"], "Twój lejek sprzedaży: następne działania do zaplanowania"
        )
        company = self.env.company
        self.assertEqual(
            html.fromstring(sent["body"]).xpath("//a/@href"),
            [
                *record_links,
                *([f"mailto:{company.email}"] if company.email else []),
                *([company.website] if company.website else []),
                "https://www.odoo.com?utm_source=db&utm_medium=email",
            ],
        )
        self.assertEqual(
            [_text(anchor) for anchor in email.xpath("//li/a")],
            ["Drukarnia Wisła", "Stalprofil / ERP"],
        )
        self._assert_links_open(
            [
                (href, lead)
                for href, lead in zip(
                    email.xpath("//li/a/@href"), overdue | missing, strict=True
                )
            ],
            self.user_by_email,
        )

    def test_reminder_in_the_salespersons_day(self):
        """Run by hand by an administrator in Los Angeles (their time zone in
        the context), on 10 June at 07:00 in Warsaw (still 9 June in Los
        Angeles): Ewa's action due on 9 June is overdue for her, in Warsaw."""
        with freeze_time("2026-06-10 05:00:00"):
            lead = self._create_opportunities(
                1,
                self.stage_meeting,
                user=self.user_by_email,
                user_id=self.user_by_email.id,
                name="Drukarnia Wisła",
            )
            lead.activity_schedule(
                activity_type_id=self.call_type.id,
                summary="Telefon do prezesa",
                date_deadline=date(2026, 6, 9),
                user_id=self.user_by_email.id,
            )
            with self.mock_mail_gateway():
                self.env["crm.lead"].with_context(
                    tz="America/Los_Angeles"
                )._cron_next_action_reminders()
        mail = self._new_mails.filtered(
            lambda mail: mail.recipient_ids == self.user_by_email.partner_id
        )
        self.assertEqual(len(mail), 1)
        self.assertEqual(
            [_text(node) for node in html.fromstring(mail.body_html).xpath("//li")],
            ["Drukarnia Wisła: Telefon do prezesa (09.06.2026)"],
        )

    def test_reminder_in_messaging_menu(self):
        """A salesperson who reads their notifications in Odoo finds the
        reminder in the messaging menu: it lists the notifications of a
        record (its thread), which the reminder has, and counts them all."""
        overdue, missing = self._reminded_opportunities(self.user_salesman)
        # the previous reminder went out now: no line of the pipeline's
        # changes since then (TestPipelineChangesMessages checks that line)
        self.env.ref(
            "sales_funnel_pl.ir_cron_next_action_reminders"
        ).lastcall = self.env.cr.now()
        Message = self.env["mail.message"]
        before = Message.search([]).ids
        self._send_reminders()
        reminder = Message.search(
            [
                ("id", "not in", before),
                ("partner_ids", "in", self.user_salesman.partner_id.ids),
            ]
        )
        self.assertEqual(len(reminder), 1)
        self.authenticate("sfp_salesman", "sfp_salesman")
        # what the menu loads when opened: the user's inbox
        inbox = self.make_jsonrpc_request("/mail/inbox/messages", {})
        self.assertEqual(inbox["messages"], reminder.ids)
        [message] = inbox["data"]["mail.message"]
        partner = self.user_salesman.partner_id
        self.assertEqual(message["thread"], {"id": partner.id, "model": "res.partner"})
        # the thread's name: "name" on 18.0, "display_name" on 19.0
        name = "display_name" if compat.ODOO_19 else "name"
        self.assertEqual(
            [
                (thread["model"], thread["id"], thread[name])
                for thread in inbox["data"]["mail.thread"]
            ],
            [("res.partner", partner.id, "Jan Kowalski")],
        )
        self.assertEqual(
            message["subject"],
            "Twój lejek sprzedaży: następne działania do zaplanowania",
        )
        self.assertTrue(message["needaction"])
        # the menu's counter (read when the web client starts) counts what
        # its list shows: the messages of a thread
        self.assertEqual(
            self.user_salesman.partner_id.with_user(
                self.user_salesman
            )._get_needaction_count(),
            len([shown for shown in inbox["data"]["mail.message"] if shown["thread"]]),
        )
        # 19.0 sends an HTML value tagged as such: ["markup", html]
        body = html.fromstring(
            message["body"][1] if compat.ODOO_19 else message["body"]
        )
        # the menu's preview of it: its text on one line, as the web client
        # reads it (htmlToTextContentInline: line breaks dropped, spaces kept)
        preview = " ".join(body.text_content().replace("\n", "").split())
        self.assertEqual(
            preview,
            "Zaległe następne działania Drukarnia Wisła: Telefon do prezesa (%s) "
            "Otwarte szanse bez następnego działania Stalprofil / ERP: Zamówienie"
            % (self._today() - timedelta(days=3)).strftime("%d.%m.%Y"),
        )
        # its links open the opportunities, from the inbox's e-mail copy too
        self._assert_links_open(
            list(zip(body.xpath("//a/@href"), overdue | missing, strict=True)),
            self.user_salesman,
        )

    def test_reminder_messaging_menu_tour(self):
        """In the browser: the messaging menu lists the reminder, from
        OdooBot, under the salesperson's name."""
        self._reminded_opportunities(self.user_salesman)
        self._send_reminders()
        self.start_tour(
            "/odoo/crm", "sales_funnel_pl_reminder_messaging_menu", login="sfp_salesman"
        )

    # ------------------------------------------------------------
    # Notes in the opportunity's chatter
    # ------------------------------------------------------------

    def _chatter_notes(self, lead, before):
        return (
            self.env["mail.message"]
            .search(
                [
                    ("id", "not in", before),
                    ("model", "=", "crm.lead"),
                    ("res_id", "=", lead.id),
                    ("message_type", "=", "notification"),
                ]
            )
            .sorted("id")
        )

    def _assert_no_link(self, body):
        self.assertEqual(html.fromstring(body).xpath("//a"), [])

    def test_won_and_lost_notes(self):
        """Winning (and losing, on 19.0) lists in the chatter the next
        actions it closed, in the Polish of the salesperson who closed it."""
        lead_won, lead_lost = self._create_opportunities(2, self.stage_meeting)
        for lead in lead_won | lead_lost:
            lead.activity_schedule(
                activity_type_id=self.call_type.id,
                summary="Telefon do prezesa",
                date_deadline=date(2026, 12, 10),
                user_id=self.user_salesman.id,
            )
        before = self.env["mail.message"].search([]).ids
        as_salesman = self.env(user=self.user_salesman, context={"lang": "pl_PL"})
        lead_won.with_env(as_salesman).action_set_won()
        lead_lost.with_env(as_salesman).action_set_lost()
        [won_note] = self._chatter_notes(lead_won, before).filtered(
            lambda message: "wygrana" in message.body
        )
        self.assertEqual(
            str(won_note.body),
            "<p>Sprzedaż wygrana: zamknięte następne działania</p>"
            "<ul><li>Telefon do prezesa (Jan Kowalski, 10.12.2026)</li></ul>",
        )
        self._assert_no_link(won_note.body)
        lost_notes = self._chatter_notes(lead_lost, before).filtered(
            lambda message: "przegrana" in message.body
        )
        if compat.ODOO_19:
            self.assertEqual(
                str(lost_notes.body),
                "<p>Sprzedaż przegrana: zamknięte następne działania</p>"
                "<ul><li>Telefon do prezesa (Jan Kowalski, 10.12.2026)</li></ul>",
            )
            self._assert_no_link(lost_notes.body)
        else:
            # 18.0 itself removes the activities of an archived record
            self.assertFalse(lost_notes)

    def test_reassignment_note(self):
        """The reassignment's note in each chatter, in the manager's Polish."""
        self.user_manager.lang = "pl_PL"
        lead = self._create_opportunities(1, self.stage_meeting)
        before = self.env["mail.message"].search([]).ids
        manager = self.env(user=self.user_manager, context={"lang": "pl_PL"})
        wizard = manager["crm.lead.reassign"].create(
            {
                "from_user_id": self.user_salesman.id,
                "to_user_id": self.user_colleague.id,
            }
        )
        wizard.action_reassign()
        [note] = self._chatter_notes(lead, before)
        self.assertEqual(
            str(note.body),
            "<p>Szansa przekazana. Poprzedni sprzedawca: Jan Kowalski, nowy "
            "sprzedawca: Piotr Wiśniewski, zmiany dokonał(a): Anna Nowak.</p>",
        )
        self._assert_no_link(note.body)


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestPipelineChangesMessages(SalesFunnelCommon, MockEmail):
    """The pipeline's changes in the messages: a line of the salesperson's
    daily reminder (since the previous one), and the weekly message to each
    sales team's leader (Monday morning, in their language, as they read
    their notifications), its five largest slips named."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._load_polish()
        cls.env.company.currency_id = cls.env.ref("base.PLN").id
        cls.env.ref("base.PLN").active = True
        cls.user_salesman.write({"lang": "pl_PL", "notification_type": "email"})
        cls.user_leader = cls._create_user(
            "sfp_leader",
            "Marta Wójcik",
            "sales_team.group_sale_manager",
            email="marta.wojcik@example.com",
            lang="pl_PL",
            notification_type="email",
        )
        cls.team.user_id = cls.user_leader
        cls.user_export = cls._create_user(
            "sfp_export", "John Export", email="john.export@example.com"
        )
        # (the test database may have Polish only)
        cls.env["res.lang"]._activate_lang("en_US")
        cls.user_export_leader = cls._create_user(
            "sfp_export_leader",
            "Mary Lead",
            "sales_team.group_sale_manager",
            email="mary.lead@example.com",
            lang="en_US",
        )
        cls.team_export = cls.env["crm.team"].create(
            {
                "name": "Export",
                "user_id": cls.user_export_leader.id,
                "member_ids": [(4, cls.user_export.id)],
            }
        )

    def _text_of(self, partner):
        mail = self._new_mails.filtered(lambda mail: mail.recipient_ids == partner)
        self.assertEqual(len(mail), 1)
        body = html.fromstring(mail.body_html)
        return mail.subject, body

    def test_reminder_line(self):
        """Jan's reminder on 10 June, the previous one sent on 9 June at
        07:00 in Warsaw: a line of what changed since, one part per kind,
        in his Polish."""
        with freeze_time("2026-06-01 08:00:00"):
            slipped = self._create_opportunity(
                "Hala", self.stage_meeting, 20000, date(2026, 6, 30)
            )
            raised = self._create_opportunity(
                "Wiata", self.stage_order, 10000, date(2026, 6, 20)
            )
            lost = self._create_opportunity("Rampa", self.stage_meeting, 5000)
            # a change before the previous reminder: not in the line
            raised.write({"expected_revenue": 9000})
            slipped.activity_schedule(
                activity_type_id=self.env.ref("mail.mail_activity_data_call").id,
                summary="Telefon do prezesa",
                date_deadline=date(2026, 6, 5),
                user_id=self.user_salesman.id,
            )
        self.env.ref(
            "sales_funnel_pl.ir_cron_next_action_reminders"
        ).lastcall = datetime(2026, 6, 9, 5, 0)
        with freeze_time("2026-06-09 10:00:00"):
            slipped.write({"date_deadline": date(2026, 7, 15)})
            raised.write({"expected_revenue": 12000})
            lost.action_set_lost()
            self._create_opportunity("Brama", self.stage_new, 8000)
        with freeze_time("2026-06-10 05:00:00"), self.mock_mail_gateway():
            self.env["crm.lead"]._cron_next_action_reminders()
        _subject, body = self._text_of(self.user_salesman.partner_id)
        self.assertEqual(
            [_text(node) for node in body.xpath("//p[not(b)]")][-1],
            "Twój lejek od poprzedniego przypomnienia: Nowe: 1 (8000,00 zł); "
            "Przegrane: 1 (5000,00 zł); Wartość podniesiona: 1 (+3000,00 zł); "
            "Przesunięte na późniejszy miesiąc: 1 (20000,00 zł).",
        )

    def _slips(self):
        """Six opportunities of Jan entered on 1 June, due in June, slipped
        to July in the week of 8 June (the smallest at its first minutes in
        Warsaw, still 7 June in UTC), worth 1,000 to 6,000; another one
        slipped on Sunday 7 June at 23:30 in Warsaw (the week before), one
        pulled in from July to June, one won. Returns the six, largest
        first."""
        with freeze_time("2026-06-01 08:00:00"):
            leads = self.env["crm.lead"]
            for amount in range(6000, 0, -1000):
                leads |= self._create_opportunity(
                    f"Hala {amount // 1000}",
                    self.stage_meeting,
                    amount,
                    date(2026, 6, 30),
                )
            before = self._create_opportunity(
                "Wiata", self.stage_meeting, 50000, date(2026, 6, 30)
            )
            pulled = self._create_opportunity(
                "Rampa", self.stage_meeting, 40000, date(2026, 7, 31)
            )
            won = self._create_opportunity("Brama", self.stage_order, 7000)
        with freeze_time("2026-06-07 21:30:00"):
            before.write({"date_deadline": date(2026, 8, 31)})
        with freeze_time("2026-06-07 22:30:00"):
            # 00:30 on Monday 8 June in Warsaw: in the week
            leads[5].write({"date_deadline": date(2026, 7, 10)})
        with freeze_time("2026-06-09 10:00:00"):
            leads[:5].write({"date_deadline": date(2026, 7, 10)})
            pulled.write({"date_deadline": date(2026, 6, 25)})
            won.action_set_won()
        return leads

    def test_weekly_message_to_the_team_leader(self):
        """Monday 15 June, 07:00 in Warsaw: Marta, the team's leader, gets
        by e-mail, in Polish, the week of 8 to 14 June: one won, six
        slipped, the five largest named, largest first, each a link."""
        leads = self._slips()
        with freeze_time("2026-06-15 05:00:00"), self.mock_mail_gateway():
            self.env["crm.team"]._cron_pipeline_changes_weekly()
        subject, body = self._text_of(self.user_leader.partner_id)
        self.assertEqual(subject, "Lejek Twojego zespołu: zmiany tygodnia")
        self.assertEqual(
            [_text(node) for node in body.xpath("//p[b] | //li")],
            [
                "Zespół Testowy, od 08.06.2026 do 14.06.2026",
                "Wygrane: 1 (7000,00 zł)",
                "Przesunięte na późniejszy miesiąc: 6 (21000,00 zł)",
                "Największe przesunięcia",
                *(
                    f"Hala {n}: 30.06.2026 → 10.07.2026 ({n}000,00 zł)"
                    for n in (6, 5, 4, 3, 2)
                ),
            ],
        )
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        self.assertEqual(
            body.xpath("//li/a/@href"),
            [
                f"{base_url}/mail/view?model=crm.lead&res_id={lead.id}"
                for lead in leads[:5]
            ],
        )
        self.assertEqual(
            _text(body.xpath("//td[@valign='middle']")[0]),
            "Twój lejek sprzedaży Zmiany tygodnia",
        )

    def test_weekly_message_in_english_in_odoo(self):
        """The export team's leader reads English, in Odoo: her message is
        in her inbox, not e-mailed; a team without changes sends none."""
        with freeze_time("2026-06-01 08:00:00"):
            lead = self._create_opportunity(
                "Crane",
                self.stage_meeting,
                10000,
                date(2026, 6, 30),
                user=self.user_export,
                user_id=self.user_export.id,
                team_id=self.team_export.id,
            )
        with freeze_time("2026-06-10 10:00:00"):
            lead.write({"expected_revenue": 12500})
        Message = self.env["mail.message"]
        before = Message.search([]).ids
        with freeze_time("2026-06-15 05:00:00"), self.mock_mail_gateway():
            self.assertEqual(self.env["crm.team"]._cron_pipeline_changes_weekly(), 1)
        self.assertFalse(self._new_mails)
        message = Message.search(
            [
                ("id", "not in", before),
                ("partner_ids", "in", self.user_export_leader.partner_id.ids),
            ]
        )
        self.assertEqual(message.subject, "Your team's pipeline: the week's changes")
        self.assertEqual(
            [_text(node) for node in html.fromstring(message.body).xpath("//p | //li")],
            ["Export, from 06/08/2026 to 06/14/2026", "Value raised: 1 (+2,500.00 zł)"],
        )
