-- GET the URL given to wrk, with the bench user's bearer token when BENCH_TOKEN is set
-- (GET /health, GET /api/auth/me, GET /api/v1/ml/job-status/{id}).
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")
wrk.method = "GET"
bench.authorize()
