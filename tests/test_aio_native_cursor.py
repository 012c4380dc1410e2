"""Native cursors, what aws_wrapper.aio alone does (see aws_wrapper._async.native_cursor):
aiomysql's ``fetchone`` is a plain function that makes its row at once and returns it in a
future already done; a native cursor hands that future on, without a coroutine of its own
around it, and reports the driver's errors as ever."""

from __future__ import annotations

import asyncio
from typing import Any

import pymysql
import pytest

from aws_wrapper import aio as aw


@pytest.fixture
def driver() -> str:
    return "aiomysql"


async def test_aiomysql_rows_come_in_its_own_done_future(db_params: dict[str, Any]) -> None:
    async with await aw.connect(driver="aiomysql", autocommit=True, **db_params) as conn:
        cur = conn.cursor()
        assert isinstance(cur, aw.AsyncAwsWrapperCursor)
        await cur.execute("SELECT 1")
        made = cur.fetchone()
        assert isinstance(made, asyncio.Future) and made.done()  # aiomysql's, handed on
        assert tuple(await made) == (1,)
        assert await cur.fetchone() is None
        await cur.close()
        with pytest.raises(aw.InterfaceError):  # closed: the wrapper's error
            await cur.fetchone()

        fresh = conn.cursor()
        with pytest.raises(aw.ProgrammingError) as info:  # aiomysql: "execute() first"
            await fresh.fetchone()
        assert isinstance(info.value, pymysql.err.ProgrammingError)  # still the driver's
        await fresh.execute("SELECT 2")  # and the cursor goes on
        assert tuple(await fresh.fetchone()) == (2,)
        await fresh.close()
