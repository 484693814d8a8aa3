# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from psycopg2.extras import Json

from odoo.modules.migration import load_script
from odoo.tests import tagged
from odoo.tools import SQL

from .common import SalesFunnelCommon

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
