# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Odoo 18.0 and 19.0: every difference this addon meets, in one place.

The addon is one tree for both series. What differs between them is decided
here, on ``odoo.release.version_info``, each item saying which series does
what; the rest of the addon calls these names. Methods that exist on one
series only are defined in marked branches on ``ODOO_19`` /
``HANDLE_WON_LOST_FROM_VALS`` in ``models/crm_lead.py`` (the funnel's fill:
``read_group`` on 18.0, ``_web_read_group_field_expand`` and
``_read_group_empty_value`` on 19.0; ``_handle_won_lost`` on 18.0;
``action_restore`` on 19.0). The pipeline's JavaScript carries one override
per series (``static/src/views/sales_funnel_kanban``). Views and data files
are the same for both series, anchored on elements both have (see the
comments in ``views/*.xml`` and ``wizard/crm_lead_reassign_views.xml``).
"""

from odoo import models, release
from odoo.tools import SQL

ODOO_19 = release.version_info[0] >= 19

if ODOO_19:
    from odoo.fields import Domain
else:
    from odoo.osv import expression


# ----------------------------------------------------------------------
# SQL constraints
# 18.0 reads ``_sql_constraints = [(name, definition, message)]``;
# 19.0 ignores that attribute (it only logs a warning) and reads
# ``_<name> = models.Constraint(definition, message)`` class attributes.
# Both name the constraint "<table>_<name>" in the database, so a database
# upgraded from 18.0 to 19.0 keeps its constraints.
# ----------------------------------------------------------------------


def sql_constraints(**constraints):
    """Class decorator declaring the model's SQL constraints, each as
    ``name=(definition, message)``, the way the running series reads them."""

    def decorate(cls):
        if ODOO_19:
            for name, (definition, message) in constraints.items():
                constraint = models.Constraint(definition, message)
                setattr(cls, f"_{name}", constraint)
                # as Python does for attributes written in the class body
                constraint.__set_name__(cls, f"_{name}")
        else:
            cls._sql_constraints = [
                (name, definition, message)
                for name, (definition, message) in constraints.items()
            ]
        return cls

    return decorate


# ----------------------------------------------------------------------
# Domains
# 18.0 combines domains with ``odoo.osv.expression``; 19.0 deprecates that
# module (DeprecationWarning) for ``odoo.fields.Domain``.
# ----------------------------------------------------------------------


def domain_and(domains):
    """The conjunction of ``domains``, as a list domain."""
    if ODOO_19:
        return list(Domain.AND(domains))
    return expression.AND(domains)


def domain_conditions(domain):
    """The conditions of ``domain`` (a list domain or a 19.0 ``Domain``)
    when it is their plain conjunction, as (field, operator, value) tuples
    (the always-true ones left out), else None (a disjunction, a negation,
    an always-false domain)."""
    if ODOO_19:
        domain = Domain(domain)
        if domain.is_false():
            return None
        items = list(domain)
    else:
        items = expression.normalize_domain(list(domain))
    conditions = []
    for item in items:
        if item == "&":
            continue
        if isinstance(item, str) or len(item) != 3:
            return None
        if tuple(item) == (1, "=", 1):
            continue
        if not isinstance(item[0], str):
            return None
        conditions.append(tuple(item))
    return conditions


def domain_or(domains):
    """The disjunction of ``domains``, as a list domain."""
    if ODOO_19:
        return list(Domain.OR(domains))
    return expression.OR(domains)


# ----------------------------------------------------------------------
# The teams of a stage
# 18.0: ``crm.stage.team_id`` (Many2one, empty for a stage of every team);
# 19.0: ``crm.stage.team_ids`` (Many2many, empty for a stage of every team),
# stored in crm_stage_crm_team_rel.
# ----------------------------------------------------------------------


def stage_team_domain(team_id):
    """The stages the sales team ``team_id`` works with (its own and those of
    every team); without a team, the stages of every team."""
    if ODOO_19:
        if not team_id:
            return [("team_ids", "=", False)]
        return ["|", ("team_ids", "=", False), ("team_ids", "in", [team_id])]
    if not team_id:
        return [("team_id", "=", False)]
    return ["|", ("team_id", "=", False), ("team_id", "=", team_id)]


def lead_of_stage_team_domain(stage):
    """The opportunities whose sales team works with ``stage`` (every
    opportunity for a stage of every team)."""
    if ODOO_19:
        return [("team_id", "in", stage.team_ids.ids)] if stage.team_ids else []
    return [("team_id", "=", stage.team_id.id)] if stage.team_id else []


def stage_team_ids(stage):
    """The ids of the sales teams ``stage`` belongs to (none: every team)."""
    if ODOO_19:
        return frozenset(stage.team_ids.ids)
    return frozenset(stage.team_id.ids)


def stage_team_values(team):
    """The values giving a stage to the sales team ``team`` only."""
    if ODOO_19:
        return {"team_ids": [(6, 0, team.ids)]}
    return {"team_id": team.id}


def stage_of_team_sql(stage_alias, team_sql):
    """SQL condition: the stage aliased ``stage_alias`` (a crm_stage row) is
    one the team ``team_sql`` (an SQL expression) works with. For a team's
    stage and no team (NULL) it is NULL on both series: use it only where
    NULL counts as false (WHERE, JOIN ON), never under NOT."""
    stage = SQL.identifier(stage_alias)
    if ODOO_19:
        # a stage of no team, or of this one; written with IN, not EXISTS:
        # PostgreSQL then reads the (small) relation once per statement into
        # a hash (hashed subplans), not once per row and candidate stage
        # (the skipped stages of 500 opportunities at a million: 15 ms
        # instead of 43). The relation's columns are never NULL. As on
        # 18.0, a missing team leaves a team's stage NULL, not false: the
        # condition is only used where NULL is not true (WHERE, JOIN ON).
        return SQL(
            """(%(stage)s.id NOT IN (SELECT st.crm_stage_id
                                       FROM crm_stage_crm_team_rel st)
                OR (%(stage)s.id, %(team)s) IN (
                       SELECT st.crm_stage_id, st.crm_team_id
                         FROM crm_stage_crm_team_rel st))""",
            stage=stage,
            team=team_sql,
        )
    return SQL(
        "(%(stage)s.team_id IS NULL OR %(stage)s.team_id = %(team)s)",
        stage=stage,
        team=team_sql,
    )


# ----------------------------------------------------------------------
# Users and groups
# 18.0: ``res.users.groups_id`` (and ``res.groups.users``);
# 19.0: ``res.users.group_ids`` (and ``res.groups.user_ids``). The addon
# writes a user's groups (the demo's salespeople) and never reads a group's
# users. Menus and actions get their groups from the groups' side
# (``res.groups.menu_access``) or not at all: see views/crm_menu_views.xml.
# ----------------------------------------------------------------------

USER_GROUPS_FIELD = "group_ids" if ODOO_19 else "groups_id"
# a user's groups, implied ones included, to search on: 18.0 writes the
# implied groups into groups_id; 19.0's group_ids holds the assigned ones
# only, all_group_ids all of them
USER_ALL_GROUPS_FIELD = "all_group_ids" if ODOO_19 else "groups_id"


# ----------------------------------------------------------------------
# Won, lost, open
# 18.0 has no field for it: won is a won stage, lost is archived;
# 19.0 stores ``crm.lead.won_status`` (won / lost / pending), computed from
# the same facts (a won stage at 100%; archived at 0%, which the addon
# sets when an opportunity is lost). Open means active and not won.
# ----------------------------------------------------------------------


def open_lead_domain():
    """The opportunities whose sale is still open (neither won nor lost)."""
    if ODOO_19:
        return [("active", "=", True), ("won_status", "!=", "won")]
    return [("active", "=", True), ("stage_id.is_won", "=", False)]


def won_lead_domain():
    """The opportunities won (18.0: active in a won stage; 19.0: won_status,
    archived ones included)."""
    if ODOO_19:
        return [("active", "in", [True, False]), ("won_status", "=", "won")]
    return [("active", "=", True), ("stage_id.is_won", "=", True)]


def lost_lead_domain():
    """The opportunities lost (18.0: archived; 19.0: won_status)."""
    if ODOO_19:
        return [("active", "in", [True, False]), ("won_status", "=", "lost")]
    return [("active", "=", False)]


def lead_lost_sql(lead_alias):
    """SQL condition: the opportunity aliased ``lead_alias`` is lost, as
    :func:`lost_lead_domain` says."""
    if ODOO_19:
        return SQL("(%s.won_status = 'lost')", SQL.identifier(lead_alias))
    return SQL("(NOT %s.active)", SQL.identifier(lead_alias))


def lead_won_sql(lead_alias, stage_alias):
    """SQL condition: the opportunity aliased ``lead_alias`` (its stage
    aliased ``stage_alias``) is won. On 19.0 an archived opportunity of a
    won stage stays won (see "A won opportunity archived" below)."""
    if ODOO_19:
        return SQL("(%s.won_status = 'won')", SQL.identifier(lead_alias))
    return SQL(
        "(%s.active AND %s.is_won)",
        SQL.identifier(lead_alias),
        SQL.identifier(stage_alias),
    )


# The open opportunities among a million, found by an index rather than by
# reading every opportunity of every past year: the index holds the active
# opportunities' stages (18.0; its won ones are active too, in won stages,
# which the open ones' stages leave out) or the active ones not won (19.0,
# where a won opportunity is told by won_status, not by its stage).
OPEN_LEAD_INDEX = (
    "(stage_id) WHERE active AND type = 'opportunity'"
    " AND won_status IS DISTINCT FROM 'won'"
    if ODOO_19
    else "(stage_id) WHERE active AND type = 'opportunity'"
)


def open_lead_sql(lead_alias, stage_alias=None):
    """SQL condition: the opportunity aliased ``lead_alias`` (its stage
    aliased ``stage_alias``) is open, as :func:`open_lead_domain` says, in
    the terms of :data:`OPEN_LEAD_INDEX` so that PostgreSQL reads the open
    ones through it: on 18.0 its stage is also one of the stages not won
    (the same rule, not won, for an active opportunity; the stages are read
    by the statement itself). Without ``stage_alias`` (its stage not
    joined), on 18.0 that list of stages is the rule."""
    lead = SQL.identifier(lead_alias)
    if ODOO_19:
        return SQL(
            "(%s.active AND %s.type = 'opportunity'"
            " AND %s.won_status IS DISTINCT FROM 'won')",
            lead,
            lead,
            lead,
        )
    open_ = SQL(
        "%s.active AND %s.type = 'opportunity'"
        " AND %s.stage_id = ANY(ARRAY(SELECT id FROM crm_stage"
        " WHERE is_won IS NOT TRUE))",
        lead,
        lead,
        lead,
    )
    if stage_alias is None:
        return SQL("(%s)", open_)
    return SQL(
        "(%s AND NOT COALESCE(%s, false))",
        open_,
        lead_won_sql(lead_alias, stage_alias),
    )


# the opportunities whose process never ended (open ones, and won ones the
# addon never saw end), indexed by what tells a won one
UNENDED_LEAD_INDEX = (
    "(won_status) WHERE date_process_end IS NULL AND type = 'opportunity'"
    if ODOO_19
    else "(stage_id) WHERE date_process_end IS NULL AND type = 'opportunity'"
)


def won_lead_index_sql(lead_alias):
    """SQL condition, true of every won opportunity aliased ``lead_alias``
    (:func:`lead_won_sql` still decides), in the terms of
    :data:`UNENDED_LEAD_INDEX`: its stage is a won stage (18.0), its
    won_status is 'won' (19.0)."""
    lead = SQL.identifier(lead_alias)
    if ODOO_19:
        return SQL("(%s.won_status = 'won')", lead)
    return SQL(
        "(%s.stage_id = ANY(ARRAY(SELECT id FROM crm_stage WHERE is_won)))", lead
    )


def lead_is_won(lead):
    """Whether the sale of ``lead`` is won (:func:`won_lead_domain`)."""
    if ODOO_19:
        return lead.won_status == "won"
    return lead.active and lead.stage_id.is_won


def lead_is_closed(lead):
    """Whether the sale of ``lead`` is over (won or lost)."""
    if ODOO_19:
        return not lead.active or lead.won_status == "won"
    return not lead.active or lead.stage_id.is_won


# what the SQL reports read of whether an opportunity is won, besides its
# stage's ``is_won`` and its ``active`` (their ``_depends``)
LEAD_WON_COLUMNS = ("won_status",) if ODOO_19 else ()

LEAD_CLOSED_DEPENDS = (
    ("active", "won_status") if ODOO_19 else ("active", "stage_id.is_won")
)


# ----------------------------------------------------------------------
# Predictive lead scoring
# 18.0: ``_pls_get_naive_bayes_probabilities()`` returns {lead id: %};
# 19.0 returns ({lead id: %}, tooltip data), but still a bare {} when there
# is nothing to score.
# ----------------------------------------------------------------------


def pls_pending_domain():
    """The opportunities whose probability crm's scoring cron updates: those
    it takes for neither won nor lost (18.0: a probability strictly between
    0 and 100, or none; 19.0: won_status pending)."""
    if ODOO_19:
        return [("won_status", "=", "pending")]
    return [
        "|",
        ("probability", "=", False),
        "&",
        ("probability", "<", 100),
        ("probability", ">", 0),
    ]


def pls_probabilities(leads, **kwargs):
    """{lead id: probability} that predictive lead scoring gives ``leads``."""
    result = leads._pls_get_naive_bayes_probabilities(**kwargs)
    return result[0] if isinstance(result, tuple) else result


# ----------------------------------------------------------------------
# Won / lost bookkeeping of predictive lead scoring (``_handle_won_lost``)
# 18.0: crm calls ``_handle_won_lost(vals)`` before its write and reads a
# 0% probability as "lost" when an opportunity reaches a won stage; the
# addon (where an open opportunity may stand at 0%) corrects that
# (``crm.lead._handle_won_lost`` in models/crm_lead.py).
# 19.0: crm calls ``_handle_won_lost(old_status_by_lead,
# new_status_by_lead)`` with the stored ``won_status`` before and after the
# write, where an open opportunity at 0% is "pending": nothing to correct.
# ----------------------------------------------------------------------

HANDLE_WON_LOST_FROM_VALS = not ODOO_19


# ----------------------------------------------------------------------
# A lost opportunity written into a won stage
# 18.0: it stays lost (archived), moved: the addon records a stage move;
# 19.0: crm restores it (a lost opportunity may not stand in a won stage):
# the addon records a win, which ends its process again.
# ----------------------------------------------------------------------

WON_STAGE_RESTORES = ODOO_19


# ----------------------------------------------------------------------
# The "Restore" button of a lost opportunity
# 18.0: ``toggle_active``, crm recomputes the probabilities (the addon
# keeps the stage's);
# 19.0: ``action_restore``, where crm sets the probability to predictive
# lead scoring's: the addon's override restores the stage's % instead
# (``crm.lead.action_restore`` in models/crm_lead.py).
# ----------------------------------------------------------------------

RESTORE_METHOD = "action_restore" if ODOO_19 else "toggle_active"


# ----------------------------------------------------------------------
# A won opportunity archived
# 18.0: archived is lost, whatever the stage: the addon records a loss
# (probability 0) and, when it comes back, a restoration;
# 19.0: crm keeps an archived opportunity of a won stage won (won_status,
# probability 100; a lead in a won stage may not be lost): archiving or
# unarchiving it is no transition of its sale.
# ----------------------------------------------------------------------


def archiving_keeps_won(lead, active):
    """Whether setting ``active`` on ``lead`` (its stage unchanged) leaves it
    won, neither lost nor restored."""
    if not ODOO_19 or not lead.stage_id.is_won:
        return False
    return lead.won_status == "won" if active else True


# ----------------------------------------------------------------------
# Activities of an archived (lost) opportunity
# 18.0: mail deletes the activities of a record it archives;
# 19.0 keeps them: the addon closes the pre-sale next actions of a lost
# opportunity itself, as it does for a won one.
# ----------------------------------------------------------------------

ARCHIVING_KEEPS_ACTIVITIES = ODOO_19


# ----------------------------------------------------------------------
# Grouped reads of the web client
# 18.0: list, kanban, graph and pivot views call ``read_group`` (through
# ``web_read_group`` for lists and kanbans); empty groups are filled in lazy
# mode only, so the addon's ``read_group`` fills the funnel's stages for the
# eager pivot and graph reads (context ``sales_funnel_fill_stages``).
# 19.0: ``read_group`` is deprecated; list, kanban and graph views call
# ``formatted_read_group`` (kanban and list through ``web_read_group``), the
# pivot ``formatted_read_grouping_sets``. Both expand groups through
# ``_web_read_group_field_expand``, which the addon extends so that the
# funnel's context expands ``stage_id`` with crm's own ``group_expand``.
# ----------------------------------------------------------------------

GROUPED_READ_METHODS = (
    ("formatted_read_group", "formatted_read_grouping_sets", "web_read_group")
    if ODOO_19
    else ("read_group", "web_read_group")
)


def grouped_read_call(domain, groupby, aggregates, order=None):
    """(method, args, kwargs) of the grouped read the graph view, or one
    level of the pivot view, sends for ``groupby`` (a list of groupby specs)
    and ``aggregates`` (``field:aggregator`` specs): ``read_group`` eagerly
    on 18.0, ``formatted_read_group`` on 19.0. Its result goes through
    :func:`grouped_read_rows`."""
    if ODOO_19:
        aggregates = ["__count", *(spec for spec in aggregates if spec != "__count")]
        return (
            "formatted_read_group",
            [list(domain), list(groupby), aggregates],
            {
                "order": order or None,
            },
        )
    return (
        "read_group",
        [list(domain), list(aggregates), list(groupby)],
        {
            "lazy": False,
            "orderby": order or False,
        },
    )


def grouped_read_rows(rows, groupby, aggregates):
    """The rows of :func:`grouped_read_call`'s read in 18.0's shape on both
    series: each groupby spec's value (a many2one as (id, name), a date
    group as its label), ``__count``, each measure under its field name."""
    if not ODOO_19:
        return rows
    for row in rows:
        for spec in groupby:
            value = row[spec]
            field, _sep, granularity = spec.partition(":")
            if granularity and isinstance(value, list | tuple):
                row[spec] = value[1]  # (start of the period, label)
        for spec in aggregates:
            if spec != "__count":
                row[spec.split(":")[0]] = row.pop(spec)
    return rows


def grouped_read(model, domain, groupby, aggregates, order=None):
    """What the graph view (or a pivot level) of the series reads of
    ``model``, in 18.0's shape (see :func:`grouped_read_rows`)."""
    method, args, kwargs = grouped_read_call(domain, groupby, aggregates, order)
    return grouped_read_rows(
        getattr(model, method)(*args, **kwargs), groupby, aggregates
    )
