# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import random
from datetime import datetime, time, timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models

from .. import compat
from .crm_lead_value_change import RECORDING_START_PARAM

# closed opportunities added to the demo's past: (project, revenue)
DEMO_PROJECTS = [
    ("Wdrożenie systemu CRM", 180000),
    ("Serwis drukarek", 24000),
    ("Modernizacja serwerowni", 260000),
    ("Licencje oprogramowania", 56000),
    ("System kontroli dostępu", 72000),
    ("Szkolenia dla działu sprzedaży", 18000),
    ("Integracja z platformą e-commerce", 140000),
    ("Audyt bezpieczeństwa IT", 45000),
    ("Dostawa laptopów", 98000),
]


class SalesFunnelDemo(models.AbstractModel):
    """The demo's year of sales, called from the demo data
    (``demo/crm_lead_history_demo.xml``, ``demo/sales_funnel_target_demo.xml``):
    a model of its own, so that a database without demo data carries no code
    that creates users or opportunities."""

    _name = "sales.funnel.demo"
    _description = "Sales Funnel PL demo data"

    @api.model
    def _load_history(self):
        """Give the demo a year of sales, deterministically and relative to
        today: the demo opportunities were created over the last twelve
        months and moved until yesterday; the closed ones added here were
        won or lost over the last twelve months (won ones in every month,
        see ``_closings``), after months of work. All moved through
        the funnel on working days (some skipping stages), and were lost at
        every stage or won.
        Each move is recorded as Odoo records it (a chatter message tracking
        the stage, by the salesperson); the install's backfill then builds
        the stage history from it, as on a database with a past."""
        rng = random.Random(17)
        # a generator of its own, so that the moves stay those of rng
        rng_deadline = random.Random(29)
        today = fields.Date.context_today(self)
        Lead = self.env["crm.lead"]
        stages = self.env["crm.stage"].browse(
            self.env.ref(f"sales_funnel_pl.stage_{number:02d}").id
            for number in range(1, 18)
        )
        people = self._people()
        data = self.env["ir.model.data"].search(
            [("module", "=", "sales_funnel_pl"), ("model", "=", "crm.lead")],
            order="name",
        )
        leads = Lead.with_context(active_test=False).browse(data.mapped("res_id"))
        # spread the demo opportunities over the people of both teams
        for index, lead in enumerate(leads):
            user, team = people[index % len(people)]
            lead.write({"user_id": user.id, "team_id": team.id})
            lead.activity_ids.user_id = user
        # closed opportunities: lost at every stage, and won ones
        partners = leads.partner_id
        lost_reasons = self.env["crm.lost.reason"].search([], order="id")
        extra_vals = []
        for index in range(60):
            project, revenue = DEMO_PROJECTS[index % len(DEMO_PROJECTS)]
            partner = partners[(index * 7) % len(partners)]
            user, team = people[(index * 3) % len(people)]
            won = index % 3 == 0
            stage = stages[16] if won else stages[index % 16]
            extra_vals.append(
                {
                    "name": f"{project} – {partner.name}",
                    "type": "opportunity",
                    "partner_id": partner.id,
                    "user_id": user.id,
                    "team_id": team.id,
                    "stage_id": stage.id,
                    "expected_revenue": revenue * (1 + index % 4),
                    "active": won,
                    "probability": 100 if won else 0,
                    "lost_reason_id": False
                    if won
                    else lost_reasons[index % len(lost_reasons)].id,
                }
            )
        leads |= Lead.with_context(active_test=False, tracking_disable=True).create(
            extra_vals
        )

        field = self.env["ir.model.fields"]._get("crm.lead", "stage_id")
        subtype = self.env.ref("crm.mt_lead_stage", raise_if_not_found=False)
        closings = self._closings(leads, today)
        messages, lead_dates, timelines = [], [], []
        for lead in leads:
            final = stages.ids.index(lead.stage_id.id)
            path = list(stages[: final + 1])
            if len(path) > 3 and rng.random() < 0.3:
                path.pop(rng.randrange(1, len(path) - 1))  # a skipped stage
            closing, in_month = closings.get(lead.id, (None, False))
            if closing:
                # a closed one: months of work (more for a longer path) up
                # to its closing moment, its moves on the days before it
                span = rng.randint(max(20, 6 * len(path)), 60 + 12 * len(path))
                start = closing.date() - timedelta(days=span)
                end = closing.date()
            else:
                # an open one moves until yesterday
                span = rng.randint(max(20, 9 * len(path)), 360)
                start = today - timedelta(days=span)
                end = today - timedelta(days=1)
            # a won one's last move is its closing (into the won stage)
            sampled = len(path) - 1 - (1 if closing and lead.stage_id.is_won else 0)
            days = sorted(rng.sample(range(1, max(2, (end - start).days)), sampled))
            moments = sorted(
                [self._moment(rng, start)]
                + [self._moment(rng, start + timedelta(days=day)) for day in days]
            )
            for index in range(1, len(moments)):  # one move at a time
                moments[index] = max(
                    moments[index], moments[index - 1] + timedelta(hours=1)
                )
            if closing and lead.stage_id.is_won:
                moments.append(max(closing, moments[-1] + timedelta(hours=1)))
            for previous, stage, when in zip(path, path[1:], moments[1:], strict=False):
                messages.append(
                    {
                        "model": "crm.lead",
                        "res_id": lead.id,
                        "message_type": "notification",
                        "subtype_id": subtype.id if subtype else False,
                        "body": "",
                        "date": when,
                        "author_id": lead.user_id.partner_id.id,
                        "tracking_value_ids": [
                            fields.Command.create(
                                {
                                    "field_id": field.id,
                                    "old_value_integer": previous.id,
                                    "old_value_char": previous.name,
                                    "new_value_integer": stage.id,
                                    "new_value_char": stage.name,
                                }
                            )
                        ],
                    }
                )
            last = moments[-1]
            date_closed = max(closing, last) if closing else None
            # closed ones were expected to close around when they did (so
            # that the forecasts rebuilt from this history have figures):
            # the first won sale of each month in that month, the others
            # early or late, so that some months beat their forecast and
            # some miss it
            deadline = None
            if closing and not lead.date_deadline:
                deadline = closing.date() + timedelta(
                    days=rng_deadline.randint(-25, 20)
                )
                if in_month:
                    first = closing.date().replace(day=1)
                    deadline = min(
                        max(deadline, first),
                        first + relativedelta(months=1, days=-1),
                    )
            lead_dates.append(
                (lead.id, lead.user_id.id, moments[0], last, date_closed, deadline)
            )
            timelines.append(
                (lead, path, moments, date_closed, deadline or lead.date_deadline)
            )
        # the demo's company has worked these stages for the year of its
        # moves: they were there before the first one (the install's backfill
        # records as skipped only the stages there at the move)
        first_move = min(dates[2] for dates in lead_dates)
        self.env["crm.stage"].flush_model()
        self.env.cr.execute(
            "UPDATE crm_stage SET create_date = %s WHERE create_date > %s",
            [first_move, first_move],
        )
        self.env["crm.stage"].invalidate_model(["create_date"])
        created = self.env["mail.message"].sudo().create(messages)
        # the moves were made by the salespeople
        self.env.cr.execute(
            """UPDATE mail_message m SET create_uid = u.id
                 FROM res_users u
                WHERE u.partner_id = m.author_id AND m.id = ANY(%s)""",
            [created.ids],
        )
        Lead.flush_model()
        self.env.cr.executemany(
            """UPDATE crm_lead
                  SET create_uid = %s, write_uid = %s, create_date = %s, date_open = %s,
                      date_last_stage_update = %s, date_closed = %s,
                      date_deadline = COALESCE(%s, date_deadline)
                WHERE id = %s""",
            [
                (
                    user_id,
                    user_id,
                    created_at,
                    created_at,
                    last,
                    date_closed,
                    deadline,
                    lead_id,
                )
                for (
                    lead_id,
                    user_id,
                    created_at,
                    last,
                    date_closed,
                    deadline,
                ) in lead_dates
            ],
        )
        self._load_value_changes(timelines)
        # next actions done along the way: a call a few days before today
        call = self.env.ref("mail.mail_activity_data_call")
        done = []
        for lead in leads.filtered(
            lambda lead: lead.active and not lead.stage_id.is_won
        ):
            deadline = today - timedelta(days=rng.randint(3, 20))
            activity = self.env["mail.activity"].create(
                {
                    "res_model_id": self.env["ir.model"]._get_id("crm.lead"),
                    "res_id": lead.id,
                    "activity_type_id": call.id,
                    "summary": "Telefon do klienta",
                    "user_id": lead.user_id.id,
                    "date_deadline": deadline,
                }
            )
            message_id = activity.with_user(lead.user_id).action_feedback(
                feedback="Klient potwierdził zainteresowanie, ustalono kolejny krok."
            )
            done.append((datetime.combine(deadline, time(10)), message_id))
        # won: the post-sale next action the addon plans when a sale is won
        # (crm_lead_next_action.py), due some days after the day of the win
        # (the salesperson's calendar day); those due before today were done
        # on their day, the others are still planned
        won_at = {dates[0]: dates[4] for dates in lead_dates}
        won = leads.filtered(lambda lead: lead.active and lead.stage_id.is_won)
        for won_on, group in won.grouped(
            lambda lead: fields.Datetime.context_timestamp(
                lead.with_context(tz=lead.user_id.tz or "UTC"), won_at[lead.id]
            ).date()
        ).items():
            for activity in group._plan_after_sale_activity(won_on=won_on):
                deadline = activity.date_deadline
                if deadline < today:
                    message_id = activity.with_user(activity.user_id).action_feedback(
                        feedback="Klient zadowolony z realizacji, umówiona rozmowa "
                        "o kolejnych potrzebach."
                    )
                    done.append((datetime.combine(deadline, time(10)), message_id))
        self.env.cr.executemany("UPDATE mail_message SET date = %s WHERE id = %s", done)
        # the install builds their history from the tracking (post_init_hook)
        self.env.cr.execute(
            "DELETE FROM crm_lead_stage_history WHERE lead_id = ANY(%s)", [leads.ids]
        )
        self.env["crm.lead.stage.history"].invalidate_model()
        Lead.invalidate_model()

    @api.model
    def _load_value_changes(self, timelines):
        """The changes of the closing date, revenue and probability the
        addon would have recorded over the demo's year
        (``crm.lead.value.change``), for each of ``timelines``
        ((opportunity, its stages, the moments it entered them, its closing
        moment or None, its closing date now)): each stage's % when entered,
        0% when lost, and, at moments of their own, closing dates moved
        (mostly slipped to a later month, some pulled in) and revenues
        raised or lowered. Built backwards from today's values, so that the
        one rule (the old values of the first change after a moment, else
        today's) gives every moment's values; the recording is dated from
        the demo's first moment on."""
        rng = random.Random(53)
        rows = []
        for lead, path, moments, closed_at, deadline in timelines:
            # (moment, kind, the value before it): the stage moves first
            events = [
                (when, "probability", stage.probability)
                for stage, when in zip(path, moments[1:], strict=False)
            ]
            if closed_at and not lead.active:
                events.append((closed_at, "probability", lead.stage_id.probability))
            start, end = moments[0], closed_at or moments[-1]
            for _edit in range(rng.randint(1, 3) if end > start else 0):
                when = start + (end - start) * rng.uniform(0.1, 0.9)
                when = when.replace(second=0, microsecond=0)
                if deadline and rng.random() < 0.7:
                    # mostly a slip: the date was one or two months earlier
                    months = -rng.choice((1, 1, 2)) if rng.random() < 0.8 else 1
                    events.append((when, "date_deadline", months))
                else:
                    events.append((when, "expected_revenue", rng.uniform(0.7, 1.3)))
            state = {
                "date_deadline": deadline or None,
                "expected_revenue": lead.expected_revenue,
                "probability": lead.probability,
            }
            for when, kind, before in sorted(events, key=lambda event: event[0])[::-1]:
                new = dict(state)
                if kind == "date_deadline":
                    if not state["date_deadline"]:
                        continue
                    state["date_deadline"] += relativedelta(months=before)
                elif kind == "expected_revenue":
                    state["expected_revenue"] = round(
                        state["expected_revenue"] / before, -3
                    )
                else:
                    state["probability"] = before
                if state == new:
                    continue
                rows.append(
                    (
                        lead.id,
                        when,
                        lead.user_id.id,
                        lead.company_id.id or None,
                        state["date_deadline"],
                        new["date_deadline"],
                        state["expected_revenue"],
                        new["expected_revenue"],
                        state["probability"],
                        new["probability"],
                    )
                )
        self.env.cr.executemany(
            """INSERT INTO crm_lead_value_change (
                   lead_id, date, user_id, company_id, old_date_deadline,
                   new_date_deadline, old_expected_revenue, new_expected_revenue,
                   old_probability, new_probability)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            rows,
        )
        if rows:
            self.env["ir.config_parameter"].sudo().set_param(
                RECORDING_START_PARAM,
                fields.Datetime.to_string(min(row[1] for row in rows)),
            )
        self.env["crm.lead.value.change"].invalidate_model()

    @api.model
    def _closings(self, leads, today):
        """{lead id: (closing moment, whether it was expected in its month)}
        of the closed ones among ``leads``, deterministically: the won sales
        spread over the current month and the 11 before it, unevenly but at
        least one in each month, that one expected in it (so that every
        month of the report has a forecast and a won figure); the demo's own
        won opportunities (which have an expected date) won lately; the lost
        ones over the last 13 months. Closing days are past working days
        (a weekend day or today only when the month has no other)."""
        rng = random.Random(41)
        closed = leads.filtered(lambda lead: not lead.active or lead.stage_id.is_won)
        won = closed.filtered(lambda lead: lead.stage_id.is_won)
        dated = won.filtered("date_deadline")
        undated = won - dated
        months = rng.sample(range(12), 12) + [rng.randrange(12) for _ in undated[12:]]
        plan = [
            (lead, back, index < 12)
            for index, (lead, back) in enumerate(zip(undated, months, strict=False))
        ]
        plan += [(lead, rng.randrange(2), False) for lead in dated]
        plan += [(lead, rng.randrange(13), False) for lead in closed - won]
        closings = {}
        for lead, back, in_month in plan:
            first = today.replace(day=1) - relativedelta(months=back)
            end = min(first + relativedelta(months=1), today)
            days = [first + timedelta(days=n) for n in range((end - first).days)]
            day = rng.choice(
                [day for day in days if day.weekday() < 5] or days or [today]
            )
            moment = time(rng.randint(7, 14), rng.choice((0, 15, 30, 45)))
            closings[lead.id] = (datetime.combine(day, moment), in_month)
        return closings

    @api.model
    def _load_targets(self):
        """Monthly targets of the demo's salespeople and teams, from a year
        ago to three months ahead: each salesperson's is a little above what
        they won per month over the year (rounded to thousands), each team's
        a tenth above its salespeople's together."""
        today = fields.Date.context_today(self)
        first = today.replace(day=1) - relativedelta(months=12)
        won = dict(
            self.env["crm.lead"]._read_group(
                [
                    ("type", "=", "opportunity"),
                    ("stage_id.is_won", "=", True),
                    ("date_closed", ">=", first),
                ],
                ["user_id"],
                ["expected_revenue:sum"],
            )
        )
        vals_list, team_totals = [], {}
        for user, team in self._people():
            amount = max(20000, round(won.get(user, 0) / 12 * 1.1, -3))
            team_totals[team] = team_totals.get(team, 0) + amount
            vals_list += [
                {
                    "date": first + relativedelta(months=step),
                    "team_id": team.id,
                    "user_id": user.id,
                    "amount": amount,
                }
                for step in range(16)
            ]
        for team, total in team_totals.items():
            vals_list += [
                {
                    "date": first + relativedelta(months=step),
                    "team_id": team.id,
                    "amount": round(total * 1.1, -3),
                }
                for step in range(16)
            ]
        self.env["sales.funnel.target"].create(vals_list)

    @api.model
    def _people(self):
        """[(salesperson, team)]: the demo's own salespeople and second team
        are found by their login and name, or created: they own
        opportunities and activities, so that uninstalling the addon keeps
        them (as it keeps the demo opportunities) and a reinstall reuses
        them."""
        team_main = self.env.ref("sales_team.team_sales_department")
        Team = self.env["crm.team"].with_context(active_test=False)
        team_regions = Team.search([("name", "=", "Sprzedaż regionalna")], limit=1) or (
            Team.create({"name": "Sprzedaż regionalna", "sequence": 20})
        )
        Users = self.env["res.users"].with_context(
            active_test=False, no_reset_password=True
        )
        groups = self.env.ref("sales_team.group_sale_salesman") | self.env.ref(
            "base.group_user"
        )
        people = [
            (self.env.ref("base.user_admin"), team_main),
            (self.env.ref("base.user_demo"), team_main),
        ]
        for login, name, team in (
            ("m.lewandowska", "Magdalena Lewandowska", team_main),
            ("k.wisniewska", "Katarzyna Wiśniewska", team_regions),
            ("t.zielinski", "Tomasz Zieliński", team_regions),
        ):
            user = Users.search([("login", "=", login)], limit=1) or Users.create(
                {
                    "name": name,
                    "login": login,
                    "email": f"{login}@example.com",
                    "tz": "Europe/Warsaw",
                    compat.USER_GROUPS_FIELD: [fields.Command.set(groups.ids)],
                }
            )
            if user not in team.member_ids:
                team.member_ids = [fields.Command.link(user.id)]
            people.append((user, team))
        return people

    @api.model
    def _moment(self, rng, day):
        """A working-day moment of ``day`` (UTC, office hours in Poland)."""
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        return datetime.combine(
            day, time(rng.randint(7, 14), rng.choice((0, 15, 30, 45)))
        )
