"""SQLAlchemy's dialect compliance suite, as third-party dialects run it."""

from sqlalchemy.testing.suite import *  # noqa: F403
from sqlalchemy.testing.suite.test_results import ServerSideCursorsTest

from tests.sqla_suite.sqla_support import patch_is_server_side

patch_is_server_side(ServerSideCursorsTest)
