"""A local AWS for tests and demos: moto's server on loopback, and fake credentials.

:class:`MotoServer` runs moto's ``ThreadedMotoServer`` in this process on a free port of
127.0.0.1: every AWS API moto emulates (Secrets Manager, STS, ...) at :attr:`MotoServer.endpoint`,
with helpers for what the authentication plugins need: a database secret
(:meth:`MotoServer.create_secret`, :meth:`MotoServer.rotate_secret`) and temporary
credentials from a SAML assertion (:meth:`MotoServer.assume_role_with_saml`).

:func:`fake_aws_environ` is the environment clients should run with (the pytest fixtures set
it for the session; :func:`fake_aws_environment` sets it for a ``with`` block): the fixed
fake credentials :data:`ACCESS_KEY_ID` / :data:`SECRET_ACCESS_KEY` (the devcluster's IAM
verifier always accepts tokens signed with them), region ``us-east-1``, no shared config or
credentials file (``AWS_CONFIG_FILE`` / ``AWS_SHARED_CREDENTIALS_FILE`` point to paths that
cannot exist, so a developer's ``~/.aws`` is never read), no instance metadata lookups, every
other ``AWS_*`` variable removed (``AWS_WRAPPER_*``, this project's, are kept), loopback
exempt from HTTP proxies and, given moto's endpoint, ``AWS_ENDPOINT_URL`` set to it: a
boto3 client made without an ``endpoint_url`` talks to moto, never to AWS.

Temporary credentials issued by moto's STS verify at the devcluster once it is told where
to look them up: ``cluster.set_iam_sts_lookup(moto.sts_lookup_url)``
(``<endpoint>/moto-api/data.json``; see :mod:`.iam_verifier`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator, Mapping, MutableMapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.request import ProxyHandler, Request, build_opener

from .iam_verifier import ACCESS_KEY_ID, SECRET_ACCESS_KEY

if TYPE_CHECKING:
    from moto.server import ThreadedMotoServer

__all__ = [
    "ACCESS_KEY_ID",
    "NO_AWS_CONFIG_FILE",
    "NO_AWS_CREDENTIALS_FILE",
    "REGION",
    "SECRET_ACCESS_KEY",
    "MotoServer",
    "fake_aws_environ",
    "fake_aws_environment",
]

#: The region of the fake environment (and of the devcluster's names).
REGION = "us-east-1"
#: Paths that cannot exist (``/dev/null`` is not a directory): no shared AWS files are read.
NO_AWS_CONFIG_FILE = "/dev/null/aws-wrapper-tests/config"
NO_AWS_CREDENTIALS_FILE = "/dev/null/aws-wrapper-tests/credentials"

_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_KEEP_PREFIX = "AWS_WRAPPER_"  # this project's own variables (AWS_WRAPPER_PG_BINDIR)


def fake_aws_environ(endpoint: str | None = None) -> dict[str, str]:
    """The AWS variables clients should run with (see the module); ``endpoint`` (moto's)
    becomes ``AWS_ENDPOINT_URL``. Apply with :func:`fake_aws_environment`, which also removes
    the other ``AWS_*`` variables."""
    env = {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": NO_AWS_CONFIG_FILE,
        "AWS_SHARED_CREDENTIALS_FILE": NO_AWS_CREDENTIALS_FILE,
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    return env


def _no_proxy(current: str | None) -> str:
    entries = [e.strip() for e in (current or "").split(",") if e.strip()]
    return ",".join([*(h for h in _LOOPBACK if h not in entries), *entries])


@contextlib.contextmanager
def fake_aws_environment(
    endpoint: str | None = None, environ: MutableMapping[str, str] | None = None
) -> Iterator[dict[str, str]]:
    """Within the block, ``os.environ`` holds :func:`fake_aws_environ` and no other
    ``AWS_*`` variable but ``AWS_WRAPPER_*``, and ``NO_PROXY`` / ``no_proxy`` exempt
    loopback; everything is restored afterwards. Yields the variables set. ``environ``
    (tests): another mapping than ``os.environ``."""
    env = os.environ if environ is None else environ
    saved = dict(env)
    try:
        for name in list(env):
            if name.startswith("AWS_") and not name.startswith(_KEEP_PREFIX):
                del env[name]
        applied = fake_aws_environ(endpoint)
        for name in ("NO_PROXY", "no_proxy"):
            applied[name] = _no_proxy(env.get(name))
        env.update(applied)
        yield applied
    finally:
        for name in [n for n in env if n not in saved]:
            del env[name]
        for name, value in saved.items():
            if env.get(name) != value:
                env[name] = value


class MotoServer:
    """moto's server in this process on ``host`` (127.0.0.1), on a free port by default.

    Use as a context manager or :meth:`start` / :meth:`stop`. ``quiet`` lowers the
    ``werkzeug`` logger (moto's request lines) to warnings. moto keeps its state in the
    process: :meth:`reset` forgets every secret, role and credential it made."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = REGION,
        quiet: bool = True,
    ) -> None:
        self._host = host
        self._port = port
        self.region = region
        self._quiet = quiet
        self._server: ThreadedMotoServer | None = None
        self._endpoint: str | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        if self._server is None:
            from moto.server import ThreadedMotoServer

            if self._quiet:
                logging.getLogger("werkzeug").setLevel(logging.WARNING)
            server = ThreadedMotoServer(ip_address=self._host, port=self._port, verbose=False)
            server.start()
            host, port = server.get_host_and_port()
            self._server = server
            self._endpoint = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        self._endpoint = None
        if server is not None:
            server.stop()
            wsgi = getattr(server, "_server", None)  # ThreadedMotoServer leaves it open
            if wsgi is not None:
                with contextlib.suppress(OSError):
                    wsgi.server_close()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:<port>``: the ``endpoint_url`` for every service."""
        if self._endpoint is None:
            raise RuntimeError("the moto server is not running")
        return self._endpoint

    @property
    def sts_lookup_url(self) -> str:
        """Where moto lists the credentials its STS issued (``/moto-api/data.json``): the URL
        for ``Cluster.set_iam_sts_lookup``."""
        return f"{self.endpoint}/moto-api/data.json"

    def reset(self) -> None:
        """Forget everything moto holds (all services)."""
        opener = build_opener(ProxyHandler({}))
        request = Request(f"{self.endpoint}/moto-api/reset", data=b"", method="POST")
        with opener.open(request, timeout=10) as response:
            response.read()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<MotoServer {self._endpoint or 'stopped'}>"

    # -- clients and helpers ---------------------------------------------------------------

    def client(self, service: str, **kwargs: Any) -> Any:
        """A boto3 client for ``service`` on this server, with the fake credentials and region
        (``kwargs`` override them)."""
        import boto3

        args: dict[str, Any] = {
            "endpoint_url": self.endpoint,
            "region_name": self.region,
            "aws_access_key_id": ACCESS_KEY_ID,
            "aws_secret_access_key": SECRET_ACCESS_KEY,
        }
        args.update(kwargs)
        make: Any = boto3.client  # any service: not one of boto3-stubs' per-service overloads
        return make(service, **args)

    def create_secret(
        self,
        name: str,
        username: str,
        password: str,
        *,
        description: str | None = None,
        **fields: Any,
    ) -> str:
        """Store ``{"username": ..., "password": ..., **fields}`` (the JSON an RDS secret
        holds; ``fields`` such as ``engine``, ``host``, ``port``, ``dbname``) as the secret
        ``name`` in Secrets Manager. Returns its ARN."""
        args: dict[str, Any] = {
            "Name": name,
            "SecretString": json.dumps({"username": username, "password": password, **fields}),
        }
        if description is not None:
            args["Description"] = description
        arn: str = self.client("secretsmanager").create_secret(**args)["ARN"]
        return arn

    def rotate_secret(
        self, secret_id: str, password: str, *, username: str | None = None, **fields: Any
    ) -> str:
        """Put a new version of the secret (becomes ``AWSCURRENT``; the previous one
        ``AWSPREVIOUS``) with ``password`` (and ``username`` / ``fields`` when given; the
        rest kept). Returns the new version id."""
        sm = self.client("secretsmanager")
        current = json.loads(sm.get_secret_value(SecretId=secret_id)["SecretString"])
        current["password"] = password
        if username is not None:
            current["username"] = username
        current.update(fields)
        version: str = sm.put_secret_value(SecretId=secret_id, SecretString=json.dumps(current))[
            "VersionId"
        ]
        return version

    def secret_value(self, secret_id: str, stage: str = "AWSCURRENT") -> dict[str, Any]:
        """The JSON of the secret's version ``stage``."""
        sm = self.client("secretsmanager")
        value = sm.get_secret_value(SecretId=secret_id, VersionStage=stage)["SecretString"]
        doc: dict[str, Any] = json.loads(value)
        return doc

    def assume_role_with_saml(
        self,
        saml_assertion: str,
        role_arn: str,
        principal_arn: str,
        *,
        duration_seconds: int | None = None,
    ) -> dict[str, Any]:
        """STS ``AssumeRoleWithSAML``: the ``Credentials`` (``AccessKeyId``,
        ``SecretAccessKey``, ``SessionToken``, ``Expiration``)."""
        args: dict[str, Any] = {
            "RoleArn": role_arn,
            "PrincipalArn": principal_arn,
            "SAMLAssertion": saml_assertion,
        }
        if duration_seconds is not None:
            args["DurationSeconds"] = duration_seconds
        credentials: dict[str, Any] = self.client("sts").assume_role_with_saml(**args)[
            "Credentials"
        ]
        return credentials

    def issued_credentials(self) -> list[Mapping[str, Any]]:
        """What moto lists at :attr:`sts_lookup_url` (``sts`` / ``AssumedRole``), secrets
        included: for tests."""
        opener = build_opener(ProxyHandler({}))
        with opener.open(self.sts_lookup_url, timeout=10) as response:
            doc = json.load(response)
        entries: list[Mapping[str, Any]] = doc.get("sts", {}).get("AssumedRole", [])
        return entries


# --------------------------------------------------------------------------- demo


def main(argv: list[str] | None = None) -> int:
    """``python -m aws_wrapper_devcluster.aws_stack``: moto, a fake AD FS and a fake Okta on
    loopback until interrupted; prints where they are and the environment to use."""
    import argparse
    import shlex
    import signal
    import threading

    from .client import Cluster
    from .fake_idp import ADFS_USER, OKTA_USER, FakeAdfs, FakeOkta, LocalCA

    parser = argparse.ArgumentParser(
        prog="python -m aws_wrapper_devcluster.aws_stack",
        description="Run moto, a fake AD FS and a fake Okta on 127.0.0.1 until interrupted.",
    )
    parser.add_argument(
        "--cluster",
        metavar="NAME",
        help="a running PostgreSQL devcluster that should accept moto's temporary keys",
    )
    args = parser.parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    ca = LocalCA()
    cluster = Cluster.attach(args.cluster) if args.cluster else None
    try:
        with (
            MotoServer() as moto,
            FakeAdfs([ADFS_USER], ca=ca) as adfs,
            FakeOkta([OKTA_USER], ca=ca) as okta,
        ):
            if cluster is not None:
                cluster.set_iam_sts_lookup(moto.sts_lookup_url)
            lines = [
                f"moto:      {moto.endpoint}  (STS lookup: {moto.sts_lookup_url})",
                f"AD FS:     {adfs.sign_in_url}",
                f"           user {ADFS_USER.username!r} password {ADFS_USER.password!r}",
                f"           role {ADFS_USER.role_arn}  SAML provider {adfs.idp_arn}",
                f"Okta:      {okta.endpoint}  app id {okta.app_id}",
                f"           user {OKTA_USER.username!r} password {OKTA_USER.password!r}",
                f"           role {OKTA_USER.role_arn}  SAML provider {okta.idp_arn}",
                f"CA (trust it for both IdPs): {ca.ca_file}",
            ]
            if cluster is not None:
                lines.append(f"devcluster {cluster.name} accepts moto's temporary keys")
            lines.append("environment:")
            env = fake_aws_environ(moto.endpoint)
            lines += [f"export {k}={shlex.quote(v)}" for k, v in env.items()]
            lines.append("running; Ctrl-C stops them")
            print("\n".join(lines), flush=True)
            stop.wait()
            if cluster is not None:
                with contextlib.suppress(Exception):
                    cluster.set_iam_sts_lookup(None)
    finally:
        ca.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
