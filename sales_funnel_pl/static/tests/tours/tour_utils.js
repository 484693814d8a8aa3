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
