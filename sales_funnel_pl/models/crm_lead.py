import logging

from odoo import api, models, tools

_logger = logging.getLogger(__name__)


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # ------------------------------------------------------------
    # COMPUTES
    # ------------------------------------------------------------

    @api.depends(lambda self: ["stage_id", "team_id"] + self._pls_get_safe_fields())
    def _compute_probabilities(self):
        """Predictive lead scoring keeps computing ``automated_probability``
        but never changes ``probability``: the probability follows the stage
        (see ``create``/``write``) and whatever the user typed afterwards."""
        lead_probabilities = self._pls_get_naive_bayes_probabilities()
        for lead in self:
            if lead.id in lead_probabilities:
                lead.automated_probability = lead_probabilities[lead.id]
            if not lead.id and not lead._origin:
                # a new opportunity in a form: propose its stage's probability
                lead.probability = lead.stage_id.probability
            else:
                lead.probability = lead.probability

    @api.onchange("stage_id")
    def _onchange_stage_id(self):
        for lead in self:
            if lead.stage_id and lead.stage_id != lead._origin.stage_id:
                lead.probability = lead.stage_id.probability

    # ------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        stage_ids = {vals["stage_id"] for vals in vals_list if vals.get("stage_id")}
        stages = self.env["crm.stage"].browse(stage_ids)
        for vals in vals_list:
            if vals.get("stage_id") and "probability" not in vals:
                vals["probability"] = stages.browse(vals["stage_id"]).probability
        leads = super().create(vals_list)
        # opportunities created without a stage get the one Odoo computes
        # for their team: set that stage's probability now
        leads_without_stage = leads.browse(
            lead.id
            for lead, vals in zip(leads, vals_list, strict=True)
            if "stage_id" not in vals and "probability" not in vals
        ).filtered("stage_id")
        leads_without_stage._apply_stage_probability()
        return leads

    def write(self, vals):
        if vals.get("stage_id") and "probability" not in vals:
            stage = self.env["crm.stage"].browse(vals["stage_id"])
            # lost opportunities keep their 0%, the others get the stage's %
            moving = self.filtered(lambda lead: lead.stage_id != stage and lead.active)
            staying = self - moving
            if moving and staying:
                # only the opportunities that change stage get the stage's %
                super(CrmLead, staying).write(vals)
            if moving:
                vals = dict(vals, probability=stage.probability)
                if not stage.is_won and vals.get("active", True):
                    # Odoo clears the closing date when an opportunity leaves
                    # a won stage without a probability in vals; keep doing so
                    vals.setdefault("date_closed", False)
                return super(CrmLead, moving).write(vals)
        return super().write(vals)

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def toggle_active(self):
        """Restoring a lost opportunity gives it back its stage's probability."""
        restored = self.filtered(lambda lead: not lead.active)
        res = super().toggle_active()
        restored.filtered("active")._apply_stage_probability()
        return res

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _apply_stage_probability(self):
        """Set each opportunity's probability to its stage's, one write per stage."""
        for stage, leads in self.grouped("stage_id").items():
            if stage:
                super(CrmLead, leads.filtered("active")).write({"probability": stage.probability})

    def _update_automated_probabilities(self):
        """Predictive lead scoring's cron: Odoo aligns ``probability`` on the
        new ``automated_probability`` when both were equal. Here the
        probability follows the stage, so keep it and only refresh the
        automated one, batch by batch as Odoo does."""
        pls_start_date = self._pls_get_safe_start_date()
        if not pls_start_date:
            return
        leads = self.env["crm.lead"].search(
            [
                ("stage_id", "!=", False),
                ("create_date", ">=", pls_start_date),
                "|",
                ("probability", "=", False),
                "&",
                ("probability", "<", 100),
                ("probability", ">", 0),
            ]
        )
        self.flush_model()
        for batch in tools.split_every(50000, leads.ids, leads.browse):
            probabilities = batch._pls_get_naive_bayes_probabilities(batch_mode=True)
            by_probability = {}
            for lead_id, probability in probabilities.items():
                by_probability.setdefault(probability, []).append(lead_id)
            for probability, lead_ids in by_probability.items():
                self.env.cr.execute(
                    "UPDATE crm_lead SET automated_probability = %s WHERE id IN %s",
                    (probability, tuple(lead_ids)),
                )
        self.invalidate_model(["automated_probability"])
        _logger.info("Predictive Lead Scoring: automated probabilities updated")
