"""examples/fastapi_app.py: the app in this process (httpx's ASGITransport) on the devcluster,
across a failover, and the script's own demo."""

from __future__ import annotations

import asyncio
import importlib.util
import subprocess
import sys
import time
import uuid
from functools import partial
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from aws_wrapper._compat import arun_blocking
from aws_wrapper_devcluster import Cluster

from .helpers import cluster_for

EXAMPLE = Path(__file__).resolve().parent.parent.parent / "examples" / "fastapi_app.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fastapi_app_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the models' annotations through it
    spec.loader.exec_module(module)
    return module


@pytest.fixture(params=["psycopg", "aiomysql"])
def cluster(request: pytest.FixtureRequest) -> Cluster:
    return cluster_for(request, str(request.param))


async def test_app_reads_on_readers_and_survives_a_failover(cluster: Cluster) -> None:
    example = load_example()
    app = example.create_app(example.devcluster_url(cluster))
    writer = cluster.writer
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        assert (await client.get("/writer")).json() == {"instance": writer}
        created = await client.post("/notes", json={"text": "hello"})
        assert created.status_code == 201, created.text
        ids = {created.json()["id"]}
        page = await example.wait_for_notes(client, ids)
        assert page["served_by"] != writer  # the read-only dependency reads on a reader
        assert page["served_by"] in cluster.instance_ids
        assert ids <= {n["id"] for n in page["notes"]}

        statuses: list[int] = []
        stop = asyncio.Event()

        async def keep_posting() -> None:
            while not stop.is_set():
                note_id = str(uuid.uuid4())
                response = await client.post("/notes", json={"id": note_id, "text": "x"})
                statuses.append(response.status_code)
                if response.status_code == 201:
                    ids.add(note_id)
                await asyncio.sleep(0.01)

        posting = [asyncio.create_task(keep_posting()) for _ in range(4)]
        await asyncio.sleep(0.3)
        result = await arun_blocking(partial(cluster.failover))
        await asyncio.sleep(3.5)  # the wrapper confirms the new writer, requests go on
        stop.set()
        await asyncio.gather(*posting)
        assert statuses and set(statuses) == {201}, statuses  # retried, never an error
        assert (await client.get("/writer")).json() == {"instance": result["new_writer"]}
        page = await example.wait_for_notes(client, ids)
        assert ids <= {n["id"] for n in page["notes"]}
        # reads go back to a reader once one is up again: the old writer restarts as a reader,
        # which can take longer than the 3.5 s above on a loaded machine (while none is up,
        # the read-only session reads on the writer)
        deadline = time.monotonic() + 15
        while page["served_by"] == result["new_writer"] and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            page = await example.wait_for_notes(client, ids)
        assert page["served_by"] != result["new_writer"]


@pytest.mark.timeout(90)
def test_the_demo_runs(request: pytest.FixtureRequest) -> None:
    cluster = cluster_for(request, "psycopg")  # its own devcluster would cost another start
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--cluster", cluster.name, "--seconds", "3.5"],
        capture_output=True,
        text=True,
        timeout=80,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith("[fastapi] ok"), done.stdout + done.stderr
    assert "0 failed" in done.stdout


def test_help() -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert "--serve" in done.stdout and "--cluster" in done.stdout
