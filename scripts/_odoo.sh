# Shared by scripts/demo and scripts/test: locate Odoo and build the addons path.
# Odoo must be importable as `odoo` (pip-installed or a source checkout on sys.path).
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The Python of the series' environment (see scripts/setup), else python3.
SERIES="${SALES_FUNNEL_PL_SERIES:-18.0}"
CACHE_HOME="${SALES_FUNNEL_PL_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/sales_funnel_pl}"
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$CACHE_HOME/odoo-$SERIES/bin/python" ]; then
        PYTHON="$CACHE_HOME/odoo-$SERIES/bin/python"
    else
        PYTHON=python3
    fi
fi
export PATH="$(dirname "$(command -v "$PYTHON")"):$PATH"
if ! ODOO_PKG="$("$PYTHON" -c 'import odoo, os; print(os.path.dirname(odoo.__file__))' 2>/dev/null)"; then
    echo "error: python3 cannot import odoo: install Odoo 18.0 first (see README.md)" >&2
    exit 2
fi
# A source checkout keeps most addons in <checkout>/addons beside the odoo package;
# a packaged Odoo keeps them all in odoo/addons.
ADDONS_PATH="$REPO_ROOT"
if [ -d "$ODOO_PKG/../addons/crm" ]; then
    ADDONS_PATH="$ADDONS_PATH,$(cd "$ODOO_PKG/../addons" && pwd)"
fi
ADDONS_PATH="$ADDONS_PATH,$ODOO_PKG/addons"
odoo_bin() { "$PYTHON" -m odoo "$@"; }
