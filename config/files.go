package config

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"os"
)

// checkFile reports a file named by key that cannot be read, and returns
// whether path is set and readable. Only the path is ever printed.
func checkFile(key, path string, ps *problems) bool {
	if path == "" {
		return false
	}
	if cause, fix := fileProblem(path); cause != "" {
		ps.add(key, "%q %s; %s", path, cause, fix)
		return false
	}
	return true
}

// checkSecretFile is checkFile for the password file, whose value is not
// echoed: people put the password itself there by mistake.
func checkSecretFile(key, path string, ps *problems) {
	if path == "" {
		return
	}
	cause, fix := fileProblem(path)
	if cause == "" {
		if st, err := os.Stat(path); err == nil && st.Size() == 0 {
			cause, fix = "is empty", "write the password on its first line"
		}
	}
	if cause != "" {
		ps.add(key, "the file %s (its name is not shown, in case it is the password itself); %s", cause, fix)
	}
}

// fileProblem says what stops path from being read as a file and how to fix
// it, or returns empty strings.
func fileProblem(path string) (cause, fix string) {
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "does not exist", "check the path"
	case errors.Is(err, fs.ErrPermission):
		return "is not readable by this user", "give it read access"
	case err != nil:
		return "cannot be opened", "check the path"
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		return "is a directory", "give the path of a file"
	}
	return "", ""
}

// isKeytab checks the MIT keytab header: 0x05 then version 0x01 or 0x02.
func isKeytab(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var head [2]byte
	if _, err := io.ReadFull(f, head[:]); err != nil {
		return false
	}
	return head[0] == 0x05 && (head[1] == 0x01 || head[1] == 0x02)
}

// containsPEMCertificate reports whether the file holds at least one
// parseable PEM certificate, as ldapscan will need.
func containsPEMCertificate(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return false
		}
		if block.Type == "CERTIFICATE" {
			if _, err := x509.ParseCertificate(block.Bytes); err == nil {
				return true
			}
		}
	}
}
