-- POST /api/upload-video/generate-url with a fixed body (each request stores a pending video).
-- size_bytes 1: pending records count toward the per-user storage quota (MAX_USER_STORAGE_BYTES), and a
-- 10-second run stores tens of thousands; one byte each keeps the run far below it.
--   BENCH_TOKEN   one user's access token: every request is that user's
--   BENCH_TOKENS  comma-separated tokens of several users (instead): the requests cycle over them,
--                 each wrk thread starting at another user
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"filename":"bench clip.mp4","content_type":"video/mp4","size_bytes":1}'
bench.authorize()

local tokens = bench.list("BENCH_TOKENS")
if #tokens > 0 then
  bench.rotate()
  local headers = { ["Content-Type"] = "application/json" }
  function request()
    headers["Authorization"] = "Bearer " .. bench.next(tokens)
    return wrk.format("POST", nil, headers, wrk.body)
  end
end
