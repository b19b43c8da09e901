// Package demo holds no code: its test runs the README's `make demo` against
// the lab DC (deploy/demo/demo.sh), loads the landing page in a headless
// Chromium, breaks the IIS farm with lab/break and checks that Alertmanager
// shows the DuplicateSPN alert and that lab/fix clears it. Its other tests
// keep the README in step with the configuration keys and the commands.
package demo
