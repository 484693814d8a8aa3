# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import pytz

from odoo.tools import SQL


def user_tz(env):
    """The time zone of the user's day: the web client's, else the user's
    own; for a user without one (OdooBot running the install, a migration
    or a scheduled action) the company's day, which is the time zone most of
    its active internal users work in; else UTC. Always a name PostgreSQL's
    AT TIME ZONE knows."""
    tz = env.context.get("tz") or env.user.tz
    if tz not in pytz.all_timezones_set:
        tz = company_tz(env)
    return tz if tz in pytz.all_timezones_set else "UTC"


def company_tz(env):
    """The time zone most active internal users of the database work in
    (none: False)."""
    env["res.users"].flush_model(["active", "share", "partner_id"])
    env["res.partner"].flush_model(["tz"])
    env.cr.execute(
        """SELECT p.tz FROM res_users u JOIN res_partner p ON p.id = u.partner_id
            WHERE u.active AND NOT u.share AND p.tz IS NOT NULL
            GROUP BY p.tz ORDER BY count(*) DESC, p.tz LIMIT 1"""
    )
    row = env.cr.fetchone()
    return row[0] if row else False


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
