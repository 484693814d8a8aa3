# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The translation files match the code: the .pot is what Odoo exports from
the installed addon, and pl.po translates every term of it."""

import re
from pathlib import Path

import polib
import pytest

import odoo
import odoo.release
from odoo.tests.common import get_db_name
from odoo.tools.translate import TranslationModuleReader

I18N = Path(__file__).resolve().parents[1] / "sales_funnel_pl" / "i18n"
PLURAL_FORMS = (
    "nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && "
    "(n%100<10 || n%100>=20) ? 1 : 2);"
)
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|%%")


@pytest.fixture(scope="module")
def code_terms():
    # the test database (a name on 18.0, a list of names on 19.0's config)
    registry = odoo.modules.registry.Registry(get_db_name())
    with registry.cursor() as cr:
        reader = TranslationModuleReader(cr, modules=["sales_funnel_pl"])
        return {source for _module, _type, _name, _id, source, _value, _c in reader}


# Terms one series exports and the other does not: Odoo's own description
# of crm.lead, which the addon's export carries because it extends the model.
# The .pot holds the terms of both series.
SERIES_ONLY_TERMS = {"18.0": {"Lead/Opportunity"}, "19.0": {"Lead"}}


def test_pot_is_exported_from_the_code(code_terms):
    pot = polib.pofile(str(I18N / "sales_funnel_pl.pot"))
    other_series = set().union(
        *(
            terms
            for series, terms in SERIES_ONLY_TERMS.items()
            if series != odoo.release.series
        )
    )
    assert not code_terms & other_series
    assert {entry.msgid for entry in pot} == code_terms | other_series


def test_pl_po_is_complete():
    pot = polib.pofile(str(I18N / "sales_funnel_pl.pot"))
    po = polib.pofile(str(I18N / "pl.po"))
    assert po.metadata["Language"] == "pl"
    assert po.metadata["Plural-Forms"] == PLURAL_FORMS
    translations = {entry.msgid: entry.msgstr for entry in po if not entry.obsolete}
    assert set(translations) == {entry.msgid for entry in pot}
    # crm.lead's description stays crm's own: Odoo imports a model name's
    # translation whatever its source, so translating one series' name here
    # would rename the model on the other series
    series_only = set().union(*SERIES_ONLY_TERMS.values())
    assert [msgid for msgid in series_only if translations.get(msgid)] == []
    assert [
        msgid
        for msgid, msgstr in translations.items()
        if not msgstr and msgid not in series_only
    ] == []
    assert not [entry.msgid for entry in po if "fuzzy" in entry.flags]
    for msgid, msgstr in translations.items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(
            PLACEHOLDER.findall(msgstr)
        ), msgid


def test_no_english_po():
    assert not (I18N / "en.po").exists()
