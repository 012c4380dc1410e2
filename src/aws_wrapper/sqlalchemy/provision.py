"""SQLAlchemy's test provisioning for the aws_wrapper dialects (used only by
``sqlalchemy.testing``, e.g. ``make sqla-suite``).

SQLAlchemy's testing plugin imports ``<package of the dialect>.provision``; its hooks
(``create_db``, ``drop_all_schema_objects``, ``temp_table_keyword_args``, ``upsert``, ...) are
chosen by the URL's backend name, which for our URLs is SQLAlchemy's own (``postgresql``,
``mysql``, ``mariadb``). So the stock hooks apply as they are: this module only loads them.
"""

from __future__ import annotations

import sqlalchemy.dialects.mysql.provision
import sqlalchemy.dialects.postgresql.provision  # noqa: F401
