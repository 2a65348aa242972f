/*
 * One outbox row as an RFC 5322 message: headers folded under 78
 * columns, RFC 2047 encoded words for text beyond ASCII, a
 * quoted-printable UTF-8 body, CRLF line ends. Pure functions: no I/O.
 * Nothing in a row is trusted: control characters in a name or subject
 * become spaces, so no value can start a header line of its own, and a
 * recipient that is not a plain address is refused.
 */
#ifndef QUIRE_MAILMSG_H
#define QUIRE_MAILMSG_H

#include <stddef.h>

#include "quire.h"

struct buf;

#define MAILMSG_ADDR_MAX	254	/* bytes of an address (RFC 5321) */
#define MAILMSG_NAME_MAX	512	/* bytes of a display name we keep */
#define MAILMSG_LINE		78	/* header lines are folded under this */
#define MAILMSG_QP_LINE		76	/* quoted-printable lines, '=' included */
#define MAILMSG_DATE_LEN	64	/* "Tue, 05 Mar 2024 10:00:00 +0000" and room */

struct mailmsg {
	const char	*message_id;	/* "<left@right>" as stored */
	long long	 date;		/* the Date header, seconds since the epoch */
	const char	*from_addr;	/* the sender's address (mailmsg_from) */
	const char	*from_name;	/* its display name, "" for none */
	const char	*to;		/* the recipient's address */
	const char	*to_name;	/* any text, "" for none */
	const char	*subject;	/* any text */
	const char	*body;		/* UTF-8 text, LF or CRLF line ends */
	size_t		 body_len;
};

/*
 * 1 when s is an address we send to: a plain ASCII addr-spec, a dot-atom
 * local part of 1-64 bytes, '@', and a domain of letter-digit-hyphen
 * labels with at least one dot (or an IPv4/IPv6 literal in brackets), at
 * most MAILMSG_ADDR_MAX bytes. No quoted local parts, comments, blanks or
 * control characters; addresses beyond ASCII would need SMTPUTF8.
 */
int		 mailmsg_addr_ok(const char *s);

/*
 * Splits QUIRE_MAIL_FROM, "Name <addr>", "\"Name\" <addr>", "<addr>" or
 * a bare address, into addr (addrsz bytes) and name (namesz bytes, ""
 * when none; quotes and their backslash escapes removed). Returns
 * QERR_OK, or QERR_INVAL when the address is not mailmsg_addr_ok or a
 * part does not fit.
 */
enum qerr	 mailmsg_from(const char *from, char *addr, size_t addrsz,
		    char *name, size_t namesz) QUIRE_WUR;

/* The RFC 5322 date of t (UTC, "+0000") into out. */
void		 mailmsg_date(char out[MAILMSG_DATE_LEN], long long t);

/*
 * Appends s[0..n) to b as a quoted-printable body (RFC 2045): LF or CRLF
 * ends a line (a CRLF hard break), lines at most MAILMSG_QP_LINE columns
 * with '=' soft breaks, '=' and every byte outside printable ASCII
 * encoded, blanks encoded at a line's end, and a '.' or the 'F' of
 * "From " that would start a line encoded too, so no line of the body
 * can end an SMTP transfer or be mistaken for an mbox separator. Always
 * ends with CRLF.
 */
void		 mailmsg_qp(struct buf *b, const char *s, size_t n);

/*
 * Appends the whole message m to b. Returns QERR_OK; QERR_INVAL with
 * *why (a static string for last_error) when the recipient, the sender
 * or the Message-ID cannot be sent; QERR_NOMEM or QERR_TOOBIG when b
 * could not hold it (b's error).
 */
enum qerr	 mailmsg_render(struct buf *b, const struct mailmsg *m,
		    const char **why) QUIRE_WUR;

#endif
