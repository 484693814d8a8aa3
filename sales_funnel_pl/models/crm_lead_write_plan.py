# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The write's plan: what one ``write`` does to each opportunity.

A write of ``stage_id`` or ``active`` is a different event for each
opportunity of the batch (one enters a stage, one is won, one was already
there, one comes back from lost). ``_write_plan`` decides it once, per
opportunity, and returns the groups of opportunities sharing the same
values: ``crm.lead.write`` then writes what the caller wrote once, for the
whole batch, and each group's own values once per group, so that neither the
caller's values (x2many commands: a tag created once) nor the number of
queries is multiplied by the groups.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from odoo import fields, models

from .. import compat


@dataclass
class WritePlan:
    """What a write does: ``common`` (the caller's values but the stage),
    written once on every opportunity; ``groups``: {tuple of (field, value)
    pairs: lead ids}, each written once after: the stage for those that
    move (an opportunity already in the stage is not written it, so crm
    leaves its time in the stage alone) and each transition's own values;
    ``events``: {lead id: (previous stage id, change type)} for the stage
    history; ``scored``: whether crm's predictive lead scoring scores some
    of them again once written (a field it reads written, no probability)."""

    common: dict
    groups: dict = field(default_factory=dict)
    events: dict = field(default_factory=dict)
    scored: bool = False

    def apply(self, leads, write):
        """Write the plan on ``leads`` with ``write(records, values)`` (the
        ORM's write past the addon's override): in one write when every
        opportunity gets the same values (one opportunity, or a batch sharing
        its transition), else the caller's values once and each group's own
        once."""
        groups = list(self.groups.items())
        if len(groups) == 1 and len(groups[0][1]) == len(leads):
            write(leads, {**self.common, **dict(groups[0][0])})
            return
        if self.common:
            write(leads, self.common)
        for extra, lead_ids in groups:
            write(leads.browse(lead_ids), dict(extra))


class CrmLead(models.Model):
    _inherit = "crm.lead"

    def _write_plan(self, vals):
        """The plan of ``write(vals)`` on these opportunities (see the
        module's docstring)."""
        transitions = self._stage_transitions(vals)
        today = fields.Date.context_today(self)
        new_stage = (
            self.env["crm.stage"].browse(vals["stage_id"])
            if vals.get("stage_id")
            else None
        )
        in_funnel_after = self._sales_funnel_after(vals, new_stage)
        # whether crm's predictive lead scoring scores one of them again: a
        # field it reads is written (the stage to those that move), and no
        # probability (crm writes 100% with a won stage)
        scored_fields = {"team_id", "type", *self._pls_get_safe_fields()}
        scored_move = not (new_stage and new_stage.is_won)
        scored = False
        groups = defaultdict(list)
        for lead in self:
            kind, process = transitions.get(lead.id, (None, None))
            moves = "stage_id" in vals and lead.stage_id.id != (
                vals["stage_id"] or False
            )
            extra = self._transition_values(
                vals, lead, kind, process, moves, lead in in_funnel_after, today
            )
            scored = scored or (
                ((moves and scored_move) or bool(scored_fields & set(vals)))
                and "probability" not in vals
                and "probability" not in dict(extra)
            )
            if moves:
                extra = tuple(sorted((*extra, ("stage_id", vals["stage_id"]))))
            if extra:
                groups[extra].append(lead.id)
        common = {key: value for key, value in vals.items() if key != "stage_id"}
        return WritePlan(
            common=common,
            groups=dict(groups),
            scored=scored,
            events={
                lead.id: (lead.stage_id.id, transitions[lead.id][0])
                for lead in self
                if lead.id in transitions
            },
        )

    def _stage_transitions(self, vals):
        """{lead id: (change type, process)} for the opportunities that this
        write makes enter a stage, win, lose or come back.

        The change type is what the stage history records: ``stage``,
        ``won``, ``lost``, ``restore``, or ``map`` for a move made by the
        stage mapping (a migration, not a sale). ``process`` says what
        happens to the sales process: ``end``, ``reopen`` or None."""
        if "stage_id" not in vals and "active" not in vals:
            return {}
        new_stage = (
            self.env["crm.stage"].browse(vals["stage_id"])
            if vals.get("stage_id")
            else None
        )
        mapping = self.env.context.get("sales_funnel_stage_mapping")
        transitions = {}
        for lead in self:
            if (
                "active" in vals
                and bool(vals["active"]) != lead.active
                and (new_stage is None or new_stage == lead.stage_id)
                and compat.archiving_keeps_won(lead, bool(vals["active"]))
            ):
                # 19.0: a won opportunity archived or unarchived stays won
                continue
            if "active" in vals and bool(vals["active"]) != lead.active:
                transitions[lead.id] = (
                    ("restore", "reopen") if vals["active"] else ("lost", "end")
                )
            elif new_stage is not None and lead.stage_id != new_stage:
                was_won = compat.lead_is_won(lead)
                if not lead.active and new_stage.is_won and compat.WON_STAGE_RESTORES:
                    # 19.0: crm restores it, won (see compat.py)
                    process = "end"
                elif not lead.active:
                    # a lost opportunity moved stays lost: its process is over
                    process = None
                elif new_stage.is_won and not was_won:
                    process = "end"
                elif was_won and not new_stage.is_won:
                    process = "reopen"
                else:
                    process = None
                if mapping:
                    kind = "map"
                elif process == "end":
                    kind = "won"
                else:
                    kind = "stage"
                transitions[lead.id] = (kind, process)
        return transitions

    def _transition_values(self, vals, lead, kind, process, moves, in_funnel, today):
        """The values ``lead`` gets besides what the caller wrote, as a
        hashable tuple of (field, value) pairs: opportunities sharing them are
        written together. ``in_funnel``: whether the funnel's rules apply to
        the opportunity after the write (``_sales_funnel_after``); elsewhere
        crm's own write decides the probability and the closing date."""
        extra = {}
        open_after = (lead.active and kind != "lost") or kind == "restore"
        if moves and "date_stage" not in vals and kind != "map":
            # the writer's day, never before the previous stage's date nor the
            # process start (a writer in a time zone behind is a day behind);
            # a mapping is a migration: the stage keeps its date
            extra["date_stage"] = max(
                today,
                lead.date_process_start or today,
                lead.date_stage or today,
            )
        if in_funnel and open_after and "probability" not in vals:
            if moves and vals["stage_id"]:
                stage = self.env["crm.stage"].browse(vals["stage_id"])
                extra["probability"] = stage.probability
                if not stage.is_won and "date_closed" not in vals and lead.date_closed:
                    # crm keeps the closing date when an opportunity leaves a
                    # won stage with a 0% probability in vals: clear it
                    extra["date_closed"] = False
            elif kind == "restore":
                extra["probability"] = lead.stage_id.probability
            elif not lead._sales_funnel_filter():
                # entering the funnel without a move (a lead converted into
                # an opportunity of a funnel stage): the stage proposes its %
                extra["probability"] = (
                    self.env["crm.stage"].browse(vals["stage_id"]).probability
                    if vals.get("stage_id")
                    else lead.stage_id.probability
                )
        if kind == "lost" and "probability" not in vals:
            extra["probability"] = 0
        if process == "end":
            extra.update(date_process_end=today, process_end_user_id=self.env.uid)
        elif process == "reopen":
            extra.update(date_process_end=False, process_end_user_id=False)
        return tuple(sorted(extra.items()))
