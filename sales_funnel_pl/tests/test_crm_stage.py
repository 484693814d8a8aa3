# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, tagged, users
from odoo.tools import mute_logger

from .common import SalesFunnelCommon

# The method's table (../shared/SPEC.md): English name, Polish name, %.
FUNNEL = [
    ("New Prospect", "Nowy Prospekt", 0),
    ("Need Information", "Informacje o potrzebie", 1),
    ("First Contact", "Firma", 2),
    ("Meeting", "Spotkanie", 3),
    ("Opportunity Analysis", "Analiza możliwości", 5),
    ("Project Development", "Rozwój Projektu", 10),
    ("Project Presentation", "Prezentacja Projektu", 15),
    ("Prospect Evaluation", "Ocena ze strony Prospektu", 20),
    ("Project 2 Preparation", "Przygotowanie Projektu 2", 25),
    ("Project 2 Presentation", "Prezentacja Projektu 2", 30),
    ("Prospect Evaluation of Project 2", "Ocena ze strony Prospektu Projektu 2", 35),
    ("Negotiation", "Negocjacje", 40),
    ("Negotiation 2", "Negocjacje 2", 50),
    ("Order", "Zamówienie", 80),
    ("Delivery", "Dostawa", 85),
    ("Invoice", "Faktura", 95),
    ("Payment Received", "Należność", 100),
]


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestCrmStage(SalesFunnelCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("pl_PL")
        cls.env["ir.module.module"]._load_module_terms(
            ["sales_funnel_pl"], ["pl_PL"], overwrite=True
        )

    @users("sfp_salesman")
    def test_stages_english(self):
        stages = self.env["crm.stage"].search(
            [("id", "in", self.stages.ids)], order="sequence, id"
        )
        self.assertEqual(
            [(stage.name, stage.probability) for stage in stages],
            [(english, probability) for english, _polish, probability in FUNNEL],
        )
        self.assertEqual(stages.mapped("sequence"), list(range(1, 18)))

    @users("sfp_salesman")
    def test_stages_polish(self):
        stages = (
            self.env["crm.stage"]
            .with_context(lang="pl_PL")
            .search([("id", "in", self.stages.ids)], order="sequence, id")
        )
        self.assertEqual(
            stages.mapped("name"), [polish for _english, polish, _p in FUNNEL]
        )
        self.assertEqual(
            stages[1].requirements,
            "Dane niezbędne do rozpoznania Prospektu, jako organizacji, której "
            "potrzeby może zaspokoić Firma, bez bliższej znajomości specyfiki, "
            "wielkości budżetu oraz konkretnych wymagań.",
        )
        self.assertEqual(
            stages[2].requirements,
            "Pierwsze nawiązanie kontaktu z Prospektem (wymiana faksu, emaila, "
            "poczty, broszury).",
        )
        self.assertEqual(
            stages[16].requirements,
            "Otrzymanie 100% należności od Klienta na konto Firmy.",
        )

    @users("sfp_salesman")
    def test_only_payment_received_is_won(self):
        won = self.env["crm.stage"].search(
            [("id", "in", self.stages.ids), ("is_won", "=", True)]
        )
        self.assertEqual(won, self.stage_won)
        self.assertEqual(won.name, "Payment Received")
        self.assertFalse(self.stage_order.is_won)
        self.assertEqual(self.stage_order.probability, 80)

    @users("sfp_manager")
    def test_probability_out_of_range(self):
        stage = self.env["crm.stage"].browse(self.stage_meeting.id)
        for wrong in (-1, 101):
            with self.assertRaises(ValidationError) as error:
                stage.write({"probability": wrong})
            self.assertEqual(
                str(error.exception),
                f"The probability of stage Meeting must be between 0% and 100%, "
                f"not {wrong}%.",
            )
            self.assertEqual(stage.probability, 3)
        # on create the database's check refuses it before Odoo's check runs
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            self.env["crm.stage"].create({"name": "Za dużo", "probability": 150})

    @users("sfp_manager")
    def test_probability_in_stage_form(self):
        with Form(self.env["crm.stage"]) as form:
            form.name = "Wizyta referencyjna"
            form.is_funnel_stage = True
            form.probability = 12.5
        self.assertEqual(form.record.probability, 12.5)
        self.assertTrue(form.record.is_funnel_stage)

    @users("sfp_salesman")
    def test_salesman_cannot_change_stage_probability(self):
        with self.assertRaises(AccessError):
            self.env["crm.stage"].browse(self.stage_meeting.id).write(
                {"probability": 50}
            )

    def test_apply_probability_to_open_opportunities(self):
        opportunities = self._create_opportunities(3, self.stage_meeting)
        typed = opportunities[0]
        typed.probability = 7
        lost = opportunities[1]
        lost.action_set_lost()
        elsewhere = self._create_opportunities(1, self.stage_new)
        stage = self.stage_meeting.with_user(self.user_manager)
        stage.probability = 4
        # changing the % alone changes nothing on the opportunities
        self.assertEqual(opportunities.mapped("probability"), [7, 0, 3])
        action = stage.action_apply_probability()
        self.assertEqual(
            action["params"]["message"],
            "Probability 4% applied to 2 open opportunities.",
        )
        self.assertEqual(opportunities.mapped("probability"), [4, 0, 4])
        self.assertEqual(elsewhere.probability, 0)

    def test_apply_probability_counts_only_what_it_changes(self):
        """Applied again, the stage's % counts the opportunities it changes
        only: one typed 7% among two at the stage's 3%."""
        opportunities = self._create_opportunities(3, self.stage_meeting)
        opportunities[0].probability = 7
        stage = self.stage_meeting.with_user(self.user_manager)
        action = stage.action_apply_probability()
        self.assertEqual(
            action["params"]["message"],
            "Probability 3% applied to 1 open opportunities.",
        )
        self.assertEqual(opportunities.mapped("probability"), [3, 3, 3])
