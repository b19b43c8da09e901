package metrics

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/spnaudit/spnaudit/report"
)

// NewHandler serves the daemon's HTTP API:
//
//	/                 landing page: scan health and findings grouped by rule
//	/metrics          Prometheus exposition of gatherer (see NewRegistry)
//	/-/healthy        200 while the process serves
//	/-/ready          200 after the first successful scan, else 503
//	/api/v1/findings  report.Document (as scan --format json) with
//	                  snapshot_age_seconds, 503 before the first successful scan
func NewHandler(store *Store, gatherer prometheus.Gatherer, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
	}))
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		writeText(w, http.StatusOK, "Healthy.\n")
	})
	mux.HandleFunc("GET /-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !store.Ready() {
			writeText(w, http.StatusServiceUnavailable, "Not ready: no successful scan yet.\n")
			return
		}
		writeText(w, http.StatusOK, "Ready.\n")
	})
	mux.HandleFunc("GET /api/v1/findings", func(w http.ResponseWriter, _ *http.Request) {
		serveFindings(w, store, logger)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		serveLanding(w, store, logger)
	})
	return mux
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func serveFindings(w http.ResponseWriter, store *Store, logger *slog.Logger) {
	st := store.load()
	w.Header().Set("Content-Type", "application/json")
	// The document holds directory text anyone who may write an SPN chose:
	// a browser must never sniff it into HTML.
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if st.snapshot == nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "no successful scan yet"})
		return
	}
	doc := *st.snapshot.document // a copy: the published state is immutable
	age := store.opts.Now().Sub(st.snapshot.succeeded).Seconds()
	doc.SnapshotAgeSeconds = &age
	var buf bytes.Buffer
	if err := report.WriteFindings(&buf, &doc, report.FormatJSON, report.Options{}); err != nil {
		logger.Error("encoding findings", "err", err)
		http.Error(w, "encoding findings failed", http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(buf.Bytes())
}
