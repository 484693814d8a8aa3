# Shared by scripts/demo, scripts/test and the other scripts: the Odoo of the
# series (SALES_FUNNEL_PL_SERIES, default 18.0) in its own environment, set up
# on first use (scripts/_setup.sh), PostgreSQL answering, and the addons path.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$REPO_ROOT/scripts/_setup.sh"
SERIES="${SALES_FUNNEL_PL_SERIES:-18.0}"
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
odoo_bin() { "$PYTHON" -m odoo "$@"; }
