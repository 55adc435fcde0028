"""The article's synchronous peer: the five workloads of bench-spec.md on Flask, for Gunicorn.

    DATABASE_URL=postgresql://... UPSTREAM_URL=http://127.0.0.1:PORT \\
        /usr/bin/gunicorn --workers 4 --worker-class sync --chdir bench/article flask_app:app

Each worker process has one psycopg2 connection and one requests.Session (created on first use,
i.e. after the fork), as bench-spec.md says. Everything runs one request at a time per worker.
"""

import hashlib
import os
import random

import psycopg2
import requests
from flask import Flask, abort, jsonify, request

DATABASE_URL = os.environ["DATABASE_URL"]
UPSTREAM_URL = os.environ["UPSTREAM_URL"].rstrip("/")
ITEMS = 10_000
ITEM_QUERY = "SELECT name, price FROM items WHERE id = %s"

app = Flask(__name__)
_conn = None
_session = None


def db():
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg2.connect(DATABASE_URL)
        _conn.autocommit = True
    return _conn


def session():
    global _session
    if _session is None:
        _session = requests.Session()
    return _session


def sha256_chain(n):
    buf = bytes(range(64))
    for _ in range(n):
        d = hashlib.sha256(buf).digest()
        buf = d + d
    return d.hex()


def item_id():
    raw = request.args.get("id")
    return int(raw) if raw is not None else random.randint(1, ITEMS)


def fetch_item(i):
    with db().cursor() as cur:
        cur.execute(ITEM_QUERY, (i,))
        row = cur.fetchone()
    if row is None:
        abort(404)
    return {"id": i, "name": row[0], "price": f"{row[1]:.2f}"}


def upstream(path):
    r = session().get(UPSTREAM_URL + path, timeout=10)
    r.raise_for_status()
    return r.json()


@app.get("/db")
def db_endpoint():
    return jsonify(fetch_item(item_id()))


@app.get("/seq")
def seq_endpoint():
    return jsonify({"a": upstream("/api/a"), "b": upstream("/api/b"), "c": upstream("/api/c")})


@app.get("/par")
def par_endpoint():
    # A sync worker has no concurrency to offer: the three calls still run one after another.
    return jsonify({"a": upstream("/api/a"), "b": upstream("/api/b"), "c": upstream("/api/c")})


@app.get("/cpu")
def cpu_endpoint():
    return jsonify({"iters": 2000, "digest": sha256_chain(2000)})


@app.get("/mixed")
def mixed_endpoint():
    item = fetch_item(item_id())
    up = upstream("/api/a")
    return jsonify({"item": item, "upstream": up, "iters": 200, "digest": sha256_chain(200)})
