"""asyncpg peer of build/bin/pg_bench (run with Debian's /usr/bin/python3 and python3-asyncpg).

    asyncpg_bench.py --url URL --concurrency N --seconds S [--warmup S]

N tasks over an asyncpg pool of N connections (N = 1: one connection used directly, sequential
queries, no pool), the `items` primary-key select of shared/bench-spec.md, on uvloop when it is
installed (Debian python3-uvloop). Prints one line in pg_bench's format; CPU is this process's
user+sys time during the measured window.
"""

import argparse
import asyncio
import random
import sys
import time

import asyncpg

QUERY = "SELECT name, price FROM items WHERE id = $1"


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--concurrency", type=int, default=1)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--warmup", type=float, default=1)
    a = ap.parse_args()
    state = {"measuring": False, "stop": False, "queries": 0, "bad": 0}
    single = a.concurrency == 1
    if single:
        pool = await asyncpg.connect(a.url)
    else:
        pool = await asyncpg.create_pool(a.url, min_size=a.concurrency, max_size=a.concurrency)

    async def worker(seed):
        rng = random.Random(seed)
        while not state["stop"]:
            i = rng.randint(1, 10000)
            if single:
                row = await pool.fetchrow(QUERY, i)
            else:
                async with pool.acquire() as conn:
                    row = await conn.fetchrow(QUERY, i)
            if row is None or row["name"] != f"item-{i}":
                state["bad"] += 1
            if state["measuring"]:
                state["queries"] += 1

    result = {}

    async def drive():
        await asyncio.sleep(a.warmup)
        state["measuring"] = True
        t0 = time.monotonic()
        c0 = time.process_time()
        await asyncio.sleep(a.seconds)
        state["measuring"] = False
        result["cpu"] = time.process_time() - c0
        result["seconds"] = time.monotonic() - t0
        state["stop"] = True

    await asyncio.gather(drive(), *(worker(i + 1) for i in range(a.concurrency)))
    await pool.close()
    s = result["seconds"]
    loop = "uvloop" if "uvloop" in sys.modules else "asyncio"
    print(f"mode=asyncpg-{loop} concurrency={a.concurrency} queries={state['queries']} seconds={s:.3f} "
          f"qps={state['queries'] / s:.1f} cpu_seconds={result['cpu']:.3f} bad={state['bad']}")
    return 0 if state["bad"] == 0 else 1


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    sys.exit(asyncio.run(main()))
