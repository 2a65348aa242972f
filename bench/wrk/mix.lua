-- The soak mix: every scenario's request, picked at random per request,
-- with weights per thousand: a 450, b 200, c 120, d 50, e 100, g 60 (the
-- session list), h 18 (a reset mail), f 2 (a login: one Argon2id
-- verification costs as much CPU as some 400 reads, so 2 in 1,000 already
-- spend about a third of the CPU on hashing). bench.py runs the soak with
-- the rate limit off, as for f and h.
-- args: IDS_FILE ME_TOKEN_FILE CREATE_TOKEN_FILE LOGINS_FILE EMAILS_FILE.
dofile(os.getenv("QUIRE_BENCH_WRK") .. "/common.lua")

local gets, list, me, create, health, sessions, logins, forgots, i, j, k

function init(args)
	local ids = read_lines(args[1])
	gets = {}
	for n, id in ipairs(ids) do
		gets[n] = wrk.format("GET", "/posts/" .. id)
	end
	i = (tid * 7919) % #gets
	list = wrk.format("GET", "/posts?limit=20")
	local me_auth = { ["Authorization"] = "Bearer " .. read_lines(args[2])[1] }
	me = wrk.format("GET", "/auth/me", me_auth)
	sessions = wrk.format("GET", "/auth/sessions", me_auth)
	create = wrk.format("POST", "/posts",
		{ ["Authorization"] = "Bearer " .. read_lines(args[3])[1],
		  ["Content-Type"] = "application/json" },
		'{"title": "Soak post", "content": "' ..
		string.rep("Lorem ipsum dolor sit amet. ", 20) .. '", "published": true}')
	health = wrk.format("GET", "/health")
	logins = {}
	for n, l in ipairs(read_lines(args[4])) do
		local e, p = l:match("^(%S+) (.+)$")
		logins[n] = wrk.format("POST", "/auth/login",
		    { ["Content-Type"] = "application/json" },
		    '{"email": "' .. e .. '", "password": "' .. p .. '"}')
	end
	forgots = {}
	for n, e in ipairs(read_lines(args[5])) do
		forgots[n] = wrk.format("POST", "/auth/password/forgot",
		    { ["Content-Type"] = "application/json" },
		    '{"email": "' .. e .. '"}')
	end
	j = tid % #logins
	k = tid % #forgots
	math.randomseed(12345 + tid)
end

function request()
	local r = math.random(1000)
	if r <= 450 then
		i = i + 1
		if i > #gets then i = 1 end
		return gets[i]
	elseif r <= 650 then return list
	elseif r <= 770 then return me
	elseif r <= 820 then return create
	elseif r <= 920 then return health
	elseif r <= 980 then return sessions
	elseif r <= 998 then
		k = k + 1
		if k > #forgots then k = 1 end
		return forgots[k]
	else
		j = j + 1
		if j > #logins then j = 1 end
		return logins[j]
	end
end
