/** @odoo-module **/

import {Component, markup, onWillStart, useState} from "@odoo/owl";
import {formatCurrency} from "@web/core/currency";
import {_t} from "@web/core/l10n/translation";
import {registry} from "@web/core/registry";
import {router} from "@web/core/browser/router";
import {formatFloat} from "@web/core/utils/numbers";
import {escape} from "@web/core/utils/strings";
import {useService} from "@web/core/utils/hooks";
import {useSetupAction} from "@web/search/action_hook";
import {Layout} from "@web/search/layout";
import {standardActionServiceProps} from "@web/webclient/actions/action_service";

// the narrowest band, in % of the widest: an empty stage stays visible
const MIN_BAND_WIDTH = 2;

function toId(value) {
    return Number.parseInt(value, 10) || false;
}

// a figure that cannot be computed (no closed sale, no target, an empty
// band before): false from the server (XML-RPC sends no None)
function isEmpty(value) {
    return value === false || value === null || value === undefined;
}

/**
 * The help of a list opened from the board, shown when it is empty: what a
 * figure of 0 opens is an empty list that says so, never the views' sample
 * records.
 */
function emptyHelp(title, text) {
    return markup(
        `<p class="o_view_nocontent_empty_folder">${escape(title)}</p><p>${escape(text)}</p>`
    );
}

/**
 * The funnel board ("Lejek sprzedaży"): one band per stage of the funnel,
 * as wide as the number of opportunities it holds, and the headline figures
 * above it; the data come from sales.funnel.board.get_board_data. Each band
 * and figure opens the opportunities it counts.
 *
 * The filters live in the URL (updateActionState) and come back from it on
 * reload (the router's state, and on 18.0 the action's params too), and
 * from the breadcrumb (getLocalState, given back as props.state).
 */
export class SalesFunnelBoard extends Component {
    static template = "sales_funnel_pl.SalesFunnelBoard";
    static components = {Layout};
    static props = {...standardActionServiceProps};

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        const {action} = this.props;
        // the URL's filters when the board is what the URL opens (a reload,
        // a link): 18.0 also hands them to the action (context.params),
        // 19.0 does not, for a client action loaded by its path
        const url = router.current;
        const fromUrl =
            url.action && [action.path, action.id, action.tag].includes(url.action)
                ? url
                : {};
        const saved = {
            ...fromUrl,
            ...(action.context?.params || {}),
            ...(action.params || {}),
            ...(this.props.state || {}),
        };
        this.state = useState({
            filters: {
                reading: saved.reading === "now" ? "now" : "cohort",
                period: saved.period || "month",
                date_from: saved.date_from || "",
                date_to: saved.date_to || "",
                team_id: toId(saved.team_id),
                user_id: toId(saved.user_id),
            },
            options: {teams: [], users: [], views: {}},
            data: null,
        });
        this.periods = [
            ["month", _t("This month")],
            ["quarter", _t("This quarter")],
            ["year", _t("This year")],
            ["last_12_months", _t("Last 12 months")],
            ["custom", _t("Custom dates")],
        ];
        useSetupAction({getLocalState: () => ({...this.state.filters})});
        onWillStart(async () => {
            const [options] = await Promise.all([
                this.orm.call("sales.funnel.board", "get_board_filters", []),
                this.load(),
            ]);
            this.state.options = options;
            const userId = this.state.filters.user_id;
            if (userId && !options.users.some((user) => user.id === userId)) {
                // a salesperson the filter does not offer (a link from a
                // manager to a salesperson who sees only their own
                // opportunities): the board shows what the filter says
                this.state.filters.user_id = false;
                await this.load();
            }
        });
    }

    async load() {
        const filters = this.state.filters;
        if (filters.period === "custom" && !(filters.date_from && filters.date_to)) {
            // wait for both dates
            return;
        }
        const custom = filters.period === "custom";
        this.state.data = await this.orm.call(
            "sales.funnel.board",
            "get_board_data",
            [],
            {
                reading: filters.reading,
                period: filters.period,
                date_from: custom ? filters.date_from : null,
                date_to: custom ? filters.date_to : null,
                team_id: filters.team_id,
                user_id: filters.user_id,
            }
        );
        if (!custom) {
            // show the period's dates in the date fields
            filters.date_from = this.state.data.date_from;
            filters.date_to = this.state.data.date_to;
        }
        this.props.updateActionState?.({...filters});
    }

    async setFilter(name, value) {
        if (["team_id", "user_id"].includes(name)) {
            value = toId(value);
        }
        this.state.filters[name] = value;
        if (["date_from", "date_to"].includes(name)) {
            this.state.filters.period = "custom";
        }
        await this.load();
    }

    // ------------------------------------------------------------------
    // Display
    // ------------------------------------------------------------------

    get bands() {
        const bands = this.state.data?.bands || [];
        const widest = Math.max(1, ...bands.map((band) => band.count));
        return bands.map((band, index) => ({
            ...band,
            width: Math.max(MIN_BAND_WIDTH, (100 * band.count) / widest),
            hue: 210 - Math.round((90 * index) / Math.max(1, bands.length - 1)),
        }));
    }

    get headline() {
        return this.state.data?.headline;
    }

    money(value) {
        return formatCurrency(value, this.state.data?.currency_id);
    }

    percent(value) {
        return isEmpty(value) ? "–" : `${formatFloat(value, {digits: [16, 1]})} %`;
    }

    days(value) {
        return isEmpty(value)
            ? "–"
            : _t("%(days)s days", {days: formatFloat(value, {digits: [16, 1]})});
    }

    countText(count) {
        return _t("Opportunities: %(count)s", {count});
    }

    weightedText(amount) {
        return _t("Weighted: %(amount)s", {amount: this.money(amount)});
    }

    valueText(amount) {
        return _t("Value: %(amount)s", {amount: this.money(amount)});
    }

    wonLostText({won, lost}) {
        return _t("Won: %(won)s, lost: %(lost)s", {won, lost});
    }

    attainmentText(target) {
        // a period with months still to come: the share won is of the
        // targets of the months up to this one (the server's "due")
        if (target.due !== false && target.due !== target.value) {
            return _t("Won of the target to date (%(due)s): %(percent)s", {
                due: this.money(target.due),
                percent: this.percent(target.attainment),
            });
        }
        return _t("Won of the target: %(percent)s", {
            percent: this.percent(target.attainment),
        });
    }

    // ------------------------------------------------------------------
    // Opening the opportunities
    // ------------------------------------------------------------------

    // the lists a band or figure opens hold what it counts, nothing else:
    // no sample records (crm's views have sample="1", which shows made-up
    // opportunities in an empty view), and a help saying that nothing
    // matched
    open(name, domain) {
        const {views} = this.state.options;
        return this.actionService.doAction({
            type: "ir.actions.act_window",
            name,
            res_model: "crm.lead",
            domain,
            views: [
                [views.list || false, "list"],
                [views.kanban || false, "kanban"],
                [false, "form"],
            ],
            search_view_id: views.search ? [views.search] : false,
            context: {default_type: "opportunity"},
            useSampleModel: false,
            help: emptyHelp(
                _t("No opportunities"),
                _t(
                    "No opportunity of the board's period, sales team and salesperson counts in this figure."
                )
            ),
        });
    }

    openFigure(key) {
        const names = {
            open: _t("Open pipeline"),
            won: _t("Won in the period"),
            win_rate: _t("Won and lost in the period"),
            cycle_days: _t("Won in the period"),
            overdue: _t("Overdue next action"),
            no_action: _t("No next action"),
            stuck: _t("Stuck in their stage"),
        };
        return this.open(names[key], this.headline[key].domain);
    }

    // the target rows of "Prognoza a wykonanie" the figure sums: each
    // salesperson's target and each team's own share, adding up to it (the
    // list's total: all of them loaded, grouped by month over several months)
    openTargets() {
        const {views} = this.state.options;
        const {target} = this.headline;
        const {date_from: from, date_to: to} = this.state.data;
        const months = from.slice(0, 7) !== to.slice(0, 7);
        return this.actionService.doAction({
            type: "ir.actions.act_window",
            name: _t("Sales Target"),
            res_model: target.model,
            domain: target.domain,
            views: [[views.target_list || false, "list"]],
            search_view_id: views.target_search ? [views.target_search] : false,
            context: months ? {group_by: ["date:month"]} : {},
            limit: Math.max(80, target.count),
            useSampleModel: false,
            help: emptyHelp(
                _t("No sales targets"),
                _t(
                    "No sales target is set for the board's period, sales team and salesperson."
                )
            ),
        });
    }

    openBand(band) {
        return this.open(band.name, band.domain);
    }
}

registry.category("actions").add("sales_funnel_pl.funnel_board", SalesFunnelBoard);
