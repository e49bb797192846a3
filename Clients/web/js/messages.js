// What to tell a person for each error the API (or the storage server) can answer.
// The API's `detail` is already human; these say what to do next where we can.

import { APIError, NetworkError } from "./api.js";

const BY_CODE = {
  // auth
  invalid_credentials: "Incorrect email or password.",
  too_many_attempts: "Too many failed attempts for this email. Wait a while and try again.",
  email_taken: "An account with this email already exists. Log in instead.",
  username_taken: "This username is taken. Choose another one.",
  google_not_configured: "Google sign-in is not set up on this server.",
  refresh_token_reused: "This session was ended for safety (it was used from two places). Please log in again.",
  invalid_refresh_token: "Your session has ended. Please log in again.",
  invalid_token: "Your session has ended. Please log in again.",
  // media
  unsupported_content_type: "This file type is not supported. Upload an MP4, MOV, WebM, MKV or AVI video.",
  file_too_large: "This file is too large to upload.",
  upload_not_found: "The upload did not reach the storage server. Start the upload again.",
  video_not_found: "This video no longer exists.",
  storage_unavailable: "The storage server is unavailable right now. Try again in a moment.",
  // analysis
  video_not_uploaded: "This video has not finished uploading. Upload it again, then start the analysis.",
  job_not_found: "This analysis no longer exists.",
  job_not_completed: "The captions are not ready yet: the analysis has not finished.",
  media_service_unavailable: "The video service is unavailable right now. Try again in a moment.",
  // gateway
  payload_too_large: "The request was too large.",
  bad_gateway: "A service is unavailable right now. Try again in a moment.",
  service_unavailable: "A service is unavailable right now. Try again in a moment.",
  gateway_timeout: "A service took too long to answer. Try again.",
};

export function messageFor(error) {
  if (error instanceof NetworkError) return error.message;
  if (error instanceof APIError) {
    if (error.code === "validation_error") return error.detail || "Please check the form.";
    if (error.code === "too_many_attempts" && error.retryAfter) {
      const minutes = Math.max(1, Math.ceil(Number(error.retryAfter) / 60));
      return `Too many failed attempts for this email. Try again in about ${minutes} minute${minutes === 1 ? "" : "s"}.`;
    }
    const known = BY_CODE[error.code];
    if (known) return known;
    if (error.status >= 500) return "Something went wrong on the server. Try again in a moment.";
    return error.detail || `The request failed (${error.status}).`;
  }
  return error?.message || String(error);
}
