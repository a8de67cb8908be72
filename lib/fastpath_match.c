/* fastpath_match.c — decisions shared by skiff-serve and lighttpd's fast path module. */
#include "fastpath_match.h"
#include <string.h>

bool fastpath_match_path(const char *path, size_t len)
{
	if (len == 0 || len > FASTPATH_MATCH_PATH_MAX || path[0] != '/')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = path[i];
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '~' || c == '-';
		if (c == '/') {
			if (i + 1 < len && (path[i + 1] == '/' || path[i + 1] == '.'))
				return false;
		} else if (!plain) {
			return false;
		}
	}
	return true;
}

int fastpath_match_etag(const char *list, const char *etag)
{
	size_t en = strlen(etag);
	for (const char *s = list; *s;) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		if (!*s)
			break;
		if (*s == '*')
			return 1;
		if (s[0] == 'W' && s[1] == '/')
			s += 2;
		const char *end = s;
		if (*s == '"') {
			end = strchr(s + 1, '"');
			end = end ? end + 1 : s + strlen(s);
		} else {
			end = s + strcspn(s, ", \t");
		}
		if ((size_t)(end - s) == en && memcmp(s, etag, en) == 0)
			return 1;
		s = end;
	}
	return 0;
}
