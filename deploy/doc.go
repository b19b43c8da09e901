// Package deploy holds no code: its tests check the deployment examples in
// this directory (Prometheus alert rules and their unit tests, the Grafana
// dashboard, the Kubernetes manifests) against promtool, docs/metrics.md,
// docs/runbooks.md and the metrics the collector really exports.
package deploy
