-- POST /api/upload-video/generate-url with a fixed body (each request stores a pending video).
dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/common.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"filename":"bench clip.mp4","content_type":"video/mp4","size_bytes":1048576}'
bench.authorize()
