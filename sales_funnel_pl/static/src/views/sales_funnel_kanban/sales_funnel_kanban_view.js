/** @odoo-module **/

import {_t} from "@web/core/l10n/translation";
import {registry} from "@web/core/registry";
import {CrmKanbanArchParser} from "@crm/views/crm_kanban/crm_kanban_arch_parser";
import {CrmKanbanModel} from "@crm/views/crm_kanban/crm_kanban_model";
import {crmKanbanView} from "@crm/views/crm_kanban/crm_kanban_view";

// more stages than any funnel has, as the number of groups to open
const MAX_OPENED_STAGES = 1000;

/**
 * Whether the kanban's groups are the pipeline's stages (a kanban groups by
 * one field only).
 */
function isGroupedByStage(config) {
    return config.groupBy?.[0]?.split(":")[0] === "stage_id";
}

// 18.0: whether the groups that just arrived are stages (see below)
let openEveryGroup = false;

/**
 * The opportunity pipeline shows the whole funnel: Odoo's kanban opens at
 * most 10 groups and folds the others, which would fold the funnel's late
 * stages, where the money is. Grouped by stage, every stage is open unless
 * the stage itself is folded ("Folded in Pipeline" on the stage, crm's own
 * setting). Grouped by anything else (salesperson, team, ...), Odoo's own
 * limit stays.
 *
 * Who decides differs per series (one override each, the other one unused):
 * - 18.0: the web client, RelationalModel.MAX_NUMBER_OPENED_GROUPS, read in
 *   _loadGroupedList right after _webReadGroup resolves, in the same chain
 *   of microtasks as the response of that one call: the grouping of the
 *   groups that just arrived decides it;
 * - 19.0: the server, in web_read_group, up to the context key
 *   max_number_opened_groups (10 by default), sent from _webReadGroup.
 */
export class SalesFunnelKanbanModel extends CrmKanbanModel {
    // 18.0
    static get MAX_NUMBER_OPENED_GROUPS() {
        return openEveryGroup
            ? Number.MAX_SAFE_INTEGER
            : super.MAX_NUMBER_OPENED_GROUPS;
    }

    async _webReadGroup(config, ...args) {
        const byStage = isGroupedByStage(config);
        // 19.0 (18.0 sends the key too; its server ignores it)
        const context = byStage
            ? {...config.context, max_number_opened_groups: MAX_OPENED_STAGES}
            : config.context;
        const result = await super._webReadGroup({...config, context}, ...args);
        openEveryGroup = byStage;
        return result;
    }
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
