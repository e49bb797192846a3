-- POST /videos/{owner} on bench-ceiling: the bare insert generate-url's statement does.
--   BENCH_CEILING_OWNERS  comma-separated owner ids; the requests cycle over them, each wrk thread
--                         starting at another owner (one id: every request is that owner's)
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")

local owners = bench.list("BENCH_CEILING_OWNERS")
if #owners == 0 then
  io.stderr:write("ceiling_insert.lua: BENCH_CEILING_OWNERS is empty\n")
  os.exit(2)
end

bench.rotate()

function request()
  return wrk.format("POST", "/videos/" .. bench.next(owners))
end
