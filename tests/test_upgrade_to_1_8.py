# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The upgrade from 1.7.1 to this version, for real: the addon as the
repository held it before the version went to 1.8.0 (``git archive``) is
installed on a throw-away database with opportunities that moved, came back
to a stage and were won; Odoo then upgrades it with this tree's code.

1.8.0 reads "Analiza etapów" from sums kept with the history: the upgrade
marks every history row and makes the sums from them, so that the screen
shows after the upgrade what it showed before, to the last digit."""

import os

import pytest
from odoo_cli import manifest_version, upgraded

DB = os.environ.get("SALES_FUNNEL_PL_UPGRADE_1_7_1_DB", "sales_funnel_pl_upgrade_1_7_1")

MEASURES = [
    "__count",
    "entered_count:sum",
    "opportunity_count:sum",
    "won_count:sum",
    "skipped_count:sum",
    "moved_on_count:sum",
    "lost_count:sum",
    "conversion:avg",
    "duration_days:avg",
    "median_days:median",
]

# 1.7.1 installed: three opportunities move through the funnel, one of them
# back to a stage it had left and on again, one won, one lost
SETUP = f"""
stage = lambda n: env.ref(f"sales_funnel_pl.stage_{{n:02d}}")
Lead = env["crm.lead"]
a, b, c = Lead.create([
    {{"name": name, "type": "opportunity", "stage_id": stage(1).id,
      "expected_revenue": 1000}}
    for name in ("Hala A", "Hala B", "Hala C")])
env.cr.commit()
for leads, move in (
    (a | b | c, stage(2)), (a, stage(5)), (a, stage(2)), (a | b, stage(5)),
    (c, "lost"), (a, "won"),
):
    if isinstance(move, str):
        getattr(leads, f"action_set_{{move}}")()
    else:
        leads.write({{"stage_id": move.id}})
    env.cr.commit()
measures = {MEASURES!r}
"""

# the screen's figures (by stage, then the total), and those of the rows
FIGURES = """
Report = env["sales.funnel.stage.report"]
def figures(report):
    rows = [[stage.id, *values]
            for stage, *values in report._read_group([], ["stage_id"], measures)]
    return rows + [list(report._read_group([], [], measures)[0])]
version = env["ir.module.module"].search(
    [("name", "=", "sales_funnel_pl")]).latest_version
# the indexes that find an opportunity's skipped stages
env.cr.execute(
    "SELECT i.indexrelid::regclass::text FROM pg_index i"
    "  JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
    " WHERE i.indrelid = 'crm_lead_stage_history_skip'::regclass"
    "   AND a.attname = 'lead_id'")
skip_lead_indexes = [row[0] for row in env.cr.fetchall()]
"""

BEFORE = (
    SETUP
    + FIGURES
    + """
emit({"figures": figures(Report), "version": version,
      "skip_lead_indexes": skip_lead_indexes})
"""
)

AFTER = (
    f"""
measures = {MEASURES!r}
"""
    + FIGURES
    + """
Rollup = env["sales.funnel.stage.rollup"]
env.cr.execute(
    "SELECT count(*) FROM (SELECT * FROM (%s) e EXCEPT ALL "
    " SELECT month, stage_id, company_id, days, entered, visits, visits_won, leads,"
    "        leads_won, moved_on, lost, skipped FROM sales_funnel_stage_rollup) d"
    % env.cr.mogrify(Rollup._expected_sums_sql().code,
                     Rollup._expected_sums_sql().params).decode())
missing = env.cr.fetchone()[0]
env.cr.execute("SELECT count(*) FROM sales_funnel_stage_rollup")
sums = env.cr.fetchone()[0]
env.cr.execute(
    "SELECT count(*) FILTER (WHERE entry_last), count(*) FILTER (WHERE visit_repeated),"
    "       count(*) FILTER (WHERE lead_won) FROM crm_lead_stage_history")
marks = env.cr.fetchone()
emit({
    "figures": figures(Report),
    "rows": figures(Report.with_context(sales_funnel_stage_rows=True)),
    "fast": Report._read_group_rollup([], [["stage_id"], []], measures, None)
            is not None,
    "missing": missing, "sums": sums, "marks": list(marks), "version": version,
    "skip_lead_indexes": skip_lead_indexes,
})
"""
)


@pytest.fixture(scope="module")
def upgrade(tmp_path_factory):
    yield from upgraded(
        tmp_path_factory, DB, "1.8.0", "1.7.1", BEFORE, lambda before: AFTER
    )


def test_the_stage_analysis_shows_the_same_after_the_upgrade(upgrade):
    before, after = upgrade
    assert before["version"].endswith(".1.7.1")
    assert after["version"].endswith("." + manifest_version())
    # read from the sums, as the rows give it, as 1.7.1 gave it
    assert after["fast"]
    assert after["figures"] == after["rows"] == before["figures"]
    # every sum made (the rollup holds what the rows give, nothing missing)
    assert after["sums"] > 0
    assert after["missing"] == 0
    # three opportunities: each one's last entry; a entered stage 2 and
    # stage 5 twice (its first entries are repeated); a is won (its 6 rows)
    assert after["marks"] == [3, 2, 6]


def test_the_skipped_stages_are_indexed_by_opportunity_after_the_upgrade(upgrade):
    """1.7.0 to 1.8.3 installed the skipped stages without an index by
    opportunity (deleting, merging or moving an opportunity to another
    company read the whole table for each one): the upgrade makes it."""
    before, after = upgrade
    assert before["skip_lead_indexes"] == []
    assert after["skip_lead_indexes"] == ["crm_lead_stage_history_skip__lead_id_index"]
