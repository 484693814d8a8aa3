# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from psycopg2 import IntegrityError

from odoo.tests import tagged
from odoo.tools import mute_logger

from ..utils import foreign_keys_checked_after, indexes_built_after
from .common import SalesFunnelCommon

TABLES = ("crm_lead_stage_history", "crm_lead_stage_history_skip")
# the indexes the load itself reads, kept through it
LOAD_INDEXES = ["crm_lead_stage_history_lead_order_idx"]
# the primary keys (a constraint's) and the load's own
KEPT = [
    ("crm_lead_stage_history", "crm_lead_stage_history_lead_order_idx"),
    ("crm_lead_stage_history", "crm_lead_stage_history_pkey"),
    ("crm_lead_stage_history_skip", "crm_lead_stage_history_skip_pkey"),
]
# built after the load, one pass each
BUILT_AFTER = [
    ("crm_lead_stage_history", "crm_lead_stage_history__date_enter_index"),
    ("crm_lead_stage_history", "crm_lead_stage_history__report_company_id_index"),
    ("crm_lead_stage_history", "crm_lead_stage_history__salesperson_id_index"),
    ("crm_lead_stage_history", "crm_lead_stage_history__stage_id_index"),
    ("crm_lead_stage_history", "crm_lead_stage_history__team_id_index"),
    ("crm_lead_stage_history", "crm_lead_stage_history__user_id_index"),
    ("crm_lead_stage_history", "crm_lead_stage_history_entry_last_idx"),
    ("crm_lead_stage_history", "crm_lead_stage_history_open_idx"),
    ("crm_lead_stage_history_skip", "crm_lead_stage_history_skip__date_enter_index"),
    ("crm_lead_stage_history_skip", "crm_lead_stage_history_skip__history_id_index"),
    ("crm_lead_stage_history_skip", "crm_lead_stage_history_skip__lead_id_index"),
]


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestBackfillBulk(SalesFunnelCommon):
    """The install's history backfill loads in bulk: the history tables'
    foreign keys are dropped for the load and created again as they were,
    which checks every row at once; the load says how far it got."""

    def _indexes(self):
        self.env.cr.execute(
            """SELECT tablename, indexname, indexdef FROM pg_indexes
                WHERE tablename = ANY(%s) ORDER BY 1, 2""",
            [list(TABLES)],
        )
        return self.env.cr.fetchall()

    def _foreign_keys(self):
        self.env.cr.execute(
            """SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
                 FROM pg_constraint
                WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])
                ORDER BY 1, 2""",
            [list(TABLES)],
        )
        return self.env.cr.fetchall()

    def test_backfill_keeps_the_foreign_keys_and_logs_its_progress(self):
        leads = self._create_opportunities(3, self.stage_meeting)
        self.env.cr.flush()
        self.env.cr.execute(
            "DELETE FROM crm_lead_stage_history WHERE lead_id = ANY(%s)", [leads.ids]
        )
        keys = self._foreign_keys()
        indexes = self._indexes()
        # every reference of the history rows is checked: lead, stages,
        # salesperson, team, company, users; the skipped stages' too
        self.assertEqual(len([key for key in keys if key[0] == TABLES[0]]), 10)
        self.assertEqual(len([key for key in keys if key[0] == TABLES[1]]), 6)
        History = self.env["crm.lead.stage.history"]
        History.invalidate_model()
        # JIT as the load's statements see it (a trigger of the test's own
        # records it), with JIT on in the transaction, as PostgreSQL has it
        self.env.cr.execute(
            """CREATE TEMPORARY TABLE sales_funnel_test_jit (setting varchar);
               CREATE FUNCTION pg_temp.sales_funnel_test_jit() RETURNS trigger
               LANGUAGE plpgsql AS $$
               BEGIN
                   INSERT INTO sales_funnel_test_jit VALUES (current_setting('jit'));
                   RETURN NULL;
               END $$;
               CREATE TRIGGER sales_funnel_test_jit
               AFTER INSERT ON crm_lead_stage_history
               FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.sales_funnel_test_jit();
               SET LOCAL jit = on;"""
        )
        # (logging.INFO itself: Odoo names its level 25 "INFO" as well)
        with self.assertLogs("odoo.addons.sales_funnel_pl.utils", logging.INFO) as logs:
            self.assertEqual(History._backfill(), 3)
        self.assertEqual(
            [line.split(":", 2)[2].split(", in ")[0] for line in logs.output],
            [f"sales_funnel_pl: index {name} built" for _table, name in BUILT_AFTER]
            + ["sales_funnel_pl: stage history: 3 of 3 opportunities"],
        )
        self.assertEqual(self._foreign_keys(), keys)
        self.assertEqual(self._indexes(), indexes)
        # the load ran without JIT, and the transaction has it back
        self.env.cr.execute("SELECT setting FROM sales_funnel_test_jit")
        self.assertEqual(self.env.cr.fetchall(), [("off",)])
        self.env.cr.execute("SHOW jit")
        self.assertEqual(self.env.cr.fetchone(), ("on",))
        self.assertEqual(len(leads.stage_history_ids), 3)
        # and they hold: a row of an opportunity that does not exist is refused
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    """INSERT INTO crm_lead_stage_history
                           (lead_id, stage_id, change_type, date_enter)
                       VALUES (%s, %s, 'stage', now())""",
                    [max(leads.ids) + 1000, self.stage_meeting.id],
                )

    def test_foreign_keys_checked_after_the_block(self):
        """Within the block the tables have no foreign key (no check per row);
        after it, the same keys, and a row the block let in that breaks one
        is refused when they come back, with nothing kept."""
        keys = self._foreign_keys()
        self.assertTrue(keys)
        with foreign_keys_checked_after(self.env.cr, TABLES):
            self.assertEqual(self._foreign_keys(), [])
        self.assertEqual(self._foreign_keys(), keys)
        lead = self._create_opportunities(1, self.stage_meeting)
        self.env.cr.flush()
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            with self.env.cr.savepoint():
                with foreign_keys_checked_after(self.env.cr, TABLES):
                    self.env.cr.execute(
                        """INSERT INTO crm_lead_stage_history
                               (lead_id, stage_id, change_type, date_enter)
                           VALUES (%s, %s, 'stage', now())""",
                        [lead.id + 1000, self.stage_meeting.id],
                    )
        self.assertEqual(self._foreign_keys(), keys)

    def test_indexes_built_after_the_block(self):
        """Within the block the tables keep only their primary keys and the
        indexes the load reads; after it, every index as it was, and a
        unique one refuses the duplicates the block let in, with nothing
        kept."""
        indexes = self._indexes()
        self.assertEqual([index[:2] for index in indexes], sorted(KEPT + BUILT_AFTER))
        with indexes_built_after(self.env.cr, TABLES, keep=LOAD_INDEXES):
            self.assertEqual([index[:2] for index in self._indexes()], KEPT)
        self.assertEqual(self._indexes(), indexes)
        self.env.cr.execute(
            """CREATE UNIQUE INDEX sales_funnel_test_unique_idx
               ON crm_lead_stage_history_skip (history_id, stage_id)"""
        )
        lead = self._create_opportunities(1, self.stage_meeting)
        self.env.cr.flush()
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            with self.env.cr.savepoint():
                with indexes_built_after(self.env.cr, TABLES):
                    self.assertEqual(
                        [index[:2] for index in self._indexes()],
                        [KEPT[1], KEPT[2]],
                    )
                    self.env.cr.execute(
                        """INSERT INTO crm_lead_stage_history_skip
                               (history_id, stage_id, lead_id)
                           SELECT id, stage_id, lead_id FROM crm_lead_stage_history
                            WHERE lead_id = %s
                           UNION ALL
                           SELECT id, stage_id, lead_id FROM crm_lead_stage_history
                            WHERE lead_id = %s""",
                        [lead.id, lead.id],
                    )
        self.env.cr.execute(
            "SELECT count(*) FROM crm_lead_stage_history_skip s WHERE s.lead_id = %s",
            [lead.id],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.assertIn(
            ("crm_lead_stage_history_skip", "sales_funnel_test_unique_idx"),
            [index[:2] for index in self._indexes()],
        )

    def test_indexes_with_a_percent_sign_stay_through_the_block(self):
        """An index whose definition holds a ``%`` (an admin's own, on a
        pattern) cannot be run again through Odoo's SQL: it stays through the
        block, kept up to date row by row, and the others are built after it
        as before."""
        self.env.cr.execute(
            """CREATE INDEX sales_funnel_test_pattern_idx
               ON crm_lead_stage_history (change_type)
               WHERE change_type::text LIKE 'st%'"""
        )
        indexes = self._indexes()
        pattern = ("crm_lead_stage_history", "sales_funnel_test_pattern_idx")
        with indexes_built_after(self.env.cr, TABLES, keep=LOAD_INDEXES):
            self.assertEqual(
                [index[:2] for index in self._indexes()], sorted([*KEPT, pattern])
            )
        self.assertEqual(self._indexes(), indexes)
        self.assertIn("'st%'", dict(index[1:] for index in indexes)[pattern[1]])
