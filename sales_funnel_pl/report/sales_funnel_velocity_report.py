# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.tools import SQL

from .. import compat
from . import sql

# the closed sales a salesperson's velocity learns from: those ended in the
# twelve months before the user's day (a year to the day, 366 days when a
# 29 February lies between)
VELOCITY_WINDOW_YEARS = 1


class SalesFunnelVelocityReport(models.Model):
    """Sales velocity per salesperson and team: how much value the open
    pipeline turns into per day, read as sales teams read it,

        open opportunities × average won value × win rate ÷ average sales cycle,

    the last three from the sales closed (won or lost) in the last twelve
    months, in the user's days. A team's velocity is the sum of its
    salespeople's. One SQL statement per read."""

    _name = "sales.funnel.velocity.report"
    _description = "Sales Velocity"
    _auto = False
    _rec_name = "user_id"
    _order = "team_id, velocity desc"
    # what the statement reads: pending changes are written before a read
    _depends = {
        "crm.lead": [
            "active",
            "company_id",
            "date_process_end",
            "date_process_start",
            "expected_revenue",
            "stage_id",
            "team_id",
            "type",
            "user_id",
            *compat.LEAD_WON_COLUMNS,
        ],
        "crm.stage": ["is_won"],
    }

    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", string="Company", readonly=True)
    company_currency = fields.Many2one(
        related="company_id.currency_id", string="Currency", readonly=True
    )
    open_count = fields.Integer(
        string="Open Opportunities",
        readonly=True,
        aggregator="sum",
        help="Open opportunities now (not won, not lost).",
    )
    won_count = fields.Integer(
        string="Won (12 months)",
        readonly=True,
        aggregator="sum",
        help="Opportunities won in the last twelve months.",
    )
    lost_count = fields.Integer(
        string="Lost (12 months)",
        readonly=True,
        aggregator="sum",
        help="Opportunities lost in the last twelve months.",
    )
    won_value = fields.Monetary(
        string="Won Value (12 months)",
        currency_field="company_currency",
        readonly=True,
        aggregator="sum",
    )
    avg_won_value = fields.Monetary(
        string="Average Won Value",
        currency_field="company_currency",
        readonly=True,
        aggregator=None,
    )
    win_rate = fields.Float(
        string="Win Rate (%)",
        readonly=True,
        aggregator=None,
        help="Won ÷ (won + lost), in the last twelve months.",
    )
    cycle_days = fields.Float(
        string="Average Sales Cycle (days)",
        readonly=True,
        aggregator=None,
        help="Days from the start of the sales process to the win, on average, "
        "for the sales won in the last twelve months.",
    )
    velocity = fields.Monetary(
        string="Velocity per Day",
        currency_field="company_currency",
        readonly=True,
        aggregator="sum",
        help="Open opportunities × average won value × win rate ÷ average sales "
        "cycle: the value the open pipeline brings per day. A team's velocity is "
        "the sum of its salespeople's.",
    )

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT min(v.lead_id) AS id, v.user_id, v.team_id, v.company_id,
                   count(*) FILTER (WHERE v.is_open) AS open_count,
                   count(*) FILTER (WHERE v.is_won) AS won_count,
                   count(*) FILTER (WHERE v.is_lost) AS lost_count,
                   COALESCE(sum(v.revenue) FILTER (WHERE v.is_won), 0) AS won_value,
                   avg(v.revenue) FILTER (WHERE v.is_won) AS avg_won_value,
                   100.0 * count(*) FILTER (WHERE v.is_won)
                       / NULLIF(count(*) FILTER (WHERE v.is_won OR v.is_lost), 0)
                       AS win_rate,
                   avg(v.cycle) FILTER (WHERE v.is_won) AS cycle_days,
                   count(*) FILTER (WHERE v.is_open)
                       * avg(v.revenue) FILTER (WHERE v.is_won)
                       * count(*) FILTER (WHERE v.is_won)
                       / NULLIF(count(*) FILTER (WHERE v.is_won OR v.is_lost), 0)
                       / NULLIF(avg(v.cycle) FILTER (WHERE v.is_won), 0) AS velocity
              FROM (
                -- the open opportunities (crm_lead_funnel_open_idx) and those
                -- whose process ended in the window (its process end's
                -- index), never every opportunity of every past year
                SELECT l.id AS lead_id, l.user_id, l.team_id, l.company_id,
                       l.expected_revenue AS revenue,
                       GREATEST(l.date_process_end - l.date_process_start, 1) AS cycle,
                       true AS is_open, false AS is_won, false AS is_lost
                  FROM crm_lead l
                  LEFT JOIN crm_stage s ON s.id = l.stage_id
                 WHERE %(open)s AND l.user_id IS NOT NULL
                UNION ALL
                -- (an open opportunity without a stage: 18.0's index
                -- condition names stages)
                SELECT l.id, l.user_id, l.team_id, l.company_id, l.expected_revenue,
                       GREATEST(l.date_process_end - l.date_process_start, 1),
                       true, false, false
                  FROM crm_lead l
                  LEFT JOIN crm_stage s ON s.id = l.stage_id
                 WHERE l.stage_id IS NULL AND l.active AND l.type = 'opportunity'
                   AND l.user_id IS NOT NULL AND NOT COALESCE(%(open)s, false)
                   AND NOT %(won)s
                UNION ALL
                SELECT l.id, l.user_id, l.team_id, l.company_id, l.expected_revenue,
                       -- a sale won the day it started took a day
                       GREATEST(l.date_process_end - l.date_process_start, 1),
                       false,
                       %(won)s,
                       -- 19.0 keeps an archived won opportunity won
                       NOT l.active AND NOT %(won)s
                  FROM crm_lead l
                  LEFT JOIN crm_stage s ON s.id = l.stage_id
                 WHERE l.type = 'opportunity' AND l.user_id IS NOT NULL
                   AND l.date_process_end > %(since)s
                   AND NOT (l.active AND NOT %(won)s)
              ) v
             WHERE v.is_open OR v.is_won OR v.is_lost
             GROUP BY v.user_id, v.team_id, v.company_id
            """,
            won=sql.won_sql("l", "s"),
            open=compat.open_lead_sql("l", "s"),
            since=fields.Date.subtract(
                fields.Date.context_today(self), years=VELOCITY_WINDOW_YEARS
            ),
        )
