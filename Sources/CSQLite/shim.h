#include <sqlite3.h>

/* sqlite3_config is variadic, which Swift cannot call. Turning off SQLite's
   memory statistics removes a process-wide mutex taken on every allocation,
   which workers migrating databases in parallel would otherwise contend for.
   Must run before the library initialises (before the first open). */
static inline int strata_sqlite_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
