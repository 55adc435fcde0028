"""Load client for bench/http_client/run: httpx.AsyncClient or aiohttp.ClientSession, one event
loop (like weir's one shard), N tasks sending GET requests back to back over keep-alive.
Prints: requests=<n> seconds=<t> req_per_sec=<r> errors=<e> cpu_seconds=<c> mean_us=<m>
Run with /usr/bin/python3 (Debian's python3-httpx / python3-aiohttp)."""

import argparse
import asyncio
import resource
import sys
import time


def cpu_now():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


async def main(args):
    state = {"counting": False, "stop": False, "n": 0, "errors": 0, "lat": 0.0}
    if args.lib == "httpx":
        import httpx

        limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
        client = httpx.AsyncClient(limits=limits, timeout=30.0)

        async def get():
            r = await client.get(args.url)
            await r.aread()
            return r.status_code

        async def close():
            await client.aclose()
    else:
        import aiohttp

        conn = aiohttp.TCPConnector(limit=args.concurrency)
        session = aiohttp.ClientSession(connector=conn)

        async def get():
            async with session.get(args.url) as r:
                await r.read()
                return r.status

        async def close():
            await session.close()

    async def worker():
        while not state["stop"]:
            t0 = time.perf_counter()
            try:
                status = await get()
                if status != 200:
                    state["errors"] += 1
            except Exception as e:  # noqa: BLE001
                if state["errors"] == 0:
                    print("error:", e, file=sys.stderr)
                state["errors"] += 1
            if state["counting"]:
                state["n"] += 1
                state["lat"] += time.perf_counter() - t0

    tasks = [asyncio.create_task(worker()) for _ in range(args.concurrency)]
    await asyncio.sleep(args.warmup)
    state["counting"] = True
    c0, t0 = cpu_now(), time.perf_counter()
    await asyncio.sleep(args.duration)
    state["counting"] = False
    c1, t1 = cpu_now(), time.perf_counter()
    state["stop"] = True
    await asyncio.gather(*tasks)
    await close()
    n = state["n"]
    secs = t1 - t0
    mean_us = state["lat"] / n * 1e6 if n else 0.0
    print(f"requests={n} seconds={secs:.3f} req_per_sec={n / secs:.1f} errors={state['errors']} "
          f"cpu_seconds={c1 - c0:.3f} mean_us={mean_us:.1f}")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--lib", choices=["httpx", "aiohttp"], required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--duration", type=float, default=5)
    p.add_argument("--warmup", type=float, default=1)
    asyncio.run(main(p.parse_args()))
