/*
 * The client address from REMOTE_ADDR and X-Forwarded-For.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <string.h>

#include "fmt.h"
#include "peer.h"
#include "utf8.h"
#include "xff.h"

/* s[0..n), blanks around it and IPv6 brackets taken off, as an address. */
static int
parse(const char *s, size_t n, struct peer_addr *a)
{

	fmt_trim(&s, &n);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	return n == 0 ? -1 : peer_addr_parse(s, n, a);
}

static void
put(const struct peer_addr *a, char *out)
{

	if (inet_ntop(a->family, a->a, out, XFF_ADDR_MAX) == NULL)
		out[0] = '\0';
}

int
xff_canon(const char *s, size_t n, char *out)
{
	struct peer_addr	 a;

	if (parse(s, n, &a) == -1)
		return -1;
	put(&a, out);
	return 0;
}

static int
trusted(const struct peer_addr *a, char *const *proxies, size_t n)
{
	struct peer_addr	 p;
	size_t		 i;

	for (i = 0; i < n; i++)
		if (parse(proxies[i], strlen(proxies[i]), &p) == 0 &&
		    peer_addr_equal(a, &p))
			return 1;
	return 0;
}

const char *
xff_client(const char *remote, const char *xff, char *const *proxies,
    size_t n, char *out)
{
	struct peer_addr	 hop, a;
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
