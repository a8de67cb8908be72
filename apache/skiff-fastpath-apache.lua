-- skiff-fastpath-apache.lua — Apache httpd's mod_lua side of the serving fast path
-- (skiff-fastpath.lua decides), a LuaQuickHandler of the sites' virtual host: it answers
-- before the request is mapped, or declines and the request goes on to skiff-serve. The
-- virtual host sets, with SetEnvIf (which runs before quick handlers, unlike SetEnv):
--   SKIFF_FASTPATH_DIR     fastpath_dir of skiff.conf
--   SKIFF_FASTPATH_MODULE  this directory's skiff-fastpath.lua
--   SKIFF_FASTPATH_SUFFIX  "." .. domain, with ":" .. site_port unless it is 0 or 80
-- With "LuaScope thread" each thread keeps the module and its settings.
require "apache2"

local state

local function setup(r)
	local env = r.subprocess_env
	local module = env["SKIFF_FASTPATH_MODULE"]
	if not module then
		return nil
	end
	local fp = dofile(module)
	return { fp = fp, cfg = {
		tree = env["SKIFF_FASTPATH_DIR"],
		suffix = env["SKIFF_FASTPATH_SUFFIX"] or "",
		entry = fp.read,
	} }
end

function skiff_fastpath(r)
	state = state or setup(r)
	if not state then
		return apache2.DECLINED
	end
	-- r:stat is a method of this request: bind the check to it
	state.cfg.exists = function(path)
		local st = r:stat(path)
		return st and st.filetype == 1 and st
	end
	local h = r.headers_in
	local uri = r.unparsed_uri or ""
	local path, query = uri:match("^([^?#]*)%??([^#]*)")
	local status, headers, ctype, file = state.fp.decide(state.cfg, {
		method = r.method,
		host = h["Host"],
		path = path,
		query = query,
		ae = h["Accept-Encoding"],
		inm = h["If-None-Match"],
		ims = h["If-Modified-Since"],
		range = h["Range"],
	})
	if not status then
		return apache2.DECLINED
	end
	local out = r.headers_out
	for _, nv in ipairs(headers) do
		out[nv[1]] = nv[2]
	end
	r.status = status
	if ctype then
		r.content_type = ctype
	end
	if file then
		local st = r:stat(file)
		out["Content-Length"] = string.format("%d", st and st.size or 0)
		if not r.header_only then
			r:sendfile(file)
		end
	end
	return apache2.OK
end
