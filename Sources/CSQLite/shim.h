// SQLite 3.
#ifndef TOOLTOOL_CSQLITE_SHIM_H
#define TOOLTOOL_CSQLITE_SHIM_H
#include <sys/types.h>
#include <sys/select.h>
#include <sys/uio.h>
#include <sqlite3.h>

/// SQLITE_TRANSIENT is a macro cast of -1 to a function pointer; Swift cannot spell it.
static inline int tt_sqlite3_bind_text_transient(sqlite3_stmt *s, int i, const char *t, int n) {
    return sqlite3_bind_text(s, i, t, n, SQLITE_TRANSIENT);
}
static inline int tt_sqlite3_bind_blob_transient(sqlite3_stmt *s, int i, const void *b, int n) {
    return sqlite3_bind_blob(s, i, b, n, SQLITE_TRANSIENT);
}
#endif
