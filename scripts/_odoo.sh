# Shared by scripts/demo, scripts/test, scripts/crm-suite and the other scripts:
# the Odoo of one series in its own environment, set up on first use
# (scripts/_setup.sh), PostgreSQL answering, and the addons path.
#
# SALES_FUNNEL_PL_SERIES picks the series: 18.0 (default) or 19.0.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$REPO_ROOT/scripts/_setup.sh"
SERIES="${SALES_FUNNEL_PL_SERIES:-18.0}"
case "$SERIES" in
    18.0|19.0) ;;
    *) echo "error: SALES_FUNNEL_PL_SERIES=$SERIES: this addon supports 18.0 and 19.0" >&2; exit 2 ;;
esac
setup_series "$SERIES" || exit 2
PYTHON="$(series_python "$SERIES")"
ensure_postgres || exit 2
export PATH="$(dirname "$PYTHON"):$PATH"
# odoo/release.py locates the package: 19.0's `odoo` is a namespace package
ODOO_PKG="$("$PYTHON" -c 'import odoo.release as r, os; print(os.path.dirname(r.__file__))')"
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
