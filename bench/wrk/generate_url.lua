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

local tokens = {}
for t in string.gmatch(os.getenv("BENCH_TOKENS") or "", "[^,]+") do
  tokens[#tokens + 1] = t
end

if #tokens > 0 then
  local threads_started = 0
  function setup(thread)
    thread:set("offset", threads_started)
    threads_started = threads_started + 1
  end

  local n = 0
  local headers = {}
  function init(args)
    n = tonumber(offset) or 0
    headers["Content-Type"] = "application/json"
  end

  function request()
    n = n + 1
    headers["Authorization"] = "Bearer " .. tokens[(n % #tokens) + 1]
    return wrk.format("POST", nil, headers, wrk.body)
  end
end
