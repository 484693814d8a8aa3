# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The screens as the web client opens them (``screens``): the calls
recorded from each series' web client in Chromium when the screen opens (its
default filters, grouping and context), replayed with the same arguments,
the dates computed as the client computes them. bench/benchmark.py measures
them in the process (``measure_screens``: each read as PostgreSQL is set up,
JIT on, its default, and with JIT off); tests/test_replica_streaming.py
sends them over JSON-RPC to a server reading on a replica."""

import datetime

import pytz
from dateutil.relativedelta import relativedelta

from odoo import fields

try:  # /web/dataset/call_kw's dispatch: odoo.service.model from 19.0 on
    from odoo.service.model import call_kw
except ImportError:
    from odoo.api import call_kw


def screens(call, salesperson, manager, *, odoo_19, today, field_type, addon=True):  # noqa: C901
    """[(name, open)]: each screen, ``open()`` making its calls in the order
    the web client makes them, through ``call(user, model, method, *args,
    **kwargs)`` (``user``: ``salesperson`` or ``manager``, anything with the
    user's ``id``; ``kwargs``: the method's keyword arguments and the
    screen's ``context``), which returns the method's result. ``today``: the
    user's date; ``field_type(model, name)``: the type of a field, None when
    the series has no such field. Used in the process by measure_screens and
    over JSON-RPC by tests/test_replica_streaming.py: one list of calls."""
    ODOO_19 = odoo_19
    admin = manager

    CARD = [
        "stage_id",
        "probability",
        "active",
        "company_currency",
        "recurring_revenue_monthly",
        "team_id",
        "won_status",
        "color",
        "name",
        "expected_revenue",
        "partner_id",
        "contact_name",
        "partner_name",
        "next_action_date",
        "next_action",
        "next_action_state",
        "tag_ids",
        "lead_properties",
        "priority",
        "activity_ids",
        "activity_exception_decoration",
        "activity_exception_icon",
        "activity_state",
        "activity_summary",
        "activity_type_icon",
        "activity_type_id",
        "is_rotting",
        "rotting_days",
        "funnel_is_stuck",
        "funnel_stuck_days_count",
        "user_id",
    ]
    RELATIONAL = {
        "stage_id",
        "company_currency",
        "team_id",
        "partner_id",
        "activity_type_id",
        "user_id",
    }

    def card_spec():
        spec = {}
        for name in CARD:
            if field_type("crm.lead", name) is None or (
                name
                in (
                    "contact_name",
                    "partner_name",
                    "won_status",
                    "is_rotting",
                    "rotting_days",
                )
                and not ODOO_19
            ):
                continue
            if name in RELATIONAL:
                spec[name] = {"fields": {"display_name": {}}}
            elif name == "tag_ids":
                spec[name] = {"fields": {"display_name": {}, "color": {}}}
            elif name == "activity_ids":
                spec[name] = {"fields": {}}
            else:
                spec[name] = {}
        return spec

    def pipeline(as_user, domain):
        # crm's pipeline kanban: the progress bars, the columns with their
        # counts and sums, the cards of every open column
        context = {"default_type": "opportunity", "max_number_opened_groups": 1000}
        call(
            as_user,
            "crm.lead",
            "read_progress_bar",
            domain=domain,
            group_by="stage_id",
            progress_bar={
                "colors": {
                    "planned": "success",
                    "today": "warning",
                    "overdue": "danger",
                },
                "field": "activity_state",
            },
            context=context,
        )
        if ODOO_19:
            call(
                as_user,
                "crm.lead",
                "web_read_group",
                domain=domain,
                groupby=["stage_id"],
                aggregates=[
                    "expected_revenue:sum",
                    "recurring_revenue_monthly:sum",
                    "company_currency:array_agg_distinct",
                    "expected_revenue:sum_currency",
                    "recurring_revenue_monthly:sum_currency",
                ],
                offset=0,
                order="",
                auto_unfold=True,
                opening_info=[],
                unfold_read_specification=card_spec(),
                unfold_read_default_limit=80,
                groupby_read_specification={},
                context=dict(context, read_group_expand=True, show_user_team_stages=1),
            )
            return
        result = call(
            as_user,
            "crm.lead",
            "web_read_group",
            domain=domain,
            fields=[
                "color:sum",
                "expected_revenue:sum",
                "recurring_revenue_monthly:sum",
                "probability:avg",
            ],
            groupby=["stage_id"],
            lazy=True,
            offset=0,
            limit=9007199254740991,
            orderby="",
            context=context,
        )
        for group in result["groups"]:
            if group.get("__fold") or not group["stage_id_count"]:
                continue
            call(
                as_user,
                "crm.lead",
                "web_search_read",
                domain=["&", *domain, ("stage_id", "=", group["stage_id"][0])],
                specification=card_spec(),
                offset=0,
                order="",
                limit=80,
                count_limit=10001,
                context=dict(
                    context, bin_size=True, default_stage_id=group["stage_id"][0]
                ),
            )

    FUNNEL_DOMAIN = [
        "&",
        ("type", "=", "opportunity"),
        "&",
        "&",
        ("probability", "<", 100),
        ("type", "=", "opportunity"),
        ("active", "=", True),
    ]
    FUNNEL_CONTEXT = {"default_type": "opportunity", "sales_funnel_fill_stages": True}

    def graph(as_user, model, domain, groupby, aggregates, context):
        if ODOO_19:
            call(
                as_user,
                model,
                "formatted_read_group",
                domain=domain,
                groupby=groupby,
                aggregates=aggregates,
                context=context,
            )
        else:
            call(
                as_user,
                model,
                "web_read_group",
                domain=domain,
                groupby=groupby,
                fields=aggregates,
                lazy=False,
                context=context,
            )

    def pivot(as_user, model, domain, rowgroup, measures, context):
        # the pivot as it opens: the total and one level of rows
        if ODOO_19:
            aggregates = []
            for spec in measures:
                aggregates.append(spec)
                if (
                    spec.endswith(":sum")
                    and model != "sales.funnel.stage.report"
                    and field_type(model, spec.split(":")[0]) == "monetary"
                ):
                    aggregates += [
                        "company_currency:array_agg_distinct",
                        spec.replace(":sum", ":sum_currency"),
                    ]
            call(
                as_user,
                model,
                "formatted_read_grouping_sets",
                domain=domain,
                grouping_sets=[[], rowgroup],
                aggregates=aggregates + ["__count"],
                context=context,
            )
        else:
            for groupby in ([], rowgroup):
                call(
                    as_user,
                    model,
                    "read_group",
                    domain=domain,
                    fields=measures,
                    groupby=groupby,
                    lazy=False,
                    context=context,
                )

    quarter = today.replace(day=1, month=(today.month - 1) // 3 * 3 + 1)
    FORECAST_DOMAIN = ["|", ("kind", "=", "open"), ("date", ">=", str(quarter))]
    FORECAST_MEASURES = [
        "prorated_revenue:sum",
        "expected_revenue:sum",
        "won_revenue:sum",
        "target_amount:sum",
        "target_due:sum",
        "attainment:avg",
        "coverage:avg",
        "opportunity_count:sum",
    ]
    STAGE_MEASURES = [
        "entered_count:sum",
        "opportunity_count:sum",
        "skipped_count:sum",
        "moved_on_count:sum",
        "lost_count:sum",
        "conversion:avg",
        "duration_days:avg",
        "median_days:median",
    ]
    year_start = (
        pytz.timezone("Europe/Warsaw")
        .localize(
            datetime.datetime.combine(
                today + relativedelta(day=1, months=-11), datetime.time()
            )
        )
        .astimezone(pytz.utc)
    )
    STAGE_DOMAIN = [
        ("stage_id.active", "=", True),
        ("date_enter", ">=", year_start.strftime("%Y-%m-%d %H:%M:%S")),
    ]
    WON_MEASURES = [
        "forecast_revenue:sum",
        "won_revenue:sum",
        "difference:sum",
        "accuracy:avg",
        "target_amount:sum",
        "attainment:avg",
    ]
    WON_DOMAIN = [
        "&",
        ("date", ">=", str(today.replace(day=1) - relativedelta(months=11))),
        ("date", "<=", str(today.replace(day=1))),
    ]

    # the fields of a row of "Tempo sprzedaży"'s list, as both series read them
    VELOCITY_ROW = {
        "team_id": {"fields": {"display_name": {}}},
        "user_id": {"fields": {"display_name": {}}},
        **dict.fromkeys(
            [
                "open_count",
                "avg_won_value",
                "win_rate",
                "cycle_days",
                "velocity",
                "won_count",
                "lost_count",
                "won_value",
            ],
            {},
        ),
    }

    def velocity(as_user, domain):
        if ODOO_19:
            call(
                as_user,
                "sales.funnel.velocity.report",
                "web_read_group",
                domain=domain,
                groupby=["team_id"],
                aggregates=[
                    "open_count:sum",
                    "velocity:sum",
                    "won_count:sum",
                    "lost_count:sum",
                    "won_value:sum",
                ],
                limit=10,
                offset=0,
                order="",
                auto_unfold=1,
                opening_info=[],
                unfold_read_specification=VELOCITY_ROW,
                unfold_read_default_limit=80,
                groupby_read_specification={},
                context={"read_group_expand": True},
            )
            return
        result = call(
            as_user,
            "sales.funnel.velocity.report",
            "web_read_group",
            domain=domain,
            groupby=["team_id"],
            fields=[
                "open_count:sum",
                "won_count:sum",
                "lost_count:sum",
                "won_value:sum",
                "velocity:sum",
            ],
            lazy=True,
            offset=0,
            limit=10,
            orderby="",
        )
        for group in result["groups"]:
            call(
                as_user,
                "sales.funnel.velocity.report",
                "web_search_read",
                domain=[("team_id", "=", group["team_id"] and group["team_id"][0])],
                specification=VELOCITY_ROW,
                offset=0,
                order="",
                limit=80,
                count_limit=10001,
            )

    def board(as_user, reading, period, **kwargs):
        call(
            as_user,
            "sales.funnel.board",
            "get_board_data",
            reading=reading,
            period=period,
            date_from=kwargs.get("date_from"),
            date_to=kwargs.get("date_to"),
            team_id=False,
            user_id=False,
        )

    TUNING_LINE = [
        "has_suggestion",
        "entered_count",
        "skipped_count",
        "skip_rate",
        "won_count",
        "win_rate",
        "win_rate_interval",
        "probability",
        "suggested_probability",
        "median_days",
        "p75_days",
        "note",
    ]

    def tuning(as_user):
        action = call(as_user, "crm.stage.tuning", "action_open")
        call(
            as_user,
            "crm.stage.tuning",
            "web_read",
            [action["res_id"]],
            specification={
                "date_from": {},
                "date_to": {},
                "team_id": {"fields": {"display_name": {}}},
                "reapply_open": {},
                "min_sample": {},
                "archive_skip_rate": {},
                "line_ids": {
                    "fields": {
                        "stage_id": {"fields": {"display_name": {}}},
                        **{name: {} for name in TUNING_LINE},
                    }
                },
            },
        )

    found = []

    def screen(name, func):
        found.append((name, func))

    screen(
        "screen: pipeline (my pipeline, a salesperson)",
        lambda: pipeline(
            salesperson,
            ["&", ("type", "=", "opportunity"), ("user_id", "=", salesperson.id)],
        ),
    )
    screen(
        "screen: pipeline (every salesperson, a manager)",
        lambda: pipeline(admin, [("type", "=", "opportunity")]),
    )
    screen(
        "screen: funnel graph",
        lambda: graph(
            admin, "crm.lead", FUNNEL_DOMAIN, ["stage_id"], ["__count"], FUNNEL_CONTEXT
        ),
    )
    screen(
        "screen: funnel pivot",
        lambda: pivot(
            admin,
            "crm.lead",
            FUNNEL_DOMAIN,
            ["stage_id"],
            ["__count", "expected_revenue:sum", "prorated_revenue:sum"],
            FUNNEL_CONTEXT,
        ),
    )
    if addon:
        screen(
            "screen: Prognoza sprzedaży",
            lambda: pivot(
                admin,
                "sales.funnel.forecast.report",
                FORECAST_DOMAIN,
                ["date:month"],
                FORECAST_MEASURES,
                {"forecast_field": "date"},
            ),
        )
        screen(
            "screen: Prognoza sprzedaży (all time)",
            lambda: pivot(
                admin,
                "sales.funnel.forecast.report",
                [],
                ["date:month"],
                FORECAST_MEASURES,
                {"forecast_field": "date"},
            ),
        )
        screen(
            "screen: Analiza etapów",
            lambda: pivot(
                admin,
                "sales.funnel.stage.report",
                STAGE_DOMAIN,
                ["stage_id"],
                STAGE_MEASURES,
                {},
            ),
        )
        screen(
            "screen: Analiza etapów (all time)",
            lambda: pivot(
                admin, "sales.funnel.stage.report", [], ["stage_id"], STAGE_MEASURES, {}
            ),
        )
        screen("screen: Tempo sprzedaży", lambda: velocity(admin, []))
        screen(
            "screen: Prognoza a wykonanie",
            lambda: pivot(
                admin,
                "sales.funnel.forecast.won.report",
                WON_DOMAIN,
                ["date:month"],
                WON_MEASURES,
                {"sales_funnel_horizon": 0},
            ),
        )
        screen(
            "screen: Prognoza a wykonanie (all time)",
            lambda: pivot(
                admin,
                "sales.funnel.forecast.won.report",
                [],
                ["date:month"],
                WON_MEASURES,
                {"sales_funnel_horizon": 0},
            ),
        )
        # "Dopasowanie lejka": the menu's server action computes the screen
        # (its record created with its lines, one SQL statement), then the
        # form reads it
        screen("screen: Dopasowanie lejka", lambda: tuning(admin))
        screen(
            "screen: funnel board (this month)",
            lambda: (
                call(admin, "sales.funnel.board", "get_board_filters"),
                board(admin, "cohort", "month"),
            ),
        )
        screen(
            "screen: funnel board (12 months)",
            lambda: board(admin, "cohort", "last_12_months"),
        )
        screen(
            "screen: funnel board (open now)",
            lambda: board(admin, "now", "last_12_months"),
        )
        # "Zmiany w lejku" as its dialog opens it: from the 1st of last month
        # to today, the whole open pipeline, then one closing month (this one)
        changes = {
            "sales_funnel_change_from": str(
                today.replace(day=1) - relativedelta(months=1)
            ),
            "sales_funnel_change_to": str(today),
            "sales_funnel_change_month": False,
        }
        screen(
            "screen: Zmiany w lejku",
            lambda: graph(
                admin,
                "sales.funnel.change.report",
                [],
                ["bar"],
                ["weighted_amount:sum"],
                changes,
            ),
        )
        screen(
            "screen: Zmiany w lejku (a closing month)",
            lambda: graph(
                admin,
                "sales.funnel.change.report",
                [],
                ["bar"],
                ["weighted_amount:sum"],
                dict(changes, sales_funnel_change_month=str(today.replace(day=1))),
            ),
        )
        screen(
            "screen: funnel board (all time)",
            lambda: board(
                admin,
                "cohort",
                "custom",
                date_from=str(today - relativedelta(years=11)),
                date_to=str(today),
            ),
        )
    return found


def measure_screens(env, compat, measure, user, addon):
    """Measure each screen of ``screens`` as ``user`` (a salesperson: their
    pipeline) and the administrator (every other screen), in the process."""

    def call(as_user, model, method, *args, **kwargs):
        # as /web/dataset/call_kw calls it: a record method gets the records
        # of the first argument
        lang = "pl_PL" if env["res.lang"]._lang_get("pl_PL") else "en_US"
        kwargs["context"] = dict(env.context, lang=lang, **kwargs.get("context", {}))
        return call_kw(env[model].with_user(as_user), method, list(args), kwargs)

    def field_type(model, name):
        field = env[model]._fields.get(name)
        return field.type if field else None

    for name, func in screens(
        call,
        user,
        env.ref("base.user_admin"),
        odoo_19=compat.ODOO_19,
        today=fields.Date.context_today(env["crm.lead"]),
        field_type=field_type,
        addon=addon,
    ):
        # a screen's read: as PostgreSQL is set up (JIT on, its default), and
        # with JIT off, in the same run; a first read fills Odoo's caches
        # (access rights, rules), as a worker that served a request has them
        func()
        env.cr.rollback()
        measure(name, func)
        measure(name + " [jit off]", func, setup="SET LOCAL jit = off")
