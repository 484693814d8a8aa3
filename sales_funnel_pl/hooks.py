# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import tools
from odoo.tools import SQL

from .utils import user_tz

_logger = logging.getLogger(__name__)

BACKFILL_BATCH = 5000


def _funnel_stage_ids(env):
    return env["crm.stage"]._get_funnel_stages().ids


def post_init_hook(env):
    _archive_unused_stages(env)
    _init_process_dates(env)
    _backfill_stage_history(env)
    _fill_stage_reached(env)
    _rebuild_forecast_snapshots(env)


def _rebuild_forecast_snapshots(env):
    """The forecast of each past month's first day, rebuilt from the stage
    history (see ``sales.funnel.forecast.snapshot._rebuild_from_history``)."""
    companies = env["res.company"].search([])
    written = env["sales.funnel.forecast.snapshot"]._rebuild_from_history(companies)
    _logger.info(
        "sales_funnel_pl: %s forecast snapshot lines rebuilt from the history", written
    )


def _fill_stage_reached(env):
    """How far each opportunity got (``crm.lead.stage_reached_id``), from the
    stage history just filled."""
    count = env["crm.lead"]._stage_reached_refresh()
    _logger.info("sales_funnel_pl: furthest stage set on %s opportunities", count)


def _archive_unused_stages(env):
    """Archive the stages the company no longer needs.

    Stages that are not part of the funnel and hold no opportunity (active
    or lost) are archived; stages that hold opportunities stay active and no
    opportunity moves by itself: the stage mapping wizard does that on
    request.
    """
    Stage = env["crm.stage"].with_context(active_test=False)
    other_stages = Stage.search([("id", "not in", _funnel_stage_ids(env))])
    used_stage_ids = {
        stage.id
        for [stage] in env["crm.lead"]
        .with_context(active_test=False)
        ._read_group([("stage_id", "in", other_stages.ids)], ["stage_id"])
    }
    unused = other_stages.filtered(lambda stage: stage.id not in used_stage_ids)
    unused.write({"active": False})
    _logger.info(
        "sales_funnel_pl: archived %s unused stages, kept %s stages holding "
        "opportunities",
        len(unused),
        len(used_stage_ids),
    )


def uninstall_hook(env):
    # the history goes away with the module; its rows must not keep the
    # unused funnel stages from being deleted (stage_id is ondelete restrict)
    env.cr.execute("DELETE FROM crm_lead_stage_history")
    # the saved forecasts too (their stage_id is ondelete restrict as well)
    env.cr.execute("DELETE FROM sales_funnel_forecast_snapshot")
    # the trigger keeping the history's company would outlive its tables
    env.cr.execute(
        """DROP TRIGGER IF EXISTS sales_funnel_pl_history_company ON crm_lead;
           DROP FUNCTION IF EXISTS sales_funnel_pl_history_company()"""
    )
    _uninstall_keep_activities(env)
    _uninstall_keep_stages(env)


def _uninstall_keep_activities(env):
    """Planned next actions stay planned: the module's activity types go
    away with it, so their open activities become plain To-Dos."""
    own_types = (
        env["ir.model.data"]
        .search(
            [("module", "=", "sales_funnel_pl"), ("model", "=", "mail.activity.type")]
        )
        .mapped("res_id")
    )
    todo = env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
    if own_types and todo:
        activities = (
            env["mail.activity"]
            .with_context(active_test=False)
            .search([("activity_type_id", "in", own_types)])
        )
        activities.write({"activity_type_id": todo.id})
        env["mail.activity"].search(
            [("previous_activity_type_id", "in", own_types)]
        ).write({"previous_activity_type_id": False})


def _uninstall_keep_stages(env):
    """Keep the funnel stages that still hold opportunities.

    ``crm.lead.stage_id`` is ``ondelete='restrict'``: Odoo cannot delete a
    stage that an opportunity uses. Such stages are detached from the module
    (their external id removed) so that they stay as the company's own
    stages, with every opportunity in them; unused funnel stages are deleted
    with the module. Demo opportunities and their customers are kept the same
    way. Stages archived while the module was installed show again, as the
    ``active`` field goes away with it.
    """
    funnel_stage_ids = _funnel_stage_ids(env)
    used_stage_ids = [
        stage.id
        for [stage] in env["crm.lead"]
        .with_context(active_test=False)
        ._read_group([("stage_id", "in", funnel_stage_ids)], ["stage_id"])
    ]
    IrModelData = env["ir.model.data"]
    kept = IrModelData.search(
        [
            ("module", "=", "sales_funnel_pl"),
            ("model", "=", "crm.stage"),
            ("res_id", "in", used_stage_ids),
        ]
    )
    # demo opportunities are opportunities too: keep them with their customers
    lead_data = IrModelData.search(
        [("module", "=", "sales_funnel_pl"), ("model", "=", "crm.lead")]
    )
    partner_ids = (
        env["crm.lead"]
        .with_context(active_test=False)
        .browse(lead_data.mapped("res_id"))
        .exists()
        .partner_id.ids
    )
    kept |= lead_data
    kept |= IrModelData.search(
        [
            ("module", "=", "sales_funnel_pl"),
            ("model", "=", "res.partner"),
            ("res_id", "in", partner_ids),
        ]
    )
    kept.unlink()
    _logger.info(
        "sales_funnel_pl: %s funnel stages holding opportunities kept on uninstall",
        len(used_stage_ids),
    )


def _init_process_dates(env):
    """Existing opportunities: the new columns were filled with today's date
    and the installing user; use what Odoo already recorded instead."""
    env["crm.lead"].flush_model()
    # dates are the local days of the user who created the opportunity
    env.cr.execute(
        SQL(
            """
            WITH local AS (
                SELECT l.id, COALESCE(p.tz, %(tz)s) AS tz
                  FROM crm_lead l
                  LEFT JOIN res_users u ON u.id = l.create_uid
                  LEFT JOIN res_partner p ON p.id = u.partner_id
            )
            UPDATE crm_lead l
               SET date_stage = (COALESCE(l.date_last_stage_update, l.create_date)
                                 AT TIME ZONE 'UTC' AT TIME ZONE t.tz)::date,
                   date_process_start = (l.create_date
                                         AT TIME ZONE 'UTC' AT TIME ZONE t.tz)::date,
                   process_start_user_id = l.create_uid,
                   date_process_end = CASE
                       WHEN NOT l.active OR l.probability = 100
                       THEN (l.date_closed
                             AT TIME ZONE 'UTC' AT TIME ZONE t.tz)::date END
              FROM local t
             WHERE t.id = l.id
            """,
            tz=user_tz(env),
        )
    )
    env["crm.lead"].invalidate_model()


def _backfill_stage_history(env):
    """Fill the stage history of existing opportunities from the chatter's
    tracking of ``stage_id`` (``mail.tracking.value``), batch by batch, so
    that an opportunity created a year ago shows its real past stages and
    dates. Opportunities without tracking get one row for their current
    stage."""
    field = env["ir.model.fields"]._get("crm.lead", "stage_id")
    env.cr.execute(
        """SELECT id FROM crm_lead
            WHERE NOT EXISTS (SELECT 1 FROM crm_lead_stage_history h
                               WHERE h.lead_id = crm_lead.id)
            ORDER BY id"""
    )
    lead_ids = [row[0] for row in env.cr.fetchall()]
    History = env["crm.lead.stage.history"]
    skipped = History._insert_skipped_stages_sql(SQL("inserted"))
    for batch in tools.split_every(BACKFILL_BATCH, lead_ids, list):
        env.cr.execute(
            SQL(
                BACKFILL_SQL,
                field_id=field.id,
                lead_ids=batch,
                skipped=skipped,
                tz=user_tz(env),
            )
        )
    History.invalidate_model()
    # fresh statistics, so that the reports' first reads are planned well
    env.cr.execute("ANALYZE crm_lead_stage_history, crm_lead_stage_history_skip")
    _logger.info(
        "sales_funnel_pl: stage history filled for %s opportunities", len(lead_ids)
    )


BACKFILL_SQL = """
WITH tracking AS (
    SELECT m.res_id AS lead_id, m.date, m.create_uid AS user_id, v.id AS seq,
           v.old_value_integer AS old_stage_id, v.new_value_integer AS new_stage_id
      FROM mail_tracking_value v
      JOIN mail_message m ON m.id = v.mail_message_id
     WHERE v.field_id = %(field_id)s
       AND m.model = 'crm.lead'
       AND m.res_id = ANY(%(lead_ids)s)
), first_tracking AS (
    SELECT DISTINCT ON (lead_id) lead_id, old_stage_id
      FROM tracking
     ORDER BY lead_id, date, seq
), entries AS (
    SELECT l.id AS lead_id,
           COALESCE(f.old_stage_id, l.stage_id) AS stage_id,
           NULL::integer AS previous_stage_id,
           CASE WHEN f.lead_id IS NULL
                THEN COALESCE(l.date_last_stage_update, l.create_date)
                ELSE l.create_date END AS date_enter,
           l.create_uid AS user_id,
           'create' AS change_type,
           0 AS seq
      FROM crm_lead l
      LEFT JOIN first_tracking f ON f.lead_id = l.id
     WHERE l.id = ANY(%(lead_ids)s) AND COALESCE(f.old_stage_id, l.stage_id) IS NOT NULL
    UNION ALL
    SELECT t.lead_id, t.new_stage_id, t.old_stage_id, t.date, t.user_id,
           CASE WHEN st.is_won THEN 'won' ELSE 'stage' END, t.seq
      FROM tracking t
      LEFT JOIN crm_stage st ON st.id = t.new_stage_id
    UNION ALL
    -- a lost opportunity was lost in its stage when it was closed
    SELECT l.id, l.stage_id, l.stage_id, l.date_closed,
           COALESCE(l.write_uid, l.create_uid), 'lost', 2147483647
      FROM crm_lead l
     WHERE l.id = ANY(%(lead_ids)s) AND NOT l.active AND l.stage_id IS NOT NULL
       AND l.date_closed IS NOT NULL
       AND l.date_closed >= COALESCE(
           (SELECT max(t.date) FROM tracking t WHERE t.lead_id = l.id), l.create_date)
), ordered AS (
    SELECT e.*,
           lead(e.date_enter) OVER w AS date_leave,
           lead(e.stage_id) OVER w AS next_stage_id,
           lead(e.change_type) OVER w AS left_change,
           row_number() OVER w = count(*) OVER (PARTITION BY e.lead_id) AS is_last
      FROM entries e
    WINDOW w AS (PARTITION BY e.lead_id ORDER BY e.date_enter, e.seq)
), dated AS (
    -- the stage date of a past row is the local day (of the user who made
    -- the change) it was entered on; the current row's is the opportunity's
    SELECT o.*,
           CASE WHEN o.is_last AND o.change_type <> 'lost' THEN l.date_stage
                ELSE (o.date_enter AT TIME ZONE 'UTC'
                      AT TIME ZONE COALESCE(p.tz, %(tz)s))::date END AS day
      FROM ordered o
      JOIN crm_lead l ON l.id = o.lead_id
      LEFT JOIN res_users u ON u.id = o.user_id
      LEFT JOIN res_partner p ON p.id = u.partner_id
), days AS (
    SELECT d.*, lead(d.day) OVER (PARTITION BY d.lead_id ORDER BY d.date_enter, d.seq)
               AS next_day
      FROM dated d
), inserted AS (
INSERT INTO crm_lead_stage_history (
    lead_id, stage_id, previous_stage_id, change_type, date_enter, date_leave,
    next_stage_id, left_change, moved_on, duration_days, date_stage, user_id,
    salesperson_id, team_id, probability, expected_revenue, prorated_revenue,
    report_company_id, create_uid, create_date, write_uid, write_date)
SELECT o.lead_id, s.id, ps.id, o.change_type,
       o.date_enter,
       CASE WHEN NOT o.is_last THEN GREATEST(o.date_leave, o.date_enter) END,
       ns.id, o.left_change,
       COALESCE(o.left_change IN ('stage', 'won') AND ns.sequence > s.sequence, false),
       CASE WHEN NOT o.is_last THEN GREATEST(o.next_day - o.day, 0) END,
       o.day,
       o.user_id, l.user_id, l.team_id,
       CASE WHEN o.is_last THEN l.probability ELSE s.probability END,
       l.expected_revenue,
       round((l.expected_revenue
              * CASE WHEN o.is_last THEN l.probability
                     ELSE COALESCE(s.probability, 0) END / 100.0)::numeric, 2),
       l.company_id, o.user_id, o.date_enter, o.user_id, o.date_enter
  FROM days o
  JOIN crm_lead l ON l.id = o.lead_id
  LEFT JOIN crm_stage s ON s.id = o.stage_id
  LEFT JOIN crm_stage ps ON ps.id = o.previous_stage_id
  LEFT JOIN crm_stage ns ON ns.id = o.next_stage_id
 -- ids in the order of the moves, which is how rows entered at the same
 -- moment are told apart afterwards
 ORDER BY o.lead_id, o.date_enter, o.seq
RETURNING *
)
%(skipped)s
"""
