# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The upgrade from 1.6.0 to this version, for real: the addon as the
repository held it before the version went to 1.7.0 (``git archive``) is
installed on a throw-away database, then Odoo upgrades it with this tree's
code.

Up to 1.6.0 the install's history backfill recorded as skipped, for a move of
the chatter's past, the funnel's stages the install itself created: 1.7.0
removes those rows, and keeps those of the stages there at the move."""

import os

import pytest
from odoo_cli import manifest_version, upgraded

DB = os.environ.get("SALES_FUNNEL_PL_UPGRADE_1_6_DB", "sales_funnel_pl_upgrade_1_6")

# 1.6.0 installed: an opportunity moved from stage 1 to stage 4 in March
# 2025 (the chatter's tracking, dated then), its history built by 1.6.0's
# backfill as the install builds it; another moved the same way now; stage 3
# dated back to January 2025 (there at the first move; stage 2 was not)
SETUP = """
stage = lambda n: env.ref(f"sales_funnel_pl.stage_{n:02d}")
Lead = env["crm.lead"]
past, now = Lead.create([
    {"name": name, "type": "opportunity", "stage_id": stage(1).id,
     "expected_revenue": 1000}
    for name in ("Wdrożenie z 2025", "Wdrożenie z dziś")])
env.cr.commit()
(past | now).write({"stage_id": stage(4).id})
env.cr.commit()  # Odoo writes the tracking when the transaction commits
env.cr.execute(
    "UPDATE mail_message SET date = '2025-03-14 10:00:00'"
    " WHERE model = 'crm.lead' AND res_id = %s", [past.id])
env.cr.execute(
    "UPDATE crm_lead SET create_date = '2025-03-01 09:00:00',"
    " date_last_stage_update = '2025-03-14 10:00:00' WHERE id = %s", [past.id])
env.cr.execute(
    "UPDATE crm_stage SET create_date = '2025-01-02 08:00:00' WHERE id = %s",
    [stage(3).id])
env.cr.execute("DELETE FROM crm_lead_stage_history WHERE lead_id = %s", [past.id])
env["crm.lead.stage.history"].invalidate_model()
env["crm.lead.stage.history"]._backfill()
env.cr.commit()
leads = [past.id, now.id]
"""

# each opportunity's rows that skipped stages, in order, with those stages
SKIPS = """
env.cr.execute(
    "SELECT h.lead_id, h.stage_id, array_agg(k.stage_id ORDER BY k.stage_id)"
    "  FROM crm_lead_stage_history h"
    "  JOIN crm_lead_stage_history_skip k ON k.history_id = h.id"
    " WHERE h.lead_id = ANY(%s)"
    " GROUP BY h.id ORDER BY h.lead_id, h.id", [leads])
skips = env.cr.fetchall()
emit({"leads": leads, "stages": [stage(n).id for n in (2, 3, 4)], "skips": skips,
      "version": env["ir.module.module"].search(
          [("name", "=", "sales_funnel_pl")]).latest_version})
"""

BEFORE = SETUP + SKIPS
AFTER = (
    """
stage = lambda n: env.ref(f"sales_funnel_pl.stage_{n:02d}")
leads = {leads}
"""
    + SKIPS
)


@pytest.fixture(scope="module")
def upgrade(tmp_path_factory):
    yield from upgraded(
        tmp_path_factory,
        DB,
        "1.7.0",
        "1.6.0",
        BEFORE,
        lambda before: AFTER.replace("{leads}", repr(before["leads"])),
    )


def test_stages_created_after_the_move_are_no_longer_skipped(upgrade):
    before, after = upgrade
    assert before["version"].endswith(".1.6.0")
    assert after["version"].endswith("." + manifest_version())
    (past, now), (stage_2, stage_3, stage_4) = before["leads"], before["stages"]
    # 1.6.0 recorded both moves to stage 4 as skipping stages 2 and 3
    assert before["skips"] == [
        [past, stage_4, [stage_2, stage_3]],
        [now, stage_4, [stage_2, stage_3]],
    ]
    # the move of 2025 skipped stage 3 only (stage 2 came with the
    # install), the move made now both
    assert after["skips"] == [
        [past, stage_4, [stage_3]],
        [now, stage_4, [stage_2, stage_3]],
    ]
