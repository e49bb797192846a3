// The player: the video from its presigned download URL, the job's captions.vtt as a
// <track kind="captions"> (fetched with the bearer token, since caption files are
// owner-only, and handed to the track as a blob: URL), and the caption list beside it.

import { captionsFile, downloadURL } from "./api.js";
import { baseName, el, emotionClass, formatTime } from "./format.js";

const KNOWN_EMOTIONS = ["calm", "neutral", "excited", "happy", "sad", "tense", "angry"];

export class Player {
  constructor({ container, video, list, empty, legend, vttButton, srtButton, onError }) {
    Object.assign(this, { container, video, list, empty, legend, vttButton, srtButton, onError });
    this.trackURL = null;
    this.job = null;
    this.items = [];
    video.addEventListener("timeupdate", () => this.highlight());
    video.addEventListener("seeked", () => this.highlight());
    vttButton.addEventListener("click", () => this.download("vtt"));
    srtButton.addEventListener("click", () => this.download("srt"));
  }

  /** Shows a completed job: its video, its captions track and the caption list. */
  async show(job) {
    this.clear();
    this.job = job;
    this.container.hidden = false;
    const captions = Array.isArray(job.result?.captions) ? job.result.captions : [];
    this.renderList(captions);
    this.renderLegend(captions);

    const [media, vtt] = await Promise.allSettled([downloadURL(job.video_file_key), captionsFile(job.job_id, "vtt")]);
    if (this.job !== job) return; // another job was opened meanwhile
    if (media.status === "fulfilled") {
      this.video.src = media.value.download_url;
    } else {
      this.onError(media.reason, "The video could not be loaded");
    }
    if (vtt.status === "fulfilled") {
      this.trackURL = URL.createObjectURL(vtt.value);
      const track = el("track", { kind: "captions", srclang: "en", label: "ECG captions", src: this.trackURL, default: true });
      this.video.append(track);
      // Load the cues even before playback starts, and show them.
      track.track.mode = "showing";
    } else {
      this.onError(vtt.reason, "The captions could not be loaded");
    }
  }

  clear() {
    this.job = null;
    this.video.pause();
    this.video.removeAttribute("src");
    for (const track of this.video.querySelectorAll("track")) track.remove();
    this.video.load();
    if (this.trackURL) URL.revokeObjectURL(this.trackURL);
    this.trackURL = null;
    this.list.replaceChildren();
    this.legend.replaceChildren();
    this.items = [];
    this.container.hidden = true;
  }

  renderList(captions) {
    this.empty.hidden = captions.length > 0;
    this.items = captions.map((caption) => {
      const emotion = emotionClass(caption.emotion);
      const intensity = clamp(Number(caption.intensity), 0, 1, 0.5);
      const button = el(
        "button",
        {
          type: "button",
          class: `caption emotion-${emotion}${KNOWN_EMOTIONS.includes(emotion) ? "" : " emotion-other"}`,
          "aria-label": `${formatTime(caption.start)}, ${caption.emotion || "neutral"}: ${caption.text}`,
          onclick: () => this.seek(caption.start),
        },
        el("span", { class: "caption-time" }, formatTime(caption.start)),
        el("span", { class: "caption-emotion" }, caption.emotion || "neutral"),
        el("span", { class: "caption-text" }, caption.text),
      );
      // Intensity (0–1) drives the text's opacity and size (styles.css reads --intensity).
      button.style.setProperty("--intensity", intensity.toFixed(2));
      const item = el("li", {}, button);
      this.list.append(item);
      return { item, button, start: Number(caption.start), end: Number(caption.end) };
    });
  }

  renderLegend(captions) {
    const labels = [...new Set(captions.map((c) => emotionClass(c.emotion)))];
    for (const label of labels) {
      this.legend.append(el("li", { class: `legend-item emotion-${label}${KNOWN_EMOTIONS.includes(label) ? "" : " emotion-other"}` }, label));
    }
  }

  seek(seconds) {
    if (!Number.isFinite(Number(seconds))) return;
    this.video.currentTime = Number(seconds);
    this.video.play().catch(() => {}); // autoplay rules may refuse; the seek stands
    this.highlight();
  }

  highlight() {
    const t = this.video.currentTime;
    for (const { button, start, end } of this.items) {
      const active = t >= start && t < end;
      if (active) button.setAttribute("aria-current", "true");
      else button.removeAttribute("aria-current");
    }
  }

  async download(format) {
    if (!this.job) return;
    const job = this.job;
    try {
      const blob = await captionsFile(job.job_id, format);
      const url = URL.createObjectURL(blob);
      const name = baseName(job.video_file_key).replace(/\.[^.]+$/, "") || "captions";
      const link = el("a", { href: url, download: `${name}.${format}`, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) {
      this.onError(error, `The .${format} file could not be downloaded`);
    }
  }
}

function clamp(value, low, high, fallback) {
  return Number.isFinite(value) ? Math.min(high, Math.max(low, value)) : fallback;
}
