#!/usr/bin/env python3
"""The measurements of `make bench` (SPEC.md §9, issue 8). Called by bench/run.sh once the
stack is up; reads the stack's ports and paths from the ECG_* variables run.sh exports.

1. Data through the gateway: bench users (signup, or login when they exist), one uploaded
   video (generate-url, PUT to S3, complete) and one job (process-video).
2. wrk (Lua scripts in bench/wrk/) for each endpoint on the service's own port and through
   the gateway; the login storm with a concurrent GET /api/auth/me load.
3. The pipeline: BENCH_JOBS jobs one after another, each timed from process-video's 202 to
   the job's `completed` on its Server-Sent Events stream, with the worker in
   `--analysis none` mode; the outbox's write → broker acknowledgement from the outbox table.
4. Where the CPU went during each wrk row: CPU time of the answering service, nginx,
   PostgreSQL and wrk itself (from /proc), per request, and the machine's idle share. Their
   sum per request bounds the req/s these cores can give, whatever the code does.
5. RSS of each service, machine details, one Markdown table on stdout and in
   bench/results/<date>.md.

Only the Python standard library is used.
"""

import datetime
import http.client
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
import uuid

E = os.environ
ROOT = E["ECG_ROOT"]
RUN_DIR = E["ECG_RUN_DIR"]
LOG_DIR = E["ECG_LOG_DIR"]
PROFILE = E.get("STACK_PROFILE", "dev")
GW = int(E["ECG_GATEWAY_PORT"])
AUTH = int(E["ECG_AUTH_PORT"])
MEDIA = int(E["ECG_MEDIA_PORT"])
ANALYSIS = int(E["ECG_ANALYSIS_PORT"])
PG_PORT = int(E["ECG_PG_PORT"])
PG_DB = E.get("ECG_PG_DB", "ecg")
PG_BIN = E.get("ECG_PG_BIN", "/usr/lib/postgresql/15/bin")
WRK_DIR = E["BENCH_WRK_DIR"]
RESULTS_DIR = E["BENCH_RESULTS_DIR"]
BUILD_CONFIG = E.get("BUILD_CONFIG", "release")

THREADS = int(E.get("BENCH_THREADS", "2"))
CONNECTIONS = int(E.get("BENCH_CONNECTIONS", "32"))
LOGIN_CONNECTIONS = int(E.get("BENCH_LOGIN_CONNECTIONS", "4"))
DURATION = E.get("BENCH_DURATION", "10s")
JOBS = int(E.get("BENCH_JOBS", "200"))
JOB_RATE = float(E.get("BENCH_JOB_RATE", "10"))
ONLY = set(x.strip() for x in E.get("BENCH_ONLY", "").split(",") if x.strip())
WRK_TIMEOUT = "10s"  # wrk leaves slower requests out of its percentiles; count them instead

PASSWORD = "ecg-bench-password-1"
MAIN_USER = 0
LOGIN_USERS = [1, 2, 3, 4]
SERVICES = ["auth-service", "media-service", "analysis-service"]

WRK_LOG = os.path.join(LOG_DIR, "bench-wrk.log")
notes = []  # lines under the table: what was skipped and why, how things were measured


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def wanted(key):
    return not ONLY or key in ONLY


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------
def call(port, method, path, body=None, token=None, headers=None, timeout=30):
    """One request on a new connection: (status, headers, parsed JSON or text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = {"Accept": "application/json"}
    if body is not None:
        body = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    if token:
        h["Authorization"] = f"Bearer {token}"
    h.update(headers or {})
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        raw = r.read()
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = raw.decode(errors="replace")
        return r.status, dict(r.getheaders()), data
    finally:
        conn.close()


def openapi_paths(port):
    try:
        status, _, doc = call(port, "GET", "/openapi.json", timeout=10)
        if status == 200 and isinstance(doc, dict):
            return set(doc.get("paths", {}).keys())
    except OSError:
        pass
    return set()


# ---------------------------------------------------------------------------
# Processes, machine, versions
# ---------------------------------------------------------------------------
def pid_of(name):
    try:
        with open(os.path.join(RUN_DIR, f"{name}.pid")) as f:
            pid = int(re.sub(r"\D", "", f.readline()) or 0)
        if pid and os.path.exists(f"/proc/{pid}"):
            return pid
    except (OSError, ValueError):
        pass
    return None


def proc_status(pid, field):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])  # kB
    except OSError:
        pass
    return None


def rss_mib(pid):
    kb = proc_status(pid, "VmRSS") if pid else None
    return None if kb is None else kb / 1024


def fmt_rss(mib):
    return "–" if mib is None else f"{mib:.0f} MiB"


def proc_env(pid, var):
    try:
        with open(f"/proc/{pid}/environ", "rb") as f:
            for item in f.read().split(b"\0"):
                k, _, v = item.decode(errors="replace").partition("=")
                if k == var:
                    return v
    except OSError:
        pass
    return None


def out(cmd, **kw):
    """A command's output (stdout and stderr), or "" when it fails."""
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)
        return (r.stdout + r.stderr).strip() if r.returncode == 0 else ""
    except (OSError, subprocess.TimeoutExpired):
        return ""


def psql(role, sql):
    exe = shutil.which("psql") or os.path.join(PG_BIN, "psql")
    env = dict(E, PGPASSWORD=f"{role}_pw", PGCONNECT_TIMEOUT="5")
    r = subprocess.run(
        [exe, "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(PG_PORT), "-U", role, "-d", PG_DB, "-c", sql],
        capture_output=True, text=True, env=env, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"psql as {role}: {r.stderr.strip()}")
    return r.stdout.strip()


def machine():
    info = {}
    info["cores"] = os.cpu_count()
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["cpu"] = model or "unknown CPU"
    try:
        with open("/proc/meminfo") as f:
            info["mem_gib"] = int(f.readline().split()[1]) / 1024 / 1024
    except (OSError, ValueError, IndexError):
        info["mem_gib"] = None
    info["librdkafka"] = out(["pkg-config", "--modversion", "rdkafka"]) or out(
        ["dpkg-query", "-W", "-f=${Version}", "librdkafka1"]) or "unknown"
    try:
        info["postgres"] = psql("auth_service", "SHOW server_version")
    except Exception:  # noqa: BLE001 - fall back to the binary's version
        info["postgres"] = out([os.path.join(PG_BIN, "postgres"), "--version"]) or "unknown"
    info["nginx"] = out(["nginx", "-v"]).replace("nginx version: ", "").replace("nginx/", "") or "unknown"
    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.splitlines()  # exits 1
    info["wrk"] = wrk_v[0].split(" Copyright")[0] if wrk_v else "unknown"
    info["kernel"] = os.uname().release
    info["git"] = out(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]) or "unknown"
    if out(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"]):
        info["git"] += " (with uncommitted changes)"
    return info


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def service_processes():
    """name -> (pid, executable, LOG_LEVEL) for the running services."""
    procs = {}
    for name in SERVICES:
        pid = pid_of(name)
        if not pid:
            procs[name] = (None, "not running", None)
            continue
        try:
            exe = os.readlink(f"/proc/{pid}/exe")
        except OSError:
            exe = "?"
        if exe.endswith(" (deleted)"):
            exe = exe[: -len(" (deleted)")] + " (replaced on disk since the service started)"
        procs[name] = (pid, exe, proc_env(pid, "LOG_LEVEL"))
    return procs


# ---------------------------------------------------------------------------
# CPU accounting (/proc), to say what bounds a row's req/s
# ---------------------------------------------------------------------------
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of one process (all its threads), in seconds."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def pids_named(comm):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() == comm:
                        found.append(int(entry))
            except OSError:
                pass
    return found


def machine_cpu():
    """(busy, total) jiffies of all cores, from /proc/stat."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class CPUMeter:
    """CPU seconds spent by the service, nginx, PostgreSQL and wrk between start() and stop()."""

    def __init__(self, service, pid=None):
        self.service_pid = pid or pid_of(service)

    def _sample(self):
        return {
            "service": cpu_seconds(self.service_pid) if self.service_pid else 0.0,
            "nginx": sum(cpu_seconds(p) for p in pids_named("nginx")),
            "postgres": sum(cpu_seconds(p) for p in pids_named("postgres")),
            "machine": machine_cpu(),
        }

    def start(self):
        self.before = self._sample()
        # wrk is a child of ours: its time arrives in RUSAGE_CHILDREN when it is reaped.
        import resource
        self.children_before = resource.getrusage(resource.RUSAGE_CHILDREN)

    def stop(self, requests):
        import resource
        after = self._sample()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        wrk = (children.ru_utime + children.ru_stime) - (self.children_before.ru_utime + self.children_before.ru_stime)
        busy = after["machine"][0] - self.before["machine"][0]
        total = after["machine"][1] - self.before["machine"][1]
        per = lambda seconds: seconds * 1e6 / requests if requests else None  # noqa: E731
        usage = {k: per(after[k] - self.before[k]) for k in ("service", "nginx", "postgres")}
        usage["wrk"] = per(wrk)
        usage["machine"] = per(busy / CLK_TCK)
        usage["idle_pct"] = 100 * (1 - busy / total) if total else None
        return usage


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------
def email(i):
    return f"ecg-bench-{i}@example.com"


def user_token(i):
    """Sign user i up, or log in when it exists: (access token, user id)."""
    for attempt in range(3):
        status, headers, data = call(GW, "POST", "/api/auth/signup",
                                     {"username": f"ecg_bench_{i}", "email": email(i), "password": PASSWORD})
        if status == 201:
            return data["access_token"], str(data["user"]["id"])
        status, headers, data = call(GW, "POST", "/api/auth/login", {"email": email(i), "password": PASSWORD})
        if status == 200:
            return data["access_token"], str(data["user"]["id"])
        if status == 429:
            wait = min(int(headers.get("Retry-After", "5") or 5), 120)
            log(f"login of {email(i)} rate-limited; waiting {wait} s")
            time.sleep(wait)
            continue
        raise RuntimeError(f"could not sign up or log in {email(i)}: {status} {data}")
    raise RuntimeError(f"could not log in {email(i)}: still rate-limited")


def upload_video(token):
    """generate-url, PUT a 1 KiB file to the presigned URL, complete: the file key."""
    status, _, data = call(GW, "POST", "/api/upload-video/generate-url",
                           {"filename": "bench.mp4", "content_type": "video/mp4", "size_bytes": 1024}, token=token)
    if status != 200:
        raise RuntimeError(f"generate-url answered {status} {data}")
    headers = dict(data.get("upload_headers") or {})
    headers.setdefault("Content-Type", "video/mp4")
    req = urllib.request.Request(data["upload_url"], data=b"\0" * 1024, method=data.get("upload_method", "PUT"), headers=headers)
    with urllib.request.urlopen(req, timeout=30) as r:
        if r.status // 100 != 2:
            raise RuntimeError(f"upload to S3 answered {r.status}")
    status, _, done = call(GW, "POST", "/api/upload-video/complete", {"file_key": data["file_key"]}, token=token)
    if status != 200:
        raise RuntimeError(f"complete answered {status} {done}")
    return data["file_key"]


def process_video(token, file_key, conn=None):
    body = json.dumps({"video_file_key": file_key, "analysis_type": "full_analysis"}).encode()
    h = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", GW, timeout=30)
    try:
        conn.request("POST", "/api/v1/ml/process-video", body=body, headers=h)
        r = conn.getresponse()
        raw = r.read()
        t = time.perf_counter()
        data = json.loads(raw) if raw else None
        return r.status, data, t
    finally:
        if own:
            conn.close()


def insert_job(user_id):
    """Fallback when media-service cannot give a video: a completed job row written directly."""
    job_id = str(uuid.uuid4())
    psql("analysis_service", (
        "INSERT INTO jobs (id, user_id, video_file_key, analysis_type, status, progress, result) VALUES "
        f"('{job_id}', '{user_id}', 'uploads/{job_id}/bench.mp4', 'full_analysis', 'completed', 100, "
        "'{\"captions\":[],\"emotions\":[],\"analysis_time\":0}')"))
    return job_id


# ---------------------------------------------------------------------------
# wrk
# ---------------------------------------------------------------------------
def wrk_cmd(port, path, script, connections, duration=None, threads=None):
    threads = min(threads or THREADS, connections)
    return ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration or DURATION}", "--latency", "--timeout", WRK_TIMEOUT,
            "-s", os.path.join(WRK_DIR, script), f"http://127.0.0.1:{port}{path}"]


def parse_wrk(text):
    m = re.search(r"^BENCH_RESULT (\{.*\})$", text, re.M)
    if not m:
        return None
    r = json.loads(m.group(1))
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6) if r["duration_us"] else 0.0
    r["socket_errors"] = r["connect_errors"] + r["read_errors"] + r["write_errors"] + r["timeouts"]
    return r


def run_wrk(label, cmd, env):
    with open(WRK_LOG, "a") as f:
        f.write(f"\n===== {datetime.datetime.now(datetime.timezone.utc).isoformat()} {label}\n$ {' '.join(cmd)}\n")
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        f.write(proc.stdout + proc.stderr)
    result = parse_wrk(proc.stdout)
    if result is None:
        raise RuntimeError(f"wrk gave no result for {label}: {proc.stderr.strip() or proc.stdout.strip()[-500:]}")
    return result


def start_wrk(label, cmd, env):
    f = open(WRK_LOG, "a")
    f.write(f"\n===== {datetime.datetime.now(datetime.timezone.utc).isoformat()} {label} (concurrent)\n$ {' '.join(cmd)}\n")
    f.flush()
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env), f


def finish_wrk(label, handle):
    proc, f = handle
    text, _ = proc.communicate()
    f.write(text)
    f.close()
    result = parse_wrk(text)
    if result is None:
        raise RuntimeError(f"wrk gave no result for {label}: {text.strip()[-500:]}")
    return result


# ---------------------------------------------------------------------------
# Statistics and formatting
# ---------------------------------------------------------------------------
def percentile(values, p):
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return None
    s = sorted(values)
    return s[max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))]


def fmt_ms(ms):
    if ms is None:
        return "–"
    if ms >= 1000:
        return f"{ms / 1000:.2f} s"
    if ms >= 100:
        return f"{ms:.0f} ms"
    if ms >= 10:
        return f"{ms:.1f} ms"
    return f"{ms:.2f} ms"


def fmt_rps(rps):
    if rps is None:
        return "–"
    return f"{rps:,.0f}" if rps >= 100 else f"{rps:.1f}"


def fmt_count(r):
    s = f"{r['non2xx']:,}"
    if r["socket_errors"]:
        parts = [f"{r[k]} {n}" for k, n in (("connect_errors", "connect"), ("read_errors", "read"),
                                            ("write_errors", "write"), ("timeouts", "timeout")) if r[k]]
        s += f" (+ socket errors: {', '.join(parts)})"
    return s


# ---------------------------------------------------------------------------
# The pipeline
# ---------------------------------------------------------------------------
def wait_completed(token, job_id, timeout):
    """Reads the job's SSE stream until a terminal status: (status or None, time read)."""
    conn = http.client.HTTPConnection("127.0.0.1", GW, timeout=timeout)
    deadline = time.monotonic() + timeout
    try:
        conn.request("GET", f"/api/v1/ml/job-status/{job_id}/stream",
                     headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"})
        r = conn.getresponse()
        if r.status != 200:
            r.read()
            return f"http {r.status}", time.perf_counter()
        while time.monotonic() < deadline:
            line = r.readline()
            if not line:
                return None, time.perf_counter()
            if line.startswith(b"data:"):
                t = time.perf_counter()
                status = json.loads(line[5:]).get("status")
                if status in ("completed", "failed"):
                    return status, t
        return None, time.perf_counter()
    except (OSError, http.client.HTTPException):
        return None, time.perf_counter()
    finally:
        conn.close()


def run_pipeline(token, file_key):
    """JOBS jobs, open loop: process-video's 202 → `completed` on the job's stream."""
    # Warm-up: the worker may still be joining its consumer group (the embedded broker
    # reassigns a departed member's partitions only after its session timeout).
    log("pipeline: warm-up job (waits for the worker to own the request partitions)")
    warm_deadline = time.monotonic() + 90
    warmed = False
    while time.monotonic() < warm_deadline and not warmed:
        status, data, _ = process_video(token, file_key)
        if status != 202:
            raise RuntimeError(f"process-video answered {status} {data}")
        st, _ = wait_completed(token, data["job_id"], timeout=max(1, warm_deadline - time.monotonic()))
        warmed = st == "completed"
        if st == "failed":
            raise RuntimeError("the warm-up job failed (is the worker in --analysis none mode?)")
    if not warmed:
        raise RuntimeError("no worker completed a warm-up job within 90 s")
    for _ in range(5):  # a few more, so that connections and statements are warm
        status, data, _ = process_video(token, file_key)
        wait_completed(token, data["job_id"], timeout=30)

    # Open loop: arrivals at random (exponential) intervals, JOB_RATE a second on average, each
    # job followed on its own stream. Jobs sent one after another as soon as the previous one
    # completed would arrive in step with any periodic cycle downstream (consumer fetches,
    # relay polls) and measure the same phase of it every time.
    log(f"pipeline: {JOBS} jobs, open loop at {JOB_RATE:g} jobs/s")
    rng = random.Random(9)
    results = [None] * JOBS

    def one_job(i):
        try:
            status, data, t0 = process_video(token, file_key)
        except (OSError, http.client.HTTPException, ValueError):
            return
        if status != 202:
            return
        st, t1 = wait_completed(token, data["job_id"], timeout=30)
        if st == "completed":
            results[i] = ((t1 - t0) * 1000, data["job_id"])

    started_wall = time.time()
    started = time.perf_counter()
    due = started
    workers = []
    for i in range(JOBS):
        due += rng.expovariate(JOB_RATE)
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        t = threading.Thread(target=one_job, args=(i,), daemon=True)
        t.start()
        workers.append(t)
    for t in workers:
        t.join(timeout=60)
    elapsed = time.perf_counter() - started
    done = [r for r in results if r]
    latencies = [r[0] for r in done]
    job_ids = [r[1] for r in done]
    failures = JOBS - len(done)

    server = []
    outbox = []
    try:
        ids = ",".join(f"'{j}'" for j in job_ids)
        if ids:
            server = [float(x) for x in psql(
                "analysis_service",
                f"SELECT extract(epoch FROM updated_at - created_at) * 1000 FROM jobs WHERE id IN ({ids})").split()]
        outbox = [float(x) for x in psql(
            "analysis_service",
            "SELECT extract(epoch FROM published_at - created_at) * 1000 FROM outbox "
            f"WHERE created_at >= to_timestamp({started_wall}) AND published_at IS NOT NULL").split()]
    except Exception as e:  # noqa: BLE001 - the client-side numbers stand without these
        notes.append(f"Server-side pipeline and outbox times not read: {e}")
    return {"latencies": latencies, "failures": failures, "elapsed": elapsed, "server": server, "outbox": outbox}


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
# The seed's FastAPI stack as issue 13 measured it through its gateway (release build, 2 cores,
# wrk -t2 -c32 -d10s): endpoint, req/s, p99 ms (None: not reported), issue 13's target.
SEED_FIGURES = [
    ("GET /api/auth/me", 684, 1507, "≥ 15× with p99 ≤ 25 ms"),
    ("GET /api/v1/ml/job-status/{id}", 562, 167, "≥ 15× with p99 ≤ 25 ms"),
    ("POST /api/upload-video/generate-url", 2719, 27, "≥ 3× (≥ 8,000 req/s) with p99 ≤ 25 ms"),
    ("GET /health", 10249, None, "–"),
]


def done_when(by, ceilings, pipe, final_rss):
    """Issue 13's "Done when", judged on this run's rows: one line per target, met or not, with the
    figure that decided it. A target whose rows did not run (BENCH_ONLY) is left out."""
    seed = {endpoint: rps for endpoint, rps, _, _ in SEED_FIGURES}
    verdict = lambda ok: "met" if ok else "**not met**"  # noqa: E731
    lines = []
    health, bare = by.get(("GET /health", "auth-service")), ceilings.get("health")
    if health and bare and bare["rps"]:
        pct = 100 * health["rps"] / bare["rps"]
        lines.append(f"- `/health` on its port ≥ 80% of the bare route: {verdict(pct >= 80)} ({pct:.0f}%)")
    for endpoint in ("GET /api/auth/me", "GET /api/v1/ml/job-status/{id}"):
        r = by.get((endpoint, "gateway"))
        if r and r["rps"]:
            ratio, p99 = r["rps"] / seed[endpoint], r["p99_us"] / 1000
            ok = ratio >= 15 and r["rps"] >= 10_000 and p99 <= 25
            lines.append(f"- `{endpoint}` through the gateway ≥ 15× the seed and ≥ 10,000 req/s, p99 ≤ 25 ms: "
                         f"{verdict(ok)} ({fmt_rps(r['rps'])} req/s, {ratio:.1f}×, p99 {fmt_ms(p99)})")
    for via in ("gateway", "media-service"):
        r = by.get(("POST /api/upload-video/generate-url", via))
        if r and r["rps"]:
            p99 = r["p99_us"] / 1000
            where = "through the gateway" if via == "gateway" else "on media-service's port"
            # What the same run's bare grouped insert reached on the same path: a target above it is
            # above what this framework, these cores and this gateway allow any generate-url.
            bare = ceilings.get("grouped-1-gw" if via == "gateway" else "grouped-1")
            bound = f"; the bare grouped insert {where}: {fmt_rps(bare['rps'])} req/s" if bare and bare["rps"] else ""
            lines.append(f"- generate-url ≥ 8,000 req/s with p99 ≤ 25 ms, {where}: "
                         f"{verdict(r['rps'] >= 8000 and p99 <= 25)} ({fmt_rps(r['rps'])} req/s, p99 {fmt_ms(p99)}{bound})")
    if pipe and pipe["latencies"]:
        p50 = percentile(pipe["latencies"], 50)
        lines.append(f"- pipeline p50 ≤ 50 ms: {verdict(p50 <= 50)} ({fmt_ms(p50)})")
    if final_rss and all(final_rss.get(n) for n in SERVICES):
        worst = max(final_rss[n] for n in SERVICES)
        lines.append(f"- RSS ≤ 150 MiB per service: {verdict(worst <= 150)} (at most {fmt_rss(worst)})")
    if lines:
        lines.append("- the outage test (PostgreSQL restarted under load, no 500): run by `make test`, not here")
    return lines


def main():
    os.makedirs(RESULTS_DIR, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    load_before = loadavg()
    info = machine()
    procs = service_processes()
    if BUILD_CONFIG == "release" and any("/debug/" in exe for _, exe, _ in procs.values()):
        log("warning: the running stack is a debug build; the targets refer to a release build "
            "('make stop', then 'make bench' builds and starts one)")

    auth_paths = openapi_paths(AUTH)
    media_paths = openapi_paths(MEDIA)
    analysis_paths = openapi_paths(ANALYSIS)
    has_auth = "/api/auth/me" in auth_paths and "/api/auth/login" in auth_paths
    has_media = "/api/upload-video/generate-url" in media_paths and "/api/upload-video/complete" in media_paths
    has_jobs = any(p.startswith("/api/v1/ml/job-status/") for p in analysis_paths)
    has_process = "/api/v1/ml/process-video" in analysis_paths
    if not has_auth:
        raise SystemExit("bench: auth-service has no /api/auth/me or /api/auth/login route: nothing to measure")

    # ---- data, through the gateway
    log("preparing data through the gateway")
    token, user_id = user_token(MAIN_USER)
    tokens = [token] + [user_token(i)[0] for i in LOGIN_USERS]
    file_key = None
    if has_media:
        try:
            file_key = upload_video(token)
        except Exception as e:  # noqa: BLE001
            notes.append(f"Uploading the bench video failed ({e}); the rows that need it are skipped.")
    else:
        notes.append("Media routes (`generate-url`, `complete`) are not available on media-service yet: "
                     "`POST /api/upload-video/generate-url` and the pipeline are not measured.")
    job_id = None
    if has_jobs:
        if file_key and has_process:
            status, data, _ = process_video(token, file_key)
            if status == 202:
                job_id = data["job_id"]
            else:
                notes.append(f"process-video answered {status} {data}")
        if job_id is None:
            try:
                job_id = insert_job(user_id)
                notes.append("The job read by `job-status` was written directly into `analysis.jobs` "
                             "(no uploaded video to start one through `process-video`).")
            except Exception as e:  # noqa: BLE001
                notes.append(f"No job for `job-status` ({e}).")
    else:
        notes.append("analysis-service has no job routes yet: `job-status` and the pipeline are not measured.")

    env = dict(E, BENCH_TOKEN=token, BENCH_WRK_DIR=WRK_DIR,
               BENCH_LOGIN_EMAILS=",".join(email(i) for i in LOGIN_USERS), BENCH_LOGIN_PASSWORD=PASSWORD)
    env_noauth = dict(env, BENCH_TOKEN="")
    rows = []  # (endpoint, via, result-or-None, rss, target, note)
    svc_port = {"auth-service": AUTH, "media-service": MEDIA, "analysis-service": ANALYSIS}

    # ---- the framework's ceilings (issue 13): bench-ceiling's bare routes, same wrk settings
    ceiling_port = int(E.get("BENCH_CEILING_PORT") or 0)
    ceiling_pid = int(E["BENCH_CEILING_PID"]) if E.get("BENCH_CEILING_PID") else None
    ceilings = {}  # "health" / "db" / "insert-1" / "insert-n" / "grouped-1" / "grouped-n" -> wrk result,
    # and "health-gw" / "grouped-1-gw": the same bare routes through the ceiling gateway
    ceiling_gateway_port = int(E.get("BENCH_CEILING_GATEWAY_PORT") or 0)
    ceiling_gateway = bool(E.get("BENCH_CEILING_GATEWAY_PID"))
    # The insert ceiling's owners: ids no user has (bigint far above any serial the bench creates), so
    # that its rows and reservations are nobody's; one for the one-user row, all for the n-user row.
    ceiling_owners = [str(9_000_000_000 + i) for i in range(len(tokens))]

    def measure_ceiling(kind, endpoint, path, target, script="get.lua", extra_env=None, through_gateway=False):
        # Through the ceiling gateway (bench/run.sh: nginx with the stack's gateway configuration, every
        # upstream at bench-ceiling), a ceiling's share is of the same route on bench-ceiling's port:
        # what the gateway leaves of it.
        port, via = (ceiling_gateway_port, f"ceiling gateway :{ceiling_gateway_port}") if through_gateway \
            else (ceiling_port, f"bench-ceiling :{ceiling_port}")
        label = f"{endpoint} via {via}"
        log(f"wrk: {label}")
        meter = CPUMeter("bench-ceiling", pid=ceiling_pid)
        meter.start()
        r = run_wrk(label, wrk_cmd(port, path, script, CONNECTIONS), dict(env_noauth, **(extra_env or {})))
        r["cpu"] = meter.stop(r["requests"])
        r["ceiling_kind"] = kind.removesuffix("-gw")
        ceilings[kind] = r
        rows.append((endpoint, via, r, rss_mib(ceiling_pid), target))
        time.sleep(1)

    read_ceilings = wanted("ceiling") or wanted("health") or wanted("me") or wanted("job-status")
    insert_ceilings = has_media and (wanted("ceiling") or wanted("generate-url"))
    if (read_ceilings or insert_ceilings) and not ceiling_pid:
        notes.append("`bench-ceiling` did not run (not built, or it failed to start): no ceiling rows, no shares.")

    # Each ceiling runs right before the rows it is compared with: on this shared machine the state
    # drifts within minutes, and a share is only as good as the closeness of its two measurements.
    def measure_health_ceiling():
        if read_ceilings and ceiling_pid:
            measure_ceiling("health", "ceiling: GET /health, bare Hummingbird (no middleware)", "/health",
                            "the framework's ceiling for /health")
            if ceiling_gateway:
                measure_ceiling("health-gw", "ceiling: GET /health, bare Hummingbird, through the gateway's nginx configuration",
                                "/health", "the ceiling for /health through the gateway", through_gateway=True)

    def measure_read_ceiling():
        if read_ceilings and ceiling_pid and user_id.isdigit():
            measure_ceiling("db", "ceiling: /me's row, bare PostgresNIO lookup (no token, no middleware)",
                            f"/me/{user_id}", "the ceiling for one-row reads")

    def measure_insert_ceilings(owners):
        if not (insert_ceilings and ceiling_pid):
            return
        one = len(owners) == 1
        count = "one owner" if one else f"{len(owners)} owners"
        measure_ceiling("insert-1" if one else "insert-n",
                        f"ceiling: generate-url's insert, bare PostgresNIO, {count}"
                        + (" (no token, no presigning, no middleware)" if one else ""),
                        "/api/upload-video/ceiling/videos", "one statement per request (before grouping)",
                        script="ceiling_insert.lua", extra_env={"BENCH_CEILING_OWNERS": ",".join(owners)})
        # The same inserts grouped as media-service groups concurrent generate-url inserts (one statement
        # per round trip): the ceiling for generate-url itself.
        grouped_env = {"BENCH_CEILING_OWNERS": ",".join(owners), "BENCH_CEILING_ROUTE": "videos-grouped"}
        measure_ceiling("grouped-1" if one else "grouped-n", f"ceiling: generate-url's insert grouped, bare PostgresNIO, {count}",
                        "/api/upload-video/ceiling/videos-grouped", "the ceiling for one user's generate-url" if one
                        else f"the ceiling for {len(tokens)} users' generate-url",
                        script="ceiling_insert.lua", extra_env=grouped_env)
        if one and ceiling_gateway:
            measure_ceiling("grouped-1-gw", "ceiling: generate-url's insert grouped, bare PostgresNIO, one owner, through the "
                            "gateway's nginx configuration", "/api/upload-video/ceiling/videos-grouped",
                            "the ceiling for one user's generate-url through the gateway", script="ceiling_insert.lua",
                            extra_env=grouped_env, through_gateway=True)

    def measure(key, endpoint, service, path, script, connections, target, auth=True, extra_env=None):
        if not wanted(key):
            return
        for via, port in ((f"{service} :{svc_port[service]}", svc_port[service]), (f"gateway :{GW}", GW)):
            label = f"{endpoint} via {via}"
            log(f"wrk: {label}")
            meter = CPUMeter(service)
            meter.start()
            r = run_wrk(label, wrk_cmd(port, path, script, connections), dict(env if auth else env_noauth, **(extra_env or {})))
            r["cpu"] = meter.stop(r["requests"])
            rows.append((endpoint, via, r, rss_mib(pid_of(service)), target))
            time.sleep(1)

    def unavailable(key, endpoint, why):
        if wanted(key):
            rows.append((endpoint, "–", None, None, why))

    # ---- one login at a time, idle: the bcrypt ceiling
    single_login = []
    if wanted("login") or wanted("storm"):
        for n in range(6):
            t = time.perf_counter()
            status, _, _ = call(AUTH, "POST", "/api/auth/login", {"email": email(LOGIN_USERS[n % len(LOGIN_USERS)]), "password": PASSWORD})
            if status == 200:
                single_login.append((time.perf_counter() - t) * 1000)
    one_login = percentile(single_login, 50)
    ceiling = info["cores"] * 1000 / one_login if one_login else None
    login_target = f"bcrypt ceiling ≈ {ceiling:.1f}/s" if ceiling else "bcrypt ceiling"

    measure_health_ceiling()
    measure("health", "GET /health", "auth-service", "/health", "get.lua", CONNECTIONS, "(baseline 12.7–13.6k/s)", auth=False)
    measure_read_ceiling()
    measure("me", "GET /api/auth/me", "auth-service", "/api/auth/me", "get.lua", CONNECTIONS, "≥ 15,000/s, p99 ≤ 25 ms")
    if job_id:
        measure("job-status", "GET /api/v1/ml/job-status/{id}", "analysis-service", f"/api/v1/ml/job-status/{job_id}",
                "get.lua", CONNECTIONS, "≥ 15,000/s, p99 ≤ 25 ms")
    else:
        unavailable("job-status", "GET /api/v1/ml/job-status/{id}", "not available (no job routes or no job)")
    if has_media:
        measure_insert_ceilings(ceiling_owners[:1])
        measure("generate-url", "POST /api/upload-video/generate-url", "media-service", "/api/upload-video/generate-url",
                "generate_url.lua", CONNECTIONS, "≥ 10,000/s, p99 ≤ 25 ms")
        # One user's requests queue on that user's storage-usage row (the quota's reservation), which
        # alone caps them near 5,500/s here; five users show what the service does when they do not.
        if len(ceiling_owners) > 1:
            measure_insert_ceilings(ceiling_owners)
        measure("generate-url", f"POST /api/upload-video/generate-url, {len(tokens)} users", "media-service",
                "/api/upload-video/generate-url", "generate_url.lua", CONNECTIONS, "≥ 10,000/s, p99 ≤ 25 ms",
                extra_env={"BENCH_TOKENS": ",".join(tokens)})
    else:
        unavailable("generate-url", "POST /api/upload-video/generate-url", "not available (media routes not built)")
    measure("login", f"POST /api/auth/login ({LOGIN_CONNECTIONS} conn.)", "auth-service", "/api/auth/login", "login.lua",
            LOGIN_CONNECTIONS, login_target)

    # ---- login storm with a concurrent /me load, both on auth-service's port
    if wanted("storm"):
        secs = int(re.sub(r"\D", "", DURATION) or 10)
        log("wrk: login storm with concurrent GET /api/auth/me")
        storm = start_wrk("login storm", wrk_cmd(AUTH, "/api/auth/login", "login.lua", LOGIN_CONNECTIONS, duration=f"{secs + 2}s"), env)
        time.sleep(1)
        me = run_wrk("GET /api/auth/me during the login storm", wrk_cmd(AUTH, "/api/auth/me", "get.lua", CONNECTIONS), env)
        login = finish_wrk("login storm", storm)
        rss = rss_mib(pid_of("auth-service"))
        rows.append((f"POST /api/auth/login storm ({LOGIN_CONNECTIONS} conn.)", f"auth-service :{AUTH}", login, rss, login_target))
        rows.append(("GET /api/auth/me during the storm", f"auth-service :{AUTH}", me, rss, "p99 ≤ 50 ms"))
        time.sleep(1)

    # ---- pipeline
    pipe = None
    if wanted("pipeline"):
        why = None
        if not (has_process and has_jobs):
            why = "not available (analysis job routes not built)"
        elif not file_key:
            why = "not available (no uploaded video: media routes not built)"
        elif E.get("BENCH_WORKER_AVAILABLE") != "1":
            why = "not available (`caption-worker` not built)"
        elif E.get("BENCH_WORKER", "none") == "none":
            why = "not available (no worker in --analysis none mode)"
        if why is None:
            try:
                pipe = run_pipeline(token, file_key)
            except Exception as e:  # noqa: BLE001
                why = f"failed: {e}"
        if why:
            rows.append((f"pipeline: process-video → completed ({JOBS} jobs)", "–", None, None, why))

    # ---- producer throughput (1 KiB values, acknowledged) against the stack's broker
    producer = None
    if not ONLY or "producer" in ONLY:
        broker_exe = os.path.join(E.get("BIN_DIR", os.path.join(ROOT, ".build", BUILD_CONFIG)), "ecg-kafka-broker")
        if not os.path.isabs(broker_exe):
            broker_exe = os.path.join(ROOT, broker_exe)
        try:
            with open(E["ECG_KAFKA_BOOTSTRAP_FILE"]) as f:
                brokers = f.read().strip()
            out = subprocess.run([broker_exe, "bench-producer", "--brokers", brokers, "--messages", E.get("BENCH_PRODUCER_MESSAGES", "20000")],
                                 capture_output=True, text=True, timeout=300, check=True).stdout
            producer = json.loads(out.strip().splitlines()[-1])
        except Exception as e:  # noqa: BLE001
            notes.append(f"producer throughput not measured: {e}")

    # ---- RSS after everything
    final_rss = {name: rss_mib(pid_of(name)) for name in SERVICES}
    worker_pid = int(E["BENCH_WORKER_PID"]) if E.get("BENCH_WORKER_PID") else pid_of("worker")
    load_after = loadavg()

    # ---- the table
    # Each route's req/s as a share of its ceiling measured in this run: `/health` of the bare
    # Hummingbird route, the one-row reads (`/me`, `job-status`) of the bare PostgresNIO lookup,
    # generate-url of the bare run of its grouped insert (one owner, or as many owners as users).
    # Runs on a noisy machine are compared by these shares.
    ceiling_of = {"GET /health": "health", "GET /api/auth/me": "db", "GET /api/v1/ml/job-status/{id}": "db",
                  "GET /api/auth/me during the storm": "db", "POST /api/upload-video/generate-url": "grouped-1",
                  f"POST /api/upload-video/generate-url, {len(tokens)} users": "grouped-n"}

    def share(endpoint, r):
        kind = r.get("ceiling_kind") or ceiling_of.get(endpoint)
        c = ceilings.get(kind)
        if not c or not c["rps"]:
            return "–"
        return f"{100 * r['rps'] / c['rps']:.0f}%"

    lines = ["| endpoint | via | req/s | share of ceiling | p50 | p99 | non-2xx | RSS | target |",
             "|---|---|---|---|---|---|---|---|---|"]
    by = {}
    for endpoint, via, r, rss, target in rows:
        if r is None:
            lines.append(f"| {endpoint} | {via} | – | – | – | – | – | – | {target} |")
            continue
        by[(endpoint, via.split()[0])] = r
        lines.append(f"| {endpoint} | {via} | {fmt_rps(r['rps'])} | {share(endpoint, r)} | {fmt_ms(r['p50_us'] / 1000)} | "
                     f"{fmt_ms(r['p99_us'] / 1000)} | {fmt_count(r)} | {fmt_rss(rss)} | {target} |")
    if pipe:
        lat = pipe["latencies"]
        with open(os.path.join(LOG_DIR, "bench-pipeline.csv"), "w") as f:
            f.write("job,latency_ms\n" + "".join(f"{i},{v:.3f}\n" for i, v in enumerate(lat)))
        lines.append(f"| pipeline: process-video 202 → `completed` on the stream ({len(lat)} of {JOBS} jobs, "
                     f"open loop, {JOB_RATE:g}/s offered) | "
                     f"gateway :{GW} | {len(lat) / pipe['elapsed']:.1f} jobs/s | – | {fmt_ms(percentile(lat, 50))} | "
                     f"{fmt_ms(percentile(lat, 99))} | {pipe['failures']} not completed | "
                     f"{fmt_rss(final_rss['analysis-service'])} | p50 ≤ 50 ms, p99 ≤ 250 ms |")
        if pipe["server"]:
            lines.append(f"| pipeline, server side: job row created → completed (`updated_at − created_at`) | – | – | – | "
                         f"{fmt_ms(percentile(pipe['server'], 50))} | {fmt_ms(percentile(pipe['server'], 99))} | – | – | |")
        if pipe["outbox"]:
            lines.append(f"| outbox: `job.requested` row written → broker ack (`published_at − created_at`, "
                         f"{len(pipe['outbox'])} rows) | – | – | – | {fmt_ms(percentile(pipe['outbox'], 50))} | "
                         f"{fmt_ms(percentile(pipe['outbox'], 99))} | – | – | |")
    if producer:
        lines.append(f"| Kafka producer: {producer['messages']} × {producer['value_bytes']} B, acknowledged, "
                     f"{producer['in_flight']} in flight (`ecg-kafka-broker bench-producer`) | embedded broker | "
                     f"{producer['rate']:,.0f} msg/s | – | – | – | – | – | |")
    if one_login:
        lines.append(f"| one login at a time, idle (≈ one bcrypt hash + 2 round trips; {len(single_login)} logins) | "
                     f"auth-service :{AUTH} | – | – | {fmt_ms(one_login)} | {fmt_ms(max(single_login))} (max) | – | – | "
                     f"ceiling {info['cores']} cores × 1000 / p50 ≈ {ceiling:.1f}/s |")
    table = "\n".join(lines)

    cpu_lines = ["| endpoint | via | service | nginx | PostgreSQL | wrk | whole machine | idle | bound: cores ÷ machine CPU per request |",
                 "|---|---|---|---|---|---|---|---|---|"]
    # A negative share means processes of that kind exited during the row (PostgreSQL
    # backends of closed connections take their CPU time with them): not measurable.
    us = lambda v: "–" if v is None or v < 0 else f"{v:,.0f} µs"  # noqa: E731
    for endpoint, via, r, _, _ in rows:
        if r is None or "cpu" not in r:
            continue
        c = r["cpu"]
        bound = f"{info['cores'] * 1e6 / c['machine']:,.0f} req/s" if c["machine"] else "–"
        cpu_lines.append(f"| {endpoint} | {via} | {us(c['service'])} | {us(c['nginx'])} | {us(c['postgres'])} | {us(c['wrk'])} | "
                         f"{us(c['machine'])} | {c['idle_pct']:.0f}% | {bound} |")
    if len(cpu_lines) > 2:
        table += ("\n\nCPU time per request during each row (from /proc: the answering service, every nginx and "
                  "PostgreSQL process, wrk; the whole machine from /proc/stat). With no idle time left, "
                  "req/s cannot exceed cores ÷ (whole-machine CPU per request).\n\n" + "\n".join(cpu_lines))

    summary = []
    health_svc, health_ceiling = by.get(("GET /health", "auth-service")), ceilings.get("health")
    if health_svc and health_ceiling and health_ceiling["rps"]:
        summary.append(f"- `/health` on auth-service's port: {100 * health_svc['rps'] / health_ceiling['rps']:.0f}% of the bare "
                       f"Hummingbird route ({fmt_rps(health_svc['rps'])} against {fmt_rps(health_ceiling['rps'])} req/s; "
                       f"target ≥ 80%): the rest is the common middleware and the service's own route.")
    # Through the gateway, against the same bare route through the gateway's nginx configuration, and
    # what that configuration leaves of the bare route on its port.
    for endpoint, what, kind in (("GET /health", "the bare Hummingbird route", "health"),
                                 ("POST /api/upload-video/generate-url", "the bare grouped insert (one owner)", "grouped-1")):
        r, bare_gw, bare = by.get((endpoint, "gateway")), ceilings.get(f"{kind}-gw"), ceilings.get(kind)
        if r and bare_gw and bare_gw["rps"] and bare and bare["rps"]:
            summary.append(f"- `{endpoint}` through the gateway: {100 * r['rps'] / bare_gw['rps']:.0f}% of {what} through the "
                           f"gateway's nginx configuration ({fmt_rps(r['rps'])} against {fmt_rps(bare_gw['rps'])} req/s), "
                           f"which itself keeps {100 * bare_gw['rps'] / bare['rps']:.0f}% of that route's req/s on its port "
                           f"({fmt_rps(bare['rps'])}).")
    db_ceiling = ceilings.get("db")
    if db_ceiling and db_ceiling["rps"]:
        for endpoint in ("GET /api/auth/me", "GET /api/v1/ml/job-status/{id}"):
            r = by.get((endpoint, "gateway"))
            if r:
                summary.append(f"- `{endpoint}` through the gateway: {100 * r['rps'] / db_ceiling['rps']:.0f}% of the bare "
                               f"PostgresNIO lookup ({fmt_rps(r['rps'])} against {fmt_rps(db_ceiling['rps'])} req/s).")
    # Side by side with the seed's FastAPI stack. There is no seed stack here to measure in the same
    # run, so these are the figures issue 13 measured for it (release build, 2 cores, the same wrk
    # settings, through its gateway), labelled as such wherever they are printed.
    seed_lines = ["| route (through the gateway) | the seed's stack (issue 13's measurement, not this run) | "
                  "this run | ratio | issue 13's target |", "|---|---|---|---|---|"]
    for endpoint, seed_rps, seed_p99, target in SEED_FIGURES:
        r = by.get((endpoint, "gateway"))
        if not r or not r["rps"]:
            continue
        seed_lines.append(f"| {endpoint} | {fmt_rps(seed_rps)} req/s, p99 {fmt_ms(seed_p99) if seed_p99 else '–'} | "
                          f"{fmt_rps(r['rps'])} req/s, p99 {fmt_ms(r['p99_us'] / 1000)} | {r['rps'] / seed_rps:.1f}× | {target} |")
    if len(seed_lines) > 2:
        table += ("\n\nSide by side with the seed's FastAPI stack: its figures are constants from issue 13's measurement "
                  "on this kind of machine (no seed stack runs here), so the ratio compares runs, not one run.\n\n"
                  + "\n".join(seed_lines))

    me_svc, me_gw = by.get(("GET /api/auth/me", "auth-service")), by.get(("GET /api/auth/me", "gateway"))
    if me_svc and me_gw and me_svc["rps"]:
        cost = (1 - me_gw["rps"] / me_svc["rps"]) * 100
        summary.append(f"- Gateway overhead on `/me`: {abs(cost):.0f}% {'fewer' if cost >= 0 else 'more'} req/s through nginx "
                       f"than on the service port (target: at most 20% fewer).")
    if pipe and pipe["latencies"]:
        lat = pipe["latencies"]
        summary.append(f"- Pipeline latency: min {fmt_ms(min(lat))}, p90 {fmt_ms(percentile(lat, 90))}, max {fmt_ms(max(lat))} "
                       f"(each job's time: `{os.path.relpath(os.path.join(LOG_DIR, 'bench-pipeline.csv'), ROOT)}`).")
    summary.append("- RSS after all runs: " + ", ".join(f"{n} {fmt_rss(final_rss[n])}" for n in SERVICES)
                   + (f", worker {fmt_rss(rss_mib(worker_pid))}" if worker_pid else "") + " (target ≤ 150 MiB each).")

    verdicts = done_when(by, ceilings, pipe, final_rss)
    if verdicts:
        summary += ["", "Issue 13's \"Done when\", judged on this run (shares and ratios above; a noisy machine moves them):", ""]
        summary += verdicts

    build_line = ", ".join(
        f"{name}: `{exe}`" + (f" (LOG_LEVEL={lvl})" if lvl else " (LOG_LEVEL unset: the service default)")
        for name, (pid, exe, lvl) in procs.items())
    header = [
        f"# make bench, {now.strftime('%Y-%m-%d %H:%M UTC')}",
        "",
        f"- Machine: {info['cores']} cores ({info['cpu']})"
        + (f", {info['mem_gib']:.0f} GiB" if info.get("mem_gib") else "")
        + f", Linux {info['kernel']}; load average {load_before} before, {load_after} after.",
        f"- librdkafka {info['librdkafka']}, PostgreSQL {info['postgres']}, nginx {info['nginx']}, {info['wrk']}.",
        f"- Build requested: `{BUILD_CONFIG}`. Running executables: {build_line}.",
        f"- Stack profile `{PROFILE}`"
        + (", started by this run" if E.get("BENCH_STARTED_STACK") == "1" else ", already running")
        + f"; commit {info['git']}.",
        f"- wrk: `-t{THREADS} -c{CONNECTIONS} -d{DURATION} --latency --timeout {WRK_TIMEOUT}` on loopback "
        f"(login rows: `-c{LOGIN_CONNECTIONS}`); wrk, nginx, PostgreSQL, Kafka and the services share the cores.",
        "- non-2xx counts responses outside 2xx/3xx; socket errors are listed beside it when there are any.",
        "- RSS: the answering service's `VmRSS` right after its row (for gateway rows: the service behind nginx).",
    ]
    if E.get("BENCH_NOTE"):
        header.append(f"- Note: {E['BENCH_NOTE']}")
    text = "\n".join(header) + "\n\n" + table + "\n\n" + "\n".join(summary) + "\n"
    if notes:
        text += "\n" + "\n".join(f"- {n}" for n in notes) + "\n"

    name = now.strftime("%Y-%m-%d-%H%M") + ".md"
    path = os.path.join(RESULTS_DIR, name)
    with open(path, "w") as f:
        f.write(text)
    print(text)
    log(f"written to {os.path.relpath(path, ROOT)} (raw wrk output: {os.path.relpath(WRK_LOG, ROOT)})")


if __name__ == "__main__":
    main()
