"""The PostgreSQL backend of the devcluster: one writer and hot standbys, Aurora's metadata.

Each instance is a :class:`~aws_wrapper_devcluster.servers.PostgresServer` (run as the
unprivileged server OS user) listening on ``127.0.0.1:server_port``:

* the writer is initialized with ``initdb`` (``wal_log_hints`` and ``full_page_writes`` on, so
  any instance can be rewound later), gets the app and admin users, a replication role
  (``replicator``) and the Aurora metadata functions, then every reader is cloned from it with
  ``pg_basebackup`` and started as a hot standby (``standby.signal``, ``primary_conninfo``
  pointing at the writer, ``recovery_target_timeline = 'latest'``, ``hot_standby_feedback``).
  Readers are read-only because they are standbys, like Aurora replicas.
* Failover is PostgreSQL's own: ``pg_promote()``, ``primary_conninfo`` changed with ``ALTER
  SYSTEM`` + reload for the other readers (a reader that received WAL the new writer never had
  is rewound), ``pg_rewind`` (or, failing that, a fresh ``pg_basebackup``) for the old writer.

Aurora PostgreSQL metadata
--------------------------
Functions with Aurora's names and columns are created in ``pg_catalog`` of ``template1``,
``postgres`` and ``app`` on the writer before the readers are cloned, so every instance has
them. They are ``SECURITY DEFINER`` functions owned by the superuser (``SET search_path =
pg_catalog, pg_temp``) that read the instance's own metadata file, ``aurora_metadata.json``
in its data directory, with ``pg_read_file`` on every call: :meth:`PgBackend.publish_metadata`
replaces that file atomically, which changes the answers of a running writer or hot standby
at once. The file holds :meth:`InstanceMetadata.to_json`; optional keys (from
``InstanceMetadata.extra``) feed the less common functions:

* ``aurora_replica_status()``: the ``topology`` rows (``server_id, session_id, cpu,
  replica_lag_in_msec``), ``last_update_timestamp = now() - age_s``;
* ``aurora_db_instance_identifier()``: ``instance_id``; ``aurora_version()``:
  ``engine_version``;
* ``aurora_limitless_router_endpoints()``: ``limitless_router_endpoints`` rows
  (``router_endpoint, load``), none by default;
* ``get_blue_green_fast_switchover_metadata(text)``: ``blue_green`` rows (``version, endpoint,
  port, role, status``), none by default;
* ``aurora_global_db_instance_status()``: ``global_db_instance_status`` rows (a null LSN
  column: this instance's WAL position), else one row per
  topology row (``aws_region`` from the key of that name, default ``us-east-1``; LSN columns
  are this instance's WAL position);
* ``aurora_global_db_status()``: ``global_db_status`` rows, else the one row of a primary
  region (lags ``-1`` and ``last_lag_calculation_time`` 1970-01-01, as Aurora shows it).

Clients cannot read the file or the internal ``aurora_devcluster_metadata()`` themselves.

``rds.extensions`` is set in ``postgresql.conf`` (it includes ``aurora_stat_utils``). Without
a server module defining it, PostgreSQL keeps it as a *placeholder* setting: ``SHOW`` and
``current_setting()`` see it but ``pg_settings`` hides placeholders, so the ``pg_settings``
system view is replaced by one that adds the ``rds.extensions`` row.

IAM database authentication
---------------------------
The role ``rds_iam`` exists, as on Aurora. Its members log in over TCP only with an RDS IAM
auth token: :meth:`_PgInstance.write_iam_hba` puts a rule first in the instance's
``pg_hba.conf`` that sends them to the cluster's IAM verifier (PostgreSQL ``ldap``
authentication with this instance's id in the DN, see
:mod:`aws_wrapper_devcluster.iam_verifier`), or rejects them when the backend has no verifier
(``iam_ldap=None``). It runs before every start of a server, since clones and rewinds copy
another instance's file. Every other role keeps password authentication.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aws_wrapper_devcluster.iam_verifier import IAM_ROLE, hba_rules
from aws_wrapper_devcluster.model import (
    WRITER_SESSION_ID,
    Engine,
    InstanceMetadata,
    InstanceSpec,
    Role,
    TopologyRow,
)
from aws_wrapper_devcluster.servers import (
    ADMIN_PASSWORD,
    ADMIN_USER,
    APP_DATABASE,
    APP_PASSWORD,
    APP_USER,
    LogFn,
    PostgresServer,
    ServerError,
    _server_account,
)

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "METADATA_FILE",
    "RDS_EXTENSIONS",
    "REPLICATION_PASSWORD",
    "REPLICATION_USER",
    "PgBackend",
]

#: The per-instance metadata file, relative to the data directory.
METADATA_FILE = "aurora_metadata.json"
#: Role the standbys stream WAL with.
REPLICATION_USER = "replicator"
REPLICATION_PASSWORD = "replicator-secret"
#: ``rds.extensions`` of an Aurora PostgreSQL 15 cluster (abridged); the dialects look for
#: ``aurora_stat_utils`` (Aurora) and ``rds_tools`` (RDS) in it.
RDS_EXTENSIONS = (
    "address_standardizer, address_standardizer_data_us, amcheck, apg_plan_mgmt,"
    " aurora_stat_utils, aws_commons, aws_lambda, aws_ml, aws_s3, bloom, btree_gin, btree_gist,"
    " citext, cube, dblink, dict_int, dict_xsyn, earthdistance, fuzzystrmatch, hll, hstore,"
    " hstore_plperl, intagg, intarray, ip4r, isn, jsonb_plperl, log_fdw, ltree, orafce,"
    " pg_bigm, pg_buffercache, pg_cron, pg_hint_plan, pg_partman, pg_proctab, pg_repack,"
    " pg_similarity, pg_stat_statements, pg_trgm, pg_visibility, pgaudit, pgcrypto,"
    " pglogical, pgrouting, pgrowlocks, pgstattuple, pgtap, plperl, plpgsql, plprofiler,"
    " pltcl, plv8, postgis, postgis_raster, postgis_tiger_geocoder, postgis_topology,"
    " postgres_fdw, prefix, rdkit, rds_tools, refint, sslinfo, tablefunc, tds_fdw,"
    " tsm_system_rows, tsm_system_time, unaccent, uuid-ossp"
)

_REPLICATION_CONF = f"""
# --- aws_wrapper devcluster: streaming replication, failover, Aurora emulation (pg.py) ---
full_page_writes = on              # pg_rewind refuses a source without it
wal_log_hints = on                 # pg_rewind needs it (or data checksums)
synchronous_commit = on            # a commit is in the WAL (sent to standbys) when it returns
wal_keep_size = '256MB'            # standbys and rewound instances find the WAL they need
hot_standby = on
hot_standby_feedback = on
recovery_target_timeline = 'latest'
wal_retrieve_retry_interval = '1s'  # idle reconnect attempts (a reload retries at once)
wal_receiver_status_interval = '1s'
rds.extensions = '{RDS_EXTENSIONS}'
"""

# Runs as the superuser in every database the functions must exist in (template1 first,
# so databases created later have them too). The functions read the metadata file with
# pg_read_file (superuser only), hence SECURITY DEFINER with a pinned search_path.
_DEFINER = "LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp"
_METADATA_SQL = f"""
CREATE OR REPLACE FUNCTION pg_catalog.aurora_devcluster_metadata() RETURNS jsonb {_DEFINER}
AS $fn$
  SELECT COALESCE(pg_read_file('{METADATA_FILE}', 0, 16777216, true), '{{}}')::jsonb
$fn$;
REVOKE ALL ON FUNCTION pg_catalog.aurora_devcluster_metadata() FROM PUBLIC;
COMMENT ON FUNCTION pg_catalog.aurora_devcluster_metadata() IS
  'aws_wrapper devcluster: this instance''s published Aurora metadata ({METADATA_FILE})';

CREATE OR REPLACE FUNCTION pg_catalog.aurora_replica_status(
  OUT server_id text, OUT session_id text, OUT cpu double precision,
  OUT replica_lag_in_msec double precision,
  OUT last_update_timestamp timestamp with time zone)
RETURNS SETOF record {_DEFINER} AS $fn$
  SELECT r.server_id, r.session_id, r.cpu, r.replica_lag_in_msec,
         now() - make_interval(secs => COALESCE(r.age_s, 0))
  FROM jsonb_to_recordset(COALESCE(aurora_devcluster_metadata() -> 'topology', '[]'))
       AS r(server_id text, session_id text, cpu double precision,
            replica_lag_in_msec double precision, age_s double precision)
$fn$;

CREATE OR REPLACE FUNCTION pg_catalog.aurora_db_instance_identifier() RETURNS text {_DEFINER}
AS $fn$ SELECT aurora_devcluster_metadata() ->> 'instance_id' $fn$;

CREATE OR REPLACE FUNCTION pg_catalog.aurora_version() RETURNS text {_DEFINER}
AS $fn$ SELECT aurora_devcluster_metadata() ->> 'engine_version' $fn$;

CREATE OR REPLACE FUNCTION pg_catalog.aurora_limitless_router_endpoints(
  OUT router_endpoint text, OUT load double precision)
RETURNS SETOF record {_DEFINER} AS $fn$
  SELECT e.router_endpoint, e.load
  FROM jsonb_to_recordset(
         COALESCE(aurora_devcluster_metadata() -> 'limitless_router_endpoints', '[]'))
       AS e(router_endpoint text, load double precision)
$fn$;

CREATE OR REPLACE FUNCTION pg_catalog.get_blue_green_fast_switchover_metadata(
  client_version text,
  OUT version text, OUT endpoint text, OUT port integer, OUT role text, OUT status text)
RETURNS SETOF record {_DEFINER} AS $fn$
  SELECT b.version, b.endpoint, b.port, b.role, b.status
  FROM jsonb_to_recordset(COALESCE(aurora_devcluster_metadata() -> 'blue_green', '[]'))
       AS b(version text, endpoint text, port integer, role text, status text)
$fn$;

CREATE OR REPLACE FUNCTION pg_catalog.aurora_devcluster_lsn() RETURNS bigint {_DEFINER}
AS $fn$
  SELECT (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
               ELSE pg_current_wal_lsn() END - '0/0'::pg_lsn)::bigint
$fn$;
REVOKE ALL ON FUNCTION pg_catalog.aurora_devcluster_lsn() FROM PUBLIC;

CREATE OR REPLACE FUNCTION pg_catalog.aurora_global_db_instance_status(
  OUT server_id text, OUT session_id text, OUT aws_region text, OUT durable_lsn bigint,
  OUT highest_lsn_rcvd bigint, OUT feedback_epoch integer, OUT feedback_xmin bigint,
  OUT oldest_read_view_lsn bigint, OUT visibility_lag_in_msec double precision)
RETURNS SETOF record {_DEFINER} AS $fn$
  WITH m AS (SELECT aurora_devcluster_metadata() AS j)
  SELECT g.server_id, g.session_id, g.aws_region,
         COALESCE(g.durable_lsn, aurora_devcluster_lsn()),
         COALESCE(g.highest_lsn_rcvd, aurora_devcluster_lsn()),
         g.feedback_epoch, g.feedback_xmin,
         COALESCE(g.oldest_read_view_lsn, aurora_devcluster_lsn()), g.visibility_lag_in_msec
  FROM m, jsonb_to_recordset(m.j -> 'global_db_instance_status')
       AS g(server_id text, session_id text, aws_region text, durable_lsn bigint,
            highest_lsn_rcvd bigint, feedback_epoch integer, feedback_xmin bigint,
            oldest_read_view_lsn bigint, visibility_lag_in_msec double precision)
  WHERE m.j ? 'global_db_instance_status'
  UNION ALL
  SELECT t.server_id, t.session_id, COALESCE(m.j ->> 'aws_region', 'us-east-1'),
         aurora_devcluster_lsn(), aurora_devcluster_lsn(), 0, NULL::bigint,
         aurora_devcluster_lsn(), t.replica_lag_in_msec
  FROM m, jsonb_to_recordset(COALESCE(m.j -> 'topology', '[]'))
       AS t(server_id text, session_id text, replica_lag_in_msec double precision)
  WHERE NOT m.j ? 'global_db_instance_status'
$fn$;

CREATE OR REPLACE FUNCTION pg_catalog.aurora_global_db_status(
  OUT aws_region text, OUT highest_lsn_written bigint,
  OUT durability_lag_in_msec double precision, OUT rpo_lag_in_msec double precision,
  OUT last_lag_calculation_time timestamp with time zone, OUT feedback_epoch integer,
  OUT feedback_xmin bigint)
RETURNS SETOF record {_DEFINER} AS $fn$
  WITH m AS (SELECT aurora_devcluster_metadata() AS j)
  SELECT s.aws_region, COALESCE(s.highest_lsn_written, aurora_devcluster_lsn()),
         s.durability_lag_in_msec, s.rpo_lag_in_msec,
         COALESCE(s.last_lag_calculation_time, now()), s.feedback_epoch, s.feedback_xmin
  FROM m, jsonb_to_recordset(m.j -> 'global_db_status')
       AS s(aws_region text, highest_lsn_written bigint, durability_lag_in_msec double precision,
            rpo_lag_in_msec double precision, last_lag_calculation_time timestamptz,
            feedback_epoch integer, feedback_xmin bigint)
  WHERE m.j ? 'global_db_status'
  UNION ALL
  SELECT COALESCE(m.j ->> 'aws_region', 'us-east-1'), aurora_devcluster_lsn(), -1, -1,
         'epoch'::timestamptz, 0, NULL::bigint
  FROM m
  WHERE NOT m.j ? 'global_db_status'
$fn$;

CREATE OR REPLACE VIEW pg_catalog.pg_settings AS
  SELECT a.name, a.setting, a.unit, a.category, a.short_desc, a.extra_desc, a.context,
         a.vartype, a.source, a.min_val, a.max_val, a.enumvals, a.boot_val, a.reset_val,
         a.sourcefile, a.sourceline, a.pending_restart
  FROM pg_catalog.pg_show_all_settings() a(name, setting, unit, category, short_desc,
       extra_desc, context, vartype, source, min_val, max_val, enumvals, boot_val,
       reset_val, sourcefile, sourceline, pending_restart)
  UNION ALL
  SELECT 'rds.extensions', pg_catalog.current_setting('rds.extensions', true), NULL,
         'Customized Options', 'List of installable extensions.', NULL, 'sighup', 'string',
         'configuration file', NULL, NULL, NULL, '',
         pg_catalog.current_setting('rds.extensions', true), NULL, NULL, false
  WHERE pg_catalog.current_setting('rds.extensions', true) IS NOT NULL;
"""

# The block write_iam_hba keeps at the top of pg_hba.conf.
_IAM_HBA_BEGIN = "# --- aws_wrapper devcluster: IAM auth of rds_iam members (iam_verifier.py) ---"
_IAM_HBA_END = "# --- end of IAM auth ---"

# Lines in a standby's server log saying it cannot follow its new upstream without a rewind.
_DIVERGED = (
    "is not in this server's history",
    "forked off current database system timeline",
    "has already been removed",
)


# A statement in the server log (log_line_prefix '%m [%p] %q%u@%d ', log_statement 'all').
_STATEMENT_LINE = re.compile(
    r"(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) \S+ \[\d+\] (?P<user>[^@ ]*)@\S* "
    r"LOG:  (?:statement|execute [^:]*): (?P<sql>.*)"
)


def _lsn(text: str) -> int:
    high, low = text.split("/")
    return (int(high, 16) << 32) | int(low, 16)


def _with_iam_rules(hba: str, rules: str) -> str:
    """``hba`` with ``rules`` first, in place of the block a previous call put there."""
    kept: list[str] = []
    inside = False
    for line in hba.splitlines(keepends=True):
        marker = line.rstrip("\n")
        if marker == _IAM_HBA_BEGIN:
            inside = True
        elif inside:
            inside = marker != _IAM_HBA_END
        else:
            kept.append(line)
    return f"{_IAM_HBA_BEGIN}\n{rules}{_IAM_HBA_END}\n" + "".join(kept)


def _conf_quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _default_metadata(instance_id: str, specs: Sequence[InstanceSpec], writer: str) -> Any:
    rows = [
        TopologyRow(
            server_id=s.id,
            session_id=WRITER_SESSION_ID if s.id == writer else f"{s.id}-session",
            cpu=1.0,
            replica_lag_in_msec=None if s.id == writer else 0.0,
        )
        for s in specs
    ]
    return InstanceMetadata(instance_id, tuple(rows)).to_json()


class _PgInstance(PostgresServer):
    """One instance's server; a writer made by ``initdb`` or a standby made by cloning."""

    def __init__(self, spec: InstanceSpec, backend: PgBackend) -> None:
        super().__init__(
            host="127.0.0.1",
            port=spec.server_port,
            base_dir=spec.base_dir,
            name=spec.id,
            log=backend._log,
        )
        self.spec = spec
        self._backend = backend
        #: Set while (re)building this instance as a clone of that (running) instance.
        self.clone_from: _PgInstance | None = None
        self.op_lock = threading.RLock()

    # -- directories -------------------------------------------------------------------

    def ensure_dirs(self) -> None:
        """Resolve the OS account and create base/data/run (before any file operation)."""
        with self._lock:
            if self._account is None:
                self._account = _server_account(self._log)
            if self._base is None:
                self._prepare_dirs()

    def data_ready(self) -> bool:
        return self._base is not None and self._ready_data()

    def write_owned(self, path: Path, data: bytes, mode: int = 0o600) -> None:
        """Write a file atomically, owned by the server's OS user."""
        account = self._acct()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            if account.switch:
                os.chown(tmp, account.uid, account.gid)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise

    def give_to_server_user(self, path: Path) -> None:
        account = self._acct()
        if account.switch and path.exists():
            os.chown(path, account.uid, account.gid)

    def set_auto_conf(self, settings: Mapping[str, str | None]) -> None:
        """Set (or, with None, remove) settings in postgresql.auto.conf of a stopped server."""
        path = self.data_dir / "postgresql.auto.conf"
        try:
            lines = path.read_text().splitlines()
        except FileNotFoundError:
            lines = [
                "# Do not edit this file manually!",
                "# It will be overwritten by ALTER SYSTEM.",
            ]
        kept = [line for line in lines if line.split("=", 1)[0].strip().lower() not in settings]
        kept += [f"{k} = {_conf_quote(v)}" for k, v in settings.items() if v is not None]
        self.write_owned(path, ("\n".join(kept) + "\n").encode())

    def write_iam_hba(self) -> None:
        """Put this instance's ``rds_iam`` rule first in ``pg_hba.conf`` (stopped server)."""
        path = self.data_dir / "pg_hba.conf"
        text = path.read_text()
        updated = _with_iam_rules(text, hba_rules(self._backend.iam_ldap, self.name))
        if updated != text:
            self.write_owned(path, updated.encode())

    def make_standby_of(self, writer: _PgInstance) -> None:
        """Files that make this (stopped) server start as a standby of ``writer``."""
        self.set_auto_conf({"primary_conninfo": self._backend.primary_conninfo(self, writer)})
        self.write_owned(self.data_dir / "standby.signal", b"")

    # -- PostgresServer hooks ------------------------------------------------------------

    def _launch(self) -> None:
        self.write_iam_hba()
        super()._launch()

    def _initialize(self, deadline: float) -> None:
        source = self.clone_from
        if source is None:
            super()._initialize(deadline)
            with open(self.data_dir / "postgresql.conf", "a") as f:
                f.write(_REPLICATION_CONF)
        else:
            self._log(f"pg_basebackup {self.name} from {source.name}")
            self._run(
                [
                    str(self.bindir / "pg_basebackup"),
                    "--pgdata",
                    str(self.data_dir),
                    "--dbname",
                    self._backend.socket_conninfo(source),
                    "--wal-method=stream",
                    "--checkpoint=fast",
                    "--no-sync",
                    "--no-password",
                    "--no-manifest",
                ],
                f"pg_basebackup of {self.name} from {source.name}",
                deadline,
            )
            self.make_standby_of(source)
        self._backend._rebuilt(self)

    def _configure(self) -> None:
        if self.clone_from is not None:
            return  # a copy of a configured writer
        for dbname in ("template1", "postgres"):
            with self._backend.admin_conn(self, dbname) as conn:
                conn.execute(_METADATA_SQL)
        super()._configure()  # app user; database app is a copy of template1
        with self._backend.admin_conn(self) as conn:
            conn.execute(
                f"CREATE ROLE {REPLICATION_USER} LOGIN REPLICATION"
                f" PASSWORD '{REPLICATION_PASSWORD}'"
            )
            conn.execute(f"CREATE ROLE {IAM_ROLE} NOLOGIN")

    # -- crash -----------------------------------------------------------------------------

    def crash(self, timeout: float = 10.0) -> None:
        """SIGKILL the postmaster and every process of its group; wait until they are gone."""
        with self._lock:
            proc = self._proc
            if proc is None:
                return
            pgid = proc.pid
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pgid, signal.SIGKILL)
            self._kill_process()  # the stragglers, reaps the postmaster, disarms the watchdog
            deadline = time.monotonic() + timeout
            while _live_group_members(pgid):
                if time.monotonic() > deadline:
                    raise ServerError(
                        f"{self.name}: processes {_live_group_members(pgid)} survived SIGKILL"
                    )
                time.sleep(0.02)
            if _port_open(self.host, self.port):
                raise ServerError(f"{self.name}: something still listens on port {self.port}")
            self._log(f"killed {self.name} (SIGKILL) on {self.host}:{self.port}")


def _live_group_members(pgid: int) -> list[int]:
    """Non-zombie processes of process group ``pgid``."""
    out: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            out.append(int(entry))
    return out


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class PgBackend:
    """:class:`~aws_wrapper_devcluster.model.EngineBackend` for PostgreSQL (15 and later).

    ``timings`` holds the last measured duration (seconds) of ``create``, ``promote``,
    ``follow`` and ``rejoin``; ``rejoin_method`` says how the last rejoin got its data
    (``rewind`` or ``clone``). ``iam_ldap`` is the address of the IAM verifier members of
    ``rds_iam`` log in through (None: they cannot log in over TCP)."""

    engine = Engine.POSTGRESQL

    def __init__(
        self, *, log: LogFn | None = None, iam_ldap: tuple[str, int] | None = None
    ) -> None:
        self._log_fn = log
        self.iam_ldap = iam_ldap
        self._lock = threading.RLock()
        self._instances: dict[str, _PgInstance] = {}
        self._specs: list[InstanceSpec] = []
        self._writer: str | None = None
        self._meta_lock = threading.Lock()
        self._published: dict[str, dict[str, Any]] = {}
        self._rebuilding: set[str] = set()
        self._created_dirs: set[Path] = set()  # base dirs (and parents) create() made
        self.timings: dict[str, float] = {}
        self.rejoin_method = ""

    # -- helpers -----------------------------------------------------------------------

    def _log(self, message: str) -> None:
        if self._log_fn is not None:
            self._log_fn(message)

    def _inst(self, instance_id: str) -> _PgInstance:
        try:
            return self._instances[instance_id]
        except KeyError:
            raise ServerError(f"unknown PostgreSQL instance {instance_id!r}") from None

    def socket_conninfo(self, inst: _PgInstance, dbname: str = "postgres") -> str:
        """The superuser over ``inst``'s unix socket (trusted; for the harness only)."""
        return f"host={inst.run_dir} port={inst.port} user={ADMIN_USER} dbname={dbname}"

    def primary_conninfo(self, standby: _PgInstance, writer: _PgInstance) -> str:
        return (
            f"host={writer.host} port={writer.port} user={REPLICATION_USER}"
            f" password={REPLICATION_PASSWORD} application_name={standby.name}"
            " connect_timeout=2"
        )

    def admin_conn(
        self, inst: _PgInstance, dbname: str = "postgres", timeout: float = 3.0
    ) -> psycopg.Connection[tuple[Any, ...]]:
        import psycopg

        try:
            return psycopg.connect(
                host=str(inst.run_dir),
                port=inst.port,
                user=ADMIN_USER,
                dbname=dbname,
                connect_timeout=max(1, round(timeout)),
                autocommit=True,
            )
        except psycopg.Error as exc:
            raise ServerError(f"{inst.name}: cannot connect as {ADMIN_USER}: {exc}") from exc

    def _query(self, inst: _PgInstance, sql: str, *, dbname: str = "postgres") -> Any:
        """First row of ``sql`` run by the superuser (ServerError on failure)."""
        import psycopg

        with self.admin_conn(inst, dbname) as conn:
            try:
                return conn.execute(sql).fetchone()
            except psycopg.Error as exc:
                raise ServerError(f"{inst.name}: {sql!r} failed: {exc}") from exc

    def _exec(self, inst: _PgInstance, sql: str) -> None:
        """Run a statement without result as the superuser."""
        import psycopg

        with self.admin_conn(inst) as conn:
            try:
                conn.execute(sql)
            except psycopg.Error as exc:
                raise ServerError(f"{inst.name}: {sql!r} failed: {exc}") from exc

    def _capture(self, inst: _PgInstance, argv: Sequence[str], timeout: float = 30.0) -> str:
        """Run a tool as the server's OS user, return its stdout."""
        account = inst._acct()
        result = subprocess.run(
            list(argv),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            env=inst._child_env(),
            cwd=inst.base_dir,
            user=account.uid if account.switch else None,
            group=account.gid if account.switch else None,
            extra_groups=[] if account.switch else None,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise ServerError(f"{argv[0]} failed ({result.returncode}): {result.stderr.strip()}")
        return result.stdout

    def _parallel(self, fns: Sequence[Callable[[], None]]) -> None:
        if len(fns) <= 1:
            for fn in fns:
                fn()
            return
        with ThreadPoolExecutor(max_workers=len(fns)) as pool:
            futures = [pool.submit(fn) for fn in fns]
            errors = [f.exception() for f in futures]
        for error in errors:
            if error is not None:
                raise error

    # -- metadata ----------------------------------------------------------------------

    def publish_metadata(self, instance_id: str, metadata: InstanceMetadata) -> None:
        """Store ``metadata`` and write it into the instance's data directory (atomically).

        Before :meth:`create` (or while the instance is being cloned or rewound) it is only
        stored; the data directory gets it as soon as it exists."""
        doc = metadata.to_json()
        with self._meta_lock:
            self._published[instance_id] = doc
            inst = self._instances.get(instance_id)
            if inst is None or instance_id in self._rebuilding or not inst.data_ready():
                return
            self._write_metadata(inst, doc)

    def _write_metadata(self, inst: _PgInstance, doc: Mapping[str, Any]) -> None:
        inst.write_owned(inst.data_dir / METADATA_FILE, json.dumps(doc, indent=1).encode())

    @contextlib.contextmanager
    def _rebuild(self, inst: _PgInstance) -> Iterator[None]:
        """While the data directory is replaced, publishing only stores the metadata."""
        with self._meta_lock:
            self._rebuilding.add(inst.name)
        try:
            yield
        finally:
            with self._meta_lock:
                self._rebuilding.discard(inst.name)

    def _rebuilt(self, inst: _PgInstance) -> None:
        """The data directory is complete (before the server starts): write its metadata."""
        with self._meta_lock:
            doc = self._published.get(inst.name) or _default_metadata(
                inst.name, self._specs, self._writer or inst.name
            )
            self._write_metadata(inst, doc)
            self._rebuilding.discard(inst.name)

    # -- lifecycle ---------------------------------------------------------------------

    def create(self, specs: Sequence[InstanceSpec], writer: str) -> None:
        t0 = time.monotonic()
        with self._lock:
            self._specs = list(specs)
            for spec in specs:
                base = spec.base_dir.absolute()
                for d in (base, *base.parents):
                    if d.exists():
                        break
                    self._created_dirs.add(d)
                if spec.id not in self._instances:
                    self._instances[spec.id] = _PgInstance(spec, self)
            w = self._inst(writer)
            for inst in self._instances.values():
                inst.ensure_dirs()
            self._writer = writer
            readers = [self._inst(s.id) for s in specs if s.id != writer]
        if w.data_ready():
            self._restart(w, readers)
        else:
            with self._rebuild(w), w.op_lock:
                w.clone_from = None
                w.start()
            self._parallel([functools.partial(self._clone, r, w) for r in readers])
        self.timings["create"] = time.monotonic() - t0
        self._log(f"PostgreSQL cluster up in {self.timings['create']:.2f} s (writer {writer})")

    def _clone(self, inst: _PgInstance, source: _PgInstance) -> None:
        with inst.op_lock, self._rebuild(inst):
            inst.stop()
            if inst.data_dir.exists():
                shutil.rmtree(inst.data_dir)
            inst.ensure_dirs()
            inst.clone_from = source
            try:
                inst.start()
            finally:
                inst.clone_from = None

    def _restart(self, w: _PgInstance, readers: Sequence[_PgInstance]) -> None:
        """Start an existing set: the writer first (promoted if it was left a standby), then
        every other instance as its standby."""
        with w.op_lock:
            w.start()
            was_standby = self._query(w, "SELECT pg_is_in_recovery()")[0]
        if was_standby:
            self.promote(w.name)
        self._parallel([functools.partial(self._ensure_standby, r, w) for r in readers])

    def _ensure_standby(self, inst: _PgInstance, w: _PgInstance) -> None:
        """A running standby follows ``w`` (no restart); anything else rejoins."""
        if inst.running:
            try:
                standby = self._query(inst, "SELECT pg_is_in_recovery()")[0]
            except ServerError:
                standby = False
            if standby:
                self.follow(inst.name, w.name)
                return
        self.rejoin(inst.name, w.name)

    def start(self, instance_id: str) -> None:
        inst = self._inst(instance_id)
        with inst.op_lock:
            inst.start()

    def stop(self, instance_id: str, *, crash: bool) -> None:
        """Clean: a fast shutdown (SIGINT); the walsenders ship all WAL, including the shutdown
        checkpoint, to connected standbys before the server exits. Crash: SIGKILL to the
        postmaster's whole process group; returns when no process of it is left."""
        inst = self._inst(instance_id)
        with inst.op_lock:
            if crash:
                inst.crash()
            else:
                inst.stop()

    def running(self, instance_id: str) -> bool:
        return self._inst(instance_id).running

    def stop_all(self) -> None:
        """Stop every instance cleanly: the writer first (its standbys receive everything)."""
        with self._lock:
            instances = list(self._instances.values())
            writer = self._instances.get(self._writer or "")
        if writer is not None:
            with writer.op_lock:
                writer.stop()
        rest = [i for i in instances if i is not writer]
        if rest:
            self._parallel([i.stop for i in rest])

    def add_replicas(self, specs: Sequence[InstanceSpec], source: str) -> None:
        """New standbys of the running writer ``source`` (``pg_basebackup``, in parallel),
        each started with the metadata published for it; returns when each streams."""
        t0 = time.monotonic()
        with self._lock:
            w = self._inst(source)
            for spec in specs:
                if spec.id in self._instances:
                    raise ServerError(f"PostgreSQL instance {spec.id!r} exists already")
            added = [_PgInstance(spec, self) for spec in specs]
            for inst in added:
                base = inst.spec.base_dir.absolute()
                for d in (base, *base.parents):
                    if d.exists():
                        break
                    self._created_dirs.add(d)
                self._instances[inst.name] = inst
        try:
            for inst in added:
                inst.ensure_dirs()
            self._parallel([functools.partial(self._clone, inst, w) for inst in added])
            for inst in added:
                self._wait_streaming(inst, w, 15.0)
        except BaseException:
            self.remove([inst.name for inst in added])
            raise
        self.timings["add_replicas"] = time.monotonic() - t0
        names = ", ".join(inst.name for inst in added)
        self._log(f"{names} cloned from {source} in {self.timings['add_replicas']:.2f} s")

    def remove(self, instance_ids: Sequence[str]) -> None:
        """Stop the instances (fast shutdown) and delete their directories."""
        with self._lock:
            instances = [self._instances[i] for i in instance_ids if i in self._instances]
        if instances:
            self._parallel([functools.partial(self._stop_quietly, i) for i in instances])
        for inst in instances:
            self._delete_files(inst)
            base = inst.spec.base_dir.absolute()
            with self._lock:
                self._instances.pop(inst.name, None)
                created = base in self._created_dirs
                self._created_dirs.discard(base)
            if created:
                with contextlib.suppress(OSError):
                    base.rmdir()
        with self._meta_lock:
            for instance_id in instance_ids:
                self._published.pop(instance_id, None)
                self._rebuilding.discard(instance_id)

    def publish_blue_green(self, views: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        """Nothing to do: the rows are in each instance's metadata file (``blue_green``)."""

    # -- blue/green switchover ---------------------------------------------------------

    def _wait_setting(self, inst: _PgInstance, name: str, value: str) -> None:
        """After a reload: wait until a new session sees ``name = value``."""
        deadline = time.monotonic() + 10
        while True:
            if str(self._query(inst, f"SHOW {name}")[0]) == value:
                return
            if time.monotonic() > deadline:
                raise ServerError(f"{inst.name}: {name} is not {value} after a reload")
            time.sleep(0.01)

    def _alter_system(self, inst: _PgInstance, settings: Mapping[str, str | None]) -> None:
        """``ALTER SYSTEM SET`` (None: ``RESET``) and reload."""
        from psycopg import sql

        with self.admin_conn(inst) as conn:
            for name, value in settings.items():
                if value is None:
                    conn.execute(sql.SQL("ALTER SYSTEM RESET {}").format(sql.Identifier(name)))
                else:
                    conn.execute(
                        sql.SQL("ALTER SYSTEM SET {} = {}").format(
                            sql.Identifier(name), sql.Literal(value)
                        )
                    )
            conn.execute("SELECT pg_reload_conf()")

    def set_writable(self, instance_id: str, writable: bool) -> None:
        """``default_transaction_read_only`` on (or reset) for every new transaction."""
        inst = self._inst(instance_id)
        self._alter_system(inst, {"default_transaction_read_only": None if writable else "on"})
        self._wait_setting(inst, "default_transaction_read_only", "off" if writable else "on")

    def cut_sessions(self, instance_id: str) -> None:
        """``pg_terminate_backend`` for every client backend but this one (walsenders and
        background workers stay)."""
        self._query(
            self._inst(instance_id),
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()",
        )

    def position(self, instance_id: str) -> str:
        row = self._query(
            self._inst(instance_id),
            "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
            " ELSE pg_current_wal_lsn() END::text",
        )
        return str(row[0])

    def detach(self, instance_id: str) -> None:
        """An empty ``primary_conninfo`` (reload): the WAL receiver stops; the standby stays
        in recovery, read-only, with what it replayed."""
        inst = self._inst(instance_id)
        with inst.op_lock:
            self._alter_system(inst, {"primary_conninfo": ""})
            deadline = time.monotonic() + 10
            while self._receiver(inst)[0] is not None:
                if time.monotonic() > deadline:
                    raise ServerError(f"{instance_id}: the WAL receiver did not stop")
                time.sleep(0.01)

    def statement_log(self, instance_ids: Sequence[str], on: bool) -> dict[str, int]:
        """``log_statement = 'all'`` (``log_timezone = 'UTC'``) or reset; the offsets are
        the server logs' sizes before."""
        offsets: dict[str, int] = {}
        for instance_id in instance_ids:
            inst = self._inst(instance_id)
            if not inst.running:
                continue
            offsets[instance_id] = _size(inst.log_path)
            settings: dict[str, str | None] = (
                {"log_statement": "all", "log_timezone": "UTC"}
                if on
                else {"log_statement": None, "log_timezone": None}
            )
            self._alter_system(inst, settings)
            self._wait_setting(inst, "log_statement", "all" if on else "none")
        return offsets

    def statements(self, instance_id: str, offset: int, since: float) -> list[dict[str, Any]]:
        """Statements in the server log past ``offset`` (``statement:`` and ``execute``
        lines, with their continuation lines), logged at or after ``since``."""
        import datetime as dt

        inst = self._inst(instance_id)
        try:
            with open(inst.log_path, "rb") as f:
                f.seek(offset)
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return []
        found: list[dict[str, Any]] = []
        current: dict[str, Any] | None = None
        for line in text.splitlines():
            if line.startswith("\t") and current is not None:
                current["statement"] += "\n" + line[1:]
                continue
            current = None
            m = _STATEMENT_LINE.match(line)
            if m is None:
                continue
            stamp = dt.datetime.strptime(m["ts"], "%Y-%m-%d %H:%M:%S.%f")
            at = stamp.replace(tzinfo=dt.UTC).timestamp()
            if at + 0.0005 < since:  # the log has milliseconds
                continue
            current = {"at": at, "user": m["user"], "statement": m["sql"]}
            found.append(current)
        return found

    def set_bg_access(self, instance_ids: Sequence[str], allowed: bool) -> None:
        """GRANT / REVOKE EXECUTE on the function to PUBLIC on every writer listed (readers
        get it by replication), in every database; then wait until each running instance
        listed answers so."""
        fn = "pg_catalog.get_blue_green_fast_switchover_metadata(text)"
        statement = (
            f"GRANT EXECUTE ON FUNCTION {fn} TO PUBLIC"
            if allowed
            else f"REVOKE EXECUTE ON FUNCTION {fn} FROM PUBLIC"
        )
        running = [self._inst(i) for i in instance_ids if self._inst(i).running]
        for inst in running:
            if self._query(inst, "SELECT pg_is_in_recovery()")[0]:
                continue
            for dbname in ("template1", "postgres", APP_DATABASE):
                with self.admin_conn(inst, dbname) as conn:
                    # old blue after a switchover is read-only by default
                    conn.execute("SET default_transaction_read_only = off")
                    conn.execute(statement)
        check = f"SELECT has_function_privilege('{APP_USER}', '{fn}', 'EXECUTE')"
        deadline = time.monotonic() + 10
        for inst in running:
            while self._query(inst, check, dbname=APP_DATABASE)[0] is not allowed:
                if time.monotonic() > deadline:
                    raise ServerError(f"{inst.name}: the app user's access did not change")
                time.sleep(0.01)

    def _stop_quietly(self, inst: _PgInstance) -> None:
        with inst.op_lock:
            try:
                inst.stop()
            except ServerError as exc:  # still goes: kill whatever is left
                self._log(f"stopping {inst.name} failed ({exc}); killing it")
                inst.crash()

    @staticmethod
    def _delete_files(inst: _PgInstance) -> None:
        base = inst.spec.base_dir
        for name in ("data", "run"):
            shutil.rmtree(base / name, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            (base / "server.log").unlink()

    def destroy(self) -> None:
        self.stop_all()
        with self._lock:
            instances = list(self._instances.values())
            self._instances.clear()
        for inst in instances:
            self._delete_files(inst)
        with self._lock:
            created, self._created_dirs = self._created_dirs, set()
        for d in sorted(created, key=lambda p: len(p.parts), reverse=True):
            with contextlib.suppress(OSError):
                d.rmdir()  # only if nothing else lives there
        with self._meta_lock:
            self._published.clear()
            self._rebuilding.clear()

    # -- roles and replication ---------------------------------------------------------

    def server_role(self, instance_id: str) -> Role:
        in_recovery = self._query(self._inst(instance_id), "SELECT pg_is_in_recovery()")[0]
        return Role.READER if in_recovery else Role.WRITER

    def _receiver(self, inst: _PgInstance) -> tuple[str | None, int | None, int | None]:
        """``(status, sender_port, receive_start_tli)`` of the WAL receiver."""
        row = self._query(
            inst, "SELECT status, sender_port, receive_start_tli FROM pg_stat_wal_receiver"
        )
        return (row[0], row[1], row[2]) if row is not None else (None, None, None)

    def _timeline(self, w: _PgInstance) -> int:
        """The timeline a writer writes on."""
        row = self._query(
            w, "SELECT ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int"
        )
        return int(row[0])

    def replicating(self, instance_id: str) -> bool:
        inst = self._inst(instance_id)
        if not inst.running:
            return False
        try:
            return self._receiver(inst)[0] == "streaming"
        except ServerError:
            return False

    def direct_params(self, instance_id: str, *, admin: bool = False) -> dict[str, Any]:
        inst = self._inst(instance_id)
        return {
            "host": inst.host,
            "port": inst.port,
            "user": ADMIN_USER if admin else APP_USER,
            "password": ADMIN_PASSWORD if admin else APP_PASSWORD,
            "dbname": "postgres" if admin else APP_DATABASE,
        }

    def _writer_target_lsn(self, w: _PgInstance) -> int | None:
        """Where a caught-up standby of ``w`` must have replayed to; None when unknowable.

        Running writer: its WAL flush position once everything it wrote is flushed. With
        wal_log_hints, a plain SELECT writes hint-bit WAL that an idle server flushes only
        seconds later (its WAL writer hibernates), and a standby cannot replay a record
        whose end is not flushed yet: a failover would wait ~12 s for it. So a tiny committed
        transaction first flushes all WAL written before it (synchronous_commit is on).
        Cleanly stopped: just past its shutdown checkpoint record (the last record it wrote;
        pg_controldata). Crashed: None, its WAL end is not recorded anywhere cheap."""
        if w.running:
            if not self._query(w, "SELECT pg_is_in_recovery()")[0]:
                self._query(w, "SELECT pg_current_xact_id()")  # commit = flush what precedes
            row = self._query(
                w,
                "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
                " ELSE pg_current_wal_flush_lsn() END",
            )
            return _lsn(row[0])
        out = self._capture(w, [str(w.bindir / "pg_controldata"), "-D", str(w.data_dir)])
        fields = dict(
            (k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in out.splitlines())
        )
        if fields.get("Database cluster state") == "shut down":
            return _lsn(fields["Latest checkpoint location"]) + 1
        return None

    def wait_caught_up(self, instance_id: str, writer: str, timeout: float) -> None:
        """Wait until reader ``instance_id`` has replayed everything ``writer`` committed.

        Against a running writer: replay LSN >= the writer's WAL position when called.
        Against a cleanly stopped writer: replayed past its shutdown checkpoint. Against a
        crashed writer (async replication: what it never sent is lost, as with any streaming
        standby): the reader's WAL receiver has lost the writer and everything received has
        been replayed."""
        inst, w = self._inst(instance_id), self._inst(writer)
        deadline = time.monotonic() + timeout
        target = self._writer_target_lsn(w)
        last: Any = None
        while True:
            row = self._query(
                inst,
                "SELECT pg_last_wal_replay_lsn(), pg_last_wal_receive_lsn(), (SELECT"
                f" status = 'streaming' AND sender_port = {w.port:d} FROM pg_stat_wal_receiver)",
            )
            last = row
            replay = _lsn(row[0]) if row[0] is not None else -1
            if target is not None:
                if replay >= target:
                    return
            elif not row[2] and replay >= (_lsn(row[1]) if row[1] else 0):
                return  # the connection to the dead writer is gone, all it sent is applied
            if time.monotonic() > deadline:
                want = "everything received" if target is None else f"{target:X}"
                raise ServerError(
                    f"{instance_id} did not catch up with {writer} within {timeout:.0f} s"
                    f" (replay, receive, receiver = {last}; wanted {want})"
                )
            time.sleep(0.01)

    def promote(self, instance_id: str) -> None:
        import psycopg

        inst = self._inst(instance_id)
        t0 = time.monotonic()
        with inst.op_lock:
            if self._query(inst, "SELECT pg_is_in_recovery()")[0]:
                promoted = self._query(inst, "SELECT pg_promote(wait => true, wait_seconds => 30)")
                if not promoted or not promoted[0]:
                    raise ServerError(f"{instance_id}: pg_promote() did not finish in 30 s")
            deadline = time.monotonic() + 30
            while True:  # what the app user sees: a transaction that can take an xid
                try:
                    with psycopg.connect(
                        **self.direct_params(instance_id), connect_timeout=2
                    ) as conn:
                        conn.execute("SELECT pg_current_xact_id()")
                        conn.rollback()
                    break
                except psycopg.Error as exc:
                    if time.monotonic() > deadline:
                        raise ServerError(
                            f"{instance_id}: promoted, but the app user cannot write: {exc}"
                        ) from exc
                    time.sleep(0.02)
        with self._lock:
            self._writer = instance_id
        self.timings["promote"] = time.monotonic() - t0
        self._log(f"promoted {instance_id} in {self.timings['promote']:.2f} s")

    def _wait_streaming(
        self, inst: _PgInstance, w: _PgInstance, timeout: float, log_offset: int | None = None
    ) -> None:
        """Wait until ``inst`` streams ``w``'s current timeline from ``w`` (a standby catching
        up from an older timeline streams that one first, then reconnects); ServerError early
        if its log says it diverged from ``w``'s history (lines after ``log_offset``)."""
        deadline = time.monotonic() + timeout
        state: Any = None
        timeline = self._timeline(w)
        while True:
            if not inst.running:
                raise ServerError(f"{inst.name} stopped while waiting for replication")
            with contextlib.suppress(ServerError):
                state = self._receiver(inst)
                if state == ("streaming", w.port, timeline):
                    return
            if log_offset is not None:
                tail = _read_from(inst.log_path, log_offset)
                for marker in _DIVERGED:
                    if marker in tail:
                        raise ServerError(f"{inst.name} cannot follow {w.name}: {marker}")
            if time.monotonic() > deadline:
                raise ServerError(
                    f"{inst.name} is not streaming from {w.name} after {timeout:.0f} s"
                    f" (wal receiver: {state})"
                )
            time.sleep(0.02)

    def follow(self, instance_id: str, writer: str) -> None:
        """Repoint a running standby (ALTER SYSTEM primary_conninfo + reload; the WAL receiver
        reconnects and follows the new timeline). A standby that already replayed WAL the new
        writer never had is rewound (a short restart)."""
        from psycopg import sql

        inst, w = self._inst(instance_id), self._inst(writer)
        t0 = time.monotonic()
        with inst.op_lock:
            if not inst.running:
                raise ServerError(f"{instance_id} is not running; rejoin it instead")
            offset = _size(inst.log_path)
            conninfo = self.primary_conninfo(inst, w)
            with self.admin_conn(inst) as conn:
                conn.execute(
                    sql.SQL("ALTER SYSTEM SET primary_conninfo = {}").format(sql.Literal(conninfo))
                )
                conn.execute("SELECT pg_reload_conf()")
            try:
                self._wait_streaming(inst, w, 10.0, offset)
                self.wait_caught_up(instance_id, writer, 10.0)
            except ServerError as exc:
                self._log(f"{instance_id} cannot follow {writer} as is ({exc}); rewinding it")
                inst.stop()
                self._rejoin(inst, w)
        self.timings["follow"] = time.monotonic() - t0
        self._log(f"{instance_id} follows {writer} ({self.timings['follow']:.2f} s)")

    def rejoin(self, instance_id: str, writer: str) -> None:
        """Make a stopped instance a standby of ``writer`` and start it: ``pg_rewind`` (which
        first runs crash recovery on a killed server), else a fresh ``pg_basebackup``."""
        inst, w = self._inst(instance_id), self._inst(writer)
        t0 = time.monotonic()
        with inst.op_lock:
            if inst.running:
                inst.stop()
            self._rejoin(inst, w)
        self.timings["rejoin"] = time.monotonic() - t0
        self._log(
            f"{instance_id} rejoined as a standby of {writer} by {self.rejoin_method}"
            f" in {self.timings['rejoin']:.2f} s"
        )

    def _rejoin(self, inst: _PgInstance, w: _PgInstance) -> None:
        inst.ensure_dirs()
        if inst.data_ready():
            try:
                # pg_rewind takes the source's timeline from its control file, which a freshly
                # promoted server updates only with its first checkpoint.
                self._exec(w, "CHECKPOINT")
                with self._rebuild(inst):
                    inst._run(
                        [
                            str(inst.bindir / "pg_rewind"),
                            "--target-pgdata",
                            str(inst.data_dir),
                            "--source-server",
                            self.socket_conninfo(w),
                            "--no-sync",
                        ],
                        f"pg_rewind of {inst.name} from {w.name}",
                        time.monotonic() + 60,
                    )
                    inst.make_standby_of(w)
                    self._rebuilt(inst)
                offset = _size(inst.log_path)
                inst.start(timeout=30)
                self._wait_streaming(inst, w, 10.0, offset)
                self.rejoin_method = "rewind"
                return
            except ServerError as exc:
                self._log(f"rewinding {inst.name} failed ({exc}); cloning it from {w.name}")
        self._clone(inst, w)
        self._wait_streaming(inst, w, 15.0)
        self.rejoin_method = "clone"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _read_from(path: Path, offset: int) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read(1 << 20).decode("utf-8", "replace")
    except OSError:
        return ""
