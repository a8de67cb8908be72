-- skiff-fastpath-lighttpd.lua — lighttpd's mod_magnet side of the serving fast path
-- (skiff-fastpath.lua decides). The site block sets, with setenv.set-environment:
--   SKIFF_FASTPATH_DIR     fastpath_dir of skiff.conf
--   SKIFF_FASTPATH_MODULE  this directory's skiff-fastpath.lua
--   SKIFF_FASTPATH_SUFFIX  "." .. domain, with ":" .. site_port unless it is 0 or 80
-- Returning nothing hands the request on to mod_fastcgi (skiff-serve).
local r = lighty.r
local env = r.req_env
local fp = package.loaded["skiff-fastpath"]
if not fp then
	local module = env["SKIFF_FASTPATH_MODULE"]
	if not module then
		return
	end
	fp = dofile(module)
	package.loaded["skiff-fastpath"] = fp
end
local cfg = {
	tree = env["SKIFF_FASTPATH_DIR"],
	suffix = env["SKIFF_FASTPATH_SUFFIX"] or "",
	exists = function(path)
		local st = lighty.c.stat(path)
		return st and st.is_file
	end,
}
local h = r.req_header
local attr = r.req_attr
local status, headers, ctype, file = fp.decide(cfg, {
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
