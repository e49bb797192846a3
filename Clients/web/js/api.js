// The API client: the access token lives in this module's memory only (never in
// localStorage, sessionStorage or a readable cookie). The refresh token is the
// HttpOnly cookie `refresh_token` (Path=/api/auth) that only the server can read;
// POST /api/auth/refresh exchanges it for a new access token (and rotates it).
//
// Every call goes through request(): on a 401 it refreshes once (one refresh shared
// by all callers that hit the 401 together) and retries once; if that fails too, the
// session is over and the listeners registered with onSessionEnd() are told.

const apiBase = (document.querySelector('meta[name="ecg-api-base"]')?.content || "").replace(/\/+$/, "");

let accessToken = null;
let refreshInFlight = null;
const sessionEndListeners = new Set();

export function apiURL(path) {
  return apiBase + path;
}

export function hasAccessToken() {
  return accessToken !== null;
}

/** The app's one way to change the in-memory token (login, refresh, Google callback, logout). */
export function setAccessToken(token) {
  accessToken = typeof token === "string" && token.length > 0 ? token : null;
}

export function onSessionEnd(listener) {
  sessionEndListeners.add(listener);
  return () => sessionEndListeners.delete(listener);
}

function endSession(reason) {
  setAccessToken(null);
  for (const listener of sessionEndListeners) listener(reason);
}

/** An error the API answered with: `{detail, code}` plus the HTTP status. */
export class APIError extends Error {
  constructor(status, code, detail, headers) {
    super(detail || `HTTP ${status}`);
    this.name = "APIError";
    this.status = status;
    this.code = code || `http_${status}`;
    this.detail = detail || "";
    this.retryAfter = headers?.get?.("Retry-After") ?? null;
  }
}

/** A network failure (no answer at all, or one the browser would not let us read). */
export class NetworkError extends Error {
  constructor(cause) {
    super("The server could not be reached. Check your connection and try again.");
    this.name = "NetworkError";
    this.cause = cause;
  }
}

async function errorFrom(response) {
  let code = null;
  let detail = null;
  try {
    const body = await response.json();
    code = typeof body?.code === "string" ? body.code : null;
    detail = typeof body?.detail === "string" ? body.detail : null;
  } catch {
    // Not JSON (a proxy's page): keep the status only.
  }
  return new APIError(response.status, code, detail, response.headers);
}

async function send(path, { method = "GET", json, headers = {}, signal, auth = true } = {}) {
  const init = { method, headers: { Accept: "application/json", ...headers }, credentials: "include", signal };
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  }
  if (auth && accessToken) init.headers.Authorization = `Bearer ${accessToken}`;
  try {
    return await fetch(apiURL(path), init);
  } catch (error) {
    if (error?.name === "AbortError") throw error;
    throw new NetworkError(error);
  }
}

/**
 * Exchanges the refresh cookie for a new access token. Concurrent callers share
 * one request, so a burst of 401s rotates the refresh token once, not N times.
 * Resolves to true when a new token is in memory.
 */
export function refreshSession() {
  if (!refreshInFlight) {
    refreshInFlight = (async () => {
      try {
        const response = await send("/api/auth/refresh", { method: "POST", auth: false });
        if (!response.ok) {
          setAccessToken(null);
          return false;
        }
        const body = await response.json();
        setAccessToken(body.access_token);
        return hasAccessToken();
      } finally {
        refreshInFlight = null;
      }
    })();
  }
  return refreshInFlight;
}

/**
 * One API call with the bearer token. A 401 triggers one refresh and one retry;
 * a second 401 (or a failed refresh) ends the session. Returns the Response for
 * 2xx answers and throws APIError for the rest.
 */
export async function request(path, options = {}) {
  const sentWith = accessToken;
  let response = await send(path, options);
  if (response.status === 401 && options.auth !== false) {
    // Another call may have refreshed while this one was in flight: retry with its token.
    const refreshed = accessToken && accessToken !== sentWith ? true : await refreshSession().catch(() => false);
    if (!refreshed) {
      endSession("expired");
      throw await errorFrom(response);
    }
    response = await send(path, options);
    if (response.status === 401) {
      endSession("expired");
    }
  }
  if (!response.ok) throw await errorFrom(response);
  return response;
}

export async function requestJSON(path, options) {
  const response = await request(path, options);
  if (response.status === 204) return null;
  return response.json();
}

// ---- auth ------------------------------------------------------------------------

export async function signup({ username, email, password }) {
  const response = await send("/api/auth/signup", { method: "POST", json: { username, email, password }, auth: false });
  if (!response.ok) throw await errorFrom(response);
  const body = await response.json();
  setAccessToken(body.access_token);
  return body.user;
}

export async function login({ email, password }) {
  const response = await send("/api/auth/login", { method: "POST", json: { email, password }, auth: false });
  if (!response.ok) throw await errorFrom(response);
  const body = await response.json();
  setAccessToken(body.access_token);
  return body.user;
}

export async function logout() {
  try {
    await send("/api/auth/logout", { method: "POST", auth: false });
  } finally {
    setAccessToken(null);
  }
}

export const me = () => requestJSON("/api/auth/me");

/**
 * Whether Google sign-in is configured: the start route answers a redirect (which
 * fetch sees as an opaque redirect) when it is, 503 google_not_configured when not.
 */
export async function googleSignInAvailable() {
  try {
    const response = await fetch(apiURL("/api/auth/google/login"), { redirect: "manual", credentials: "include" });
    if (response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400)) return { ok: true };
    const error = await errorFrom(response);
    return { ok: false, error };
  } catch (error) {
    return { ok: false, error: new NetworkError(error) };
  }
}

export const googleLoginURL = () => apiURL("/api/auth/google/login");

// ---- media -----------------------------------------------------------------------

export const generateUploadURL = ({ filename, contentType, sizeBytes }) =>
  requestJSON("/api/upload-video/generate-url", {
    method: "POST",
    json: { filename, content_type: contentType, size_bytes: sizeBytes },
  });

export const completeUpload = (fileKey) =>
  requestJSON("/api/upload-video/complete", { method: "POST", json: { file_key: fileKey } });

export const listVideos = () => requestJSON("/api/upload-video/videos");

export const downloadURL = (fileKey) =>
  requestJSON(`/api/upload-video/download-url/${encodeURIComponent(fileKey)}`);

// ---- analysis --------------------------------------------------------------------

export const startAnalysis = (fileKey, analysisType) =>
  requestJSON("/api/v1/ml/process-video", {
    method: "POST",
    json: { video_file_key: fileKey, analysis_type: analysisType },
  });

export const jobStatus = (jobID) => requestJSON(`/api/v1/ml/job-status/${encodeURIComponent(jobID)}`);

export const listJobs = () => requestJSON("/api/v1/ml/jobs");

/** captions.vtt or captions.srt as a Blob (owner-only: needs the bearer token). */
export async function captionsFile(jobID, format) {
  const accept = format === "vtt" ? "text/vtt" : "application/x-subrip";
  const response = await request(`/api/v1/ml/jobs/${encodeURIComponent(jobID)}/captions.${format}`, {
    headers: { Accept: `${accept}, application/json;q=0.5` },
  });
  return response.blob();
}
