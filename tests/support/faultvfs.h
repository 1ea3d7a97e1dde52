/* A SQLite VFS for tests that wraps the default one and fails writes or syncs on demand, to
 * show what the engine does on disk-full, I/O and fsync errors. */
#ifndef HB_TESTS_FAULTVFS_H
#define HB_TESTS_FAULTVFS_H

typedef enum fault_mode {
    FAULT_NONE = 0,
    FAULT_WRITE_IO,   /* xWrite fails with SQLITE_IOERR_WRITE */
    FAULT_WRITE_FULL, /* xWrite fails with SQLITE_FULL (disk full) */
    FAULT_SYNC        /* xSync fails with SQLITE_IOERR_FSYNC */
} fault_mode;

/* Register the faulty VFS as SQLite's default (once per process). */
void faultvfs_install(void);
/* From now on, fail as mode says (FAULT_NONE to stop). Thread-safe. */
void faultvfs_set(fault_mode mode);
/* How many operations failed since install. */
long faultvfs_failures(void);

#endif
