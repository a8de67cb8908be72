/* channel.h — whether a URL reaches its server without crossing a network in clear: what a
 * remote build checks before it asks the API for secrets over SKIFF_API_URL. */
#ifndef SKIFF_CHANNEL_H
#define SKIFF_CHANNEL_H

#include <stdbool.h>

/* true for https, or plain http to this machine's loopback by the URL's host itself
 * (127.0.0.0/8, [::1], localhost), never by what a name resolves to. */
bool channel_confidential(const char *url);

#endif
