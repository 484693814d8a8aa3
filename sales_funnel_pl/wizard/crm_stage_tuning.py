# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
""" "Dopasowanie lejka" (funnel tuning): the company's own figures per funnel
stage, for the sales processes ended in a period, and what they suggest (a
stage probability, archiving a stage the wins skip, the days after which an
opportunity is stuck). Nothing changes until the sales manager applies a
suggestion."""

import math

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.misc import formatLang

from .. import compat
from ..report import sql
from ..report.sql import days_in_stage_sql, entry_sql
from ..utils import jit_off

# the settings (res.config.settings) and their defaults
MIN_SAMPLE_PARAM = "sales_funnel_pl.tuning_min_sample"
MIN_SAMPLE_DEFAULT = 30
ARCHIVE_SKIP_PARAM = "sales_funnel_pl.tuning_archive_skip_rate"
ARCHIVE_SKIP_DEFAULT = 80

# the normal quantile of a two-sided 95% interval
Z_95 = 1.959963984540054

# the field of crm.stage holding the days after which an open opportunity
# is stuck in the stage (the "stuck opportunities" feature)
STUCK_DAYS_FIELD = "funnel_stuck_days"


def wilson_interval(won, sample, z=Z_95):
    """(low, high), in %, of the Wilson score interval of ``won`` successes
    out of ``sample`` (None, None without a sample)."""
    if not sample:
        return None, None
    rate = won / sample
    z2 = z * z
    denominator = 1 + z2 / sample
    center = (rate + z2 / (2 * sample)) / denominator
    half = (
        z
        / denominator
        * math.sqrt(rate * (1 - rate) / sample + z2 / (4 * sample * sample))
    )
    return max(0.0, center - half) * 100, min(1.0, center + half) * 100


def pool_adjacent_violators(counts):
    """The rates ``won / sample`` of ``counts`` (a list of (won, sample),
    in funnel order, each sample > 0) made non-decreasing: adjacent stages
    whose rates go down are pooled (their wins over their samples, so each
    weighs its sample size) until no later stage has a lower rate than an
    earlier one. Returns one rate (0 to 1) per item."""
    blocks = []  # [won, sample, number of stages pooled]
    for won, sample in counts:
        blocks.append([won, sample, 1])
        while (
            len(blocks) > 1
            and blocks[-2][0] * blocks[-1][1] > blocks[-1][0] * blocks[-2][1]
        ):
            won_b, sample_b, count_b = blocks.pop()
            blocks[-1][0] += won_b
            blocks[-1][1] += sample_b
            blocks[-1][2] += count_b
    rates = []
    for won, sample, count in blocks:
        rates += [won / sample] * count
    return rates


class CrmStageTuning(models.TransientModel):
    """The screen: a period and a sales team, and one line per active
    funnel stage in funnel order, computed by one SQL statement over the
    processes ended in the period (``_tuning_figures``)."""

    _name = "crm.stage.tuning"
    _description = "Funnel Tuning"

    date_from = fields.Date(
        string="Processes Ended From",
        required=True,
        default=lambda self: self._default_period()[0],
    )
    date_to = fields.Date(
        string="Processes Ended To",
        required=True,
        default=lambda self: self._default_period()[1],
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        help="Only the processes of this team, on the stages it works with. "
        "Empty: every team.",
    )
    reapply_open = fields.Boolean(
        string="Re-apply to Open Opportunities",
        help="Applying a probability also sets it on the open opportunities "
        "standing in the stage (as the stage form's button does). Unticked: "
        "only the stage's % changes, for the opportunities that enter it from "
        "now on.",
    )
    min_sample = fields.Integer(
        string="Minimum Sample", compute="_compute_settings", readonly=True
    )
    archive_skip_rate = fields.Integer(
        string="Archive Suggestion from (%)",
        compute="_compute_settings",
        readonly=True,
    )
    line_ids = fields.One2many(
        "crm.stage.tuning.line",
        "tuning_id",
        string="Stages",
        compute="_compute_line_ids",
        store=True,
        readonly=True,
        # the user's own rights: the processes of the companies they work in
        compute_sudo=False,
    )

    @api.model
    def _default_period(self):
        """The last 12 months, in the user's days, as the funnel board
        counts them."""
        return self.env["sales.funnel.board"]._board_period(
            "last_12_months", None, None
        )

    @api.model
    def _settings(self):
        """(minimum sample, archive suggestion's share of wins skipping, in
        %), from the CRM settings."""
        params = self.env["ir.config_parameter"].sudo()
        try:
            min_sample = int(params.get_param(MIN_SAMPLE_PARAM, MIN_SAMPLE_DEFAULT))
        except ValueError:
            min_sample = MIN_SAMPLE_DEFAULT
        try:
            rate = int(params.get_param(ARCHIVE_SKIP_PARAM, ARCHIVE_SKIP_DEFAULT))
        except ValueError:
            rate = ARCHIVE_SKIP_DEFAULT
        return max(min_sample, 1), rate

    def _compute_display_name(self):
        self.display_name = self.env._("Funnel Tuning")

    def _compute_settings(self):
        min_sample, rate = self._settings()
        self.min_sample = min_sample
        self.archive_skip_rate = rate

    @api.depends("date_from", "date_to", "team_id")
    def _compute_line_ids(self):
        for tuning in self:
            dated = tuning.date_from and tuning.date_to
            if dated and tuning.date_from > tuning.date_to:
                raise UserError(self.env._("The period cannot end before it starts."))
            values = tuning._tuning_lines_values() if dated else []
            tuning.line_ids = [fields.Command.clear()] + [
                fields.Command.create(vals) for vals in values
            ]

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    @api.model
    def action_open(self):
        """The screen as the menu opens it: computed for the default period
        and every team, saved, so that its buttons act at once."""
        tuning = self.create({})
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Funnel Tuning"),
            "res_model": self._name,
            "res_id": tuning.id,
            "views": [[False, "form"]],
            "target": "current",
        }

    def web_read(self, specification):
        """The form's read of the screen goes where the menu's action created
        it, to the primary database: on a read replica (``--db_replica_host``,
        where Odoo sends the reads marked ``@api.readonly``) the record may
        not be there yet."""
        return super().web_read(specification)

    # not @api.readonly, unlike Odoo's own web_read
    web_read._readonly = False

    def action_apply_all(self):
        """Write every suggested probability (the lines with enough data
        whose suggestion differs from the stage's %), one write per distinct
        value; re-apply them to the stages' open opportunities if asked."""
        self.ensure_one()
        lines = self.line_ids.filtered(
            lambda line: line.has_suggestion
            and line.suggested_probability != line.probability
        )
        if not lines:
            raise UserError(
                self.env._(
                    "No stage has a suggested probability that differs from its own."
                )
            )
        for value, group in lines.grouped("suggested_probability").items():
            group.stage_id.write({"probability": value})
        reapplied = lines._reapply_open() if self.reapply_open else 0
        return self._notify(
            self.env._(
                "Suggested probability applied to %(stages)s stages.",
                stages=len(lines),
            ),
            reapplied,
        )

    def _notify(self, message, reapplied):
        if self.reapply_open:
            message = " ".join(
                [
                    message,
                    self.env._(
                        "Open opportunities given their stage's new probability: "
                        "%(count)s.",
                        count=reapplied,
                    ),
                ]
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": message,
                # the lines show the stages' new values
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    # ------------------------------------------------------------
    # BUSINESS: the figures
    # ------------------------------------------------------------

    def _tuning_stages(self):
        """The active funnel stages of the team (its own and every team's;
        without a team, every team's), in funnel order."""
        self.ensure_one()
        team_domain = compat.stage_team_domain(self.team_id.id) if self.team_id else []
        return (
            self.env["crm.stage"]
            .search([("is_funnel_stage", "=", True), *team_domain])
            ._sorted_in_order()
        )

    def _population_domain(self):
        """The opportunities whose sales process ended (won or lost) in the
        period, of the team if one is chosen."""
        self.ensure_one()
        domain = [
            ("type", "=", "opportunity"),
            ("active", "in", [True, False]),
            ("date_process_end", ">=", self.date_from),
            ("date_process_end", "<=", self.date_to),
        ]
        if self.team_id:
            domain.append(("team_id", "=", self.team_id.id))
        return domain

    def _tuning_sql(self, stage_ids):
        """The WITH part of the tuning's statements: ``population`` (the
        opportunities of the period the user may read: crm's record rules,
        the companies the user works in; ``is_won``), ``entries`` (their
        entries into the stages ``stage_ids``, with the days spent in the
        stage as the stage analysis counts them), ``skipped`` (the stages
        they skipped and never entered)."""
        Lead = self.env["crm.lead"].with_context(active_test=False)
        query = Lead._search(self._population_domain())
        lead = query.table
        query.add_join(
            "LEFT JOIN",
            "tuning_stage",
            "crm_stage",
            SQL("tuning_stage.id = %s", SQL.identifier(lead, "stage_id")),
        )
        population = query.select(
            SQL("%s AS id", SQL.identifier(lead, "id")),
            SQL("%s AS is_won", sql.won_sql(lead, "tuning_stage")),
        )
        return SQL(
            """
            WITH population AS MATERIALIZED (%(population)s),
            entries AS MATERIALIZED (
                SELECT h.stage_id, h.lead_id, p.is_won, %(days)s AS days
                  FROM population p
                  JOIN crm_lead_stage_history h ON h.lead_id = p.id
                 WHERE %(entry)s AND h.stage_id = ANY(%(stage_ids)s)
            ),
            skipped AS (
                SELECT DISTINCT k.stage_id, k.lead_id, p.is_won
                  FROM population p
                  JOIN crm_lead_stage_history_skip k ON k.lead_id = p.id
                 WHERE k.stage_id = ANY(%(stage_ids)s)
                   AND NOT EXISTS (SELECT 1 FROM entries e
                                    WHERE e.lead_id = k.lead_id
                                      AND e.stage_id = k.stage_id)
            )
            """,
            population=population,
            days=days_in_stage_sql("h"),
            entry=entry_sql("h"),
            stage_ids=list(stage_ids),
        )

    def _tuning_figures(self, stage_ids):
        """{stage id: figures} of the stages ``stage_ids``, in one statement:
        entered (processes, each once), won of those, skipped (processes
        that skipped the stage and never entered it), won of those, median
        and 75th percentile of the days in the stage."""
        self.env["crm.lead"].flush_model()
        self.env["crm.stage"].flush_model()
        self.env["crm.lead.stage.history"].flush_model()
        # past the JIT threshold at a million opportunities (utils.jit_off)
        jit_off(self.env.cr)
        self.env.cr.execute(
            SQL(
                """%(ctes)s
                SELECT s.id, COALESCE(e.entered, 0), COALESCE(e.won, 0),
                       COALESCE(k.skipped, 0), COALESCE(k.won, 0),
                       e.median, e.p75
                  FROM unnest(%(stage_ids)s::int[]) AS s(id)
                  LEFT JOIN (
                        SELECT stage_id, count(DISTINCT lead_id) AS entered,
                               count(DISTINCT lead_id) FILTER (WHERE is_won) AS won,
                               percentile_cont(0.5) WITHIN GROUP (ORDER BY days)
                                   AS median,
                               percentile_cont(0.75) WITHIN GROUP (ORDER BY days)
                                   AS p75
                          FROM entries GROUP BY stage_id
                       ) e ON e.stage_id = s.id
                  LEFT JOIN (
                        SELECT stage_id, count(*) AS skipped,
                               count(*) FILTER (WHERE is_won) AS won
                          FROM skipped GROUP BY stage_id
                       ) k ON k.stage_id = s.id
                """,
                ctes=self._tuning_sql(stage_ids),
                stage_ids=list(stage_ids),
            )
        )
        return {
            row[0]: {
                "entered_count": row[1],
                "won_count": row[2],
                "skipped_count": row[3],
                "won_skipped_count": row[4],
                "median_days": row[5],
                "p75_days": row[6],
            }
            for row in self.env.cr.fetchall()
        }

    def _tuning_lead_ids(self, stage, kind):
        """The ids of the opportunities behind one figure of ``stage``
        (``kind``: entered, won, lost, skipped, won_skipped, days), by the
        statement that counts them."""
        selects = {
            "entered": "SELECT DISTINCT lead_id FROM entries",
            "won": "SELECT DISTINCT lead_id FROM entries WHERE is_won",
            "lost": "SELECT DISTINCT lead_id FROM entries WHERE NOT is_won",
            "days": "SELECT DISTINCT lead_id FROM entries WHERE days IS NOT NULL",
            "skipped": "SELECT lead_id FROM skipped",
            "won_skipped": "SELECT lead_id FROM skipped WHERE is_won",
        }
        self.env["crm.lead"].flush_model()
        self.env["crm.lead.stage.history"].flush_model()
        self.env.cr.execute(
            SQL(
                "%s %s", self._tuning_sql([stage.id]), SQL(selects[kind])
            )  # the selects are constants
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _tuning_lines_values(self):
        """The values of the lines: the figures of each stage, its observed
        win rate and Wilson interval, and the suggestions."""
        self.ensure_one()
        stages = self._tuning_stages()
        figures = self._tuning_figures(stages.ids)
        min_sample, archive_rate = self._settings()
        counted = [
            stage
            for stage in stages
            if figures[stage.id]["entered_count"]  # a rate needs a sample
        ]
        pooled = dict(
            zip(
                [stage.id for stage in counted],
                pool_adjacent_violators(
                    [
                        (
                            figures[stage.id]["won_count"],
                            figures[stage.id]["entered_count"],
                        )
                        for stage in counted
                    ]
                ),
                strict=True,
            )
        )
        values = []
        for sequence, stage in enumerate(stages):
            figure = figures[stage.id]
            sample = figure["entered_count"]
            won = figure["won_count"]
            passed = sample + figure["skipped_count"]
            won_passed = won + figure["won_skipped_count"]
            low, high = wilson_interval(won, sample)
            won_skip_rate = (
                100.0 * figure["won_skipped_count"] / won_passed if won_passed else 0.0
            )
            values.append(
                {
                    **figure,
                    "sequence": sequence,
                    "stage_id": stage.id,
                    "skip_rate": 100.0 * figure["skipped_count"] / passed
                    if passed
                    else 0.0,
                    "win_rate": 100.0 * won / sample if sample else 0.0,
                    "win_rate_low": low or 0.0,
                    "win_rate_high": high or 0.0,
                    "has_suggestion": sample >= min_sample,
                    "suggested_probability": round(100.0 * pooled[stage.id], 2)
                    if stage.id in pooled
                    else 0.0,
                    "won_skip_rate": won_skip_rate,
                    "suggest_archive": bool(won_passed)
                    and not stage.is_won
                    and won_skip_rate >= archive_rate,
                }
            )
        return values


class CrmStageTuningLine(models.TransientModel):
    """One funnel stage's figures on the tuning screen, and its
    suggestions, each applied by the sales manager's button only."""

    _name = "crm.stage.tuning.line"
    _description = "Funnel Tuning: Stage"
    _order = "sequence, id"

    tuning_id = fields.Many2one(
        "crm.stage.tuning", required=True, ondelete="cascade", index=True
    )
    sequence = fields.Integer()
    stage_id = fields.Many2one("crm.stage", string="Stage", readonly=True)
    probability = fields.Float(
        related="stage_id.probability",
        string="Stage %",
        help="The probability the stage proposes today.",
    )
    entered_count = fields.Integer(
        string="Processes Entered",
        help="Sales processes ended in the period that entered the stage, each "
        "counted once (the sample of the win rate).",
    )
    skipped_count = fields.Integer(
        string="Processes Skipped",
        help="Sales processes ended in the period that skipped the stage (moved "
        "past it) and never entered it.",
    )
    skip_rate = fields.Float(
        string="Skip Rate (%)",
        help="Skipped in % of the processes that entered or skipped the stage.",
    )
    won_count = fields.Integer(
        string="Won from the Stage",
        help="Of the processes that entered the stage, those won.",
    )
    lost_count = fields.Integer(
        string="Lost after Entering",
        compute="_compute_lost_count",
        help="Of the processes that entered the stage, those lost.",
    )
    win_rate = fields.Float(
        string="Win Rate (%)",
        help="Observed win rate from the stage: won in % of the processes ended "
        "in the period that entered the stage.",
    )
    win_rate_low = fields.Float(string="95% Interval From")
    win_rate_high = fields.Float(string="95% Interval To")
    win_rate_interval = fields.Char(
        string="95% Interval",
        compute="_compute_win_rate_interval",
        help="Wilson score interval: with 95% confidence the stage's true win "
        "rate lies between these values. The smaller the sample, the wider.",
    )
    has_suggestion = fields.Boolean(
        help="The sample reaches the minimum set in the CRM settings."
    )
    suggested_probability = fields.Float(
        string="Suggested %",
        digits=(16, 2),
        help="The observed win rates made non-decreasing along the funnel (a "
        "later stage never proposes less than an earlier one): stages whose "
        "rates go down are pooled, each weighing its sample. Shown where the "
        "sample reaches the minimum.",
    )
    median_days = fields.Float(
        help="Median of the days spent in the stage (from the stage dates), "
        "for the entries that left it.",
    )
    p75_days = fields.Float(
        string="75th Percentile Days",
        help="Three entries in four left the stage within this many days.",
    )
    won_skipped_count = fields.Integer(
        string="Won Skipping",
        help="Won processes that skipped the stage and never entered it.",
    )
    won_skip_rate = fields.Float(
        string="Wins Skipping (%)",
        help="Won processes that skipped the stage, in % of the won processes "
        "that entered or skipped it.",
    )
    suggest_archive = fields.Boolean(
        string="Archive Suggested",
        help="Most won processes skip the stage (at least the share set in the "
        "CRM settings).",
    )
    note = fields.Char(string="Suggestion", compute="_compute_note")
    can_set_stuck_days = fields.Boolean(compute="_compute_can_set_stuck_days")

    @api.depends("win_rate_low", "win_rate_high", "entered_count")
    def _compute_win_rate_interval(self):
        for line in self:
            low = formatLang(self.env, line.win_rate_low, digits=1)
            high = formatLang(self.env, line.win_rate_high, digits=1)
            line.win_rate_interval = f"{low} – {high} %" if line.entered_count else ""

    @api.depends("entered_count", "won_count")
    def _compute_lost_count(self):
        for line in self:
            line.lost_count = line.entered_count - line.won_count

    @api.depends("has_suggestion", "suggest_archive", "entered_count")
    def _compute_note(self):
        for line in self:
            notes = []
            if not line.has_suggestion:
                notes.append(self.env._("too little data"))
            if line.suggest_archive:
                notes.append(
                    self.env._(
                        "archive the stage? %(rate)s%% of wins skip it",
                        rate=formatLang(self.env, line.won_skip_rate, digits=0),
                    )
                )
            line.note = "; ".join(notes)

    def _compute_can_set_stuck_days(self):
        self.can_set_stuck_days = STUCK_DAYS_FIELD in self.env["crm.stage"]._fields

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_apply_probability(self):
        """Write the suggested probability on the stage (re-applied to its
        open opportunities if the screen asks)."""
        self.ensure_one()
        if not self.has_suggestion:
            raise UserError(
                self.env._(
                    "Too little data to suggest a probability for %(stage)s: "
                    "%(count)s ended processes entered it, %(minimum)s are needed.",
                    stage=self.stage_id.name,
                    count=self.entered_count,
                    minimum=self.tuning_id.min_sample,
                )
            )
        self.stage_id.write({"probability": self.suggested_probability})
        reapplied = self._reapply_open() if self.tuning_id.reapply_open else 0
        return self.tuning_id._notify(
            self.env._(
                "%(stage)s: probability %(probability)s%% applied.",
                stage=self.stage_id.name,
                probability=formatLang(self.env, self.suggested_probability),
            ),
            reapplied,
        )

    def action_archive_stage(self):
        """Archive the stage (the suggestion: most wins skip it)."""
        self.ensure_one()
        self.stage_id.write({"active": False})
        return self.tuning_id._notify(
            self.env._("Stage %(stage)s archived.", stage=self.stage_id.name), 0
        )

    def action_apply_stuck_days(self):
        """Take the 75th percentile of the days in the stage (rounded up) as
        the days after which an open opportunity is stuck in it."""
        self.ensure_one()
        if STUCK_DAYS_FIELD not in self.env["crm.stage"]._fields:
            raise UserError(
                self.env._("This database has no stuck days on the stages.")
            )
        if not self.p75_days and not self.entered_count:
            raise UserError(
                self.env._(
                    "No process of the period left %(stage)s: no days to take.",
                    stage=self.stage_id.name,
                )
            )
        days = math.ceil(self.p75_days)
        self.stage_id.write({STUCK_DAYS_FIELD: days})
        return self.tuning_id._notify(
            self.env._(
                "%(stage)s: an open opportunity is stuck after %(days)s days.",
                stage=self.stage_id.name,
                days=days,
            ),
            0,
        )

    def _reapply_open(self):
        """The stages' probability set on their open opportunities, with the
        stage form's own re-apply; returns how many changed."""
        count = 0
        for stage in self.stage_id:
            count += stage._apply_probability_to_open()
        return count

    def _open_leads(self, kind, title):
        self.ensure_one()
        lead_ids = self.tuning_id._tuning_lead_ids(self.stage_id, kind)
        return {
            "type": "ir.actions.act_window",
            "name": f"{self.stage_id.name}: {title}",
            "res_model": "crm.lead",
            "domain": [("id", "in", lead_ids)],
            "views": [[False, "list"], [False, "kanban"], [False, "form"]],
            "context": {"active_test": False, "default_type": "opportunity"},
            "useSampleModel": False,
            "help": "<p class='o_view_nocontent_empty_folder'>%s</p><p>%s</p>"
            % (
                self.env._("No opportunities"),
                self.env._(
                    "No sales process ended in the period counts in this figure."
                ),
            ),
        }

    def action_open_entered(self):
        return self._open_leads("entered", self.env._("entered"))

    def action_open_won(self):
        return self._open_leads("won", self.env._("won from the stage"))

    def action_open_lost(self):
        return self._open_leads("lost", self.env._("lost after entering"))

    def action_open_skipped(self):
        return self._open_leads("skipped", self.env._("skipped"))

    def action_open_won_skipped(self):
        return self._open_leads("won_skipped", self.env._("won, stage skipped"))

    def action_open_days(self):
        return self._open_leads("days", self.env._("left the stage"))
