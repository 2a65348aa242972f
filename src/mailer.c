/*
 * The mail transports: SMTP over libcurl, and .eml files.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "mailer.h"
#include "mem.h"

#define CONNECT_TIMEOUT_MS	10000L
/* A whole message, connection included; ours are a few KiB. */
#define SEND_TIMEOUT_MS		60000L
#define REPLY_MAX		64

enum mailer_kind {
	MAILER_SMTP,
	MAILER_FILE
};

struct mailer {
	enum mailer_kind	 kind;
	char			*url;		/* no credentials, no query */
	char			*dir;		/* file: */
	char			*user;
	char			*password;
	char			*cafile;
	long			 use_ssl;	/* CURLUSESSL_* */
	int			 implicit_tls;	/* smtps */
	CURL			*h;		/* one connection per batch */
	char			 errbuf[CURL_ERROR_SIZE];
	char			 reply[REPLY_MAX];	/* the last refusal */
	int			 mail_sent;	/* MAIL FROM went out */
	/* The message being read by curl. */
	const char		*msg;
	size_t			 len;
	size_t			 off;
};

static int	 curl_ready;

static size_t
read_cb(char *out, size_t size, size_t nitems, void *arg)
{
	struct mailer	*m = arg;
	size_t		 n;

	n = size * nitems;
	if (n > m->len - m->off)
		n = m->len - m->off;
	memcpy(out, m->msg + m->off, n);
	m->off += n;
	return n;
}

/*
 * Keeps the server's last refusal (a 4xx or 5xx reply line): its code
 * and, when there is one, the enhanced status code ("550 5.1.1"),
 * nothing after them (the free text may name the recipient). Later
 * replies, such as QUIT's 221 when curl closes after the refusal, do not
 * replace it.
 */
static int
debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	struct mailer	*m = arg;
	size_t		 i, n;

	(void)h;
	/* Our commands: only whether MAIL FROM went (never keep AUTH's). */
	if (type == CURLINFO_HEADER_OUT) {
		if (size >= 10 && strncmp(data, "MAIL FROM:", 10) == 0)
			m->mail_sent = 1;
		return 0;
	}
	if (type != CURLINFO_HEADER_IN || size < 3 || data[0] < '4' ||
	    data[0] > '5')
		return 0;
	for (i = 1; i < 3; i++)
		if (data[i] < '0' || data[i] > '9')
			return 0;
	n = 3;
	/* "550-" or "550 ", then maybe "5.1.1". */
	if (size > 4 && (data[3] == ' ' || data[3] == '-') &&
	    data[4] >= '2' && data[4] <= '5' && size > 5 && data[5] == '.') {
		for (i = 4; i < size && i < 4 + 16 &&
		    ((data[i] >= '0' && data[i] <= '9') || data[i] == '.'); i++)
			continue;
		n = i;
	}
	memcpy(m->reply, data, n);
	m->reply[n] = '\0';
	if (n > 3)
		m->reply[3] = ' ';
	return 0;
}

static char *
dup_or_null(const char *s)
{

	return s != NULL && *s != '\0' ? mem_strdup(s) : NULL;
}

/* The query: only tls=required is known. Returns 0, or -1 with err. */
static int
parse_query(struct mailer *m, const char *q, char *err, size_t errsz)
{
	const char	*p, *amp, *eq;
	size_t		 kl, vl;

	for (p = q; p != NULL && *p != '\0'; p = amp != NULL ? amp + 1 : NULL) {
		amp = strchr(p, '&');
		kl = amp != NULL ? (size_t)(amp - p) : strlen(p);
		eq = memchr(p, '=', kl);
		vl = eq != NULL ? kl - (size_t)(eq - p) - 1 : 0;
		if (eq != NULL && (size_t)(eq - p) == 3 &&
		    strncmp(p, "tls", 3) == 0 && vl == 8 &&
		    strncmp(eq + 1, "required", 8) == 0) {
			m->use_ssl = (long)CURLUSESSL_ALL;
			continue;
		}
		/* The name only: a value might be anything. */
		if (eq != NULL)
			kl = (size_t)(eq - p);
		snprintf(err, errsz, "QUIRE_MAIL_URL: unknown parameter "
		    "\"%.*s\" (only tls=required)", kl > 32 ? 32 : (int)kl, p);
		return -1;
	}
	return 0;
}

/* file:/dir or file:///dir: the directory, made if missing. */
static int
parse_file(struct mailer *m, const char *url, char *err, size_t errsz)
{
	const char	*p = url + 5;
	struct stat	 st;

	if (strncmp(p, "//", 2) == 0)
		p += 2;
	if (*p != '/') {
		snprintf(err, errsz, "QUIRE_MAIL_URL: file: needs an absolute "
		    "directory (file:/dir)");
		return -1;
	}
	if ((m->dir = mem_strdup(p)) == NULL ||
	    (m->url = mem_malloc(strlen(p) + 6)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	snprintf(m->url, strlen(p) + 6, "file:%s", p);
	if (mkdir(p, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errsz, "QUIRE_MAIL_URL: cannot make %s: %s", p,
		    strerror(errno));
		return -1;
	}
	if (stat(p, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    access(p, W_OK) == -1) {
		snprintf(err, errsz, "QUIRE_MAIL_URL: %s is not a writable "
		    "directory", p);
		return -1;
	}
	return 0;
}

static int
parse_smtp(struct mailer *m, const char *url, char *err, size_t errsz)
{
	CURLU		*u;
	CURLUcode	 uc;
	char		*s, *q;
	int		 rc;

	rc = -1;
	q = s = NULL;
	if ((u = curl_url()) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	/* curl's message names the problem, never the URL itself. */
	if ((uc = curl_url_set(u, CURLUPART_URL, url, 0)) != CURLUE_OK) {
		snprintf(err, errsz, "QUIRE_MAIL_URL is not a valid URL: %s",
		    curl_url_strerror(uc));
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &s, 0) != CURLUE_OK ||
	    *s == '\0') {
		snprintf(err, errsz, "QUIRE_MAIL_URL has no host");
		goto out;
	}
	curl_free(s);
	s = NULL;
	if (curl_url_get(u, CURLUPART_USER, &s, CURLU_URLDECODE) == CURLUE_OK)
		m->user = dup_or_null(s);
	curl_free(s);
	s = NULL;
	if (curl_url_get(u, CURLUPART_PASSWORD, &s, CURLU_URLDECODE) ==
	    CURLUE_OK)
		m->password = dup_or_null(s);
	if (s != NULL)
		memset(s, 0, strlen(s));
	curl_free(s);
	s = NULL;
	if (curl_url_get(u, CURLUPART_QUERY, &q, 0) == CURLUE_OK &&
	    parse_query(m, q, err, errsz) == -1)
		goto out;
	/* curl gets the URL without the credentials, so no error quotes them. */
	if (curl_url_set(u, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK ||
	    curl_url_set(u, CURLUPART_QUERY, NULL, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &s, 0) != CURLUE_OK ||
	    (m->url = mem_strdup(s)) == NULL) {
		snprintf(err, errsz, "out of memory");
		goto out;
	}
	rc = 0;
out:
	curl_free(s);
	curl_free(q);
	curl_url_cleanup(u);
	return rc;
}

struct mailer *
mailer_new(const char *url, const char *cafile, char *err, size_t errsz)
{
	struct mailer	*m;
	int		 rc;

	if (url == NULL || *url == '\0') {
		snprintf(err, errsz, "QUIRE_MAIL_URL is not set");
		return NULL;
	}
	if ((m = mem_calloc(1, sizeof(*m))) == NULL) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	m->use_ssl = (long)CURLUSESSL_TRY;
	if (strncmp(url, "file:", 5) == 0) {
		m->kind = MAILER_FILE;
		rc = parse_file(m, url, err, errsz);
	} else if (strncmp(url, "smtp://", 7) == 0 ||
	    strncmp(url, "smtps://", 8) == 0) {
		m->kind = MAILER_SMTP;
		m->implicit_tls = url[4] == 's';
		if (m->implicit_tls)
			m->use_ssl = (long)CURLUSESSL_ALL;
		if (!curl_ready) {
			if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
				snprintf(err, errsz, "curl_global_init failed");
				mailer_free(m);
				return NULL;
			}
			curl_ready = 1;
		}
		rc = parse_smtp(m, url, err, errsz);
		if (rc == 0 && cafile != NULL && *cafile != '\0') {
			if (access(cafile, R_OK) == -1) {
				snprintf(err, errsz, "QUIRE_MAIL_CA_FILE %s: %s",
				    cafile, strerror(errno));
				rc = -1;
			} else if ((m->cafile = mem_strdup(cafile)) == NULL) {
				snprintf(err, errsz, "out of memory");
				rc = -1;
			}
		}
	} else {
		snprintf(err, errsz, "QUIRE_MAIL_URL must start with smtp://, "
		    "smtps:// or file:");
		rc = -1;
	}
	if (rc == -1) {
		mailer_free(m);
		return NULL;
	}
	return m;
}

const char *
mailer_describe(const struct mailer *m)
{

	return m->url;
}

int
mailer_auth_in_clear(const struct mailer *m)
{

	return m->kind == MAILER_SMTP && m->user != NULL &&
	    m->use_ssl != (long)CURLUSESSL_ALL;
}

/* The handle with everything but the message's own options. */
static CURL *
handle(struct mailer *m)
{
	CURL	*h;

	if (m->h != NULL)
		return m->h;
	if ((h = curl_easy_init()) == NULL)
		return NULL;
	curl_easy_setopt(h, CURLOPT_URL, m->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(h, CURLOPT_USE_SSL, m->use_ssl);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (m->cafile != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, m->cafile);
	if (m->user != NULL)
		curl_easy_setopt(h, CURLOPT_USERNAME, m->user);
	if (m->password != NULL)
		curl_easy_setopt(h, CURLOPT_PASSWORD, m->password);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, SEND_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(h, CURLOPT_READDATA, m);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, m->errbuf);
	/* Only for the server's replies (debug_cb); nothing is printed. */
	curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
	curl_easy_setopt(h, CURLOPT_DEBUGDATA, m);
	curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	m->h = h;
	return h;
}

/* 1 for curl results that are about the server or the connection. */
static int
transport_error(CURLcode rc, long code)
{

	if (code == 421)
		return 1;
	return rc != CURLE_SEND_ERROR && rc != CURLE_WEIRD_SERVER_REPLY;
}

static void
smtp_send(struct mailer *m, const char *from, const char *to,
    const char *msg, size_t len, struct mailer_result *res)
{
	struct curl_slist	*rcpt;
	CURL			*h;
	CURLcode		 rc;
	char			 addr[300];
	long			 code;
	size_t			 n;

	if ((h = handle(m)) == NULL) {
		res->status = MAILER_TEMP;
		res->transport = 1;
		snprintf(res->error, sizeof(res->error), "curl_easy_init failed");
		return;
	}
	snprintf(addr, sizeof(addr), "<%s>", to);
	if ((rcpt = curl_slist_append(NULL, addr)) == NULL) {
		res->status = MAILER_TEMP;
		res->transport = 1;
		snprintf(res->error, sizeof(res->error), "out of memory");
		return;
	}
	snprintf(addr, sizeof(addr), "<%s>", from);
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, addr);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	m->msg = msg;
	m->len = len;
	m->off = 0;
	m->errbuf[0] = '\0';
	m->reply[0] = '\0';
	m->mail_sent = 0;
	rc = curl_easy_perform(h);
	code = 0;
	(void)curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(rcpt);
	if (rc == CURLE_OK) {
		res->status = MAILER_SENT;
		res->code = (int)code;
		return;
	}
	/* The refusal, not a later reply (code may be QUIT's 221). */
	if (m->reply[0] != '\0')
		code = strtol(m->reply, NULL, 10);
	else if (code < 400)
		code = 0;
	res->code = (int)code;
	/*
	 * 5xx from MAIL FROM on is the server's final word on this message;
	 * everything else may pass later. Before MAIL FROM (the greeting,
	 * EHLO, STARTTLS, a refused login) it is about the server or our
	 * configuration, which an operator fixes, not a reason to drop mail.
	 */
	if (!m->mail_sent) {
		res->status = MAILER_TEMP;
		res->transport = 1;
	} else {
		res->status = code >= 500 && code < 600 ? MAILER_PERM :
		    MAILER_TEMP;
		res->transport = res->status == MAILER_TEMP &&
		    transport_error(rc, code);
	}
	n = (size_t)snprintf(res->error, sizeof(res->error), "%s",
	    m->errbuf[0] != '\0' ? m->errbuf : curl_easy_strerror(rc));
	if (n < sizeof(res->error) && m->reply[0] != '\0')
		snprintf(res->error + n, sizeof(res->error) - n,
		    " (server: %s)", m->reply);
	/* After a failure the session's state is unsure: start afresh. */
	mailer_close(m);
}

/*
 * file: the message id as a file name: the characters that are safe in
 * one, '_' for the others.
 */
static void
file_name(char *out, size_t sz, const char *id)
{
	size_t	 o;
	char	 c;

	for (o = 0; *id != '\0' && o + 5 < sz; id++) {
		c = *id;
		if (c == '<' || c == '>')
			continue;
		out[o++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		    c == '@' ? c : '_';
	}
	if (o == 0 || out[0] == '.')
		out[o++] = 'm';
	memcpy(out + o, ".eml", 5);
}

/*
 * Writes the message to a temporary file in the directory and renames it
 * into place, so a reader never sees half a message.
 */
static void
file_send(struct mailer *m, const char *message_id, const char *msg,
    size_t len, struct mailer_result *res)
{
	char		 name[300], path[4096], tmp[4096];
	const char	*what;
	ssize_t		 w;
	size_t		 off;
	int		 fd, e;

	file_name(name, sizeof(name), message_id);
	snprintf(path, sizeof(path), "%s/%s", m->dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.%ld.tmp", m->dir, name,
	    (long)getpid());
	what = "open";
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1)
		goto fail;
	what = "write";
	for (off = 0; off < len; off += (size_t)w)
		if ((w = write(fd, msg + off, len - off)) <= 0) {
			if (w == -1 && errno == EINTR) {
				w = 0;
				continue;
			}
			if (w == 0)
				errno = EIO;
			goto fail_close;
		}
	what = "fsync";
	if (fsync(fd) == -1)
		goto fail_close;
	what = "close";
	if (close(fd) == -1)
		goto fail_unlink;
	what = "rename";
	if (rename(tmp, path) == -1)
		goto fail_unlink;
	res->status = MAILER_SENT;
	return;
fail_close:
	e = errno;
	(void)close(fd);
	errno = e;
fail_unlink:
	e = errno;
	(void)unlink(tmp);
	errno = e;
fail:
	res->status = MAILER_TEMP;
	res->transport = 1;
	snprintf(res->error, sizeof(res->error), "%s %s: %s", what, m->dir,
	    strerror(errno));
}

void
mailer_send(struct mailer *m, const char *from, const char *to,
    const char *message_id, const char *msg, size_t len,
    struct mailer_result *res)
{

	memset(res, 0, sizeof(*res));
	if (m->kind == MAILER_FILE)
		file_send(m, message_id, msg, len, res);
	else
		smtp_send(m, from, to, msg, len, res);
}

void
mailer_close(struct mailer *m)
{

	if (m->h != NULL) {
		curl_easy_cleanup(m->h);
		m->h = NULL;
	}
}

void
mailer_free(struct mailer *m)
{

	if (m == NULL)
		return;
	mailer_close(m);
	mem_free(m->url);
	mem_free(m->dir);
	mem_free(m->user);
	if (m->password != NULL) {
		memset(m->password, 0, strlen(m->password));
		mem_free(m->password);
	}
	mem_free(m->cafile);
	mem_free(m);
	/* One mailer a process: curl's global state goes with it. */
	if (curl_ready) {
		curl_global_cleanup();
		curl_ready = 0;
	}
}
