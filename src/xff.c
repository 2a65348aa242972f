/*
 * The client address from REMOTE_ADDR and X-Forwarded-For.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "fmt.h"
#include "utf8.h"
#include "xff.h"

/* An address in binary: family and bytes (IPv4-mapped IPv6 as IPv4). */
struct addr {
	int		 af;
	unsigned char	 b[16];
};

static int
parse(const char *s, size_t n, struct addr *a)
{
	static const unsigned char mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};
	char	 tmp[INET6_ADDRSTRLEN + 2];

	fmt_trim(&s, &n);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET, tmp, a->b) == 1) {
		a->af = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, a->b) != 1)
		return -1;
	if (memcmp(a->b, mapped, sizeof(mapped)) == 0) {
		memmove(a->b, a->b + 12, 4);
		a->af = AF_INET;
	} else
		a->af = AF_INET6;
	return 0;
}

static void
put(const struct addr *a, char *out)
{

	if (inet_ntop(a->af, a->b, out, XFF_ADDR_MAX) == NULL)
		out[0] = '\0';
}

int
xff_canon(const char *s, size_t n, char *out)
{
	struct addr	 a;

	if (parse(s, n, &a) == -1)
		return -1;
	put(&a, out);
	return 0;
}

static int
same(const struct addr *x, const struct addr *y)
{

	return x->af == y->af &&
	    memcmp(x->b, y->b, x->af == AF_INET ? 4 : 16) == 0;
}

static int
trusted(const struct addr *a, char *const *proxies, size_t n)
{
	struct addr	 p;
	size_t		 i;

	for (i = 0; i < n; i++)
		if (parse(proxies[i], strlen(proxies[i]), &p) == 0 &&
		    same(a, &p))
			return 1;
	return 0;
}

const char *
xff_client(const char *remote, const char *xff, char *const *proxies,
    size_t n, char *out)
{
	struct addr	 hop, a;
	const char	*end, *start;

	if (remote == NULL)
		remote = "";
	if (parse(remote, strlen(remote), &hop) == -1) {
		if (utf8_clean(out, XFF_ADDR_MAX, remote, strlen(remote)) == 0)
			memcpy(out, "unknown", sizeof("unknown"));
		return out;
	}
	if (xff != NULL && n > 0 && trusted(&hop, proxies, n)) {
		/* Walk from the right past our own proxies to the first stranger. */
		end = xff + strlen(xff);
		while (end > xff) {
			start = end;
			while (start > xff && start[-1] != ',')
				start--;
			if (parse(start, (size_t)(end - start), &a) == 0) {
				hop = a;
				if (!trusted(&a, proxies, n))
					break;
			} else if (end - start > 0 &&
			    strspn(start, " \t") < (size_t)(end - start))
				break;	/* not an address: stop at the last hop */
			end = start > xff ? start - 1 : xff;
		}
	}
	put(&hop, out);
	return out;
}
