"""The caption-worker rows of `make bench`: word error rate on real speech, real-time factor and
peak RSS, measured with the built `caption-worker --file` (no Kafka) on the LibriVox recordings of
Debian's pocketsphinx-testdata, muxed into mp4 as users upload them, and on a ten-minute video.

Prints a Markdown section and appends it to the newest bench/results/*.md (or the file named by
BENCH_CAPTIONS_RESULT). Run by bench/run.sh after bench.py; alone: `python3 bench/captions.py`.
"""

import glob
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.environ.get("ECG_ROOT") or os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN_DIR = os.environ.get("BIN_DIR") or os.path.join(ROOT, ".build", os.environ.get("BUILD_CONFIG", "release"))
WORKER = os.path.join(BIN_DIR if os.path.isabs(BIN_DIR) else os.path.join(ROOT, BIN_DIR), "caption-worker")
LIBRIVOX = "/usr/share/pocketsphinx/test/data/librivox"
RESULTS = os.environ.get("BENCH_RESULTS_DIR", os.path.join(ROOT, "bench", "results"))


def ffmpeg(*args):
    subprocess.run(["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def mux(audio, output):
    ffmpeg("-f", "lavfi", "-i", "color=c=navy:s=160x120:r=10", "-i", audio, "-shortest",
           "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", output)


def transcripts():
    clips = []
    with open(os.path.join(LIBRIVOX, "transcription")) as f:
        for line in f:
            m = re.match(r"(.*)\((.+)\)\s*$", line.strip())
            if m:
                words = [w for w in m.group(1).split() if w not in ("<s>", "</s>")]
                clips.append((m.group(2), words))
    return clips


def errors(reference, hypothesis):
    previous = list(range(len(hypothesis) + 1))
    for i, expected in enumerate(reference):
        current = [i + 1] + [0] * len(hypothesis)
        for j, heard in enumerate(hypothesis):
            current[j + 1] = min(previous[j] + (expected != heard), previous[j + 1] + 1, current[j] + 1)
        previous = current
    return previous[-1]


def analyse(video):
    """Runs the worker on one file; returns (result, peak RSS in MiB)."""
    run = subprocess.run(["/usr/bin/time", "-f", "maxrss=%M", WORKER, "--file", video],
                         capture_output=True, text=True, check=True)
    rss = int(re.search(r"maxrss=(\d+)", run.stderr).group(1)) / 1024
    return json.loads(run.stdout), rss


def words(text):
    return re.findall(r"[a-z']+", text.lower())


def main():
    if not os.access(WORKER, os.X_OK):
        sys.exit(f"captions: {WORKER} not found (swift build -c release --product caption-worker)")
    tmp = tempfile.mkdtemp(prefix="ecg-bench-captions-")
    total_errors = total_words = 0
    processing = audio = 0.0
    rss = []
    rows = []
    for name, reference in transcripts():
        video = os.path.join(tmp, name + ".mp4")
        mux(os.path.join(LIBRIVOX, name + ".wav"), video)
        result, peak = analyse(video)
        heard = [w for c in result["captions"] for w in words(c["text"])]
        e = errors(reference, heard)
        total_errors += e
        total_words += len(reference)
        processing += result["processing_seconds"]
        audio += result["audio_seconds"]
        rss.append(peak)
        rows.append(f"| {name[-4:]} | {result['audio_seconds']:.1f} | {len(reference)} | {e} | {e / len(reference):.3f} | "
                    f"{result['processing_seconds'] / result['audio_seconds']:.2f} | {peak:.0f} |")

    # Ten minutes: the clips one after another, each followed by 40 s of silence.
    gap = os.path.join(tmp, "gap.wav")
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono:d=40", gap)
    names = [n for n, _ in transcripts()]
    with open(os.path.join(tmp, "long.txt"), "w") as f:
        for i in range(15):
            f.write(f"file '{os.path.join(LIBRIVOX, names[i % len(names)] + '.wav')}'\nfile '{gap}'\n")
    long_wav = os.path.join(tmp, "long.wav")
    ffmpeg("-f", "concat", "-safe", "0", "-i", os.path.join(tmp, "long.txt"), "-t", "600", "-c", "pcm_s16le", long_wav)
    long_video = os.path.join(tmp, "long.mp4")
    mux(long_wav, long_video)
    long_result, long_rss = analyse(long_video)

    wer = total_errors / total_words
    text = "\n".join([
        "## caption-worker (reference ML worker)",
        "",
        f"`{os.path.relpath(WORKER, ROOT)} --file` (PocketSphinx, Debian's en-us model; ffmpeg decode, captions, prosody "
        "included), one process per file: the model loads each time, which the real-time factor below excludes "
        "(it is the worker's own `processing_seconds` ÷ audio seconds; the worker loads the model once at start).",
        "",
        "| LibriVox clip | audio s | words | errors | WER | real-time factor | peak RSS MiB |",
        "|---|---|---|---|---|---|---|",
        *rows,
        "",
        f"- Corpus WER on the five LibriVox clips: **{wer:.3f}** ({total_errors} errors in {total_words} words; "
        "the stock `pocketsphinx` command-line decoder: about 0.37 here; `make test` fails above 0.45).",
        f"- Real-time factor over the clips: **{processing / audio:.2f}** (processing seconds per second of audio, one core).",
        f"- Ten-minute video (the clips with 40 s of silence after each): {long_result['processing_seconds']:.1f} s for "
        f"{long_result['audio_seconds']:.0f} s of audio (RTF {long_result['processing_seconds'] / long_result['audio_seconds']:.3f}), "
        f"{len(long_result['captions'])} captions, peak RSS **{long_rss:.0f} MiB** against {max(rss):.0f} MiB for a "
        "few seconds of audio (the PCM is streamed: memory does not grow with length).",
        "",
    ])
    print(text)
    target = os.environ.get("BENCH_CAPTIONS_RESULT")
    if not target:
        files = sorted(glob.glob(os.path.join(RESULTS, "*.md")), key=os.path.getmtime)
        target = files[-1] if files else None
    if target and os.environ.get("BENCH_CAPTIONS_APPEND", "1") == "1":
        with open(target, "a") as f:
            f.write("\n" + text)
        print(f"captions: appended to {os.path.relpath(target, ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
