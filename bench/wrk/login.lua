-- Scenario f: POST /auth/login, cycling over the seeded users (their
-- emails and passwords), with the rate limit off (bench.py restarts the
-- app for it). Each login costs one Argon2id hash, a session row and an
-- audit row. args: LOGINS_FILE (lines "email password").
dofile(os.getenv("QUIRE_BENCH_WRK") .. "/common.lua")

local reqs, i

function init(args)
	local lines = read_lines(args[1])
	reqs = {}
	for k, l in ipairs(lines) do
		local e, p = l:match("^(%S+) (.+)$")
		reqs[k] = wrk.format("POST", "/auth/login",
		    { ["Content-Type"] = "application/json" },
		    '{"email": "' .. e .. '", "password": "' .. p .. '"}')
	end
	i = (tid * 7) % #reqs
end

function request()
	i = i + 1
	if i > #reqs then i = 1 end
	return reqs[i]
end
