/** @odoo-module **/

// Selectors matching a whole text, not a part of it: ":contains('4')" also
// matches 14 and 40, ":contains('800,00')" also 1 800,00.

export function exactly(text) {
    return `:contains(/^${text}$/)`;
}

// an amount, exactly, with or without its currency's symbol ("$ 0,00",
// "0,00 zł": 19.0's pivot shows it, 18.0's does not)
export function amount(value) {
    return `:contains(/^(\\S+\\s)?${value}(\\s\\S+)?$/)`;
}

// the funnel's 17 stages in Polish, in their order
export const STAGES = [
    "Nowy Prospekt",
    "Informacje o potrzebie",
    "Firma",
    "Spotkanie",
    "Analiza możliwości",
    "Rozwój Projektu",
    "Prezentacja Projektu",
    "Ocena ze strony Prospektu",
    "Przygotowanie Projektu 2",
    "Prezentacja Projektu 2",
    "Ocena ze strony Prospektu Projektu 2",
    "Negocjacje",
    "Negocjacje 2",
    "Zamówienie",
    "Dostawa",
    "Faktura",
    "Należność",
];

// an element's text as the user reads it (white space folded)
export function text(element) {
    return element.textContent.trim().replace(/\s+/g, " ");
}

// a step opening a section of the app's top menu
export function openMenu(sectionXmlid) {
    return {
        content: `Open the menu ${sectionXmlid}`,
        trigger: `.o_menu_sections [data-menu-xmlid='${sectionXmlid}']`,
        run: "click",
    };
}
