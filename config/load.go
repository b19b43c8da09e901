package config

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"time"
	"unicode"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

const envPrefix = "SPNAUDIT"

// Options say where Load reads the configuration from.
type Options struct {
	// File is the YAML file given with --config; "" reads only the
	// environment and flags.
	File string
	// Flags named like a key (--log.level) override the environment and the
	// file when given on the command line. Other flags are ignored.
	Flags *pflag.FlagSet
	// Offline loads the configuration of a command that reads an LDIF export
	// and never connects: the ldap and kerberos keys it would need to connect
	// may be unset. Unknown keys and every value that is set are still
	// checked.
	Offline bool
}

// Load reads, merges (flags > environment > file > defaults), normalises and
// validates the configuration. On failure the error is a Problems listing
// every problem found, and the Config is nil.
func Load(opts Options) (*Config, error) {
	v := viper.New()
	isLeaf := map[string]bool{}
	for _, l := range leaves(reflect.ValueOf(Default()), "") {
		v.SetDefault(l.key, l.value.Interface())
		isLeaf[l.key] = true
	}
	v.SetEnvPrefix(envPrefix)
	v.SetEnvKeyReplacer(strings.NewReplacer(".", "_"))
	v.AutomaticEnv()

	var ps problems
	if opts.File != "" && !readFile(v, opts.File, &ps) {
		// Without the file every other key would look unset.
		return nil, ps.list
	}
	if opts.Flags != nil {
		opts.Flags.VisitAll(func(f *pflag.Flag) {
			if isLeaf[f.Name] {
				// Cannot fail: the flag is not nil.
				_ = v.BindPFlag(f.Name, f)
			}
		})
	}

	var cfg Config
	if err := v.Unmarshal(&cfg, viper.DecodeHook(decodeHook)); err != nil {
		decodeProblems(err, &ps)
	}
	normalize(&cfg)
	validate(&cfg, opts.Offline, &ps)
	if len(ps.list) > 0 {
		return nil, ps.list
	}
	defaultKDCs(&cfg)
	return &cfg, nil
}

// readFile merges the YAML file into v and reports unknown keys. It returns
// false when the file cannot be read or parsed at all.
func readFile(v *viper.Viper, path string, ps *problems) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			ps.add(path, "config file not found; check the path given to --config")
		case errors.Is(err, fs.ErrPermission):
			ps.add(path, "config file is not readable by this user; give it read access")
		default:
			ps.add(path, "cannot read the config file (%v); give the path of a readable YAML file", unwrapPath(err))
		}
		return false
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		ps.add(path, "%s; fix the YAML syntax", yamlMessage(err))
		return false
	}
	if len(doc.Content) == 1 {
		root := doc.Content[0]
		if root.Kind != yaml.MappingNode {
			ps.add(path, "the file is not a mapping of keys; start it with sections such as \"ldap:\" and \"kerberos:\"")
			return false
		}
		checkKeys(root, configType, "", path, ps)
	}
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		// yaml.v3 finds duplicate keys only when decoding into a map.
		ps.add(path, "%s; fix the YAML", yamlMessage(err))
		return false
	}
	return true
}

// yamlMessage puts a YAML error, which may span lines, on one line.
func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "While parsing config: ")
	msg = strings.TrimPrefix(msg, "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:")
	return strings.Join(strings.Fields(msg), " ")
}

func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// checkKeys reports every key of the mapping n that t has no field for, with
// the file line and a suggestion, and descends into known keys.
func checkKeys(n *yaml.Node, t reflect.Type, path, file string, ps *problems) {
	for n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // decoding reports the wrong type
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Value == "<<" { // merge key: its mapping(s) hold keys of t
				checkKeys(val, t, path, file, ps)
				continue
			}
			checkKey(k, val, t, path, file, ps)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, e := range n.Content {
			checkKeys(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i), file, ps)
		}
	}
}

// checkKey resolves one key, which may be dotted ("ldap.urls") as viper
// allows, below path.
func checkKey(k, val *yaml.Node, t reflect.Type, path, file string, ps *problems) {
	for _, name := range strings.Split(k.Value, ".") {
		var f reflect.StructField
		ok := t.Kind() == reflect.Struct
		if ok {
			f, ok = field(t, name)
		}
		if !ok {
			unknownKey(name, t, path, fmt.Sprintf("%s line %d", file, k.Line), ps)
			return
		}
		path = join(path, f.Tag.Get("mapstructure"))
		t = f.Type
	}
	checkKeys(val, t, path, file, ps)
}

func unknownKey(name string, t reflect.Type, path, where string, ps *problems) {
	key := join(path, name)
	var siblings []string
	if t.Kind() == reflect.Struct {
		siblings = fieldNames(t)
	}
	if s := suggest(name, path, siblings); s != "" {
		ps.addUnknown(key, "unknown key (%s); did you mean %s?", where, s)
		return
	}
	if t.Kind() != reflect.Struct {
		ps.addUnknown(key, "unknown key (%s); %s takes a value, not keys", where, path)
		return
	}
	section := "top-level keys"
	if path != "" {
		section = "keys under " + path
	}
	ps.addUnknown(key, "unknown key (%s); valid %s: %s", where, section, strings.Join(sortedNames(t), ", "))
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// valueError is a decode failure whose text already says what to write.
type valueError string

func (e valueError) Error() string { return string(e) }

var (
	durationType    = reflect.TypeFor[time.Duration]()
	stringSliceType = reflect.TypeFor[[]string]()
	timeType        = reflect.TypeFor[time.Time]()
)

// decodeHook parses durations with a days suffix, rejects bare numbers as
// durations (is "30" seconds or nanoseconds?), and splits a string into a
// list at commas and spaces, as lists come from the environment.
func decodeHook(from, to reflect.Type, data any) (any, error) {
	switch {
	case to == durationType:
		switch from.Kind() {
		case reflect.String:
			if s := data.(string); s != "" && strings.Trim(s, "0123456789") == "" {
				return nil, valueError(fmt.Sprintf("%s has no unit; write e.g. %ss, %sm or %sd", s, s, s, s))
			}
			d, err := parseDuration(data.(string))
			if err != nil {
				return nil, valueError(fmt.Sprintf("%q is not a duration; write a number with a unit, e.g. 30s, 15m, 1h or 365d", data))
			}
			return d, nil
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Uint, reflect.Uint8,
			reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
			return nil, valueError(fmt.Sprintf("%v has no unit; write e.g. %vs, %vm or %vd", data, data, data, data))
		case reflect.Int64:
			if from != durationType {
				return nil, valueError(fmt.Sprintf("%v has no unit; write e.g. %vs, %vm or %vd", data, data, data, data))
			}
		}
	case to == stringSliceType && from.Kind() == reflect.String:
		return strings.FieldsFunc(data.(string), func(r rune) bool { return r == ',' || unicode.IsSpace(r) }), nil
	case to.Kind() == reflect.String && from == timeType:
		// YAML reads an unquoted 2026-12-31 (audit.ignore's until) as a
		// timestamp; give the string key back the date as written.
		t := data.(time.Time)
		if t.Equal(t.Truncate(24*time.Hour)) && t.Location() == time.UTC {
			return t.Format(time.DateOnly), nil
		}
		return t.Format(time.RFC3339Nano), nil
	}
	return data, nil
}

// decodeProblems turns mapstructure's wrapped and joined errors into one
// problem per key.
func decodeProblems(err error, ps *problems) {
	for {
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range joined.Unwrap() {
				decodeProblems(e, ps)
			}
			return
		}
		if de, ok := err.(*mapstructure.DecodeError); ok {
			decodeProblem(de, ps)
			return
		}
		next := errors.Unwrap(err)
		if next == nil {
			ps.fail("config", "%v; check the values against the README", err)
			return
		}
		err = next
	}
}

func decodeProblem(de *mapstructure.DecodeError, ps *problems) {
	inner := de.Unwrap()
	var (
		ve valueError
		pe *mapstructure.ParseError
		ue *mapstructure.UnconvertibleTypeError
	)
	switch {
	case errors.As(inner, &ve):
		ps.fail(de.Name(), "%s", ve)
	case errors.As(inner, &pe):
		ps.fail(de.Name(), "%s; write %s", describeValue(pe.Value), describeType(pe.Expected.Type()))
	case errors.As(inner, &ue):
		ps.fail(de.Name(), "%s; write %s", describeValue(ue.Value), describeType(ue.Expected.Type()))
	case errors.As(inner, new(*mapstructure.DecodeError)):
		decodeProblems(inner, ps)
	default:
		// mapstructure's own text, e.g. for a scalar where a mapping belongs:
		// `expected a map or struct, got "string"`.
		if got, ok := strings.CutPrefix(inner.Error(), "expected a map or struct, got "); ok {
			ps.fail(de.Name(), "got a %s; write a mapping of keys", strings.Trim(got, `"'`))
			return
		}
		ps.fail(de.Name(), "%v; check the value against the README", inner)
	}
}

func describeType(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration such as 30s or 365d"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Int:
		return "a whole number"
	case t.Kind() == reflect.String:
		return "a string"
	case t.Kind() == reflect.Struct:
		return "a mapping of keys"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		return "a list of mappings (lines starting with \"- name: ...\")"
	case t.Kind() == reflect.Slice:
		return "a list of " + strings.TrimPrefix(describeType(t.Elem()), "a ") + "s"
	}
	return t.String()
}

func describeValue(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("got %q", x)
	case map[string]any:
		return "got a mapping"
	case []any:
		return "got a list"
	}
	return fmt.Sprintf("got %v", v)
}

// normalize applies the spellings that are equivalent: upper-case realm, the
// realm from principal@REALM, "FILE:" ccache names.
func normalize(c *Config) {
	k := &c.Kerberos
	k.Realm = strings.ToUpper(strings.TrimSpace(k.Realm))
	if _, realm, ok := strings.Cut(k.Principal, "@"); ok && k.Realm == "" {
		k.Realm = strings.ToUpper(realm)
	}
	k.CCache = strings.TrimPrefix(k.CCache, "FILE:")
}
