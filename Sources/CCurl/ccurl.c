// The one definition of what ccurl.h declares (see there).
#include "ccurl.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stddef.h>


struct strata_curl_api {
    int loaded; // 0 not tried, 1 loaded, -1 failed
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    CURLcode (*easy_perform)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    char error[256];
};

static struct strata_curl_api *strata_curl_api(void) {
    static struct strata_curl_api api;
    return &api;
}

int strata_curl_load(void) {
    if (strata_curl_api()->loaded) return strata_curl_api()->loaded == 1;
    void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        /* The soname's error is the one to report: libcurl.so is a fallback. */
        const char *why = dlerror();
        snprintf(strata_curl_api()->error, sizeof strata_curl_api()->error, "%s", why ? why : "libcurl.so.4 not found");
        lib = dlopen("libcurl.so", RTLD_NOW | RTLD_LOCAL);
    }
    if (!lib) {
        strata_curl_api()->loaded = -1;
        return 0;
    }
#define STRATA_CURL_SYM(field, name) \
    *(void **)(&strata_curl_api()->field) = dlsym(lib, name); \
    if (!strata_curl_api()->field) { snprintf(strata_curl_api()->error, sizeof strata_curl_api()->error, "libcurl has no %s", name); strata_curl_api()->loaded = -1; return 0; }
    STRATA_CURL_SYM(global_init, "curl_global_init")
    STRATA_CURL_SYM(easy_init, "curl_easy_init")
    STRATA_CURL_SYM(easy_cleanup, "curl_easy_cleanup")
    STRATA_CURL_SYM(easy_reset, "curl_easy_reset")
    STRATA_CURL_SYM(easy_perform, "curl_easy_perform")
    STRATA_CURL_SYM(easy_strerror, "curl_easy_strerror")
    STRATA_CURL_SYM(easy_setopt, "curl_easy_setopt")
    STRATA_CURL_SYM(easy_getinfo, "curl_easy_getinfo")
    STRATA_CURL_SYM(slist_append, "curl_slist_append")
    STRATA_CURL_SYM(slist_free_all, "curl_slist_free_all")
#undef STRATA_CURL_SYM
    strata_curl_api()->global_init(CURL_GLOBAL_DEFAULT);
    strata_curl_api()->loaded = 1;
    return 1;
}

const char *strata_curl_error(void) { return strata_curl_api()->error; }

CURL *strata_curl_easy_init(void) { return strata_curl_api()->easy_init(); }
void strata_curl_easy_cleanup(CURL *curl) { strata_curl_api()->easy_cleanup(curl); }
void strata_curl_easy_reset(CURL *curl) { strata_curl_api()->easy_reset(curl); }
CURLcode strata_curl_easy_perform(CURL *curl) { return strata_curl_api()->easy_perform(curl); }
const char *strata_curl_easy_strerror(CURLcode code) { return strata_curl_api()->easy_strerror(code); }
struct curl_slist *strata_curl_slist_append(struct curl_slist *list, const char *text) { return strata_curl_api()->slist_append(list, text); }
void strata_curl_slist_free_all(struct curl_slist *list) { strata_curl_api()->slist_free_all(list); }

CURLcode strata_curl_setopt_long(CURL *curl, CURLoption option, long value) {
    return strata_curl_api()->easy_setopt(curl, option, value);
}
CURLcode strata_curl_setopt_string(CURL *curl, CURLoption option, const char *value) {
    return strata_curl_api()->easy_setopt(curl, option, value);
}
CURLcode strata_curl_setopt_pointer(CURL *curl, CURLoption option, void *value) {
    return strata_curl_api()->easy_setopt(curl, option, value);
}
CURLcode strata_curl_setopt_slist(CURL *curl, CURLoption option, struct curl_slist *value) {
    return strata_curl_api()->easy_setopt(curl, option, value);
}
CURLcode strata_curl_setopt_off_t(CURL *curl, CURLoption option, curl_off_t value) {
    return strata_curl_api()->easy_setopt(curl, option, value);
}
CURLcode strata_curl_setopt_write_function(CURL *curl, strata_curl_write_callback callback) {
    return strata_curl_api()->easy_setopt(curl, CURLOPT_WRITEFUNCTION, callback);
}
CURLcode strata_curl_getinfo_long(CURL *curl, CURLINFO info, long *value) {
    return strata_curl_api()->easy_getinfo(curl, info, value);
}
