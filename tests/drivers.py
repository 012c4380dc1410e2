"""The drivers of each world, for the behavioural test matrix (hand-written: both halves)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiomysql
import mysql.connector
import mysql.connector.aio
import psycopg
import pymysql

# async driver name -> its connect function, and the blocking twins
AsyncConnectFunctions: dict[str, Callable[..., Any]] = {
    "psycopg": psycopg.AsyncConnection.connect,
    "aiomysql": aiomysql.connect,
    "mysql-connector": mysql.connector.aio.connect,
}
ConnectFunctions: dict[str, Callable[..., Any]] = {
    "psycopg": psycopg.Connection.connect,
    "pymysql": pymysql.connect,
    "mysql-connector": mysql.connector.connect,
}
ENGINES = {
    "psycopg": "postgresql",
    "aiomysql": "mysql",
    "pymysql": "mysql",
    "mysql-connector": "mysql",
}
