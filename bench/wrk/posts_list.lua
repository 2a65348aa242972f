-- Scenario b: GET /posts?limit=20, anonymous (the first page, newest first).
dofile(os.getenv("QUIRE_BENCH_WRK") .. "/common.lua")

wrk.method = "GET"
wrk.path = "/posts?limit=20"
