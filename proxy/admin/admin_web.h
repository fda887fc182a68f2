/*
 * The compliance dashboard's files (SPEC §10), compiled into the binary
 * by proxy/admin/web/embed.c from proxy/admin/web/: the page, its
 * script and its style. Nothing is fetched from another origin.
 */
#ifndef PROXY_ADMIN_ADMIN_WEB_H
#define PROXY_ADMIN_ADMIN_WEB_H

#include <stddef.h>

struct admin_asset {
	const char		*path;	/* "/" or "/assets/NAME" */
	const char		*ctype;	/* Content-Type */
	const unsigned char	*data;	/* len bytes */
	size_t			 len;
	const char		*etag;	/* quoted: a hash of data */
};

/* Every file, in the generated admin_assets.c. */
extern const struct admin_asset admin_assets[];
extern const size_t admin_nassets;

/* The asset served at path, or NULL. */
const struct admin_asset *admin_asset_find(const char *path);

#endif /* PROXY_ADMIN_ADMIN_WEB_H */
