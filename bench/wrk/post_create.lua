-- Scenario d: POST /posts with a Bearer token and a JSON body (a
-- published post of about 600 bytes, the size of an average seeded one).
-- args: TOKEN_FILE.
dofile(os.getenv("QUIRE_BENCH_WRK") .. "/common.lua")

function init(args)
	wrk.method = "POST"
	wrk.path = "/posts"
	wrk.headers["Authorization"] = "Bearer " .. read_lines(args[1])[1]
	wrk.headers["Content-Type"] = "application/json"
	wrk.body = '{"title": "Benchmark post written by wrk", "content": "' ..
		string.rep("Lorem ipsum dolor sit amet, consectetur adipiscing elit. ", 10) ..
		'", "published": true}'
end
