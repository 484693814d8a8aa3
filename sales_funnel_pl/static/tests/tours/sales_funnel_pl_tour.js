/** @odoo-module **/

import {registry} from "@web/core/registry";
import {STAGES} from "@sales_funnel_pl/../tests/tours/tour_utils";

registry.category("web_tour.tours").add("sales_funnel_pl_pipeline", {
    url: "/odoo/crm",
    steps: () => [
        {
            content: "The pipeline shows the 17 funnel stages in Polish, in order",
            trigger:
                ".o_opportunity_kanban .o_kanban_group:nth-child(17) .o_column_title",
            run() {
                const titles = [
                    ...document.querySelectorAll(
                        ".o_opportunity_kanban .o_kanban_group .o_column_title"
                    ),
                ].map((title) => title.textContent.trim());
                const expected = STAGES.join(" | ");
                if (titles.join(" | ") !== expected) {
                    throw new Error(
                        `Columns: ${titles.join(" | ")}; expected: ${expected}`
                    );
                }
            },
        },
        {
            content: "All 17 columns are open (none folded), each with its total",
            trigger:
                ".o_opportunity_kanban .o_kanban_group:nth-child(17) .o_kanban_counter",
            run() {
                const groups = [
                    ...document.querySelectorAll(
                        ".o_opportunity_kanban .o_kanban_group"
                    ),
                ];
                const folded = groups
                    .filter((group) => group.classList.contains("o_column_folded"))
                    .map((group) =>
                        group.querySelector(".o_column_title").textContent.trim()
                    );
                const totals = groups.filter((group) =>
                    group.querySelector(".o_kanban_counter .o_animated_number")
                );
                if (groups.length !== 17 || folded.length || totals.length !== 17) {
                    throw new Error(
                        `${groups.length} columns, folded: ${folded.join(", ")}; ` +
                            `${totals.length} totals`
                    );
                }
            },
        },
        {
            content: "Point at the title of Informacje o potrzebie",
            trigger:
                ".o_kanban_group .o_column_title:contains('Informacje o potrzebie')",
            run: "hover",
        },
        {
            content: "Its tooltip is Polish: the heading and the method's description",
            trigger:
                ".o-tooltip:contains('Opis etapu'):contains('Dane niezbędne do rozpoznania Prospektu, jako organizacji, której')",
            run() {
                if (this.anchor.textContent.includes("Description")) {
                    throw new Error(
                        `English in the tooltip: ${this.anchor.textContent}`
                    );
                }
            },
        },
        {
            content: "Drag the opportunity from Nowy Prospekt to Spotkanie",
            trigger:
                ".o_kanban_group:has(.o_column_title:contains('Nowy Prospekt')) .o_kanban_record:contains('Wdrożenie ERP')",
            run: "drag_and_drop (.o_opportunity_kanban .o_kanban_group:has(.o_column_title:contains('Spotkanie')))",
        },
        {
            content: "The opportunity is in Spotkanie",
            trigger:
                ".o_kanban_group:has(.o_column_title:contains('Spotkanie')) .o_kanban_record:contains('Wdrożenie ERP')",
            run: "click",
        },
        {
            content: "Its probability is the stage's 3%",
            trigger: ".o_form_view .o_field_widget[name=probability] input:value(3)",
        },
        {
            content:
                "No predictive-scoring estimate beside it, nor a button adopting it",
            trigger:
                ".o_form_view:has(.o_field_widget[name=probability]):not(:has([name=action_set_automated_probability])):not(:has(.o_field_widget[name=automated_probability])):not(:has(.o_crm_pls_tooltip_button))",
        },
        {
            content: "The form shows the stage Spotkanie",
            trigger:
                ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Spotkanie')",
        },
        {
            content: "Plan the next action",
            trigger: ".o_form_view .o_field_widget[name=next_action] input",
            run: "edit Wysłać ofertę",
        },
        {
            content: "Save",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_form_view .o_form_button_save:not(:visible)",
        },
        {
            // only the server gives it a date: "28.11.2026" (18.0), "28 lis"
            // (19.0 leaves the current year out); in its input, or as text
            // where the form shows the field read-only
            content: "Saved: the next action got today's date",
            trigger:
                ".o_form_view .o_field_widget[name=next_action_date] input:value(/\\d/), " +
                ".o_form_view .o_field_widget[name=next_action_date]:not(:has(input)):contains(/\\d/)",
        },
        {
            content: "Open the stage history tab",
            trigger: ".o_form_view .o_notebook a.nav-link:contains('Historia etapów')",
            run: "click",
        },
        {
            content: "The history shows the move from Nowy Prospekt to Spotkanie",
            trigger:
                ".o_field_widget[name=stage_history_ids] .o_data_row:contains('Spotkanie'):contains('Zmiana etapu')",
        },
        {
            content: "and the creation in Nowy Prospekt",
            trigger:
                ".o_field_widget[name=stage_history_ids] .o_data_row:contains('Nowy Prospekt'):contains('Utworzona')",
        },
    ],
});
