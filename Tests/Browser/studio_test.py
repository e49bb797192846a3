#!/usr/bin/python3
"""ECG Studio (/app/) driven by a real browser: Debian's headless Chromium through
Selenium (python3-selenium, chromium-driver), against a running stack.

    ECG_TEST_GATEWAY_URL=http://127.0.0.1:18080 Tests/Browser/studio_test.py

infra/local/test.sh runs it after `swift test` against the test stack. Without
ECG_TEST_* variables it uses the dev stack (`make start`: 127.0.0.1:8080, .data/keys).

The scenario: sign up, reload (the session survives through the HttpOnly refresh
cookie), upload a short real video with speech while the progress bar moves, start
the analysis and follow it on the SSE stream to 100, check the <video>'s text track
carries the captions, seek from the caption list, download .vtt/.srt, then an access
token that expired on purpose is refreshed transparently, a page on another origin
cannot read the API, keyboard-only log in, a phone-sized layout, log out, and a
reload shows the login again. Artefacts (the video, screenshots, downloads, the
browser's console log) go to ECG_BROWSER_ARTEFACTS (default .data/browser-test/).
Prints one line per check and a closing `N passed, N failed`; exits 1 on failure.
"""

import base64
import functools
import http.server
import json
import os
import re
import shutil
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.error
import urllib.request
import uuid

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GATEWAY = os.environ.get("ECG_TEST_GATEWAY_URL", "http://127.0.0.1:8080").rstrip("/")
APP = GATEWAY + "/app/"
KEYS_DIR = os.environ.get("ECG_TEST_KEYS_DIR", os.path.join(ROOT, ".data", "keys"))
S3_ENDPOINT = os.environ.get("ECG_TEST_S3_ENDPOINT", "http://127.0.0.1:9000").rstrip("/")
ARTEFACTS = os.environ.get("ECG_BROWSER_ARTEFACTS", os.path.join(ROOT, ".data", "browser-test"))
SPEECH_WAV = os.environ.get("ECG_BROWSER_SPEECH", "/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
ANALYSIS_TIMEOUT = float(os.environ.get("ECG_BROWSER_ANALYSIS_TIMEOUT", "180"))


# ---------------------------------------------------------------------------------------
# A tiny runner: checks run in order, share one browser, and a failed check stops the
# ones that depend on it (they are reported as failed, with the reason).
# ---------------------------------------------------------------------------------------
class Skip(Exception):
    pass


class Runner:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.failures = []
        self.done = set()

    def check(self, name, needs=()):
        def decorator(fn):
            @functools.wraps(fn)
            def run(*args, **kwargs):
                missing = [n for n in needs if n not in self.done]
                started = time.monotonic()
                try:
                    if missing:
                        raise Skip(f"needs {', '.join(missing)}")
                    fn(*args, **kwargs)
                except Exception as error:  # noqa: BLE001 - every failure is reported
                    self.failed += 1
                    reason = f"{type(error).__name__}: {error}"
                    self.failures.append((name, reason))
                    print(f"FAIL {name} ({time.monotonic() - started:.1f} s): {reason}", flush=True)
                    if not isinstance(error, (Skip, AssertionError)):
                        traceback.print_exc(limit=4)
                    save_screenshot("failed-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60])
                    return
                self.passed += 1
                self.done.add(name)
                print(f"ok   {name} ({time.monotonic() - started:.1f} s)", flush=True)

            run.check_name = name
            return run

        return decorator


runner = Runner()
driver = None


def save_screenshot(name):
    if driver is None:
        return
    try:
        driver.save_screenshot(os.path.join(ARTEFACTS, f"{name}.png"))
    except WebDriverException:
        pass


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------
def wait_for(condition, timeout=20.0, message="condition", interval=0.1):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except WebDriverException as error:
            last_error = error
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {message}" + (f" ({last_error})" if last_error else ""))


def js(script, *args):
    return driver.execute_script(script, *args)


def js_async(body, *args):
    """Runs `body` (an async function body that may use `args` and `import`) and returns its value."""
    script = (
        "const done = arguments[arguments.length - 1];"
        "const args = Array.from(arguments).slice(0, -1);"
        f"(async () => {{ {body} }})().then((v) => done({{ok: true, value: v}}), (e) => done({{ok: false, error: String(e && e.stack || e)}}));"
    )
    result = driver.execute_async_script(script, *args)
    if not result.get("ok"):
        raise AssertionError(f"script failed: {result.get('error')}")
    return result.get("value")


def view():
    return js("return document.body.dataset.view || ''")


def by_id(element_id):
    return driver.find_element(By.ID, element_id)


def visible_text(element_id):
    return by_id(element_id).text.strip()


def network_events():
    """Network.* events of the performance log since the last call: [(method, params)]."""
    events = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"].startswith("Network."):
            events.append((message["method"], message["params"]))
    return events


REQUEST_METHODS = {}  # requestId -> HTTP method, across calls (a request and its response may come in different batches)


def responses(events):
    """[(method, path, status)] of the responses in `events`, in order."""
    requests = REQUEST_METHODS
    out = []
    for method, params in events:
        if method == "Network.requestWillBeSent":
            requests[params["requestId"]] = params["request"]["method"]
        elif method == "Network.responseReceived":
            url = params["response"]["url"]
            path = re.sub(r"^https?://[^/]+", "", url).split("?")[0]
            out.append((requests.get(params["requestId"], "?"), path, params["response"]["status"]))
    return out


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def mint_access_token(user_id, expired):
    """A user access token signed with auth-service's own (development/test) key; when
    `expired`, it expired a minute ago: the only thing wrong with it is its age."""
    pem = os.path.join(KEYS_DIR, "auth-service.user.pem")
    public_der = subprocess.run(["openssl", "pkey", "-in", pem, "-pubout", "-outform", "DER"], check=True, capture_output=True).stdout
    x = b64url(public_der[-32:])
    _, _, body = http_get(GATEWAY + "/.well-known/jwks.json")
    kid = next((k["kid"] for k in json.loads(body)["keys"] if k.get("x") == x), None)
    assert kid, f"auth-service's user key {pem} is not in the gateway's JWKS"
    now = int(time.time())
    header = {"alg": "EdDSA", "typ": "JWT", "kid": kid}
    iat = now - 960 if expired else now
    claims = {"iss": "auth-service", "aud": "ecg-api", "sub": str(user_id), "iat": iat, "exp": iat + 900,
              "jti": str(uuid.uuid4()), "typ": "access"}
    signing_input = f"{b64url(json.dumps(header, separators=(',', ':')).encode())}.{b64url(json.dumps(claims, separators=(',', ':')).encode())}"
    with tempfile.NamedTemporaryFile() as data:
        data.write(signing_input.encode())
        data.flush()
        signature = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", pem, "-rawin", "-in", data.name],
                                   check=True, capture_output=True).stdout
    return f"{signing_input}.{b64url(signature)}"


def make_speech_video(path):
    """A short real video with speech: LibriVox speech (pocketsphinx-testdata) under a
    solid colour, as MP4 (H.264 + AAC). Constant 800 kb/s video (filler included), so the
    file is a few hundred KB and its upload has many progress steps."""
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", "color=c=0x1d2b3a:s=640x360:r=25",
         "-i", SPEECH_WAV, "-shortest",
         "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
         "-b:v", "800k", "-minrate", "800k", "-maxrate", "800k", "-bufsize", "400k", "-x264-params", "nal-hrd=cbr",
         "-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart", path],
        check=True,
    )


def normalized(text):
    return re.sub(r"\s+", " ", text).strip()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve_directory(directory):
    """Serves `directory` on 127.0.0.1:<free port> in a thread; returns (server, origin)."""
    handler = functools.partial(QuietHandler, directory=directory)
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


# ---------------------------------------------------------------------------------------
# The scenario
# ---------------------------------------------------------------------------------------
S = {}  # state shared between checks


@runner.check("gateway serves /app/ with a Content-Security-Policy")
def check_static():
    status, headers, body = http_get(APP)
    assert status == 200, f"GET /app/ answered {status}"
    assert b"ECG Studio" in body
    csp = headers.get("Content-Security-Policy", "")
    s3_origin = re.match(r"^https?://[^/]+", S3_ENDPOINT).group(0)
    for part in ["default-src 'none'", "script-src 'self'", f"connect-src 'self' {s3_origin}", f"media-src 'self' blob: {s3_origin}",
                 "frame-ancestors 'none'"]:
        assert part in csp, f"CSP lacks {part!r}: {csp!r}"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    status, headers, _ = http_get(GATEWAY + "/app/js/app.js")
    assert status == 200 and headers.get("Content-Type", "").startswith("text/javascript"), (status, headers.get("Content-Type"))
    status, _, body = http_get(GATEWAY + "/")
    assert status == 200 and json.loads(body).get("message") == "ECG Backend API", "/ must stay the API's JSON"


@runner.check("signed out, the page shows the login")
def check_login_page():
    driver.get(APP)
    wait_for(lambda: view() == "auth", message="the login view")
    assert by_id("login-form").is_displayed()


@runner.check("Google sign-in: 'not set up' when unconfigured; the callback's error is shown",
              needs=["signed out, the page shows the login"])
def check_google_unconfigured():
    by_id("google-login").click()
    wait_for(lambda: "not set up" in visible_text("auth-message"), message="the 'not set up' message")
    assert "/app/" in driver.current_url, driver.current_url
    driver.get(GATEWAY + "/app/auth/callback?error=Access%20was%20denied")
    wait_for(lambda: view() == "auth" and "Access was denied" in visible_text("auth-message"), message="the callback's error")
    assert driver.current_url == APP, f"the callback's query stays in the address bar: {driver.current_url}"


@runner.check("sign up", needs=["signed out, the page shows the login"])
def check_signup():
    suffix = uuid.uuid4().hex[:10]
    S["username"] = f"studio_{suffix}"
    S["email"] = f"studio-{suffix}@example.com"
    S["password"] = f"pw-{suffix}-long"
    by_id("tab-signup").click()
    form = by_id("signup-form")
    form.find_element(By.NAME, "username").send_keys(S["username"])
    form.find_element(By.NAME, "email").send_keys(S["email"])
    form.find_element(By.NAME, "password").send_keys(S["password"])
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait_for(lambda: view() == "app", message="the signed-in view")
    assert S["username"] in visible_text("session-user")


@runner.check("reload keeps the session (refresh cookie), no token in web storage", needs=["sign up"])
def check_reload_keeps_session():
    network_events()
    driver.refresh()
    wait_for(lambda: view() == "app", message="the signed-in view after reload")
    assert S["username"] in visible_text("session-user")
    seen = responses(network_events())
    assert ("POST", "/api/auth/refresh", 200) in seen, f"no refresh on reload: {seen}"
    storage = js("return JSON.stringify([Object.assign({}, localStorage), Object.assign({}, sessionStorage), document.cookie])")
    assert "eyJ" not in storage and "refresh" not in storage, f"a token is readable by scripts: {storage}"


@runner.check("upload a video with speech: the progress bar moves, then it is listed", needs=["sign up"])
def check_upload():
    video = os.path.join(ARTEFACTS, "speech.mp4")
    make_speech_video(video)
    size = os.path.getsize(video)
    # Slow the upload down (about 4 s) so the bar has something to show.
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                           {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": max(4000, size // 4)})
    try:
        by_id("upload-file").send_keys(video)
        by_id("upload-start").click()
        samples = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            value, phase, text = js("return [document.getElementById('upload-progress').value,"
                                    " document.getElementById('upload-status').dataset.phase || '',"
                                    " document.getElementById('upload-text').textContent]")
            samples.append((round(value, 1), phase, text))
            if phase in ("done", "failed"):
                break
            time.sleep(0.03)
    finally:
        driver.execute_cdp_cmd("Network.emulateNetworkConditions",
                               {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    phases = [p for _, p, _ in samples]
    assert phases and phases[-1] == "done", f"upload did not finish: last samples {samples[-5:]}; message: {visible_text('upload-message')}"
    moving = sorted({v for v, p, _ in samples if p == "uploading" and 0 < v < 100})
    assert len(moving) >= 3, f"the progress bar did not move through intermediate values: {sorted(set(samples))[:20]}"
    speed_texts = [t for _, p, t in samples if p == "uploading" and "/s" in t and " of " in t]
    assert speed_texts, "no 'x of y · speed' text while uploading"
    S["upload_samples"] = len(moving)
    item = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#videos li .item-title"), message="the video list")
    assert any(e.text == "speech.mp4" for e in item), [e.text for e in item]
    badge = driver.find_element(By.CSS_SELECTOR, "#videos li .badge").text
    assert badge == "uploaded", badge
    print(f"     upload: {size} bytes, {len(moving)} intermediate progress values, e.g. {speed_texts[len(speed_texts) // 2]!r}")


@runner.check("start the analysis; the stream reaches 100", needs=["upload a video with speech: the progress bar moves, then it is listed"])
def check_analysis():
    driver.find_element(By.CSS_SELECTOR, "#videos li button").click()
    wait_for(lambda: by_id("job-view").is_displayed(), message="the job view")
    seen = []
    deadline = time.monotonic() + ANALYSIS_TIMEOUT
    while time.monotonic() < deadline:
        status, source, value = js("const v = document.getElementById('job-view');"
                                   " return [v.dataset.status || '', v.dataset.source || '', document.getElementById('job-progress').value]")
        if not seen or seen[-1] != (status, source, value):
            seen.append((status, source, value))
        if status in ("completed", "failed"):
            break
        time.sleep(0.05)
    final = seen[-1]
    assert final[0] == "completed", f"the job ended {final}: {visible_text('job-message')}; seen {seen}"
    assert final[2] == 100, f"progress at completion: {final[2]}"
    assert final[1] == "stream", f"completion arrived by {final[1]}, not the stream: {seen}"
    S["job_id"] = re.match(r"^#job/(.+)$", js("return location.hash")).group(1)
    print(f"     job {S['job_id']}: {' -> '.join(f'{s}/{src}/{v:g}' for s, src, v in seen)}")


@runner.check("the video has a captions text track whose cues carry the captions", needs=["start the analysis; the stream reaches 100"])
def check_track():
    job = js_async("const api = await import('/app/js/api.js'); return await api.jobStatus(args[0]);", S["job_id"])
    captions = job["result"]["captions"]
    S["captions"] = captions
    assert captions, f"the analysis produced no captions (method {job['result'].get('method')!r}); the test video has speech"
    wait_for(lambda: by_id("player").is_displayed(), message="the player")
    cues = wait_for(
        lambda: js("const v = document.getElementById('video'); const t = v.textTracks[0];"
                   " if (!t || t.kind !== 'captions' || !t.cues || t.cues.length === 0) return null;"
                   " return Array.from(t.cues).map(c => ({start: c.startTime, end: c.endTime, text: c.text,"
                   "   plain: c.getCueAsHTML().textContent, mode: t.mode}))"),
        timeout=20, message="the text track's cues",
    )
    assert cues[0]["mode"] == "showing", cues[0]["mode"]
    assert len(cues) == len(captions), f"{len(cues)} cues for {len(captions)} captions"
    for cue, caption in zip(cues, captions):
        assert normalized(cue["plain"]) == normalized(caption["text"]), (cue, caption)
        assert abs(cue["start"] - caption["start"]) < 0.01, (cue, caption)
    classes = set(re.findall(r"<c\.([\w.-]+)>", " ".join(c["text"] for c in cues)))
    assert classes, f"no cue classes in {cues}"
    src = js("return document.querySelector('#video track').src")
    assert src.startswith("blob:"), src
    video_src = js("return document.getElementById('video').currentSrc || document.getElementById('video').src")
    assert video_src.startswith(S3_ENDPOINT), f"the video plays from {video_src}, not S3 {S3_ENDPOINT}"
    items = driver.find_elements(By.CSS_SELECTOR, "#captions .caption")
    assert len(items) == len(captions), f"{len(items)} list items for {len(captions)} captions"
    print(f"     {len(cues)} cue(s), classes {sorted(classes)}, first: {normalized(cues[0]['plain'])!r}")


@runner.check("a caption in the list seeks the video; screenshot of the player", needs=["the video has a captions text track whose cues carry the captions"])
def check_seek_and_screenshot():
    captions = S["captions"]
    index = len(captions) - 1
    wait_for(lambda: js("return document.getElementById('video').readyState >= 1"), message="the video's metadata (played from S3)")
    button = driver.find_elements(By.CSS_SELECTOR, "#captions .caption")[index]
    # Keyboard: focus the caption and press Enter.
    js("arguments[0].focus()", button)
    button.send_keys(Keys.ENTER)
    target = captions[index]["start"]
    wait_for(lambda: abs(js("return document.getElementById('video').currentTime") - target) < 1.0, message=f"currentTime near {target}")
    # Hold a frame in the middle of the most intense caption for the screenshot.
    shown = max(captions, key=lambda c: c.get("intensity", 0))
    middle = (shown["start"] + shown["end"]) / 2
    js("const v = document.getElementById('video'); v.pause(); v.currentTime = arguments[0]; document.activeElement.blur();", middle)
    wait_for(lambda: js("const t = document.getElementById('video').textTracks[0]; return t.activeCues && t.activeCues.length > 0"),
             message="an active cue")
    wait_for(lambda: js("return document.querySelector('#captions [aria-current=true]') !== null"), message="the current caption highlighted")
    time.sleep(0.5)
    js("document.getElementById('job-view').scrollIntoView({block: 'start'})")
    time.sleep(0.3)
    driver.save_screenshot(os.path.join(ARTEFACTS, "studio-player.png"))
    player = by_id("job-view")
    player.screenshot(os.path.join(ARTEFACTS, "studio-player-card.png"))


@runner.check("download .vtt and .srt", needs=["the video has a captions text track whose cues carry the captions"])
def check_downloads():
    downloads = os.path.join(ARTEFACTS, "downloads")
    for name in os.listdir(downloads):
        os.unlink(os.path.join(downloads, name))
    by_id("download-vtt").click()
    by_id("download-srt").click()
    vtt = wait_for(lambda: next((os.path.join(downloads, n) for n in os.listdir(downloads) if n.endswith(".vtt")), None),
                   message="the .vtt download")
    srt = wait_for(lambda: next((os.path.join(downloads, n) for n in os.listdir(downloads) if n.endswith(".srt")), None),
                   message="the .srt download")
    wait_for(lambda: os.path.getsize(vtt) > 0 and os.path.getsize(srt) > 0, message="the downloads' bytes")
    vtt_text = open(vtt, encoding="utf-8").read()
    srt_text = open(srt, encoding="utf-8").read()
    assert vtt_text.startswith("WEBVTT"), vtt_text[:80]
    assert re.match(r"^\ufeff?1\r?\n\d\d:\d\d:\d\d,\d\d\d --> ", srt_text), srt_text[:80]
    first = S["captions"][0]["text"].split()[0]
    assert first in vtt_text and first in srt_text, f"{first!r} is not in the downloads"


@runner.check("with the stream blocked, the page follows the job by polling",
              needs=["start the analysis; the stream reaches 100"])
def check_polling_fallback():
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/job-status/*/stream"]})
    try:
        first_job = S["job_id"]
        driver.find_element(By.CSS_SELECTOR, "#videos li button").click()
        wait_for(lambda: js("return location.hash") not in ("", f"#job/{first_job}"), message="the new job")
        seen = []
        deadline = time.monotonic() + ANALYSIS_TIMEOUT
        while time.monotonic() < deadline:
            status, source = js("const v = document.getElementById('job-view'); return [v.dataset.status || '', v.dataset.source || '']")
            if not seen or seen[-1] != (status, source):
                seen.append((status, source))
            if status in ("completed", "failed"):
                break
            time.sleep(0.05)
        assert seen[-1] == ("completed", "polling"), f"expected completion by polling: {seen}"
        assert all(source != "stream" for _, source in seen), f"the blocked stream delivered: {seen}"
        wait_for(lambda: js("const t = document.getElementById('video').textTracks[0]; return t && t.cues && t.cues.length > 0"),
                 message="the captions of the polled job")
    finally:
        driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})


@runner.check("an expired access token is refreshed transparently", needs=["sign up"])
def check_expired_token():
    user_id = js_async("const api = await import('/app/js/api.js'); return (await api.me()).id;")
    S["user_id"] = user_id
    expired = mint_access_token(user_id, expired=True)
    # The page's own module (the same instance app.js uses) takes the token, as after a login.
    js_async("const api = await import('/app/js/api.js'); api.setAccessToken(args[0]);", expired)
    network_events()
    by_id("jobs-reload").click()
    wait_for(lambda: ("GET", "/api/v1/ml/jobs", 200) in network_events_accumulated(), message="the retried /jobs")
    seen = S.pop("accumulated")
    jobs = [i for i, r in enumerate(seen) if r[1] == "/api/v1/ml/jobs"]
    refresh = [i for i, r in enumerate(seen) if r == ("POST", "/api/auth/refresh", 200)]
    assert len(jobs) == 2 and seen[jobs[0]][2] == 401 and seen[jobs[1]][2] == 200, f"expected /jobs 401 then 200: {seen}"
    assert refresh and jobs[0] < refresh[0] < jobs[1], f"expected 401, refresh, retry: {seen}"
    assert view() == "app", "the page left the signed-in view"
    assert not by_id("jobs-message").is_displayed(), visible_text("jobs-message")
    # The page holds a new, working token.
    js_async("const api = await import('/app/js/api.js'); await api.me();")


def network_events_accumulated():
    S.setdefault("accumulated", [])
    S["accumulated"] += responses(network_events())
    return S["accumulated"]


@runner.check("a page on another origin cannot read the API", needs=["sign up"])
def check_cross_origin():
    directory = tempfile.mkdtemp(prefix="ecg-cross-origin-")
    with open(os.path.join(directory, "index.html"), "w") as page:
        page.write("<!doctype html><title>elsewhere</title><p>another origin</p>\n")
    server, origin = serve_directory(directory)
    try:
        driver.get(origin + "/index.html")
        result = js_async(
            """
            const base = args[0];
            const attempt = async (path, init) => {
              try { const r = await fetch(base + path, init); return 'read ' + r.status + ' ' + (await r.text()).slice(0, 80); }
              catch (e) { return 'blocked: ' + e.name; }
            };
            return {
              me: await attempt('/api/auth/me', {credentials: 'include'}),
              videos: await attempt('/api/upload-video/videos', {credentials: 'include'}),
              refresh: await attempt('/api/auth/refresh', {method: 'POST', credentials: 'include'}),
              page: await attempt('/app/', {credentials: 'include'}),
            };
            """,
            GATEWAY,
        )
        for name, outcome in result.items():
            assert outcome.startswith("blocked"), f"{origin} could read {name}: {outcome}"
        print(f"     from {origin}: {result}")
    finally:
        server.shutdown()
        shutil.rmtree(directory, ignore_errors=True)
        driver.get(APP)
        wait_for(lambda: view() in ("app", "auth"), message="the app again")


@runner.check("phone-sized screen: one column, nothing wider than the screen", needs=["sign up"])
def check_phone_layout():
    size = driver.get_window_size()
    driver.set_window_size(390, 844)
    try:
        driver.get(APP + (f"#job/{S['job_id']}" if "job_id" in S else ""))
        wait_for(lambda: view() == "app", message="the signed-in view")
        if "job_id" in S:
            wait_for(lambda: js("return document.querySelectorAll('#captions .caption').length > 0"), message="the caption list")
        time.sleep(0.5)
        overflow = js("return [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert overflow[0] <= overflow[1], f"the page is {overflow[0]} px wide on a {overflow[1]} px screen"
        small = js("return Array.from(document.querySelectorAll('button:not([hidden]), input, select'))"
                   ".filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 40).map(e => e.id || e.textContent)")
        assert not small, f"touch targets under 40 px: {small}"
        js("document.getElementById('job-view').scrollIntoView({block: 'start'})") if "job_id" in S else None
        time.sleep(0.3)
        driver.save_screenshot(os.path.join(ARTEFACTS, "studio-phone.png"))
    finally:
        driver.set_window_size(size["width"], size["height"])


@runner.check("log out; a reload shows the login", needs=["sign up"])
def check_logout():
    driver.get(APP)
    wait_for(lambda: view() == "app", message="the signed-in view")
    by_id("logout").click()
    wait_for(lambda: view() == "auth", message="the login view after logout")
    network_events()
    driver.refresh()
    wait_for(lambda: view() == "auth", message="the login view after reload")
    seen = responses(network_events())
    assert ("POST", "/api/auth/refresh", 401) in seen, f"expected a refused refresh: {seen}"
    assert js_async("const api = await import('/app/js/api.js'); return api.hasAccessToken();") is False


@runner.check("log in with the keyboard only", needs=["log out; a reload shows the login"])
def check_keyboard_login():
    driver.refresh()
    wait_for(lambda: view() == "auth", message="the login view")
    wait_for(lambda: js("return document.activeElement && document.activeElement.name === 'email'"), message="focus on the email field")
    active = driver.switch_to.active_element
    active.send_keys(S["email"], Keys.TAB)
    driver.switch_to.active_element.send_keys(S["password"], Keys.ENTER)
    wait_for(lambda: view() == "app", message="the signed-in view after a keyboard login")
    # Tab reaches the upload controls.
    for _ in range(12):
        driver.switch_to.active_element.send_keys(Keys.TAB)
        if js("return document.activeElement.id") == "upload-file":
            break
    assert js("return document.activeElement.id") == "upload-file", f"focus went to {js('return document.activeElement.outerHTML.slice(0, 80)')}"
    by_id("logout").send_keys(Keys.ENTER)
    wait_for(lambda: view() == "auth", message="the login view after logout")


@runner.check("Google sign-in's success callback signs in, and the token leaves the address bar",
              needs=["an expired access token is refreshed transparently"])
def check_google_callback_success():
    token = mint_access_token(S["user_id"], expired=False)
    driver.get(f"{GATEWAY}/app/auth/callback?success=true&access_token={token}")
    wait_for(lambda: view() == "app", message="the signed-in view")
    assert S["username"] in visible_text("session-user")
    assert "access_token" not in driver.current_url and token not in driver.current_url, driver.current_url
    by_id("logout").click()
    wait_for(lambda: view() == "auth", message="the login view after logout")


def main():
    global driver
    os.makedirs(os.path.join(ARTEFACTS, "downloads"), exist_ok=True)
    for name in os.listdir(ARTEFACTS):
        if name.endswith(".png"):
            os.unlink(os.path.join(ARTEFACTS, name))
    print(f"browser test: {APP} with {CHROMIUM}; artefacts in {ARTEFACTS}", flush=True)

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000",
                     "--mute-audio", "--autoplay-policy=no-user-gesture-required", "--disable-gpu",
                     "--no-first-run", "--disable-extensions", "--lang=en-US"]:
        options.add_argument(argument)
    options.add_experimental_option("prefs", {
        "download.default_directory": os.path.join(ARTEFACTS, "downloads"),
        "download.prompt_for_download": False,
    })
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    except WebDriverException as error:
        print(f"FAIL starting Chromium: {error}")
        print("0 passed, 1 failed")
        return 1
    driver.set_script_timeout(30)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": os.path.join(ARTEFACTS, "downloads")})
    checks = [check_static, check_login_page, check_google_unconfigured, check_signup, check_reload_keeps_session, check_upload, check_analysis,
              check_track, check_seek_and_screenshot, check_downloads, check_polling_fallback, check_expired_token, check_cross_origin,
              check_phone_layout, check_logout, check_keyboard_login, check_google_callback_success]
    try:
        for check in checks:
            check()
    finally:
        try:
            with open(os.path.join(ARTEFACTS, "console.log"), "w") as log:
                for entry in driver.get_log("browser"):
                    log.write(f"{entry['level']} {entry['message']}\n")
        except WebDriverException:
            pass
        driver.quit()

    for name, reason in runner.failures:
        print(f"failed: {name}: {reason}")
    print(f"{runner.passed} passed, {runner.failed} failed")
    return 0 if runner.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
