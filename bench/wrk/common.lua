-- bench/wrk/common.lua: loaded by every scenario script (dofile). Gives
-- each wrk thread a number (tid) and prints the run's figures as one JSON
-- line ("BENCH_JSON {...}") that bench/bench.py reads; wrk's own
-- --latency text report is kept in the raw log beside it.
--
-- summary.errors.status counts responses with a status >= 400 (wrk calls
-- it "Non-2xx or 3xx"; no route measured here answers 1xx or 3xx).

local next_tid = 0

function setup(thread)
	thread:set("tid", next_tid)
	next_tid = next_tid + 1
end

-- Lines of a file, without empty ones.
function read_lines(path)
	local t = {}
	local f = assert(io.open(path, "r"), "cannot open " .. tostring(path))
	for line in f:lines() do
		if line ~= "" then t[#t + 1] = line end
	end
	f:close()
	assert(#t > 0, path .. " is empty")
	return t
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
		'"non2xx": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d, ' ..
		'"p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f, "max_us": %d}\n',
		summary.requests, summary.duration, summary.bytes,
		e.status, e.connect, e.read, e.write, e.timeout,
		latency:percentile(50), latency:percentile(90), latency:percentile(99),
		latency.mean, latency.max))
end
