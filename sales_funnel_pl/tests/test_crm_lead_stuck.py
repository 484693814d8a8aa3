# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from freezegun import freeze_time
from lxml import etree, html

from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged, users
from odoo.tools import format_date
from odoo.tools.safe_eval import safe_eval

from .. import compat
from .common import SalesFunnelCommon

# every opportunity below enters its stage on 2 March 2026 (10:00 in Warsaw)
ENTERED = "2026-03-02 09:00:00"
# 23:30 on 11 March 2026 in Warsaw (CET, UTC+1): 9 days after 2 March there
BEFORE_MIDNIGHT = "2026-03-11 22:30:00"
# 00:30 on 12 March 2026 in Warsaw, still 11 March in UTC: 10 days in Warsaw,
# 9 in UTC
AFTER_MIDNIGHT = "2026-03-11 23:30:00"


def _text(node):
    return " ".join(node.text_content().split())


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestCrmLeadStuck(SalesFunnelCommon):
    """Opportunities stuck in their stage ("Utknęła w etapie"), on data
    shaped like a real company's: the funnel's team, whose "Spotkanie"
    (Meeting) allows 10 days and "Informacje o potrzebie" none; a team
    working its own stages ("Serwis": "Wycena" allows 5 days, "Zgłoszenie"
    none); a second company; won, lost and archived opportunities and a lead,
    all entered on 2 March 2026."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._load_polish()
        cls._setup_real_company()
        cls.user_salesman.lang = "pl_PL"
        # known stages only: the funnel's and the other team's
        cls.env["crm.stage"].search(
            [("id", "not in", (cls.stages | cls.other_stages).ids)]
        ).active = False
        cls.env["crm.lead"].search([]).active = False
        cls.stage_info = cls.stages[1]
        cls.stage_meeting.funnel_stuck_days = 10
        cls.stage_quote = cls.other_stages[1]
        cls.stage_quote.funnel_stuck_days = 5
        s, jan = cls.stages, cls.user_salesman
        with freeze_time(ENTERED):
            cls.stuck = cls._create_opportunity("Suwnica", cls.stage_meeting)
            cls.stuck_2 = cls._create_opportunity("Hala", cls.stage_meeting, 25000)
            cls.no_days = cls._create_opportunity("Wiata", cls.stage_info)
            cls.won, cls.lost, cls.archived = (
                cls._create_opportunity(name, cls.stage_meeting)
                for name in ("Brama", "Rampa", "Magazyn")
            )
            cls.lead = cls._create_opportunity(
                "Kontakt z targów", cls.stage_meeting, type="lead"
            )
            # the other team, on its own stages, and the second company
            cls.quote, cls.request = (
                cls._create_opportunity(
                    name,
                    stage,
                    user=cls.user_salesman_utc,
                    user_id=cls.user_salesman_utc.id,
                    team_id=cls.team_other.id,
                )
                for name, stage in (
                    ("Przegląd", cls.stage_quote),
                    ("Naprawa", cls.other_stages[0]),
                )
            )
            cls.north = cls._create_opportunity(
                "Hala Gdańsk",
                s[3],
                user=cls.user_salesman_b,
                user_id=cls.user_salesman_b.id,
                team_id=cls.team_b.id,
                company_id=cls.company_b.id,
            )
        with freeze_time("2026-03-05 09:00:00"):
            # won in its stage's place, lost, and archived (19.0: a won sale
            # archived stays won; 18.0: archived is lost)
            cls.won.action_set_won()
            cls.lost.action_set_lost()
            cls.archived.action_archive()
        cls.mine = cls.stuck | cls.stuck_2 | cls.no_days | cls.won | cls.lost
        cls.everything = (
            cls.mine | cls.archived | cls.lead | cls.quote | cls.request | cls.north
        )
        # Jan reads every opportunity of his team, his own or not
        jan.write({"company_ids": [(4, cls.company_b.id)]})

    def _read(self, leads, user, now):
        """{name: days stuck} of the stuck ones among ``leads``, read by
        ``user`` at ``now`` (UTC)."""
        with freeze_time(now):
            leads = leads.with_user(user).with_context(
                allowed_company_ids=user.company_ids.ids
            )
            leads.invalidate_recordset()
            return {
                lead.name: lead.funnel_stuck_days_count
                for lead in leads
                if lead.funnel_is_stuck
            }

    def _filter_domain(self):
        """The domain of the search view's filter "Utknęła w etapie"."""
        view = self.env.ref("sales_funnel_pl.view_crm_case_opportunities_filter")
        arch = view.sudo().arch
        [node] = etree.fromstring(arch).xpath("//filter[@name='funnel_stuck']")
        self.assertEqual(node.get("string"), "Stuck in stage")
        return safe_eval(node.get("domain"))

    # ------------------------------------------------------------
    # The rule
    # ------------------------------------------------------------

    def test_days_in_the_salespersons_day(self):
        """10 days after 2 March is 12 March in Warsaw: stuck at 00:30 there
        (still 11 March in UTC), not at 23:30 the day before; John, who
        works in UTC, reads 9 days until his own midnight."""
        jan, john = self.user_salesman, self.user_salesman_utc
        stuck = {"Suwnica": 10, "Hala": 10}
        self.assertEqual(self._read(self.mine, jan, BEFORE_MIDNIGHT), {})
        self.assertEqual(self._read(self.mine, jan, AFTER_MIDNIGHT), stuck)
        self.assertEqual(self._read(self.mine, john, AFTER_MIDNIGHT), {})
        self.assertEqual(self._read(self.mine, john, "2026-03-12 00:00:00"), stuck)
        self.assertEqual(
            self._read(self.mine, jan, "2026-03-20 10:00:00"),
            {"Suwnica": 18, "Hala": 18},
        )

    def test_stage_date_not_write_date(self):
        """Days count from the stage date: editing the description (a write
        of the salesperson, 19.0's rotting would not care either) leaves it
        stuck; a move to another stage, or out and back, unsticks it."""
        jan = self.user_salesman
        lead = self.stuck.with_user(jan)
        with freeze_time("2026-03-13 09:00:00"):
            lead.description = "<p>Klient prosi o nowy termin spotkania.</p>"
            lead.flush_recordset()
            self.assertEqual(lead.write_date.date(), date(2026, 3, 13))
        self.assertEqual(
            self._read(self.stuck, jan, "2026-03-13 10:00:00"), {"Suwnica": 11}
        )
        with freeze_time("2026-03-13 11:00:00"):
            lead.stage_id = self.stages[4]
            self.stuck_2.with_user(jan).stage_id = self.stages[4]
        with freeze_time("2026-03-13 12:00:00"):
            self.stuck_2.with_user(jan).stage_id = self.stage_meeting
        self.assertEqual(self._read(self.mine, jan, "2026-03-14 10:00:00"), {})
        # back in Spotkanie since 13 March: stuck again 10 days later
        self.assertEqual(
            self._read(self.mine, jan, "2026-03-23 10:00:00"), {"Hala": 10}
        )

    def test_closed_and_leads_never_stuck(self):
        """Won, lost, archived opportunities and leads in a stage of 10 days,
        entered long ago: never stuck, read or searched."""
        closed = self.won | self.lost | self.archived | self.lead
        self.assertEqual(
            self._read(closed, self.user_manager, "2026-06-01 10:00:00"), {}
        )
        with freeze_time("2026-06-01 10:00:00"):
            Lead = self.env["crm.lead"].with_user(self.user_manager)
            found = Lead.with_context(
                active_test=False, allowed_company_ids=self.user_manager.company_ids.ids
            ).search([("id", "in", closed.ids), ("funnel_is_stuck", "=", True)])
        self.assertFalse(found)

    def test_stage_without_days_and_other_teams(self):
        """A stage without a number never sticks (Informacje o potrzebie,
        the other team's Zgłoszenie); a team's own stage outside the funnel
        sticks when it has one (Wycena, 5 days); the second company's
        opportunity in Spotkanie too."""
        self.assertEqual(
            self._read(self.everything, self.user_manager, "2026-03-07 10:00:00"),
            {"Przegląd": 5},
        )
        self.assertEqual(
            self._read(self.everything, self.user_manager, "2026-04-30 10:00:00"),
            {"Suwnica": 59, "Hala": 59, "Przegląd": 59, "Hala Gdańsk": 59},
        )
        # 0 is no number: never stuck
        self.stage_quote.funnel_stuck_days = 0
        self.assertEqual(
            self._read(self.quote, self.user_manager, "2026-04-30 10:00:00"), {}
        )

    def test_filter_equals_computed(self):
        """The filter "Utknęła w etapie" finds exactly the opportunities the
        computed field says are stuck, and its negation the others, on the
        mixed set, on days before, at and after each stage's number."""
        Lead = self.env["crm.lead"].with_user(self.user_manager)
        Lead = Lead.with_context(allowed_company_ids=self.user_manager.company_ids.ids)
        domain = self._filter_domain()
        for now in (
            "2026-03-06 10:00:00",
            "2026-03-07 10:00:00",
            AFTER_MIDNIGHT,
            "2026-04-30 10:00:00",
        ):
            with self.subTest(now=now), freeze_time(now):
                Lead.invalidate_model()
                every = Lead.with_context(active_test=False).search(
                    [("id", "in", self.everything.ids)]
                )
                computed = every.filtered("funnel_is_stuck")
                self.assertTrue(every)
                found = Lead.search([("id", "in", self.everything.ids), *domain])
                self.assertEqual(found, computed)
                others = Lead.with_context(active_test=False).search(
                    [("id", "in", self.everything.ids), ("funnel_is_stuck", "=", False)]
                )
                self.assertEqual(others, every - computed)
                self.assertEqual(
                    Lead.search(
                        [
                            ("id", "in", self.everything.ids),
                            ("funnel_is_stuck", "!=", False),
                        ]
                    ),
                    computed,
                )
        with freeze_time("2026-04-30 10:00:00"):
            self.assertEqual(
                Lead.search([("id", "in", self.everything.ids), *domain]),
                self.stuck | self.stuck_2 | self.quote | self.north,
            )

    def test_negative_days_refused(self):
        """A negative number is refused, in the manager's language."""
        manager = self.user_manager
        manager.lang = "pl_PL"
        stage = self.stage_meeting.with_user(manager).with_context(lang="pl_PL")
        with self.assertRaises(ValidationError) as error:
            stage.funnel_stuck_days = -3
            stage.flush_recordset()
        self.assertEqual(
            str(error.exception.args[0]),
            "Liczba dni, po których szansa w etapie Spotkanie utyka, nie może "
            "być ujemna (-3).",
        )

    # ------------------------------------------------------------
    # Where it shows
    # ------------------------------------------------------------

    def test_board_figure(self):
        """The funnel board's figure "Utknęły w etapie": the stuck open
        opportunities of its filters (team, salesperson, the companies
        worked in), and the list it opens holds exactly those."""
        manager = self.user_manager
        env = self.env(
            user=manager,
            context=dict(
                self.env.context,
                tz="Europe/Warsaw",
                allowed_company_ids=(self.company | self.company_b).ids,
            ),
        )
        Board = env["sales.funnel.board"]
        cases = (
            ({}, 4, 55000.0),
            ({"team_id": self.team.id}, 2, 35000.0),
            ({"team_id": self.team_other.id}, 1, 10000.0),
            ({"user_id": self.user_salesman.id}, 2, 35000.0),
            ({"user_id": self.user_salesman_b.id}, 1, 10000.0),
        )
        with freeze_time("2026-04-30 10:00:00"):
            for filters, count, value in cases:
                with self.subTest(filters=filters):
                    stuck = Board.get_board_data("now", **filters)["headline"]["stuck"]
                    self.assertEqual(
                        (stuck["count"], stuck["expected_revenue"]), (count, value)
                    )
                    listed = env["crm.lead"].search(stuck["domain"])
                    self.assertEqual(
                        (len(listed), sum(listed.mapped("expected_revenue"))),
                        (count, value),
                    )
                    self.assertTrue(listed.mapped("funnel_is_stuck") == [True] * count)
            # the first company only: the second's opportunity counts nowhere
            env_a = env(context=dict(env.context, allowed_company_ids=self.company.ids))
            stuck = env_a["sales.funnel.board"].get_board_data("now")["headline"][
                "stuck"
            ]
            self.assertEqual(stuck["count"], 3)
            self.assertEqual(
                env_a["crm.lead"].search(stuck["domain"]),
                self.stuck | self.stuck_2 | self.quote,
            )

    def test_reminder_lists_stuck(self):
        """Jan's daily reminder lists his stuck opportunities (oldest stage
        date first) after the next actions, each a link, in Polish; John's
        lists his own (a stage of another team), in English."""
        with freeze_time("2026-03-03 08:00:00"):
            self.stuck_2.stage_id = self.stage_info
        with freeze_time("2026-03-03 09:00:00"):
            self.stuck_2.stage_id = self.stage_meeting
        self.stuck.activity_schedule(
            "mail.mail_activity_data_todo",
            summary="Telefon do prezesa",
            date_deadline=date(2026, 3, 30),
            user_id=self.user_salesman.id,
        )
        self.user_salesman_utc.lang = "en_US"
        Message = self.env["mail.message"]
        before = Message.search([]).ids
        # 07:00 on 13 March in Warsaw
        with freeze_time("2026-03-13 06:00:00"):
            self.env["crm.lead"]._cron_next_action_reminders()

        def reminder(user):
            return Message.search(
                [("id", "not in", before), ("partner_ids", "in", user.partner_id.ids)]
            )

        body = html.fromstring(str(reminder(self.user_salesman).body))
        self.assertEqual(
            [_text(node) for node in body.xpath("//p[b] | //li")],
            [
                "Otwarte szanse bez następnego działania",
                "Wiata: Informacje o potrzebie",
                "Hala: Spotkanie",
                "Szanse, które utknęły w etapie",
                "Suwnica: Spotkanie, 11 dni w etapie (od 02.03.2026)",
                "Hala: Spotkanie, 10 dni w etapie (od 03.03.2026)",
            ],
        )
        self.assertEqual(
            body.xpath("//li/a/@href")[-2:],
            [
                f"{self.stuck.get_base_url()}/mail/view?model=crm.lead&res_id={lead.id}"
                for lead in (self.stuck, self.stuck_2)
            ],
        )
        body = html.fromstring(str(reminder(self.user_salesman_utc).body))
        self.assertEqual(
            [_text(node) for node in body.xpath("//p[b] | //li")],
            [
                "Opportunities stuck in their stage",
                "Przegląd: Wycena, 11 days in the stage (since %s)"
                % format_date(self.env(context={"lang": "en_US"}), date(2026, 3, 2)),
            ],
        )

    # ------------------------------------------------------------
    # Queries
    # ------------------------------------------------------------

    @users("sfp_manager")
    def test_query_counts(self):
        """The filter: one query for the stages' numbers, one for the
        search. The card's fields on a batch: one query for the stages'
        numbers, whatever the batch's size (the opportunities and their
        stages are read by the kanban anyway)."""
        Lead = self.env["crm.lead"].with_context(tz="Europe/Warsaw")
        domain = self._filter_domain()
        with freeze_time("2026-04-30 10:00:00"):
            Lead.search(domain)
            with self.assertQueryCount(2):
                Lead.search(domain)
            more = self._create_opportunities_of(
                self.user_salesman, self.stage_meeting, [f"S{n}" for n in range(30)]
            )
            for leads in (self.stuck, self.stuck | self.stuck_2 | self.no_days | more):
                leads = leads.with_env(Lead.env)
                leads.invalidate_recordset()
                leads.mapped("stage_id.name")  # what the card reads anyway
                with self.assertQueryCount(1):
                    leads.read(["funnel_is_stuck", "funnel_stuck_days_count"])

    # ------------------------------------------------------------
    # 19.0's rotting stays crm's
    # ------------------------------------------------------------

    def test_rotting_stays_crms(self):
        """On 19.0 a stage's "Days to rot" keeps crm's meaning: counted from
        the last write of the stage (date_last_stage_update), shown by crm's
        own widget in the card's footer; the addon's badge is elsewhere on
        the card, in other words."""
        kanban = self.env.ref("crm.crm_case_kanban_view_leads")
        arch = etree.fromstring(
            self.env["crm.lead"].get_view(kanban.id, "kanban")["arch"]
        )
        [badge] = arch.xpath("//div[contains(@class, 'o_sales_funnel_stuck')]")
        self.assertFalse(badge.xpath("ancestor::footer"))
        if not compat.ODOO_19:
            self.assertFalse(arch.xpath("//field[@name='rotting_days']"))
            return
        [rotting] = arch.xpath("//field[@name='rotting_days']")
        self.assertEqual(rotting.get("widget"), "rotting")
        self.assertTrue(rotting.xpath("ancestor::footer"))
        self.stage_info.rotting_threshold_days = 3
        # crm dates the stage's write with the transaction's time, which
        # follows the frozen clock in a test (not in the class's set-up)
        with freeze_time(ENTERED):
            idle, stuck = (
                self._create_opportunity(name, stage)
                for name, stage in (
                    ("Wiata 2", self.stage_info),
                    ("Suwnica 2", self.stage_meeting),
                )
            )
        with freeze_time("2026-03-14 10:00:00"):
            leads = idle | stuck
            leads.invalidate_recordset()
            # crm's: 12 days since the stage's write (> 3) in Informacje o
            # potrzebie, none set on Spotkanie; the addon's: Spotkanie's 10
            # days, none on Informacje o potrzebie
            self.assertEqual(leads.mapped("is_rotting"), [True, False])
            self.assertEqual(leads.mapped("rotting_days"), [12, 0])
            self.assertEqual(leads.mapped("funnel_is_stuck"), [False, True])
            self.assertEqual(
                self.env["crm.lead"].search(
                    [("id", "in", leads.ids), ("is_rotting", "=", True)]
                ),
                idle,
            )

    def test_days_count_zero_when_not_stuck(self):
        """The card's days are those of a stuck opportunity only: an open one
        in its stage for 9 days of 10, one in a stage without a number and a
        won one count 0, however long they stand there."""
        leads = self.stuck | self.no_days | self.won
        with freeze_time(BEFORE_MIDNIGHT):
            leads = leads.with_user(self.user_salesman)
            leads.invalidate_recordset()
            self.assertEqual(
                [
                    (lead.funnel_is_stuck, lead.funnel_stuck_days_count)
                    for lead in leads
                ],
                [(False, 0), (False, 0), (False, 0)],
            )

    def test_search_both_values(self):
        """Searched for both values (``in`` [True, False]) the filter finds
        every opportunity, stuck or not; ``not in`` both finds none."""
        Lead = self.env["crm.lead"].with_user(self.user_manager)
        Lead = Lead.with_context(allowed_company_ids=self.user_manager.company_ids.ids)
        mine = [("id", "in", self.mine.ids)]
        with freeze_time("2026-04-30 10:00:00"):
            self.assertEqual(
                Lead.search(mine + [("funnel_is_stuck", "in", [True, False])]),
                Lead.search(mine),
            )
            self.assertFalse(
                Lead.search(mine + [("funnel_is_stuck", "not in", [True, False])])
            )

    def test_search_with_another_operator_refused(self):
        """An operator the filter cannot answer (a custom filter's ``>``) is
        refused with an error saying which it accepts, in the salesperson's
        language (18.0; 19.0's domains refuse any other operator on a
        boolean field themselves, before the field is asked)."""
        Lead = self.env["crm.lead"].with_user(self.user_salesman)
        Lead = Lead.with_context(lang=self.user_salesman.lang)
        if compat.ODOO_19:
            with self.assertRaisesRegex(ValueError, "Cannot compare 'funnel_is_stuck'"):
                Lead.search([("funnel_is_stuck", ">", True)])
            return
        with self.assertRaises(UserError) as caught:
            Lead.search([("funnel_is_stuck", ">", True)])
        self.assertEqual(
            str(caught.exception),
            "Filtr szans, które utknęły w etapie, przyjmuje tylko =, !=, in i not "
            "in, nie >.",
        )

    def test_archived_stage_still_sticks(self):
        """A stage the manager archives keeps its number of days: the
        opportunities still standing in it get stuck all the same."""
        self.stage_meeting.with_user(self.user_manager).active = False
        self.assertEqual(
            self._read(self.mine, self.user_salesman, AFTER_MIDNIGHT),
            {"Suwnica": 10, "Hala": 10},
        )

    def test_reminder_of_a_day_begun_in_warsaw_only(self):
        """At 00:30 on 12 March in Warsaw (still 11 March in UTC) the
        scheduled action reminds Jan of his opportunities stuck since
        that midnight, though each of them has its next action planned."""
        for lead in self.stuck | self.stuck_2 | self.no_days:
            lead.activity_schedule(
                "mail.mail_activity_data_todo",
                summary="Telefon do klienta",
                date_deadline=date(2026, 3, 30),
                user_id=self.user_salesman.id,
            )
        Message = self.env["mail.message"]
        before = Message.search([]).ids
        with freeze_time(AFTER_MIDNIGHT):
            self.env["crm.lead"]._cron_next_action_reminders()
        reminder = Message.search(
            [
                ("id", "not in", before),
                ("partner_ids", "in", self.user_salesman.partner_id.ids),
            ]
        )
        body = html.fromstring(str(reminder.body))
        self.assertEqual(
            [_text(node) for node in body.xpath("//p[b] | //li")],
            [
                "Szanse, które utknęły w etapie",
                "Suwnica: Spotkanie, 10 dni w etapie (od 02.03.2026)",
                "Hala: Spotkanie, 10 dni w etapie (od 02.03.2026)",
            ],
        )
