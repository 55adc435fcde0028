#!/usr/bin/python3
"""redis.asyncio (Debian python3-redis) counterpart of redis_bench: prints
"mode ops_per_second" for seq, pipe16 and auto64 (64 tasks; redis.asyncio has
no automatic pipelining, so they share the client's connection pool).
Uses uvloop when it is installed."""
import argparse
import asyncio
import time

import redis.asyncio as aioredis


async def main(port, ops, mode):
    r = aioredis.Redis(host="127.0.0.1", port=port, db=0)
    value = "v" * 16
    for _ in range(1000):
        await r.set("bench:warm", value)
    if mode in ("all", "seq"):
        n = ops // 4
        t0 = time.perf_counter()
        for i in range(n // 2):
            k = f"bench:s:{i % 1000}"
            await r.set(k, value)
            await r.get(k)
        print(f"seq {n // 2 * 2 / (time.perf_counter() - t0):.0f}", flush=True)
    if mode in ("all", "pipe16"):
        done = 0
        i = 0
        t0 = time.perf_counter()
        while done < ops:
            p = r.pipeline(transaction=False)
            for j in range(8):
                k = f"bench:p:{(i * 8 + j) % 1000}"
                p.set(k, value)
                p.get(k)
            done += len(await p.execute())
            i += 1
        print(f"pipe16 {done / (time.perf_counter() - t0):.0f}", flush=True)
    if mode in ("all", "auto64"):
        per_task = ops // 64 // 2

        async def worker(t):
            for i in range(per_task):
                k = f"bench:a:{(t * 131 + i) % 1000}"
                await r.set(k, value)
                await r.get(k)

        t0 = time.perf_counter()
        await asyncio.gather(*(worker(t) for t in range(64)))
        print(f"auto64 {per_task * 2 * 64 / (time.perf_counter() - t0):.0f}", flush=True)
    await r.aclose() if hasattr(r, "aclose") else await r.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ops", type=int, default=100000)
    ap.add_argument("--mode", default="all")
    a = ap.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main(a.port, a.ops, a.mode))
