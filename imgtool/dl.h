/* Libraries gkimg loads with dlopen() the first time a command needs them
 * (dl_curl.c, dl_archive.c, dl_sodium.c, dl_gpgme.c): libcurl and
 * libarchive bring about forty shared objects between them (TLS, LDAP, GSSAPI, xml,
 * compressors), whose mapping and relocation was most of the time of a
 * command that uses neither, such as a second `bundle` of an unpacked
 * image; libsodium is one more that only signing with a cosign key needs,
 * libgpgme (with libassuan and libgpg-error) one that only GPG signing and
 * verifying need.  gkimg's start-up set is then libc, libcrypto and yajl
 * (test_gkimg_cli.py checks it). */
#ifndef GK_IMGTOOL_DL_H
#define GK_IMGTOOL_DL_H

#include "gk/dlfwd.h"

/* Load libcurl / libarchive / libsodium / libgpgme if not done yet: 0, or
 * -ELIBACC with an error naming the library.  Their functions may be called without these (they
 * load on first use, and fail as the library's own calls fail when it is
 * missing); the commands call them first for a clear message. */
int gk_dl_curl(gk_error **err);
int gk_dl_archive(gk_error **err);
int gk_dl_sodium(gk_error **err);
int gk_dl_gpgme(gk_error **err);

#endif
