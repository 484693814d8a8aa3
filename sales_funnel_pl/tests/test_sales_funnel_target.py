# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date, datetime

from psycopg2 import IntegrityError

from odoo.exceptions import ValidationError
from odoo.modules.migration import load_script
from odoo.tests import tagged, users
from odoo.tools import SQL, mute_logger

from ..models.sales_funnel_target import TARGET_UNIQUE_INDEX
from .common import SalesFunnelCommon

MIGRATION = "sales_funnel_pl/migrations/1.5.0/pre-30-target-unique.py"


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestSalesFunnelTargetUnique(SalesFunnelCommon):
    """One target per month, company, team and salesperson (a team's own
    target has none), held by the database: two managers saving the same
    target at the same time both pass the check in Python."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_real_company()
        cls.targets = cls.env["sales.funnel.target"].create(
            [
                {"date": date(2026, 2, 1), "team_id": cls.team.id, "amount": 20000},
                {
                    "date": date(2026, 2, 1),
                    "team_id": cls.team.id,
                    "user_id": cls.user_salesman.id,
                    "amount": 15000,
                },
                {"date": date(2026, 3, 1), "team_id": cls.team.id, "amount": 10000},
            ]
        )

    def _insert(self, day, user_id=None, amount=1.0, write_date=None):
        """A target written as a second transaction would, past the check
        in Python."""
        self.env.cr.execute(
            SQL(
                """INSERT INTO sales_funnel_target
                       (date, team_id, user_id, company_id, amount, write_date)
                   VALUES (%s, %s, %s, %s, %s, %s) RETURNING id""",
                day,
                self.team.id,
                user_id,
                self.company.id,
                amount,
                write_date,
            )
        )
        return self.env.cr.fetchone()[0]

    def _targets(self):
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                """SELECT date, user_id, amount FROM sales_funnel_target
                    WHERE team_id = %s ORDER BY date, user_id NULLS FIRST, amount""",
                self.team.id,
            )
        )
        return self.env.cr.fetchall()

    def test_database_refuses_a_duplicate(self):
        # the team's own target (no salesperson) and a salesperson's
        for user_id in (None, self.user_salesman.id):
            with self.subTest(user_id=user_id):
                with (
                    self.assertRaises(IntegrityError) as error,
                    mute_logger("odoo.sql_db"),
                    self.env.cr.savepoint(),
                ):
                    self._insert(date(2026, 2, 1), user_id)
                self.assertEqual(
                    error.exception.diag.constraint_name, TARGET_UNIQUE_INDEX
                )
        # another salesperson's target of the month is no duplicate
        self._insert(date(2026, 2, 1), self.user_salesman_utc.id, 500)
        self.assertEqual(
            self._targets(),
            [
                (date(2026, 2, 1), None, 20000.0),
                (date(2026, 2, 1), self.user_salesman.id, 15000.0),
                (date(2026, 2, 1), self.user_salesman_utc.id, 500.0),
                (date(2026, 3, 1), None, 10000.0),
            ],
        )

    @users("sfp_manager")
    def test_duplicate_named_in_the_users_language(self):
        """The ORM refuses a duplicate before the database would, naming
        the month in the user's language: created, created twice in one
        batch, or moved onto another target's month."""
        self._load_polish()
        Target = self.env["sales.funnel.target"].with_context(lang="pl_PL")
        with self.assertRaises(ValidationError) as error:
            Target.create(
                {
                    "date": date(2026, 2, 14),
                    "team_id": self.team.id,
                    "user_id": self.user_salesman.id,
                    "amount": 5,
                }
            )
        self.assertEqual(
            str(error.exception),
            f"{self.team.display_name} (Jan Kowalski) ma już cel na luty 2026.",
        )
        with self.assertRaises(ValidationError) as error:
            Target.create(
                [
                    {"date": date(2026, 4, 1), "team_id": self.team.id, "amount": 5},
                    {"date": date(2026, 4, 30), "team_id": self.team.id, "amount": 6},
                ]
            )
        self.assertEqual(
            str(error.exception),
            f"{self.team.display_name} ma już cel na kwiecień 2026.",
        )
        march = Target.browse(self.targets[2].id)
        with self.assertRaises(ValidationError) as error:
            march.write({"date": date(2026, 2, 10)})
        self.assertEqual(
            str(error.exception),
            f"{self.team.display_name} ma już cel na luty 2026.",
        )
        # the target itself, written again, is no duplicate of itself
        march.write({"date": date(2026, 3, 20), "amount": 12000})
        self.assertEqual(
            self._targets(),
            [
                (date(2026, 2, 1), None, 20000.0),
                (date(2026, 2, 1), self.user_salesman.id, 15000.0),
                (date(2026, 3, 1), None, 12000.0),
            ],
        )

    def test_upgrade_resolves_duplicates(self):
        """A database upgraded to 1.5.0 with duplicates entered before: of
        each set the target changed last stays, the others go, logged, and
        the index is created."""
        cr = self.env.cr
        cr.execute(SQL("DROP INDEX %s", SQL.identifier(TARGET_UNIQUE_INDEX)))
        team_again = self._insert(
            date(2026, 2, 1), None, 22000, datetime(2026, 2, 3, 9, 0)
        )
        salesman = self.user_salesman.id
        salesman_last = self._insert(
            date(2026, 2, 1), salesman, 16000, datetime(2026, 2, 5, 9, 0)
        )
        salesman_again = self._insert(
            date(2026, 2, 1), salesman, 14000, datetime(2026, 2, 4, 9, 0)
        )
        cr.execute(
            SQL(
                "UPDATE sales_funnel_target SET write_date = %s WHERE id IN %s",
                datetime(2026, 2, 2, 9, 0),
                tuple(self.targets.ids),
            )
        )
        migration = load_script(MIGRATION, "sales_funnel_pl_pre_30_target_unique")
        with self.assertLogs("sales_funnel_pl_pre_30_target_unique", "WARNING") as logs:
            migration.migrate(cr, "18.0.1.4.0")
        team, salesman_target = self.targets[0].id, self.targets[1].id
        self.assertEqual(
            logs.output,
            [
                f"WARNING:sales_funnel_pl_pre_30_target_unique:Sales target {old} "
                f"deleted: a duplicate of target {kept} (month 2026-02-01, company "
                f"{self.company.id}, sales team {self.team.id}, salesperson {user}); "
                f"its amount was {amount}."
                for old, kept, user, amount in sorted(
                    [
                        (team, team_again, "none", 20000.0),
                        (salesman_target, salesman_last, salesman, 15000.0),
                        (salesman_again, salesman_last, salesman, 14000.0),
                    ]
                )
            ],
        )
        self.assertEqual(
            self._targets(),
            [
                (date(2026, 2, 1), None, 22000.0),
                (date(2026, 2, 1), salesman, 16000.0),
                (date(2026, 3, 1), None, 10000.0),
            ],
        )
        self.env["sales.funnel.target"].init()
        cr.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = %s",
            [TARGET_UNIQUE_INDEX],
        )
        self.assertEqual(
            cr.fetchone()[0],
            f"CREATE UNIQUE INDEX {TARGET_UNIQUE_INDEX} ON public.sales_funnel_target "
            "USING btree (date, company_id, team_id, COALESCE(user_id, 0))",
        )
