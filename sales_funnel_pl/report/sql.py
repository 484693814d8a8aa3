# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""SQL the reports share, so that each rule is written once: the currency
conversion into the current company's, the company an opportunity counts
in, whether it is won, and the day its won sale ended. What differs between
18.0 and 19.0 (won, lost) is decided in ``compat.py``."""

from odoo import fields
from odoo.tools import SQL

from .. import compat
from ..utils import PROCESS_END_MONTH  # noqa: F401  (the reports' rules, here)

# what the currency conversion reads (for the reports' ``_depends``)
RATES_DEPENDS = {
    "res.currency.rate": ["rate", "name", "currency_id", "company_id"],
    "res.company": ["currency_id", "parent_path"],
}


def _rate_sql(currency, root_company, day):
    """The rate of ``currency`` for ``root_company`` on ``day``, as Odoo's
    ``res.currency._get_rates`` finds it, as an SQL expression."""
    rate = """SELECT r.rate FROM res_currency_rate r
               WHERE r.currency_id = %(currency)s
                 AND (r.company_id IS NULL OR r.company_id = %(root)s)"""
    return SQL(
        f"COALESCE(({rate} AND r.name <= %(day)s"
        " ORDER BY r.company_id, r.name DESC LIMIT 1),"
        f" ({rate} ORDER BY r.company_id, r.name LIMIT 1), 1.0)",
        currency=currency,
        root=root_company,
        day=day,
    )


def currency_rates_sql(env):
    """SQL CTEs ``target`` (the current company's currency) and ``rates``
    (company_id, currency_id, rate: per company the user works in, the
    factor converting its currency into the current company's, at today's
    rate in the user's day), to start a WITH."""
    day = fields.Date.context_today(env["res.company"])
    return SQL(
        """
        target AS (
            SELECT c.currency_id, split_part(c.parent_path, '/', 1)::int AS root_id
              FROM res_company c
             WHERE c.id = %(company)s
        ), rates AS (
            SELECT c.id AS company_id, t.currency_id,
                   CASE WHEN c.currency_id = t.currency_id THEN 1.0
                        ELSE %(target_rate)s / %(company_rate)s END AS rate
              FROM res_company c, target t
             WHERE c.id IN %(companies)s
        )""",
        company=env.company.id,
        companies=tuple(env.companies.ids),
        target_rate=_rate_sql(SQL("t.currency_id"), SQL("t.root_id"), day),
        company_rate=_rate_sql(SQL("c.currency_id"), SQL("t.root_id"), day),
    )


def lead_company_sql(env, lead_alias):
    """SQL: the company the opportunity aliased ``lead_alias`` counts in: its
    own, else the current company."""
    return SQL(
        "COALESCE(%s, %s)", SQL.identifier(lead_alias, "company_id"), env.company.id
    )


def won_sql(lead_alias, stage_alias):
    """SQL condition, never NULL: the opportunity aliased ``lead_alias`` (its
    stage aliased ``stage_alias``) is won, as ``compat.lead_won_sql`` says."""
    return SQL("COALESCE(%s, false)", compat.lead_won_sql(lead_alias, stage_alias))


def won_day_sql(lead_alias, tz):
    """SQL: the day the won sale of the opportunity aliased ``lead_alias``
    ended, in the time zone ``tz``: the end of its sales process, else crm's
    closing date (19.0's crm moves ``date_closed`` when a won opportunity is
    archived; the process end stays)."""
    return SQL(
        """COALESCE(%(end)s, (COALESCE(%(closed)s, %(moved)s)
                             AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::date)""",
        end=SQL.identifier(lead_alias, "date_process_end"),
        closed=SQL.identifier(lead_alias, "date_closed"),
        moved=SQL.identifier(lead_alias, "date_last_stage_update"),
        tz=tz,
    )


def history_open_sql(history_alias, stage_alias):
    """SQL condition, never NULL: the opportunity stood open (neither won
    nor lost) while in the stage history row aliased ``history_alias`` (its
    stage aliased ``stage_alias``, LEFT JOINed): the row is no win nor loss,
    in a stage not won. The past forecasts and the pipeline changes read
    the past open pipeline by it."""
    return SQL(
        "(%s NOT IN ('won', 'lost') AND %s IS NOT TRUE)",
        SQL.identifier(history_alias, "change_type"),
        SQL.identifier(stage_alias, "is_won"),
    )


def month_due_sql(day, today):
    """SQL condition: the day ``day`` (SQL) falls in a month where winning
    was possible: a month up to and including the month of ``today`` (the
    user's day). A month still to come has a target and a forecast, and
    nothing could be won in it yet."""
    return SQL(
        "%s < (date_trunc('month', %s::date) + interval '1 month')::date",
        day,
        today,
    )


def due_sum_sql(model, query, field_name):
    """SQL: the sum of ``field_name`` over a grouped read's rows of ``model``
    dated (its field ``date``) in a month where winning was possible (see
    :func:`month_due_sql`), for an attainment or an accuracy that months
    still to come do not dilute."""
    return SQL(
        "SUM(CASE WHEN %s THEN %s END)",
        month_due_sql(
            model._field_to_sql(model._table, "date", query),
            fields.Date.context_today(model),
        ),
        model._field_to_sql(model._table, field_name, query),
    )


def lead_values_at_sql(lead_alias, moment):
    """SQL: a subquery to join LATERAL (``CROSS JOIN LATERAL %s AS v``)
    giving the expected closing date, expected revenue and probability
    (``date_deadline``, ``expected_revenue``, ``probability``) the
    opportunity aliased ``lead_alias`` had at ``moment`` (SQL, a UTC
    timestamp), and ``recorded``: whether they come from a recorded change.

    The one reconstruction rule (``crm.lead.value.change``): the old values
    of its first change after ``moment``, else its current values. Exact
    from the recording's start on (``RECORDING_START_PARAM``); before it,
    the values it had then are not known, and the rule gives those of the
    recording's start (or today's, unchanged since). One index lookup per
    opportunity (crm_lead_value_change_lead_date_idx)."""
    lead = SQL.identifier(lead_alias)
    return SQL(
        """(SELECT CASE WHEN c.id IS NULL THEN %(lead)s.date_deadline
                        ELSE c.old_date_deadline END AS date_deadline,
                   CASE WHEN c.id IS NULL THEN %(lead)s.expected_revenue
                        ELSE c.old_expected_revenue END AS expected_revenue,
                   CASE WHEN c.id IS NULL THEN %(lead)s.probability
                        ELSE c.old_probability END AS probability,
                   c.id IS NOT NULL AS recorded
              FROM (SELECT) one
              LEFT JOIN LATERAL (
                   SELECT c.id, c.old_date_deadline, c.old_expected_revenue,
                          c.old_probability
                     FROM crm_lead_value_change c
                    WHERE c.lead_id = %(lead)s.id AND c.date > %(moment)s
                    ORDER BY c.date, c.id
                    LIMIT 1) c ON true)""",
        lead=lead,
        moment=moment,
    )


def slipped_sql(change_alias):
    """SQL condition, never NULL: the change aliased ``change_alias`` (a row
    of ``crm_lead_value_change``) slipped its opportunity: it moved the
    expected closing date into a later month (a date set where there was
    none, or removed, is no slip). The one rule of "slipped" for the
    reports and the messages."""
    change = SQL.identifier(change_alias)
    return SQL(
        """COALESCE(date_trunc('month', %(change)s.new_date_deadline)
                    > date_trunc('month', %(change)s.old_date_deadline), false)""",
        change=change,
    )


# ----------------------------------------------------------------------
# The stage analysis' rules (its report, its rollup, the funnel tuning and
# the history's own marks)
# ----------------------------------------------------------------------

# the history rows that are an entry into their stage (a loss or a
# restoration stays in the stage it happened in: no entry)
ENTRY_CHANGES = ("create", "stage", "won", "import", "map")


def entry_sql(history_alias):
    """SQL condition: the stage history row aliased ``history_alias`` is an
    entry into its stage (the stage analysis' and the funnel tuning's
    rule)."""
    return SQL("%s IN %s", SQL.identifier(history_alias, "change_type"), ENTRY_CHANGES)


def report_entry_sql(history_alias):
    """SQL condition: the stage history row aliased ``history_alias`` is one
    of the stage analysis' entries (an entry into a stage it names)."""
    return SQL(
        "(%s AND %s IS NOT NULL)",
        entry_sql(history_alias),
        SQL.identifier(history_alias, "stage_id"),
    )


def days_in_stage_sql(history_alias):
    """SQL: the days spent in its stage by the entry aliased
    ``history_alias``, counted from the business stage dates, for an entry
    that left the stage (NULL while the opportunity is still in it): what
    the stage analysis' average and median, and the funnel tuning's median
    and 75th percentile, are taken over."""
    return SQL(
        "CASE WHEN %s IS NOT NULL THEN %s END",
        SQL.identifier(history_alias, "date_leave"),
        SQL.identifier(history_alias, "duration_days"),
    )
