"""Identity providers of the ``federated_auth`` plugin, by the name ``idp_name`` gives.

The ``federated_auth`` plugin signs in at an identity provider (IdP), takes the SAML assertion
it answers with, exchanges it with STS ``AssumeRoleWithSAML`` for temporary AWS credentials
and signs an IAM database token with them. The sign-in is the only part that differs between
IdPs: an IdP is registered here as a *sign-in function* per world, and ``idp_name`` picks it.
``adfs`` (the default) and ``okta`` are registered this way; the ``okta`` plugin code is
``federated_auth`` with ``idp_name=okta``.

A sign-in function takes an httpx client (``httpx.AsyncClient`` in async code, ``httpx.Client``
in blocking code; TLS, timeout and redirects are set from ``ssl_secure``, ``idp_ssl_ca`` and
``http_request_connect_timeout``) and a :class:`SignInRequest`, and returns the base64 SAML
assertion (the ``SAMLResponse`` value)::

    import aws_wrapper.federated_auth as fa
    from aws_wrapper.aws import saml

    async def corp_sso(http, request):              # for aws_wrapper.aio
        page = await http.post(f"{request.base_url}/sso/login",
                               data={"user": request.username, "pw": request.password})
        assertion = saml.saml_response(page.text)   # the SAMLResponse of an HTML form
        if assertion is None:
            raise request.refused(f"no SAML assertion (HTTP {page.status_code})")
        return assertion

    def corp_sso_sync(http, request):               # for aws_wrapper (blocking)
        ...

    fa.register_idp("corp_sso", aio=corp_sso, sync=corp_sso_sync)
    conn = await aws_wrapper.aio.connect(..., plugins="federated_auth", idp_name="corp_sso",
                                         idp_endpoint="sso.example.com", ...)

Either world may be left out (``idp_name`` then fails in that world with an error saying so),
and a function may be named as ``"module:attribute"``, imported on first use. Properties the
IdP needs beyond the common ones can be declared with it (``properties=``, see
:func:`aws_wrapper.properties.register`); read them from ``request.props``. Registering a name
twice raises :class:`aws_wrapper.ConfigurationError` unless ``replace=True``.

aws-advanced-python-wrapper 3.1.0 has no such registry: its ``idp_name`` accepts ``adfs`` only,
and Okta is only its separate ``okta`` plugin (both work here as there).
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aws_wrapper.errors import AwsAuthError, ConfigurationError, PropertyError
from aws_wrapper.plugin_registry import import_ref, one_world_only
from aws_wrapper.properties import Prop, Properties
from aws_wrapper.properties import register as register_property

SignIn = Callable[[Any, "SignInRequest"], "str | Awaitable[str]"]
"""``sign_in(http, request) -> assertion``: a coroutine function in async code."""

SignInRef = SignIn | str
"""A sign-in function, or ``"module:attribute"`` naming one."""


@dataclass(frozen=True, slots=True)
class SignInRequest:
    """What a sign-in function gets besides the HTTP client."""

    idp_name: str
    plugin_code: str
    """The plugin signing in (``federated_auth`` or ``okta``), for messages."""
    base_url: str
    """``https://host[:port]``, from ``idp_endpoint`` and ``idp_port``."""
    username: str
    password: str = field(repr=False)
    props: Properties = field(repr=False)
    """Every connection property (``props.wrapper["app_id"]``, ``props.get(PROP)``)."""

    def refused(self, detail: str) -> AwsAuthError:
        """The error to raise when the IdP refuses the sign-in (``detail``: why, never a
        password or an assertion)."""
        return AwsAuthError(
            f"{self.plugin_code}: the identity provider {self.base_url} refused user "
            f"{self.username!r}: {detail}"
        )


@dataclass(frozen=True, slots=True)
class IdpSpec:
    """A registered identity provider."""

    name: str
    aio: SignInRef | None = None
    sync: SignInRef | None = None
    doc: str = ""
    properties: tuple[Prop[Any], ...] = ()

    def sign_in(self, world: str) -> SignIn:
        """The sign-in function of ``world`` (``"aio"`` or ``"sync"``), imported now if it
        was named by path."""
        return _resolve(self, world)


_IDPS: dict[str, IdpSpec] = {}
_lock = threading.Lock()


def register_idp(
    name: str,
    *,
    aio: SignInRef | None = None,
    sync: SignInRef | None = None,
    doc: str = "",
    properties: Iterable[Prop[Any]] = (),
    replace: bool = False,
) -> IdpSpec:
    """Make an identity provider available as ``idp_name=name`` (see the module doc).
    ``aio``: its sign-in function for async code (a coroutine function); ``sync``: for
    blocking code; at least one. Returns the registered spec."""
    if not isinstance(name, str) or not name or name != name.strip():
        raise ConfigurationError(f"identity provider name {name!r}: must be a non-empty string")
    if aio is None and sync is None:
        raise ConfigurationError(
            f"identity provider '{name}': give a sign-in function for at least one world "
            "(aio=..., sync=...)"
        )
    for world, ref in (("aio", aio), ("sync", sync)):
        if isinstance(ref, str):
            module, _, attr = ref.partition(":")
            if not module or not attr:
                raise ConfigurationError(
                    f"identity provider '{name}': {world}={ref!r} is not 'module:attribute'"
                )
        elif ref is not None and not callable(ref):
            raise ConfigurationError(
                f"identity provider '{name}': {world}= must be a callable or "
                f"'module:attribute', got {type(ref).__name__}"
            )
        elif ref is not None and inspect.iscoroutinefunction(ref) != (world == "aio"):
            kind = "a coroutine function" if world == "aio" else "a plain function"
            raise ConfigurationError(
                f"identity provider '{name}': {world}= must be {kind} (async code awaits its "
                "sign-in function, blocking code calls it)"
            )
    spec = IdpSpec(name, aio, sync, doc, tuple(properties))
    with _lock:
        existing = _IDPS.get(name)
        if existing is not None and existing != spec and not replace:
            raise ConfigurationError(
                f"identity provider '{name}' is already registered; pass replace=True to replace it"
            )
        for prop in spec.properties:
            register_property(prop)
        _IDPS[name] = spec
    return spec


def unregister_idp(name: str) -> None:
    """Forget the identity provider ``name`` (nothing if it is not registered)."""
    with _lock:
        _IDPS.pop(name, None)


def find_idp(name: str) -> IdpSpec | None:
    """The identity provider registered as ``name``, or None."""
    return _IDPS.get(name)


def idp_names() -> list[str]:
    """The registered identity provider names."""
    return sorted(_IDPS)


def idp_for(name: str) -> IdpSpec:
    """The identity provider ``idp_name`` names (empty: ``adfs``), or a
    :class:`~aws_wrapper.errors.PropertyError` listing the registered ones."""
    spec = _IDPS.get(name or "adfs")
    if spec is None:
        raise PropertyError(
            f"property 'idp_name': unknown identity provider {name!r}; registered: "
            f"{', '.join(idp_names())} (register more with "
            "aws_wrapper.federated_auth.register_idp)",
            "idp_name",
        )
    return spec


def _resolve(spec: IdpSpec, world: str) -> SignIn:
    ref: SignInRef | None = getattr(spec, world)
    what = f"identity provider '{spec.name}'"
    if ref is None:
        raise one_world_only(what, "sign-in function", world)
    sign_in: SignIn = ref if not isinstance(ref, str) else import_ref(ref, what, world)
    return sign_in


register_idp(
    "adfs",
    aio="aws_wrapper._async.plugins.federated:adfs_sign_in",
    sync="aws_wrapper._sync.plugins.federated:adfs_sign_in",
    doc="AD FS: the IdP-initiated sign-on page's login form (rp_identifier names AWS).",
)
register_idp(
    "okta",
    aio="aws_wrapper._async.plugins.federated:okta_sign_in",
    sync="aws_wrapper._sync.plugins.federated:okta_sign_in",
    doc="Okta: /api/v1/authn, then the AWS app's SAML page (app_id names the app).",
)
