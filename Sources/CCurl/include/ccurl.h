// libcurl, loaded when a command first reaches the registry (dlopen), not at
// start-up: linking it would make every command load it and the ~30
// libraries it depends on (TLS, Kerberos, LDAP, ...). Only the headers are
// used at build time. curl_easy_setopt and curl_easy_getinfo are variadic,
// which Swift cannot call: the typed wrappers below can be.
//
// The loaded functions live in one place, ccurl.c. They used to be a static
// variable inside a `static inline` function of this header, which gave
// every module that inlined a wrapper its own copy: in a release build the
// copy that was loaded was not the one asked, and no command could reach a
// registry.
#ifndef STRATA_CCURL_H
#define STRATA_CCURL_H
#include <curl/curl.h>
#include <stddef.h>

typedef size_t (*strata_curl_write_callback)(char *data, size_t size, size_t count, void *context);

/// Loads libcurl once; 1 when it is there, else 0 and strata_curl_error() says why.
int strata_curl_load(void);
const char *strata_curl_error(void);

// Call these only after strata_curl_load() returned 1.
CURL *strata_curl_easy_init(void);
void strata_curl_easy_cleanup(CURL *curl);
void strata_curl_easy_reset(CURL *curl);
CURLcode strata_curl_easy_perform(CURL *curl);
const char *strata_curl_easy_strerror(CURLcode code);
struct curl_slist *strata_curl_slist_append(struct curl_slist *list, const char *text);
void strata_curl_slist_free_all(struct curl_slist *list);
CURLcode strata_curl_setopt_long(CURL *curl, CURLoption option, long value);
CURLcode strata_curl_setopt_string(CURL *curl, CURLoption option, const char *value);
CURLcode strata_curl_setopt_pointer(CURL *curl, CURLoption option, void *value);
CURLcode strata_curl_setopt_slist(CURL *curl, CURLoption option, struct curl_slist *value);
CURLcode strata_curl_setopt_off_t(CURL *curl, CURLoption option, curl_off_t value);
CURLcode strata_curl_setopt_write_function(CURL *curl, strata_curl_write_callback callback);
CURLcode strata_curl_getinfo_long(CURL *curl, CURLINFO info, long *value);

#endif
