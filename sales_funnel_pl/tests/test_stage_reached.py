# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged, users

from ..models.crm_lead_stage_reached import REACHED_PENDING
from .common import SalesFunnelCommon


@tagged("post_install", "-at_install", "sales_funnel_pl")
class TestStageReached(SalesFunnelCommon):
    """How far each opportunity got (``stage_reached_id``): the furthest
    active stage, in stage order, of its stage history, kept with each move
    and recomputed when the stages' order or activity changes."""

    def assertAsHistorySays(self):
        """The stored values are what the history gives: recomputing them
        from it changes no opportunity."""
        self.assertEqual(self.env["crm.lead"].sudo()._stage_reached_refresh(), 0)

    @users("sfp_salesman")
    def test_moves_keep_the_furthest(self):
        s = self.stages
        lead = self._create_opportunities(1, s[0])
        self.assertEqual(lead.stage_reached_id, s[0])
        lead.stage_id = s[5]
        self.assertEqual(lead.stage_reached_id, s[5])
        # back to an earlier stage, lost, restored: it got to s[5]
        lead.stage_id = s[2]
        lead.action_set_lost()
        lead.action_unarchive()
        self.assertEqual(lead.stage_reached_id, s[5])
        lead.stage_id = s[8]
        self.assertEqual(lead.stage_reached_id, s[8])
        self.assertAsHistorySays()

    @users("sfp_salesman")
    def test_pipeline_grouped_by_how_far_each_got(self):
        """The pipeline's "Najdalszy etap" grouping (its search view) counts
        each opportunity once, in the furthest stage it entered."""
        s = self.stages
        back = self._create_opportunities(2, s[1])
        back.write({"stage_id": s[6].id})
        back.write({"stage_id": s[2].id})
        there = self._create_opportunities(1, s[2])
        self.assertEqual(
            self.env["crm.lead"]._read_group(
                [("id", "in", (back | there).ids)],
                ["stage_reached_id"],
                ["__count"],
            ),
            [(s[2], 1), (s[6], 2)],
        )
        view = self.env["crm.lead"].get_views(
            [(self.env.ref("crm.view_crm_case_opportunities_filter").id, "search")]
        )
        self.assertIn('name="stage_reached"', view["views"]["search"]["arch"])

    @users("sfp_salesman")
    def test_batch_of_different_pasts(self):
        """One write, opportunities that got to different stages before."""
        s = self.stages
        behind = self._create_opportunities(2, s[1])
        ahead = self._create_opportunities(3, s[6])
        ahead.write({"stage_id": s[2].id})
        (behind | ahead).write({"stage_id": s[4].id})
        self.assertEqual(behind.stage_reached_id, s[4])
        self.assertEqual(ahead.stage_reached_id, s[6])
        self.assertAsHistorySays()

    @users("sfp_salesman")
    def test_created_in_the_stage_odoo_computes(self):
        """Without a stage, Odoo gives the team's first stage: it got there."""
        leads = self.env["crm.lead"].create(
            [
                {"name": "Bez etapu", "type": "opportunity", "team_id": self.team.id},
                {
                    "name": "Bez etapu, z prawdopodobieństwem",
                    "type": "opportunity",
                    "team_id": self.team.id,
                    "probability": 35,
                },
            ]
        )
        self.assertEqual(leads.stage_id, self.stages[0])
        self.assertEqual(leads.stage_reached_id, self.stages[0])
        self.assertEqual(
            leads.mapped("probability"), [self.stages[0].probability, 35.0]
        )
        self.assertAsHistorySays()

    @users("sfp_manager")
    def test_archived_stages_do_not_count(self):
        s = self.stages
        lead = self._create_opportunities(1, s[1])
        lead.stage_id = s[6]
        s[9].active = False
        # an archived stage entered is no step forward
        lead.stage_id = s[9]
        self.assertEqual(lead.stage_reached_id, s[6])
        # the furthest stage archived: the one before it counts, once the
        # change reaches the opportunities (before the commit)
        s[6].active = False
        self.assertEqual(lead.stage_reached_id, s[6])
        self.env.cr.flush()
        self.assertEqual(lead.stage_reached_id, s[1])
        s[6].active = True
        self.env.cr.flush()
        self.assertEqual(lead.stage_reached_id, s[6])
        self.assertAsHistorySays()

    @users("sfp_manager")
    def test_only_the_opportunities_of_the_changed_stages(self):
        """Archiving a stage recomputes the opportunities that entered it,
        not the others (one whose stored value was tampered with keeps it)."""
        s = self.stages
        entered = self._create_opportunities(1, s[1])
        entered.stage_id = s[6]
        elsewhere = self._create_opportunities(1, s[2])
        self.env.cr.execute(
            "UPDATE crm_lead SET stage_reached_id = %s WHERE id = %s",
            [s[8].id, elsewhere.id],
        )
        elsewhere.invalidate_recordset(["stage_reached_id"])
        s[6].active = False
        self.env.cr.flush()
        self.assertEqual(entered.stage_reached_id, s[1])
        self.assertEqual(elsewhere.stage_reached_id, s[8])

    @users("sfp_manager")
    def test_stages_reordered(self):
        """A column drag writes each stage's sequence in turn: the furthest
        stages are recomputed once, when the transaction commits, and only
        the opportunities whose furthest stage changes are written."""
        s = self.stages
        lead = self._create_opportunities(1, s[2])
        lead.stage_id = s[5]
        other = self._create_opportunities(1, s[3])
        # s[2] moves after s[5]: the order of the stages as the web client
        # writes it, one stage at a time
        order = [*s[:2], *s[3:6], s[2], *s[6:]]
        for sequence, stage in enumerate(order, start=1):
            stage.write({"sequence": sequence})
        self.assertEqual(lead.stage_reached_id, s[5])
        self.env.cr.flush()
        self.assertEqual(lead.stage_reached_id, s[2])
        self.assertEqual(other.stage_reached_id, s[3])
        self.assertAsHistorySays()
        # writing the same order again recomputes nothing
        self.assertNotIn(REACHED_PENDING, self.env.cr.precommit.data)
        order[0].write({"sequence": 1})
        self.assertNotIn(REACHED_PENDING, self.env.cr.precommit.data)
        order[1].write({"sequence": 1})
        self.assertIn(REACHED_PENDING, self.env.cr.precommit.data)
