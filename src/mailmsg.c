/*
 * RFC 5322 messages from outbox rows: headers, encoded words and the
 * quoted-printable body.
 */
#include "config.h"

#include <arpa/inet.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "mailmsg.h"
#include "utf8.h"

/* A cleaned name or subject longer than this is refused, not cut. */
#define TEXT_MAX	16384
/* A word of an ASCII subject longer than this is sent encoded instead. */
#define WORD_MAX	900
/*
 * Bytes of text per encoded word: "=?UTF-8?B?" + 40 base64 + "?=" is 52
 * columns, so "Subject: " and one word stay well under MAILMSG_LINE and
 * each word is far under RFC 2047's 75.
 */
#define EW_BYTES	30
#define MSGID_MAX	250

/* A header being written: the column, and whether a word is on the line. */
struct hdr {
	struct buf	*b;
	size_t		 col;
	int		 words;	/* words on the current line */
};

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
is_atext(unsigned char c)
{

	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' &&
	    strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static int
is_ldh(unsigned char c)
{

	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/* A domain literal: [IPv4] or [IPv6:...]. */
static int
literal_ok(const char *d, size_t n)
{
	unsigned char	 a[16];
	char		 ip[64];

	if (n < 3 || d[0] != '[' || d[n - 1] != ']' || n - 2 >= sizeof(ip))
		return 0;
	memcpy(ip, d + 1, n - 2);
	ip[n - 2] = '\0';
	if (strncmp(ip, "IPv6:", 5) == 0)
		return inet_pton(AF_INET6, ip + 5, a) == 1;
	return inet_pton(AF_INET, ip, a) == 1;
}

int
mailmsg_addr_ok(const char *s)
{
	const char	*at, *d;
	size_t		 n, i, local, label, labels;

	n = strlen(s);
	if (n < 3 || n > MAILMSG_ADDR_MAX || (at = strchr(s, '@')) == NULL)
		return 0;
	local = (size_t)(at - s);
	if (local == 0 || local > 64 || s[0] == '.' || s[local - 1] == '.')
		return 0;
	for (i = 0; i < local; i++) {
		if (s[i] == '.' && s[i + 1] == '.')
			return 0;
		if (s[i] != '.' && !is_atext((unsigned char)s[i]))
			return 0;
	}
	d = at + 1;
	n -= local + 1;
	if (n > 0 && d[0] == '[')
		return literal_ok(d, n);
	/* Letter-digit-hyphen labels of 1-63, no hyphen at either end. */
	label = labels = 0;
	for (i = 0; i <= n; i++) {
		if (i == n || d[i] == '.') {
			if (label == 0 || label > 63 || d[i - label] == '-' ||
			    d[i - 1] == '-')
				return 0;
			labels++;
			label = 0;
		} else if (is_ldh((unsigned char)d[i]))
			label++;
		else
			return 0;
	}
	return labels >= 2;
}

/* "<left@right>": printable ASCII, no blanks, no angle brackets inside. */
static int
msgid_ok(const char *s)
{
	size_t	 n, i, at;

	n = strlen(s);
	if (n < 5 || n > MSGID_MAX || s[0] != '<' || s[n - 1] != '>')
		return 0;
	at = 0;
	for (i = 1; i < n - 1; i++) {
		if (s[i] <= ' ' || s[i] >= 0x7f || s[i] == '<' || s[i] == '>')
			return 0;
		if (s[i] == '@') {
			if (at != 0)
				return 0;
			at = i;
		}
	}
	return at > 1 && at < n - 2;
}

/* s[0..n) without leading and trailing blanks. */
static void
trim(const char **s, size_t *n)
{

	while (*n > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*n)--;
	}
	while (*n > 0 && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
		(*n)--;
}

enum qerr
mailmsg_from(const char *from, char *addr, size_t addrsz, char *name,
    size_t namesz)
{
	const char	*s, *lt, *a, *nm;
	size_t		 n, an, nn, i, o;

	s = from;
	n = strlen(from);
	trim(&s, &n);
	name[0] = '\0';
	nn = 0;
	nm = s;
	a = s;
	an = n;
	if (n > 0 && s[n - 1] == '>') {
		for (lt = s + n - 1; lt > s && *lt != '<'; lt--)
			continue;
		if (*lt != '<')
			return QERR_INVAL;
		a = lt + 1;
		an = (size_t)(s + n - 1 - a);
		nn = (size_t)(lt - s);
		trim(&nm, &nn);
	}
	if (an + 1 > addrsz || nn + 1 > namesz)
		return QERR_INVAL;
	memcpy(addr, a, an);
	addr[an] = '\0';
	if (!mailmsg_addr_ok(addr))
		return QERR_INVAL;
	/* A quoted name loses its quotes and escapes. */
	if (nn >= 2 && nm[0] == '"' && nm[nn - 1] == '"') {
		for (i = 1, o = 0; i < nn - 1; i++) {
			if (nm[i] == '\\' && i + 1 < nn - 1)
				i++;
			name[o++] = nm[i];
		}
		name[o] = '\0';
	} else {
		memcpy(name, nm, nn);
		name[nn] = '\0';
	}
	return QERR_OK;
}

void
mailmsg_date(char out[MAILMSG_DATE_LEN], long long t)
{
	static const char *const days[7] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char *const months[12] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
	};
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	/* strftime's names follow the locale; RFC 5322's are English. */
	if (gmtime_r(&tt, &tm) == NULL) {
		tt = 0;
		(void)gmtime_r(&tt, &tm);
	}
	snprintf(out, MAILMSG_DATE_LEN, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/*
 * s as one line of well-formed UTF-8 into out: every control character
 * (C0, DEL, C1) and the Unicode line and paragraph separators become a
 * space, each invalid byte U+FFFD; blanks at either end go. This is what
 * keeps a CR or LF in a row from ever starting a header of its own.
 */
static void
clean_text(struct buf *out, const char *s)
{
	const unsigned char	*p;
	size_t			 n, k, i;

	n = strlen(s);
	for (i = 0; i < n; i += k) {
		p = (const unsigned char *)s + i;
		if (*p < 0x80) {
			k = 1;
			buf_putc(out, *p < 0x20 || *p == 0x7f ? ' ' : (char)*p);
		} else if ((k = utf8_seq(s + i, n - i)) == 0) {
			k = 1;
			buf_puts(out, UTF8_REPLACEMENT);
		} else if ((k == 2 && p[0] == 0xc2 && p[1] < 0xa0) ||
		    (k == 3 && p[0] == 0xe2 && p[1] == 0x80 &&
		    (p[2] == 0xa8 || p[2] == 0xa9)))
			buf_putc(out, ' ');
		else
			buf_append(out, p, k);
	}
	if (buf_err(out) != QERR_OK || out->len == 0)
		return;
	for (i = 0; i < out->len && out->p[i] == ' '; i++)
		continue;
	memmove(out->p, out->p + i, out->len - i);
	buf_truncate(out, out->len - i);
	while (out->len > 0 && out->p[out->len - 1] == ' ')
		buf_truncate(out, out->len - 1);
}

static int
is_ascii(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

static void
hdr_begin(struct hdr *h, struct buf *b, const char *name)
{

	h->b = b;
	buf_puts(b, name);
	buf_putc(b, ':');
	h->col = strlen(name) + 1;
	h->words = 0;
}

/*
 * Writes the blanks sp[0..nsp) (at least one) and the word w[0..n), or
 * first folds, CRLF before the blanks, when the word would pass
 * MAILMSG_LINE and the line already has a word. Unfolding (removing the
 * CRLF) gives back exactly the blanks and the word.
 */
static void
hdr_word(struct hdr *h, const char *sp, size_t nsp, const char *w, size_t n)
{

	if (h->words > 0 && h->col + nsp + n > MAILMSG_LINE) {
		buf_puts(h->b, "\r\n");
		h->col = 0;
		h->words = 0;
	}
	buf_append(h->b, sp, nsp);
	buf_append(h->b, w, n);
	h->col += nsp + n;
	h->words++;
}

static void
hdr_end(struct hdr *h)
{

	buf_puts(h->b, "\r\n");
}

/* s[0..n) as "=?UTF-8?B?...?=" words of at most EW_BYTES bytes each. */
static void
hdr_encoded(struct hdr *h, const char *s, size_t n)
{
	const unsigned char	*p;
	char			 w[16 + (EW_BYTES + 2) / 3 * 4];
	size_t			 i, len, k, o, j;
	unsigned long		 v;

	for (i = 0; i < n; i += len) {
		/* Whole characters only: each word must decode on its own. */
		for (len = 0; i + len < n; len += k) {
			if ((k = utf8_seq(s + i + len, n - i - len)) == 0)
				k = 1;
			if (len + k > EW_BYTES && len > 0)
				break;
		}
		memcpy(w, "=?UTF-8?B?", 10);
		o = 10;
		p = (const unsigned char *)s + i;
		for (j = 0; j < len; j += 3) {
			v = (unsigned long)p[j] << 16;
			if (j + 1 < len)
				v |= (unsigned long)p[j + 1] << 8;
			if (j + 2 < len)
				v |= p[j + 2];
			w[o++] = b64[v >> 18 & 63];
			w[o++] = b64[v >> 12 & 63];
			w[o++] = j + 1 < len ? b64[v >> 6 & 63] : '=';
			w[o++] = j + 2 < len ? b64[v & 63] : '=';
		}
		w[o++] = '?';
		w[o++] = '=';
		hdr_word(h, " ", 1, w, o);
	}
}

/*
 * A display name (cleaned) as a phrase: a quoted string when it is ASCII
 * and short enough for one line, encoded words otherwise.
 */
static void
hdr_phrase(struct hdr *h, const char *s, size_t n)
{
	struct buf	 q;
	size_t		 i;

	if (!is_ascii(s, n) || n > MAILMSG_LINE - 20) {
		hdr_encoded(h, s, n);
		return;
	}
	buf_init(&q, 2 * n + 3);
	buf_putc(&q, '"');
	for (i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_putc(&q, '\\');
		buf_putc(&q, s[i]);
	}
	buf_putc(&q, '"');
	if (buf_err(&q) == QERR_OK)
		hdr_word(h, " ", 1, q.p, q.len);
	else
		h->b->err = buf_err(&q);
	buf_free(&q);
}

/* An address header: the phrase of name (raw, cleaned here) and <addr>. */
static enum qerr
hdr_mailbox(struct buf *b, const char *field, const char *name,
    const char *addr, struct buf *tmp)
{
	struct hdr	 h;
	char		 a[MAILMSG_ADDR_MAX + 3];
	int		 n;

	buf_reset(tmp);
	clean_text(tmp, name);
	if (buf_err(tmp) != QERR_OK)
		return QERR_INVAL;
	hdr_begin(&h, b, field);
	if (tmp->len == 0) {
		hdr_word(&h, " ", 1, addr, strlen(addr));
	} else {
		hdr_phrase(&h, tmp->p, tmp->len);
		n = snprintf(a, sizeof(a), "<%s>", addr);
		hdr_word(&h, " ", 1, a, (size_t)n);
	}
	hdr_end(&h);
	return QERR_OK;
}

/*
 * Subject: ASCII as its words, folded at its blanks; anything beyond
 * ASCII, a word too long to fold, or text that could read as an encoded
 * word ("=?") as encoded words.
 */
static enum qerr
hdr_subject(struct buf *b, const char *subject, struct buf *tmp)
{
	struct hdr	 h;
	const char	*s;
	size_t		 n, i, sp, w;

	buf_reset(tmp);
	clean_text(tmp, subject);
	if (buf_err(tmp) != QERR_OK)
		return QERR_INVAL;
	s = tmp->p != NULL ? tmp->p : "";
	n = tmp->len;
	hdr_begin(&h, b, "Subject");
	for (i = w = 0; i < n && w <= WORD_MAX; i++)
		w = s[i] == ' ' ? 0 : w + 1;
	if (!is_ascii(s, n) || strstr(s, "=?") != NULL || w > WORD_MAX) {
		hdr_encoded(&h, s, n);
		hdr_end(&h);
		return QERR_OK;
	}
	/* Each word with the blanks before it; the text is trimmed. */
	for (i = 0; i < n; ) {
		for (sp = i; i < n && s[i] == ' '; i++)
			continue;
		for (w = i; i < n && s[i] != ' '; i++)
			continue;
		if (sp == 0)
			hdr_word(&h, " ", 1, s, i);
		else
			hdr_word(&h, s + sp, w - sp, s + w, i - w);
	}
	hdr_end(&h);
	return QERR_OK;
}

/* Whether the byte at s[k], which would start a line, needs encoding. */
static int
line_start_special(const char *s, size_t k, size_t lend)
{

	if (s[k] == '.')
		return 1;
	return s[k] == 'F' && lend - k >= 5 && memcmp(s + k, "From ", 5) == 0;
}

void
mailmsg_qp(struct buf *b, const char *s, size_t n)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 i, end, lend, k, col, clen;
	unsigned char		 c;
	char			 chunk[3];
	int			 last, lit;

	for (i = 0; i < n; i = end + 1) {
		for (end = i; end < n && s[end] != '\n'; end++)
			continue;
		lend = end;
		if (lend > i && s[lend - 1] == '\r')
			lend--;
		col = 0;
		for (k = i; k < lend; k++) {
			c = (unsigned char)s[k];
			last = k + 1 == lend;
			lit = (c >= 33 && c <= 126 && c != '=') ||
			    ((c == ' ' || c == '\t') && !last);
			clen = lit && !(col == 0 &&
			    line_start_special(s, k, lend)) ? 1 : 3;
			/* The last chunk may reach 76; others leave room for '='. */
			if (col + clen > (last ? MAILMSG_QP_LINE :
			    MAILMSG_QP_LINE - 1)) {
				buf_puts(b, "=\r\n");
				col = 0;
				clen = lit && !line_start_special(s, k, lend) ?
				    1 : 3;
			}
			if (clen == 1)
				buf_putc(b, (char)c);
			else {
				chunk[0] = '=';
				chunk[1] = hex[c >> 4];
				chunk[2] = hex[c & 15];
				buf_append(b, chunk, 3);
			}
			col += clen;
		}
		buf_puts(b, "\r\n");
	}
}

enum qerr
mailmsg_render(struct buf *b, const struct mailmsg *m, const char **why)
{
	struct buf	 tmp;
	struct hdr	 h;
	char		 date[MAILMSG_DATE_LEN];
	enum qerr	 e;

	*why = NULL;
	if (!mailmsg_addr_ok(m->to)) {
		*why = "recipient is not a plain address (addr-spec)";
		return QERR_INVAL;
	}
	if (!mailmsg_addr_ok(m->from_addr)) {
		*why = "sender is not a plain address (QUIRE_MAIL_FROM)";
		return QERR_INVAL;
	}
	if (!msgid_ok(m->message_id)) {
		*why = "message_id is not <left@right>";
		return QERR_INVAL;
	}
	buf_init(&tmp, TEXT_MAX);
	mailmsg_date(date, m->date);
	hdr_begin(&h, b, "Date");
	hdr_word(&h, " ", 1, date, strlen(date));
	hdr_end(&h);
	if ((e = hdr_mailbox(b, "From", m->from_name, m->from_addr,
	    &tmp)) != QERR_OK ||
	    (e = hdr_mailbox(b, "To", m->to_name, m->to, &tmp)) != QERR_OK) {
		*why = "display name too long";
		goto out;
	}
	if ((e = hdr_subject(b, m->subject, &tmp)) != QERR_OK) {
		*why = "subject too long";
		goto out;
	}
	buf_puts(b, "Message-ID: ");
	buf_puts(b, m->message_id);
	buf_puts(b, "\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: quoted-printable\r\n"
	    /* RFC 3834: no vacation replies to a machine's mail. */
	    "Auto-Submitted: auto-generated\r\n"
	    "\r\n");
	mailmsg_qp(b, m->body, m->body_len);
	e = buf_err(b);
out:
	buf_free(&tmp);
	return e;
}
