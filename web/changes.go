package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	history "github.com/spnaudit/spnaudit/state"
)

// The change journal on the web: /api/v1/changes and
// spnaudit_spn_changes_total. The counter is metrics.SPNChanges.

// ChangeReader answers journal queries; *state.Store implements it.
type ChangeReader interface {
	Changes(q history.Query) ([]history.Change, uint64, error)
}

// Paging of /api/v1/changes.
const (
	defaultChangesLimit = 100
	maxChangesLimit     = 1000
)

// ChangesPage is the JSON body of /api/v1/changes: the entries newest
// first and, when there are more, the before= value of the next page.
type ChangesPage struct {
	Changes []history.Change `json:"changes"`
	Next    uint64           `json:"next,omitempty"`
}

// WithChanges adds /api/v1/changes to h:
//
//	GET /api/v1/changes?spn=&account=&since=&until=&before=&limit=
//
// since and until are RFC 3339 times, before a seq from the previous page's
// next, limit at most 1000 (100 by default).
func WithChanges(h http.Handler, journal ChangeReader, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", h)
	mux.HandleFunc("GET /api/v1/changes", func(w http.ResponseWriter, r *http.Request) {
		serveChanges(w, r, journal, logger)
	})
	return mux
}

func serveChanges(w http.ResponseWriter, r *http.Request, journal ChangeReader, logger *slog.Logger) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	q, err := changesQuery(r)
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error()+"\n")
		return
	}
	changes, next, err := journal.Changes(q)
	if err != nil {
		logger.Error("reading the change journal", "stage", "state", "err", err)
		writeText(w, http.StatusServiceUnavailable, "the change journal cannot be read now; see the log\n")
		return
	}
	if changes == nil {
		changes = []history.Change{}
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(ChangesPage{Changes: changes, Next: next})
}

// changesQuery parses the query string; a bad value is a 400 naming it.
func changesQuery(r *http.Request) (history.Query, error) {
	v := r.URL.Query()
	q := history.Query{SPN: v.Get("spn"), Account: v.Get("account"), Limit: defaultChangesLimit}
	var errs []error
	parseTime := func(key string, dst *time.Time) {
		if s := v.Get(key); s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s=%q: want an RFC 3339 time such as 2026-11-24T14:00:00Z", key, s))
			}
			*dst = t
		}
	}
	parseTime("since", &q.Since)
	parseTime("until", &q.Until)
	if s := v.Get("before"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("before=%q: want the next value of the previous page", s))
		}
		q.Before = n
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxChangesLimit {
			errs = append(errs, fmt.Errorf("limit=%q: want 1 to %d", s, maxChangesLimit))
		}
		q.Limit = n
	}
	return q, errors.Join(errs...)
}
