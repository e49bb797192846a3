-- POST /api/upload-video/ceiling/videos/{owner} on bench-ceiling: the bare insert generate-url's
-- statement does (…/videos-grouped/{owner} when BENCH_CEILING_ROUTE=videos-grouped: the same inserts
-- grouped), on bench-ceiling's port or through the ceiling gateway.
--   BENCH_CEILING_OWNERS  comma-separated owner ids; the requests cycle over them, each wrk thread
--                         starting at another owner (one id: every request is that owner's)
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")

local owners = bench.list("BENCH_CEILING_OWNERS")
if #owners == 0 then
  io.stderr:write("ceiling_insert.lua: BENCH_CEILING_OWNERS is empty\n")
  os.exit(2)
end

local route = "/api/upload-video/ceiling/" .. (os.getenv("BENCH_CEILING_ROUTE") or "videos") .. "/"

bench.rotate()

function request()
  return wrk.format("POST", route .. bench.next(owners))
end
