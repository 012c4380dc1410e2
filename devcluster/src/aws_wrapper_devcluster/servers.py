"""Throw-away PostgreSQL and MariaDB servers on loopback, for tests and demos.

Each server lives in its own directory (a fresh temporary directory unless
``base_dir`` is given)::

    <base_dir>/data   the data directory (owned by the server's OS user)
    <base_dir>/run    unix sockets, pid file, MariaDB error log, temp files
    <base_dir>/server.log   PostgreSQL's stderr / the harness' view of the server

The server runs as an unprivileged OS user: the current user, or, when the
harness runs as root, the system user ``awswrapper`` (created on first use).
It listens on TCP on ``host`` only (loopback) and on a unix socket in
``<base_dir>/run``.  A data directory that was set up completely is reused
when a server with a given ``base_dir`` is started again (restart keeps data).

No server process is meant to outlive its creator: ``stop()`` is called from
``__exit__``, from an ``atexit`` hook, and a small watchdog process kills the
server if the Python process that started it dies without stopping it (for
example on SIGKILL or a crash in a C extension).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import pwd
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "ADMIN_PASSWORD",
    "ADMIN_USER",
    "APP_DATABASE",
    "APP_PASSWORD",
    "APP_USER",
    "SERVER_OS_USER",
    "BinaryNotFoundError",
    "DatabaseServer",
    "DriverNotFoundError",
    "MariaDBServer",
    "PostgresServer",
    "RequirementError",
    "ServerError",
    "ServerStartError",
    "check_requirements",
    "free_port",
]

#: OS user the servers run as when the harness runs as root.
SERVER_OS_USER = "awswrapper"
#: Application (non-superuser) account and its database.
APP_USER = "app"
APP_PASSWORD = "app-secret"
APP_DATABASE = "app"
#: Superuser account, usable over TCP.
ADMIN_USER = "admin"
ADMIN_PASSWORD = "admin-secret"

# Unix socket paths are limited to 108 bytes (sun_path) on Linux.
_MAX_SOCKET_PATH = 100
_LOG_TAIL_LINES = 40
_CONFIGURED_MARKER = "awswrapper-configured"

LogFn = Callable[[str], None]


class ServerError(RuntimeError):
    """A development server could not be set up, started or stopped."""


class RequirementError(ServerError):
    """Something the servers need is not installed; the message says what to install."""


class BinaryNotFoundError(RequirementError):
    """The server's executables are not installed."""


class DriverNotFoundError(RequirementError):
    """The Python driver the harness talks to a server with is not installed."""


class ServerStartError(ServerError):
    """The server did not come up; the message includes the tail of its log."""


class _PortInUseError(ServerStartError):
    pass


def _ephemeral_low() -> int:
    """The lowest port the kernel hands to sockets bound to port 0 (client sockets)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that was free a moment ago.

    The port is picked at random below the kernel's ephemeral range: a port from that range
    (what binding port 0 gives) can be taken by any client socket's connect() before the
    server binds it, which a test run opening thousands of connections does often."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    high = _ephemeral_low()
    low = max(1024, high - 16384)
    rng = random.SystemRandom()
    for _ in range(64 if high - low >= 256 else 0):
        port = rng.randrange(low, high)
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        chosen: int = sock.getsockname()[1]
        return chosen


# --------------------------------------------------------------------------- requirements

_DRIVERS = {"postgresql": ("psycopg", "psycopg[binary]"), "mysql": ("pymysql", "PyMySQL")}


def check_requirements(engine: str) -> None:
    """Raise :class:`RequirementError` at once, naming what to install, when the servers of
    ``engine`` (``postgresql`` or ``mysql``) cannot run here: the Python driver the harness
    uses, the server binaries. Cheap (no process is started)."""
    import importlib.util

    kind = "mysql" if engine in ("mysql", "mariadb") else "postgresql"
    module, package = _DRIVERS[kind]
    if importlib.util.find_spec(module) is None:
        raise DriverNotFoundError(
            f"the Python package {package!r} is not installed (the devcluster talks to its "
            f"{kind} servers with it): pip install {package!r}"
        )
    if kind == "postgresql":
        find_postgres_bindir()
    else:
        find_mariadb_binaries()
        if shutil.which("openssl") is None:
            raise BinaryNotFoundError(
                "openssl not found in PATH (the MariaDB servers offer TLS, like RDS); "
                "install openssl"
            )


# --------------------------------------------------------------------------- OS user


@dataclass(frozen=True)
class _Account:
    name: str
    uid: int
    gid: int
    switch: bool  # True: run children as this user (we are root)


_account_lock = threading.Lock()
_account_cache: _Account | None = None


def _server_account(log: LogFn) -> _Account:
    """The unprivileged account servers run as, creating it if needed (root only)."""
    global _account_cache
    with _account_lock:
        if _account_cache is not None:
            return _account_cache
        uid = os.geteuid()
        if uid != 0:
            try:
                name = pwd.getpwuid(uid).pw_name
            except KeyError:
                name = str(uid)
            _account_cache = _Account(name, uid, os.getegid(), switch=False)
            return _account_cache
        entry = _lookup_user(SERVER_OS_USER) or _create_system_user(SERVER_OS_USER, log)
        if entry is None:
            entry = _lookup_user("nobody")
            if entry is None:
                raise ServerError(
                    f"running as root, but could not create the OS user {SERVER_OS_USER!r}"
                    " and there is no 'nobody' user to run the servers as"
                )
            log(f"could not create OS user {SERVER_OS_USER!r}; running servers as 'nobody'")
        _account_cache = _Account(entry.pw_name, entry.pw_uid, entry.pw_gid, switch=True)
        return _account_cache


def _lookup_user(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def _create_system_user(name: str, log: LogFn) -> pwd.struct_passwd | None:
    """Create a system user, serialized across processes with a lock file."""
    lock_dir = Path("/run/lock") if Path("/run/lock").is_dir() else Path(tempfile.gettempdir())
    fd = os.open(
        lock_dir / "awswrapper-useradd.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600
    )
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        entry = _lookup_user(name)  # another process may have won the race
        if entry is not None:
            return entry
        commands: list[list[str]] = []
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        commands.append(
            [
                useradd,
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                "--comment",
                "aws_wrapper development database servers",
                name,
            ]
        )
        adduser = shutil.which("adduser") or "/usr/sbin/adduser"
        commands.append([adduser, "--system", "--group", "--no-create-home", name])
        for argv in commands:
            if not os.access(argv[0], os.X_OK):
                continue
            result = subprocess.run(argv, capture_output=True, text=True, check=False)
            entry = _lookup_user(name)
            if entry is not None:
                log(f"created OS user {name!r} (uid {entry.pw_uid})")
                return entry
            log(f"{Path(argv[0]).name} failed ({result.returncode}): {result.stderr.strip()}")
        return None
    finally:
        os.close(fd)


def _traversable(path: Path, account: _Account) -> bool:
    """Whether ``account`` (without supplementary groups) can reach ``path``."""
    if not account.switch:
        return True
    for parent in path.resolve().parents:
        st = parent.stat()
        if st.st_uid == account.uid:
            bit = 0o100
        elif st.st_gid == account.gid:
            bit = 0o010
        else:
            bit = 0o001
        if not st.st_mode & bit:
            return False
    return True


def _make_dir(path: Path, account: _Account, mode: int = 0o700) -> None:
    path.mkdir(mode=mode, parents=False, exist_ok=True)
    os.chmod(path, mode)
    if account.switch:
        os.chown(path, account.uid, account.gid)


# --------------------------------------------------------------------------- process safety

# A tiny process that holds the read end of a pipe whose write end lives in this
# process.  Normal stop() writes "disarm" and closes it; if this process dies
# first, the watchdog sees EOF without "disarm", stops the server and cleans up.
_WATCHDOG_CODE = r"""
import os, shutil, signal, sys, time
for s in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGPIPE):
    signal.signal(s, signal.SIG_IGN)
pid, sig, cleanup = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
data = b""
while True:
    try:
        chunk = os.read(0, 64)
    except InterruptedError:
        continue
    if not chunk:
        break
    data += chunk
if b"disarm" in data:
    sys.exit(0)
def alive(p):
    try:
        with open(f"/proc/{p}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False
def descendants(root):
    kids = {}
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                with open(f"/proc/{e}/stat", "rb") as f:
                    kids.setdefault(int(f.read().rsplit(b")", 1)[1].split()[1]), []).append(int(e))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [root]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.append(k); todo.append(k)
    return out
try:
    os.kill(pid, sig)
except OSError:
    pass
deadline = time.monotonic() + 5
while alive(pid) and time.monotonic() < deadline:
    time.sleep(0.05)
for p in [pid, *descendants(pid)]:
    try:
        os.kill(p, signal.SIGKILL)
    except OSError:
        pass
try:
    os.killpg(pid, signal.SIGKILL)
except OSError:
    pass
if cleanup:
    time.sleep(0.2)
    shutil.rmtree(cleanup, ignore_errors=True)
"""


def _descendants(root: int) -> list[int]:
    """PIDs of all descendants of ``root`` (Linux /proc), children first."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out: list[int] = []
    todo = [root]
    while todo:
        for kid in children.get(todo.pop(), []):
            out.append(kid)
            todo.append(kid)
    return out


_live_lock = threading.Lock()
_live: set[DatabaseServer] = set()


def _stop_all_at_exit() -> None:
    with _live_lock:
        # A forked child exiting must not stop its parent's servers.
        servers = [s for s in _live if s._owner_pid == os.getpid()]
    for server in servers:
        with contextlib.suppress(Exception):
            server.stop()


atexit.register(_stop_all_at_exit)


def _tail(path: Path, offset: int = 0, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            start = max(offset, size - 16384)
            f.seek(start)
            data = f.read()
    except OSError:
        return "(no log)"
    text = data.decode("utf-8", "replace")
    return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"


# --------------------------------------------------------------------------- base class


class DatabaseServer:
    """Base class: directories, OS user, process, readiness and stop.

    Subclasses provide ``_initialized``, ``_initialize``, ``_server_argv``,
    ``_ping`` and ``_configure``.
    """

    kind: ClassVar[str] = "server"
    #: Signal for a clean but prompt shutdown.
    stop_signal: ClassVar[signal.Signals] = signal.SIGTERM

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        base_dir: str | os.PathLike[str] | None = None,
        name: str = "server",
        log: LogFn | None = None,
    ) -> None:
        self._host = host
        self._auto_port = port is None
        self._port = free_port(host) if port is None else port
        self._given_base_dir = Path(base_dir) if base_dir is not None else None
        self.name = name
        self._log_fn = log
        self._lock = threading.RLock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._watchdog_fd: int | None = None
        self._base: Path | None = None
        self._owns_base = False
        self._account: _Account | None = None
        self._log_offset = 0
        self._owner_pid = os.getpid()
        self.start_seconds: float | None = None

    # -- public API ---------------------------------------------------------

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        return self._port

    @property
    def pid(self) -> int | None:
        """PID of the main server process while it runs."""
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def base_dir(self) -> Path:
        if self._base is None:
            raise ServerError(f"{self.name} has not been started")
        return self._base

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def run_dir(self) -> Path:
        return self.base_dir / "run"

    @property
    def log_path(self) -> Path:
        """The server's log file."""
        return self.base_dir / "server.log"

    @property
    def os_user(self) -> str:
        """Name of the OS user the server runs as."""
        if self._account is None:
            raise ServerError(f"{self.name} has not been started")
        return self._account.name

    def conn_params(self) -> dict[str, Any]:
        raise NotImplementedError

    def admin_params(self) -> dict[str, Any]:
        raise NotImplementedError

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        return _tail(self.log_path, lines=lines)

    def start(self, timeout: float = 90.0) -> Self:
        """Initialize and start the server; return once it accepts the app user."""
        with self._lock:
            if self._proc is not None:
                return self
            t0 = time.monotonic()
            deadline = t0 + timeout
            self._owner_pid = os.getpid()
            with _live_lock:
                _live.add(self)
            try:
                check_requirements(self.kind)
                self._account = _server_account(self._log)
                self._prepare_dirs()
                fresh = not self._ready_data()
                if fresh:
                    self._initialize(deadline)
                else:
                    self._log(f"reusing initialized data directory {self.data_dir}")
                t_init = time.monotonic() - t0
                for attempt in range(3):
                    self._launch()
                    try:
                        self._wait_ready(deadline)
                        break
                    except _PortInUseError:
                        self._kill_process()
                        if not self._auto_port or attempt == 2:
                            raise
                        old, self._port = self._port, free_port(self._host)
                        self._log(f"port {old} taken meanwhile, retrying on {self._port}")
                if fresh:
                    self._configure()
                    marker = self.data_dir / _CONFIGURED_MARKER
                    marker.write_text("configured\n")
                    account = self._acct()
                    if account.switch:  # the server's tools (pg_rewind) rewrite the data dir
                        os.chown(marker, account.uid, account.gid)
            except BaseException:
                self.stop()
                raise
            self.start_seconds = time.monotonic() - t0
            self._log(
                f"started {self.name} on {self._host}:{self._port} in {self.start_seconds:.1f} s"
                f" (init {t_init:.1f} s, pid {self._proc.pid if self._proc else '?'},"
                f" user {self._account.name})"
            )
            return self

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the server and remove the directory it created. Idempotent."""
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is not None:
                self._terminate(proc, timeout)
                self._log(f"stopped {self.name} on {self._host}:{self._port}")
            self._disarm_watchdog()
            if self._owns_base and self._base is not None:
                shutil.rmtree(self._base, ignore_errors=True)
                self._base = None
                self._owns_base = False
            with _live_lock:
                _live.discard(self)

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
        state = "running" if self.running else "stopped"
        return f"<{type(self).__name__} {self.name} {self._host}:{self._port} {state}>"

    def _ready_data(self) -> bool:
        """Whether the data directory was initialized *and* configured before.

        The marker lives in the data directory so that a physical copy of it
        (e.g. ``pg_basebackup`` for a replica) counts as configured too.
        """
        return (self.data_dir / _CONFIGURED_MARKER).exists() and self._initialized()

    # -- hooks for subclasses -------------------------------------------------

    def _initialized(self) -> bool:
        """Whether the data directory holds an initialized server (restart)."""
        raise NotImplementedError

    def _initialize(self, deadline: float) -> None:
        raise NotImplementedError

    def _server_argv(self) -> list[str]:
        raise NotImplementedError

    def _ping(self) -> None:
        """Raise unless the server accepts connections."""
        raise NotImplementedError

    def _configure(self) -> None:
        """Create accounts and databases once the server is up."""

    def _server_log_path(self) -> Path:
        """Where the server writes its own log (defaults to captured stderr)."""
        return self.log_path

    # -- helpers --------------------------------------------------------------

    def _log(self, message: str) -> None:
        if self._log_fn is not None:
            self._log_fn(message)

    def _acct(self) -> _Account:
        assert self._account is not None
        return self._account

    def _prepare_dirs(self) -> None:
        account = self._acct()
        if self._base is None and self._given_base_dir is not None:
            base = self._given_base_dir.absolute()
            created = not base.exists()
            base.mkdir(parents=True, exist_ok=True)
            if created and account.switch:
                os.chown(base, account.uid, account.gid)
            if not _traversable(base / "x", account):
                raise ServerError(
                    f"{base} is not accessible to the server's OS user {account.name!r};"
                    " use a directory that it can search, e.g. one under /tmp"
                )
            self._base = base
        elif self._base is None:
            self._base = self._make_temp_base(account)
            self._owns_base = True
        base = self._base
        sock = base / "run" / ".s.PGSQL.65535"
        if len(str(sock)) > _MAX_SOCKET_PATH:
            raise ServerError(f"{base} is too long a path for unix sockets in it")
        if (base / "data").exists() and not self._ready_data():
            shutil.rmtree(base / "data")  # left over from a failed start
        _make_dir(base / "data", account)
        _make_dir(base / "run", account)

    def _make_temp_base(self, account: _Account) -> Path:
        candidates = [Path(tempfile.gettempdir()), Path("/tmp")]
        for parent in candidates:
            path = Path(tempfile.mkdtemp(prefix=f"awswrapper-{self.name}-", dir=parent))
            # mkdtemp makes it 0700: hand it to the server's user, check its parents.
            if _traversable(path, account) and len(str(path)) < 60:
                if account.switch:
                    os.chown(path, account.uid, account.gid)
                return path
            os.rmdir(path)
        raise ServerError(
            f"no temporary directory usable by OS user {account.name!r}"
            f" (tried {', '.join(map(str, candidates))})"
        )

    def _child_env(self) -> dict[str, str]:
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")
            + ":/usr/local/sbin:/usr/sbin:/sbin",
            "HOME": str(self.base_dir),
            "USER": self._acct().name,
            "LOGNAME": self._acct().name,
            "LC_ALL": "C",
            "LANG": "C",
            "TZ": "UTC",
            "TMPDIR": str(self.run_dir),
        }
        return env

    def _run(self, argv: Sequence[str], what: str, deadline: float) -> None:
        """Run a setup command as the server's OS user; raise with its output on failure."""
        account = self._acct()
        try:
            result = subprocess.run(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                cwd=self.base_dir,
                env=self._child_env(),
                user=account.uid if account.switch else None,
                group=account.gid if account.switch else None,
                extra_groups=[] if account.switch else None,
                start_new_session=True,
                timeout=max(1.0, deadline - time.monotonic()),
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            out = (exc.output or b"").decode("utf-8", "replace")
            raise ServerStartError(f"{what} timed out; output:\n{out[-4000:]}")
        with open(self.log_path, "ab") as f:
            f.write(result.stdout)
        if result.returncode != 0:
            out = result.stdout.decode("utf-8", "replace")
            tail = "\n".join(out.splitlines()[-_LOG_TAIL_LINES:])
            raise ServerStartError(f"{what} failed with exit code {result.returncode}:\n{tail}")

    def _launch(self) -> None:
        account = self._acct()
        log_path = self._server_log_path()
        self._log_offset = log_path.stat().st_size if log_path.exists() else 0
        with open(self.log_path, "ab") as out:
            self._proc = subprocess.Popen(
                self._server_argv(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=self.data_dir,
                env=self._child_env(),
                user=account.uid if account.switch else None,
                group=account.gid if account.switch else None,
                extra_groups=[] if account.switch else None,
                start_new_session=True,
            )
        self._arm_watchdog(self._proc.pid)

    def _arm_watchdog(self, pid: int) -> None:
        self._disarm_watchdog()
        read_fd, write_fd = os.pipe()
        try:
            cleanup = str(self._base) if self._owns_base else ""
            self._watchdog = subprocess.Popen(
                [
                    sys.executable,
                    "-I",
                    "-S",
                    "-c",
                    "import os; exec(os.environ['AWSWRAPPER_WATCHDOG'])",
                    str(pid),
                    str(int(self.stop_signal)),
                    cleanup,
                ],
                env={"AWSWRAPPER_WATCHDOG": _WATCHDOG_CODE},
                stdin=read_fd,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                close_fds=True,
            )
        except BaseException:
            os.close(write_fd)
            raise
        finally:
            os.close(read_fd)
        self._watchdog_fd = write_fd

    def _disarm_watchdog(self) -> None:
        fd, self._watchdog_fd = self._watchdog_fd, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.write(fd, b"disarm")
            os.close(fd)
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is not None:
            try:
                watchdog.wait(5)
            except subprocess.TimeoutExpired:
                watchdog.kill()
                watchdog.wait()

    def _wait_ready(self, deadline: float) -> None:
        proc = self._proc
        assert proc is not None
        log_path = self._server_log_path()
        last_error: BaseException | None = None
        while True:
            rc = proc.poll()
            if rc is not None:
                tail = _tail(log_path, self._log_offset)
                if "Address already in use" in tail:
                    raise _PortInUseError(
                        f"{self.name}: port {self._host}:{self._port} is already in use;"
                        f" log {log_path}:\n{tail}"
                    )
                raise ServerStartError(
                    f"{self.name} exited with code {rc} during startup; log {log_path}:\n{tail}"
                )
            try:
                self._ping()
                return
            except ImportError:
                raise  # no driver: waiting does not help
            except Exception as exc:
                last_error = exc
            if time.monotonic() > deadline:
                tail = _tail(log_path, self._log_offset)
                raise ServerStartError(
                    f"{self.name} on {self._host}:{self._port} did not accept connections in time"
                    f" (last error: {last_error!r}); log {log_path}:\n{tail}"
                )
            time.sleep(0.05)

    def _terminate(self, proc: subprocess.Popen[bytes], timeout: float) -> None:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(self.stop_signal)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._log(f"{self.name} did not stop within {timeout:.0f} s; killing it")
                self._kill_tree(proc)
        # Anything left in the server's process group (it is the session leader).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)

    def _kill_process(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            self._kill_tree(proc)
        self._disarm_watchdog()

    @staticmethod
    def _kill_tree(proc: subprocess.Popen[bytes]) -> None:
        for pid in [proc.pid, *_descendants(proc.pid)]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# --------------------------------------------------------------------------- PostgreSQL


def _version_key(path: Path) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", path.parent.parent.name)) or (0,)


def find_postgres_bindir() -> Path:
    """Directory holding ``initdb`` and ``postgres``.

    ``AWS_WRAPPER_PG_BINDIR`` wins; then the highest /usr/lib/postgresql/*/bin;
    then ``PATH``.
    """
    override = os.environ.get("AWS_WRAPPER_PG_BINDIR")
    candidates: list[Path] = []
    if override:
        candidates.append(Path(override))
    candidates += [
        p.parent
        for p in sorted(
            Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=_version_key, reverse=True
        )
    ]
    for exe in ("postgres", "initdb"):
        found = shutil.which(exe)
        if found:
            candidates.append(Path(found).resolve().parent)
    for bindir in candidates:
        if all(os.access(bindir / exe, os.X_OK) for exe in ("postgres", "initdb")):
            return bindir
    raise BinaryNotFoundError(
        "PostgreSQL server binaries (initdb, postgres) not found in /usr/lib/postgresql/*/bin"
        " or PATH; install postgresql or set AWS_WRAPPER_PG_BINDIR"
    )


_PG_CONF = """
# --- aws_wrapper devcluster ---
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
wal_level = replica
max_wal_senders = 10
max_replication_slots = 10
hot_standby = on
password_encryption = 'scram-sha-256'
log_line_prefix = '%m [%p] %q%u@%d '
"""

_PG_HBA = """
# --- aws_wrapper devcluster: whole IPv4 loopback range ---
host    all             all             127.0.0.0/8             scram-sha-256
host    replication     all             127.0.0.0/8             scram-sha-256
"""


class PostgresServer(DatabaseServer):
    """A PostgreSQL server with a superuser ``admin`` and an app user ``app``.

    Host (TCP) connections use scram-sha-256; the unix socket in ``run_dir``
    trusts local users and is meant for the harness only.
    """

    kind = "postgresql"
    stop_signal = signal.SIGINT  # "fast" shutdown: disconnects clients

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        base_dir: str | os.PathLike[str] | None = None,
        name: str = "pg",
        log: LogFn | None = None,
    ) -> None:
        super().__init__(host=host, port=port, base_dir=base_dir, name=name, log=log)
        self._bindir: Path | None = None

    @property
    def bindir(self) -> Path:
        if self._bindir is None:
            self._bindir = find_postgres_bindir()
        return self._bindir

    def conn_params(self) -> dict[str, Any]:
        return {
            "host": self._host,
            "port": self._port,
            "user": APP_USER,
            "password": APP_PASSWORD,
            "dbname": APP_DATABASE,
        }

    def admin_params(self) -> dict[str, Any]:
        return {
            "host": self._host,
            "port": self._port,
            "user": ADMIN_USER,
            "password": ADMIN_PASSWORD,
            "dbname": "postgres",
        }

    def _initialized(self) -> bool:
        return (self.base_dir / "data" / "PG_VERSION").exists()

    def _initialize(self, deadline: float) -> None:
        bindir = self.bindir
        self._log(f"initdb {self.data_dir} ({bindir.parent.name}, user {self._acct().name})")
        pwfile = self.run_dir / "pwfile"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(ADMIN_PASSWORD + "\n")
        if self._acct().switch:
            os.chown(pwfile, self._acct().uid, self._acct().gid)
        try:
            self._run(
                [
                    str(bindir / "initdb"),
                    "--pgdata",
                    str(self.data_dir),
                    "--username",
                    ADMIN_USER,
                    "--pwfile",
                    str(pwfile),
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
                "initdb",
                deadline,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        with open(self.data_dir / "postgresql.conf", "a") as f:
            f.write(_PG_CONF)
        with open(self.data_dir / "pg_hba.conf", "a") as f:
            f.write(_PG_HBA)

    def _server_argv(self) -> list[str]:
        return [
            str(self.bindir / "postgres"),
            "-D",
            str(self.data_dir),
            "-c",
            f"listen_addresses={self._host}",
            "-c",
            f"port={self._port}",
            "-c",
            f"unix_socket_directories={self.run_dir}",
        ]

    def _ping(self) -> None:
        self._admin_connection().close()

    def _admin_connection(self) -> psycopg.Connection[tuple[Any, ...]]:
        import psycopg

        return psycopg.connect(
            host=self._host,
            port=self._port,
            user=ADMIN_USER,
            password=ADMIN_PASSWORD,
            dbname="postgres",
            connect_timeout=2,
            autocommit=True,
        )

    def _configure(self) -> None:
        with self._admin_connection() as conn:
            conn.execute(
                f"CREATE ROLE {APP_USER} LOGIN PASSWORD '{APP_PASSWORD}'"
                " NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
            )
            conn.execute(f"CREATE DATABASE {APP_DATABASE} OWNER {APP_USER}")


# --------------------------------------------------------------------------- MariaDB


def _find_exe(names: Sequence[str], dirs: Sequence[str]) -> Path | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return Path(found)
        for d in dirs:
            path = Path(d) / name
            if os.access(path, os.X_OK):
                return path
    return None


def find_mariadb_binaries() -> tuple[Path, Path]:
    """``(server, install_db)``: mariadbd/mysqld and mariadb-install-db/mysql_install_db."""
    dirs = ("/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin", "/usr/libexec")
    server = _find_exe(("mariadbd", "mysqld"), dirs)
    install = _find_exe(("mariadb-install-db", "mysql_install_db"), dirs)
    if server is None or install is None:
        raise BinaryNotFoundError(
            "MariaDB server binaries (mariadbd, mariadb-install-db) not found in PATH"
            " or /usr/sbin; install mariadb-server"
        )
    return server, install


class MariaDBServer(DatabaseServer):
    """A MariaDB server with ``admin``@``%`` (all privileges) and ``app``@``%``.

    Binary logging with GTIDs is on (``server_id=1``, ``gtid_strict_mode``);
    the harness' own setup statements are not written to the binary log, so
    replicas set up later start from an empty GTID position.  ``root`` has no
    password and is reachable only over the unix socket. With ``tls`` (the default) the server
    offers TLS with a self-signed certificate (:attr:`tls_cert`), as RDS does.
    """

    kind = "mariadb"
    stop_signal = signal.SIGTERM

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        base_dir: str | os.PathLike[str] | None = None,
        name: str = "mariadb",
        log: LogFn | None = None,
        server_id: int = 1,
        tls: bool = True,
    ) -> None:
        super().__init__(host=host, port=port, base_dir=base_dir, name=name, log=log)
        self.server_id = server_id
        self.tls = tls
        self._binaries: tuple[Path, Path] | None = None

    @property
    def binaries(self) -> tuple[Path, Path]:
        if self._binaries is None:
            self._binaries = find_mariadb_binaries()
        return self._binaries

    @property
    def unix_socket(self) -> Path:
        return self.run_dir / "mysqld.sock"

    def conn_params(self) -> dict[str, Any]:
        return {
            "host": self._host,
            "port": self._port,
            "user": APP_USER,
            "password": APP_PASSWORD,
            "database": APP_DATABASE,
        }

    def admin_params(self) -> dict[str, Any]:
        """Superuser over TCP; no default database."""
        return {
            "host": self._host,
            "port": self._port,
            "user": ADMIN_USER,
            "password": ADMIN_PASSWORD,
        }

    def _server_log_path(self) -> Path:
        return self.run_dir / "mariadbd.err"

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        return _tail(self._server_log_path(), lines=lines)

    # Options shared by the bootstrap (install-db) and the real server.
    def _common_opts(self) -> list[str]:
        return [
            f"--datadir={self.data_dir}",
            f"--tmpdir={self.run_dir}",
            "--innodb-flush-log-at-trx-commit=0",
            "--innodb-doublewrite=0",
            "--innodb-log-file-size=16M",
            "--innodb-buffer-pool-size=64M",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
        ]

    def _initialized(self) -> bool:
        return (self.base_dir / "data" / "mysql").is_dir()

    def _initialize(self, deadline: float) -> None:
        _server, install_db = self.binaries
        if any(c.isspace() for c in str(self.base_dir)):
            raise ServerError(f"mariadb-install-db cannot handle spaces in {self.base_dir}")
        self._log(f"mariadb-install-db {self.data_dir} (user {self._acct().name})")
        self._run(
            [
                str(install_db),
                "--no-defaults",
                *self._common_opts(),
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
            ],
            "mariadb-install-db",
            deadline,
        )
        if self.tls:
            self._make_tls_cert(deadline)

    @property
    def tls_cert(self) -> Path:
        """The server's self-signed TLS certificate (also its CA, for clients that verify)."""
        return self.data_dir / "tls-cert.pem"

    def _make_tls_cert(self, deadline: float) -> None:
        # Like RDS, the server offers TLS: drivers that use it by default (mysql.connector)
        # take that path, and IAM's cleartext login needs it.
        self._run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "3650",
                "-subj",
                "/CN=localhost",
                "-addext",
                f"subjectAltName=DNS:localhost,IP:{self._host}",
                "-keyout",
                str(self.data_dir / "tls-key.pem"),
                "-out",
                str(self.tls_cert),
            ],
            "openssl (TLS certificate)",
            deadline,
        )

    def _server_argv(self) -> list[str]:
        server, _install_db = self.binaries
        run = self.run_dir
        return [
            str(server),
            "--no-defaults",
            # log-basename must come first: it sets defaults for later options.
            "--log-basename=mariadb",
            *self._common_opts(),
            f"--socket={self.unix_socket}",
            f"--port={self._port}",
            f"--bind-address={self._host}",
            f"--pid-file={run / 'mariadbd.pid'}",
            f"--log-error={self._server_log_path()}",
            "--skip-name-resolve",
            "--sync-binlog=0",
            "--log-bin=mariadb-bin",
            "--log-bin-index=mariadb-bin.index",
            "--relay-log=mariadb-relay-bin",
            "--relay-log-index=mariadb-relay-bin.index",
            "--binlog-format=ROW",
            f"--server-id={self.server_id}",
            "--gtid-strict-mode=ON",
            "--max-connections=500",
            *(
                [f"--ssl-cert={self.tls_cert}", f"--ssl-key={self.data_dir / 'tls-key.pem'}"]
                if self.tls_cert.exists()
                else []
            ),
        ]

    def _ping(self) -> None:
        import pymysql

        pymysql.connect(
            unix_socket=str(self.unix_socket), user="root", password="", connect_timeout=2
        ).close()

    def _configure(self) -> None:
        import pymysql

        conn = pymysql.connect(
            unix_socket=str(self.unix_socket), user="root", password="", autocommit=True
        )
        try:
            with conn.cursor() as cur:
                cur.execute("SET SESSION sql_log_bin = 0")
                # Anonymous users, and root over TCP (root@127.0.0.1 etc. have no
                # password): root is for the harness, over the unix socket only.
                cur.execute(
                    "SELECT User, Host FROM mysql.user"
                    " WHERE User = '' OR (User = 'root' AND Host <> 'localhost')"
                )
                for user, host in cur.fetchall():
                    cur.execute("DROP USER %s@%s", (user, host))
                cur.execute(f"CREATE DATABASE `{APP_DATABASE}` CHARACTER SET utf8mb4")
                cur.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (APP_USER, APP_PASSWORD))
                cur.execute(f"GRANT ALL PRIVILEGES ON `{APP_DATABASE}`.* TO %s@'%%'", (APP_USER,))
                cur.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (ADMIN_USER, ADMIN_PASSWORD))
                cur.execute(
                    "GRANT ALL PRIVILEGES ON *.* TO %s@'%%' WITH GRANT OPTION", (ADMIN_USER,)
                )
        finally:
            conn.close()
