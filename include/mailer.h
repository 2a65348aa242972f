/*
 * Sends rendered messages (mailmsg.h): SMTP through libcurl, or a
 * directory of .eml files for development. One mailer keeps one curl
 * handle, so consecutive sends reuse one SMTP connection until
 * mailer_close. Only quirectl links this (and libcurl); the server
 * never talks to a mail server.
 *
 * QUIRE_MAIL_URL forms:
 *   smtp://[user:password@]host[:port][/ehlo-name]   STARTTLS when offered
 *   smtp://...?tls=required                          STARTTLS or nothing
 *   smtps://[user:password@]host[:port]              TLS from the start
 *   file:/dir  (or file:///dir)                      one .eml per message
 * user and password are percent-decoded. A CA file for the server's
 * certificate (a private CA, a test's self-signed one) is a separate
 * setting, QUIRE_MAIL_CA_FILE, passed as cafile; otherwise the system's
 * CA store is used. Certificates are always verified.
 */
#ifndef QUIRE_MAILER_H
#define QUIRE_MAILER_H

#include <stddef.h>

#define MAILER_ERR_MAX	256

enum mailer_status {
	MAILER_SENT,		/* the server answered 250 to the message */
	MAILER_TEMP,		/* try again later: 4xx, unreachable, TLS, auth */
	MAILER_PERM,		/* the server refused it for good: 5xx */
	MAILER__MAX
};

struct mailer_result {
	enum mailer_status	 status;
	int			 code;	/* 250 when sent; else the refusal; 0: none */
	/*
	 * 1 when the failure is the server's or the connection's, not this
	 * message's (unreachable, TLS, authentication, 421, a full disk):
	 * the next message would fail the same way now.
	 */
	int			 transport;
	/*
	 * What went wrong, for last_error and the log: curl's text and the
	 * server's reply code and enhanced status code, never the server's
	 * free text (it may quote the address), the message or the
	 * password. "" when sent.
	 */
	char			 error[MAILER_ERR_MAX];
};

struct mailer;

/*
 * Parses url and makes a mailer; a file: directory is created when
 * missing (its parent must exist). cafile may be NULL or "". Returns
 * NULL with a message in err (which never holds the password) on a bad
 * URL, an unusable directory or no memory. The caller frees it.
 */
struct mailer	*mailer_new(const char *url, const char *cafile, char *err,
		    size_t errsz);

/* The transport without credentials: "smtp://host:25" or "file:/dir". */
const char	*mailer_describe(const struct mailer *);

/* 1 when user:password was given and the connection may go in clear. */
int		 mailer_auth_in_clear(const struct mailer *);

/*
 * Sends msg[0..len) from from to to (both plain addresses); message_id
 * names the file: transport's file, so a resend overwrites it. The
 * outcome is in *res.
 */
void		 mailer_send(struct mailer *, const char *from, const char *to,
		    const char *message_id, const char *msg, size_t len,
		    struct mailer_result *res);

/* Ends the SMTP connection (QUIT) if one is open; the next send opens one. */
void		 mailer_close(struct mailer *);

void		 mailer_free(struct mailer *);

#endif
