/* mime.h — Content-Type from a file name's extension, and which types are worth compressing. */
#ifndef SKIFF_MIME_H
#define SKIFF_MIME_H

/* The Content-Type for path's extension (case-insensitive), with "; charset=utf-8" for text
 * types; "application/octet-stream" when unknown. A static string. */
const char *mime_type(const char *path);
/* 1 when a response of this Content-Type (parameters ignored) compresses well (text, JSON,
 * JavaScript, SVG, XML, WebAssembly, fonts without built-in compression, ...). */
int mime_compressible(const char *type);

#endif
