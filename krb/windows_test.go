package krb

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/jcmturner/gokrb5/v8/types"
)

// windowsVector is one entry of testdata/windows/wrap-tokens.json: a token
// Windows produced, with the key that opens it (see the README beside it
// for the fields and where each token comes from).
type windowsVector struct {
	ID         string `json:"id"`
	Source     string `json:"source"`
	Origin     string `json:"origin"`
	TokenType  string `json:"token_type"`
	Layout     string `json:"layout"`
	EncType    int32  `json:"enctype"`
	Key        string `json:"key_hex"`
	Direction  string `json:"direction"`
	KeyUsage   uint32 `json:"key_usage"`
	Sealed     bool   `json:"sealed"`
	Flags      *int   `json:"flags"`
	EC         *int   `json:"ec"`
	RRC        *int   `json:"rrc"`
	SndSeq     uint64 `json:"snd_seq"`
	Rotation   int    `json:"rotation"`
	Token      string `json:"token_hex"`
	Plaintext  string `json:"expected_plaintext_hex"`
	SignPrefix string `json:"sign_only_prefix_hex"`
	SignSuffix string `json:"sign_only_suffix_hex"`
}

func loadWindowsVectors(t *testing.T) []windowsVector {
	t.Helper()
	b, err := os.ReadFile("testdata/windows/wrap-tokens.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []windowsVector `json:"vectors"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	return f.Vectors
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// keyed reports whether v is an RFC 4121 token this package can open.
func (v windowsVector) keyed() bool {
	return v.Key != "" && (v.TokenType == "wrap" || v.TokenType == "mic")
}

// wrapEx reports whether v was made by GSS_WrapEx (DCE/RPC), not GSS_Wrap.
func (v windowsVector) wrapEx() bool { return strings.HasPrefix(v.Layout, "dce") }

// receiver returns the context of the side that receives v, as the AP
// exchange left it: the acceptor subkey from the vector, an initiator subkey
// that must not be used, and the sender's sequence number next.
func (v windowsVector) receiver(t *testing.T) *securityContext {
	t.Helper()
	ak := types.EncryptionKey{KeyType: v.EncType, KeyValue: unhex(t, v.Key)}
	return &securityContext{
		initiator:    v.Direction == "acceptor",
		initiatorKey: randomKey(t, v.EncType),
		acceptorKey:  &ak,
		recvSeq:      v.SndSeq,
	}
}

// open passes token (and sign-only data) to the project's own code for v.
func (v windowsVector) open(t *testing.T, token, prefix, suffix []byte) ([]byte, error) {
	t.Helper()
	ctx := v.receiver(t)
	switch {
	case v.TokenType == "mic":
		return nil, ctx.verifyMIC(unhex(t, v.Plaintext), token)
	case v.wrapEx():
		return ctx.unwrapEx(token, prefix, suffix)
	}
	payload, sealed, err := ctx.unwrap(token)
	if err == nil && sealed != v.Sealed {
		t.Fatalf("sealed = %v, want %v", sealed, v.Sealed)
	}
	return payload, err
}

// TestWindowsTokens opens every keyed token Windows produced (WinRM and
// PowerShell GSS_Wrap tokens with EC 0 and RRC 28, the same re-rotated to
// RRC 0, DCE/RPC GSS_WrapEx tokens with EC 16 and RRC 28 and signed
// headers, SPNEGO MICs) and checks the plaintext.
func TestWindowsTokens(t *testing.T) {
	counts := map[string]int{}
	for _, v := range loadWindowsVectors(t) {
		if !v.keyed() {
			continue
		}
		t.Run(v.ID, func(t *testing.T) {
			token := unhex(t, v.Token)
			if v.TokenType == "wrap" {
				rot := *v.RRC
				if v.wrapEx() {
					rot += *v.EC
				}
				if rot != v.Rotation {
					t.Fatalf("the vector rotates by %d, the mode chosen for it by %d", v.Rotation, rot)
				}
				if u := usage(v.Direction == "initiator"); u != v.KeyUsage {
					t.Fatalf("key usage %d, the vector says %d", u, v.KeyUsage)
				}
			}
			payload, err := v.open(t, token, unhex(t, v.SignPrefix), unhex(t, v.SignSuffix))
			if err != nil {
				t.Fatal(err)
			}
			if v.TokenType == "wrap" && !bytes.Equal(payload, unhex(t, v.Plaintext)) {
				t.Fatalf("plaintext differs:\n got %.80x\nwant %.80s", payload, v.Plaintext)
			}
			if v.wrapEx() && len(v.SignPrefix) > 0 {
				// The signed header is part of the proof: without it the
				// checksum must fail, as the vectors' notes say.
				if _, err := v.receiver(t).unwrapEx(token, nil, nil); err == nil {
					t.Fatal("GSS_WrapEx token opened without its sign-only header and trailer")
				}
			}
			counts[v.TokenType+map[bool]string{true: "/wrapEx", false: ""}[v.wrapEx()]]++
		})
	}
	t.Logf("opened %v", counts)
	if counts["wrap"] < 4 || counts["wrap/wrapEx"] < 10 || counts["mic"] < 2 {
		t.Fatalf("fewer vectors than expected: %v", counts)
	}
}

var allBits = flag.Bool("allbits", false, "TestWindowsTokensBitFlips: flip every bit of the large tokens too")

// TestWindowsTokensBitFlips flips single bits of each keyed token (and of
// its sign-only header and trailer) and requires every result to be
// refused: every bit of tokens up to 1 KiB and of the sign-only data; of the
// larger WinRM tokens, every bit of the first and last 256 bytes (header,
// confounder, rotated checksum, encrypted header copy) and of every 13th
// byte in between, or every bit with -allbits (about 20 times slower).
func TestWindowsTokensBitFlips(t *testing.T) {
	for _, v := range loadWindowsVectors(t) {
		if !v.keyed() {
			continue
		}
		t.Run(v.ID, func(t *testing.T) {
			t.Parallel()
			token, prefix, suffix := unhex(t, v.Token), unhex(t, v.SignPrefix), unhex(t, v.SignSuffix)
			tried := 0
			for part, buf := range map[string][]byte{"token": token, "sign-only prefix": prefix, "sign-only suffix": suffix} {
				for i := range buf {
					if !*allBits && len(buf) > 1024 && i >= 256 && i < len(buf)-256 && i%13 != 0 {
						continue
					}
					for bit := range 8 {
						buf[i] ^= 1 << bit
						_, err := v.open(t, token, prefix, suffix)
						buf[i] ^= 1 << bit
						if err == nil {
							t.Fatalf("%s byte %d bit %d flipped: accepted", part, i, bit)
						}
						tried++
					}
				}
			}
			if _, err := v.open(t, token, prefix, suffix); err != nil {
				t.Fatalf("untampered control: %v", err)
			}
			t.Logf("%d single-bit flips refused", tried)
		})
	}
}

// TestWindowsSignOnlyLDAPStructure checks, on the one Windows LDAP
// integrity-only token published (no key), the layout unwrap assumes:
// header, then after rotating left by RRC alone the LDAPMessage in clear
// followed by an EC-byte checksum.
func TestWindowsSignOnlyLDAPStructure(t *testing.T) {
	var v *windowsVector
	vs := loadWindowsVectors(t)
	for i := range vs {
		if vs[i].TokenType == "wrap" && vs[i].Key == "" {
			v = &vs[i]
		}
	}
	if v == nil {
		t.Fatal("no unkeyed LDAP vector")
	}
	token := unhex(t, v.Token)
	hdr := token[:wrapHeaderLen]
	if hdr[0] != 0x05 || hdr[1] != 0x04 || hdr[2] != flagAcceptorSubkey || hdr[3] != 0xFF {
		t.Fatalf("header %x", hdr)
	}
	ec, rrc := int(hdr[4])<<8|int(hdr[5]), int(hdr[6])<<8|int(hdr[7])
	if ec != 12 || rrc != 12 {
		t.Fatalf("EC %d RRC %d", ec, rrc)
	}
	body := unrotate(token[wrapHeaderLen:], rrc)
	if !bytes.Equal(body[:len(body)-ec], unhex(t, v.Plaintext)) {
		t.Fatal("after RRC rotation the payload is not the LDAPMessage")
	}
}

// TestWindowsRC4TokenRefused: the one RC4 (RFC 4757) example is refused with
// the enctype explanation, not misparsed.
func TestWindowsRC4TokenRefused(t *testing.T) {
	for _, v := range loadWindowsVectors(t) {
		if v.TokenType != "wrap-rfc4757" {
			continue
		}
		ctx := &securityContext{initiatorKey: types.EncryptionKey{KeyType: v.EncType, KeyValue: unhex(t, v.Key)}}
		if _, _, err := ctx.unwrap(unhex(t, v.Token)); err == nil {
			t.Fatal("RC4 token accepted")
		}
		return
	}
	t.Fatal("no RC4 vector")
}
