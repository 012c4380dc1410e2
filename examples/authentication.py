"""Log in through aws_wrapper with IAM, Secrets Manager, ADFS and Okta -- all on this machine.

    .venv/bin/python examples/authentication.py              # the four methods, blocking API
    .venv/bin/python examples/authentication.py okta --async # one method, asyncio API

It starts what it needs in this process, on 127.0.0.1, and stops all of it at the end:

* a devcluster PostgreSQL (1 writer + 1 reader) that, like RDS, lets the members of
  ``rds_iam`` in only with a valid IAM authentication token (signature, user, host, port,
  region and expiry are checked);
* moto, standing in for AWS Secrets Manager and STS;
* a fake AD FS and a fake Okta, over HTTPS with a certificate authority made for the run;
* a fake AWS environment: fixed fake credentials, moto as the AWS endpoint, ``~/.aws`` never
  read. Nothing reaches the internet and no real AWS credential is needed or read.

Then, for each method, it creates the database user the method logs in as, connects through
``aws_wrapper`` (``aws_wrapper.aio`` with ``--async``) and prints what ``SELECT current_user``
answers. Each method connects twice: the second connect finds the token, the secret or the
temporary AWS credentials in the wrapper's cache. See docs/authentication.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

import aws_wrapper
import aws_wrapper.aio
from aws_wrapper_devcluster import Cluster
from aws_wrapper_devcluster.aws_stack import MotoServer, fake_aws_environment
from aws_wrapper_devcluster.fake_idp import ADFS_USER, OKTA_USER, FakeAdfs, FakeOkta, LocalCA

METHODS = ("iam", "secrets", "adfs", "okta")

# The database users each method logs in as.
IAM_DB_USER = "iam_app"  # a member of rds_iam: IAM tokens only
SECRET_DB_USER = "secret_app"  # an ordinary user whose password is kept in Secrets Manager
ADFS_DB_USER = "adfs_app"  # members of rds_iam too: the token is signed with the
OKTA_DB_USER = "okta_app"  # temporary credentials STS gives for the SAML assertion

EXPECTED_USER = {
    "iam": IAM_DB_USER,
    "secrets": SECRET_DB_USER,
    "adfs": ADFS_DB_USER,
    "okta": OKTA_DB_USER,
}


def say(message: str) -> None:
    print(f"[auth] {message}", flush=True)


@dataclass
class LocalStack:
    """Everything the example started."""

    cluster: Cluster
    moto: MotoServer
    adfs: FakeAdfs
    okta: FakeOkta
    ca: LocalCA

    def database(self) -> dict[str, Any]:
        """Where to connect: the cluster (writer) endpoint and the database, with neither user
        nor password -- the authentication plugins supply them."""
        params = self.cluster.conn_params()
        del params["user"], params["password"]
        return params


def start_local_stack(stack: ExitStack) -> LocalStack:
    """Start the cluster, moto and the identity providers; ``stack`` stops them."""
    say("starting a local PostgreSQL devcluster (1 writer + 1 reader) ...")
    cluster = Cluster.up(
        "postgresql",
        readers=1,
        name=f"authex{os.getpid()}",  # unique: several runs may share the machine
        log=lambda line: say(f"  {line}"),
        tie_to_this_process=True,  # stops by itself should this process die
    )
    stack.callback(cluster.down)

    say("starting moto (Secrets Manager, STS) and the fake AD FS and Okta ...")
    moto = stack.enter_context(MotoServer())
    # From here on, os.environ holds the fake AWS environment: AWS_ACCESS_KEY_ID /
    # AWS_SECRET_ACCESS_KEY (the fake pair the cluster accepts), AWS_REGION=us-east-1,
    # AWS_ENDPOINT_URL=moto. Everything set in os.environ inside is undone at the end.
    stack.enter_context(fake_aws_environment(moto.endpoint))
    ca = LocalCA()
    stack.callback(ca.cleanup)
    adfs = stack.enter_context(FakeAdfs([ADFS_USER], ca=ca))
    okta = stack.enter_context(FakeOkta([OKTA_USER], ca=ca))
    # Tokens signed with the temporary credentials moto's STS hands out must verify at the
    # cluster: tell its IAM verifier where moto lists them.
    cluster.set_iam_sts_lookup(moto.sts_lookup_url)
    say(f"  moto {moto.endpoint}, AD FS {adfs.base_url}, Okta {okta.base_url}")
    return LocalStack(cluster, moto, adfs, okta, ca)


# -- the connection parameters of each method --------------------------------------------------


def iam_params(local: LocalStack) -> dict[str, Any]:
    """``iam``: the password is an IAM token the wrapper signs with the AWS credentials of the
    standard chain (here AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY). With ``failover_v2``, the
    topology monitor's own connections log in with tokens too."""
    local.cluster.create_iam_user(IAM_DB_USER)  # CREATE ROLE ... LOGIN; GRANT rds_iam TO ...
    return {**local.database(), "user": IAM_DB_USER, "plugins": "iam,failover_v2"}


def secrets_params(local: LocalStack) -> dict[str, Any]:
    """``aws_secrets_manager``: user name and password come from a secret (its JSON
    ``username`` and ``password``)."""
    password = secrets.token_urlsafe(18)
    admin = local.cluster.direct_params(local.cluster.writer, admin=True)
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(SECRET_DB_USER), sql.Literal(password)
            )
        )
    arn = local.moto.create_secret(
        "example/app-db", SECRET_DB_USER, password, engine="postgres", port=local.cluster.port
    )
    say(f"  secret {arn}")
    return {**local.database(), "plugins": "aws_secrets_manager", "secrets_manager_secret_id": arn}


def adfs_params(local: LocalStack) -> dict[str, Any]:
    """``federated_auth``: sign in at AD FS, trade its SAML assertion for temporary AWS
    credentials (STS AssumeRoleWithSAML), sign an IAM token for ``db_user`` with them."""
    local.cluster.create_iam_user(ADFS_DB_USER)
    return {
        **local.database(),
        "plugins": "federated_auth",
        "db_user": ADFS_DB_USER,
        "idp_endpoint": f"{local.adfs.host}:{local.adfs.port}",
        "idp_username": ADFS_USER.username,
        "idp_password": ADFS_USER.password,
        "iam_role_arn": ADFS_USER.role_arn,
        "iam_idp_arn": local.adfs.idp_arn,
        "idp_ssl_ca": str(local.ca.ca_file),  # the IdP's certificate is verified against it
    }


def okta_params(local: LocalStack) -> dict[str, Any]:
    """``okta``: the same with Okta (session token, then the AWS app's SAML assertion)."""
    local.cluster.create_iam_user(OKTA_DB_USER)
    return {
        **local.database(),
        "plugins": "okta",
        "db_user": OKTA_DB_USER,
        "idp_endpoint": local.okta.endpoint,
        "app_id": local.okta.app_id,
        "idp_username": OKTA_USER.username,
        "idp_password": OKTA_USER.password,
        "iam_role_arn": OKTA_USER.role_arn,
        "iam_idp_arn": local.okta.idp_arn,
        "idp_ssl_ca": str(local.ca.ca_file),
    }


PARAMS: dict[str, Callable[[LocalStack], dict[str, Any]]] = {
    "iam": iam_params,
    "secrets": secrets_params,
    "adfs": adfs_params,
    "okta": okta_params,
}


# -- connecting ----------------------------------------------------------------------------------


def current_user_sync(params: dict[str, Any]) -> str:
    with aws_wrapper.connect(**params) as conn:
        row = conn.execute("SELECT current_user").fetchone()
        assert row is not None
    return str(row[0])


async def current_user_async(params: dict[str, Any]) -> str:
    async with await aws_wrapper.aio.connect(**params) as conn:
        cur = await conn.execute("SELECT current_user")
        row = await cur.fetchone()
    return str(row[0])


def report(method: str, world: str, user: str, first_ms: float, second_ms: float) -> bool:
    expected = EXPECTED_USER[method]
    verdict = "ok" if user == expected else f"UNEXPECTED (wanted {expected})"
    say(f"{method} ({world}): SELECT current_user -> {user}  {verdict}")
    say(f"  first connect {first_ms:.0f} ms, second {second_ms:.0f} ms (cached credentials)")
    return user == expected


def run_sync(local: LocalStack, methods: list[str]) -> bool:
    ok = True
    try:
        for method in methods:
            params = PARAMS[method](local)
            timings: list[float] = []
            for _ in range(2):
                start = time.perf_counter()
                user = current_user_sync(params)
                timings.append(1000 * (time.perf_counter() - start))
            ok = report(method, "sync", user, *timings) and ok
    finally:
        aws_wrapper.release_resources()  # the topology monitor failover_v2 started
    return ok


async def run_async(local: LocalStack, methods: list[str]) -> bool:
    ok = True
    try:
        for method in methods:
            params = PARAMS[method](local)  # set-up: blocking, before any connection is open
            timings: list[float] = []
            for _ in range(2):
                start = time.perf_counter()
                user = await current_user_async(params)
                timings.append(1000 * (time.perf_counter() - start))
            ok = report(method, "async", user, *timings) and ok
    finally:
        await aws_wrapper.aio.release_resources()
    return ok


def connect_all(local: LocalStack, methods: list[str], *, use_async: bool) -> bool:
    if use_async:
        return asyncio.run(run_async(local, methods))
    return run_sync(local, methods)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Connect through aws_wrapper with each authentication plugin, against a "
        "local PostgreSQL devcluster, moto and fake AD FS / Okta servers it starts itself.",
    )
    parser.add_argument(
        "method",
        nargs="?",
        default="all",
        choices=(*METHODS, "all"),
        help="iam (plugin iam), secrets (aws_secrets_manager), adfs (federated_auth), "
        "okta (okta), or all (default)",
    )
    parser.add_argument(
        "--async",
        dest="use_async",
        action="store_true",
        help="connect with aws_wrapper.aio (asyncio) instead of the blocking aws_wrapper",
    )
    args = parser.parse_args(argv)
    methods = list(METHODS) if args.method == "all" else [args.method]
    with ExitStack() as stack:
        local = start_local_stack(stack)
        ok = connect_all(local, methods, use_async=args.use_async)
        say("stopping everything")
    say("done" if ok else "FAILED: a connection logged in as the wrong user")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
