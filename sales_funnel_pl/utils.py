# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import pytz

from odoo.tools import SQL


def user_tz(env):
    """The time zone of the user's day: the web client's, else the user's
    own, else UTC (a name PostgreSQL's AT TIME ZONE knows)."""
    tz = env.context.get("tz") or env.user.tz
    return tz if tz in pytz.all_timezones_set else "UTC"


def success_notification(message):
    """Client action closing the wizard or dialog and showing ``message``."""
    return {
        "type": "ir.actions.client",
        "tag": "display_notification",
        "params": {
            "type": "success",
            "message": message,
            "next": {"type": "ir.actions.act_window_close"},
        },
    }


def sum_sql(model, query, field_name):
    """SQL: the sum of ``field_name`` over a grouped read's rows of ``model``."""
    return SQL("SUM(%s)", model._field_to_sql(model._table, field_name, query))


def percent_sql(numerator, denominator):
    """SQL: ``numerator`` in % of ``denominator`` (SQL), to 2 decimals, or
    NULL when the denominator is 0: a ratio of a group's sums, for a
    grouped read's aggregate."""
    return SQL(
        "ROUND((100 * %s / NULLIF(%s, 0))::numeric, 2)::float", numerator, denominator
    )
