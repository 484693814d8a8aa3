/** @odoo-module **/

import {registry} from "@web/core/registry";
import {GraphModel} from "@web/views/graph/graph_model";
import {graphView} from "@web/views/graph/graph_view";

/**
 * The funnel graph shows every stage of the funnel, empty ones too, in the
 * funnel's order: the server fills the empty stages (crm.lead.read_group with
 * the context key sales_funnel_fill_stages), but Odoo's bar chart drops the
 * groups that hold no record.
 */
export class SalesFunnelGraphModel extends GraphModel {
    _getProcessedDataPoints() {
        const {mode, order} = this.metaData;
        if (mode !== "bar") {
            return super._getProcessedDataPoints();
        }
        if (order === null) {
            return this.dataPoints;
        }
        // sorted by value: the empty stages (zero) come first or last
        const empty = this.dataPoints.filter((dataPoint) => dataPoint.count === 0);
        const sorted = super._getProcessedDataPoints();
        return order === "ASC" ? [...empty, ...sorted] : [...sorted, ...empty];
    }
}

export const salesFunnelGraphView = {
    ...graphView,
    Model: SalesFunnelGraphModel,
};

registry.category("views").add("sales_funnel_graph", salesFunnelGraphView);
