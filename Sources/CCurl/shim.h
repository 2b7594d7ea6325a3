// libcurl. curl_easy_setopt is variadic; Swift calls these typed wrappers instead.
#ifndef TOOLTOOL_CCURL_SHIM_H
#define TOOLTOOL_CCURL_SHIM_H
#include <sys/types.h>
#include <sys/select.h>
#include <sys/uio.h>
#include <curl/curl.h>

static inline CURLcode tt_curl_setopt_long(CURL *c, CURLoption o, long v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode tt_curl_setopt_off(CURL *c, CURLoption o, curl_off_t v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode tt_curl_setopt_string(CURL *c, CURLoption o, const char *v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode tt_curl_setopt_pointer(CURL *c, CURLoption o, void *v) { return curl_easy_setopt(c, o, v); }
static inline CURLcode tt_curl_setopt_slist(CURL *c, CURLoption o, struct curl_slist *v) { return curl_easy_setopt(c, o, v); }
typedef size_t (*tt_curl_data_callback)(char *, size_t, size_t, void *);
static inline CURLcode tt_curl_setopt_data_callback(CURL *c, CURLoption o, tt_curl_data_callback f) { return curl_easy_setopt(c, o, f); }
#endif
