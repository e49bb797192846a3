-- Shared by the bench/wrk/*.lua scripts (loaded with dofile).
-- Settings come from the environment, set by bench/bench.py:
--   BENCH_TOKEN   a user access token; sent as `Authorization: Bearer …` when set
-- done() prints one machine-readable line that bench.py parses:
--   BENCH_RESULT {"requests":…,"duration_us":…,"p50_us":…,"p99_us":…,…}

bench = {}

function bench.authorize()
  local token = os.getenv("BENCH_TOKEN")
  if token ~= nil and token ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. token
  end
end

-- The items of a comma-separated environment variable (empty when it is unset).
function bench.list(name)
  local items = {}
  for item in string.gmatch(os.getenv(name) or "", "[^,]+") do
    items[#items + 1] = item
  end
  return items
end

-- Cycling over several items (users, owners): defines wrk's setup() and init() so that each wrk
-- thread starts at a different item; bench.next(items) then gives this thread's next one.
local turn = 0
function bench.rotate()
  local threads_started = 0
  function setup(thread)
    thread:set("offset", threads_started)
    threads_started = threads_started + 1
  end
  function init(args)
    -- `offset` is set in this thread's interpreter by setup() above.
    turn = tonumber(offset) or 0
  end
end

function bench.next(items)
  turn = turn + 1
  return items[(turn % #items) + 1]
end

function bench.json_string(s)
  return '"' .. s:gsub('\\', '\\\\'):gsub('"', '\\"') .. '"'
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,'
      .. '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,'
      .. '"non2xx":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.status, e.connect, e.read, e.write, e.timeout))
end
