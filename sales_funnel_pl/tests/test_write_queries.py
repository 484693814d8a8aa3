# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from contextlib import ExitStack
from unittest.mock import patch

from odoo.tests import tagged

from .. import compat
from .common import SalesFunnelCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestWriteQueries(SalesFunnelCommon):
    """The queries of a stage change, as the benchmark counts them
    (bench/benchmark.py): a salesperson moves opportunities one at a time,
    each write flushed, or a batch at once, with the web client's context.
    Counted exactly, and against crm's own write of the same change in the
    same database: the addon's write, its scoring's compute and (18.0) its
    won and lost bookkeeping replaced by crm's for the count
    (``_crm_alone``), which is what plain CRM runs.

    The opportunities stand in crm's own stages, the benchmark's (both
    databases have them; the addon archives the unused ones): outside the
    funnel, where crm scores them itself.
    The scoring's frequency table is empty, as in the benchmark's database
    (with frequencies, crm reads them: a query more per change, the same
    on both sides)."""

    # the queries of a stage change (18.0, 19.0), the record cache cold
    BUDGET = {
        # three opportunities moved one at a time, each write flushed: per
        # write crm's scoring (18.0: the won stages, the frequencies, the
        # first stage; 19.0 the tags too), the update, the history
        "single": (19, 20),
        # ten opportunities moved at once
        "batch": (9, 10),
    }
    # the addon's queries beyond crm's own write of the same change: the
    # stage history (a statement a write), less what the addon spares crm.
    # 18.0: its search of the won stages to count nothing (_handle_won_lost),
    # one a write. 19.0: nothing to spare (it counts won and lost on the
    # stored won_status); crm's scoring reads the tags of each opportunity
    # on its own, which the addon reads for all three at once
    # (_pls_prefetch): one query for the three instead of three, but not
    # for a batch, which crm scores at once
    BEYOND_CRM = {
        "single": (0, 1),
        "batch": (0, 1),
    }

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the context the web client sends (and the benchmark), tracking on
        context = dict(cls.env.context, tz="Europe/Warsaw")
        context.pop("tracking_disable", None)
        cls.env = cls.env(context=context)
        cls.crm_stages = [cls.env.ref(f"crm.stage_lead{i}") for i in (1, 2, 3)]
        cls.env["crm.lead.scoring.frequency"].search([]).unlink()

    def _leads(self, count):
        """``count`` opportunities of the salesperson in crm's first stage,
        read by them as their pipeline reads them (one search). Without a
        customer: opportunities of one customer share its e-mail, which
        crm's scoring reads. They got further before (as the benchmark's,
        whose history the install read): the stage they stand in is not the
        furthest one."""
        leads = self._create_opportunities_of(
            self.user_salesman,
            self.crm_stages[0],
            [f"Szansa {i}" for i in range(count)],
            partner_id=False,
        )
        leads.write({"stage_reached_id": self.stage_meeting.id})
        # crm scores them now, apart from the others (scored in one batch
        # with an empty frequency table, crm gives all but the first 50%)
        self.env.flush_all()
        env = self.env(
            user=self.user_salesman,
            context=dict(self.env.context, allowed_company_ids=self.company.ids),
        )
        return env["crm.lead"].search([("id", "in", leads.ids)], order="id")

    def _count(self, leads, stage, single):
        """The queries of moving ``leads`` to ``stage``, one at a time (each
        write flushed) or at once, from a cold record cache."""
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.env.cr.sql_log_count
        if single:
            for lead in leads:
                lead.write({"stage_id": stage.id})
                lead.env.flush_all()
        else:
            leads.write({"stage_id": stage.id})
        self.env.flush_all()
        count = self.env.cr.sql_log_count - before
        self.assertEqual(leads.stage_id, stage)
        return count

    def _crm_alone(self):
        """crm's own stage change: the addon's methods on its path (write,
        the scoring's compute, 18.0's won and lost bookkeeping) replaced by
        crm's on the model's class, until the returned stack closes."""
        Lead = type(self.env["crm.lead"])
        crm = next(
            cls
            for cls in Lead.__mro__
            if cls.__module__ == "odoo.addons.crm.models.crm_lead"
        )
        stack = ExitStack()
        for name in ("write", "_compute_probabilities", "_handle_won_lost"):
            if name in vars(crm):
                stack.enter_context(patch.object(Lead, name, vars(crm)[name]))
        return stack

    def _measure(self, kind, size):
        """(the addon's, crm's own) queries of ``kind`` of change, each
        side warmed once on other opportunities first."""
        single = kind == "single"
        target = self.crm_stages[2] if single else self.crm_stages[1]
        addon_warm, crm_warm, addon_leads, crm_leads = (
            self._leads(size) for _ in range(4)
        )
        self._count(addon_warm, target, single)
        with self._crm_alone():
            self._count(crm_warm, target, single)
        addon = self._count(addon_leads, target, single)
        with self._crm_alone():
            crm = self._count(crm_leads, target, single)
        # what each did: the addon logged its moves, crm alone did not
        self.assertEqual(
            addon_leads.stage_history_ids.mapped("stage_id"),
            self.crm_stages[0] | target,
        )
        self.assertFalse(crm_leads.stage_history_ids.filtered("previous_stage_id"))
        return addon, crm

    def _check(self, kind, size):
        addon, crm = self._measure(kind, size)
        series = 1 if compat.ODOO_19 else 0
        self.assertEqual(
            (addon, addon - crm),
            (self.BUDGET[kind][series], self.BEYOND_CRM[kind][series]),
            f"{kind}: the addon {addon} queries, crm alone {crm}",
        )

    def test_single_stage_changes(self):
        """Three opportunities moved one after the other (a salesperson's
        drags, the benchmark's "100 single stage changes")."""
        self._check("single", 3)

    def test_batch_stage_change(self):
        """Ten opportunities moved at once (the benchmark's "batch stage
        change of 1,000", whose count does not grow with the batch)."""
        self._check("batch", 10)

    def test_scoring_as_crm_alone(self):
        """Sparing crm's queries changes nothing crm does: twin opportunities
        going through the same stage changes in crm's stages, one with the
        addon, the other with crm alone, get the same probabilities and
        leave the same counts in the scoring's frequency table after each
        change (an open stage, a won one, another won one, back, lost). The
        stages are active ones outside the funnel (crm's scoring knows only
        the active stages)."""
        open_stage, won, won_again = self.env["crm.stage"].create(
            [
                {"name": "Kwalifikacja", "sequence": 2},
                {"name": "Wygrana", "is_won": True, "sequence": 60},
                {"name": "Wygrana ponownie", "is_won": True, "sequence": 61},
            ]
        )
        tag = self.env["crm.tag"].create({"name": "Przetarg"})
        steps = [
            {"stage_id": open_stage.id},
            {"stage_id": won.id},
            {"stage_id": won_again.id},
            {"stage_id": open_stage.id},
            "lost",
        ]
        Frequency = self.env["crm.lead.scoring.frequency"]

        def play(lead):
            lead.write({"email_from": "zakupy@stalprofil.example", "tag_ids": tag.ids})
            seen = []
            for step in steps:
                if step == "lost":
                    lead.action_set_lost()
                else:
                    lead.write(step)
                self.env.flush_all()
                seen.append(
                    (
                        lead.active,
                        lead.probability,
                        lead.automated_probability,
                        bool(lead.date_closed),
                        sorted(
                            Frequency.search([]).mapped(
                                lambda row: (
                                    row.variable,
                                    row.value,
                                    row.team_id.id,
                                    row.won_count,
                                    row.lost_count,
                                )
                            )
                        ),
                    )
                )
            Frequency.search([]).unlink()
            return seen

        addon_lead, crm_lead = self._leads(1), self._leads(1)
        with_addon = play(addon_lead)
        with self._crm_alone():
            alone = play(crm_lead)
        self.assertEqual(with_addon, alone)
        # the steps counted something: won twice (from open, from won), left
        # won, then lost
        self.assertTrue(with_addon[1][4])
