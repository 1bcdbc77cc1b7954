package logs

import "errors"

// Sentinels of package logs. Callers test them with errors.Is; messages
// wrap them with the detail (a path, a setting).
var (
	// ErrNoDir: a command needs the log directory and none is configured
	// (AULA_LOG_DIR, -log-dir or log_dir in the config file).
	ErrNoDir = errors.New("no log directory (set AULA_LOG_DIR or -log-dir)")
	// ErrCriteria: the criteria of a data-subject request are malformed
	// (an IP address that is none, a time window that ends before it
	// starts, a phone number without digits).
	ErrCriteria = errors.New("bad criteria")
	// ErrNoCriteria: a request without any criterion would select the
	// whole log.
	ErrNoCriteria = errors.New("no criteria: give at least one of -user-id, -name, -ip, -phone, -meeting, -from, -to")
	// ErrTooBroad: erase needs a person or a meeting; a time window alone
	// would erase everybody's entries.
	ErrTooBroad = errors.New("erase needs -user-id, -name, -ip, -phone or -meeting; a time window alone selects everybody")
	// ErrHoldNotFound: no hold has this ID.
	ErrHoldNotFound = errors.New("no such hold")
	// ErrHoldReason: a hold needs a reason and who asked for it.
	ErrHoldReason = errors.New("a hold needs -reason and -by")
	// ErrReplaced: a day file kept being replaced while it was opened
	// (a rewrite racing the writer more often than it plausibly can).
	ErrReplaced = errors.New("log file replaced while opening it")
)
