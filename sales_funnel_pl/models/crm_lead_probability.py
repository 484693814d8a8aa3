# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The probability policy: where the funnel applies, the stage proposes the
probability and predictive lead scoring only estimates
(``automated_probability``); everywhere else (leads, the stages of a team
working its own way) crm decides, as without the addon.

"Does the funnel apply here" is decided by one rule,
``_sales_funnel_domain``: the opportunities standing in a stage of the
funnel (``crm.stage.is_funnel_stage``). Python evaluates the same domain on
records (``_sales_funnel_filter``), searches and the reminders read it as a
domain."""

import logging
import threading
from collections import defaultdict

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.modules import module as odoo_module

from odoo.addons.crm.models.crm_lead import (
    PLS_COMPUTE_BATCH_STEP,
    PLS_UPDATE_BATCH_STEP,
)

from .. import compat

_logger = logging.getLogger(__name__)

# the rule, on the opportunity and on its stage
SALES_FUNNEL_LEAD_DOMAIN = [("type", "=", "opportunity")]
SALES_FUNNEL_STAGE_DOMAIN = [("is_funnel_stage", "=", True)]


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # ------------------------------------------------------------
    # THE RULE: does the funnel apply here
    # ------------------------------------------------------------

    @api.model
    def _sales_funnel_domain(self):
        """The opportunities the funnel's rules apply to, as a domain."""
        return SALES_FUNNEL_LEAD_DOMAIN + [
            (f"stage_id.{fname}", operator, value)
            for fname, operator, value in SALES_FUNNEL_STAGE_DOMAIN
        ]

    def _sales_funnel_filter(self):
        """These records that the funnel's rules apply to (the same rule as
        ``_sales_funnel_domain``, evaluated on the records, new ones too)."""
        funnel_stages = self.stage_id.filtered_domain(SALES_FUNNEL_STAGE_DOMAIN)
        return self.filtered_domain(SALES_FUNNEL_LEAD_DOMAIN).filtered(
            lambda lead: lead.stage_id in funnel_stages
        )

    @api.model
    def _sales_funnel_of_vals(self, vals_list):
        """For each of ``vals_list`` (a create's), whether the funnel's rules
        apply to the opportunity it creates: the same rule, evaluated on an
        unsaved record with its type (given or default) and stage."""
        default_type = None
        if any("type" not in vals for vals in vals_list):
            default_type = self.default_get(["type"]).get("type")
        decided = {}
        result = []
        for vals in vals_list:
            key = (vals.get("type", default_type), vals.get("stage_id") or False)
            if key not in decided:
                decided[key] = bool(
                    key[1]
                    and self.new(
                        {"type": key[0], "stage_id": key[1]}
                    )._sales_funnel_filter()
                )
            result.append(decided[key])
        return result

    def _sales_funnel_after(self, vals, new_stage=None):
        """These records that the funnel's rules apply to once ``vals`` is
        written (its type and stage, ``new_stage`` being the stage of
        ``vals``)."""
        if "type" in vals and vals["type"] != "opportunity":
            return self.browse()
        if "stage_id" in vals:
            if not new_stage or not new_stage.filtered_domain(
                SALES_FUNNEL_STAGE_DOMAIN
            ):
                return self.browse()
            leads = self
        else:
            funnel_stages = self.stage_id.filtered_domain(SALES_FUNNEL_STAGE_DOMAIN)
            leads = self.filtered(lambda lead: lead.stage_id in funnel_stages)
        if "type" in vals:
            return leads
        return leads.filtered_domain(SALES_FUNNEL_LEAD_DOMAIN)

    # ------------------------------------------------------------
    # COMPUTE, ONCHANGE, CONSTRAINT
    # ------------------------------------------------------------

    @api.depends(
        lambda self: ["stage_id", "team_id", "type"] + self._pls_get_safe_fields()
    )
    def _compute_probabilities(self):
        """In the funnel, predictive lead scoring keeps computing
        ``automated_probability`` but never changes ``probability``: the
        probability follows the stage (see ``write``) and whatever the user
        typed afterwards. Elsewhere, crm's own computation."""
        funnel = self._sales_funnel_filter()
        if self - funnel:
            # (19.0's crm cannot compute an empty recordset)
            super(CrmLead, self - funnel)._compute_probabilities()
        if not funnel:
            return
        lead_probabilities = compat.pls_probabilities(funnel)
        for lead in funnel:
            if lead.id in lead_probabilities:
                lead.automated_probability = lead_probabilities[lead.id]
            if not lead.id and not lead._origin:
                # a new opportunity in a form: propose its stage's probability
                lead.probability = lead.stage_id.probability
            else:
                lead.probability = lead.probability

    @api.onchange("stage_id")
    def _onchange_stage_id(self):
        """A stage chosen on the form: the funnel's stage proposes its % and
        the stage date is today."""
        for lead in self:
            if lead.stage_id and lead.stage_id != lead._origin.stage_id:
                today = fields.Date.context_today(lead)
                lead.date_stage = max(today, lead._origin.date_stage or today)
                if lead._sales_funnel_filter():
                    lead.probability = lead.stage_id.probability

    @api.constrains("probability")
    def _check_probability(self):
        for lead in self:
            if not 0 <= lead.probability <= 100:
                raise ValidationError(
                    self.env._(
                        "The probability of %(lead)s must be between 0%% and 100%%.",
                        lead=lead.name,
                    )
                )

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    # super() here is write()'s, past the addon's override (no history for
    # a probability): this method returns nothing
    def _apply_stage_probability(self):  # pylint: disable=missing-return
        """Set the probability of the opportunities in the funnel among these
        to their stage's, one write per stage."""
        for stage, leads in self._sales_funnel_filter().grouped("stage_id").items():
            super(CrmLead, leads.filtered("active")).write(
                {"probability": stage.probability}
            )

    def _pls_prefetch(self):
        """Load what crm's predictive lead scoring reads of these
        opportunities besides their own row, their tags when tags are a
        scoring field (19.0's default), for every record ``self`` was read
        with (its prefetch), in one query. A compute sees only the records it
        computes: crm scoring opportunities written one at a time (a loop,
        an import) read the tags of each with a query of its own. Read as
        superuser, as crm's compute reads them, so that it finds in the cache
        exactly what it would have read."""
        if "tag_ids" in self._pls_get_safe_fields():
            self.sudo().mapped("tag_ids")

    if compat.HANDLE_WON_LOST_FROM_VALS:
        # 18.0 only: 19.0 decides on the stored won_status (see compat.py)

        def _handle_won_lost(self, vals):
            """crm reads a 0% probability as "lost" when an opportunity reaches a
            won stage. In the funnel lost means archived: an open opportunity
            at 0% (the first stage's %) that is won only reaches won, it never
            leaves lost. Elsewhere, crm's reading.

            A move that neither reaches nor leaves a won stage, nothing
            archived or restored, is none of crm's business: crm would search
            the won stages (a query per write, per opportunity created) only
            to count nothing. The stages are those the write loaded
            (``_check_stage_value``)."""
            stage_id = vals.get("stage_id")
            if not stage_id or not self.env["crm.stage"].browse(stage_id).is_won:
                if "active" not in vals and not any(
                    lead.stage_id.is_won for lead in self
                ):
                    return None
                return super()._handle_won_lost(vals)
            open_at_zero = self._sales_funnel_filter().filtered(
                lambda lead: lead.active
                and lead.probability == 0
                and lead.stage_id.id != stage_id
            )
            super(CrmLead, self - open_at_zero)._handle_won_lost(vals)
            if open_at_zero:
                rest = {key: value for key, value in vals.items() if key != "stage_id"}
                if "active" in rest:
                    super(CrmLead, open_at_zero)._handle_won_lost(rest)
                open_at_zero._pls_increment_frequencies(to_state="won")

    def _update_automated_probabilities(self):
        """Predictive lead scoring's cron, with crm's batches (one
        transaction each, so that ``crm_lead`` rows are never locked for the
        whole run, and a batch that fails is logged and skipped, the others
        kept). Outside the funnel it does what crm does: the probability
        follows the new estimate when both were equal. In the funnel only
        the estimate is refreshed, for every open opportunity (at 0% too:
        lost means archived there)."""
        pls_start_date = self._pls_get_safe_start_date()
        if not pls_start_date:
            return
        Lead = self.env["crm.lead"]
        base = [("stage_id", "!=", False), ("create_date", ">=", pls_start_date)]
        funnel = Lead.search(
            base + compat.open_lead_domain() + Lead._sales_funnel_domain()
        )
        others = Lead.search(
            base + compat.pls_pending_domain() + [("id", "not in", funnel.ids)]
        )
        leads = funnel | others
        by_probability = defaultdict(list)
        for batch in tools.split_every(PLS_COMPUTE_BATCH_STEP, leads.ids, leads.browse):
            probabilities = compat.pls_probabilities(batch, batch_mode=True)
            for lead_id, probability in sorted(probabilities.items()):
                by_probability[probability].append(lead_id)
        # never commit in tests: Odoo's runner marks them in current_test (18.0
        # and 19.0), pytest-odoo (and 18.0's runner) on the thread
        auto_commit = not (
            odoo_module.current_test
            or getattr(threading.current_thread(), "testing", False)
        )
        funnel_ids = set(funnel.ids)
        self.flush_model()
        failed = 0
        for probability, lead_ids in by_probability.items():
            for batch_ids in tools.split_every(PLS_UPDATE_BATCH_STEP, lead_ids):
                try:
                    with self.env.cr.savepoint():
                        # the probabilities it changes (outside the funnel)
                        # are recorded as a write's are (crm.lead.value.change)
                        self.env.cr.execute(
                            """WITH updated AS (
                                UPDATE crm_lead l
                                   SET automated_probability = %(probability)s,
                                       probability = CASE
                                           WHEN l.id = ANY(%(funnel)s)
                                           THEN l.probability
                                           WHEN l.probability = l.automated_probability
                                                OR l.probability IS NULL
                                           THEN %(probability)s
                                           ELSE l.probability END
                                  FROM crm_lead o
                                 WHERE o.id = l.id AND l.id = ANY(%(ids)s)
                             RETURNING l.id, l.company_id, l.date_deadline,
                                       l.expected_revenue, o.probability AS old,
                                       l.probability AS new
                            )
                            INSERT INTO crm_lead_value_change (
                                lead_id, date, user_id, company_id,
                                old_date_deadline, new_date_deadline,
                                old_expected_revenue, new_expected_revenue,
                                old_probability, new_probability)
                            SELECT id, %(now)s, %(uid)s, company_id, date_deadline,
                                   date_deadline, expected_revenue, expected_revenue,
                                   old, new
                              FROM updated
                             WHERE old IS DISTINCT FROM new""",
                            {
                                "probability": probability,
                                "funnel": [i for i in batch_ids if i in funnel_ids],
                                "ids": list(batch_ids),
                                "now": self.env.cr.now(),
                                "uid": self.env.uid,
                            },
                        )
                    if auto_commit:
                        # a commit per batch, as crm's own cron does, so a long
                        # run keeps what it computed (never in tests: see above)
                        self.env.cr.commit()  # pylint: disable=invalid-commit
                except Exception:  # noqa: BLE001 -- crm's guard: one batch lost, not the run
                    _logger.exception(
                        "Predictive Lead Scoring: an update of %s opportunities "
                        "failed and was skipped",
                        len(batch_ids),
                    )
                    failed += 1
        self.invalidate_model(["automated_probability", "probability"])
        self.env["crm.lead.value.change"].invalidate_model()
        _logger.info(
            "Predictive Lead Scoring: automated probabilities updated "
            "(%s opportunities, %s failed batches)",
            len(leads),
            failed,
        )
