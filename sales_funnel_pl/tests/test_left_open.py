# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
from datetime import datetime, time, timedelta

import pytz
from psycopg2 import IntegrityError
from psycopg2.extras import Json

from odoo import fields
from odoo.modules.migration import load_script
from odoo.modules.module import get_manifest
from odoo.tests import HttpCase, TransactionCase, tagged
from odoo.tools import SQL, convert_file, mute_logger

from odoo.addons.mail.tests.common import mail_new_test_user

from .. import compat
from .common import SalesFunnelCommon

if not compat.ODOO_19:
    from odoo.tools.translate import translate_sql_constraint

DESCRIPTION_MIGRATION = "sales_funnel_pl/migrations/1.6.0/post-10-stage-description.py"
# stage_02's description as the data file writes it (English, the source)
ENGLISH = (
    "Data needed to recognise the prospect as an organisation whose needs the "
    "company can meet, without closer knowledge of the specifics, the size of "
    "the budget or the concrete requirements."
)
# its Polish as releases up to 1.2.0 installed it, and as it reads since
SLIP = (
    "Dane niezbędne do rozpoznania Prospektu, jako organizację, której potrzeby "
    "może zaspokoić Firma, bez bliższej znajomości specyfiki, wielkości budżetu "
    "oraz konkretnych wymagań."
)
FIXED = (
    "Dane niezbędne do rozpoznania Prospektu, jako organizacji, której potrzeby "
    "może zaspokoić Firma, bez bliższej znajomości specyfiki, wielkości budżetu "
    "oraz konkretnych wymagań."
)
ADMINS = "Klient, którego potrzeby znamy z rozmowy telefonicznej."


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestStageDescriptionMigration(SalesFunnelCommon):
    """1.6.0 corrects the Polish description of "Informacje o potrzebie"
    ("jako organizację" -> "jako organizacji", as the method writes it) in a
    database that still holds the text an earlier release installed; a
    description an administrator wrote stays theirs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._load_polish()
        cls.stage_need = cls.stages[1]

    def _store(self, stages_values):
        """Write the stored descriptions {stage: {lang: text}} as a database
        holds them (the translations a release installed or an admin typed)."""
        self.env.flush_all()
        for stage, values in stages_values.items():
            self.env.cr.execute(
                SQL(
                    "UPDATE crm_stage SET requirements = %s WHERE id = %s",
                    Json(values),
                    stage.id,
                )
            )
        self.env.invalidate_all()

    def _migrate(self):
        load_script(DESCRIPTION_MIGRATION, "sales_funnel_pl_1_6_0_description").migrate(
            self.env.cr, "18.0.1.5.0"
        )
        self.env.invalidate_all()

    def _descriptions(self, stage):
        """The description as a Polish salesperson and an English one read it."""
        stage = stage.with_user(self.user_salesman)
        return [
            stage.with_context(lang=lang).requirements for lang in ("pl_PL", "en_US")
        ]

    def test_the_data_reads_as_the_method(self):
        # a new install (the translation file): no slip to correct
        self.assertEqual(self._descriptions(self.stage_need), [FIXED, ENGLISH])

    def test_text_left_as_installed_is_corrected(self):
        # a database installed by 1.2.0 or before, never edited
        self._store({self.stage_need: {"en_US": ENGLISH, "pl_PL": SLIP}})
        self._migrate()
        self.assertEqual(self._descriptions(self.stage_need), [FIXED, ENGLISH])

    def test_text_edited_by_an_admin_stays(self):
        # the admin rewrote the Polish description of stage 2; another
        # stage holds the old text because the admin put it there
        stage_contact = self.stages[2]
        self._store(
            {
                self.stage_need: {"en_US": ENGLISH, "pl_PL": ADMINS},
                stage_contact: {"en_US": "First contact.", "pl_PL": SLIP},
            }
        )
        self._migrate()
        self.assertEqual(self._descriptions(self.stage_need), [ADMINS, ENGLISH])
        self.assertEqual(self._descriptions(stage_contact), [SLIP, "First contact."])

    def test_each_language_on_its_own(self):
        """A description kept in Polish when the addon was uninstalled (its
        en_US holds the Polish text, see hooks.py) is corrected there, and
        the Polish the admin wrote beside it stays."""
        self._store({self.stage_need: {"en_US": SLIP, "pl_PL": ADMINS}})
        self._migrate()
        self.assertEqual(self._descriptions(self.stage_need), [ADMINS, FIXED])


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestConstraintMessagesInPolish(HttpCase, SalesFunnelCommon):
    """The addon's SQL constraints (``compat.sql_constraints``: 18.0's
    ``_sql_constraints``, 19.0's ``models.Constraint``) tell a Polish user
    what was refused in Polish, as Odoo turns a violation into the error the
    user reads (``odoo.service.model.retrying``, which every RPC call goes
    through)."""

    # (constraint, Polish message) of each SQL constraint of the addon
    MESSAGES = [
        (
            "crm_lead_stage_history_dates_ordered",
            "Nie można opuścić etapu przed wejściem w niego.",
        ),
        (
            "crm_stage_probability_range",
            "Prawdopodobieństwo etapu musi mieścić się w przedziale od 0% do 100%.",
        ),
    ]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._load_polish()
        cls.user_manager.lang = "pl_PL"

    def test_each_constraint_has_its_polish_message(self):
        constraints = (
            self.env["ir.model.constraint"]
            .with_context(lang="pl_PL")
            .search([("module.name", "=", "sales_funnel_pl"), ("type", "!=", "f")])
        )
        self.assertEqual(
            sorted((constraint.name, constraint.message) for constraint in constraints),
            self.MESSAGES,
        )

    def test_stage_probability_refused_in_polish_over_rpc(self):
        """A sales manager creating a stage at 150% from the web client: the
        database's check refuses it (before Odoo's check in Python runs)."""
        self.authenticate("sfp_manager", "sfp_manager")
        with mute_logger("odoo.sql_db", "odoo.http"):
            response = self.url_open(
                "/web/dataset/call_kw/crm.stage/create",
                data=json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "method": "call",
                        "params": {
                            "model": "crm.stage",
                            "method": "create",
                            "args": [{"name": "Za dużo", "probability": 150}],
                            "kwargs": {"context": {"lang": "pl_PL"}},
                        },
                    }
                ),
                headers={"Content-Type": "application/json"},
            )
        error = response.json()["error"]["data"]
        self.assertEqual(error["name"], "odoo.exceptions.ValidationError")
        self.assertEqual(
            error["message"],
            "Operacja nie może zostać ukończona: "
            + dict(self.MESSAGES)["crm_stage_probability_range"],
        )
        self.assertFalse(self.env["crm.stage"].search([("name", "=", "Za dużo")]))

    def test_history_dates_refused_in_polish(self):
        """No user writes a row's dates (the history writes itself): the
        check guards the code; what a Polish user would read of it, as Odoo
        words the violation for every RPC call, is Polish."""
        lead = self._create_opportunities(1, self.stage_meeting)
        self.env.flush_all()
        env = self.env(user=self.user_manager, context={"lang": "pl_PL"})
        with (
            self.assertRaises(IntegrityError) as violation,
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.env.cr.execute(
                SQL(
                    """UPDATE crm_lead_stage_history
                          SET date_enter = %s, date_leave = %s
                        WHERE id = %s""",
                    datetime(2026, 3, 2, 9, 0),
                    datetime(2026, 3, 1, 9, 0),
                    lead.stage_history_ids.id,
                )
            )
        exc = violation.exception
        # what odoo.service.model.retrying puts after "Operacja nie może
        # zostać ukończona:" (see the RPC test above): 18.0 the constraint's
        # message in the user's language (translate_sql_constraint), 19.0
        # the model's _sql_error_to_message (compat.sql_constraints)
        if compat.ODOO_19:
            message = env["crm.lead.stage.history"]._sql_error_to_message(exc)
        else:
            message = translate_sql_constraint(
                env.cr, exc.diag.constraint_name, env.lang
            )
        self.assertEqual(
            message, dict(self.MESSAGES)["crm_lead_stage_history_dates_ordered"]
        )


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestDemoWonSales(TransactionCase):
    """The demo's won sales, created won, carry what winning gives a sale
    (``crm.lead._on_won``): the post-sale next action of its salesperson,
    due the configured days (30) after the day it was won; done on that day
    when it fell before today, planned otherwise. The demo is loaded here as
    an install loads it (the manifest's demo files), on what a database
    with demo data has before (Odoo's demo user), everyone in Warsaw."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        demo_user = env.ref("base.user_demo", raise_if_not_found=False)
        if not demo_user:
            demo_user = mail_new_test_user(
                env,
                login="demo",
                name="Marc Demo",
                groups="sales_team.group_sale_salesman",
                tz="Europe/Warsaw",
            )
            env["ir.model.data"].create(
                {
                    "module": "base",
                    "name": "user_demo",
                    "model": "res.users",
                    "res_id": demo_user.id,
                    "noupdate": True,
                }
            )
        (env.ref("base.user_admin") | demo_user).tz = "Europe/Warsaw"
        Lead = env["crm.lead"].with_context(active_test=False)
        before = Lead.search([]).ids
        for path in get_manifest("sales_funnel_pl")["demo"]:
            convert_file(env, "sales_funnel_pl", path, {}, mode="init", noupdate=True)
        env.flush_all()
        env.invalidate_all()
        cls.leads = Lead.search([("id", "not in", before)])
        cls.after_sale = env.ref("sales_funnel_pl.mail_activity_type_after_sale")
        cls.today = fields.Date.context_today(env["sales.funnel.demo"])

    def _after_sale(self, leads):
        """{lead: ([(user, deadline)] planned, [(author, date)] done)} of the
        post-sale next actions of ``leads``."""
        planned = self.env["mail.activity"].search(
            [
                ("res_model", "=", "crm.lead"),
                ("res_id", "in", leads.ids),
                ("activity_type_id", "=", self.after_sale.id),
            ]
        )
        done = self.env["mail.message"].search(
            [
                ("model", "=", "crm.lead"),
                ("res_id", "in", leads.ids),
                ("mail_activity_type_id", "=", self.after_sale.id),
            ]
        )
        return {
            lead: (
                [
                    (activity.user_id, activity.date_deadline)
                    for activity in planned
                    if activity.res_id == lead.id
                ],
                [
                    (message.author_id, message.date)
                    for message in done
                    if message.res_id == lead.id
                ],
            )
            for lead in leads
        }

    def test_won_sales_have_their_after_sale_next_action(self):
        won = self.leads.filtered(lambda lead: compat.lead_is_won(lead))
        # the demo's own two won opportunities and 20 of its past year
        self.assertEqual(len(won), 22)
        warsaw = pytz.timezone("Europe/Warsaw")
        expected, kinds = {}, set()
        for lead in won:
            self.assertEqual(lead.user_id.tz, "Europe/Warsaw")
            won_on = pytz.utc.localize(lead.date_closed).astimezone(warsaw).date()
            deadline = won_on + timedelta(days=30)
            if deadline < self.today:
                kinds.add("done")
                expected[lead] = (
                    [],
                    [(lead.user_id.partner_id, datetime.combine(deadline, time(10)))],
                )
            else:
                kinds.add("planned")
                expected[lead] = ([(lead.user_id, deadline)], [])
        self.assertEqual(self._after_sale(won), expected)
        # the demo shows both: recent wins still to follow up, older ones done
        self.assertEqual(kinds, {"done", "planned"})

    def test_open_and_lost_sales_have_none(self):
        others = self.leads.filtered(lambda lead: not compat.lead_is_won(lead))
        self.assertEqual(len(others), 84)
        self.assertEqual(self._after_sale(others), {lead: ([], []) for lead in others})
