// libpq, PostgreSQL's C client library.
#ifndef TOOLTOOL_CPOSTGRES_SHIM_H
#define TOOLTOOL_CPOSTGRES_SHIM_H
#include <libpq-fe.h>
#endif
