# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import pytz


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
