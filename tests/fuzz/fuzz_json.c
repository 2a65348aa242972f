/*
 * A JSON body through jansson and every body's field table.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "valid.h"

static const struct body_spec *const specs[] = {
	&body_signup, &body_login, &body_user_create, &body_user_patch,
	&body_post_create, &body_post_patch, &body_ban, &body_2fa_setup,
	&body_2fa_enable, &body_2fa_disable, &body_2fa_verify
};

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t	 jerr;
	json_t		*j;
	size_t		 i, k;

	fz_setup();
	j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		return 0;
	}
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		char *const envp[] = { NULL };

		if (req_begin(&fz_req, (char **)(uintptr_t)envp, NULL, NULL) != QERR_OK)
			abort();
		if (valid_body(&fz_req, specs[i], j) == QERR_OK) {
			/* Accepted strings are valid, in bounds and NUL-free. */
			for (k = 0; k < specs[i]->nfields; k++) {
				const struct fieldval *v = &fz_req.fields[k];

				/* FT_OPAQUE alone keeps a NUL, cut (valid.h). */
				if (v->present && v->s != NULL &&
				    strlen(v->s) != v->len &&
				    specs[i]->fields[k].type != FT_OPAQUE)
					abort();
				/* An accepted code is 6 ASCII digits. */
				if (v->present && specs[i]->fields[k].type == FT_OTP &&
				    (v->len != 6 || strspn(v->s, "0123456789") != 6))
					abort();
				/* An accepted integer is within its bounds. */
				if (v->present && !v->is_null &&
				    specs[i]->fields[k].type == FT_INT &&
				    (v->n < (long long)specs[i]->fields[k].min ||
				    v->n > (long long)specs[i]->fields[k].max))
					abort();
			}
		}
		req_end(&fz_req);
	}
	json_decref(j);
	return 0;
}
