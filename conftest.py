# Copyright 2026 Sales Funnel PL contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""pytest configuration shared by the addon's tests and the checks in tests/.

A skipped test is a failed run here: Odoo skips tours when Chromium or
websocket-client is missing, and a green run without them would lie.
"""

import pytest


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and session.exitstatus == pytest.ExitCode.OK:
        reporter.write_line(
            f"FAILED: {len(skipped)} test(s) skipped; every test must run",
            red=True,
        )
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
