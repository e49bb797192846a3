-- POST /api/auth/login, cycling through the bench's login users so that no email
-- collects 5 attempts at once (the brute-force limit answers 429 from the 6th).
--   BENCH_LOGIN_EMAILS    comma-separated emails (signed up by bench.py)
--   BENCH_LOGIN_PASSWORD  their password
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")

local emails = bench.list("BENCH_LOGIN_EMAILS")
local password = os.getenv("BENCH_LOGIN_PASSWORD") or ""
if #emails == 0 then
  io.stderr:write("login.lua: BENCH_LOGIN_EMAILS is empty\n")
  os.exit(2)
end

local bodies = {}
for i, e in ipairs(emails) do
  bodies[i] = '{"email":' .. bench.json_string(e) .. ',"password":' .. bench.json_string(password) .. '}'
end

bench.rotate()

local headers = { ["Content-Type"] = "application/json" }
function request()
  return wrk.format("POST", nil, headers, bench.next(bodies))
end
