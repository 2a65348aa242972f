/*
 * The user resource.
 */
#include "config.h"

#include "user.h"

int
user_from_row(struct user *u, const PGresult *res, int row, int c)
{

	if (PQnfields(res) < c + USER_NCOLS)
		return -1;
	u->id = PQgetvalue(res, row, c);
	u->name = PQgetvalue(res, row, c + 1);
	u->email = PQgetvalue(res, row, c + 2);
	u->email_verified = PQgetvalue(res, row, c + 3)[0] == 't';
	u->image = PQgetisnull(res, row, c + 4) ? NULL :
	    PQgetvalue(res, row, c + 4);
	u->role = PQgetvalue(res, row, c + 5);
	if (fmt_ts(u->created_at, PQgetvalue(res, row, c + 6)) == -1 ||
	    fmt_ts(u->updated_at, PQgetvalue(res, row, c + 7)) == -1)
		return -1;
	u->banned = PQgetvalue(res, row, c + 8)[0] == 't';
	u->ban_reason = PQgetisnull(res, row, c + 9) ? NULL :
	    PQgetvalue(res, row, c + 9);
	u->ban_expires_at[0] = '\0';
	if (!PQgetisnull(res, row, c + 10) &&
	    fmt_ts(u->ban_expires_at, PQgetvalue(res, row, c + 10)) == -1)
		return -1;
	u->two_factor_enabled = PQgetvalue(res, row, c + 11)[0] == 't';
	return 0;
}

void
user_json(struct jw *w, const struct user *u, enum user_view view)
{

	jw_obj(w);
	jw_key(w, "id");
	jw_str(w, u->id);
	jw_key(w, "name");
	jw_str(w, u->name);
	if (view != USER_VIEW_PUBLIC) {
		jw_key(w, "email");
		jw_str(w, u->email);
		jw_key(w, "emailVerified");
		jw_bool(w, u->email_verified);
		jw_key(w, "twoFactorEnabled");
		jw_bool(w, u->two_factor_enabled);
	}
	jw_key(w, "image");
	jw_str(w, u->image);
	jw_key(w, "role");
	jw_str(w, u->role);
	if (view == USER_VIEW_ADMIN) {
		jw_key(w, "banned");
		jw_bool(w, u->banned);
		jw_key(w, "banReason");
		jw_str(w, u->ban_reason);
		jw_key(w, "banExpiresAt");
		jw_str(w, u->ban_expires_at[0] != '\0' ? u->ban_expires_at : NULL);
	}
	jw_key(w, "createdAt");
	jw_str(w, u->created_at);
	jw_key(w, "updatedAt");
	jw_str(w, u->updated_at);
	jw_obj_end(w);
}
