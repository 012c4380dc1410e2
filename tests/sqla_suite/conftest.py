"""SQLAlchemy's testing plugin for the dialect compliance suite (see tools/sqla_suite.py).

Run through ``make sqla-suite``; by hand::

    .venv/bin/python -m pytest -c tests/sqla_suite/pytest.ini --rootdir tests/sqla_suite \\
        tests/sqla_suite --dburi postgresql+aws_wrapper_psycopg://app:pw@127.0.0.1:5432/app
"""

from __future__ import annotations

import pytest

# before sqlalchemy.testing is imported
pytest.register_assert_rewrite("sqlalchemy.testing.assertions")

from sqlalchemy.testing.plugin.pytestplugin import *  # noqa: E402, F403

import aws_wrapper.sqlalchemy  # noqa: E402, F401  (registers the dialects, mariadb+ ones too)
from tests.sqla_suite.sqla_support import patch_spec_predicate  # noqa: E402

patch_spec_predicate()
