"""A FastAPI application on aws_wrapper's SQLAlchemy dialects: writes go to the writer, reads to
the readers (read/write splitting), and a failover costs a retried request, not an error page.

    .venv/bin/python examples/fastapi_app.py                    # demo on a devcluster it starts
    .venv/bin/python examples/fastapi_app.py --engine mysql     # the same on MySQL (aiomysql)
    .venv/bin/python examples/fastapi_app.py --cluster NAME     # on a running devcluster
    .venv/bin/python examples/fastapi_app.py --serve 127.0.0.1:8000   # serve it (needs uvicorn)

The demo runs the app in this process (httpx's ASGITransport, no server): it adds notes, lists
them from a reader, then fails the cluster over while a client keeps adding notes, and checks
that every request succeeded and every note is there. With your own database (the URL of the
cluster endpoint, with ``?wrapper_plugins=failover_v2,read_write_splitting``)::

    DATABASE_URL='postgresql+aws_wrapper_psycopg://app:pw@app.cluster-xyz...' \\
        uvicorn --factory fastapi_app:app_from_env

See docs/sqlalchemy.md.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Annotated, Any, TypeVar

import httpx
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import String, select, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import aws_wrapper.aio
from aws_wrapper.sqlalchemy import is_retryable

T = TypeVar("T")
logger = logging.getLogger("fastapi_app")

PLUGINS = "failover_v2,read_write_splitting,aurora_connection_tracker"


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "fastapi_notes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # chosen by the client
    text: Mapped[str] = mapped_column(String(500))


class NoteIn(BaseModel):
    text: str
    id: str | None = None
    """Optional: a client that retries a request sends the same id (idempotent writes)."""


class NoteOut(BaseModel):
    id: str
    text: str


class NotesPage(BaseModel):
    notes: list[NoteOut]
    served_by: str


async def retry_on_failover(
    session: AsyncSession, work: Callable[[], Awaitable[T]], attempts: int = 3
) -> T:
    """Run ``work`` (one transaction on ``session``) again when a failover or a lost
    connection interrupted it. ``work`` must be safe to re-run: after a
    TransactionResolutionUnknownError its first attempt may have committed."""
    for attempt in range(1, attempts + 1):
        try:
            return await work()
        except DBAPIError as e:
            await session.rollback()  # the next attempt gets a (new) pooled connection
            if attempt == attempts or not is_retryable(e):
                raise
            await asyncio.sleep(0.1 * attempt)
    raise AssertionError("unreachable")


async def writer_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session on the writer."""
    sessions: async_sessionmaker[AsyncSession] = request.app.state.writer_sessions
    async with sessions() as session:
        yield session


async def reader_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session on a reader (read/write splitting), for read-only endpoints: its engine has
    the execution option ``aws_read_only=True``."""
    sessions: async_sessionmaker[AsyncSession] = request.app.state.reader_sessions
    async with sessions() as session:
        yield session


WriterSession = Annotated[AsyncSession, Depends(writer_session)]
ReaderSession = Annotated[AsyncSession, Depends(reader_session)]


def create_app(database_url: str | URL, **engine_options: Any) -> FastAPI:
    """The application for ``database_url`` (``postgresql+aws_wrapper_psycopg://...`` or
    ``mysql+aws_wrapper_aiomysql://...``, with ``wrapper_plugins`` in its query)."""
    options: dict[str, Any] = {"pool_size": 5, "max_overflow": 0, "pool_pre_ping": True}
    options.update(engine_options)
    engine = create_async_engine(database_url, **options)
    writer_sessions = async_sessionmaker(engine, expire_on_commit=False)
    # the same pool; each session's connection is switched to a reader while it is checked out
    reader_sessions = async_sessionmaker(
        engine.execution_options(aws_read_only=True), expire_on_commit=False
    )
    instance_sql = text(
        "SELECT pg_catalog.aurora_db_instance_identifier()"
        if engine.dialect.name == "postgresql"
        else "SELECT @@aurora_server_id"
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        yield
        await engine.dispose()
        await aws_wrapper.aio.release_resources()  # the wrapper's monitors of this event loop

    app = FastAPI(title="notes on aws_wrapper", lifespan=lifespan)
    app.state.engine = engine
    app.state.writer_sessions = writer_sessions
    app.state.reader_sessions = reader_sessions

    @app.post("/notes", status_code=201)
    async def add_note(note: NoteIn, session: WriterSession) -> NoteOut:
        note_id = note.id or str(uuid.uuid4())

        async def write() -> None:
            if await session.get(Note, note_id) is None:  # a retry after an unknown outcome
                session.add(Note(id=note_id, text=note.text))
            await session.commit()

        await retry_on_failover(session, write)
        return NoteOut(id=note_id, text=note.text)

    @app.get("/notes")
    async def list_notes(session: ReaderSession) -> NotesPage:
        async def read() -> NotesPage:
            notes = (await session.scalars(select(Note).order_by(Note.id))).all()
            page = NotesPage(
                notes=[NoteOut(id=n.id, text=n.text) for n in notes],
                served_by=str(await session.scalar(instance_sql)),
            )
            await session.rollback()  # end the read-only transaction (objects expire)
            return page

        return await retry_on_failover(session, read)

    @app.get("/writer")
    async def writer_instance(session: WriterSession) -> dict[str, str]:
        async def read() -> str:
            instance = str(await session.scalar(instance_sql))
            await session.rollback()
            return instance

        return {"instance": await retry_on_failover(session, read)}

    @app.exception_handler(DBAPIError)
    async def unavailable(request: Request, error: DBAPIError) -> JSONResponse:
        """Retries used up (or an error no retry helps): 503 for a failover in progress."""
        if is_retryable(error):
            return JSONResponse(
                {"detail": "database failover in progress"}, 503, {"Retry-After": "1"}
            )
        logger.error("%s %s failed", request.method, request.url.path, exc_info=error)
        return JSONResponse({"detail": "database error"}, 500)

    return app


def app_from_env() -> FastAPI:
    """For ``uvicorn --factory fastapi_app:app_from_env``: the URL is ``$DATABASE_URL``."""
    return create_app(os.environ["DATABASE_URL"])


# -- the demo on a devcluster --------------------------------------------------------------------


def devcluster_url(cluster: Any, plugins: str = PLUGINS) -> URL:
    """The cluster endpoint's URL for the async dialect of the cluster's engine.
    ``enable_connect_failover``: a connection the pool opens while the cluster fails over
    waits for the new writer instead of failing (the endpoint's DNS can still name the old
    one)."""
    params = cluster.conn_params()
    postgres = cluster.engine.value == "postgresql"
    return URL.create(
        "postgresql+aws_wrapper_psycopg" if postgres else "mysql+aws_wrapper_aiomysql",
        username=params["user"],
        password=params["password"],
        host=params["host"],
        port=params["port"],
        database=params["dbname"] if postgres else params["database"],
        query={
            "wrapper_plugins": plugins,
            "failover_timeout_sec": "30",
            "enable_connect_failover": "true",
        },
    )


def say(message: str) -> None:
    print(f"[fastapi] {message}", flush=True)


async def wait_for_notes(client: httpx.AsyncClient, ids: set[str], timeout: float = 10) -> Any:
    """GET /notes until a reader has them all: replication is asynchronous (right after the
    table is created, a reader may not have the table yet)."""
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get("/notes")
        if response.status_code == 200 or time.monotonic() > deadline:
            page = response.raise_for_status().json()
            if ids <= {n["id"] for n in page["notes"]} or time.monotonic() > deadline:
                return page
        await asyncio.sleep(0.1)


async def demo(cluster: Any, seconds: float = 3.0) -> bool:
    app = create_app(devcluster_url(cluster))
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://notes") as client,
    ):
        writer = (await client.get("/writer")).json()["instance"]
        say(f"writer: {writer}")
        ids = set()
        for i in range(3):
            note = (await client.post("/notes", json={"text": f"note {i}"})).json()
            ids.add(note["id"])
        page = await wait_for_notes(client, ids)
        say(f"GET /notes: {len(page['notes'])} notes, served by {page['served_by']} (a reader)")

        statuses: list[int] = []
        stop = asyncio.Event()

        async def keep_posting() -> None:
            n = 0
            while not stop.is_set():
                n += 1
                note_id = str(uuid.uuid4())
                response = await client.post("/notes", json={"id": note_id, "text": f"w{n}"})
                statuses.append(response.status_code)
                if response.status_code == 201:
                    ids.add(note_id)
                await asyncio.sleep(0.01)

        posting = [asyncio.create_task(keep_posting()) for _ in range(4)]
        await asyncio.sleep(0.5)
        say("failing over ...")
        result = await asyncio.to_thread(partial(cluster.failover))
        say(f"{result['old_writer']} -> {result['new_writer']} in {result['total_s']:.2f} s")
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.gather(*posting)
        failed = [s for s in statuses if s != 201]
        say(f"POST /notes during the failover: {len(statuses)} requests, {len(failed)} failed")
        writer = (await client.get("/writer")).json()["instance"]
        say(f"writer now: {writer}")
        page = await wait_for_notes(client, ids)
        missing = ids - {n["id"] for n in page["notes"]}
        say(f"GET /notes: {len(page['notes'])} notes, served by {page['served_by']}")
        ok = not failed and not missing and writer == result["new_writer"]
        say("ok" if ok else f"FAILED: {len(failed)} failed requests, {len(missing)} notes missing")
        return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--engine", choices=["postgresql", "mysql"], default="postgresql")
    parser.add_argument("--cluster", help="use this running devcluster instead of starting one")
    parser.add_argument("--serve", metavar="HOST:PORT", help="serve the app (needs uvicorn)")
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to post after it")
    args = parser.parse_args(argv)

    from aws_wrapper_devcluster import Cluster

    if args.cluster:
        cluster = Cluster.attach(args.cluster)
        started = False
    else:
        say(f"starting a {args.engine} devcluster ...")
        cluster = Cluster.up(args.engine, readers=2, name="fastapi-demo", tie_to_this_process=True)
        started = True
    # Cluster.up / attach installed the devcluster's name resolver: its names resolve here
    try:
        if args.serve:
            import importlib

            uvicorn = importlib.import_module("uvicorn")  # not a dependency: pip install uvicorn
            host, _, port = args.serve.rpartition(":")
            say(f"serving on http://{args.serve}/docs (Ctrl-C to stop)")
            uvicorn.run(
                create_app(devcluster_url(cluster)), host=host or "127.0.0.1", port=int(port)
            )
            return 0
        return 0 if asyncio.run(demo(cluster, args.seconds)) else 1
    finally:
        if started:
            cluster.down()


if __name__ == "__main__":
    sys.exit(main())
