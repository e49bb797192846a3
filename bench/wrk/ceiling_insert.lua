-- POST /videos/{owner} on bench-ceiling: the bare insert generate-url's statement does.
--   BENCH_CEILING_OWNERS  comma-separated owner ids; the requests cycle over them, each wrk thread
--                         starting at another owner (one id: every request is that owner's)
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")

local owners = {}
for o in string.gmatch(os.getenv("BENCH_CEILING_OWNERS") or "", "[^,]+") do
  owners[#owners + 1] = o
end
if #owners == 0 then
  io.stderr:write("ceiling_insert.lua: BENCH_CEILING_OWNERS is empty\n")
  os.exit(2)
end

local threads_started = 0
function setup(thread)
  thread:set("offset", threads_started)
  threads_started = threads_started + 1
end

local n = 0
function init(args)
  n = tonumber(offset) or 0
end

function request()
  n = n + 1
  return wrk.format("POST", "/videos/" .. owners[(n % #owners) + 1])
end
