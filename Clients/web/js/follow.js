// Following a job live.
//
// GET /api/v1/ml/job-status/{id}/stream is Server-Sent Events, but it needs the
// `Authorization: Bearer` header (the services accept user tokens in that header
// only, never in a query string or a cookie), and EventSource cannot send headers.
// So the stream is read with fetch() and a ReadableStream reader, and parsed here.
// When the stream cannot be opened or drops before the job ends, the job is polled
// (GET job-status) every few seconds until it ends.

import { jobStatus, request } from "./api.js";

const POLL_MS = 2000;
const TERMINAL = new Set(["completed", "failed"]);

/** Parses text/event-stream chunks; calls onEvent({event, data, id}) per dispatched event. */
export class EventStreamParser {
  constructor(onEvent) {
    this.onEvent = onEvent;
    this.buffer = "";
    this.reset();
  }

  reset() {
    this.data = [];
    this.event = "";
    this.id = null;
  }

  push(text) {
    this.buffer += text;
    // Lines end with \n, \r\n or \r; keep an unfinished line (and a lone trailing \r) buffered.
    const lines = this.buffer.split(/\r\n|\n|\r(?!$)/);
    this.buffer = lines.pop();
    for (const line of lines) this.line(line);
  }

  line(line) {
    if (line === "") {
      if (this.data.length > 0) this.onEvent({ event: this.event || "message", data: this.data.join("\n"), id: this.id });
      this.reset();
      return;
    }
    if (line.startsWith(":")) return; // a comment: the server's heartbeat
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id") this.id = value;
  }
}

/**
 * Follows one job until it is completed or failed.
 * onUpdate(job, source) is called with each job-status body; source is "stream" or "polling".
 * Returns { stop(), done } where done resolves to the final job (or null when stopped).
 */
export function followJob(jobID, onUpdate) {
  const controller = new AbortController();
  let stopped = false;

  const done = (async () => {
    let last = null;
    const deliver = (job, source) => {
      if (stopped || !job || job.job_id !== jobID) return;
      last = job;
      onUpdate(job, source);
    };

    try {
      last = await readStream(jobID, controller.signal, deliver);
    } catch (error) {
      if (stopped) return null;
      // Not the caller's job, or the session is over: polling would not help.
      if (error?.status === 404 || error?.status === 401) throw error;
      // Fall through to polling: the stream could not be opened or it dropped.
      console.info("job stream unavailable, polling instead:", error?.message ?? error);
    }
    while (!stopped && !(last && TERMINAL.has(last.status))) {
      try {
        deliver(await jobStatus(jobID), "polling");
      } catch (error) {
        if (error?.status === 404 || error?.status === 401) throw error;
        // Transient (network, 502/503): keep polling.
      }
      if (last && TERMINAL.has(last.status)) break;
      await sleep(POLL_MS, controller.signal).catch(() => {});
    }
    return stopped ? null : last;
  })();

  return {
    done,
    stop() {
      stopped = true;
      controller.abort();
    },
  };
}

async function readStream(jobID, signal, deliver) {
  const response = await request(`/api/v1/ml/job-status/${encodeURIComponent(jobID)}/stream`, {
    headers: { Accept: "text/event-stream" },
    signal,
  });
  if (!response.body) throw new Error("this browser cannot read response streams");
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let last = null;
  const parser = new EventStreamParser(({ data }) => {
    let job;
    try {
      job = JSON.parse(data);
    } catch {
      return;
    }
    last = job;
    deliver(job, "stream");
  });
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.push(value);
      if (last && TERMINAL.has(last.status)) break;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  if (!last || !TERMINAL.has(last.status)) throw new Error("the stream ended before the job did");
  return last;
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(new DOMException("aborted", "AbortError"));
    });
  });
}
