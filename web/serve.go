package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"time"

	toolkit "github.com/prometheus/exporter-toolkit/web"
)

// ServerConfig is the web.* configuration.
type ServerConfig struct {
	// ListenAddresses are web.listen_address values, e.g. ":9688".
	ListenAddresses []string
	// ConfigFile is web.config_file: the exporter-toolkit web configuration
	// (TLS, basic auth), "" for plain HTTP. Check it with toolkit.Validate.
	ConfigFile string
}

// shutdownTimeout bounds how long in-flight requests may finish after the
// context is cancelled.
const shutdownTimeout = 5 * time.Second

// Serve serves handler until ctx is cancelled, then shuts down gracefully. It
// returns nil after a shutdown caused by ctx, and the listen or serve error
// otherwise.
func Serve(ctx context.Context, handler http.Handler, cfg ServerConfig, logger *slog.Logger) error {
	server := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	addresses := slices.Clone(cfg.ListenAddresses)
	systemdSocket := false
	flags := &toolkit.FlagConfig{
		WebListenAddresses: &addresses,
		WebSystemdSocket:   &systemdSocket,
		WebConfigFile:      &cfg.ConfigFile,
	}
	served := make(chan error, 1)
	go func() { served <- toolkit.ListenAndServe(server, flags, logger) }()

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
