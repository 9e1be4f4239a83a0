#ifndef SEQBRIDGE_SQLITE_TUNING_H
#define SEQBRIDGE_SQLITE_TUNING_H
#include <sqlite3.h>

/* Process-wide SQLite settings, which only C can make: sqlite3_config is
 * variadic. They take effect only before SQLite's first use in the process;
 * afterwards sqlite3_config refuses (SQLITE_MISUSE) and nothing changes.
 *
 * - Multi-thread mode: no mutex around each call on a connection. GRDB
 *   already lets one thread at a time use a connection, and so do we.
 * - No memory statistics: no global mutex around each allocation.
 *
 * Returns 1 when both were applied. */
static inline int seqbridge_sqlite_tune(void) {
    int threading = sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
    int statistics = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return threading == SQLITE_OK && statistics == SQLITE_OK;
}

#endif
