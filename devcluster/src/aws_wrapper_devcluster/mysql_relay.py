"""A protocol-aware MySQL relay transform: MariaDB answers the Aurora MySQL metadata queries.

A TCP proxy feeds each connection's byte chunks through one :class:`MySQLRelay`
(``client_to_server`` / ``server_to_client``, in order, from one thread or event loop). The
relay frames MySQL packets (3-byte little-endian length, 1-byte sequence id) across chunk
boundaries and:

- in the server's initial handshake, clears ``CLIENT_SSL`` (the relay could not read TLS) and
  the compression capabilities (``CLIENT_COMPRESS``, ``CLIENT_ZSTD_COMPRESSION_ALGORITHM``)
  and ``CLIENT_QUERY_ATTRIBUTES`` (both would change the framing of commands), so clients
  talk plain, uncompressed protocol. A client that asks for TLS or compression anyway turns
  the relay into a byte-for-byte pass-through for the rest of the connection;
- in ``COM_QUERY`` and ``COM_STMT_PREPARE`` commands (after authentication: a command is a
  client packet with sequence id 0 that is neither a continuation of a >= 16 MB packet nor
  ``LOAD DATA LOCAL`` file contents; the auth-switch exchange, handshake response and
  ``COM_CHANGE_USER`` answers all carry non-zero sequence ids) rewrites the Aurora names with
  :func:`rewrite_query`, leaving every other byte as it was; the packet length is recomputed
  and a rewritten command that no longer fits one packet is split into 16 MB - 1 chunks, the
  sequence ids of the rest of that exchange being shifted back so the client sees the ones
  it expects. Commands of 16 MB or more pass through unchanged.

Anything it does not understand passes through untouched.

What the rewrite produces (``metadata()`` is read once per rewritten query):

- ``information_schema.replica_host_status`` -> ``(SELECT ... UNION ALL SELECT ...) AS
  replica_host_status`` with SERVER_ID, SESSION_ID, CPU, REPLICA_LAG_IN_MILLISECONDS (NULL on
  the writer), LAST_UPDATE_TIMESTAMP (``NOW(6) - INTERVAL <age_s in µs> MICROSECOND``); an
  empty topology gives the same columns and no row;
- ``information_schema.aurora_global_db_status`` -> a derived table with AWS_REGION,
  HIGHEST_LSN_WRITTEN, DURABILITY_LAG_IN_MILLISECONDS, RPO_LAG_IN_MILLISECONDS,
  LAST_LAG_CALCULATION_TIME, OLDEST_READ_VIEW_TRX_ID (``extra["global_db_status"]`` rows, with
  the PostgreSQL column names, else one primary-region row);
- ``information_schema.tables`` in a query that names ``'AURORA_GLOBAL_DB_STATUS'``,
  ``'AURORA_GLOBAL_DB_INSTANCE_STATUS'`` or ``'REPLICA_HOST_STATUS'`` in a string (an
  existence check) -> the real table's TABLE_CATALOG, TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE,
  ENGINE plus one row for each of those three;
- ``information_schema.aurora_global_db_instance_status`` -> a derived table with SERVER_ID,
  SESSION_ID, AWS_REGION, DURABLE_LSN, HIGHEST_LSN_RCVD, OLDEST_READ_VIEW_TRX_ID,
  OLDEST_READ_VIEW_LSN, VISIBILITY_LAG_IN_MSEC;
- ``@@aurora_server_id`` (also ``@@global.`` / ``@@session.``) -> the instance id, a string;
- ``@@aurora_version`` -> ``metadata().engine_version``;
- ``@@innodb_read_only`` -> ``@@read_only`` (readers are ``read_only``, not
  ``innodb_read_only``, which would stop replication);
- ``SHOW [GLOBAL|SESSION] VARIABLES LIKE 'aurora_version'`` (any case and spacing) ->
  ``SELECT 'aurora_version' AS Variable_name, '<engine_version>' AS Value``.

Derived tables take the original table name as alias (so ``replica_host_status.SERVER_ID``,
WHERE and ORDER BY keep working) unless the query gives its own alias; a qualified column
``information_schema.replica_host_status.X`` becomes ``replica_host_status.X``. A rewritten
variable that is a whole select-list item keeps Aurora's column name through an alias
(``SELECT @@aurora_server_id`` has the column ``@@aurora_server_id``); elsewhere (in
expressions, WHERE, ...) it is just the value. Names inside string literals, comments and
quoted identifiers other than the ones above are never touched.

``aurora_global_db_instance_status`` rows come from ``metadata().topology`` (writer: NULL
LSN-received / read-view / lag columns; readers: ``VISIBILITY_LAG_IN_MSEC`` = replica lag),
with ``metadata().extra`` keys ``aws_region`` (default ``us-east-1``), ``aws_regions``
(``{server_id: region}``), ``durable_lsn`` and ``oldest_read_view_trx_id``; or, when
``extra["global_db_instance_status"]`` is a list of dicts (lower-case column names, as the
PostgreSQL backend takes them), exactly those rows.

Limits: the SQL scanner assumes the default ``sql_mode`` (backslash escapes in strings, double
quotes delimit strings) and an ASCII-compatible client character set (utf8mb4, latin1, ...).
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from aws_wrapper_devcluster.model import InstanceMetadata

__all__ = ["MAX_PACKET_PAYLOAD", "MySQLRelay", "rewrite_query"]

MAX_PACKET_PAYLOAD: Final = 0xFFFFFF
"""A packet with this payload length continues in the next packet."""

CLIENT_COMPRESS: Final = 0x0000_0020
CLIENT_PROTOCOL_41: Final = 0x0000_0200
CLIENT_SSL: Final = 0x0000_0800
CLIENT_ZSTD_COMPRESSION_ALGORITHM: Final = 0x0400_0000
CLIENT_QUERY_ATTRIBUTES: Final = 0x0800_0000

COM_QUERY: Final = 0x03
COM_STMT_PREPARE: Final = 0x16

_CLEARED_LOW = CLIENT_SSL | CLIENT_COMPRESS
_CLEARED_HIGH = (CLIENT_ZSTD_COMPRESSION_ALGORITHM | CLIENT_QUERY_ATTRIBUTES) >> 16


class _Phase(enum.Enum):
    GREETING = "greeting"
    """Waiting for the server's initial handshake packet."""
    AUTH = "auth"
    """Handshake response, auth switch / more data, until the server's OK."""
    COMMAND = "command"
    PASSTHROUGH = "passthrough"
    """TLS, compression, an unknown protocol or a failed login: bytes pass unchanged."""


@dataclass(slots=True)
class _Direction:
    pending: bytearray = field(default_factory=bytearray)
    """Bytes received but not forwarded yet (a partial header, or a packet being buffered)."""
    skip: int = 0
    """Payload bytes of the current packet still to forward unchanged."""
    continuation: bool = False
    """The next packet continues a packet of MAX_PACKET_PAYLOAD bytes."""


# What a packet handler decides, given the header and the bytes available so far.
_NEED_MORE: Final = None


@dataclass(slots=True)
class _Stream:
    header: bytes | None = None
    """A replacement header (same length, another sequence id), or None: unchanged."""


@dataclass(slots=True)
class _Replace:
    data: bytes
    """Replaces the whole packet (header and payload)."""


_Decision = _Stream | _Replace | None
# (buffer, packet offset, payload length, sequence id, continues a 16 MB packet)
_Handler = Callable[[bytes | bytearray, int, int, int, bool], _Decision]


class MySQLRelay:
    """Transforms one MySQL connection's bytes in both directions (see module docs)."""

    def __init__(self, metadata: Callable[[], InstanceMetadata]) -> None:
        self._metadata = metadata
        self._phase = _Phase.GREETING
        self._client = _Direction()
        self._server = _Direction()
        self._handshake_response_seen = False
        self._seq_shift = 0
        """Extra packets a split rewritten command added: subtracted from the server's
        sequence ids (added to the client's) until the next command."""
        self._last_command = -1
        self._awaiting_response = False
        self._infile = False
        #: Number of commands rewritten so far (diagnostics and tests).
        self.rewritten = 0

    @property
    def passthrough(self) -> bool:
        """True once the relay gave up parsing (TLS, compression, failed login, ...)."""
        return self._phase is _Phase.PASSTHROUGH

    def client_to_server(self, data: bytes) -> bytes:
        return self._feed(self._client, data, self._client_packet)

    def server_to_client(self, data: bytes) -> bytes:
        return self._feed(self._server, data, self._server_packet)

    # ------------------------------------------------------------------ framing

    def _feed(self, d: _Direction, data: bytes, handler: _Handler) -> bytes:
        if d.pending:
            d.pending += data  # amortized: a buffered 16 MB packet is not copied per chunk
            buf: bytes | bytearray = d.pending
        elif self._phase is _Phase.PASSTHROUGH:
            return bytes(data)
        else:
            buf = data
        n = len(buf)
        pos = 0
        emitted = 0  # buf[emitted:pos] still to be appended unchanged
        parts: list[bytes | bytearray] = []
        while True:
            if d.skip:
                take = min(d.skip, n - pos)
                pos += take
                d.skip -= take
                if d.skip:
                    break
            if self._phase is _Phase.PASSTHROUGH:
                pos = n
                break
            if n - pos < 4:
                break
            length = buf[pos] | buf[pos + 1] << 8 | buf[pos + 2] << 16
            decision = handler(buf, pos, length, buf[pos + 3], d.continuation)
            if decision is _NEED_MORE:
                break
            d.continuation = length == MAX_PACKET_PAYLOAD
            if isinstance(decision, _Replace):
                parts.append(buf[emitted:pos])
                parts.append(decision.data)
                pos += 4 + length
                emitted = pos
            else:
                if decision.header is not None:
                    parts.append(buf[emitted:pos])
                    parts.append(decision.header)
                    emitted = pos + 4
                pos += 4
                d.skip = length
        if not parts and emitted == 0 and pos == n and buf is data:
            out = bytes(data)  # the common case: forwarded as is, no copy
        else:
            parts.append(buf[emitted:pos])
            out = b"".join(parts)
        if buf is d.pending:
            del d.pending[:pos]
        elif pos < n:
            d.pending = bytearray(buf[pos:])
        return out

    @staticmethod
    def _header(length: int, seq: int) -> bytes:
        return length.to_bytes(3, "little") + bytes((seq & 0xFF,))

    # ------------------------------------------------------------------ client -> server

    def _client_packet(
        self, buf: bytes | bytearray, pos: int, length: int, seq: int, continuation: bool
    ) -> _Decision:
        avail = len(buf) - pos - 4
        if self._phase is _Phase.AUTH and not self._handshake_response_seen:
            need = min(length, 4)
            if avail < need:
                return _NEED_MORE
            self._handshake_response_seen = True
            caps = int.from_bytes(buf[pos + 4 : pos + 4 + need], "little")
            if not caps & CLIENT_PROTOCOL_41:
                caps &= 0xFFFF
            if caps & (CLIENT_SSL | CLIENT_COMPRESS | CLIENT_ZSTD_COMPRESSION_ALGORITHM):
                self._phase = _Phase.PASSTHROUGH  # TLS / compression follows: opaque bytes
            return _Stream()
        if self._phase is not _Phase.COMMAND:
            return _Stream()
        if continuation or self._infile or seq != 0:
            if self._infile and length == 0 and not continuation:
                self._infile = False  # the empty packet that ends LOAD DATA LOCAL contents
            if self._seq_shift:
                return _Stream(self._header(length, seq + self._seq_shift))
            return _Stream()
        # A new command.
        if length == 0:
            return _Stream()
        if avail < 1:
            return _NEED_MORE
        command = buf[pos + 4]
        rewritable = length != MAX_PACKET_PAYLOAD and command in (COM_QUERY, COM_STMT_PREPARE)
        if rewritable and avail < length:
            return _NEED_MORE
        self._seq_shift = 0
        self._last_command = command
        self._awaiting_response = True
        if not rewritable:
            return _Stream()
        sql = bytes(buf[pos + 5 : pos + 4 + length])
        rewritten = rewrite_query(sql, self._metadata)
        if rewritten is None:
            return _Stream()
        self.rewritten += 1
        payload = bytes((command,)) + rewritten
        out = bytearray()
        offset = 0
        packets = 0
        while True:
            chunk = payload[offset : offset + MAX_PACKET_PAYLOAD]
            out += self._header(len(chunk), packets)
            out += chunk
            offset += len(chunk)
            packets += 1
            if len(chunk) < MAX_PACKET_PAYLOAD:
                break
        self._seq_shift = packets - 1
        return _Replace(bytes(out))

    # ------------------------------------------------------------------ server -> client

    def _server_packet(
        self, buf: bytes | bytearray, pos: int, length: int, seq: int, continuation: bool
    ) -> _Decision:
        avail = len(buf) - pos - 4
        if self._phase is _Phase.GREETING:
            if avail < length:
                return _NEED_MORE
            payload = _clear_capabilities(bytes(buf[pos + 4 : pos + 4 + length]))
            self._phase = _Phase.AUTH if payload is not None else _Phase.PASSTHROUGH
            if payload is None:
                return _Stream()
            return _Replace(self._header(length, seq) + payload)
        if self._phase is _Phase.AUTH:
            if length == 0:
                return _Stream()
            if avail < 1:
                return _NEED_MORE
            first = buf[pos + 4]
            if first == 0x00:
                self._phase = _Phase.COMMAND  # authenticated
            elif first == 0xFF:
                self._phase = _Phase.PASSTHROUGH  # login failed; the server hangs up
            return _Stream()
        header = self._header(length, seq - self._seq_shift) if self._seq_shift else None
        if self._awaiting_response and not continuation:
            if length and avail < 1:
                return _NEED_MORE
            self._awaiting_response = False
            if length and buf[pos + 4] == 0xFB and self._last_command == COM_QUERY:
                self._infile = True  # LOAD DATA LOCAL: file contents come next
        return _Stream(header)


def _clear_capabilities(payload: bytes) -> bytes | None:
    """The handshake v10 payload without TLS/compression/query-attribute capabilities, or
    None when it is not a v10 handshake (an error packet, an old protocol)."""
    if not payload or payload[0] != 10:
        return None
    end = payload.find(b"\x00", 1)
    if end < 0:
        return None
    low = end + 1 + 4 + 8 + 1  # version, connection id, auth data part 1, filler
    if len(payload) < low + 2:
        return None
    out = bytearray(payload)
    caps = int.from_bytes(out[low : low + 2], "little") & ~_CLEARED_LOW
    out[low : low + 2] = caps.to_bytes(2, "little")
    high = low + 2 + 1 + 2  # character set, status flags
    if len(out) >= high + 2:
        caps = int.from_bytes(out[high : high + 2], "little") & ~_CLEARED_HIGH
        out[high : high + 2] = caps.to_bytes(2, "little")
    return bytes(out)


# ---------------------------------------------------------------------- SQL rewriting

_CANDIDATE = re.compile(
    rb"replica_host_status|aurora_global_db_instance_status|aurora_global_db_status"
    rb"|aurora_server_id|aurora\\?_version"
    rb"|innodb_read_only",
    re.IGNORECASE,
)
_WS = frozenset(b" \t\r\n\f\v")
_IDENT = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$") | frozenset(
    range(0x80, 0x100)
)
_DIGITS = frozenset(b"0123456789")

_WS_T, _COMMENT_T, _STRING_T, _QUOTED_T, _WORD_T, _VAR_T, _PUNCT_T = range(7)

_TABLES = {
    b"replica_host_status": "_replica_host_status",
    b"aurora_global_db_instance_status": "_global_db_instance_status",
    b"aurora_global_db_status": "_global_db_status",
}
# Words that may follow a table reference and are not an alias of it.
_NOT_ALIAS = frozenset(
    b"""WHERE GROUP HAVING ORDER LIMIT JOIN INNER LEFT RIGHT CROSS NATURAL STRAIGHT_JOIN FULL
    OUTER ON USING UNION EXCEPT INTERSECT WINDOW FOR LOCK INTO PROCEDURE USE IGNORE FORCE
    PARTITION RETURNING SET OFFSET FETCH""".split()
)
# Words after which a select-list item starts.
_ITEM_START = frozenset(
    b"""SELECT DISTINCT DISTINCTROW ALL HIGH_PRIORITY STRAIGHT_JOIN SQL_SMALL_RESULT
    SQL_BIG_RESULT SQL_BUFFER_RESULT SQL_CACHE SQL_NO_CACHE SQL_CALC_FOUND_ROWS""".split()
)
# Words that end a select-list item.
_ITEM_END = frozenset(
    b"""FROM INTO UNION EXCEPT INTERSECT WHERE GROUP HAVING ORDER LIMIT FOR LOCK WINDOW
    OFFSET FETCH""".split()
)
# Words that start a clause other than a select list.
_CLAUSES = frozenset(
    b"""FROM WHERE GROUP HAVING ORDER LIMIT INTO UNION EXCEPT INTERSECT SET VALUES VALUE ON
    USING WINDOW FOR RETURNING UPDATE INSERT REPLACE DELETE CALL DO SHOW PARTITION
    OVER""".split()
)
_SCOPES = (b"global.", b"session.", b"local.")
_AURORA_TABLES = (
    b"AURORA_GLOBAL_DB_STATUS",
    b"AURORA_GLOBAL_DB_INSTANCE_STATUS",
    b"REPLICA_HOST_STATUS",
)
_AURORA_TABLE_LITERAL = re.compile(rb"'(?:" + b"|".join(_AURORA_TABLES) + rb")'", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: int
    start: int
    end: int


def _tokenize(sql: bytes) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(sql)
    exec_comments = 0  # open /*! ... */ executable comments: their contents are SQL
    while i < n:
        c = sql[i]
        kind = _PUNCT_T
        j = i + 1
        if c in _WS:
            kind = _WS_T
            while j < n and sql[j] in _WS:
                j += 1
        elif (
            c == 0x23
            or (  # '#' or '-- '
                c == 0x2D and sql[i + 1 : i + 2] == b"-" and (i + 2 == n or sql[i + 2] <= 0x20)
            )
        ):
            kind = _COMMENT_T
            j = sql.find(b"\n", i)
            j = n if j < 0 else j + 1
        elif c == 0x2F and sql[i + 1 : i + 2] == b"*":  # /*
            kind = _COMMENT_T
            if sql[i + 2 : i + 3] == b"!" or sql[i + 2 : i + 4] == b"M!":
                j = i + (3 if sql[i + 2] == 0x21 else 4)
                while j < n and sql[j] in _DIGITS:
                    j += 1
                exec_comments += 1
            else:
                j = sql.find(b"*/", i + 2)
                j = n if j < 0 else j + 2
        elif c == 0x2A and exec_comments and sql[i + 1 : i + 2] == b"/":  # */
            kind = _COMMENT_T
            j = i + 2
            exec_comments -= 1
        elif c in (0x27, 0x22):  # ' "
            kind = _STRING_T
            while j < n:
                if sql[j] == 0x5C:  # backslash
                    j += 2
                    continue
                if sql[j] == c:
                    if sql[j + 1 : j + 2] == bytes((c,)):
                        j += 2
                        continue
                    j += 1
                    break
                j += 1
            j = min(j, n)
        elif c == 0x60:  # `
            kind = _QUOTED_T
            while j < n:
                if sql[j] == 0x60:
                    if sql[j + 1 : j + 2] == b"`":
                        j += 2
                        continue
                    j += 1
                    break
                j += 1
        elif c == 0x40:  # @ / @@
            kind = _VAR_T
            if sql[j : j + 1] == b"@":
                j += 1
            if j < n and sql[j] in (0x27, 0x22, 0x60):  # @'quoted' user variable
                quote = sql[j]
                end = sql.find(bytes((quote,)), j + 1)
                j = n if end < 0 else end + 1
            else:
                while j < n and (sql[j] in _IDENT or sql[j] == 0x2E):
                    j += 1
        elif c in _IDENT:
            kind = _WORD_T
            while j < n and sql[j] in _IDENT:
                j += 1
        tokens.append(_Token(kind, i, j))
        i = j
    return tokens


def rewrite_query(
    sql: bytes, metadata: Callable[[], InstanceMetadata] | InstanceMetadata
) -> bytes | None:
    """``sql`` with the Aurora names answered from ``metadata``, or None if it has none."""
    if _CANDIDATE.search(sql) is None:
        return None
    return _Rewriter(sql, metadata).run()


class _Rewriter:
    def __init__(
        self, sql: bytes, metadata: Callable[[], InstanceMetadata] | InstanceMetadata
    ) -> None:
        self.sql = sql
        self._source = metadata
        self._metadata: InstanceMetadata | None = None
        tokens = _tokenize(sql)
        self.sig = [t for t in tokens if t.kind not in (_WS_T, _COMMENT_T)]

    @property
    def metadata(self) -> InstanceMetadata:
        if self._metadata is None:
            source = self._source
            self._metadata = source if isinstance(source, InstanceMetadata) else source()
        return self._metadata

    def text(self, k: int) -> bytes:
        t = self.sig[k]
        return self.sql[t.start : t.end]

    def word(self, k: int) -> bytes | None:
        """The upper-cased word at significant index ``k`` (None: not a plain word)."""
        if 0 <= k < len(self.sig) and self.sig[k].kind == _WORD_T:
            return self.text(k).upper()
        return None

    def name(self, k: int) -> bytes | None:
        """Lower-cased identifier (plain or backquoted) at ``k``."""
        if not 0 <= k < len(self.sig):
            return None
        t = self.sig[k]
        if t.kind == _WORD_T:
            return self.text(k).lower()
        if t.kind == _QUOTED_T:
            return self.text(k)[1:-1].replace(b"``", b"`").lower()
        return None

    def punct(self, k: int) -> bytes | None:
        if 0 <= k < len(self.sig) and self.sig[k].kind == _PUNCT_T:
            return self.text(k)
        return None

    def run(self) -> bytes | None:
        edits: list[tuple[int, int, bytes]] = []
        # One frame per open parenthesis or CASE: [opener, current clause].
        frames: list[list[bytes | None]] = [[None, None]]
        statement_start = True
        k = 0
        sig = self.sig
        while k < len(sig):
            t = sig[k]
            if statement_start:
                statement_start = False
                show = self._show_variables(k)
                if show is not None:
                    end_k, replacement = show
                    edits.append((t.start, sig[end_k].end, replacement))
                    k = end_k + 1
                    continue
            if t.kind == _PUNCT_T:
                p = self.text(k)
                if p == b"(":
                    frames.append([b"(", None])
                elif p == b")":
                    while len(frames) > 1 and frames[-1][0] == b"CASE":
                        frames.pop()  # unbalanced CASE
                    if len(frames) > 1:
                        frames.pop()
                elif p == b";":
                    frames = [[None, None]]
                    statement_start = True
            elif t.kind == _WORD_T:
                w = self.text(k).upper()
                if w == b"CASE":
                    frames.append([b"CASE", None])
                elif w == b"END" and len(frames) > 1 and frames[-1][0] == b"CASE":
                    frames.pop()
                elif w == b"SELECT" or w in _CLAUSES:
                    frames[-1][1] = w
            if t.kind in (_WORD_T, _QUOTED_T) and self.name(k) == b"information_schema":
                table = self.name(k + 2) if self.punct(k + 1) == b"." else None
                if table is not None and table in _TABLES and self.punct(k - 1) != b".":
                    edits.append((t.start, sig[k + 2].end, self._table(table, k + 3)))
                    k += 3
                    continue
                if (
                    table == b"tables"
                    and self.punct(k - 1) != b"."
                    and self.punct(k + 3) != b"."
                    and _AURORA_TABLE_LITERAL.search(self.sql) is not None
                ):
                    edits.append((t.start, sig[k + 2].end, self._tables(k + 3)))
                    k += 3
                    continue
            if t.kind == _VAR_T:
                value = self._variable(k, frames[-1][1] == b"SELECT")
                if value is not None:
                    edits.append((t.start, t.end, value))
            k += 1
        if not edits:
            return None
        out = bytearray()
        last = 0
        for start, end, replacement in edits:
            out += self.sql[last:start]
            out += replacement
            last = end
        out += self.sql[last:]
        return bytes(out)

    # -- SHOW VARIABLES LIKE 'aurora_version'

    def _show_variables(self, k: int) -> tuple[int, bytes] | None:
        if self.word(k) != b"SHOW":
            return None
        j = k + 1
        if self.word(j) in (b"GLOBAL", b"SESSION", b"LOCAL"):
            j += 1
        if self.word(j) != b"VARIABLES" or self.word(j + 1) != b"LIKE":
            return None
        j += 2
        if j >= len(self.sig) or self.sig[j].kind != _STRING_T:
            return None
        pattern = self.text(j)[1:-1].lower()
        if pattern not in (b"aurora_version", b"aurora\\_version"):
            return None
        if j + 1 < len(self.sig) and self.punct(j + 1) != b";":
            return None
        version = _string(self.metadata.engine_version)
        return j, b"SELECT 'aurora_version' AS Variable_name, " + version + b" AS Value"

    # -- variables

    def _variable(self, k: int, in_select_list: bool) -> bytes | None:
        original = self.text(k)
        lowered = original.lower()
        if not lowered.startswith(b"@@"):
            return None
        name = lowered[2:]
        for scope in _SCOPES:
            if name.startswith(scope):
                name = name[len(scope) :]
                break
        if name == b"aurora_server_id":
            value = _string(self.metadata.instance_id)
        elif name == b"aurora_version":
            value = _string(self.metadata.engine_version)
        elif name == b"innodb_read_only":
            value = original[: len(original) - len(b"innodb_read_only")] + b"read_only"
        else:
            return None
        if in_select_list and self._whole_item(k):
            value += b" AS `" + original.replace(b"`", b"``") + b"`"
        return value

    def _whole_item(self, k: int) -> bool:
        """Whether the token at ``k`` is a whole select-list item without an alias."""
        before = self.punct(k - 1)
        if before != b"," and self.word(k - 1) not in _ITEM_START:
            return False
        if k + 1 >= len(self.sig):
            return True
        after = self.punct(k + 1)
        if after is not None:
            return after in (b",", b";", b")")
        return self.word(k + 1) in _ITEM_END

    # -- tables

    def _table(self, table: bytes, next_k: int) -> bytes:
        if self.punct(next_k) == b".":
            return table  # a qualified column: refer to the derived table's alias
        builder: Callable[[InstanceMetadata], bytes] = getattr(self, _TABLES[table])
        derived = b"(" + builder(self.metadata) + b")"
        following = self.word(next_k)
        has_alias = (next_k < len(self.sig) and self.sig[next_k].kind == _QUOTED_T) or (
            following is not None and following not in _NOT_ALIAS
        )
        return derived if has_alias else derived + b" AS " + table

    def _tables(self, next_k: int) -> bytes:
        """``information_schema.tables`` with Aurora's metadata tables listed too (for a
        query that names one of them in a string: an existence check such as
        ``... WHERE upper(table_name) = 'AURORA_GLOBAL_DB_STATUS'``); the columns
        TABLE_CATALOG, TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, ENGINE only."""
        columns = b"TABLE_CATALOG, TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, ENGINE"
        parts = [b"SELECT " + columns + b" FROM information_schema.tables"]
        parts += [
            b"SELECT 'def', 'information_schema', '" + name + b"', 'SYSTEM VIEW', 'MEMORY'"
            for name in _AURORA_TABLES
        ]
        derived = b"(" + b" UNION ALL ".join(parts) + b")"
        following = self.word(next_k)
        has_alias = (next_k < len(self.sig) and self.sig[next_k].kind == _QUOTED_T) or (
            following is not None and following not in _NOT_ALIAS
        )
        return derived if has_alias else derived + b" AS tables"

    @staticmethod
    def _replica_host_status(metadata: InstanceMetadata) -> bytes:
        if not metadata.topology:
            return (
                b"SELECT CAST(NULL AS CHAR(100)) AS SERVER_ID,"
                b" CAST(NULL AS CHAR(100)) AS SESSION_ID, CAST(NULL AS DOUBLE) AS CPU,"
                b" CAST(NULL AS DOUBLE) AS REPLICA_LAG_IN_MILLISECONDS,"
                b" CAST(NULL AS DATETIME(6)) AS LAST_UPDATE_TIMESTAMP FROM DUAL WHERE FALSE"
            )
        rows = [
            b"SELECT CAST("
            + _string(r.server_id)
            + b" AS CHAR(100)) AS SERVER_ID, CAST("
            + _string(r.session_id)
            + b" AS CHAR(100)) AS SESSION_ID, CAST("
            + _number(r.cpu)
            + b" AS DOUBLE) AS CPU, CAST("
            + _number(None if r.is_writer else r.replica_lag_in_msec)
            + b" AS DOUBLE) AS REPLICA_LAG_IN_MILLISECONDS, NOW(6) - INTERVAL "
            + _microseconds(r.age_s)
            + b" MICROSECOND AS LAST_UPDATE_TIMESTAMP"
            for r in metadata.topology
        ]
        return b" UNION ALL ".join(rows)

    @staticmethod
    def _global_db_instance_status(metadata: InstanceMetadata) -> bytes:
        columns = (
            b"SERVER_ID",
            b"SESSION_ID",
            b"AWS_REGION",
            b"DURABLE_LSN",
            b"HIGHEST_LSN_RCVD",
            b"OLDEST_READ_VIEW_TRX_ID",
            b"OLDEST_READ_VIEW_LSN",
            b"VISIBILITY_LAG_IN_MSEC",
        )
        types = (
            b"CHAR(100)",
            b"CHAR(100)",
            b"CHAR(100)",
            b"UNSIGNED",
            b"UNSIGNED",
            b"UNSIGNED",
            b"UNSIGNED",
            b"DOUBLE",
        )
        extra = metadata.extra
        default_region = str(extra.get("aws_region", "us-east-1"))
        rows: list[list[bytes]] = []
        durable = int(extra.get("durable_lsn", 100_000_000))
        lsn_columns = ("durable_lsn", "highest_lsn_rcvd", "oldest_read_view_lsn")
        explicit = extra.get("global_db_instance_status")
        if isinstance(explicit, list):  # rows given as dicts with lower-case column names
            for row in explicit:  # a null LSN column: a fixed position
                given = {c.decode().lower(): row.get(c.decode().lower()) for c in columns}
                for key in lsn_columns:
                    if given[key] is None:
                        given[key] = durable
                rows.append([_value(given[c.decode().lower()]) for c in columns])
            explicit_rows = True
        else:
            explicit_rows = False
        regions = extra.get("aws_regions") or {}
        oldest_trx = int(extra.get("oldest_read_view_trx_id", 1_000))
        for r in () if explicit_rows else metadata.topology:
            region = _string(str(regions.get(r.server_id, default_region)))
            if r.is_writer:
                values = [b"NULL"] * 4
            else:
                lag = r.replica_lag_in_msec or 0.0
                behind = int(lag) if math.isfinite(lag) else 0
                values = [
                    str(durable).encode(),  # HIGHEST_LSN_RCVD
                    str(oldest_trx).encode(),  # OLDEST_READ_VIEW_TRX_ID
                    str(max(0, durable - behind)).encode(),  # OLDEST_READ_VIEW_LSN
                    _number(lag),  # VISIBILITY_LAG_IN_MSEC
                ]
            durable_lsn = str(durable).encode()
            rows.append([_string(r.server_id), _string(r.session_id), region, durable_lsn, *values])
        if not rows:
            rows.append([b"NULL"] * len(columns))
            where = b" FROM DUAL WHERE FALSE"
        else:
            where = b""
        selects = [
            b"SELECT "
            + b", ".join(
                b"CAST(" + v + b" AS " + t + b") AS " + c
                for v, t, c in zip(row, types, columns, strict=True)
            )
            + where
            for row in rows
        ]
        return b" UNION ALL ".join(selects)

    @staticmethod
    def _global_db_status(metadata: InstanceMetadata) -> bytes:
        """One row per region: ``extra["global_db_status"]`` (dicts with the PostgreSQL
        column names), else the one row of a primary region (``aws_region``)."""
        columns = (
            (b"AWS_REGION", b"CHAR(100)", "aws_region"),
            (b"HIGHEST_LSN_WRITTEN", b"UNSIGNED", "highest_lsn_written"),
            (b"DURABILITY_LAG_IN_MILLISECONDS", b"DOUBLE", "durability_lag_in_msec"),
            (b"RPO_LAG_IN_MILLISECONDS", b"DOUBLE", "rpo_lag_in_msec"),
            (b"LAST_LAG_CALCULATION_TIME", b"DATETIME(6)", "last_lag_calculation_time"),
            (b"OLDEST_READ_VIEW_TRX_ID", b"UNSIGNED", "oldest_read_view_trx_id"),
        )
        extra = metadata.extra
        durable = int(extra.get("durable_lsn", 100_000_000))
        given = extra.get("global_db_status")
        if isinstance(given, list):
            rows = [dict(r) for r in given if isinstance(r, dict)]
        else:
            rows = [
                {
                    "aws_region": str(extra.get("aws_region", "us-east-1")),
                    "durability_lag_in_msec": -1.0,
                    "rpo_lag_in_msec": -1.0,
                    "last_lag_calculation_time": "1970-01-01 00:00:00",
                    "oldest_read_view_trx_id": int(extra.get("oldest_read_view_trx_id", 1_000)),
                }
            ]
        selects = []
        for row in rows:
            if row.get("highest_lsn_written") is None:
                row["highest_lsn_written"] = durable
            when = row.get("last_lag_calculation_time")
            if isinstance(when, str):  # ISO 8601 with an offset -> a DATETIME literal
                row["last_lag_calculation_time"] = when.replace("T", " ").split("+")[0]
            values = {key: _value(row.get(key)) for _, _, key in columns}
            if when is None:  # calculated now
                values["last_lag_calculation_time"] = b"NOW(6)"
            selects.append(
                b"SELECT "
                + b", ".join(
                    b"CAST(" + values[key] + b" AS " + t + b") AS " + c for c, t, key in columns
                )
            )
        if not selects:
            return (
                b"SELECT "
                + b", ".join(b"CAST(NULL AS " + t + b") AS " + c for c, t, _ in columns)
                + b" FROM DUAL WHERE FALSE"
            )
        return b" UNION ALL ".join(selects)


_PLAIN_STRING = re.compile(rb"[A-Za-z0-9 _.:,/+=@-]*\Z")


def _string(value: str) -> bytes:
    """A SQL string literal, independent of ``sql_mode`` and the client character set."""
    raw = value.encode("utf-8")
    if _PLAIN_STRING.match(raw):
        return b"'" + raw + b"'"
    return b"CONVERT(X'" + raw.hex().encode() + b"' USING utf8mb4)"


def _value(value: object) -> bytes:
    if value is None:
        return b"NULL"
    if isinstance(value, bool):
        return b"1" if value else b"0"
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, float):
        return _number(value)
    return _string(str(value))


def _number(value: float | None) -> bytes:
    if value is None or not math.isfinite(value):
        return b"NULL"
    return repr(float(value)).encode()


def _microseconds(seconds: float) -> bytes:
    if not math.isfinite(seconds):
        seconds = 0.0
    return str(round(seconds * 1_000_000)).encode()
