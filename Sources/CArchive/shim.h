// libarchive, for unpacking tar, tar.gz, tar.bz2, tar.xz, tar.zst and zip.
#ifndef TOOLTOOL_CARCHIVE_SHIM_H
#define TOOLTOOL_CARCHIVE_SHIM_H
#include <sys/types.h>
#include <sys/select.h>
#include <sys/uio.h>
#include <archive.h>
#include <archive_entry.h>
#endif
