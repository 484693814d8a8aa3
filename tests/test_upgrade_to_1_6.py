# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The upgrade from 1.5.0 to this version, for real: the addon as the
repository held it before the version went to 1.6.0 (``git archive``) is
installed on a throw-away database with Polish loaded, then Odoo upgrades it
with this tree's code.

1.6.0 corrects the Polish description of "Informacje o potrzebie"
("jako organizację" -> "jako organizacji"), which releases up to 1.2.0
installed; the stages are ``noupdate`` and an upgrade keeps the translations
a database holds, so the migration does it, where the text is still the one
installed: a description the administrator wrote stays."""

import os

import pytest
from odoo_cli import manifest_version, upgraded

DB = os.environ.get("SALES_FUNNEL_PL_UPGRADE_1_5_DB", "sales_funnel_pl_upgrade_1_5")

SLIP = (
    "Dane niezbędne do rozpoznania Prospektu, jako organizację, której potrzeby "
    "może zaspokoić Firma, bez bliższej znajomości specyfiki, wielkości budżetu "
    "oraz konkretnych wymagań."
)
FIXED = SLIP.replace("jako organizację", "jako organizacji")
# the administrator's own description of stage 4 (Spotkanie), in Polish
ADMINS = "Spotkanie u klienta, z decydentem; notatka w CRM tego samego dnia."

# 1.5.0 with Polish: stage 2's Polish description as 1.2.0 stored it (never
# edited since), stage 4's as the administrator wrote it; their English as
# installed
BEFORE = """
stage_2 = env.ref("sales_funnel_pl.stage_02").id
stage_4 = env.ref("sales_funnel_pl.stage_04").id
for stage_id, text in [(stage_2, {slip!r}), (stage_4, {admins!r})]:
    env.cr.execute(
        "UPDATE crm_stage SET requirements = requirements || "
        "jsonb_build_object('pl_PL', %s::text) WHERE id = %s",
        [text, stage_id],
    )
env.cr.execute("SELECT id, requirements FROM crm_stage WHERE id IN %s ORDER BY id",
               [(stage_2, stage_4)])
emit({{"stored": env.cr.fetchall(),
      "version": env["ir.module.module"].search(
          [("name", "=", "sales_funnel_pl")]).latest_version}})
"""

AFTER = """
env.cr.execute("SELECT id, requirements FROM crm_stage WHERE id IN %s ORDER BY id",
               [(env.ref("sales_funnel_pl.stage_02").id,
                 env.ref("sales_funnel_pl.stage_04").id)])
emit({"stored": env.cr.fetchall(),
      "version": env["ir.module.module"].search(
          [("name", "=", "sales_funnel_pl")]).latest_version})
"""


@pytest.fixture(scope="module")
def upgrade(tmp_path_factory):
    yield from upgraded(
        tmp_path_factory,
        DB,
        "1.6.0",
        "1.5.0",
        BEFORE.format(slip=SLIP, admins=ADMINS),
        lambda before: AFTER,
        install_args=["--load-language=pl_PL"],
    )


def test_description_installed_with_the_slip_is_corrected(upgrade):
    before, after = upgrade
    assert before["version"].endswith(".1.5.0")
    assert after["version"].endswith("." + manifest_version())
    (stage_2, before_2), (stage_4, before_4) = before["stored"]
    english_2 = (
        "Data needed to recognise the prospect as an organisation whose needs "
        "the company can meet, without closer knowledge of the specifics, the "
        "size of the budget or the concrete requirements."
    )
    assert before_2 == {"en_US": english_2, "pl_PL": SLIP}
    assert before_4 == {"en_US": "First meeting with the prospect.", "pl_PL": ADMINS}
    assert after["stored"] == [
        [stage_2, {"en_US": english_2, "pl_PL": FIXED}],
        [stage_4, {"en_US": "First meeting with the prospect.", "pl_PL": ADMINS}],
    ]
