#!/usr/bin/env python3
"""bench/bench.py: the body of bench/run (see bench/README.md). Standard library only.

Prepares (or reuses) datasets, starts okra-server and the limit server on 127.0.0.1, measures them
alternately with wrk (and PostgreSQL with pgbench -S), prints one Markdown table and writes it to
bench/results/<date>.md. Every process started here is stopped on exit (and dies with this process:
PR_SET_PDEATHSIG).
"""

import argparse
import atexit
import ctypes
import datetime
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DATA = os.path.join(HERE, "data")
RESULTS = os.path.join(HERE, "results")
WRK_LUA = os.path.join(HERE, "wrk.lua")
PREFIX = "/v2/sandbox/"
# What the loader's output depends on: a dataset prepared by other sources is prepared again.
LOADER_SOURCES = [
    "crates/okra-server/src/services/sandbox_load",
    "crates/okra-store/migrations",
    "crates/okra-store/src",
    "crates/okra-sandbox/src",
]

PROCS = []


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- processes


def _die_with_parent():
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def start(cmd, **kw):
    p = subprocess.Popen(cmd, preexec_fn=_die_with_parent, **kw)
    PROCS.append(p)
    return p


def stop(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if p in PROCS:
        PROCS.remove(p)


def stop_all():
    for p in list(PROCS):
        stop(p)


def on_signal(signum, _frame):
    stop_all()
    sys.exit(128 + signum)


def run(cmd, env=None, cwd=None, timeout=None):
    """Runs a command to completion (a child like any other: stopped with the rest on a signal)."""
    p = start(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(p)
        raise SystemExit(f"bench: timed out: {' '.join(cmd[:3])} …")
    PROCS.remove(p)
    return p.returncode, out, err


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid, field="VmRSS"):
    """VmRSS (all resident pages) or RssAnon (the process's own memory, without the file pages
    of SQLite's memory map, which are the kernel's shared page cache) of `pid`, in kB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


# ---------------------------------------------------------------- environment


def base_env():
    """The caller's environment without any OKRA_* variable (the bench sets its own)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("OKRA_")}


def okra_env(ds):
    env = base_env()
    env["OKRA_DATA_DIR"] = ds["dir"]
    if ds["backend"] == "postgres":
        env["OKRA_DATABASE_URL"] = ds["url"]
        env["OKRA_CREATE_DATABASE"] = "true"
    return env


def psql(pg_url, sql, db="postgres"):
    code, out, err = run(["psql", f"{pg_url}/{db}", "-Atqc", sql], env=base_env(), timeout=600)
    if code != 0:
        raise SystemExit(f"bench: psql failed: {err.strip()}")
    return out.strip()


def pg_db_exists(pg_url, name):
    return psql(pg_url, f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"


# ---------------------------------------------------------------- datasets


def loader_version(okra):
    h = hashlib.sha256()
    code, out, _ = run([okra, "--version"], env=base_env(), timeout=30)
    h.update(out.encode())
    for rel in LOADER_SOURCES:
        top = os.path.join(ROOT, rel)
        for dirpath, dirnames, files in os.walk(top):
            dirnames.sort()
            for name in sorted(files):
                path = os.path.join(dirpath, name)
                h.update(os.path.relpath(path, ROOT).encode())
                with open(path, "rb") as f:
                    h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()[:16]


def extract_ids(ds, table="customers", limit=200_000):
    """Ids of the default owner's sandbox rows of `table` (customers, records, accounts), read from
    the database, in random order."""
    q = (
        f"SELECT x.id FROM {table} x JOIN owners o ON o.id = x.owner_id "
        f"WHERE o.name = 'default' AND x.env = 'sandbox' ORDER BY random() LIMIT {limit}"
    )
    if ds["backend"] == "sqlite":
        con = sqlite3.connect(f"file:{os.path.join(ds['dir'], 'okra.db')}?mode=ro", uri=True)
        try:
            return [r[0] for r in con.execute(q)]
        finally:
            con.close()
    return [line for line in psql(ds["pg_url"], q, db=ds["db"]).splitlines() if line]


# The ids file of each kind of id the operations are called with.
IDS_FILES = {"customers": "ids.txt", "records": "ids-records.txt", "accounts": "ids-accounts.txt",
             "identities": "ids-identities.txt", "balances": "ids-balances.txt"}


def ids_file(ds, table):
    """The file of `table`'s ids in the dataset, extracted now when an older dataset lacks it."""
    path = os.path.join(ds["dir"], IDS_FILES[table])
    if not os.path.exists(path):
        ids = extract_ids(ds, table)
        if not ids:
            raise SystemExit(f"bench: no {table} in {ds['name']}")
        with open(path, "w") as f:
            f.write("\n".join(ids) + "\n")
    return path


def person_files(args, ds, count=20_000):
    """BVNs and (bank, NUBAN) pairs of the people the dataset loaded (the first people of the
    network, in index order: `sandbox users --start 0`), for the reads by BVN and by account. The
    database keeps them sealed, so they come from the network, which makes the same people."""
    bvns_path, nubans_path = os.path.join(ds["dir"], "bvns.txt"), os.path.join(ds["dir"], "nubans.txt")
    if os.path.exists(bvns_path) and os.path.exists(nubans_path):
        return
    code, out, err = run([args.okra, "sandbox", "users", "--start", "0", "--count", str(min(count, ds["n"]))],
                         env=okra_env(ds), cwd=ds["dir"], timeout=600)
    if code != 0:
        raise SystemExit(f"bench: sandbox users failed: {err.strip()[-500:]}")
    bvns, nubans = [], []
    for line in out.splitlines():
        person = json.loads(line.split("\t", 2)[2])
        if person.get("bvn") and not person.get("is_company"):
            bvns.append(person["bvn"])
        nubans.extend(f"{a['bank']} {a['nuban']}" for a in person.get("accounts", []))
    for path, lines in ((bvns_path, bvns), (nubans_path, nubans)):
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")


def person_file(ds, table):
    """The file of ids (or BVNs, or bank-and-NUBAN pairs) an operation is called with."""
    if table in ("bvns", "nubans"):
        return os.path.join(ds["dir"], table + ".txt")
    return ids_file(ds, table)


def first_line(ds, name):
    with open(os.path.join(ds["dir"], name)) as f:
        return f.readline().strip()


def first_id(ds, table):
    with open(ids_file(ds, table)) as f:
        return f.readline().strip()


def prepare(ds, okra, version, reuse=False):
    """Loads the dataset unless a marker of the same loader version says it is there."""
    marker_path = os.path.join(ds["dir"], "READY.json")
    if os.path.exists(marker_path):
        with open(marker_path) as f:
            marker = json.load(f)
        present = ds["backend"] == "sqlite" or pg_db_exists(ds["pg_url"], ds["db"])
        if marker.get("people") == ds["n"] and present and (marker.get("loader") == version or reuse):
            log(f"{ds['name']}: reusing the dataset prepared {marker['prepared']}"
                + ("" if marker.get("loader") == version else " by another loader version (--reuse)"))
            return marker
        log(f"{ds['name']}: prepared by another loader version (or missing): preparing again")
    if os.path.isdir(ds["dir"]):
        shutil.rmtree(ds["dir"])
    os.makedirs(ds["dir"], mode=0o700)
    if ds["backend"] == "postgres":
        psql(ds["pg_url"], f'DROP DATABASE IF EXISTS "{ds["db"]}"')
    env = okra_env(ds)
    code, out, err = run([okra, "owners", "create", "default"], env=env, cwd=ds["dir"], timeout=300)
    if code != 0:
        raise SystemExit(f"bench: owners create failed: {err.strip()}")
    creds = json.loads(out)
    key = next(
        k["key"] for k in creds["keys"] if k["env"] == "sandbox" and k["kind"] == "secret"
    )
    with open(os.open(os.path.join(ds["dir"], "bench-key"), os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write(key)
    log(f"{ds['name']}: sandbox load --owner default --people {ds['n']} …")
    t0 = time.time()
    code, out, err = run(
        [okra, "sandbox", "load", "--owner", "default", "--people", str(ds["n"])],
        env=env, cwd=ds["dir"], timeout=6 * 3600,
    )
    wall = time.time() - t0
    line = next((l for l in (out + "\n" + err).splitlines() if l.startswith("sandbox load:")), "")
    if code != 0 or not line:
        raise SystemExit(f"bench: sandbox load failed ({code}): {err.strip()[-2000:]}")
    m = re.search(r"(\d+) rows in ([\d.]+) s \((\d+) rows/s\)", line)
    ids = extract_ids(ds)
    with open(os.path.join(ds["dir"], "ids.txt"), "w") as f:
        f.write("\n".join(ids) + "\n")
    for table in ("records", "accounts"):
        ids_file(ds, table)
    marker = {
        "loader": version,
        "people": ds["n"],
        "prepared": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "load_line": line,
        "rows": int(m.group(1)) if m else None,
        "rows_per_s": int(m.group(3)) if m else None,
        "wall_s": round(wall, 1),
        "ids": len(ids),
    }
    with open(marker_path, "w") as f:
        json.dump(marker, f, indent=2)
    log(f"{ds['name']}: {line}")
    return marker


def prepare_pgbench(pg_url, n):
    """A pgbench database on the same PostgreSQL, scaled to about as many accounts as customers."""
    scale = max(1, n // 100_000)
    db = f"okra_bench_pgbench_{n}"
    if pg_db_exists(pg_url, db):
        try:
            if psql(pg_url, "SELECT count(*) FROM pgbench_branches", db=db) == str(scale):
                return db, scale
        except SystemExit:
            pass
        psql(pg_url, f'DROP DATABASE "{db}"')
    psql(pg_url, f'CREATE DATABASE "{db}"')
    log(f"pgbench -i -s {scale} {db}")
    code, _, err = run(["pgbench", "-i", "-q", "-s", str(scale), f"{pg_url}/{db}"], env=base_env(), timeout=3600)
    if code != 0:
        raise SystemExit(f"bench: pgbench -i failed: {err.strip()}")
    return db, scale


# ---------------------------------------------------------------- HTTP


def http(port, method, op, key, body=None, timeout=30):
    url = f"http://127.0.0.1:{port}{PREFIX}{op}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_up(port, proc, key, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"bench: server exited with {proc.returncode} at start")
        try:
            status, _ = http(port, "GET", "banks/list", key, timeout=2)
            if status == 200:
                return
        except (urllib.error.URLError, ConnectionError, socket.timeout):
            pass
        time.sleep(0.25)
    raise SystemExit("bench: server did not answer within 120 s")


# ---------------------------------------------------------------- measuring


def wrk(args, port, op, mode, marg, key, pid=None):
    """One wrk run; samples VmRSS of `pid` meanwhile. Returns a result dict."""
    url = f"http://127.0.0.1:{port}{PREFIX}{op}"
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
           "--timeout", "5s", "-s", WRK_LUA, url, "--", mode]
    if isinstance(marg, (list, tuple)):
        cmd.extend(str(m) for m in marg)
    elif marg is not None:
        cmd.append(str(marg))
    env = base_env()
    env["BENCH_KEY"] = key
    peak = [0]
    peak_anon = [0]
    done = threading.Event()

    def sample():
        while not done.wait(0.25):
            v = rss_kb(pid)
            if v:
                peak[0] = max(peak[0], v)
            a = rss_kb(pid, "RssAnon")
            if a:
                peak_anon[0] = max(peak_anon[0], a)

    t = threading.Thread(target=sample, daemon=True) if pid else None
    if t:
        t.start()
    code, out, err = run(cmd, env=env, timeout=args.duration + 60)
    done.set()
    if t:
        t.join()
    m = re.search(r"^BENCH_RESULT (.*)$", out, re.M)
    if code != 0 or not m:
        raise SystemExit(f"bench: wrk failed ({code}): {err.strip()} {out.strip()}")
    r = json.loads(m.group(1))
    secs = r["duration_us"] / 1e6
    return {
        "rps": r["requests"] / secs if secs else 0.0,
        "p50": r["p50_us"] / 1000.0,
        "p99": r["p99_us"] / 1000.0,
        "errors": r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"],
        "requests": r["requests"],
        "rss_peak_kb": peak[0],
        "anon_peak_kb": peak_anon[0],
    }


def pgbench(args, pg_url, db, rundir):
    logdir = tempfile.mkdtemp(prefix="pgbench-", dir=rundir)
    cmd = ["pgbench", "-S", "-M", "prepared", "-n", "-c", str(args.connections), "-j", str(args.threads),
           "-T", str(args.duration), "-l", "--log-prefix", os.path.join(logdir, "tx"), f"{pg_url}/{db}"]
    code, out, err = run(cmd, env=base_env(), cwd=logdir, timeout=args.duration + 120)
    m = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    if code != 0 or not m:
        raise SystemExit(f"bench: pgbench failed ({code}): {err.strip()} {out.strip()}")
    failed = re.search(r"number of failed transactions: (\d+)", out)
    lat = []
    for name in os.listdir(logdir):
        with open(os.path.join(logdir, name)) as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 3:
                    lat.append(int(parts[2]))
    shutil.rmtree(logdir)
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(len(lat) * p / 100))] / 1000.0 if lat else float("nan")

    return {"rps": float(m.group(1)), "p50": pct(50), "p99": pct(99),
            "errors": int(failed.group(1)) if failed else 0}


def same_answers(port, key, ids, respdir, list_limit, ds):
    """The limit server answers each operation with okra-server's bytes."""
    for name, method, op, body in [
        ("customers-getById", "POST", "customers/getById", {"id": ids[-1]}),
        ("customers-list-page-1", "POST", "customers/list", {"page": 1, "limit": list_limit}),
        ("customers-list-page-1000", "POST", "customers/list", {"page": 1000, "limit": list_limit}),
        ("products-identities-page-1", "POST", "products/identities", {"page": 1, "limit": list_limit}),
        ("products-balances-page-1", "POST", "products/balances", {"page": 1, "limit": list_limit}),
        ("banks-list", "GET", "banks/list", None),
    ] + by_id_answers(ds):
        status, data = http(port, method, op, key, body)
        with open(os.path.join(respdir, name + ".json"), "rb") as f:
            if status != 200 or data != f.read():
                raise SystemExit(f"bench: the limit server's answer to {op} {body} is not okra-server's")
    status, _ = http(port, "GET", "banks/list", key[:-1] + ("A" if key[-1] != "A" else "B"))
    if status != 401:
        raise SystemExit("bench: the limit server accepted a wrong key")


# The last 30 days (the dataset's people connected over the 90 days before its load), and options
# no loaded record has (sandbox load writes no options): the statement of the no-match case.
_today = datetime.datetime.now(datetime.timezone.utc).date()
DATES = '"from":"%s","to":"%s"' % (_today - datetime.timedelta(days=30), _today)
DATES_BODY = "{" + DATES + "}"
OPTIONS_BODY = '{"options":{"loan_id":"L-1"}}'
# getByType: balances of at least ₦1,000,000 (a minority of the loaded people), and of at least ₦0
# (every balance: the total is a count of a million index entries).
TYPE_BODY = '{"type":"available_balance","value":1000000}'
TYPE_ALL_BODY = '{"type":"ledger_balance","value":0}'

OPERATIONS = [
    # (label, method, op, wrk mode, wrk arg: for getById (ids of, body field), else the page)
    ("customers/getById", "POST", "customers/getById", "getById", ("customers", "id"), None),
    ("customers/list page 1", "POST", "customers/list", "list", 1, None),
    ("customers/list page 1,000", "POST", "customers/list", "list", 1000, None),
    ("records/getById", "POST", "records/getById", "getById", ("records", "id"), None),
    ("accounts/getById", "POST", "accounts/getById", "getById", ("accounts", "id"), None),
        ("accounts/getByCustomer", "POST", "accounts/getByCustomer", "getById", ("customers", "customer"), None),
    ("identity/getById", "POST", "identity/getById", "getById", ("identities", "id"), None),
    ("identity/getByCustomer", "POST", "identity/getByCustomer", "getById", ("customers", "customer"), None),
    ("products/identities page 1", "POST", "products/identities", "list", 1, None),
    ("identity/getByBvn", "POST", "identity/getByBvn", "getById", ("bvns", "bvn"), None),
    ("identity/getByNuban", "POST", "identity/getByNuban", "pairs", ("nubans", None), None),
    ("identity/getByDate (30 days)", "POST", "identity/getByDate", "fixed", DATES_BODY, None),
    ("identity/getByCustomerDate (30 days)", "POST", "identity/getByCustomerDate", "getById",
     ("customers", "customer", DATES), None),
    ("identity/getByOptions (no match)", "POST", "identity/getByOptions", "fixed", OPTIONS_BODY, None),
    ("balance/getById", "POST", "balance/getById", "getById", ("balances", "id"), None),
    ("balance/getByAccount", "POST", "balance/getByAccount", "getById", ("accounts", "account"), None),
    ("balance/getByCustomer", "POST", "balance/getByCustomer", "getById", ("customers", "customer"), None),
    ("balance/getByDate (30 days)", "POST", "balance/getByDate", "fixed", DATES_BODY, None),
    ("balance/getByCustomerDate (30 days)", "POST", "balance/getByCustomerDate", "getById",
     ("customers", "customer", DATES), None),
    ("balance/getByOptions (no match)", "POST", "balance/getByOptions", "fixed", OPTIONS_BODY, None),
    ("products/balances page 1", "POST", "products/balances", "list", 1, None),
    ("balance/getByType (>= ₦1,000,000)", "POST", "balance/getByType", "fixed", TYPE_BODY, None),
    ("balance/getByType (>= ₦0: every balance)", "POST", "balance/getByType", "fixed", TYPE_ALL_BODY,
     None),
    ("banks/list", "GET", "banks/list", "get", None, None),
]


def by_id_answers(ds):
    """(name, method, op, body) of the by-id operations, called with the first id of each file."""
    return [
        ("records-getById", "POST", "records/getById", {"id": first_id(ds, "records")}),
        ("accounts-getById", "POST", "accounts/getById", {"id": first_id(ds, "accounts")}),
                ("accounts-getByCustomer", "POST", "accounts/getByCustomer", {"customer": first_id(ds, "customers")}),
        ("identity-getById", "POST", "identity/getById", {"id": first_id(ds, "identities")}),
        ("identity-getByCustomer", "POST", "identity/getByCustomer", {"customer": first_id(ds, "customers")}),
        ("identity-getByBvn", "POST", "identity/getByBvn", {"bvn": first_line(ds, "bvns.txt")}),
        ("identity-getByNuban", "POST", "identity/getByNuban",
         dict(zip(("bank", "nuban"), first_line(ds, "nubans.txt").split()))),
        ("identity-getByDate", "POST", "identity/getByDate", json.loads(DATES_BODY)),
        ("identity-getByCustomerDate", "POST", "identity/getByCustomerDate",
         {"customer": first_id(ds, "customers"), **json.loads("{" + DATES + "}")}),
        ("identity-getByOptions", "POST", "identity/getByOptions", json.loads(OPTIONS_BODY)),
        ("balance-getById", "POST", "balance/getById", {"id": first_id(ds, "balances")}),
        ("balance-getByAccount", "POST", "balance/getByAccount", {"account": first_id(ds, "accounts")}),
        ("balance-getByCustomer", "POST", "balance/getByCustomer", {"customer": first_id(ds, "customers")}),
        ("balance-getByType", "POST", "balance/getByType", json.loads(TYPE_BODY)),
        ("balance-getByDate", "POST", "balance/getByDate", json.loads(DATES_BODY)),
        ("balance-getByCustomerDate", "POST", "balance/getByCustomerDate",
         {"customer": first_id(ds, "customers"), **json.loads("{" + DATES + "}")}),
        ("balance-getByOptions", "POST", "balance/getByOptions", json.loads(OPTIONS_BODY)),
    ]


def capture(port, key, ids, respdir, list_limit, ds):
    """Real okra-server answers, saved as the limit server's fixed bytes (and a check that each is 200)."""
    os.makedirs(respdir, exist_ok=True)
    wanted = {
        "customers-getById": ("POST", "customers/getById", {"id": ids[0]}),
        "customers-list-page-1": ("POST", "customers/list", {"page": 1, "limit": list_limit}),
        "customers-list-page-1000": ("POST", "customers/list", {"page": 1000, "limit": list_limit}),
        "products-identities-page-1": ("POST", "products/identities", {"page": 1, "limit": list_limit}),
        "products-balances-page-1": ("POST", "products/balances", {"page": 1, "limit": list_limit}),
        "banks-list": ("GET", "banks/list", None),
    }
    for name, method, op, body in by_id_answers(ds):
        wanted[name] = (method, op, body)
    sizes = {}
    for name, (method, op, body) in wanted.items():
        status, data = http(port, method, op, key, body)
        if status != 200 or json.loads(data).get("status") != "success":
            raise SystemExit(f"bench: {op} {body} answered {status}: {data[:300]!r}")
        with open(os.path.join(respdir, name + ".json"), "wb") as f:
            f.write(data)
        sizes[name] = len(data)
    return sizes


def measure(args, ds, marker, rundir):
    rows = []
    key = open(os.path.join(ds["dir"], "bench-key")).read().strip()
    ids = [l for l in open(ids_file(ds, "customers")).read().splitlines() if l]
    person_files(args, ds)
    okra_port, limit_port = free_port(), free_port()
    env = okra_env(ds)
    env["OKRA_RATE_LIMIT_PER_MINUTE"] = "0"
    env["OKRA_AUTH_FAILURES_PER_MINUTE"] = "0"
    okra_log = open(os.path.join(rundir, f"okra-{ds['name']}.log"), "w")
    okra = start([args.okra, "serve", "--listen", f"127.0.0.1:{okra_port}"], env=env, cwd=ds["dir"],
                 stdout=subprocess.DEVNULL, stderr=okra_log)
    limit = None
    try:
        wait_up(okra_port, okra, key)
        time.sleep(2)
        idle_kb = rss_kb(okra.pid)
        idle_anon_kb = rss_kb(okra.pid, "RssAnon") or 0
        respdir = os.path.join(rundir, f"responses-{ds['name']}")
        capture(okra_port, key, ids, respdir, args.list_limit, ds)
        key_hash = hashlib.sha256(key.encode()).hexdigest()
        limit = start([args.limit, "--listen", f"127.0.0.1:{limit_port}", "--key-hash", key_hash,
                       "--responses", respdir], env=base_env(), stdout=subprocess.DEVNULL,
                      stderr=open(os.path.join(rundir, f"limit-{ds['name']}.log"), "w"))
        wait_up(limit_port, limit, key)
        same_answers(limit_port, key, ids, respdir, args.list_limit, ds)
        pgb = prepare_pgbench(ds["pg_url"], ds["n"]) if ds["backend"] == "postgres" else None
        peak_kb = 0
        peak_anon_kb = 0
        pgbench_runs = None  # pgbench -S is measured once per round and shared by the by-id rows
        for label, _method, op, mode, marg, _ in OPERATIONS:
            if args.only and not any(o in label for o in args.only.split(",")):
                continue
            if mode == "getById":
                table, field, *extra = marg
                marg = [person_file(ds, table), field] + extra
            elif mode == "pairs":
                marg = [person_file(ds, marg[0])]
            runs = {"okra": [], "limit": [], "pgbench": []}
            for rnd in range(args.rounds):
                log(f"{ds['name']} {label}: round {rnd + 1}/{args.rounds}: okra-server")
                profiler = start_profile(args, okra.pid, rundir) if rnd == 0 else None
                if mode == "list":
                    r = wrk_list(args, okra_port, key, marg, okra.pid, op)
                else:
                    r = wrk(args, okra_port, op, mode, marg, key, okra.pid)
                if profiler:
                    finish_profile(args, profiler, ds, label)
                peak_kb = max(peak_kb, r["rss_peak_kb"])
                peak_anon_kb = max(peak_anon_kb, r["anon_peak_kb"])
                runs["okra"].append(r)
                log(f"  {r['rps']:.0f} req/s p50 {r['p50']:.1f} ms p99 {r['p99']:.1f} ms errors {r['errors']}")
                log(f"{ds['name']} {label}: round {rnd + 1}/{args.rounds}: limit server")
                if mode == "list":
                    r = wrk_list(args, limit_port, key, marg, None, op)
                else:
                    r = wrk(args, limit_port, op, mode, marg, key)
                runs["limit"].append(r)
                log(f"  {r['rps']:.0f} req/s p50 {r['p50']:.1f} ms p99 {r['p99']:.1f} ms errors {r['errors']}")
                if pgb and mode == "getById" and pgbench_runs is None:
                    log(f"{ds['name']} {label}: round {rnd + 1}/{args.rounds}: pgbench -S")
                    r = pgbench(args, ds["pg_url"], pgb[0], rundir)
                    runs["pgbench"].append(r)
                    log(f"  {r['rps']:.0f} TPS p50 {r['p50']:.1f} ms p99 {r['p99']:.1f} ms errors {r['errors']}")
            if pgb and mode == "getById":
                if pgbench_runs is None:
                    pgbench_runs = runs["pgbench"]
                runs["pgbench"] = pgbench_runs
            rows.append(summarise(label, ds, runs))
        if okra.poll() is not None:
            raise SystemExit(f"bench: okra-server exited with {okra.returncode} during the run")
        rows.append(value_row("RSS of okra-server, idle (own memory: RssAnon)", ds,
                              f"{idle_kb / 1024:.1f} MB ({idle_anon_kb / 1024:.1f} MB)"))
        rows.append(value_row("RSS of okra-server, peak under load (own memory: RssAnon)", ds,
                              f"{peak_kb / 1024:.1f} MB ({peak_anon_kb / 1024:.1f} MB)"))
        load = f"{marker['rows_per_s']:,} rows/s" if marker.get("rows_per_s") else "—"
        loaded = f"{marker['rows']:,} rows" if marker.get("rows") else "? rows"
        rows.append(value_row(f"bulk load (`sandbox load`, {loaded} in {marker.get('wall_s', '?')} s, "
                              f"prepared {marker.get('prepared', '?')})", ds, load))
    finally:
        if limit:
            stop(limit)
        stop(okra)
        okra_log.close()
    return rows


def webhooks(args, backend):
    """Signed webhook deliveries per second (bench/webhooks): a fresh database, a receiver that
    fails the first attempt of every message, `--webhook-messages` messages."""
    cmd = [args.webhooks, "--messages", str(args.webhook_messages), "--workers", str(args.webhook_workers)]
    if backend == "postgres":
        db = "okra_bench_webhooks"
        psql(args.pg_url.rstrip("/"), f'DROP DATABASE IF EXISTS "{db}"')
        cmd += ["--database-url", f"{args.pg_url.rstrip('/')}/{db}"]
    log(f"{backend}: {args.webhook_messages:,} signed webhooks, the receiver failing half the attempts")
    code, out, err = run(cmd, env=base_env(), timeout=1200)
    m = re.search(r"^BENCH_WEBHOOKS (.*)$", out, re.M)
    if not m:
        raise SystemExit(f"bench: okra-bench-webhooks failed ({code}): {err.strip()[-2000:]}")
    r = json.loads(m.group(1))
    log(f"  {r['delivered_per_s']:.0f} deliveries/s ({r['attempts_per_s']:.0f} attempts/s), lost {r['lost']}")
    ds = {"backend": backend, "n": r["messages"]}
    return value_row(
        f"signed webhook deliveries (`bench/webhooks`: {r['workers']} delivery loops, receiver failing "
        f"the first attempt of each message)", ds,
        f"{r['delivered_per_s']:,.0f} delivered/s ({r['attempts_per_s']:,.0f} attempts/s; "
        f"{r['delivered']:,} of {r['messages']:,} delivered, {r['lost']} lost, "
        f"{r['bad_signatures']} bad signatures)")


def wrk_list(args, port, key, page, pid, op="customers/list"):
    # The list body carries the page and the limit; the Lua script builds it from the page.
    return wrk(args, port, op, "list", f"{page}:{args.list_limit}", key, pid)


# ---------------------------------------------------------------- flame graphs


def start_profile(args, pid, rundir):
    """With --flamegraphs: `perf record` of okra-server (call graphs) for the coming wrk run."""
    if not args.flamegraphs:
        return None
    data = os.path.join(rundir, f"perf-{pid}-{time.time_ns()}.data")
    seconds = max(1, args.duration - 2)
    p = start(["perf", "record", "-F", "499", "-g", "-p", str(pid), "-o", data, "--", "sleep", str(seconds)],
              env=base_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return p, data


def finish_profile(args, profiler, ds, label):
    """Renders the recording as bench/results/<date>-<dataset>-<operation>.svg (inferno)."""
    p, data = profiler
    p.wait()
    PROCS.remove(p)
    if not os.path.exists(data):
        log("  perf recorded nothing (is perf allowed here? kernel.perf_event_paranoid)")
        return
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    svg = os.path.join(RESULTS, f"{day}-{ds['name']}-{slug}.svg")
    os.makedirs(RESULTS, exist_ok=True)
    script = subprocess.run(["perf", "script", "-i", data], capture_output=True, env=base_env())
    folded = subprocess.run(["inferno-collapse-perf"], input=script.stdout, capture_output=True)
    title = f"okra-server {label}, {ds['name']} ({args.connections} connections)"
    graph = subprocess.run(["inferno-flamegraph", "--title", title], input=folded.stdout, capture_output=True)
    if graph.returncode != 0 or not graph.stdout:
        log(f"  flame graph failed: {graph.stderr.decode(errors='replace')[:300]}")
        return
    with open(svg, "wb") as f:
        f.write(graph.stdout)
    os.remove(data)
    log(f"  flame graph: {os.path.relpath(svg, ROOT)}")


def med(values):
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def pct(ratio):
    if ratio != ratio:
        return "—"
    return f"{100 * ratio:.0f} %" if ratio >= 0.1 else f"{100 * ratio:.1f} %"


def summarise(label, ds, runs):
    ok, lim, pg = runs["okra"], runs["limit"], runs["pgbench"]
    row = {
        "operation": label, "backend": ds["backend"], "size": ds["n"],
        "rps": f"{med([r['rps'] for r in ok]):,.0f}",
        "p50": f"{med([r['p50'] for r in ok]):.1f} ms",
        "p99": f"{med([r['p99'] for r in ok]):.1f} ms",
        "errors": f"{sum(r['errors'] for r in ok):,} / {sum(r['requests'] for r in ok):,}",
        "vs_limit": f"{pct(med([o['rps'] / l['rps'] for o, l in zip(ok, lim) if l['rps']]))} "
                    f"(limit {med([r['rps'] for r in lim]):,.0f} req/s, p99 {med([r['p99'] for r in lim]):.1f} ms"
                    + (f", {sum(r['errors'] for r in lim)} errors" if sum(r['errors'] for r in lim) else "") + ")",
        "vs_pgbench": "—",
    }
    if pg:
        row["vs_pgbench"] = (
            f"{pct(med([o['rps'] / p['rps'] for o, p in zip(ok, pg) if p['rps']]))} "
            f"(pgbench -S {med([r['rps'] for r in pg]):,.0f} TPS, p50 {med([r['p50'] for r in pg]):.1f} ms, "
            f"p99 {med([r['p99'] for r in pg]):.1f} ms)"
        )
    return row


def value_row(label, ds, value):
    return {"operation": label, "backend": ds["backend"], "size": ds["n"], "rps": value,
            "p50": "", "p99": "", "errors": "", "vs_limit": "", "vs_pgbench": ""}


# ---------------------------------------------------------------- report


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs (nproc), {model}"


def git_commit():
    code, out, _ = run(["git", "-C", ROOT, "rev-parse", "--short=12", "HEAD"], env=base_env(), timeout=30)
    commit = out.strip() if code == 0 else "unknown"
    code, out, _ = run(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"], env=base_env(), timeout=30)
    return commit + (" (with uncommitted changes)" if out.strip() else "")


def table(rows):
    head = ["operation", "backend", "size", "requests/s (or value)", "p50", "p99",
            "errors / requests", "okra/limit", "okra/pgbench"]
    keys = ["operation", "backend", "size", "rps", "p50", "p99", "errors", "vs_limit", "vs_pgbench"]
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in rows:
        cells = [f"{r[k]:,}" if k == "size" else str(r[k]) for k in keys]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def user_args():
    """The arguments bench/run was given (without the ones it adds itself)."""
    out, skip = [], False
    for a in sys.argv[1:]:
        if skip:
            skip = False
        elif a in ("--okra", "--limit", "--webhooks", "--began"):
            skip = True
        else:
            out.append(a)
    return out


def main():
    ap = argparse.ArgumentParser(description="okra-server benchmark (bench/README.md)")
    ap.add_argument("--okra", required=True)
    ap.add_argument("--limit", required=True)
    ap.add_argument("--webhooks", required=True, help="the okra-bench-webhooks binary")
    ap.add_argument("--webhook-messages", type=int, default=20000,
                    help="messages of the webhook delivery run (0: skip it)")
    ap.add_argument("--webhook-workers", type=int, default=16)
    ap.add_argument("--sizes", default="10000,1000000")
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--duration", type=int, default=20, help="seconds per wrk/pgbench run (≥ 20 for real figures)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="okra/limit alternations per operation (1: each operation runs okra-server then "
                         "the limit server, back to back)")
    ap.add_argument("--began", type=float, default=None,
                    help="when bench/run started (seconds since the epoch; bench/run passes it), so the "
                         "results file gives the wall time with the build and the datasets")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--list-limit", type=int, default=10,
                    help="page size of customers/list (10: page 1,000 of 10k customers is the last full page)")
    ap.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    ap.add_argument("--note", default="", help="a line for the results file (e.g. 'smoke run on a busy machine')")
    ap.add_argument("--no-write", action="store_true", help="print the table only")
    ap.add_argument("--reuse", action="store_true",
                    help="reuse prepared datasets of the right size even when the loader's sources changed "
                         "(for a change that cannot alter the data, such as the read path); the results file says so")
    ap.add_argument("--only", default="",
                    help="measure only the operations whose label contains one of these comma-separated "
                         "words (e.g. identity), and skip the webhook run")
    ap.add_argument("--flamegraphs", action="store_true",
                    help="perf-record okra-server during each operation's first run and write a flame graph "
                         "per operation to bench/results/ (needs perf and inferno: cargo install inferno)")
    args = ap.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s]
    backends = [b for b in args.backends.split(",") if b]
    if any(b not in ("sqlite", "postgres") for b in backends) or not sizes or args.rounds < 1 or args.duration < 1:
        ap.error("--backends takes sqlite and/or postgres; --sizes, --rounds and --duration must be positive")

    atexit.register(stop_all)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    os.makedirs(DATA, mode=0o700, exist_ok=True)
    rundir = tempfile.mkdtemp(prefix="okra-bench-")
    try:
        version = loader_version(args.okra)
        started = datetime.datetime.now(datetime.timezone.utc)
        rows = []
        for backend in backends:
            for n in sizes:
                ds = {"backend": backend, "n": n, "name": f"{backend}-{n}",
                      "dir": os.path.join(DATA, f"{backend}-{n}"), "pg_url": args.pg_url.rstrip("/"),
                      "db": f"okra_bench_{n}"}
                ds["url"] = f"{ds['pg_url']}/{ds['db']}"
                marker = prepare(ds, args.okra, version, args.reuse)
                rows.extend(measure(args, ds, marker, rundir))
            if args.webhook_messages > 0 and not args.only:
                rows.append(webhooks(args, backend))
        md = table(rows)
        print(md)
        if not args.no_write:
            os.makedirs(RESULTS, exist_ok=True)
            path = os.path.join(RESULTS, started.strftime("%Y-%m-%d") + ".md")
            lines = [
                f"# bench/run, {started.strftime('%Y-%m-%d %H:%M UTC')}",
                "",
                f"- machine: {machine()}",
                f"- commit: {git_commit()}",
                f"- command: `{shlex.join(['bench/run'] + user_args())}`",
                f"- wrk: {args.threads} threads, {args.connections} connections, {args.duration} s per run, "
                f"{args.rounds} round(s) alternating okra-server and the limit server (medians shown); "
                f"random customer ids; `customers/list` with `limit` {args.list_limit}",
                "- errors: socket errors, timeouts (5 s) and HTTP statuses ≥ 400 (every operation answers 200 "
                "or an error status; each is checked to answer 200 before measuring)",
            ]
            if args.duration < 20:
                lines.append(f"- runs of {args.duration} s (< 20 s): a smoke run, not a measurement")
            if args.reuse:
                lines.append("- datasets reused whatever loader version prepared them (`--reuse`); "
                             "each row's bulk-load figure is from the load that prepared it")
            if args.began is not None:
                took = time.time() - args.began
                lines.append(f"- wall time of this bench/run, build and dataset preparation included: "
                             f"{int(took // 60)} min {int(took % 60)} s")
            if args.note:
                lines.append(f"- **{args.note}**")
            lines += ["", md, ""]
            with open(path, "w") as f:
                f.write("\n".join(lines))
            log(f"written to {os.path.relpath(path, ROOT)}")
    finally:
        stop_all()
        shutil.rmtree(rundir, ignore_errors=True)


if __name__ == "__main__":
    main()
