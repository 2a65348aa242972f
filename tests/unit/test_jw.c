/*
 * Unit tests of the streaming JSON writer (src/jw.c): structure and
 * commas, string escaping, numbers, and that jansson reads back what it
 * wrote.
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#include <jansson.h>

#include "jw.h"
#include "tap.h"

/* Writer programs, one per table row. */
static void
b_empty_obj(struct jw *w)
{

	jw_obj(w);
	jw_obj_end(w);
}

static void
b_empty_arr(struct jw *w)
{

	jw_arr(w);
	jw_arr_end(w);
}

static void
b_obj3(struct jw *w)
{

	jw_obj(w);
	jw_key(w, "a");
	jw_int(w, 1);
	jw_key(w, "b");
	jw_str(w, "x");
	jw_key(w, "c");
	jw_bool(w, 0);
	jw_obj_end(w);
}

static void
b_arr_mixed(struct jw *w)
{

	jw_arr(w);
	jw_int(w, -5);
	jw_null(w);
	jw_bool(w, 1);
	jw_str(w, NULL);
	jw_str(w, "");
	jw_arr_end(w);
}

static void
b_nested(struct jw *w)
{

	jw_obj(w);
	jw_key(w, "a");
	jw_arr(w);
	jw_int(w, 1);
	jw_obj(w);
	jw_key(w, "b");
	jw_arr(w);
	jw_arr_end(w);
	jw_obj_end(w);
	jw_int(w, 2);
	jw_arr_end(w);
	jw_key(w, "c");
	jw_obj(w);
	jw_obj_end(w);
	jw_key(w, "d");
	jw_null(w);
	jw_obj_end(w);
}

static void
b_arr_of_arr(struct jw *w)
{

	jw_arr(w);
	jw_arr(w);
	jw_arr_end(w);
	jw_arr(w);
	jw_int(w, 1);
	jw_arr_end(w);
	jw_arr(w);
	jw_arr(w);
	jw_int(w, 2);
	jw_arr_end(w);
	jw_arr_end(w);
	jw_arr_end(w);
}

static void
b_obj_of_obj(struct jw *w)
{

	jw_obj(w);
	jw_key(w, "x");
	jw_obj(w);
	jw_key(w, "y");
	jw_obj(w);
	jw_obj_end(w);
	jw_obj_end(w);
	jw_key(w, "z");
	jw_obj(w);
	jw_key(w, "w");
	jw_int(w, 0);
	jw_obj_end(w);
	jw_obj_end(w);
}

static void
b_raw(struct jw *w)
{

	jw_arr(w);
	jw_raw(w, "{\"k\":[1]}", 9);
	jw_raw(w, "true", 4);
	jw_int(w, 3);
	jw_arr_end(w);
}

static void
b_obj_raw(struct jw *w)
{

	jw_obj(w);
	jw_key(w, "pre");
	jw_raw(w, "[1,2]", 5);
	jw_key(w, "n");
	jw_int(w, LLONG_MIN);
	jw_key(w, "m");
	jw_int(w, LLONG_MAX);
	jw_obj_end(w);
}

static void
b_escaped_key(struct jw *w)
{

	jw_obj(w);
	jw_key(w, "a\"b\\c\n");
	jw_strn(w, "abcdef", 3);
	jw_obj_end(w);
}

static void
b_doubles(struct jw *w)
{

	jw_arr(w);
	jw_double(w, NAN, 2);
	jw_double(w, INFINITY, 2);
	jw_double(w, -INFINITY, 2);
	jw_double(w, 1.5, 2);
	jw_double(w, 2.0, 0);
	jw_double(w, -0.125, 3);
	jw_double(w, 12.3456, 1);
	jw_arr_end(w);
}

static void
b_scalar_str(struct jw *w)
{

	jw_str(w, "top");
}

static void
b_scalar_int(struct jw *w)
{

	jw_int(w, 42);
}

static void
b_deep16(struct jw *w)
{
	int	 i;

	for (i = 0; i < JW_MAXDEPTH; i++)
		jw_arr(w);
	jw_int(w, 1);
	for (i = 0; i < JW_MAXDEPTH; i++)
		jw_arr_end(w);
}

static void
b_deep17(struct jw *w)
{
	int	 i;

	for (i = 0; i < JW_MAXDEPTH + 1; i++)
		jw_arr(w);
	for (i = 0; i < JW_MAXDEPTH + 1; i++)
		jw_arr_end(w);
}

static void
test_structure(void)
{
	static const struct {
		int		 line;
		void		(*build)(struct jw *);
		const char	*want;		/* NULL: must fail */
		enum qerr	 err;
	} rows[] = {
		{ __LINE__, b_empty_obj, "{}", QERR_OK },
		{ __LINE__, b_empty_arr, "[]", QERR_OK },
		{ __LINE__, b_obj3, "{\"a\":1,\"b\":\"x\",\"c\":false}", QERR_OK },
		{ __LINE__, b_arr_mixed, "[-5,null,true,null,\"\"]", QERR_OK },
		{ __LINE__, b_nested,
		    "{\"a\":[1,{\"b\":[]},2],\"c\":{},\"d\":null}", QERR_OK },
		{ __LINE__, b_arr_of_arr, "[[],[1],[[2]]]", QERR_OK },
		{ __LINE__, b_obj_of_obj,
		    "{\"x\":{\"y\":{}},\"z\":{\"w\":0}}", QERR_OK },
		{ __LINE__, b_raw, "[{\"k\":[1]},true,3]", QERR_OK },
		{ __LINE__, b_obj_raw, "{\"pre\":[1,2],"
		    "\"n\":-9223372036854775808,\"m\":9223372036854775807}",
		    QERR_OK },
		{ __LINE__, b_escaped_key, "{\"a\\\"b\\\\c\\n\":\"abc\"}",
		    QERR_OK },
		{ __LINE__, b_doubles,
		    "[null,null,null,1.50,2,-0.125,12.3]", QERR_OK },
		{ __LINE__, b_scalar_str, "\"top\"", QERR_OK },
		{ __LINE__, b_scalar_int, "42", QERR_OK },
		{ __LINE__, b_deep16, "[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]",
		    QERR_OK },
		{ __LINE__, b_deep17, NULL, QERR_TOOBIG },
	};
	struct buf	 b;
	struct jw	 w;
	json_t		*j;
	json_error_t	 jerr;
	size_t		 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		buf_init(&b, 4096);
		jw_init(&w, &b);
		rows[i].build(&w);
		tap_ok(buf_err(&b) == rows[i].err, rows[i].line,
		    "buffer error %d want %d", (int)buf_err(&b),
		    (int)rows[i].err);
		if (rows[i].want != NULL) {
			tap_ok(b.p != NULL && strcmp(b.p, rows[i].want) == 0,
			    rows[i].line, "got %s want %s",
			    b.p != NULL ? b.p : "(null)", rows[i].want);
			tap_ok(b.len == strlen(rows[i].want), rows[i].line,
			    "len %zu", b.len);
			j = json_loads(b.p != NULL ? b.p : "", JSON_DECODE_ANY,
			    &jerr);
			tap_ok(j != NULL, rows[i].line, "jansson parses it: %s",
			    j != NULL ? "yes" : jerr.text);
			json_decref(j);
		}
		buf_free(&b);
	}
}

/* A string through jw_escape: exact text, then back through jansson. */
static void
test_escape(void)
{
	static const struct {
		int		 line;
		const char	*in;
		size_t		 n;		/* 0: strlen(in) */
		const char	*want;		/* NULL: only round-trip */
	} rows[] = {
		{ __LINE__, "", 0, "\"\"" },
		{ __LINE__, "plain", 0, "\"plain\"" },
		{ __LINE__, "say \"hi\"", 0, "\"say \\\"hi\\\"\"" },
		{ __LINE__, "back\\slash", 0, "\"back\\\\slash\"" },
		{ __LINE__, "\\\"", 0, "\"\\\\\\\"\"" },
		{ __LINE__, "line\nbreak", 0, "\"line\\nbreak\"" },
		{ __LINE__, "tab\there", 0, "\"tab\\there\"" },
		{ __LINE__, "cr\rlf\n", 0, "\"cr\\rlf\\n\"" },
		{ __LINE__, "\x01", 0, "\"\\u0001\"" },
		{ __LINE__, "a\x1f" "b", 0, "\"a\\u001fb\"" },
		{ __LINE__, "\x1b[31m", 0, "\"\\u001b[31m\"" },
		{ __LINE__, "nul\0inside", 10, "\"nul\\u0000inside\"" },
		{ __LINE__, "\b\f", 0, NULL },		/* \u0008 or \b both fine */
		{ __LINE__, "\x7f", 0, "\"\x7f\"" },
		{ __LINE__, "/slash/", 0, "\"/slash/\"" },
		{ __LINE__, "caf\xc3\xa9", 0, "\"caf\xc3\xa9\"" },
		{ __LINE__, "\xf0\x9f\x98\x80 emoji", 0,
		    "\"\xf0\x9f\x98\x80 emoji\"" },
		{ __LINE__, "\xe2\x80\x8f" "rtl", 0, "\"\xe2\x80\x8f" "rtl\"" },
		{ __LINE__, "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", 0,
		    "\"\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d\"" },
		{ __LINE__, "ls\xe2\x80\xa8ps\xe2\x80\xa9", 0,
		    "\"ls\xe2\x80\xa8ps\xe2\x80\xa9\"" },
		{ __LINE__, "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb", 0,
		    "\"\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb\"" },
	};
	struct buf	 b;
	struct jw	 w;
	json_t		*j, *s;
	json_error_t	 jerr;
	size_t		 i, n;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		n = rows[i].n != 0 ? rows[i].n : strlen(rows[i].in);

		buf_init(&b, 4096);
		jw_escape(&b, rows[i].in, n);
		tap_ok(buf_err(&b) == QERR_OK, rows[i].line, "no error");
		if (rows[i].want != NULL)
			tap_ok(b.p != NULL && strcmp(b.p, rows[i].want) == 0,
			    rows[i].line, "escape got %s want %s",
			    b.p != NULL ? b.p : "(null)", rows[i].want);
		buf_free(&b);

		/* In a document, as a value and as a key. */
		buf_init(&b, 4096);
		jw_init(&w, &b);
		jw_arr(&w);
		jw_strn(&w, rows[i].in, n);
		jw_obj(&w);
		jw_key(&w, n == strlen(rows[i].in) ? rows[i].in : "k");
		jw_int(&w, 1);
		jw_obj_end(&w);
		jw_arr_end(&w);
		j = json_loads(b.p != NULL ? b.p : "", JSON_ALLOW_NUL, &jerr);
		tap_ok(j != NULL, rows[i].line, "jansson parses %s: %s",
		    b.p != NULL ? b.p : "(null)", j != NULL ? "yes" : jerr.text);
		s = json_array_get(j, 0);
		tap_ok(json_is_string(s) && json_string_length(s) == n &&
		    memcmp(json_string_value(s), rows[i].in, n) == 0,
		    rows[i].line, "string round-trips");
		if (n == strlen(rows[i].in))
			tap_ok(json_object_get(json_array_get(j, 1),
			    rows[i].in) != NULL, rows[i].line,
			    "key round-trips");
		json_decref(j);
		buf_free(&b);
	}
}

/* Every control character gets escaped and survives a round trip. */
static void
test_all_controls(void)
{
	struct buf	 b;
	json_t		*j;
	json_error_t	 jerr;
	char		 in[32];
	size_t		 i;
	int		 raw_ctl;

	for (i = 0; i < 32; i++)
		in[i] = (char)i;
	buf_init(&b, 4096);
	jw_escape(&b, in, sizeof(in));
	raw_ctl = 0;
	for (i = 0; b.p != NULL && i < b.len; i++)
		if ((unsigned char)b.p[i] < 0x20)
			raw_ctl = 1;
	ok(b.p != NULL && !raw_ctl, "no raw control character in output");
	j = json_loadb(b.p != NULL ? b.p : "", b.len,
	    JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	ok(json_is_string(j) && json_string_length(j) == sizeof(in) &&
	    memcmp(json_string_value(j), in, sizeof(in)) == 0,
	    "0x00..0x1f round-trip: %s", j != NULL ? "parsed" : jerr.text);
	json_decref(j);
	buf_free(&b);
}

/* The escaping rule one byte at a time: what jw_escape must match. */
static void
ref_escape(struct buf *b, const unsigned char *p, size_t n)
{
	size_t	 i;

	buf_putc(b, '"');
	for (i = 0; i < n; i++) {
		if (p[i] == '"' || p[i] == '\\')
			buf_printf(b, "\\%c", p[i]);
		else if (p[i] == '\n')
			buf_puts(b, "\\n");
		else if (p[i] == '\r')
			buf_puts(b, "\\r");
		else if (p[i] == '\t')
			buf_puts(b, "\\t");
		else if (p[i] < 0x20)
			buf_printf(b, "\\u%04x", p[i]);
		else
			buf_putc(b, (char)p[i]);
	}
	buf_putc(b, '"');
}

/*
 * jw_escape skips eight plain bytes at a time: every byte that must be
 * escaped, and every neighbour that must not, at every offset around
 * that stride, in strings of every length up to 24.
 */
static void
test_escape_strides(void)
{
	static const unsigned char special[] = { 0x00, 0x01, '\t', '\n', '\r',
	    0x1f, '"', '\\' };
	static const unsigned char plain[] = { 0x20, '!', '#', '[', ']', 0x5b,
	    0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xe2, 0xff, 'a' };
	unsigned char	 in[24];
	struct buf	 got, want;
	size_t		 len, pos, k;
	int		 bad = 0, runs = 0;

	buf_init(&got, 4096);
	buf_init(&want, 4096);
	for (len = 0; len <= sizeof(in); len++) {
		for (pos = 0; pos < len; pos++) {
			for (k = 0; k < sizeof(special) + sizeof(plain); k++) {
				memset(in, 'x', sizeof(in));
				/* A plain neighbour too, so skipping must stop exactly here. */
				in[(pos + 7) % len] = plain[k % sizeof(plain)];
				in[pos] = k < sizeof(special) ? special[k] :
				    plain[k - sizeof(special)];
				buf_reset(&got);
				buf_reset(&want);
				jw_escape(&got, (const char *)in, len);
				ref_escape(&want, in, len);
				runs++;
				if (got.len != want.len ||
				    memcmp(got.p, want.p, got.len) != 0) {
					if (bad++ < 5)
						ok(0, "len %zu, byte 0x%02x at %zu: got %s want %s",
						    len, in[pos], pos, got.p, want.p);
				}
			}
		}
	}
	ok(bad == 0 && runs > 5000, "%d strings escaped as the byte-at-a-time rule does (%d differ)",
	    runs, bad);
	buf_free(&got);
	buf_free(&want);
}

/* Errors are sticky and the cap holds. */
static void
test_caps(void)
{
	struct buf	 b;
	struct jw	 w;

	buf_init(&b, 16);
	jw_init(&w, &b);
	jw_arr(&w);
	jw_str(&w, "this string is far too long for sixteen bytes");
	is_int(buf_err(&b), QERR_TOOBIG, "string past the cap");
	ok(b.len <= 16, "len %zu stays within the cap", b.len);
	jw_int(&w, 1);
	jw_arr_end(&w);
	is_int(buf_err(&b), QERR_TOOBIG, "error stays sticky");
	buf_free(&b);

	/* A string exactly at the cap fits. */
	buf_init(&b, 7);
	jw_escape(&b, "abcde", 5);
	ok(buf_err(&b) == QERR_OK && b.p != NULL &&
	    strcmp(b.p, "\"abcde\"") == 0, "7 bytes fit a cap of 7");
	buf_free(&b);
	buf_init(&b, 6);
	jw_escape(&b, "abcde", 5);
	is_int(buf_err(&b), QERR_TOOBIG, "7 bytes do not fit a cap of 6");
	buf_free(&b);
}

int
main(void)
{

	test_structure();
	test_escape();
	test_all_controls();
	test_escape_strides();
	test_caps();
	return tap_done();
}
