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
typedef size_t (*tt_curl_read_callback)(char *, size_t, size_t, void *);
static inline CURLcode tt_curl_setopt_read_callback(CURL *c, tt_curl_read_callback f) { return curl_easy_setopt(c, CURLOPT_READFUNCTION, f); }
static inline CURLcode tt_curl_getinfo_long(CURL *c, CURLINFO i, long *v) { return curl_easy_getinfo(c, i, v); }
static inline CURLcode tt_curl_getinfo_pointer(CURL *c, CURLINFO i, void **v) { return curl_easy_getinfo(c, i, v); }
/* The multi interface, driven by an event loop (see Sources/Server/S3/CurlMulti.swift). */
typedef int (*tt_curl_socket_callback)(CURL *, curl_socket_t, int, void *, void *);
typedef int (*tt_curl_timer_callback)(CURLM *, long, void *);
static inline CURLMcode tt_curl_multi_setopt_pointer(CURLM *m, CURLMoption o, void *v) { return curl_multi_setopt(m, o, v); }
static inline CURLMcode tt_curl_multi_setopt_long(CURLM *m, CURLMoption o, long v) { return curl_multi_setopt(m, o, v); }
static inline CURLMcode tt_curl_multi_setopt_socket_callback(CURLM *m, tt_curl_socket_callback f) { return curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, f); }
static inline CURLMcode tt_curl_multi_setopt_timer_callback(CURLM *m, tt_curl_timer_callback f) { return curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, f); }
#endif
