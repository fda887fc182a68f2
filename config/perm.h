/*
 * Who else can read the secrets a config holds. A config with a password
 * or token written in it, a password_file, a token_file and a TLS private
 * key must not be readable by other users of the machine: the daemon
 * refuses to start on one (stopgate run), stopgate check warns.
 *
 * "Other users" are the mode's "other" class: group read is allowed (the
 * installed layout is root:stopgate 0640). A file that other users cannot
 * reach, because a directory above it has no search permission for them
 * (a private temp dir, /etc/stopgate at 0750), is not readable by them
 * whatever its own mode. ACLs are not looked at.
 *
 * Like the loader, this never logs: problems come back as messages.
 */
#ifndef CONFIG_PERM_H
#define CONFIG_PERM_H

#include <stddef.h>

#include "config/config.h"

#define CONFIG_PERM_MAX		8	/* messages kept; the count goes on */

struct config_perm {
	size_t	count;		/* problems; may exceed CONFIG_PERM_MAX */
	char	msg[CONFIG_PERM_MAX][768];
};

/*
 * Check the file cfg was loaded from (cfg->path) and every secret file it
 * names. Each problem message names the file, what it holds, and the fix
 * ("chmod o-rwx FILE"). Returns the number of problems (0: none), or -1
 * if the config file could not be read again (msg[0] says why, count is
 * 1). cfg is borrowed; *out is overwritten.
 */
int config_perm_check(const struct config *cfg, struct config_perm *out);

#endif /* CONFIG_PERM_H */
