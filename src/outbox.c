/*
 * Mail templates and the statements that queue them. Messages are short
 * plain text; the token travels only in the link's fragment, so it
 * reaches neither the client application's access log nor a Referer.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "audit.h"
#include "auth.h"
#include "db.h"
#include "outbox.h"

struct tmpl {
	const char	*kind;		/* token kind, and the outbox's kind */
	long		 lifetime;	/* seconds a token lives */
	const char	*path;		/* the client application's page */
	const char	*subject;
	const char	*pre;		/* the body before the link */
	const char	*post;		/* the body after it */
};

static const struct tmpl tmpls[] = {
	[OUTBOX_RESET] = { "reset", 3600, "/reset-password",
	    "Reset your password",
	    "Someone asked to reset the password of the account that uses this\n"
	    "email address. To choose a new password, open this link within an\n"
	    "hour:\n"
	    "\n",
	    "\n"
	    "\n"
	    "If it was not you, ignore this message: the password stays as it is.\n" },
	[OUTBOX_VERIFY] = { "verify", 86400, "/verify-email",
	    "Verify your email address",
	    "Open this link within 24 hours to confirm that this email address\n"
	    "is yours:\n"
	    "\n",
	    "\n"
	    "\n"
	    "If you did not ask for an account, ignore this message.\n" },
	[OUTBOX_EMAIL_CHANGED] = { "email_changed", 0, NULL,
	    "Your email address was changed",
	    "The email address of your account was changed, and this address\n"
	    "no longer signs in to it.\n"
	    "\n"
	    "If you did not make this change, reset your password and contact\n"
	    "the site's support at once.\n", "" },
};

const char *
outbox_token_kind(enum outbox_kind k)
{

	return tmpls[k].kind;
}

static enum qerr
link(struct req *r, enum stmt s, enum outbox_kind k, const char *who, long hold_s,
    int *queued)
{
	const struct tmpl	*t = &tmpls[k];
	PGresult		*res;
	const char		*params[8 + AUDIT_NPARAMS];
	char			 token[AUTH_TOKEN_LEN + 1], hash[AUTH_HASH_LEN + 1];
	char			 life[24], hold[24], *url, *body;
	enum qerr		 e;

	auth_token_new(token);
	auth_token_hash(token, hash);
	url = arena_printf(r->arena, "%s%s#token=%s", r->conf->app_url, t->path, token);
	body = url == NULL ? NULL : arena_printf(r->arena, "%s%s%s", t->pre, url, t->post);
	if (body == NULL)
		return QERR_NOMEM;
	snprintf(life, sizeof(life), "%ld", t->lifetime);
	snprintf(hold, sizeof(hold), "%ld", hold_s);
	params[0] = who;
	params[1] = t->kind;
	params[2] = hash;
	params[3] = life;
	params[4] = r->conf->mail_domain;
	params[5] = t->subject;
	params[6] = body;
	params[7] = hold;
	/* A reset link is a security event; a verification link is not. */
	audit_params(r, AUDIT_PASSWORD_RESET_REQUESTED, &params[8]);
	if (k != OUTBOX_RESET)
		params[8] = NULL;
	if ((e = db_exec(r, DB_PRIMARY, s, params, &res)) != QERR_OK)
		return e;
	if (queued != NULL)
		*queued = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 1), "0") != 0;
	return QERR_OK;
}

enum qerr
outbox_link_by_id(struct req *r, enum outbox_kind k, const char *user_id, long hold_s)
{

	return link(r, STMT_MAIL_LINK_BY_ID, k, user_id, hold_s, NULL);
}

enum qerr
outbox_link_by_email(struct req *r, enum outbox_kind k, const char *email,
    int *queued)
{

	return link(r, STMT_MAIL_LINK_BY_EMAIL, k, email, 0, queued);
}

enum qerr
outbox_notice(struct req *r, enum outbox_kind k, const char *email, const char *name)
{
	const struct tmpl	*t = &tmpls[k];
	PGresult		*res;
	const char		*params[6];

	params[0] = t->kind;
	params[1] = email;
	params[2] = name;
	params[3] = r->conf->mail_domain;
	params[4] = t->subject;
	params[5] = t->pre;
	return db_exec(r, DB_PRIMARY, STMT_MAIL_NOTICE, params, &res);
}
