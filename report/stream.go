package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// writeJSONStreaming writes what writeJSON(w, head) would write had the
// empty array under key (at nesting depth: the top-level object's keys are
// at depth 1)
// held the n elements elem returns, but encodes one element at a time: a
// document of a million findings is never held in memory as JSON, twice
// (json.Encoder marshals the whole value, then indents it into a second
// buffer), before the first byte is written (issue 9).
func writeJSONStreaming(w io.Writer, head any, key string, depth, n int, elem func(i int) any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(head); err != nil {
		return err
	}
	indent := strings.Repeat("  ", depth)
	marker := "\n" + indent + `"` + key + `": []`
	before, after, ok := bytes.Cut(buf.Bytes(), []byte(marker))
	if !ok {
		return fmt.Errorf("report: no empty %q array at depth %d to stream into", key, depth)
	}
	if n == 0 {
		_, err := w.Write(buf.Bytes())
		return err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.Write(before)
	bw.WriteString(marker[:len(marker)-1]) // up to "[": the elements follow
	if enc, err := indentEncoderFor(reflect.TypeOf(elem(0))); err == nil {
		if err := writeElements(bw, indent, n, elem, enc, depth+1); err != nil {
			return err
		}
	} else {
		var eb bytes.Buffer
		ee := json.NewEncoder(&eb)
		ee.SetEscapeHTML(false)
		var indented []byte
		for i := range n {
			if i > 0 {
				bw.WriteByte(',')
			}
			bw.WriteString("\n" + indent + "  ")
			eb.Reset()
			if err := ee.Encode(elem(i)); err != nil {
				return err
			}
			indented = appendIndent(indented[:0], eb.Bytes(), indent+"  ", "  ")
			bw.Write(indented)
		}
	}
	bw.WriteString("\n" + indent + "]")
	bw.Write(after)
	return bw.Flush()
}

// writeElements writes the n elements with their indent encoder, each at
// nesting depth, as the loop of encoding/json calls above would.
func writeElements(bw *bufio.Writer, indent string, n int, elem func(i int) any, enc indentEncoder, depth int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			je, ok := r.(jsonEncodeError)
			if !ok {
				panic(r)
			}
			err = je.err
		}
	}()
	var buf []byte
	for i := range n {
		buf = buf[:0]
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '\n')
		buf = append(buf, indent...)
		buf = append(buf, ' ', ' ')
		buf = enc(buf, reflect.ValueOf(elem(i)), depth)
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return nil
}
