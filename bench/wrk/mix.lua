-- The soak mix: every scenario's request, picked at random per request
-- with weights a 50, b 20, c 15, d 5, e 10 (percent).
-- args: IDS_FILE ME_TOKEN_FILE CREATE_TOKEN_FILE.
dofile(os.getenv("QUIRE_BENCH_WRK") .. "/common.lua")

local gets, list, me, create, health, i

function init(args)
	local ids = read_lines(args[1])
	gets = {}
	for k, id in ipairs(ids) do
		gets[k] = wrk.format("GET", "/posts/" .. id)
	end
	i = (tid * 7919) % #gets
	list = wrk.format("GET", "/posts?limit=20")
	me = wrk.format("GET", "/auth/me",
		{ ["Authorization"] = "Bearer " .. read_lines(args[2])[1] })
	create = wrk.format("POST", "/posts",
		{ ["Authorization"] = "Bearer " .. read_lines(args[3])[1],
		  ["Content-Type"] = "application/json" },
		'{"title": "Soak post", "content": "' ..
		string.rep("Lorem ipsum dolor sit amet. ", 20) .. '", "published": true}')
	health = wrk.format("GET", "/health")
	math.randomseed(12345 + tid)
end

function request()
	local r = math.random(100)
	if r <= 50 then
		i = i + 1
		if i > #gets then i = 1 end
		return gets[i]
	elseif r <= 70 then return list
	elseif r <= 85 then return me
	elseif r <= 90 then return create
	else return health
	end
end
