# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import time
from contextlib import contextmanager

import pytz

from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# the month a sales process ended (its first day), as an expression the
# index crm_lead_funnel_end_month_idx is built on (crm.lead.init) and the
# reports read: written the same in both, so that PostgreSQL matches them
PROCESS_END_MONTH = "(date_trunc('month', {lead}.date_process_end::timestamp))::date"

# seconds between two progress lines of a long step (install, migration)
PROGRESS_INTERVAL = 5


class Progress:
    """Logs a long step's progress, as Odoo logs its own: "<label>: <done>
    of <total> <unit>", at most every few seconds, and once at the end
    (with the time taken)."""

    def __init__(self, label, total, unit="rows", logger=_logger):
        self.label, self.total, self.unit, self.logger = label, total, unit, logger
        self.done = 0
        self.start = self.last = time.monotonic()

    def advance(self, count):
        self.done += count
        now = time.monotonic()
        if now - self.last >= PROGRESS_INTERVAL:
            self.last = now
            self.logger.info(
                "%s: %s of %s %s", self.label, self.done, self.total, self.unit
            )

    def finish(self):
        self.logger.info(
            "%s: %s of %s %s, in %.0f s",
            self.label,
            self.done,
            self.total,
            self.unit,
            time.monotonic() - self.start,
        )


@contextmanager
def foreign_keys_checked_after(cr, tables):
    """Within the block, the foreign keys of ``tables`` are dropped, then
    created again as they were, which checks every row in one pass: a bulk
    load (the install's history of every opportunity) then skips a check per
    row and per key, which costs more than the load itself (PostgreSQL's
    "Populating a Database"). The tables are locked until the commit; an
    error rolls the drop back with the rest."""
    cr.execute(
        """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
             FROM pg_constraint
            WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])
            ORDER BY conrelid, conname""",
        [list(tables)],
    )
    keys = cr.fetchall()
    for table, name, _definition in keys:
        cr.execute(
            SQL(
                "ALTER TABLE %s DROP CONSTRAINT %s",
                SQL.identifier(table),
                SQL.identifier(name),
            )
        )
    yield
    for table, name, definition in keys:
        cr.execute(
            SQL(
                "ALTER TABLE %s ADD CONSTRAINT %s %s",
                SQL.identifier(table),
                SQL.identifier(name),
                SQL(definition),
            )
        )


@contextmanager
def indexes_built_after(cr, tables, keep=()):
    """Within the block, the indexes of ``tables`` are dropped, then built
    again as they were, each in one pass over the rows: a bulk load (the
    install's history of every opportunity) then skips updating every index
    row by row, which costs more than building it afterwards (PostgreSQL's
    "Populating a Database"). Kept: the indexes behind a constraint (the
    primary key) and those named in ``keep``, which the load itself reads,
    and those whose definition holds a ``%`` (an admin's ``LIKE 'x%'``),
    which Odoo's SQL cannot run as it is: they are kept up to date during
    the load, as before. The tables are locked until the commit; an error
    rolls the drop back with the rest."""
    cr.execute(
        """SELECT c.relname, pg_get_indexdef(i.indexrelid)
             FROM pg_index i
             JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = ANY(%s::regclass[])
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k
                               WHERE k.conindid = i.indexrelid)
              AND c.relname <> ALL(%s)
              -- chr(37): the percent sign, which the statement's own
              -- parameters keep from being written as it is
              AND strpos(pg_get_indexdef(i.indexrelid), chr(37)) = 0
            ORDER BY i.indrelid, c.relname""",
        [list(tables), list(keep)],
    )
    indexes = cr.fetchall()
    for name, _definition in indexes:
        cr.execute(SQL("DROP INDEX %s", SQL.identifier(name)))
    yield
    for name, definition in indexes:
        start = time.monotonic()
        cr.execute(SQL(definition))
        _logger.info(
            "sales_funnel_pl: index %s built, in %.0f s", name, time.monotonic() - start
        )


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


def jit_off(cr):
    """Turn PostgreSQL's JIT off for the rest of the transaction, a read's
    own (``SET LOCAL``; allowed on a read replica too). For the statements
    estimated above PostgreSQL's JIT threshold (``jit_above_cost``) from
    about 100,000 opportunities, which PostgreSQL would compile for longer
    than they run: "Zmiany w lejku" (bench/benchmark.py at 100,000: 3.6 s
    with JIT, 0.22 s without), "Dopasowanie lejka" (at a million: 1 s of
    compilation before a run of 1.4 s)."""
    cr.execute(JIT_OFF)


# the statement itself, for a read that sends it with its own query (one
# query, as its budget counts): "Analiza etapów" read from its sums
JIT_OFF = SQL("SET LOCAL jit = off")


@contextmanager
def jit_disabled(cr):
    """JIT off within the block, then as it was: for a long step made of
    many statements each estimated past PostgreSQL's JIT threshold, which
    it would compile again for each of them (the install's history backfill
    at a million: two fifths of each batch's time in LLVM), without
    changing the rest of the transaction (the install's other steps)."""
    cr.execute("SELECT current_setting('jit')")
    setting = cr.fetchone()[0]
    cr.execute(JIT_OFF)
    yield
    cr.execute("SELECT set_config('jit', %s, true)", [setting])
