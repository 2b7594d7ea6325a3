// libevent core, pthreads and OpenSSL parts. The sys/ headers come first: without them libevent's
// headers declare fd_set in a way that clashes with Glibc's in Swift.
#ifndef TOOLTOOL_CEVENT_SHIM_H
#define TOOLTOOL_CEVENT_SHIM_H
#include <sys/types.h>
#include <sys/select.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <event2/event.h>
#include <event2/buffer.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <event2/util.h>
#include <event2/bufferevent_ssl.h>
#include <malloc.h> /* mallopt: tooltool-server serve sets the mmap threshold */
#endif
