/*
 * Batch mode's scheduler (batch.h). Coroutines are ucontext(3) ones:
 * each handler runs on its own stack and returns here (swapcontext)
 * when it waits for a read; nothing else switches, so a handler is
 * never interrupted between two of its statements except at a read.
 */
#include "config.h"

#include <sys/mman.h>

#include <string.h>
#include <ucontext.h>

#include <libpq-fe.h>

#if defined(__SANITIZE_ADDRESS__)
#define BATCH_ASAN	1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BATCH_ASAN	1
#endif
#endif
#ifdef BATCH_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#include "app.h"
#include "batch.h"
#include "db.h"
#include "log.h"

/* Handlers nest a few calls deep with small frames; ASan's are larger. */
#define STACK_BYTES	(256 * 1024)

enum co_state { CO_RUN, CO_WAIT, CO_DONE };

struct co {
	ucontext_t	 uc;
	void		*stack;
	struct req	*r;
	enum co_state	 state;
	PGresult	*res;		/* its read's result, when back */
	void		*fake;		/* ASan's fake stack while it is away */
};

static struct co	 coros[BATCH_MAX];
static int		 nstacks;
static int		 cur = -1;	/* the coroutine running, or -1 */
static ucontext_t	 sched;
/* Reads sent and not yet read back, in the order sent. */
static struct pending {
	struct dbconn	*c;
	int		 co;
} pend[BATCH_MAX];
static int		 npend;

/*
 * ASan must be told of every stack switch (its fiber interface), or it
 * takes the other stack's frames for overflows.
 */
#ifdef BATCH_ASAN
static void		*sched_fake;
static const void	*sched_bottom;
static size_t		 sched_size;
#endif

/* From the scheduler into coroutine k, until k waits or ends. */
static void
to_co(struct co *k)
{

#ifdef BATCH_ASAN
	__sanitizer_start_switch_fiber(&sched_fake, k->stack, STACK_BYTES);
#endif
	swapcontext(&sched, &k->uc);
#ifdef BATCH_ASAN
	__sanitizer_finish_switch_fiber(sched_fake, NULL, NULL);
#endif
}

/* In coroutine k, once it runs (first time or again). */
static void
co_entered(struct co *k)
{

#ifdef BATCH_ASAN
	__sanitizer_finish_switch_fiber(k->fake, &sched_bottom, &sched_size);
#else
	(void)k;
#endif
}

/* From coroutine k back to the scheduler; `ending': k will not resume. */
static void
to_sched(struct co *k, int ending)
{

#ifdef BATCH_ASAN
	__sanitizer_start_switch_fiber(ending ? NULL : &k->fake, sched_bottom,
	    sched_size);
#endif
	if (!ending) {
		swapcontext(&k->uc, &sched);
		co_entered(k);
	}
}

static int
active(void)
{

	return cur >= 0;
}

/*
 * Reads back every result outstanding on c, in order, hands each to its
 * coroutine and leaves pipeline mode. A broken connection hands out
 * NULL: their db_exec sees a lost connection and retries. -1 when c is
 * out of step with its server.
 */
static int
settle(struct dbconn *c)
{
	PGresult	*res, *x;
	int		 i, ok, any, rc = 0;

	any = 0;
	for (i = 0; i < npend; i++)
		if (pend[i].c == c)
			any = 1;
	if (!any) {
		if (c->conn != NULL &&
		    PQpipelineStatus(c->conn) != PQ_PIPELINE_OFF &&
		    PQexitPipelineMode(c->conn) != 1)
			return -1;
		return 0;
	}
	ok = c->conn != NULL && PQpipelineSync(c->conn) == 1;
	for (i = 0; i < npend; ) {
		if (pend[i].c != c) {
			i++;
			continue;
		}
		res = ok ? PQgetResult(c->conn) : NULL;
		if (res != NULL)
			while ((x = PQgetResult(c->conn)) != NULL)
				PQclear(x);
		else
			ok = 0;
		coros[pend[i].co].res = res;
		coros[pend[i].co].state = CO_RUN;
		memmove(&pend[i], &pend[i + 1],
		    (size_t)(npend - i - 1) * sizeof(pend[0]));
		npend--;
	}
	if (ok) {
		x = PQgetResult(c->conn);
		if (PQresultStatus(x) != PGRES_PIPELINE_SYNC)
			rc = -1;
		PQclear(x);
	}
	if (c->conn != NULL && PQexitPipelineMode(c->conn) != 1)
		rc = -1;
	return ok ? rc : -1;
}

static PGresult *
exec(struct dbconn *c, const struct stmt_def *d, const char *const *params)
{
	struct co	*k = &coros[cur];
	PGresult	*res;

	if ((PQpipelineStatus(c->conn) == PQ_PIPELINE_OFF &&
	    PQenterPipelineMode(c->conn) != 1) ||
	    PQsendQueryPrepared(c->conn, d->name, d->nparams, params,
	    NULL, NULL, 0) != 1) {
		(void)settle(c);
		return PQexecPrepared(c->conn, d->name, d->nparams, params,
		    NULL, NULL, 0);
	}
	pend[npend].c = c;
	pend[npend].co = cur;
	npend++;
	k->state = CO_WAIT;
	to_sched(k, 0);
	res = k->res;
	k->res = NULL;
	/* An earlier read of the pipeline failed: this one was not run. */
	if (res != NULL && PQresultStatus(res) == PGRES_PIPELINE_ABORTED) {
		PQclear(res);
		res = PQexecPrepared(c->conn, d->name, d->nparams, params,
		    NULL, NULL, 0);
	}
	return res;
}

static const struct db_batch	 hooks = { active, exec, settle };

int
batch_init(int n)
{

	for (nstacks = 0; nstacks < n && nstacks < BATCH_MAX; nstacks++) {
		coros[nstacks].stack = mmap(NULL, STACK_BYTES,
		    PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		    MAP_NORESERVE | MAP_STACK, -1, 0);
		if (coros[nstacks].stack == MAP_FAILED) {
			coros[nstacks].stack = NULL;
			return -1;
		}
	}
	db_set_batch(&hooks);
	return 0;
}

void
batch_free(void)
{

	db_set_batch(NULL);
	while (nstacks > 0) {
		nstacks--;
		munmap(coros[nstacks].stack, STACK_BYTES);
	}
}

static void
co_main(void)
{
	struct co	*k = &coros[cur];

	co_entered(k);
	app_handle(k->r);
	k->state = CO_DONE;
	/* Returning resumes uc_link: the scheduler. */
	to_sched(k, 1);
}

/*
 * Apart from batch_run's loop: getcontext returns twice, and a loop
 * counter live across it could be clobbered.
 */
static void
co_prepare(struct co *k, struct req *r)
{

	k->r = r;
	k->state = CO_RUN;
	k->res = NULL;
	k->fake = NULL;
	getcontext(&k->uc);
	k->uc.uc_stack.ss_sp = k->stack;
	k->uc.uc_stack.ss_size = STACK_BYTES;
	k->uc.uc_link = &sched;
	makecontext(&k->uc, co_main, 0);
}

void
batch_run(struct req **rs, int n)
{
	int	 i, waiting, running;

	if (n > nstacks)
		n = nstacks;
	for (i = 0; i < n; i++)
		co_prepare(&coros[i], rs[i]);
	for (;;) {
		for (i = 0; i < n; i++)
			if (coros[i].state == CO_RUN) {
				cur = i;
				to_co(&coros[i]);
				cur = -1;
			}
		/*
		 * A statement run at once reads back what others had sent on
		 * its connection: they can go on without a round trip here.
		 */
		for (i = waiting = running = 0; i < n; i++) {
			if (coros[i].state == CO_WAIT)
				waiting++;
			else if (coros[i].state == CO_RUN)
				running++;
		}
		if (running > 0)
			continue;
		if (waiting == 0)
			break;
		/* One round trip per connection for everything sent. */
		while (npend > 0)
			if (settle(pend[0].c) == -1)
				log_msg(LVL_WARN, NULL, "batch: a pipeline "
				    "went out of step; its reads retry");
	}
}
