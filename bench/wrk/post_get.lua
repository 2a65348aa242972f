-- Scenario a: GET /posts/:id, anonymous, cycling over the seeded ids.
-- args: IDS_FILE. Each thread starts at its own place in the list.
dofile(os.getenv("QUIRE_BENCH_WRK") .. "/common.lua")

local reqs, i

function init(args)
	local ids = read_lines(args[1])
	reqs = {}
	for k, id in ipairs(ids) do
		reqs[k] = wrk.format("GET", "/posts/" .. id)
	end
	i = (tid * 7919) % #reqs
end

function request()
	i = i + 1
	if i > #reqs then i = 1 end
	return reqs[i]
end
