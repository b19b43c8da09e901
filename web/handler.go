// Package web presents the Store of package metrics over HTTP: the HTML
// landing page, the JSON API, the Prometheus endpoint and the health checks,
// served through exporter-toolkit (TLS, basic auth). It reads the Store's
// immutable state (metrics.Status) and never writes it; the daemon and the
// directory are unknown to it.
package web

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/spnaudit/spnaudit/audit"
	"github.com/spnaudit/spnaudit/metrics"
	"github.com/spnaudit/spnaudit/report"
)

// Route is one endpoint of the JSON API.
type Route struct {
	// Pattern is an http.ServeMux pattern, e.g. "GET /api/v1/findings".
	Pattern string
	Handler http.HandlerFunc
}

// NewHandler serves the daemon's HTTP API:
//
//	/                 landing page: a summary, scan health, the findings by
//	                  rule or account with filters (?rule= &severity=
//	                  &account= &spn= &view=account), and a picture of each
//	                  farm of Options.Farms
//	/metrics          Prometheus exposition of gatherer (metrics.NewRegistry)
//	/-/healthy        200 while the process serves
//	/-/ready          200 after the first successful scan, else 503
//	/api/v1/findings  report.Document (as scan --format json) with
//	                  snapshot_age_seconds, 503 before the first successful scan
//
// and the extra API routes, which cmd adds for endpoints backed by something
// other than the Store.
func NewHandler(store *metrics.Store, gatherer prometheus.Gatherer, logger *slog.Logger, extra ...Route) http.Handler {
	return NewHandlerWith(store, gatherer, logger, Options{}, extra...)
}

// Options are what the landing page shows besides the Store's state.
type Options struct {
	// Farms are the farms the audit checks (farms: and those imported from
	// iis.config_files), each drawn on the landing page.
	Farms []audit.Farm
}

// NewHandlerWith is NewHandler with Options.
func NewHandlerWith(store *metrics.Store, gatherer prometheus.Gatherer, logger *slog.Logger, opts Options, extra ...Route) http.Handler {
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
	handleAPI(mux, append(apiRoutes(store, logger), extra...))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		serveLanding(w, r, store.Status(), opts.Farms, logger)
	})
	return mux
}

// apiRoutes are the JSON API endpoints the Store backs. A new endpoint is
// one more Route here (or, backed by something else, an extra of NewHandler).
func apiRoutes(store *metrics.Store, logger *slog.Logger) []Route {
	return []Route{
		{"GET /api/v1/findings", func(w http.ResponseWriter, _ *http.Request) { serveFindings(w, store.Status(), logger) }},
	}
}

// handleAPI registers the API routes. Their documents hold directory text
// anyone who may write an SPN chose: every one is JSON that a browser must
// never sniff into HTML, whatever its handler sets.
func handleAPI(mux *http.ServeMux, routes []Route) {
	for _, r := range routes {
		mux.HandleFunc(r.Pattern, func(w http.ResponseWriter, req *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			r.Handler(w, req)
		})
	}
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func serveFindings(w http.ResponseWriter, st metrics.Status, logger *slog.Logger) {
	if st.Published == nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "no successful scan yet"})
		return
	}
	doc := *st.Published.Document // a copy: the published state is immutable
	age := st.Now.Sub(st.Published.Succeeded).Seconds()
	doc.SnapshotAgeSeconds = &age
	var buf bytes.Buffer
	if err := report.WriteFindings(&buf, &doc, report.FormatJSON, report.Options{}); err != nil {
		logger.Error("encoding findings", "err", err)
		http.Error(w, "encoding findings failed", http.StatusInternalServerError)
		return
	}
	_, _ = w.Write(buf.Bytes())
}
