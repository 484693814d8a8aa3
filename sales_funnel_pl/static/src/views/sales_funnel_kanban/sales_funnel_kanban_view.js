/** @odoo-module **/

import {_t} from "@web/core/l10n/translation";
import {registry} from "@web/core/registry";
import {CrmKanbanArchParser} from "@crm/views/crm_kanban/crm_kanban_arch_parser";
import {CrmKanbanModel} from "@crm/views/crm_kanban/crm_kanban_model";
import {crmKanbanView} from "@crm/views/crm_kanban/crm_kanban_view";

/**
 * The opportunity pipeline shows the whole funnel: Odoo's kanban opens at
 * most 10 groups (RelationalModel.MAX_NUMBER_OPENED_GROUPS) and folds the
 * others, which would fold the funnel's late stages, where the money is.
 * Here every stage is open unless the stage itself is folded ("Folded in
 * Pipeline" on the stage, crm's own setting).
 */
export class SalesFunnelKanbanModel extends CrmKanbanModel {
    static MAX_NUMBER_OPENED_GROUPS = Number.MAX_SAFE_INTEGER;
}

/**
 * crm titles the stage description in the column tooltip with the untranslated
 * "Description" of the view's options: give it a translated title.
 */
export class SalesFunnelKanbanArchParser extends CrmKanbanArchParser {
    parse() {
        const archInfo = super.parse(...arguments);
        const stageTooltip = archInfo.tooltipInfo.stage_id;
        if (stageTooltip && "requirements" in stageTooltip) {
            stageTooltip.requirements = _t("Stage description");
        }
        return archInfo;
    }
}

export const salesFunnelKanbanView = {
    ...crmKanbanView,
    ArchParser: SalesFunnelKanbanArchParser,
    Model: SalesFunnelKanbanModel,
};

registry.category("views").add("sales_funnel_kanban", salesFunnelKanbanView);
