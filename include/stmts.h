/*
 * The SQL catalogue: every statement quire runs, by number. No other
 * file holds SQL. Workers prepare every non-admin statement once per
 * connection.
 */
#ifndef QUIRE_STMTS_H
#define QUIRE_STMTS_H

enum stmt {
	STMT_PING,
	STMT_REPLICA_STATUS,
	STMT_WAL_LSN,
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_USER_INSERT,
	STMT_ACCOUNT_INSERT,
	STMT_LOGIN_LOOKUP,
	STMT_ACCOUNT_REHASH,
	STMT_SESSION_INSERT,
	STMT_SESSION_LOOKUP,
	STMT_SESSION_TOUCH,
	STMT_SESSION_DELETE,
	STMT_SESSIONS_PURGE_USER,
	STMT_SESSIONS_PURGE,
	STMT_RATE_HIT,
	STMT_RATE_PURGE,
	STMT_USERS_OFFSET,
	STMT_USERS_AFTER,
	STMT_USER_GET,
	STMT_USER_UPDATE,
	STMT_USER_DELETE,
	STMT_ACCOUNT_SET_PASSWORD,
	STMT_SESSIONS_END_USER,
	STMT_SESSIONS_END_OTHERS,
	STMT_POST_INSERT,
	STMT_POST_GET,
	STMT_POST_UPDATE,
	STMT_POST_DELETE,
	STMT_POSTS_PUB_OFFSET,
	STMT_POSTS_PUB_AFTER,
	STMT_POSTS_AUTHOR_OFFSET,
	STMT_POSTS_AUTHOR_AFTER,
	STMT_POSTS_SEARCH_OFFSET,
	STMT_POSTS_SEARCH_AFTER,
	STMT_ACCOUNT_HASH,
	STMT_MAIL_LINK_BY_ID,
	STMT_MAIL_LINK_BY_EMAIL,
	STMT_MAIL_NOTICE,
	STMT_TOKEN_PEEK,
	STMT_TOKEN_REDEEM,
	STMT_MAIL_STATS,
	STMT_REVOKE_NOTIFY,
	/* the revocation listener (notify.c) only */
	STMT_LISTEN_REVOKE,
	STMT_LISTENER_STATUS,
	/* Sessions, bans and the audit log (issue #19) */
	STMT_SESSION_SEEN,
	STMT_SESSIONS_LIST,
	STMT_SESSIONS_REVOKE_OTHERS,
	STMT_SESSIONS_REVOKE_USER,
	STMT_USER_BAN,
	STMT_USER_UNBAN,
	STMT_AUDIT_INSERT,
	STMT_AUDIT_PAGE,
	STMT_AUDIT_PAGE_USER,
	STMT_AUDIT_PAGE_ACTION,
	STMT_AUDIT_PAGE_BOTH,
	STMT_PRUNE_SESSIONS,	/* quirectl prune */
	STMT_PRUNE_TOKENS,
	STMT_PRUNE_AUDIT,
	/* Two-factor authentication (issue #21) */
	STMT_TFA_LOCK,
	STMT_TFA_SETUP,
	STMT_TFA_ENABLE,
	STMT_TFA_STEP,
	STMT_TFA_DISABLE,
	STMT_TFA_BACKUP_CLEAR,
	STMT_TFA_BACKUP_INSERT,
	STMT_TFA_BACKUP_USE,
	STMT_TFA_CHALLENGE_INSERT,
	STMT_TFA_CHALLENGE_PEEK,
	STMT_TFA_CHALLENGE_TRY,
	STMT_TFA_CHALLENGE_USE,
	STMT_PRUNE_CHALLENGES,	/* quirectl prune */
	STMT_ROTATE_SECRETS,	/* quirectl rotate-secret-key */
	STMT_ROTATE_SET,
	/* quirectl only */
	STMT_MIG_LOCK,
	STMT_MIG_TABLE,
	STMT_MIG_APPLIED,
	STMT_MIG_RECORD,
	STMT_MIG_VERSIONS,
	STMT_ADMIN_USER_INSERT,
	STMT_ADMIN_ACCOUNT_UPSERT,
	STMT_ADMIN_USERS_LOCK,
	STMT_ADMIN_USER_EMAILS,
	STMT_ADMIN_EMAIL_LOWER_DROP,
	STMT_ADMIN_USER_SET_EMAIL,
	STMT_ADMIN_QUIET,
	/* quirectl mail-worker (mailworker.c) */
	STMT_MAIL_SESSION,
	STMT_MAIL_CLAIM,
	STMT_MAIL_SENT,
	STMT_MAIL_RETRY,
	STMT_MAIL_FAIL,
	STMT_MAIL_NEXT_DUE,
	/* quirectl import-better-auth (ctl_import.c); PENDING is the login's */
	STMT_IMPORT_PENDING,
	STMT_IMPORT_SRC_READONLY,
	STMT_IMPORT_SRC_BEGIN,
	STMT_IMPORT_SRC_SETUP,
	STMT_IMPORT_SRC_COLUMNS,
	STMT_IMPORT_SRC_USERS,
	STMT_IMPORT_SRC_ACCOUNTS,
	STMT_IMPORT_SRC_POSTS_OPEN,
	STMT_IMPORT_SRC_POSTS_FETCH,
	STMT_IMPORT_SRC_COUNT,
	STMT_IMPORT_TRY_LOCK,
	STMT_IMPORT_USERS_LOCK,
	STMT_IMPORT_MAP_USERS,
	STMT_IMPORT_EMAILS_TAKEN,
	STMT_IMPORT_USER_IDS_TAKEN,
	STMT_IMPORT_POST_IDS_TAKEN,
	STMT_IMPORT_POSTS_KNOWN,
	STMT_IMPORT_COPY_USERS,
	STMT_IMPORT_COPY_ACCOUNTS,
	STMT_IMPORT_COPY_POSTS,
	STMT_IMPORT_COPY_MAP,
	STMT__MAX
};

#define STMT_READ	0x01	/* may run on a replica */
#define STMT_WRITE	0x02	/* changes data: primary only, counts as a write */
#define STMT_ADMIN	0x04	/* quirectl only: workers do not prepare it */
#define STMT_PLAIN	0x08	/* transaction control: sent as simple query */
/*
 * With STMT_WRITE: bookkeeping the caller never reads back (a session's
 * lastUsedAt), so it gives the answer no read position: a GET that
 * happens to refresh it stays a read for read-your-writes.
 */
#define STMT_QUIET	0x10

/* A statement with neither READ nor WRITE runs on the primary and changes nothing. */

struct stmt_def {
	const char	*name;		/* prepared statement name */
	const char	*sql;
	int		 nparams;
	unsigned int	 flags;
};

extern const struct stmt_def stmt_defs[STMT__MAX];

/* A session setting every connection gets (SET name = 'value'). */
struct stmt_setting {
	const char	*name;
	const char	*value;
};

/* The fixed session settings; ends with a NULL name. */
extern const struct stmt_setting stmt_settings[];

/*
 * The SET statements a worker's connection starts with: stmt_settings,
 * then the statement and lock timeouts (timeout_ms; 0: none) and the
 * idle-in-transaction timeout (twice that), into buf (sz bytes). Returns
 * 0, or -1 when it does not fit.
 */
int	stmt_session_sql(char *buf, size_t sz, long timeout_ms);

#endif
