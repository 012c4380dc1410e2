"""Settings of the example site, as a deployment would write them: the database is an Aurora
cluster named by environment variables (``manage.py --devcluster`` sets them for a local
devcluster).

=================  ===================================================================
``DB_ENGINE``      ``postgresql`` (default) or ``mysql``
``DB_HOST``        the cluster (writer) endpoint
``DB_PORT``        default 5432 / 3306
``DB_NAME``        default ``app``
``DB_USER``        default ``app``
``DB_PASSWORD``    the password; unset with ``DB_IAM=1``
``DB_IAM``         ``1``: IAM database authentication (the ``iam`` plugin signs a token
                   with the process' AWS credentials)
=================  ===================================================================
"""

from __future__ import annotations

import os
from typing import Any

ENGINES = {"postgresql": "aws_wrapper.django.postgresql", "mysql": "aws_wrapper.django.mysql"}
ENGINE = ENGINES[os.environ.get("DB_ENGINE", "postgresql")]
IAM = os.environ.get("DB_IAM") == "1"

OPTIONS: dict[str, Any] = {
    # the wrapper's properties; anything else goes to the driver (psycopg / mysql.connector)
    "plugins": ("iam," if IAM else "") + "read_write_splitting,failover_v2",
    "failover_timeout_sec": 30,
}


def database(**options: Any) -> dict[str, Any]:
    return {
        "ENGINE": ENGINE,
        "HOST": os.environ.get("DB_HOST", "localhost"),
        "PORT": os.environ.get("DB_PORT", ""),
        "NAME": os.environ.get("DB_NAME", "app"),
        "USER": os.environ.get("DB_USER", "app"),
        "PASSWORD": "" if IAM else os.environ.get("DB_PASSWORD", ""),
        # one wrapper connection per thread, kept: failover moves it, health checks at
        # request start
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {**OPTIONS, **options},
    }


DATABASES = {
    "default": database(),
    # read-only connections, on a reader (for .using("replica") or ReadReplicaRouter)
    "replica": {
        **database(read_only=True, failover_mode="reader_or_writer"),
        "TEST": {"MIRROR": "default"},
    },
}

INSTALLED_APPS = ["notes"]
SECRET_KEY = "example-site-not-secret"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"aws_wrapper": {"handlers": ["console"], "level": "WARNING"}},
}
