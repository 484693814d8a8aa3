# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""1.6.0: the Polish description of "Informacje o potrzebie" (``stage_02``)
reads "jako organizacji" (the method's text, SPEC.md); releases up to 1.2.0
installed it with the slip "jako organizację". The stages are ``noupdate``
records, and an upgrade keeps the translations a database holds: this script
corrects the stored description, in every language that still holds the old
text (pl_PL; en_US too where a company's description was kept in Polish when
the addon was uninstalled, see hooks.py), and leaves any other text alone:
an administrator's own description stays. Both texts are written here as
1.6.0 has them, not read from the translation file, which later versions may
change."""

import logging

from odoo.tools import SQL

_logger = logging.getLogger(__name__)

STAGE = "stage_02"
BEFORE = (
    "Dane niezbędne do rozpoznania Prospektu, jako organizację, której potrzeby "
    "może zaspokoić Firma, bez bliższej znajomości specyfiki, wielkości budżetu "
    "oraz konkretnych wymagań."
)
AFTER = (
    "Dane niezbędne do rozpoznania Prospektu, jako organizacji, której potrzeby "
    "może zaspokoić Firma, bez bliższej znajomości specyfiki, wielkości budżetu "
    "oraz konkretnych wymagań."
)


def migrate(cr, version):
    cr.execute(
        SQL(
            """
            UPDATE crm_stage s
               SET requirements = (
                   SELECT jsonb_object_agg(
                              t.lang, CASE WHEN t.text #>> '{}' = %(before)s
                                           THEN to_jsonb(%(after)s::text)
                                           ELSE t.text END)
                     FROM jsonb_each(s.requirements) t(lang, text))
              FROM ir_model_data d
             WHERE d.module = 'sales_funnel_pl' AND d.model = 'crm.stage'
               AND d.name = %(stage)s AND d.res_id = s.id
               AND EXISTS (SELECT 1 FROM jsonb_each_text(s.requirements) t
                            WHERE t.value = %(before)s)
            RETURNING s.id
            """,
            before=BEFORE,
            after=AFTER,
            stage=STAGE,
        )
    )
    for (stage_id,) in cr.fetchall():
        _logger.info(
            "Stage %s: the description's 'jako organizację' corrected to "
            "'jako organizacji'.",
            stage_id,
        )
