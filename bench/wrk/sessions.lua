-- Scenario g: GET /auth/sessions with a Bearer token. args: TOKEN_FILE.
dofile(os.getenv("QUIRE_BENCH_WRK") .. "/common.lua")

function init(args)
	wrk.method = "GET"
	wrk.path = "/auth/sessions"
	wrk.headers["Authorization"] = "Bearer " .. read_lines(args[1])[1]
end
