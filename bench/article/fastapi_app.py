"""The article's asynchronous peer: the five workloads of bench-spec.md on FastAPI, for Uvicorn.

    DATABASE_URL=postgresql://... UPSTREAM_URL=http://127.0.0.1:PORT HTTP_CLIENT=httpx \\
        /usr/bin/python3 -m uvicorn fastapi_app:app --app-dir bench/article \\
        --loop uvloop --http httptools --workers 1

HTTP_CLIENT chooses the shared upstream client: `httpx` (one httpx.AsyncClient, limits raised
to 1000 connections) or `aiohttp` (one aiohttp.ClientSession, same limit). The asyncpg pool
(min 10, max 20) and the client are created at startup and closed at shutdown. /par and /mixed
run their I/O concurrently (asyncio.TaskGroup); /cpu runs the kernel via asyncio.to_thread, as the
article advises for CPU work in a coroutine; /mixed's small kernel (n = 200) runs inline.
"""

import asyncio
import hashlib
import os
import random

import asyncpg
from fastapi import FastAPI, HTTPException, Request

DATABASE_URL = os.environ["DATABASE_URL"]
UPSTREAM_URL = os.environ["UPSTREAM_URL"].rstrip("/")
HTTP_CLIENT = os.environ.get("HTTP_CLIENT", "httpx")
ITEMS = 10_000
ITEM_QUERY = "SELECT name, price FROM items WHERE id = $1"

app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
state = {}


class HttpxUpstream:
    def __init__(self):
        import httpx

        limits = httpx.Limits(max_connections=1000, max_keepalive_connections=1000)
        self.client = httpx.AsyncClient(base_url=UPSTREAM_URL, limits=limits, timeout=10)

    async def get(self, path):
        r = await self.client.get(path)
        r.raise_for_status()
        return r.json()

    async def close(self):
        await self.client.aclose()


class AiohttpUpstream:
    def __init__(self):
        import aiohttp

        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=1000),
            timeout=aiohttp.ClientTimeout(total=10),
            raise_for_status=True,
        )

    async def get(self, path):
        async with self.session.get(UPSTREAM_URL + path) as r:
            return await r.json()

    async def close(self):
        await self.session.close()


@app.on_event("startup")
async def startup():
    state["pool"] = await asyncpg.create_pool(DATABASE_URL, min_size=10, max_size=20)
    state["upstream"] = AiohttpUpstream() if HTTP_CLIENT == "aiohttp" else HttpxUpstream()


@app.on_event("shutdown")
async def shutdown():
    await state["upstream"].close()
    await state["pool"].close()


def sha256_chain(n):
    buf = bytes(range(64))
    for _ in range(n):
        d = hashlib.sha256(buf).digest()
        buf = d + d
    return d.hex()


def item_id(request: Request):
    raw = request.query_params.get("id")
    return int(raw) if raw is not None else random.randint(1, ITEMS)


async def fetch_item(i):
    row = await state["pool"].fetchrow(ITEM_QUERY, i)
    if row is None:
        raise HTTPException(404)
    return {"id": i, "name": row["name"], "price": f"{row['price']:.2f}"}


@app.get("/db")
async def db_endpoint(request: Request):
    return await fetch_item(item_id(request))


@app.get("/seq")
async def seq_endpoint():
    up = state["upstream"]
    a = await up.get("/api/a")
    b = await up.get("/api/b")
    c = await up.get("/api/c")
    return {"a": a, "b": b, "c": c}


@app.get("/par")
async def par_endpoint():
    up = state["upstream"]
    async with asyncio.TaskGroup() as tg:
        a, b, c = (tg.create_task(up.get(p)) for p in ("/api/a", "/api/b", "/api/c"))
    return {"a": a.result(), "b": b.result(), "c": c.result()}


@app.get("/cpu")
async def cpu_endpoint():
    return {"iters": 2000, "digest": await asyncio.to_thread(sha256_chain, 2000)}


@app.get("/mixed")
async def mixed_endpoint(request: Request):
    async with asyncio.TaskGroup() as tg:
        item = tg.create_task(fetch_item(item_id(request)))
        up = tg.create_task(state["upstream"].get("/api/a"))
    return {"item": item.result(), "upstream": up.result(), "iters": 200,
            "digest": sha256_chain(200)}
