-- POST /api/upload-video/generate-url with a fixed body (each request stores a pending video).
-- size_bytes 1: pending records count toward the per-user storage quota (MAX_USER_STORAGE_BYTES), and a
-- 10-second run stores tens of thousands; one byte each keeps the run far below it.
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"filename":"bench clip.mp4","content_type":"video/mp4","size_bytes":1}'
bench.authorize()
