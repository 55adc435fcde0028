"""Celery side of the background-jobs benchmark (bench/jobs/run): a no-op task on a Redis broker.

The broker URL and the counter key come from the environment (BENCH_REDIS_URL, BENCH_COUNTER_KEY),
set by bench/jobs/run for both the workers and the enqueuing script. There is no result backend:
each task increments the counter in Redis, which the script polls to see completions (weir's
worker likewise bumps a counter in Redis, <prefix>:stats done, as it acknowledges a job).
"""

import os

import redis
from celery import Celery
from celery.signals import worker_ready

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
COUNTER_KEY = os.environ.get("BENCH_COUNTER_KEY", "celerybench:done")

app = Celery("celery_noop", broker=REDIS_URL)
app.conf.update(
    task_ignore_result=True,
    result_backend=None,
    worker_prefetch_multiplier=int(os.environ.get("BENCH_PREFETCH", "16")),
    worker_hijack_root_logger=False,
    worker_send_task_events=False,
    task_send_sent_event=False,
)

_redis = None


def _counter():
    global _redis
    if _redis is None:  # one client per (forked) process
        _redis = redis.Redis.from_url(REDIS_URL)
    return _redis


@app.task(name="noop")
def noop():
    _counter().incr(COUNTER_KEY)


@worker_ready.connect
def _announce_ready(**_kwargs):
    # Lets bench/jobs/run see that this worker is consuming, without INFO-level task logging.
    key = os.environ.get("BENCH_READY_KEY")
    if key:
        _counter().incr(key)
