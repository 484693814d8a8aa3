# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Ten years of sales in SQL, at any size: the benchmark's data
(bench/benchmark.py) and the load test's demo company (tests/test_load.py).
Run inside Odoo (``odoo shell``): ``populate(env, ...)``, loaded by its path.

Opportunity g was created at a steady pace over the last ten years, the last
one a month ago (ids grow with time, as in a real database). One created more
than half a year ago is closed: 3 in 10 won (in the won stage, at 100%), the
others lost (archived, at 0%), 30 to 120 days after it was created. A younger
one is open in one of the stages (1 in 20 lost). Each has nine stage changes
in its first month, every fourth one skipping a stage, recorded the way Odoo
records them (chatter messages with a ``stage_id`` tracking value): the last
one lands in the opportunity's stage, a won one's is its win. The addon's
install (or its install hook, on a database that has it) builds the stage
history from them.
"""

POPULATE_LEADS = """
INSERT INTO crm_lead (name, type, active, stage_id, team_id, user_id, company_id,
                      expected_revenue, probability, prorated_revenue, priority,
                      date_deadline, date_closed, create_date, write_date,
                      create_uid, write_uid, date_last_stage_update, date_open)
SELECT 'Szansa ' || g, 'opportunity', NOT lost,
       CASE WHEN won THEN %(won_stage)s
            ELSE (%(stages)s::int[])[1 + g %% array_length(%(stages)s::int[], 1)]
       END,
       (%(teams)s::int[])[1 + g %% array_length(%(users)s::int[], 1)],
       (%(users)s::int[])[1 + g %% array_length(%(users)s::int[], 1)],
       %(company)s,
       1000 * (1 + g %% 500),
       CASE WHEN won THEN 100 WHEN lost THEN 0 ELSE 10 END,
       CASE WHEN won THEN 1000 * (1 + g %% 500) WHEN lost THEN 0
            ELSE 100 * (1 + g %% 500) END,
       '0',
       CASE WHEN g %% 7 = 0 THEN NULL ELSE (created + interval '60 days')::date END,
       CASE WHEN won OR lost THEN closed END,
       created, COALESCE(closed, created), 2, 2,
       CASE WHEN won OR lost THEN closed ELSE created + interval '27 days' END,
       created
  FROM (
    SELECT g, created, closing AND g %% 10 < 3 AS won,
           (closing AND g %% 10 >= 3) OR (NOT closing AND g %% 20 = 0) AS lost,
           CASE WHEN closing OR g %% 20 = 0
                THEN LEAST(created + (30 + g %% 91) * interval '1 day', now()) END
               AS closed
      FROM (
        -- the last one a month ago: its first month of changes is past
        SELECT g, now() - interval '3650 days'
                  + (g::float / %(n)s) * interval '3620 days' AS created
          FROM generate_series(1, %(n)s) g
      ) c,
      LATERAL (SELECT created < now() - interval '180 days' AS closing) x
  ) o
"""

# about ten stage changes per opportunity in its first month, tracked as Odoo
# tracks them; move k goes from stage F(k) to F(k + 1) of the stages' list,
# F(k) = base + k + k / 4 (every fourth move jumps over a stage), and the last
# one (k = 9, F(10) = base + 12) lands in the opportunity's own stage: a won
# one's last change is its win
POPULATE_MOVES = """
WITH leads AS (
    SELECT l.id, l.stage_id, l.create_date,
           COALESCE(array_position(%(stages)s::int[], l.stage_id) - 1 - 12, l.id)
               AS base
      FROM crm_lead l
     WHERE l.id > %(after)s
), moves AS (
    SELECT l.id AS lead_id, k,
           (%(stages)s::int[])[1 + ((l.base + k + k / 4) %% %(count)s + %(count)s)
                               %% %(count)s] AS old_stage,
           CASE WHEN k = 9 AND l.stage_id = %(won_stage)s THEN %(won_stage)s
                ELSE (%(stages)s::int[])[1 + ((l.base + k + 1 + (k + 1) / 4)
                                              %% %(count)s + %(count)s) %% %(count)s]
           END AS new_stage,
           l.create_date + k * interval '3 days' AS date
      FROM leads l, generate_series(1, 9) k
), msg AS (
    INSERT INTO mail_message (model, res_id, message_type, date, author_id,
                              create_uid, create_date, write_uid, write_date, body)
    SELECT 'crm.lead', lead_id, 'notification', date, %(partner)s,
           2, date, 2, date, ''
      FROM moves ORDER BY lead_id, k
    RETURNING id, res_id, date
)
INSERT INTO mail_tracking_value (mail_message_id, field_id, old_value_integer,
                                 new_value_integer, create_uid, create_date,
                                 write_uid, write_date)
SELECT msg.id, %(field)s, m.old_stage, m.new_stage, 2, msg.date, 2, msg.date
  FROM msg JOIN moves m ON m.lead_id = msg.res_id AND m.date = msg.date
"""


def populate(env, n, people, stage_ids, won_stage, company_id=1):
    """Create ``n`` opportunities of ten years of sales with their tracked
    stage changes, in SQL: opportunity g belongs to the salesperson and team
    ``people[g % len(people)]`` (a pair of ids), stands in one of
    ``stage_ids`` (the open stages, in order) or in ``won_stage``. Returns
    the counts of what it created."""
    env.cr.execute("SELECT COALESCE(max(id), 0) FROM crm_lead")
    after = env.cr.fetchone()[0]
    env.cr.execute(
        POPULATE_LEADS,
        {
            "n": n,
            "stages": stage_ids,
            "won_stage": won_stage,
            "users": [user_id for user_id, _team_id in people],
            "teams": [team_id for _user_id, team_id in people],
            "company": company_id,
        },
    )
    if "won_status" in env["crm.lead"]._fields:
        # 19.0 stores whether an opportunity is won or lost
        env.cr.execute(
            "UPDATE crm_lead SET won_status = CASE WHEN probability = 100 THEN 'won' "
            "WHEN NOT active THEN 'lost' ELSE 'pending' END WHERE id > %s",
            [after],
        )
    env.cr.execute(
        POPULATE_MOVES,
        {
            "stages": stage_ids,
            "count": len(stage_ids),
            "won_stage": won_stage,
            "after": after,
            "partner": env.user.partner_id.id,
            "field": env["ir.model.fields"]._get("crm.lead", "stage_id").id,
        },
    )
    env.cr.execute("ANALYZE")
    env.cr.execute(
        "SELECT count(*), count(*) FILTER (WHERE active AND probability < 100), "
        "count(*) FILTER (WHERE probability = 100), count(*) FILTER (WHERE NOT active) "
        "FROM crm_lead WHERE id > %s",
        [after],
    )
    leads, open_, won, lost = env.cr.fetchone()
    env.cr.execute(
        "SELECT count(*) FROM mail_tracking_value v "
        "JOIN mail_message m ON m.id = v.mail_message_id "
        "WHERE m.model = 'crm.lead' AND m.res_id > %s",
        [after],
    )
    return {
        "leads": leads,
        "open": open_,
        "won": won,
        "lost": lost,
        "tracking": env.cr.fetchone()[0],
    }


# what the addon records from its install on (crm.lead.value.change), as if it
# had recorded from the first opportunity: three changes in each
# opportunity's first month (its revenue raised by a quarter, its closing date
# pushed out by 30 days, its probability typed from 5 to 10%) and, for a
# closed one, its win or loss (10% to 100% or 0%) on its closing day; the
# last change of each ends in the opportunity's own values
POPULATE_VALUE_CHANGES = """
INSERT INTO crm_lead_value_change (
    lead_id, date, user_id, company_id,
    old_date_deadline, new_date_deadline,
    old_expected_revenue, new_expected_revenue,
    old_probability, new_probability)
SELECT l.id, c.date, l.user_id, l.company_id,
       CASE WHEN c.k <= 2 THEN l.date_deadline - 30 ELSE l.date_deadline END,
       CASE WHEN c.k = 1 THEN l.date_deadline - 30 ELSE l.date_deadline END,
       CASE WHEN c.k = 1 THEN round(l.expected_revenue * 0.8, 2)
            ELSE l.expected_revenue END,
       l.expected_revenue,
       CASE WHEN c.k <= 3 THEN 5 ELSE 10 END,
       CASE WHEN c.k <= 2 THEN 5 WHEN c.k = 3 THEN 10 ELSE l.probability END
  FROM crm_lead l
  CROSS JOIN LATERAL (
      VALUES (1, l.create_date + interval '5 days'),
             (2, l.create_date + interval '12 days'),
             (3, l.create_date + interval '20 days'),
             (4, l.date_closed)
  ) c(k, date)
 WHERE l.id > %(after)s AND l.type = 'opportunity'
   AND (c.k < 4 OR l.date_closed IS NOT NULL)
 ORDER BY c.date, l.id
"""


def populate_value_changes(env, after=0):
    """The recorded value changes (``POPULATE_VALUE_CHANGES``) of the
    opportunities with an id above ``after``, on a database with the addon;
    the recording then starts with the first of them. Returns the rows'
    count."""
    env.cr.execute(POPULATE_VALUE_CHANGES, {"after": after})
    count = env.cr.rowcount
    env.cr.execute(
        "UPDATE ir_config_parameter SET value = ("
        "  SELECT to_char(min(date), 'YYYY-MM-DD HH24:MI:SS')"
        "    FROM crm_lead_value_change"
        ") WHERE key = 'sales_funnel_pl.value_changes_since'"
    )
    env.cr.execute("ANALYZE crm_lead_value_change")
    return count


def populate_skipped_stages(env, every=10):
    """The skipped stages the addon records from its install on, as if one
    opportunity in ``every`` had been moved with the funnel's stages already
    there: each forward move of its history skips the active stages between
    (in crm's stage order: the funnel's stages lie between crm's own), by the
    addon's own rule (``crm.lead.stage.history._insert_skipped_stages_sql``,
    as a move made now); the stage analysis' sums follow through its
    triggers. The benchmark's moves go through crm's stages, of which none
    is skipped: without this, the skipped stages' table would stay empty,
    unlike that of any database that has used the funnel. Returns the rows'
    count, on a database with the addon."""
    from odoo.tools import SQL

    env["crm.lead.stage.history"].flush_model()
    env.cr.execute(
        env["crm.lead.stage.history"]._insert_skipped_stages_sql(
            SQL(
                "(SELECT * FROM crm_lead_stage_history WHERE mod(lead_id, %s) = 0)",
                every,
            )
        )
    )
    count = env.cr.rowcount
    env.cr.execute("ANALYZE crm_lead_stage_history_skip")
    return count
