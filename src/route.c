/*
 * The route table and the matcher.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "h_2fa.h"
#include "h_account.h"
#include "h_admin.h"
#include "h_auth.h"
#include "h_ops.h"
#include "h_posts.h"
#include "h_sessions.h"
#include "h_users.h"
#include "route.h"
#include "valid.h"

/* clang-format off */
const struct route routes[] = {
	/* method	path			auth		body		handler */
	{ METHOD_GET,	"/health",		ROUTE_NONE,	NULL,		h_ops_health },
	{ METHOD_GET,	"/health/db",		ROUTE_NONE,	NULL,		h_ops_health_db },
	{ METHOD_GET,	"/metrics",		ROUTE_NONE,	NULL,		h_ops_metrics },
	{ METHOD_GET,	"/openapi.json",	ROUTE_NONE,	NULL,		h_ops_openapi },
	{ METHOD_POST,	"/auth/signup",		ROUTE_NONE,	&body_signup,	h_auth_signup },
	{ METHOD_POST,	"/auth/login",		ROUTE_NONE,	&body_login,	h_auth_login },
	{ METHOD_POST,	"/auth/logout",		ROUTE_SESSION,	NULL,		h_auth_logout },
	{ METHOD_GET,	"/auth/me",		ROUTE_SESSION,	NULL,		h_auth_me },
	{ METHOD_POST,	"/auth/password/forgot", ROUTE_NONE,	&body_forgot,	h_account_forgot },
	{ METHOD_POST,	"/auth/password/reset",	ROUTE_NONE,	&body_reset,	h_account_reset },
	{ METHOD_POST,	"/auth/verify-email/send", ROUTE_SESSION, NULL,		h_account_verify_send },
	{ METHOD_POST,	"/auth/verify-email",	ROUTE_NONE,	&body_verify,	h_account_verify },
	{ METHOD_GET,	"/users",		ROUTE_SESSION,	NULL,		h_users_list },
	{ METHOD_POST,	"/users",		ROUTE_ADMIN,	&body_user_create, h_users_create },
	{ METHOD_GET,	"/users/:id",		ROUTE_SESSION,	NULL,		h_users_get },
	{ METHOD_PATCH,	"/users/:id",		ROUTE_SESSION,	&body_user_patch, h_users_patch },
	{ METHOD_DELETE, "/users/:id",		ROUTE_SESSION,	NULL,		h_users_delete },
	{ METHOD_GET,	"/posts",		ROUTE_OPTIONAL,	NULL,		h_posts_list },
	{ METHOD_POST,	"/posts",		ROUTE_SESSION,	&body_post_create, h_posts_create },
	{ METHOD_GET,	"/posts/:id",		ROUTE_OPTIONAL,	NULL,		h_posts_get },
	{ METHOD_PATCH,	"/posts/:id",		ROUTE_SESSION,	&body_post_patch, h_posts_patch },
	{ METHOD_DELETE, "/posts/:id",		ROUTE_SESSION,	NULL,		h_posts_delete },
	/* Sessions, bans and the audit log (issue #19) */
	{ METHOD_GET,	"/auth/sessions",	ROUTE_SESSION,	NULL,		h_sessions_list },
	{ METHOD_POST,	"/auth/sessions/revoke-others", ROUTE_SESSION, NULL,	h_sessions_revoke_others },
	{ METHOD_DELETE, "/auth/sessions/:id",	ROUTE_SESSION,	NULL,		h_sessions_delete },
	{ METHOD_GET,	"/users/:id/sessions",	ROUTE_ADMIN,	NULL,		h_sessions_user_list },
	{ METHOD_DELETE, "/users/:id/sessions",	ROUTE_ADMIN,	NULL,		h_sessions_user_revoke },
	{ METHOD_POST,	"/users/:id/ban",	ROUTE_ADMIN,	&body_ban,	h_admin_ban },
	{ METHOD_DELETE, "/users/:id/ban",	ROUTE_ADMIN,	NULL,		h_admin_unban },
	{ METHOD_GET,	"/audit",		ROUTE_ADMIN,	NULL,		h_admin_audit },
	/* Two-factor authentication (issue #21) */
	{ METHOD_POST,	"/auth/2fa/setup",	ROUTE_SESSION,	&body_2fa_setup, h_2fa_setup },
	{ METHOD_POST,	"/auth/2fa/enable",	ROUTE_SESSION,	&body_2fa_enable, h_2fa_enable },
	{ METHOD_POST,	"/auth/2fa/disable",	ROUTE_SESSION,	&body_2fa_disable, h_2fa_disable },
	{ METHOD_POST,	"/auth/2fa/verify",	ROUTE_NONE,	&body_2fa_verify, h_2fa_verify },
	{ METHOD_DELETE, "/users/:id/2fa",	ROUTE_ADMIN,	NULL,		h_2fa_admin_disable },
};
/* clang-format on */
const size_t nroutes = sizeof(routes) / sizeof(routes[0]);
_Static_assert(sizeof(routes) / sizeof(routes[0]) <= ROUTE_MAX,
    "more routes than ROUTE_MAX: raise it (metrics counts per route)");

/*
 * Compares a template against a path segment by segment. Returns 1 on a
 * match and points *id at the ":id" segment.
 */
static int
path_matches(const char *tpl, const char *path, const char **id, size_t *idlen)
{
	const char	*seg;

	*id = NULL;
	*idlen = 0;
	while (*tpl != '\0' && *path != '\0') {
		if (tpl[0] == ':') {
			seg = path;
			while (*path != '\0' && *path != '/')
				path++;
			if (path == seg)
				return 0;
			*id = seg;
			*idlen = (size_t)(path - seg);
			while (*tpl != '\0' && *tpl != '/')
				tpl++;
			continue;
		}
		if (*tpl != *path)
			return 0;
		tpl++;
		path++;
	}
	return *tpl == '\0' && *path == '\0';
}

enum route_match
route_match(const struct route *table, size_t n, enum http_method m,
    const char *path, const struct route **rt, const char **id,
    size_t *idlen, char *allow, size_t allowsz)
{
	const char	*mid;
	size_t		 i, midlen, used;
	int		 seen[METHOD__MAX] = { 0 };
	int		 any;

	if (m == METHOD_HEAD)
		m = METHOD_GET;
	any = 0;
	for (i = 0; i < n; i++) {
		if (!path_matches(table[i].path, path, &mid, &midlen))
			continue;
		if (table[i].method == m) {
			*rt = &table[i];
			*id = mid;
			*idlen = midlen;
			return ROUTE_FOUND;
		}
		seen[table[i].method] = 1;
		any = 1;
	}
	if (!any)
		return ROUTE_NOT_FOUND;
	if (allowsz > 0)
		allow[0] = '\0';
	used = 0;
	for (i = 0; i < METHOD__MAX; i++) {
		const char *name;
		int w;

		if (!seen[i])
			continue;
		name = req_method_name((enum http_method)i);
		w = snprintf(allow + used, allowsz - used, "%s%s",
		    used ? ", " : "", name);
		if (w < 0 || (size_t)w >= allowsz - used)
			break;
		used += (size_t)w;
		if (i == METHOD_GET) {
			w = snprintf(allow + used, allowsz - used, ", HEAD");
			if (w > 0 && (size_t)w < allowsz - used)
				used += (size_t)w;
		}
	}
	return ROUTE_BAD_METHOD;
}
