package ldapscan

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"runtime"
	"slices"
	"sync/atomic"
	"unsafe"

	"github.com/spnaudit/spnaudit/inventory"
)

// LDIFResult is the inventory read from an LDIF export.
type LDIFResult struct {
	// Snapshot has Server set to the source name; Started is left zero for the
	// caller to fill.
	Snapshot *inventory.Snapshot `json:"snapshot"`
	Entries  int                 `json:"entries"` // entries read
	// Warnings describe what could not be used: values an export left
	// truncated by range retrieval, change records, URL values.
	Warnings []string `json:"warnings,omitempty"`
	// MoreWarnings counts warnings beyond the first maxLDIFWarnings.
	MoreWarnings int `json:"more_warnings,omitempty"`
	// PrivilegeUnknown counts the objects whose privilege through group
	// membership the export cannot tell (it lacks their domain's protected
	// groups); PrivilegeNote says so and how to export them.
	PrivilegeUnknown int    `json:"privilege_unknown,omitempty"`
	PrivilegeNote    string `json:"privilege_note,omitempty"`
	// AESThresholdUnknown lists the domains of the SPN accounts whose
	// Read-only Domain Controllers group (RID 521) the export lacks: which of
	// their accounts lack AES keys cannot be told (see AESThresholdHint).
	AESThresholdUnknown []string `json:"aes_threshold_unknown,omitempty"`
}

const (
	maxLDIFWarnings = 100
	maxLDIFLine     = 64 << 20 // longest physical line accepted
)

// ReadLDIF reads an LDIF export (ldifde, or ldapsearch with or without -LLL)
// of a directory: folded lines, CRLF line ends, comments, base64 ("::")
// values, a version line, and values split by AD range retrieval
// ("servicePrincipalName;range=0-1499:") which are merged. Objects with SPNs
// become the inventory; crossRef, sPNMappings/dSHeuristics and dnsNode
// entries, when present, the directory settings, and each domain's
// Read-only Domain Controllers group (RID 521) its AES threshold (a warning
// says when the export lacks it). Values given by URL
// (":<") are never fetched. source names the export in the snapshot.
func ReadLDIF(r io.Reader, source string) (*LDIFResult, error) {
	lr := &ldifReader{b: newDirectoryBuilder(), res: &LDIFResult{}, domains: map[string]struct{}{}, groups: newMembershipBuilder(), ordered: true}
	if err := lr.read(r); err != nil {
		return nil, err
	}
	objects := inventory.Pointers(lr.objects)
	if !lr.ordered {
		sortObjects(objects)
	}
	objects = lr.applyPrivileges(objects)
	dir := lr.b.directory()
	if dir.ForestDNS == "" && len(lr.domains) == 1 {
		for d := range lr.domains {
			dir.ForestDNS = d
		}
	}
	if len(dir.Domains) == 0 {
		for d := range lr.domains {
			dir.Domains = append(dir.Domains, d)
		}
		slices.Sort(dir.Domains)
	}
	lr.res.AESThresholdUnknown = lr.unknownAESThresholds(dir)
	lr.res.Snapshot = &inventory.Snapshot{Directory: dir, Objects: objects, Server: source}
	return lr.res, nil
}

// ldifReader gathers what the chunks of an export give, in their order.
type ldifReader struct {
	b       *directoryBuilder
	res     *LDIFResult
	objects []inventory.Object
	// ordered: the objects came in strictly increasing compareObjects
	// order (each chunk's, checked on its core, and across chunks), so
	// sorting them would leave them as they are (issue 9: 30 to 80 ms on
	// one core for 255,000 objects). Equal keys sort all the same.
	ordered bool
	domains map[string]struct{} // domains of the objects, when no crossRef says
	groups  *membershipBuilder  // group entries and memberOf values, for privilege
}

// read parses the export on every core (issue 9): splitLDIF cuts it at empty
// lines, which always end a record, into chunks; each chunk is parsed on its
// own goroutine (parseChunk); the results are taken in the chunk order, so
// the objects, the warnings and the first error are those of a reading from
// the first line to the last.
func (lr *ldifReader) read(r io.Reader) error {
	workers := runtime.GOMAXPROCS(0)
	futures := make(chan chan *chunkResult, workers+1)
	stop := make(chan struct{})
	done := make(chan struct{})
	// Slices of objects the merge has copied, for the parsers to fill again.
	recycle := make(chan []inventory.Object, workers+2)
	// Chunk buffers the parsers are done with, for the splitter to fill
	// again: fresh memory costs a page fault per 4 KiB (issue 9).
	buffers := make(chan []byte, workers+2)
	go func() {
		defer close(done)
		defer close(futures)
		splitLDIF(r, buffers, func(c ldifChunk) bool {
			select {
			case <-stop: // checked first: the drain below also receives
				return false
			default:
			}
			fut := make(chan *chunkResult, 1)
			select {
			case futures <- fut:
			case <-stop:
				return false
			}
			var objects []inventory.Object
			select {
			case objects = <-recycle:
			default:
			}
			go func() {
				res := parseChunk(c, objects)
				// The result holds no byte of the chunk (values are
				// copied into strings, deferred records detached): its
				// buffer goes back to the splitter.
				select {
				case buffers <- c.data[:0]:
				default:
				}
				fut <- res
			}()
			return true
		})
	}()
	// On an error, stop the splitter and wait for it: no goroutine reads r
	// once ReadLDIF has returned.
	defer func() {
		close(stop)
		for range futures {
		}
		<-done
	}()
	// Each chunk's objects are copied once into lr.objects. When the size of
	// the export is known (a regular file), lr.objects is reserved from the
	// first chunk's objects per byte and filled as the chunks come, while
	// the others are parsed, and each chunk's slice goes back to the parsers
	// (recycle): no second copy of all objects at the end, which, besides
	// its own time, kept the collector spinning to preempt it (issue 9).
	// Otherwise the chunks' objects are kept apart and copied once, into a
	// slice of the exact size: appending them as they come would copy them
	// again at every growth and hold up to three times their size.
	size := sizeHint(r)
	var parts [][]inventory.Object
	total, read := 0, 0
	var last *inventory.Object // the last object so far
	var lastObject inventory.Object
	// The reservation is touched on a goroutine of its own, from its start
	// on, saying how far it got (touched): 20,000 page faults for a large
	// export, during which the merge, touching them itself, took no result
	// and the parsers stopped (issue 9: 20 to 30 ms of one core idle). The
	// merge copies a chunk's objects once their pages are touched; until
	// then they wait in pending, in order.
	var touching chan struct{} // closed when the touch is through; nil when none runs
	var touched atomic.Int64   // objects of the reservation touched so far
	var pending [][]inventory.Object
	defer func() {
		if touching != nil {
			<-touching // no goroutine writes lr.objects once read returns
		}
	}()
	// writable reports whether the first n objects of lr.objects may be
	// written: touched, or the touch through (past the reservation, the
	// copy grows it, which must not race with the touch).
	writable := func(n int) bool {
		if touching == nil || int(touched.Load()) >= n {
			return true
		}
		select {
		case <-touching:
			touching = nil
			return true
		default:
			return false
		}
	}
	add := func(objects []inventory.Object) {
		if need := len(lr.objects) + len(objects); need > cap(lr.objects) {
			lr.objects = slices.Grow(lr.objects, reserveObjects(need, read, size)-len(lr.objects))
			touch(lr.objects[len(lr.objects):cap(lr.objects)])
		}
		// In pieces: the collector cannot stop a goroutine inside one long
		// copy, and spins (signals, yields) until it ends (issue 9). The
		// chunk's slice is not cleared: what it still points at, the
		// copies in lr.objects point at too.
		for p := objects; len(p) > 0; {
			n := min(len(p), 64)
			lr.objects = append(lr.objects, p[:n]...)
			p = p[n:]
		}
		select {
		case recycle <- objects[:0]:
		default:
		}
	}
	for fut := range futures {
		cr := <-fut
		if err := lr.merge(cr); err != nil {
			return err
		}
		read += cr.bytes
		lr.ordered = lr.ordered && cr.ordered && (last == nil || len(cr.objects) == 0 || objectBefore(last, &cr.objects[0]))
		if len(cr.objects) > 0 {
			// The chunk's slice goes back to a parser: the last object is kept.
			lastObject = cr.objects[len(cr.objects)-1]
			last = &lastObject
		}
		if size <= 0 {
			parts = append(parts, cr.objects)
			total += len(cr.objects)
			continue
		}
		if cap(lr.objects) == 0 && len(cr.objects) > 0 {
			lr.objects = make([]inventory.Object, 0, reserveObjects(len(cr.objects), read, size))
			touching = make(chan struct{})
			go touchInSteps(lr.objects[:cap(lr.objects)], &touched, touching)
		}
		pending = append(pending, cr.objects)
		for len(pending) > 0 && writable(len(lr.objects)+len(pending[0])) {
			add(pending[0])
			pending[0] = nil
			pending = pending[1:]
		}
	}
	if touching != nil {
		<-touching
		touching = nil
	}
	for _, p := range pending {
		add(p)
	}
	if total == 0 {
		return nil // no objects: nil, as before
	}
	lr.objects = make([]inventory.Object, 0, total)
	for i, p := range parts {
		lr.objects = append(lr.objects, p...)
		parts[i] = nil // the collector may take it back now
	}
	return nil
}

// strictlyOrdered reports whether each object sorts strictly after the one
// before it.
func strictlyOrdered(objects []inventory.Object) bool {
	for i := 1; i < len(objects); i++ {
		if !objectBefore(&objects[i-1], &objects[i]) {
			return false
		}
	}
	return true
}

// objectBefore is compareObjects(*a, *b) < 0 without copying the objects.
func objectBefore(a, b *inventory.Object) bool {
	// CompareFold folds only past the bytes the DNs share: neighbours in an
	// export share all but a few (issue 9).
	if c := inventory.CompareFold(a.DN, b.DN); c != 0 {
		return c < 0
	}
	return a.GUID.Compare(b.GUID) < 0
}

// reserveObjects is the capacity to reserve for the objects of an export of
// size bytes when need objects were found in its first read bytes: the
// objects per byte so far, over the whole export, with a margin. The
// reservation is touched whole (touch), so an export whose first chunks
// are denser in objects than the rest costs memory: at most one object per
// minObjectBytes of what is left to read (an object with SPNs takes more
// than that in any export: dn, objectClass, sAMAccountName, the SPNs).
func reserveObjects(need, read int, size int64) int {
	if read <= 0 || int64(read) >= size {
		return need
	}
	est := int64(float64(need) / float64(read) * float64(size) * 1.05)
	est = min(est, int64(need)+(size-int64(read))/minObjectBytes)
	return int(max(est, int64(need)+int64(need)/8))
}

// minObjectBytes bounds reserveObjects' estimate (see there).
const minObjectBytes = 160

// touch writes a zero byte into each page of the fresh memory of objects
// as soon as it is reserved. Left untouched, the collector's marking reads
// those pages first, which maps them to the kernel's shared zero page; each
// copy into them then takes a copy-on-write fault that flushes the TLB of
// every core (an interprocessor interrupt, costly in a VM): 0.3 s of system
// time for the 85 MB of a 255,000-object export (issue 9). The bytes are
// written as bytes, without write barriers, whose reads would map the zero
// page just the same; a zero over a zero changes no pointer.
func touch(objects []inventory.Object) {
	if len(objects) == 0 {
		return
	}
	mem := unsafe.Slice((*byte)(unsafe.Pointer(&objects[0])), uintptr(len(objects))*unsafe.Sizeof(objects[0]))
	for i := 0; i < len(mem); i += 4096 {
		mem[i] = 0
	}
}

// touchInSteps touches objects a MiB at a time, storing in touched how many
// of them it has touched, and closes done when through.
func touchInSteps(objects []inventory.Object, touched *atomic.Int64, done chan<- struct{}) {
	defer close(done)
	step := max(1, (1<<20)/int(unsafe.Sizeof(inventory.Object{})))
	for at := 0; at < len(objects); at += step {
		end := min(at+step, len(objects))
		touchReserved(objects[at:end])
		touched.Store(int64(end))
	}
}

// touchReserved is touch, for touchInSteps; tests slow it down to hold
// chunks in pending.
var touchReserved = touch

// sizeHint returns the number of bytes left to read in r when r is a
// regular file, or 0.
func sizeHint(r io.Reader) int64 {
	f, ok := r.(*os.File)
	if !ok {
		return 0
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return 0
	}
	at, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0
	}
	return st.Size() - at
}

// merge takes one chunk's result: its directory and membership entries are
// fed to the builders in their order, its warnings kept up to the limit.
func (lr *ldifReader) merge(cr *chunkResult) error {
	for _, rec := range cr.deferred {
		if err := lr.groups.add(rec); err != nil {
			return err // parseChunk met it first; kept for safety
		}
		lr.b.add(rec)
	}
	if cr.err != nil {
		return cr.err
	}
	lr.res.Entries += cr.entries
	for _, w := range cr.warnings {
		if len(lr.res.Warnings) >= maxLDIFWarnings {
			lr.res.MoreWarnings++
			continue
		}
		lr.res.Warnings = append(lr.res.Warnings, w)
	}
	lr.res.MoreWarnings += cr.moreWarnings
	last := ""
	for i := range cr.objects {
		if d := cr.objects[i].Domain; d != "" && d != last {
			lr.domains[d] = struct{}{}
			last = d
		}
	}
	return nil
}

// ldifChunk is a run of whole lines of the export.
type ldifChunk struct {
	data  []byte
	line  int  // lines before data
	first bool // data starts the export: its first record may follow a version line
	end   bool // data ends the export: its last record ends with it
	// err stops the reading after data: the reader's error, or
	// bufio.ErrTooLong for a line longer than maxLDIFLine.
	err error
}

// ldifChunkSize is the size of a chunk; tests make it small to cut often.
// 1 MiB rather than 4 (issue 9): the first chunk is read before any core
// parses, the last parsed while the other cores wait, and the same CPU time.
var ldifChunkSize = 1 << 20

// splitLDIF reads r into chunks cut just after an empty line, which ends a
// record wherever it stands (RFC 2849; the reader's rules below), and gives
// them to emit in order until emit returns false. The first chunk is cut
// only after a line that starts a record, so that it holds the first record
// and the rest need not know about the version line. It fills again the
// buffers it receives from buffers (nil: none), which no chunk it emitted
// may still use.
func splitLDIF(r io.Reader, buffers <-chan []byte, emit func(ldifChunk) bool) {
	line := 0
	first := true
	// A small export needs no chunk-sized buffer: start small, grow on.
	buf := make([]byte, 0, min(64<<10, ldifChunkSize+ldifChunkSize/4))
	searched := 0 // bytes of buf already searched for a cut
	for {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, cap(buf))
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			// bufio.Scanner splits what it holds, the last line without
			// its end included, before it reports a read error.
			c := ldifChunk{data: buf, line: line, first: first, end: err == io.EOF}
			if err != io.EOF {
				c.err = err
			}
			emit(tooLong(c))
			return
		}
		if len(buf) < ldifChunkSize {
			continue
		}
		cut := lastRecordEnd(buf, max(searched-3, 0), first)
		searched = len(buf)
		if cut < 0 {
			if last := bytes.LastIndexByte(buf, '\n'); len(buf)-(last+1) >= maxLDIFLine {
				emit(tooLong(ldifChunk{data: buf[:last+1], line: line, first: first, err: bufio.ErrTooLong}))
				return
			}
			continue
		}
		c := tooLong(ldifChunk{data: buf[:cut], line: line, first: first})
		if !emit(c) || c.err != nil {
			return
		}
		line += bytes.Count(buf[:cut], []byte{'\n'})
		first = false
		rest := buf[cut:]
		size := max(ldifChunkSize+ldifChunkSize/4, 2*len(rest))
		buf = nil
		select {
		case b := <-buffers: // a buffer a parser is done with
			if cap(b) >= size {
				buf = b[:len(rest)]
			}
		default:
		}
		if buf == nil {
			buf = make([]byte, len(rest), size)
		}
		copy(buf, rest)
		searched = len(buf)
	}
}

// tooLong ends c before its first line of maxLDIFLine bytes or more, which
// bufio.Scanner (the reader before issue 9) refused with bufio.ErrTooLong.
func tooLong(c ldifChunk) ldifChunk {
	if len(c.data) < maxLDIFLine {
		return c
	}
	for start := 0; start < len(c.data); {
		end := bytes.IndexByte(c.data[start:], '\n')
		if end < 0 {
			end = len(c.data) - start
		}
		if end >= maxLDIFLine {
			return ldifChunk{data: c.data[:start], line: c.line, first: c.first, err: bufio.ErrTooLong}
		}
		start += end + 1
	}
	return c
}

// lastRecordEnd returns the offset just past the last empty line of b that
// starts at or after from (the reader drops up to two CRs: "", "\r" and
// "\r\r" are empty), or -1. It walks back line by line: an empty line is
// never far from the end. With first, the empty line must follow a line
// that starts a record (not a comment, continuation or empty line).
func lastRecordEnd(b []byte, from int, first bool) int {
	end := len(b)
	for {
		j := bytes.LastIndexByte(b[from:end], '\n')
		if j < 0 {
			return -1
		}
		j += from
		i := bytes.LastIndexByte(b[from:j], '\n')
		if i < 0 {
			return -1
		}
		i += from
		if len(dropCR(dropCR(b[i+1:j]))) == 0 {
			if first {
				if s := firstRecordLine(b); s < 0 || s >= i {
					return -1
				}
			}
			return j + 1
		}
		end = j
	}
}

// firstRecordLine returns the offset of the first line of b that starts a
// logical line other than a comment, or -1.
func firstRecordLine(b []byte) int {
	for start := 0; start < len(b); {
		end := bytes.IndexByte(b[start:], '\n')
		if end < 0 {
			return -1 // an unfinished line: the chunk waits for more
		}
		l := dropCR(dropCR(b[start : start+end]))
		if len(l) > 0 && l[0] != ' ' && l[0] != '#' {
			return start
		}
		start += end + 1
	}
	return -1
}
