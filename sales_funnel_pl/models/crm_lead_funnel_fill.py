# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The funnel report's "every stage" fill (context
``sales_funnel_fill_stages``): every stage shows, with zeros where it is
empty. The web client of each series reads through other methods: see
"Grouped reads" in compat.py."""

from odoo import api, models

from .. import compat


class CrmLead(models.Model):
    _inherit = "crm.lead"

    if compat.ODOO_19:

        def _web_read_group_field_expand(self, groupby):
            """19.0: the funnel report (context ``sales_funnel_fill_stages``)
            shows every stage, with zeros where it is empty, in the list,
            graph and pivot views too: ``formatted_read_group`` and
            ``formatted_read_grouping_sets`` then expand ``stage_id`` with
            crm's own ``group_expand`` (``_read_group_stage_ids``), as they
            do for the kanban view."""
            field = super()._web_read_group_field_expand(groupby)
            if (
                field is None
                and tuple(groupby) == ("stage_id",)
                and self.env.context.get("sales_funnel_fill_stages")
            ):
                return self._fields["stage_id"]
            return field

        @api.model
        def _read_group_empty_value(self, spec):
            """19.0: the funnel's empty stages count zeros (Odoo gives no
            value to the measures of an expanded empty group)."""
            value = super()._read_group_empty_value(spec)
            if value is False and self.env.context.get("sales_funnel_fill_stages"):
                field = self._fields.get(spec.split(":")[0].split(".")[0])
                if field is not None and field.type in ("integer", "float", "monetary"):
                    return 0
            return value

    else:

        @api.model
        @api.readonly
        def read_group(
            self,
            domain,
            fields,
            groupby,
            offset=0,
            limit=None,
            orderby=False,
            lazy=True,
        ):
            """18.0: the funnel report (context ``sales_funnel_fill_stages``)
            shows every stage, with zeros where it is empty, also in the pivot
            and graph views, which group eagerly (Odoo fills empty groups in
            lazy mode only)."""
            result = super().read_group(
                domain,
                fields,
                groupby,
                offset=offset,
                limit=limit,
                orderby=orderby,
                lazy=lazy,
            )
            groupby = [groupby] if isinstance(groupby, str) else list(groupby)
            if (
                lazy
                and len(groupby) == 1
                or groupby != ["stage_id"]
                or not self.env.context.get("sales_funnel_fill_stages")
                or limit
            ):
                return result
            present = {row["stage_id"][0] for row in result if row["stage_id"]}
            # the stages crm's group_expand shows (_read_group_stage_ids), fetched
            # with their names in one query
            team_domain = compat.stage_team_domain(
                self.env.context.get("default_team_id")
            )
            Stage = self.env["crm.stage"]
            stages = Stage.search_fetch(
                compat.domain_or([[("id", "in", list(present))], team_domain]),
                ["name"],
                order=Stage._order,
            )
            measures = [
                spec.split(":")[0]
                for spec in fields
                if spec.split(":")[0] not in ("stage_id", "__count")
            ]
            rows = {
                row["stage_id"][0] if row["stage_id"] else False: row for row in result
            }
            filled = []
            for stage in stages:
                filled.append(
                    rows.pop(stage.id, None)
                    or {
                        "stage_id": (stage.id, stage.display_name),
                        "__count": 0,
                        **dict.fromkeys(measures, 0),
                        "__domain": compat.domain_and(
                            [domain, [("stage_id", "=", stage.id)]]
                        ),
                    }
                )
            return filled + list(rows.values())
