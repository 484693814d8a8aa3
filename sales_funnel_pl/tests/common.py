# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import datetime
from datetime import date
from types import SimpleNamespace

import pytz
from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import fields
from odoo.tests import Form, HttpCase, TransactionCase

from odoo.addons.mail.tests.common import mail_new_test_user

from .. import compat


class SalesFunnelCommon(TransactionCase):
    """Users, a team and opportunities built for the tests, on the funnel's
    own stages (module data, not demo data)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.ref("base.main_company")
        cls.user_salesman = cls._create_user(
            "sfp_salesman", "Jan Kowalski", email="jan.kowalski@example.com"
        )
        cls.user_manager = cls._create_user(
            "sfp_manager",
            "Anna Nowak",
            "sales_team.group_sale_manager",
            email="anna.nowak@example.com",
        )
        cls.team = cls.env["crm.team"].create(
            {
                "name": "Zespół Testowy",
                "member_ids": [
                    (4, cls.user_salesman.id),
                    (4, cls.user_manager.id),
                ],
            }
        )
        cls.stages = cls.env["crm.stage"].browse(
            cls.env.ref(f"sales_funnel_pl.stage_{number:02d}").id
            for number in range(1, 18)
        )
        cls.stage_new, cls.stage_meeting = cls.stages[0], cls.stages[3]
        cls.stage_order, cls.stage_won = cls.stages[13], cls.stages[16]
        cls.partner = cls.env["res.partner"].create(
            {"name": "Stalprofil Sp. z o.o.", "is_company": True}
        )

    def setUp(self):
        super().setUp()
        # crm and the history date stage changes with the transaction's time
        # (cr.now()); in tests it follows the (frozen) clock
        self.patch(type(self.env.cr), "now", lambda cr: fields.Datetime.now())

    @classmethod
    def _setup_real_company(cls):
        """Data shaped like a real company's, beside the funnel's team: a
        second company with its own salesperson, a team working crm's own
        stages (not the funnel's), a non-sales colleague who plans activities
        on opportunities (an accountant), and a salesperson writing in UTC
        (an API client, a scheduled action, a user without a time zone)."""
        cls.company_b = cls.env["res.company"].create({"name": "Stalprofil Sever"})
        cls.user_salesman.write({"company_ids": [(4, cls.company_b.id)]})
        cls.user_manager.write({"company_ids": [(4, cls.company_b.id)]})
        cls.user_salesman_utc = cls._create_user(
            "sfp_salesman_utc",
            "John Smith",
            "sales_team.group_sale_salesman_all_leads",
            email="john.smith@example.com",
            tz="UTC",
        )
        cls.user_salesman_b = cls._create_user(
            "sfp_salesman_b",
            "Ewa Maj",
            email="ewa.maj@example.com",
            company=cls.company_b,
        )
        cls.user_accountant = cls._create_user(
            "sfp_accountant",
            "Zofia Rachunek",
            "base.group_user",
            email="zofia.rachunek@example.com",
        )
        cls.team.write({"member_ids": [(4, cls.user_salesman_utc.id)]})
        # a team with stages of its own, outside the funnel
        cls.team_other = cls.env["crm.team"].create(
            {"name": "Serwis", "member_ids": [(4, cls.user_salesman_utc.id)]}
        )
        cls.other_stages = cls.env["crm.stage"].create(
            [
                {
                    "name": name,
                    "sequence": 200 + index,
                    "is_won": name == "Zamknięte",
                    "is_funnel_stage": False,
                    **compat.stage_team_values(cls.team_other),
                }
                for index, name in enumerate(["Zgłoszenie", "Wycena", "Zamknięte"])
            ]
        )
        cls.team_b = cls.env["crm.team"].create(
            {
                "name": "Zespół Północ",
                "company_id": cls.company_b.id,
                "member_ids": [(4, cls.user_salesman_b.id)],
            }
        )

    @classmethod
    def _load_polish(cls):
        """Polish active, with the terms of the addon and of the Odoo it shows."""
        cls.env["res.lang"]._activate_lang("pl_PL")
        cls.env["ir.module.module"]._load_module_terms(
            ["base", "web", "mail", "crm", "sales_team", "sales_funnel_pl"],
            ["pl_PL"],
            overwrite=True,
        )

    @classmethod
    def _create_opportunities(cls, count, stage, user=None, **values):
        return (
            cls.env["crm.lead"]
            .with_user(user or cls.user_salesman)
            .create(
                [
                    {
                        "name": f"Szansa {index}",
                        "type": "opportunity",
                        "partner_id": cls.partner.id,
                        "user_id": cls.user_salesman.id,
                        "team_id": cls.team.id,
                        "stage_id": stage.id,
                        "expected_revenue": 10000,
                        **values,
                    }
                    for index in range(count)
                ]
            )
        )

    # Builders: what the test classes repeat, named after what it is in the
    # sales team's life. Each returns what it builds; none of them keeps
    # anything on the class, so a test may call them too.

    @classmethod
    def _create_user(
        cls, login, name, groups="sales_team.group_sale_salesman", team=None, **values
    ):
        """A user: a salesperson unless ``groups`` (xml ids, comma-separated)
        says otherwise, working in Warsaw's time zone and notified in Odoo
        unless ``values`` say otherwise (``tz``, ``notification_type``,
        ``email``, ``lang``...); a member of ``team`` when given. ``company``
        in ``values``: the only company the user works in."""
        company = values.pop("company", None)
        if company:
            values.update(company_id=company.id, company_ids=[(6, 0, company.ids)])
        user = mail_new_test_user(
            cls.env,
            login=login,
            name=name,
            groups=groups,
            **{"tz": "Europe/Warsaw", "notification_type": "inbox", **values},
        )
        if team:
            team.member_ids = [(4, user.id)]
        return user

    @classmethod
    def _create_other_salesperson(cls, login="sfp_other_rep", team=None, **values):
        """Ewa Zielińska, a second salesperson, in ``team`` (the tests' team
        unless told: ``team=False`` for none)."""
        team = cls.team if team is None else team
        return cls._create_user(login, "Ewa Zielińska", team=team, **values)

    @classmethod
    def _create_leaving_salesperson(cls, login="sfp_salesman_leaving", **values):
        """Piotr Wiśniewski, a salesperson of the tests' team about to leave
        the company (the reassignment wizard's "from")."""
        return cls._create_user(
            login,
            "Piotr Wiśniewski",
            email="piotr.wisniewski@example.com",
            team=cls.team,
            **values,
        )

    @classmethod
    def _create_opportunity(
        cls, name, stage, revenue=10000, deadline=None, user=None, **values
    ):
        """One opportunity ``name`` of the salesperson (``user_id`` in
        ``values`` for another), in ``stage``, worth ``revenue``, expected
        to close on ``deadline``, entered by ``user`` (the salesperson unless
        told)."""
        if deadline:
            values["date_deadline"] = deadline
        return cls._create_opportunities(
            1, stage, user=user, name=name, expected_revenue=revenue, **values
        )

    @classmethod
    def _create_opportunities_of(cls, user, stage, names, **values):
        """Opportunities of ``user`` named ``names``, in ``stage``, worth
        10,000 each, in the tests' team unless ``values`` say otherwise,
        entered by the system (an import, a scheduled action)."""
        return cls.env["crm.lead"].create(
            [
                {
                    "name": name,
                    "type": "opportunity",
                    "partner_id": cls.partner.id,
                    "user_id": user.id,
                    "team_id": cls.team.id,
                    "stage_id": stage.id,
                    "expected_revenue": 10000,
                    **values,
                }
                for name in names
            ]
        )

    @classmethod
    def _history(cls, *steps):
        """Play the past exactly: ``steps`` of (moment, opportunities, move),
        in order, each at its own frozen moment (UTC); ``move`` is a stage
        to move to, "won" or "lost"."""
        for moment, leads, move in steps:
            with freeze_time(moment):
                # "won" or "lost": crm's own action (a stage record is
                # never compared with a string: Odoo warns of it)
                if isinstance(move, str):
                    getattr(leads, f"action_set_{move}")()
                else:
                    leads.write({"stage_id": move.id})

    @classmethod
    def _create_forecast_pipeline(cls, user_other):
        """The pipeline the forecast's tests read, entered on 10 January 2026
        (10:00 in Warsaw): Jan's A in Meeting (20,000, due 15 March), his B
        in Order (10,000, due 20 February), and ``user_other``'s F in Order
        (4,000, due 5 February, entered by the manager). Returns A, B, F."""
        with freeze_time("2026-01-10 09:00:00"):
            lead_a = cls._create_opportunity(
                "A", cls.stage_meeting, 20000, date(2026, 3, 15)
            )
            lead_b = cls._create_opportunity(
                "B", cls.stage_order, 10000, date(2026, 2, 20)
            )
            lead_f = cls._create_opportunity(
                "F",
                cls.stage_order,
                4000,
                date(2026, 2, 5),
                user=cls.user_manager,
                user_id=user_other.id,
            )
        return lead_a, lead_b, lead_f

    def _opportunity_form(self, name):
        """The form of a new opportunity as a salesperson opens it from the
        pipeline, its name and the team filled in; use it in a ``with``."""
        form = Form(self.env["crm.lead"].with_context(default_type="opportunity"))
        form.name = name
        form.team_id = self.team
        return form

    @classmethod
    def _score_on_email_only(cls):
        """crm's predictive lead scoring learning from the e-mail's validity
        only (phone validation depends on the optional phonenumbers
        library)."""
        cls.env["ir.config_parameter"].sudo().set_param("crm.pls_fields", "email_state")

    @classmethod
    def _create_old_stages(cls, sequences, **values):
        """Stages outside the funnel (a company's own, before the addon):
        ``sequences`` maps each name to its sequence. Returns them in that
        order."""
        return cls.env["crm.stage"].create(
            [
                {"name": name, "sequence": sequence, **values}
                for name, sequence in sequences.items()
            ]
        )

    @classmethod
    def _keep_funnel_only(cls, opportunities="archive"):
        """The test database may hold other stages and opportunities (demo
        data, other addons): the funnel's 17 stages stay active, the others
        are archived; the opportunities are archived (``"archive"``),
        deleted (``"delete"``) or kept (``None``)."""
        cls.env["crm.stage"].search([("id", "not in", cls.stages.ids)]).active = False
        Lead = cls.env["crm.lead"]
        if opportunities == "archive":
            Lead.search([]).active = False
        elif opportunities == "delete":
            Lead.with_context(active_test=False).search([]).unlink()

    @classmethod
    def _prepare_tour(cls, *users, opportunities="archive"):
        """The web client as the addon's users see it: Polish loaded and
        written by ``users``, Odoo's onboarding tips off, the funnel's stages
        only (``opportunities``: see ``_keep_funnel_only``)."""
        cls._load_polish()
        for user in users:
            user.write({"lang": "pl_PL", "tour_enabled": False})
        cls._keep_funnel_only(opportunities)


class SalesFunnelTourCommon(HttpCase, SalesFunnelCommon):
    """The tours' classes: the web client of ``tour_users`` (the names of
    the class's users) in Polish, with the funnel's stages only; the test
    database's other opportunities archived, or kept when
    ``tour_opportunities`` is None (see ``_keep_funnel_only``)."""

    tour_users = ("user_salesman",)
    tour_opportunities = "archive"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._prepare_tour(
            *(getattr(cls, name) for name in cls.tour_users),
            opportunities=cls.tour_opportunities,
        )


def client_eval_context(today, tz):
    """What a search filter's domain is evaluated with in the web client
    (py.js) of a user in the time zone ``tz`` on the day ``today``:
    ``context_today()``, ``relativedelta``, and ``datetime`` whose datetimes
    convert a local time into UTC with ``to_utc()``, as py.js's do."""
    zone = pytz.timezone(tz)

    class ClientDatetime(datetime.datetime):
        def to_utc(self):
            return zone.localize(self).astimezone(pytz.utc).replace(tzinfo=None)

    return {
        "context_today": lambda: today,
        "relativedelta": relativedelta,
        "datetime": SimpleNamespace(
            datetime=ClientDatetime, date=datetime.date, time=datetime.time
        ),
    }
