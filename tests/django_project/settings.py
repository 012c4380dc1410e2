"""Settings of the Django test project run by tests/test_django.py (in a subprocess).

The database comes from the environment that test sets:

- ``AWS_WRAPPER_DJANGO_ENGINE``: ``aws_wrapper.django.postgresql`` or ``aws_wrapper.django.mysql``
- ``AWS_WRAPPER_DJANGO_CONN``: JSON of the devcluster's ``conn_params()`` (host, port, user,
  password of the cluster endpoint)
- ``AWS_WRAPPER_DJANGO_DB``: an existing database the user owns; the test runner keeps it
  (``--keepdb``) since the devcluster's application user may not create databases
- ``AWS_WRAPPER_DJANGO_DEVCLUSTER``: the devcluster's state directory (the tests fail it over)
- ``DEVCLUSTER_HOSTS_FILE``: the devcluster's hosts file; the settings opt in explicitly
  (``install_resolver_from_env()``), the wrapper itself reads no variable
- ``AWS_WRAPPER_DJANGO_IAM_USER`` (PostgreSQL): a member of ``rds_iam``; adds the alias
  ``iam``, which logs in with an IAM token signed with ``AWS_ACCESS_KEY_ID`` / ...
"""

from __future__ import annotations

import json
import os
from typing import Any

if os.environ.get("DEVCLUSTER_HOSTS_FILE"):
    from aws_wrapper_devcluster import install_resolver_from_env

    # the devcluster's RDS-shaped names resolve for the wrapper in this process
    install_resolver_from_env()

ENGINE = os.environ.get("AWS_WRAPPER_DJANGO_ENGINE", "aws_wrapper.django.postgresql")
CONN: dict[str, Any] = json.loads(os.environ.get("AWS_WRAPPER_DJANGO_CONN", "{}"))
NAME = os.environ.get("AWS_WRAPPER_DJANGO_DB", "djangotest")
POSTGRESQL = ENGINE.endswith("postgresql")

# not the servers' defaults, so the tests can see them kept across a failover
ISOLATION_LEVEL: object
if POSTGRESQL:
    from psycopg import IsolationLevel

    ISOLATION_LEVEL = IsolationLevel.REPEATABLE_READ
else:
    ISOLATION_LEVEL = "read committed"


def database(**options: Any) -> dict[str, Any]:
    return {
        "ENGINE": ENGINE,
        "HOST": CONN.get("host", ""),
        "PORT": str(CONN.get("port", "")),
        "USER": CONN.get("user", ""),
        "PASSWORD": CONN.get("password", ""),
        "NAME": NAME,
        "OPTIONS": {
            "plugins": "read_write_splitting,failover_v2",
            "failover_timeout_sec": 30,
            "isolation_level": ISOLATION_LEVEL,
            **options,
        },
        "TEST": {"NAME": NAME},
    }


DATABASES = {
    "default": database(),
    # the router pattern: an alias whose connections are read-only, on a reader
    "replica": {
        **database(read_only=True, failover_mode="reader_or_writer"),
        "TEST": {"NAME": NAME, "MIRROR": "default"},
    },
}

IAM_USER = os.environ.get("AWS_WRAPPER_DJANGO_IAM_USER")
if IAM_USER:
    # IAM database authentication: the iam plugin in OPTIONS, no PASSWORD
    DATABASES["iam"] = {
        **database(plugins="iam,failover_v2"),
        "USER": IAM_USER,
        "PASSWORD": "",
        "TEST": {"NAME": NAME, "MIRROR": "default"},
    }

INSTALLED_APPS = ["tests.django_project.djapp"]
SECRET_KEY = "django-test-project-not-secret"
USE_TZ = True
TIME_ZONE = "UTC"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
