/*
 * quirectl mail-worker: delivers the mail_outbox (schema 003) through a
 * mailer (mailer.h). It LISTENs on quire_mail and polls as well, claims
 * one due row at a time with FOR UPDATE SKIP LOCKED and commits per
 * message, deletes a row once the server answered 250, retries 4xx and
 * unreachable servers with exponential backoff and jitter, and keeps 5xx
 * refusals as failed rows. Delivery is at least once: a crash between
 * the server's 250 and the delete sends the message again, with the
 * same Message-ID and Date.
 */
#ifndef QUIRE_MAILWORKER_H
#define QUIRE_MAILWORKER_H

/*
 * The subcommand, given quirectl's whole argv (options before or after
 * the word "mail-worker"):
 *   --url URL          the database (default QUIRE_PRIMARY_URL)
 *   --poll S           seconds between polls (default 5)
 *   --backoff-min S    first retry delay (default 1)
 *   --backoff-max S    retry delay cap (default 900)
 *   --drain            send what is due, then exit (0: everything tried
 *                      was sent or failed for good; 1: a message waits
 *                      for a retry, or no database)
 * QUIRE_MAIL_URL, QUIRE_MAIL_FROM, QUIRE_MAIL_CA_FILE, QUIRE_LOG_LEVEL
 * and QUIRE_PRIMARY_URL come from the environment, or from the file
 * QUIRE_ENV_FILE names (its values win). Runs until SIGTERM or SIGINT,
 * which finish the message in flight; returns the exit status (2: bad
 * usage or configuration).
 */
int	mailworker_main(int argc, char *argv[]);

#endif
