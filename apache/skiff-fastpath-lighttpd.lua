-- skiff-fastpath-lighttpd.lua — lighttpd's mod_magnet side of the serving fast path
-- (skiff-fastpath.lua decides). The site block sets, with setenv.set-environment:
--   SKIFF_FASTPATH_DIR     fastpath_dir of skiff.conf
--   SKIFF_FASTPATH_MODULE  this directory's skiff-fastpath.lua
--   SKIFF_FASTPATH_SUFFIX  "." .. domain, with ":" .. site_port unless it is 0 or 80
-- Returning nothing hands the request on to mod_fastcgi (skiff-serve).
--
-- mod_magnet runs this chunk for every request in one Lua VM per script and clears its
-- globals after each run; what lasts is kept in package.loaded: the decision's state, and
-- lighty.r's objects, which mod_magnet makes once and points at each request in turn. When
-- this file changes mod_magnet loads it again into the same VM with a new lighty table:
-- everything kept is made again then (the old objects no longer follow the requests). The
-- tick is lighty.c.time(), which moves with the clock of lighttpd's stat cache: the first
-- request of a second looks at the site's link and blobs through that cache, as lighttpd
-- looks at its own static files. A warm hit then costs a table lookup or two and hands
-- lighttpd prebuilt tables (lighty.header, lighty.content), which it copies in C.
local k = package.loaded["skiff-fastpath-lighttpd"]
if not k or k.lighty ~= lighty then
	local r = lighty.r
	local env = r.req_env
	local module = env["SKIFF_FASTPATH_MODULE"]
	if not module then
		return
	end
	local fp = dofile(module)
	local stat = lighty.c.stat
	local state = fp.new({
		tree = env["SKIFF_FASTPATH_DIR"],
		suffix = env["SKIFF_FASTPATH_SUFFIX"] or "",
		max = 100000,
		identity = function(dir)
			local st = stat(dir)
			if not st or not st.is_dir then
				return nil
			end
			local s, ns = st.st_mtim()
			local cs, cns = st.st_ctim()
			return string.format("%d.%d.%d.%d.%d", st.st_ino, s, ns, cs, cns)
		end,
		exists = function(file)
			local st = stat(file)
			return st and st.is_file or nil
		end,
		build = function(v)
			local h304 = {}
			for _, nv in ipairs(v.headers) do
				h304[nv[1]] = nv[2]
			end
			local h200 = { ["Content-Type"] = v.ctype }
			for name, value in pairs(h304) do
				h200[name] = value
			end
			v.h200, v.h304, v.content = h200, h304, { { filename = v.file } }
		end,
	})
	k = { lighty = lighty, decide = fp.decide, state = state, time = lighty.c.time,
		h = r.req_header, attr = r.req_attr }
	package.loaded["skiff-fastpath-lighttpd"] = k
end
local h, attr = k.h, k.attr
local status, v = k.decide(k.state, k.time(), attr["request.method"], h["Host"],
	attr["request.uri"], h["Accept-Encoding"], h["If-None-Match"], h["If-Modified-Since"],
	h["Range"])
if status == 200 then
	lighty.header, lighty.content = v.h200, v.content
elseif status then
	lighty.header = v.h304
end
return status
