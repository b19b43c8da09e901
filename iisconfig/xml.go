package iisconfig

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// element is one XML element of a configuration file, with the line its
// start tag ends on. Attributes named password are dropped while decoding:
// an app pool's (encrypted) password is never held, so it cannot be printed
// or logged by mistake.
type element struct {
	name     string
	attrs    []xml.Attr
	children []*element
	line     int
}

// attr returns the value of the attribute named name (case-sensitive, as
// IIS's schema is) and whether it is present.
func (e *element) attr(name string) (string, bool) {
	for _, a := range e.attrs {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value, true
		}
	}
	return "", false
}

// child returns the first child element named name, or nil.
func (e *element) child(name string) *element {
	for _, c := range e.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// isPassword reports whether an attribute holds a secret that must never be
// kept: processModel password, virtualDirectory password, and the like.
func isPassword(name string) bool {
	return strings.EqualFold(name, "password")
}

// maxFileSize bounds what is read of one configuration file; applicationHost
// files of large farms are a few MB.
const maxFileSize = 64 << 20

// parseXML decodes a whole configuration file into elements. A syntax error
// names the file and line.
func parseXML(file string, r io.Reader) (*element, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s: larger than %d MB; is it an IIS configuration file?", file, maxFileSize>>20)
	}
	// IIS writes UTF-8 with a byte order mark; appcmd may declare UTF-16 when
	// redirected by PowerShell 5, which we do not transcode.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(data) >= 2 && (data[0] == 0xff && data[1] == 0xfe || data[0] == 0xfe && data[1] == 0xff) {
		return nil, fmt.Errorf("%s:1: UTF-16 text; save it as UTF-8 (appcmd ... /xml | Out-File -Encoding utf8)", file)
	}
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = func(charset string, input io.Reader) (io.Reader, error) {
		if strings.EqualFold(charset, "utf-8") || strings.EqualFold(charset, "us-ascii") {
			return input, nil
		}
		return nil, fmt.Errorf("encoding %q: save the file as UTF-8", charset)
	}
	var root *element
	var stack []*element
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var syn *xml.SyntaxError
			if errors.As(err, &syn) {
				return nil, fmt.Errorf("%s:%d: malformed XML: %s", file, syn.Line, syn.Msg)
			}
			line, _ := dec.InputPos()
			return nil, fmt.Errorf("%s:%d: malformed XML: %v", file, line, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			line, _ := dec.InputPos()
			e := &element{name: t.Name.Local, line: line}
			for _, a := range t.Attr {
				if !isPassword(a.Name.Local) {
					e.attrs = append(e.attrs, a)
				}
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, fmt.Errorf("%s:%d: malformed XML: a second root element <%s>", file, line, e.name)
				}
				root = e
			} else {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, e)
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	if root == nil {
		return nil, fmt.Errorf("%s:1: no XML element; is it an IIS configuration file?", file)
	}
	return root, nil
}
