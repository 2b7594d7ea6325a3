// nodejs/http-parser 2.9 (Debian's libhttp-parser-dev ships no pkg-config file, so the module map links it).
#ifndef TOOLTOOL_CHTTPPARSER_SHIM_H
#define TOOLTOOL_CHTTPPARSER_SHIM_H
#include <sys/types.h>
#include <sys/select.h>
#include <sys/uio.h>
#include <http_parser.h>

/// HTTP_PARSER_ERRNO is a macro; Swift cannot call it.
static inline enum http_errno tt_http_parser_errno(const http_parser *p) { return HTTP_PARSER_ERRNO(p); }
#endif
