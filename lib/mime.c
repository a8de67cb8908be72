/* mime.c — the extension → Content-Type table and the compressible-type test. */
#include "mime.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MIME_EXT_MAX 16
#define MIME_DEFAULT "application/octet-stream"
#define U8 "; charset=utf-8"

struct mime_entry {
	const char *ext;   /* lowercase, without the dot; the table is sorted by it */
	const char *type;
};

static const struct mime_entry mime_table[] = {
	{ "3g2", "video/3gpp2" },
	{ "3gp", "video/3gpp" },
	{ "7z", "application/x-7z-compressed" },
	{ "aac", "audio/aac" },
	{ "apng", "image/apng" },
	{ "appcache", "text/cache-manifest" U8 },
	{ "atom", "application/atom+xml" U8 },
	{ "avi", "video/x-msvideo" },
	{ "avif", "image/avif" },
	{ "bin", "application/octet-stream" },
	{ "bmp", "image/bmp" },
	{ "br", "application/x-brotli" },
	{ "bz2", "application/x-bzip2" },
	{ "cjs", "text/javascript" U8 },
	{ "css", "text/css" U8 },
	{ "csv", "text/csv" U8 },
	{ "cur", "image/x-icon" },
	{ "doc", "application/msword" },
	{ "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document" },
	{ "eot", "application/vnd.ms-fontobject" },
	{ "epub", "application/epub+zip" },
	{ "flac", "audio/flac" },
	{ "gif", "image/gif" },
	{ "glb", "model/gltf-binary" },
	{ "gltf", "model/gltf+json" U8 },
	{ "gz", "application/gzip" },
	{ "heic", "image/heic" },
	{ "heif", "image/heif" },
	{ "htm", "text/html" U8 },
	{ "html", "text/html" U8 },
	{ "ico", "image/x-icon" },
	{ "ics", "text/calendar" U8 },
	{ "jar", "application/java-archive" },
	{ "jpeg", "image/jpeg" },
	{ "jpg", "image/jpeg" },
	{ "js", "text/javascript" U8 },
	{ "json", "application/json" U8 },
	{ "jsonld", "application/ld+json" U8 },
	{ "jxl", "image/jxl" },
	{ "m3u8", "application/vnd.apple.mpegurl" },
	{ "m4a", "audio/mp4" },
	{ "m4v", "video/mp4" },
	{ "manifest", "text/cache-manifest" U8 },
	{ "map", "application/json" U8 },
	{ "md", "text/markdown" U8 },
	{ "mid", "audio/midi" },
	{ "midi", "audio/midi" },
	{ "mjs", "text/javascript" U8 },
	{ "mkv", "video/x-matroska" },
	{ "mov", "video/quicktime" },
	{ "mp3", "audio/mpeg" },
	{ "mp4", "video/mp4" },
	{ "mpd", "application/dash+xml" },
	{ "mpeg", "video/mpeg" },
	{ "mpg", "video/mpeg" },
	{ "oga", "audio/ogg" },
	{ "ogg", "audio/ogg" },
	{ "ogv", "video/ogg" },
	{ "opus", "audio/opus" },
	{ "otf", "font/otf" },
	{ "pdf", "application/pdf" },
	{ "png", "image/png" },
	{ "ppt", "application/vnd.ms-powerpoint" },
	{ "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation" },
	{ "rar", "application/vnd.rar" },
	{ "rss", "application/rss+xml" U8 },
	{ "rtf", "application/rtf" },
	{ "svg", "image/svg+xml" U8 },
	{ "tar", "application/x-tar" },
	{ "tif", "image/tiff" },
	{ "tiff", "image/tiff" },
	{ "toml", "application/toml" U8 },
	{ "ts", "video/mp2t" },
	{ "tsv", "text/tab-separated-values" U8 },
	{ "ttf", "font/ttf" },
	{ "txt", "text/plain" U8 },
	{ "vcf", "text/vcard" U8 },
	{ "vtt", "text/vtt" U8 },
	{ "wasm", "application/wasm" },
	{ "wav", "audio/wav" },
	{ "weba", "audio/webm" },
	{ "webm", "video/webm" },
	{ "webmanifest", "application/manifest+json" U8 },
	{ "webp", "image/webp" },
	{ "woff", "font/woff" },
	{ "woff2", "font/woff2" },
	{ "xhtml", "application/xhtml+xml" U8 },
	{ "xls", "application/vnd.ms-excel" },
	{ "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" },
	{ "xml", "application/xml" U8 },
	{ "yaml", "application/yaml" U8 },
	{ "yml", "application/yaml" U8 },
	{ "zip", "application/zip" },
};

static int mime_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct mime_entry *)elem)->ext);
}

const char *mime_type(const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *dot = strrchr(base, '.');
	if (!dot || dot == base || !dot[1])
		return MIME_DEFAULT;
	char ext[MIME_EXT_MAX + 1];
	size_t n = strlen(dot + 1);
	if (n > MIME_EXT_MAX)
		return MIME_DEFAULT;
	for (size_t i = 0; i < n; i++) {
		char c = dot[1 + i];
		ext[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	ext[n] = '\0';
	const struct mime_entry *e = bsearch(ext, mime_table, sizeof(mime_table) /
					     sizeof(mime_table[0]), sizeof(mime_table[0]), mime_cmp);
	return e ? e->type : MIME_DEFAULT;
}

/* Prefixes of compressible media types (parameters stripped before comparing). */
static const char *const mime_compressible_types[] = {
	"application/atom+xml", "application/dash+xml", "application/javascript",
	"application/json", "application/ld+json", "application/manifest+json",
	"application/rss+xml", "application/toml", "application/vnd.apple.mpegurl",
	"application/vnd.ms-fontobject", "application/wasm", "application/xhtml+xml",
	"application/xml", "application/yaml", "font/otf", "font/ttf", "image/bmp",
	"image/svg+xml", "image/x-icon", "model/gltf+json",
};

int mime_compressible(const char *type)
{
	if (!type)
		return 0;
	size_t n = strcspn(type, "; \t");
	if (n >= 5 && strncasecmp(type, "text/", 5) == 0)
		return 1;
	for (size_t i = 0; i < sizeof(mime_compressible_types) / sizeof(mime_compressible_types[0]);
	     i++) {
		const char *t = mime_compressible_types[i];
		if (strlen(t) == n && strncasecmp(type, t, n) == 0)
			return 1;
	}
	return 0;
}
