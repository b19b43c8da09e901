package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// The Config struct is the schema: its mapstructure tags give the keys, its
// field types their kinds, Default() their defaults. Nothing else lists keys.

var configType = reflect.TypeFor[Config]()

// leaf is a key whose value is a scalar or a list of scalars: it can have a
// default and be set from the environment or a flag.
type leaf struct {
	key   string
	value reflect.Value // in Default()
}

// leaves returns every leaf key of v's struct type, in declaration order.
// Lists of mappings (farms, audit.ignore) are file-only and not leaves.
func leaves(v reflect.Value, prefix string) []leaf {
	var out []leaf
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		key := prefix + f.Tag.Get("mapstructure")
		fv := v.Field(i)
		switch {
		case f.Type.Kind() == reflect.Struct:
			out = append(out, leaves(fv, key+".")...)
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			// file only
		default:
			out = append(out, leaf{key: key, value: fv})
		}
	}
	return out
}

// Key documents one key that can be set from the environment or a flag.
type Key struct {
	Name    string // ldap.page_size
	Env     string // SPNAUDIT_LDAP_PAGE_SIZE
	Default string // "" when the default is empty
}

// Keys returns every scalar and list key in declaration order, with its
// environment variable and default, for help texts.
func Keys() []Key {
	var keys []Key
	for _, l := range leaves(reflect.ValueOf(Default()), "") {
		keys = append(keys, Key{Name: l.key, Env: envName(l.key), Default: formatDefault(l.value)})
	}
	return keys
}

func envName(key string) string {
	return envPrefix + "_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

func formatDefault(v reflect.Value) string {
	switch x := v.Interface().(type) {
	case time.Duration:
		return formatDuration(x)
	case []string:
		return strings.Join(x, ",")
	}
	return fmt.Sprint(v.Interface())
}

// field finds the struct field of t whose key is name, case-insensitively as
// viper and mapstructure match them.
func field(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if strings.EqualFold(f.Tag.Get("mapstructure"), name) {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

// fieldNames returns the keys of t's fields.
func fieldNames(t reflect.Type) []string {
	names := make([]string, t.NumField())
	for i := range t.NumField() {
		names[i] = t.Field(i).Tag.Get("mapstructure")
	}
	return names
}

// allPaths returns every key of the schema, sections included, without list
// indexes (farms.name), for did-you-mean across sections.
func allPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		key := prefix + f.Tag.Get("mapstructure")
		out = append(out, key)
		ft := f.Type
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			out = append(out, allPaths(ft, key+".")...)
		}
	}
	return out
}

// suggest returns the best replacement for an unknown key name among its
// siblings (below path), or a key elsewhere in the schema with the same last
// element; "" when nothing is close.
func suggest(name, path string, siblings []string) string {
	name = strings.ToLower(name)
	best, bestDist := "", max(1, len(name)/3)+1
	for _, s := range siblings {
		if d := editDistance(name, s); d < bestDist {
			best, bestDist = s, d
		}
	}
	if best != "" {
		return join(path, best)
	}
	var elsewhere []string
	for _, p := range allPaths(configType, "") {
		if p == name || strings.HasSuffix(p, "."+name) {
			elsewhere = append(elsewhere, p)
		}
	}
	if len(elsewhere) == 1 {
		return elsewhere[0]
	}
	return ""
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and transpositions of adjacent characters
// ("ulrs" -> "urls" is 1) each cost 1.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	rows := make([][]int, len(ra)+1)
	for i := range rows {
		rows[i] = make([]int, len(rb)+1)
		rows[i][0] = i
	}
	for j := range rb {
		rows[0][j+1] = j + 1
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d := min(rows[i-1][j]+1, rows[i][j-1]+1, rows[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d = min(d, rows[i-2][j-2]+1)
			}
			rows[i][j] = d
		}
	}
	return rows[len(ra)][len(rb)]
}

// sortedNames returns names sorted, for "valid keys" hints.
func sortedNames(t reflect.Type) []string {
	names := fieldNames(t)
	slices.Sort(names)
	return names
}
