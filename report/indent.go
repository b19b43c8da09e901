package report

// appendIndent appends compact JSON (as json.Marshal and json.Encoder write
// it) indented exactly as json.Indent would with prefix and indent, in one
// pass that tracks only strings and nesting: encoding/json's Indent runs
// its full validating scanner over every byte, which was two thirds of the
// cost of writing a large report (issue 9). src must be valid JSON;
// whitespace outside strings (the Encoder's trailing newline) is dropped.
func appendIndent(dst, src []byte, prefix, indent string) []byte {
	depth := 0
	inString, escaped, open := false, false, false
	newline := func() {
		dst = append(dst, '\n')
		dst = append(dst, prefix...)
		for range depth {
			dst = append(dst, indent...)
		}
	}
	for _, c := range src {
		if inString {
			dst = append(dst, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		// An object or array just opened gets its first line, unless it
		// closes at once: json.Indent writes {} and [].
		if open && c != '}' && c != ']' {
			open = false
			depth++
			newline()
		}
		switch c {
		case '"':
			inString = true
			dst = append(dst, c)
		case '{', '[':
			dst = append(dst, c)
			open = true
		case ',':
			dst = append(dst, c)
			newline()
		case ':':
			dst = append(dst, c, ' ')
		case '}', ']':
			if open {
				open = false
			} else {
				depth--
				newline()
			}
			dst = append(dst, c)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}
