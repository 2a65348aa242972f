-- Scenario h: POST /auth/password/forgot, cycling over the seeded users'
-- emails, with the rate limit off (bench.py restarts the app for it).
-- Each request issues a token and queues a mail in one statement; the
-- stack's mail worker drains the outbox meanwhile. args: EMAILS_FILE.
dofile(os.getenv("QUIRE_BENCH_WRK") .. "/common.lua")

local reqs, i

function init(args)
	local emails = read_lines(args[1])
	reqs = {}
	for k, e in ipairs(emails) do
		reqs[k] = wrk.format("POST", "/auth/password/forgot",
		    { ["Content-Type"] = "application/json" },
		    '{"email": "' .. e .. '"}')
	end
	i = (tid * 7) % #reqs
end

function request()
	i = i + 1
	if i > #reqs then i = 1 end
	return reqs[i]
end
