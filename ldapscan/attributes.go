package ldapscan

import "slices"

// ObjectAttributes returns the attributes a scan reads for each object, for
// comparisons that must read the same (internal/bench's ldapsearch).
func ObjectAttributes() []string { return slices.Clone(objectAttributes) }
