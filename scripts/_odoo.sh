# Shared by scripts/demo, scripts/test and scripts/crm-suite: locate the
# Odoo of one series and build the addons path.
#
# SALES_FUNNEL_PL_SERIES picks the series: 18.0 (default) or 19.0. Its
# Python is, in this order: $PYTHON, $SALES_FUNNEL_PL_PYTHON_18_0 or
# $SALES_FUNNEL_PL_PYTHON_19_0 (one variable per series), the series'
# environment ~/.cache/sales_funnel_pl/odoo-<series>, else python3. That
# Python must import that series' Odoo as `odoo` (pip-installed, or a source
# checkout on its sys.path).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SERIES="${SALES_FUNNEL_PL_SERIES:-18.0}"
case "$SERIES" in
    18.0|19.0) ;;
    *) echo "error: SALES_FUNNEL_PL_SERIES=$SERIES: this addon supports 18.0 and 19.0" >&2; exit 2 ;;
esac
CACHE_HOME="${SALES_FUNNEL_PL_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/sales_funnel_pl}"
SERIES_PYTHON_VAR="SALES_FUNNEL_PL_PYTHON_${SERIES//./_}"
if [ -z "${PYTHON:-}" ]; then
    if [ -n "${!SERIES_PYTHON_VAR:-}" ]; then
        PYTHON="${!SERIES_PYTHON_VAR}"
    elif [ -x "$CACHE_HOME/odoo-$SERIES/bin/python" ]; then
        PYTHON="$CACHE_HOME/odoo-$SERIES/bin/python"
    else
        PYTHON=python3
    fi
fi
export PATH="$(dirname "$(command -v "$PYTHON")"):$PATH"
# odoo/release.py locates the package: 19.0's `odoo` is a namespace package
if ! ODOO_INFO="$("$PYTHON" -c 'import odoo.release as r, os; print(r.series, os.path.dirname(r.__file__))' 2>/dev/null)"; then
    echo "error: $PYTHON cannot import odoo: install Odoo $SERIES first (see README.md)," \
        "or name its Python in $SERIES_PYTHON_VAR" >&2
    exit 2
fi
ODOO_SERIES="${ODOO_INFO%% *}"
ODOO_PKG="${ODOO_INFO#* }"
if [ "$ODOO_SERIES" != "$SERIES" ]; then
    echo "error: $PYTHON imports Odoo $ODOO_SERIES, not $SERIES (set $SERIES_PYTHON_VAR)" >&2
    exit 2
fi
# A source checkout keeps most addons in <checkout>/addons beside the odoo package;
# a packaged Odoo keeps them all in odoo/addons.
ADDONS_PATH="$REPO_ROOT"
if [ -d "$ODOO_PKG/../addons/crm" ]; then
    ADDONS_PATH="$ADDONS_PATH,$(cd "$ODOO_PKG/../addons" && pwd)"
fi
ADDONS_PATH="$ADDONS_PATH,$ODOO_PKG/addons"
# Demo data: 18.0 loads it unless told --without-demo=all; 19.0 loads it
# only when told --with-demo (its --without-demo takes a boolean).
if [ "$SERIES" = "18.0" ]; then
    WITHOUT_DEMO=(--without-demo=all)
    WITH_DEMO=()
else
    WITHOUT_DEMO=(--without-demo)
    WITH_DEMO=(--with-demo)
fi
odoo_bin() { "$PYTHON" -m odoo "$@"; }
