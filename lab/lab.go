// Package lab runs a real Samba Active Directory domain controller on
// loopback for spnaudit's tests, CI and demo. It provisions the domain once
// into a state directory, starts Samba with its default hardening (SASL binds
// must sign or seal), creates a read-only audit account with a keytab, and
// seeds scenarios of accounts and SPNs, including duplicate SPNs written
// beneath Samba's uniqueness check the way a replication collision leaves them.
package lab

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Fixed identity of the lab domain. The realm is upper case because gokrb5
// compares principal names case-sensitively.
const (
	Realm     = "CORP.EXAMPLE.TEST"
	DNSDomain = "corp.example.test"
	NetBIOS   = "CORP"
	HostName  = "dc1"
	BaseDN    = "DC=corp,DC=example,DC=test"
	// DCHost is the DC's DNS name; the lab maps it to 127.0.0.1 in /etc/hosts
	// so that Kerberos service names and the TLS certificate match.
	DCHost = HostName + "." + DNSDomain
	// AuditUser is the read-only account spnaudit binds as.
	AuditUser = "spnaudit"

	hostsMarker = "# spnaudit-lab"
)

// Lab is one lab domain controller and its state directory.
type Lab struct {
	// Dir holds the provisioned domain, credentials and logs.
	Dir string
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// Netns, when set, runs the DC in that network namespace (created by Up)
	// with its own loopback and hosts file: a second lab beside the default
	// one. Its clients must run in the namespace too (ip netns exec).
	Netns string
	// SASLOverTLS sets "ldap server require strong auth = allow_sasl_over_tls":
	// GSSAPI binds without sign or seal over TLS, as Windows DCs take them.
	// Samba's default ("yes") refuses every GSSAPI bind over TLS.
	SASLOverTLS bool
}

// DefaultDir is where the lab lives unless SPNAUDIT_LAB_DIR says otherwise.
func DefaultDir() string {
	if d := os.Getenv("SPNAUDIT_LAB_DIR"); d != "" {
		return d
	}
	return "/tmp/spnaudit-lab"
}

// New returns the lab in DefaultDir.
func New(log io.Writer) *Lab { return &Lab{Dir: DefaultDir(), Log: log} }

// Paths of the files the lab writes for its clients.
func (l *Lab) Krb5Conf() string          { return filepath.Join(l.Dir, "krb5.conf") }
func (l *Lab) Keytab() string            { return filepath.Join(l.Dir, "audit.keytab") }
func (l *Lab) PasswordFile() string      { return filepath.Join(l.Dir, "audit.password") }
func (l *Lab) AdminPasswordFile() string { return filepath.Join(l.Dir, "admin.password") }
func (l *Lab) CAFile() string            { return filepath.Join(l.Dir, "tls", "ca.pem") }
func (l *Lab) ConfigFile() string        { return filepath.Join(l.Dir, "spnaudit.yaml") }
func (l *Lab) smbConf() string           { return filepath.Join(l.Dir, "etc", "smb.conf") }
func (l *Lab) samLDB() string            { return filepath.Join(l.Dir, "private", "sam.ldb") }
func (l *Lab) pidFile() string           { return filepath.Join(l.Dir, "run", "samba.pid") }

// partitionLDB is the raw domain partition file: writes to it bypass Samba's
// LDB modules, the SPN uniqueness check among them.
func (l *Lab) partitionLDB() string {
	return filepath.Join(l.Dir, "private", "sam.ldb.d", strings.ToUpper(BaseDN)+".ldb")
}

// LDAPURL and LDAPSURL address the lab DC by name.
func LDAPURL() string  { return "ldap://" + DCHost }
func LDAPSURL() string { return "ldaps://" + DCHost }

// ServicePrincipal is the DC's LDAP service principal name.
func ServicePrincipal() string { return "ldap/" + DCHost }

func (l *Lab) logf(format string, args ...any) {
	if l.Log != nil {
		fmt.Fprintf(l.Log, "lab: "+format+"\n", args...)
	}
}

// Up provisions the domain if needed, starts Samba if it is not running,
// waits until LDAP and the KDC answer and makes sure the audit account and its
// credentials exist. It is safe to call when the lab is already up.
func (l *Lab) Up(ctx context.Context) error {
	if os.Geteuid() != 0 {
		return ErrNotRoot
	}
	if err := l.ensureNetns(ctx); err != nil {
		return err
	}
	if err := ensureHostsEntry(l.hostsFile()); err != nil {
		return err
	}
	if _, err := os.Stat(l.samLDB()); err != nil {
		if err := l.provision(ctx); err != nil {
			return err
		}
	}
	if err := l.writeKrb5Conf(); err != nil {
		return err
	}
	tlsChanged, err := l.ensureTLS()
	if err != nil {
		return fmt.Errorf("lab TLS certificate: %w", err)
	}
	if tlsChanged && l.Running() {
		if err := l.Stop(); err != nil {
			return err
		}
	}
	if !l.Running() {
		if err := l.start(ctx); err != nil {
			return err
		}
	}
	if err := l.waitReady(ctx); err != nil {
		return err
	}
	return l.ensureAuditAccount(ctx)
}

func (l *Lab) provision(ctx context.Context) error {
	l.logf("provisioning %s in %s (about 5-20 s)", Realm, l.Dir)
	if err := os.RemoveAll(l.Dir); err != nil {
		return err
	}
	if err := os.MkdirAll(l.Dir, 0o700); err != nil {
		return err
	}
	adminPass := randomPassword()
	if err := os.WriteFile(l.AdminPasswordFile(), []byte(adminPass), 0o600); err != nil {
		return err
	}
	cctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(cctx, "samba-tool", "domain", "provision",
		"--targetdir="+l.Dir, "--realm="+Realm, "--domain="+NetBIOS,
		"--server-role=dc", "--dns-backend=SAMBA_INTERNAL", "--adminpass="+adminPass,
		"--host-name="+HostName, "--use-rfc2307",
		"--option=interfaces=lo", "--option=bind interfaces only=yes").CombinedOutput()
	if err != nil {
		return fmt.Errorf("samba-tool domain provision: %w: %s", err, tail(out))
	}
	return l.writeSMBConf()
}

// writeSMBConf keeps the generated configuration but never lets Samba forward
// DNS off the machine, and keeps logs and pid files inside the lab directory.
// Samba's default hardening (ldap server require strong auth = yes) is kept.
func (l *Lab) writeSMBConf() error {
	raw, err := os.ReadFile(l.smbConf())
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, line := range strings.Split(string(raw), "\n") {
		t := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(t, "dns forwarder"):
			b.WriteString("\tserver services = -dns\n")
			b.WriteString("\tpid directory = " + filepath.Join(l.Dir, "run") + "\n")
			if l.SASLOverTLS {
				b.WriteString("\tldap server require strong auth = allow_sasl_over_tls\n")
			}
			continue
		case strings.HasPrefix(t, "log file"):
			b.WriteString("\tlog file = " + filepath.Join(l.Dir, "log.%m") + "\n")
			continue
		}
		b.WriteString(line + "\n")
	}
	if err := os.MkdirAll(filepath.Join(l.Dir, "run"), 0o755); err != nil {
		return err
	}
	return os.WriteFile(l.smbConf(), []byte(strings.TrimRight(b.String(), "\n")+"\n"), 0o644)
}

func (l *Lab) writeKrb5Conf() error {
	conf := fmt.Sprintf(`[libdefaults]
	default_realm = %[1]s
	dns_lookup_kdc = false
	dns_lookup_realm = false
	rdns = false
	dns_canonicalize_hostname = false
	# TCP only: UDP answers get lost on a loaded machine.
	udp_preference_limit = 1

[realms]
	%[1]s = {
		kdc = 127.0.0.1
		admin_server = 127.0.0.1
	}

[domain_realm]
	.%[2]s = %[1]s
	%[2]s = %[1]s
`, Realm, DNSDomain)
	return writeFileAtomic(l.Krb5Conf(), []byte(conf), 0o644)
}

// writeFileAtomic replaces path with data unless it holds data already.
// Test binaries of other packages read the lab's files (krb5.conf) while
// one of them brings the lab up: a file truncated in place would read as
// empty ("no KDC is known for the realm"), a renamed one never does.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, nothing is left to remove
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func (l *Lab) start(ctx context.Context) error {
	l.logf("starting samba")
	logFile, err := os.OpenFile(filepath.Join(l.Dir, "samba.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	// Samba must outlive the command or test that started it, so it runs in
	// its own session and is not tied to ctx.
	cmd := l.command(context.Background(), "samba", "-s", l.smbConf(), "-i", "--debug-stdout")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start samba: %w", err)
	}
	go func() { _ = cmd.Wait() }()
	return nil
}

// Running reports whether the lab's samba process is alive. The pid file
// outlives a killed Samba and its pid may have been reused, so the process
// must also be samba.
func (l *Lab) Running() bool {
	pid := l.pid()
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return false
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	return err == nil && filepath.Base(exe) == "samba"
}

func (l *Lab) pid() int {
	raw, err := os.ReadFile(l.pidFile())
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	return pid
}

// waitReady waits until the KDC and LDAP accept connections and the audit
// tooling can search the directory.
func (l *Lab) waitReady(ctx context.Context) error {
	deadline := time.Now().Add(90 * time.Second)
	for {
		if l.portOpen(ctx, "88") && l.portOpen(ctx, "389") && l.portOpen(ctx, "636") {
			if _, err := l.run(ctx, "ldbsearch", "-H", l.samLDB(), "-b", BaseDN, "-s", "base", "dn"); err == nil {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("samba did not answer on 127.0.0.1:88/389/636 within 90 s; see %s", filepath.Join(l.Dir, "samba.out"))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// portOpen reports whether the DC accepts TCP connections on port.
func (l *Lab) portOpen(ctx context.Context, port string) bool {
	if l.Netns == "" {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, 300*time.Millisecond)
		if err != nil {
			return false
		}
		c.Close()
		return true
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return l.command(cctx, "bash", "-c", ": </dev/tcp/127.0.0.1/"+port).Run() == nil
}

// command runs name in the lab's network namespace, if it has one.
func (l *Lab) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	if l.Netns != "" {
		return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", l.Netns, name}, args...)...)
	}
	return exec.CommandContext(ctx, name, args...)
}

// ensureNetns creates the lab's network namespace with its loopback up.
func (l *Lab) ensureNetns(ctx context.Context) error {
	if l.Netns == "" {
		return nil
	}
	if err := exec.CommandContext(ctx, "ip", "netns", "exec", l.Netns, "true").Run(); err != nil {
		if out, err := exec.CommandContext(ctx, "ip", "netns", "add", l.Netns).CombinedOutput(); err != nil {
			return fmt.Errorf("ip netns add %s: %w: %s", l.Netns, err, tail(out))
		}
	}
	if out, err := l.command(ctx, "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		return fmt.Errorf("loopback in %s: %w: %s", l.Netns, err, tail(out))
	}
	return nil
}

// hostsFile is the hosts file the lab's clients see: ip netns exec
// bind-mounts /etc/netns/NAME/hosts over /etc/hosts.
func (l *Lab) hostsFile() string {
	if l.Netns != "" {
		return filepath.Join("/etc/netns", l.Netns, "hosts")
	}
	return "/etc/hosts"
}

// ensureAuditAccount creates the read-only audit account (an ordinary domain
// user: Domain Users can read SPNs) with a password file and a keytab.
func (l *Lab) ensureAuditAccount(ctx context.Context) error {
	if _, err := os.Stat(l.Keytab()); err == nil {
		return nil
	}
	pass := randomPassword()
	out, err := l.run(ctx, "samba-tool", "user", "create", AuditUser, pass,
		"-H", l.samLDB(), "--description=spnaudit read-only audit account")
	if err != nil && !strings.Contains(out, "already exists") {
		return fmt.Errorf("create audit account: %w: %s", err, out)
	}
	if strings.Contains(out, "already exists") {
		if out, err := l.run(ctx, "samba-tool", "user", "setpassword", AuditUser, "--newpassword="+pass, "-H", l.samLDB()); err != nil {
			return fmt.Errorf("reset audit account password: %w: %s", err, out)
		}
	}
	if err := os.WriteFile(l.PasswordFile(), []byte(pass+"\n"), 0o600); err != nil {
		return err
	}
	if out, err := l.run(ctx, "samba-tool", "domain", "exportkeytab", l.Keytab(),
		"--principal="+AuditUser+"@"+Realm, "-s", l.smbConf()); err != nil {
		return fmt.Errorf("export audit keytab: %w: %s", err, out)
	}
	return os.Chmod(l.Keytab(), 0o600)
}

// Stop stops Samba and keeps the provisioned domain for a quick restart.
func (l *Lab) Stop() error {
	if !l.Running() {
		return nil
	}
	pid := l.pid()
	_ = syscall.Kill(pid, syscall.SIGTERM)
	for i := 0; i < 100; i++ {
		if syscall.Kill(pid, 0) != nil && !l.portOpen(context.Background(), "389") {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	_ = syscall.Kill(pid, syscall.SIGKILL)
	return nil
}

// Down stops Samba, removes the state directory and the hosts entry.
func (l *Lab) Down() error {
	if err := l.Stop(); err != nil {
		return err
	}
	if err := os.RemoveAll(l.Dir); err != nil {
		return err
	}
	if l.Netns != "" {
		_ = exec.Command("ip", "netns", "del", l.Netns).Run()
		return os.RemoveAll(filepath.Dir(l.hostsFile()))
	}
	return removeHostsEntry(l.hostsFile())
}

// CCache obtains a ticket for the audit account from its keytab into a FILE
// credential cache (for kerberos.ccache and ldapsearch) and returns its path.
func (l *Lab) CCache(ctx context.Context) (string, error) {
	path := filepath.Join(l.Dir, "audit.ccache")
	cmd := l.command(ctx, "kinit", "-k", "-t", l.Keytab(), AuditUser+"@"+Realm)
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+l.Krb5Conf(), "KRB5CCNAME=FILE:"+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("kinit: %w: %s", err, tail(out))
	}
	return path, nil
}

// run executes a lab tool with a timeout and returns its combined output.
func (l *Lab) run(ctx context.Context, name string, args ...string) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, name, args...)
	cmd.Env = append(os.Environ(), "KRB5_CONFIG="+l.Krb5Conf())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// ldbApply applies ldif to the database at url with an ldb tool; options are
// extra tool arguments.
func (l *Lab) ldbApply(ctx context.Context, tool, url, ldif string, options ...string) error {
	f, err := os.CreateTemp(l.Dir, "apply-*.ldif")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.WriteString(ldif); err != nil {
		f.Close()
		return err
	}
	f.Close()
	out, err := l.run(ctx, tool, append(append([]string{"-H", url}, options...), f.Name())...)
	if err != nil {
		return fmt.Errorf("%s: %w: %s", tool, err, tail([]byte(out)))
	}
	return ldbFailure(tool, out)
}

// ldbFailure reports a record the tool refused although it exited 0: ldbadd
// prints "ERR: ..." for a refused record, stops there and still exits 0, so a
// scenario would otherwise be applied in part without a word.
func ldbFailure(tool, out string) error {
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "ERR:") {
			return fmt.Errorf("%s refused a record (it exits 0 all the same): %s", tool, tail([]byte(out)))
		}
	}
	return nil
}

func tail(out []byte) string {
	s := strings.TrimSpace(string(out))
	lines := strings.Split(s, "\n")
	if len(lines) > 8 {
		lines = lines[len(lines)-8:]
	}
	return strings.Join(lines, " | ")
}

// ensureHostsEntry maps the DC's name to loopback so that Kerberos service
// names, the TLS certificate and ldapsearch -Y GSSAPI all use the real name.
func ensureHostsEntry(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		raw, err = []byte("127.0.0.1 localhost\n"), os.WriteFile(path, []byte("127.0.0.1 localhost\n"), 0o644)
	}
	if err != nil {
		return err
	}
	if bytes.Contains(raw, []byte(hostsMarker)) {
		return nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("add %s to %s (run as root): %w", DCHost, path, err)
	}
	defer f.Close()
	if len(raw) > 0 && raw[len(raw)-1] != '\n' {
		f.WriteString("\n")
	}
	_, err = fmt.Fprintf(f, "127.0.0.1 %s %s %s\n", DCHost, HostName, hostsMarker)
	return err
}

func removeHostsEntry(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var keep []string
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.Contains(line, hostsMarker) {
			keep = append(keep, line)
		}
	}
	out := strings.Join(keep, "\n")
	if out == string(raw) {
		return nil
	}
	// /etc/hosts may be a bind mount: rewrite in place rather than rename.
	return os.WriteFile(path, []byte(out), 0o644)
}

// ErrNotRoot explains why the lab cannot start.
var ErrNotRoot = errors.New("the lab runs Samba on ports 88 and 389 and edits /etc/hosts: run it as root")

// randomPassword satisfies AD's default complexity policy.
func randomPassword() string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return "Lab-" + hex.EncodeToString(b) + "!9"
}

// Locked runs fn holding the lab's machine-wide lock, so that concurrent test
// binaries and lab commands do not provision or seed at the same time.
func (l *Lab) Locked(fn func() error) error {
	f, err := os.OpenFile(strings.TrimRight(l.Dir, "/")+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN) //nolint:errcheck
	return fn()
}

// EnsureFarm applies the IIS farm scenario unless the directory already holds
// it unchanged.
func (l *Lab) EnsureFarm(ctx context.Context) error {
	sc, err := LoadScenario(FarmScenarioPath())
	if err != nil {
		return err
	}
	if l.Applied(ctx, sc) {
		return nil
	}
	return l.Apply(ctx, sc)
}
