-- Scenario e: GET /health (touches no database).
dofile(os.getenv("QUIRE_BENCH_WRK") .. "/common.lua")

wrk.method = "GET"
wrk.path = "/health"
