package logs

import (
	"context"
	"log/slog"
	"os"
	"time"
)

// PurgeResult tells what a purge did.
type PurgeResult struct {
	// Removed entries were past their retention.
	Removed int `json:"removed"`
	// Held entries were past it but kept for a hold.
	Held int `json:"held"`
	// Files were rewritten; FilesRemoved of them were left empty and
	// deleted.
	Files        int `json:"files"`
	FilesRemoved int `json:"files_removed"`
}

// Purge deletes the entries past their retention:
//
//   - an entry of a conference (it carries the conference's key, or is
//     the "incoming call" line of a call that then joined one) when
//     Retention has passed since the conference ended: since its "meeting
//     ended" line, or, for a conference without one (the node crashed, or
//     the conference ended on another node), since its last entry here;
//   - any other entry (web access lines, start-up, refused calls, the
//     privacy commands' own lines) when AccessRetention has passed since
//     it was written;
//   - a malformed line (a write torn by a crash) like the latter, dated
//     at the end of its file's day.
//
// Entries a hold selects stay. Day files left empty are deleted.
func (d *Dir) Purge(ctx context.Context) (PurgeResult, error) {
	var res PurgeResult
	release, holds, files, err := d.beginRewrite()
	if err != nil {
		return res, err
	}
	defer release()
	crit := make([]Criteria, len(holds))
	for i, h := range holds {
		crit[i] = h.Criteria
	}
	ix, sels, err := d.indexPass(ctx, files, crit...)
	if err != nil {
		return res, err
	}
	now, ret, aret := d.now(), d.retention(), d.accessRetention()
	expired := func(e *Entry) bool {
		if key := ix.conferenceOf(e); key != "" {
			return now.Sub(ix.closed(key)) >= ret
		}
		return now.Sub(e.Time) >= aret
	}
	// Every entry of a file is at least a day's start old and lives at
	// least the shorter retention: younger files need no look (the hour
	// covers a line stamped just before midnight, written just after).
	horizon := now.Add(-min(ret, aret) + time.Hour)
	for _, f := range files {
		if f.day.After(horizon) {
			continue
		}
		due, held := 0, 0
		err := scanFile(ctx, f, func(e *Entry) error {
			if expired(e) {
				if anySelects(sels, e) {
					held++
				} else {
					due++
				}
			}
			return nil
		})
		if err != nil {
			return res, err
		}
		res.Held += held
		if due == 0 {
			continue
		}
		n, err := rewrite(f, func(e *Entry) bool { return expired(e) && !anySelects(sels, e) })
		if err != nil {
			return res, err
		}
		res.Removed += n
		res.Files++
		if _, err := os.Stat(f.path); os.IsNotExist(err) {
			res.FilesRemoved++
		}
	}
	level := slog.LevelDebug
	if res.Removed > 0 {
		level = slog.LevelInfo
	}
	err = d.audit(level, "log purge", "removed", res.Removed, "held", res.Held, "files", res.Files, "files_removed", res.FilesRemoved)
	return res, err
}

// beginRewrite takes the directory's lock for a rewrite (erase, purge),
// removes what an interrupted one left, and reads the holds and the day
// files; the caller defers release.
func (d *Dir) beginRewrite() (release func(), holds []Hold, files []dayFile, err error) {
	release, err = d.lock()
	if err != nil {
		return nil, nil, nil, err
	}
	removeTemps(d.Path)
	if holds, err = readHolds(d.Path); err == nil {
		files, err = dayFiles(d.Path)
	}
	if err != nil {
		release()
		return nil, nil, nil, err
	}
	return release, holds, files, nil
}
