-- skiff-fastpath-lighttpd.lua — lighttpd's mod_magnet side of the serving fast path
-- (skiff-fastpath.lua decides). The site block sets, with setenv.set-environment:
--   SKIFF_FASTPATH_DIR     fastpath_dir of skiff.conf
--   SKIFF_FASTPATH_MODULE  this directory's skiff-fastpath.lua
--   SKIFF_FASTPATH_SUFFIX  "." .. domain, with ":" .. site_port unless it is 0 or 80
-- Returning nothing hands the request on to mod_fastcgi (skiff-serve).
--
-- Entries are parsed once and kept while lighttpd's stat cache shows the same file (inode,
-- mtime, size): an entry is never rewritten, a switch makes new files. The stat cache
-- ("simple", the default) looks again every second, as for lighttpd's own static files.
local r = lighty.r
local state = package.loaded["skiff-fastpath-lighttpd"]
if not state then
	local env = r.req_env
	local module = env["SKIFF_FASTPATH_MODULE"]
	if not module then
		return
	end
	local fp = dofile(module)
	local cache, count = {}, 0
	state = { fp = fp, cfg = {
		tree = env["SKIFF_FASTPATH_DIR"],
		suffix = env["SKIFF_FASTPATH_SUFFIX"] or "",
		exists = function(path)
			local st = lighty.c.stat(path)
			return st and st.is_file
		end,
		entry = function(path)
			local st = lighty.c.stat(path)
			if not st or not st.is_file then
				return nil
			end
			local s, ns = st.st_mtim()
			local ino, size = st.st_ino, st.st_size
			local c = cache[path]
			if c and c[1] == ino and c[2] == s and c[3] == ns and c[4] == size then
				return c[5]
			end
			local f = fp.read(path)
			if count >= 100000 then         -- bounded: start again
				cache, count = {}, 0
			end
			if not c then
				count = count + 1
			end
			cache[path] = { ino, s, ns, size, f }
			return f
		end,
	} }
	package.loaded["skiff-fastpath-lighttpd"] = state
end
local h = r.req_header
local attr = r.req_attr
local status, headers, ctype, file = state.fp.decide(state.cfg, {
	method = attr["request.method"],
	host = h["Host"],
	path = attr["uri.path-raw"],
	query = attr["uri.query"],
	ae = h["Accept-Encoding"],
	inm = h["If-None-Match"],
	ims = h["If-Modified-Since"],
	range = h["Range"],
})
if not status then
	return
end
local out = r.resp_header
for _, nv in ipairs(headers) do
	out[nv[1]] = nv[2]
end
if ctype then
	out["Content-Type"] = ctype
end
if file then
	r.resp_body:set({ { filename = file } })
end
return status
