// Uploading a video: generate-url (with the file's size, so that S3 refuses any
// other length), a PUT of the bytes straight to S3 on the presigned URL with the
// headers generate-url lists in `upload_headers`, then complete.
// fetch() cannot report upload progress; XMLHttpRequest's upload events can.

import { APIError, completeUpload, generateUploadURL } from "./api.js";

const TYPES_BY_EXTENSION = {
  mp4: "video/mp4",
  m4v: "video/mp4",
  mov: "video/quicktime",
  qt: "video/quicktime",
  webm: "video/webm",
  mkv: "video/x-matroska",
  avi: "video/x-msvideo",
};
export const SUPPORTED_TYPES = new Set(Object.values(TYPES_BY_EXTENSION));

// Headers the browser sets itself; XMLHttpRequest refuses to set them (Content-Length
// is the Blob's size, which is exactly the signed size_bytes).
const FORBIDDEN_HEADERS = new Set(["content-length", "host", "connection", "expect", "origin", "referer"]);

/** The type to declare: the browser's own when it is one the API accepts, else the extension's. */
export function contentTypeOf(file) {
  if (SUPPORTED_TYPES.has(file.type)) return file.type;
  const extension = (file.name.split(".").pop() || "").toLowerCase();
  return TYPES_BY_EXTENSION[extension] || file.type || "application/octet-stream";
}

/** An error of the S3 PUT, with a message a person can act on. */
export class UploadError extends Error {
  constructor(message, { status = 0, code = null } = {}) {
    super(message);
    this.name = "UploadError";
    this.status = status;
    this.code = code;
  }
}

/**
 * Uploads one file. onProgress({loaded, total, bytesPerSecond, phase}) is called as
 * bytes go out; phase is "preparing", "uploading", "finishing" or "done".
 * Returns complete's body ({file_key, status, size_bytes, content_type}).
 */
export async function uploadVideo(file, onProgress, { signal } = {}) {
  const contentType = contentTypeOf(file);
  onProgress({ loaded: 0, total: file.size, bytesPerSecond: 0, phase: "preparing" });
  const target = await generateUploadURL({ filename: file.name, contentType, sizeBytes: file.size });
  await putToS3(target, file, contentType, onProgress, signal);
  onProgress({ loaded: file.size, total: file.size, bytesPerSecond: 0, phase: "finishing" });
  const completed = await completeUpload(target.file_key);
  onProgress({ loaded: file.size, total: file.size, bytesPerSecond: 0, phase: "done" });
  return completed;
}

function putToS3(target, file, contentType, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(target.upload_method || "PUT", target.upload_url);
    const headers = target.upload_headers || { "Content-Type": contentType };
    for (const [name, value] of Object.entries(headers)) {
      if (!FORBIDDEN_HEADERS.has(name.toLowerCase())) xhr.setRequestHeader(name, String(value));
    }

    // Speed over a sliding window of the last few seconds.
    const samples = [];
    xhr.upload.addEventListener("progress", (event) => {
      const now = performance.now();
      samples.push([now, event.loaded]);
      while (samples.length > 2 && now - samples[0][0] > 3000) samples.shift();
      const [t0, b0] = samples[0];
      const bytesPerSecond = now > t0 ? ((event.loaded - b0) * 1000) / (now - t0) : 0;
      onProgress({ loaded: event.loaded, total: event.lengthComputable ? event.total : file.size, bytesPerSecond, phase: "uploading" });
    });

    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve();
      else reject(s3Error(xhr.status, xhr.responseText));
    });
    xhr.addEventListener("error", () =>
      reject(new UploadError("The storage server could not be reached (network error, or it does not allow this page's origin).")),
    );
    xhr.addEventListener("abort", () => reject(new DOMException("Upload cancelled", "AbortError")));
    signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(file);
  });
}

/** S3 answers errors as XML: <Error><Code>…</Code><Message>…</Message></Error>. */
function s3Error(status, body) {
  let code = null;
  let message = "";
  try {
    const xml = new DOMParser().parseFromString(body || "", "application/xml");
    code = xml.querySelector("Code")?.textContent || null;
    message = xml.querySelector("Message")?.textContent || "";
  } catch {
    // not XML
  }
  const text = `${code || ""} ${message}`.toLowerCase();
  if (text.includes("expired")) {
    return new UploadError("The upload link expired before the upload finished. Start the upload again.", { status, code });
  }
  if (code === "SignatureDoesNotMatch") {
    return new UploadError("The storage server refused the upload's signature (the file changed size or type). Start again.", { status, code });
  }
  if (status === 413 || code === "EntityTooLarge") {
    return new UploadError("The file is larger than the storage server accepts.", { status, code });
  }
  return new UploadError(`The storage server refused the upload (${status}${code ? ` ${code}` : ""}${message ? `: ${message}` : ""}).`, { status, code });
}

export { APIError };
