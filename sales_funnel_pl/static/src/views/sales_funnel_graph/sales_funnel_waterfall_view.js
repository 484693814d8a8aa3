/** @odoo-module **/

import {registry} from "@web/core/registry";
import {GraphRenderer} from "@web/views/graph/graph_renderer";
import {graphView} from "@web/views/graph/graph_view";

// the colours of the waterfall: the open pipeline (start, end), what added
// to it, what took from it
export const WATERFALL_COLORS = {
    total: "#4EA7F2",
    up: "#3DAA5C",
    down: "#E0534A",
};
// the bars that are the open pipeline itself, standing on zero
const TOTAL_BARS = ["start", "end"];

/**
 * The key of the "bar" group of a data point, read from its domain (the
 * labels are translated).
 */
function barKey(domain) {
    for (const leaf of domain || []) {
        if (Array.isArray(leaf) && leaf[0] === "bar" && leaf[1] === "=") {
            return leaf[2];
        }
    }
    return null;
}

/**
 * "Pipeline Changes" as a waterfall: the open pipeline at the start and at
 * the end stand on zero; each change floats from where the bars before it
 * ended, up when it added to the pipeline, down when it took from it, so
 * that the last change ends where the open pipeline at the end begins.
 *
 * Only for the bars the report gives them in (grouped by bar, in their
 * order, one measure of value): grouped otherwise, sorted, compared or
 * counted, it is Odoo's bar chart. The tooltips and the clicks keep the
 * change's own value and the opportunities behind it.
 */
export class SalesFunnelWaterfallRenderer extends GraphRenderer {
    isWaterfall() {
        const {mode, groupBy, order, measure, domains} = this.model.metaData;
        const {datasets} = this.model.data;
        return (
            mode === "bar" &&
            order === null &&
            measure !== "__count" &&
            // (18.0 compares periods; 19.0 has no comparison)
            (!domains || domains.length === 1) &&
            groupBy.length === 1 &&
            groupBy[0].fieldName === "bar" &&
            datasets.length === 1
        );
    }

    getBarChartData() {
        const data = super.getBarChartData();
        if (!this.isWaterfall()) {
            return data;
        }
        const [dataset] = data.datasets;
        const floating = [];
        const colors = [];
        let level = 0;
        dataset.data.forEach((value, index) => {
            if (TOTAL_BARS.includes(barKey(dataset.domains[index]))) {
                level = value;
                floating.push([0, value]);
                colors.push(WATERFALL_COLORS.total);
            } else {
                floating.push([level, level + value]);
                colors.push(value < 0 ? WATERFALL_COLORS.down : WATERFALL_COLORS.up);
                level += value;
            }
        });
        // a copy: the model's data keep each change's value (the tooltips)
        return {
            ...data,
            datasets: [{...dataset, data: floating, backgroundColor: colors}],
        };
    }

    getLegendOptions() {
        const options = super.getLegendOptions();
        if (this.isWaterfall()) {
            // one measure in three colours: the axis title names it
            options.display = false;
        }
        return options;
    }
}

export const salesFunnelWaterfallView = {
    ...graphView,
    Renderer: SalesFunnelWaterfallRenderer,
};

registry.category("views").add("sales_funnel_waterfall", salesFunnelWaterfallView);
