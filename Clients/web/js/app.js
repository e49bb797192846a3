// ECG Studio: the page's controller. Plain ES modules, no build step.

import * as api from "./api.js";
import { followJob } from "./follow.js";
import { baseName, el, formatBytes, formatDate } from "./format.js";
import { messageFor } from "./messages.js";
import { Player } from "./player.js";
import { SUPPORTED_TYPES, contentTypeOf, uploadVideo } from "./upload.js";

const $ = (id) => document.getElementById(id);

const state = {
  user: null,
  videos: [],
  follower: null,
  openJobID: null,
};

const player = new Player({
  container: $("player"),
  video: $("video"),
  list: $("captions"),
  empty: $("captions-empty"),
  legend: $("legend"),
  vttButton: $("download-vtt"),
  srtButton: $("download-srt"),
  onError: (error, context) => showMessage($("job-message"), `${context}: ${messageFor(error)}`),
});

// ---- messages ----------------------------------------------------------------------

function showMessage(node, text, kind = "error") {
  node.textContent = text;
  node.dataset.kind = kind;
  node.hidden = !text;
}

function clearMessage(node) {
  showMessage(node, "");
}

// ---- views -------------------------------------------------------------------------

function showView(name) {
  $("boot").hidden = true;
  $("auth-view").hidden = name !== "auth";
  $("app-view").hidden = name !== "app";
  $("session-bar").hidden = name !== "app";
  document.body.dataset.view = name;
}

function showAuth(message) {
  stopFollowing();
  player.clear();
  $("job-view").hidden = true;
  state.user = null;
  state.openJobID = null;
  showView("auth");
  if (message) showMessage($("auth-message"), message, "info");
  else clearMessage($("auth-message"));
  const form = $("login-form").hidden ? $("signup-form") : $("login-form");
  form.querySelector("input")?.focus();
}

async function showApp(user) {
  state.user = user;
  $("session-user").textContent = `Signed in as ${user.username}`;
  clearMessage($("auth-message"));
  showView("app");
  await Promise.all([loadVideos(), loadJobs()]);
  const match = /^#job\/([0-9a-fA-F-]{36})$/.exec(location.hash);
  if (match) openJob(match[1]);
}

// ---- auth --------------------------------------------------------------------------

function selectTab(which) {
  const login = which === "login";
  $("tab-login").setAttribute("aria-selected", String(login));
  $("tab-signup").setAttribute("aria-selected", String(!login));
  $("tab-login").tabIndex = login ? 0 : -1;
  $("tab-signup").tabIndex = login ? -1 : 0;
  $("login-form").hidden = !login;
  $("signup-form").hidden = login;
  clearMessage($("auth-message"));
}

$("tab-login").addEventListener("click", () => selectTab("login"));
$("tab-signup").addEventListener("click", () => selectTab("signup"));
for (const tab of [$("tab-login"), $("tab-signup")]) {
  tab.addEventListener("keydown", (event) => {
    if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) return;
    event.preventDefault();
    const next = tab.id === "tab-login" ? "signup" : "login";
    selectTab(event.key === "Home" ? "login" : event.key === "End" ? "signup" : next);
    $(`tab-${$("login-form").hidden ? "signup" : "login"}`).focus();
  });
}

async function submitAuth(form, action) {
  const button = form.querySelector("button[type=submit]");
  if (!form.reportValidity()) return;
  const data = Object.fromEntries(new FormData(form));
  button.disabled = true;
  clearMessage($("auth-message"));
  try {
    const user = await action(data);
    form.reset();
    await showApp(user);
  } catch (error) {
    showMessage($("auth-message"), messageFor(error));
  } finally {
    button.disabled = false;
  }
}

$("login-form").addEventListener("submit", (event) => {
  event.preventDefault();
  submitAuth(event.currentTarget, api.login);
});
$("signup-form").addEventListener("submit", (event) => {
  event.preventDefault();
  submitAuth(event.currentTarget, api.signup);
});

$("google-login").addEventListener("click", async () => {
  clearMessage($("auth-message"));
  const available = await api.googleSignInAvailable();
  if (available.ok) {
    location.assign(api.googleLoginURL());
  } else {
    showMessage($("auth-message"), messageFor(available.error));
  }
});

$("logout").addEventListener("click", async () => {
  $("logout").disabled = true;
  try {
    await api.logout();
  } catch {
    // The token is gone from memory either way; the cookie is the server's to clear.
  } finally {
    $("logout").disabled = false;
  }
  history.replaceState(null, "", location.pathname);
  showAuth("You are logged out.");
});

api.onSessionEnd(() => {
  if (state.user) showAuth("Your session has ended. Please log in again.");
});

// ---- upload ------------------------------------------------------------------------

$("upload-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = $("upload-file").files?.[0];
  const message = $("upload-message");
  clearMessage(message);
  if (!file) {
    showMessage(message, "Choose a video file first.");
    $("upload-file").focus();
    return;
  }
  if (!SUPPORTED_TYPES.has(contentTypeOf(file))) {
    showMessage(message, "This file type is not supported. Upload an MP4, MOV, WebM, MKV or AVI video.");
    return;
  }
  const status = $("upload-status");
  const bar = $("upload-progress");
  const text = $("upload-text");
  const button = $("upload-start");
  button.disabled = true;
  status.hidden = false;
  bar.value = 0;
  try {
    const completed = await uploadVideo(file, ({ loaded, total, bytesPerSecond, phase }) => {
      status.dataset.phase = phase;
      bar.value = total > 0 ? Math.min(100, (loaded / total) * 100) : 0;
      if (phase === "preparing") text.textContent = "Preparing the upload…";
      else if (phase === "uploading")
        text.textContent = `${formatBytes(loaded)} of ${formatBytes(total)} · ${formatBytes(bytesPerSecond)}/s`;
      else if (phase === "finishing") text.textContent = "Finishing…";
      else text.textContent = `Uploaded ${formatBytes(total)}.`;
    });
    showMessage(message, `“${file.name}” is uploaded. Start its analysis below.`, "success");
    $("upload-form").reset();
    await loadVideos(completed.file_key);
  } catch (error) {
    status.dataset.phase = "failed";
    text.textContent = "";
    showMessage(message, messageFor(error));
  } finally {
    button.disabled = false;
  }
});

// ---- videos ------------------------------------------------------------------------

async function loadVideos(highlightKey) {
  const list = $("videos");
  try {
    const body = await api.listVideos();
    state.videos = body.items || [];
    clearMessage($("videos-message"));
  } catch (error) {
    showMessage($("videos-message"), messageFor(error));
    return;
  }
  list.replaceChildren(...state.videos.map((video) => videoItem(video, video.file_key === highlightKey)));
  $("videos-empty").hidden = state.videos.length > 0;
}

function videoItem(video, highlight) {
  const uploaded = video.status === "uploaded";
  return el(
    "li",
    { class: `item${highlight ? " item-new" : ""}`, dataset: { fileKey: video.file_key } },
    el(
      "div",
      { class: "item-main" },
      el("span", { class: "item-title" }, video.filename || baseName(video.file_key)),
      el(
        "span",
        { class: "item-meta" },
        `${formatBytes(video.size_bytes)} · ${formatDate(video.created_at)} · `,
        el("span", { class: `badge badge-${video.status}` }, video.status),
      ),
    ),
    el(
      "button",
      {
        type: "button",
        class: "button",
        disabled: !uploaded,
        "aria-label": `Analyse ${video.filename || baseName(video.file_key)}`,
        onclick: (event) => startAnalysis(video, event.currentTarget),
      },
      "Analyse",
    ),
  );
}

async function startAnalysis(video, button) {
  button.disabled = true;
  clearMessage($("videos-message"));
  try {
    const accepted = await api.startAnalysis(video.file_key, $("analysis-type").value);
    await loadJobs();
    openJob(accepted.job_id);
  } catch (error) {
    showMessage($("videos-message"), messageFor(error));
  } finally {
    button.disabled = false;
  }
}

$("videos-reload").addEventListener("click", () => loadVideos());

// ---- jobs --------------------------------------------------------------------------

const STATUS_TEXT = { processing: "Analysing", completed: "Done", failed: "Failed" };

async function loadJobs() {
  let items;
  try {
    items = (await api.listJobs()).items || [];
    clearMessage($("jobs-message"));
  } catch (error) {
    showMessage($("jobs-message"), messageFor(error));
    return;
  }
  $("jobs").replaceChildren(...items.map(jobItem));
  $("jobs-empty").hidden = items.length > 0;
}

function videoName(fileKey) {
  return state.videos.find((v) => v.file_key === fileKey)?.filename || baseName(fileKey);
}

function jobItem(job) {
  const name = videoName(job.video_file_key);
  return el(
    "li",
    { class: "item", dataset: { jobId: job.job_id } },
    el(
      "div",
      { class: "item-main" },
      el("span", { class: "item-title" }, name),
      el(
        "span",
        { class: "item-meta" },
        `${job.analysis_type.replace(/_/g, " ")} · ${formatDate(job.created_at)} · `,
        el("span", { class: `badge badge-${job.status}` }, `${STATUS_TEXT[job.status] || job.status}${job.status === "processing" ? ` ${job.progress}%` : ""}`),
      ),
    ),
    el("button", { type: "button", class: "button", "aria-label": `Open the analysis of ${name}`, onclick: () => openJob(job.job_id) }, "Open"),
  );
}

$("jobs-reload").addEventListener("click", () => loadJobs());

// ---- one job -----------------------------------------------------------------------

function stopFollowing() {
  state.follower?.stop();
  state.follower = null;
}

function renderJob(job, source) {
  const view = $("job-view");
  view.dataset.status = job.status;
  view.dataset.source = source;
  $("job-progress").value = job.progress;
  $("job-progress").dataset.value = String(job.progress);
  $("job-state").textContent = `${STATUS_TEXT[job.status] || job.status} · ${job.progress}%`;
  $("job-stage").textContent = job.stage ? `(${String(job.stage).replace(/_/g, " ")})` : "";
  $("job-source").textContent = job.status === "processing" ? (source === "stream" ? "· live" : "· checking every 2 s") : "";
  $("job-video").textContent = `${videoName(job.video_file_key)} · ${job.analysis_type.replace(/_/g, " ")}`;
  if (job.status === "failed") {
    const error = job.error || {};
    showMessage($("job-message"), `The analysis failed: ${error.message || error.code || "unknown error"}`);
  }
}

function openJob(jobID) {
  stopFollowing();
  player.clear();
  state.openJobID = jobID;
  const view = $("job-view");
  view.hidden = false;
  view.dataset.status = "";
  view.dataset.source = "";
  $("job-progress").value = 0;
  $("job-state").textContent = "Connecting…";
  $("job-stage").textContent = "";
  $("job-source").textContent = "";
  clearMessage($("job-message"));
  if (location.hash !== `#job/${jobID}`) history.replaceState(null, "", `#job/${jobID}`);
  view.scrollIntoView({ behavior: "smooth", block: "start" });
  $("job-title").focus?.();

  const follower = followJob(jobID, (job, source) => {
    if (state.openJobID === jobID) renderJob(job, source);
  });
  state.follower = follower;
  follower.done
    .then(async (job) => {
      if (!job || state.openJobID !== jobID) return;
      loadJobs();
      if (job.status === "completed") await player.show(job);
    })
    .catch((error) => {
      if (state.openJobID === jobID) showMessage($("job-message"), messageFor(error));
    });
}

// A #job/<id> link (or the back button) opens that job.
window.addEventListener("hashchange", () => {
  const match = /^#job\/([0-9a-fA-F-]{36})$/.exec(location.hash);
  if (match && state.user && match[1] !== state.openJobID) openJob(match[1]);
});

$("job-close").addEventListener("click", () => {
  stopFollowing();
  player.clear();
  state.openJobID = null;
  $("job-view").hidden = true;
  history.replaceState(null, "", location.pathname);
  $("jobs-title").scrollIntoView({ block: "start" });
});

// ---- start -------------------------------------------------------------------------

/**
 * Google sign-in comes back through the gateway's /app/auth/callback, which redirects to
 * /app/#auth-callback?<the callback's query> (fragments never reach a server or a log).
 */
function takeGoogleCallback() {
  const prefix = "#auth-callback?";
  if (!location.hash.startsWith(prefix)) return null;
  const params = new URLSearchParams(location.hash.slice(prefix.length));
  history.replaceState(null, "", location.pathname);
  if (params.get("error")) return { error: params.get("error") };
  if (params.get("success") === "true" && params.get("access_token")) {
    api.setAccessToken(params.get("access_token"));
    return { ok: true };
  }
  return { error: "Google sign-in did not complete." };
}

async function boot() {
  const google = takeGoogleCallback();
  if (google?.error) {
    showAuth(`Google sign-in failed: ${google.error}`);
    return;
  }
  try {
    // Restore the session: the access token is only in memory, so a reload starts
    // without one and asks for a new one with the HttpOnly refresh cookie.
    if (!api.hasAccessToken() && !(await api.refreshSession())) {
      showAuth();
      return;
    }
    await showApp(await api.me());
  } catch (error) {
    showAuth(error instanceof api.NetworkError ? messageFor(error) : undefined);
  }
}

boot();
