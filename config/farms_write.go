package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/spnaudit/spnaudit/audit"
)

// FarmsYAML renders farms as the farms: block of a configuration file, keys
// in the order the documentation uses, with notes as comments above it.
func FarmsYAML(farms []audit.Farm, notes []string) ([]byte, error) {
	doc := &yaml.Node{Kind: yaml.MappingNode}
	key := scalar("farms")
	if len(notes) > 0 {
		key.HeadComment = "# " + strings.Join(notes, "\n# ")
	}
	doc.Content = append(doc.Content, key, farmsNode(farms))
	return encodeYAML(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{doc}})
}

// WriteFarms merges farms into the configuration file at path: an entry
// with the same name (case-insensitively) is replaced in place, others are
// appended; comments and every other key are kept. The file is replaced
// atomically (a temporary file in the same directory, renamed over it) with
// its permissions; a missing file is created with mode 0600.
func WriteFarms(path string, farms []audit.Farm) error {
	var root yaml.Node
	mode := os.FileMode(0o600)
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		data = nil
	case err != nil:
		return fmt.Errorf("--write %s: %w", path, err)
	default:
		if st, err := os.Stat(path); err == nil {
			mode = st.Mode().Perm()
		}
	}
	if len(bytes.TrimSpace(data)) > 0 {
		if err := yaml.Unmarshal(data, &root); err != nil {
			return fmt.Errorf("--write %s: not valid YAML (%v); fix it or write to a new file", path, err)
		}
	}
	if root.Kind == 0 {
		root = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{{Kind: yaml.MappingNode}}}
	}
	top := root.Content[0]
	if root.Kind != yaml.DocumentNode || top.Kind != yaml.MappingNode {
		return fmt.Errorf("--write %s: the file is not a YAML mapping of configuration keys", path)
	}
	list := mappingValue(top, "farms")
	if list == nil {
		list = &yaml.Node{Kind: yaml.SequenceNode}
		top.Content = append(top.Content, scalar("farms"), list)
	}
	if list.Kind != yaml.SequenceNode {
		return fmt.Errorf("--write %s: farms (line %d) is not a list", path, list.Line)
	}
	list.Style = 0
	for _, f := range farms {
		entry := farmNode(f)
		replaced := false
		for i, old := range list.Content {
			if name := mappingValue(old, "name"); name != nil && strings.EqualFold(name.Value, f.Name) {
				entry.HeadComment = old.HeadComment
				list.Content[i] = entry
				replaced = true
				break
			}
		}
		if !replaced {
			list.Content = append(list.Content, entry)
		}
	}
	out, err := encodeYAML(&root)
	if err != nil {
		return err
	}
	return writeAtomic(path, out, mode)
}

func encodeYAML(n *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(n); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeAtomic replaces path with data: readers see the old or the new file,
// never a partial one.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("--write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing to remove
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("--write %s: %w", path, err)
	}
	return nil
}

func mappingValue(m *yaml.Node, key string) *yaml.Node {
	if m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalar(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }

func farmsNode(farms []audit.Farm) *yaml.Node {
	list := &yaml.Node{Kind: yaml.SequenceNode}
	for _, f := range farms {
		list.Content = append(list.Content, farmNode(f))
	}
	return list
}

// farmNode renders one farm with the keys of audit.Farm's mapstructure tags.
func farmNode(f audit.Farm) *yaml.Node {
	flow := func(items []string) *yaml.Node {
		n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, s := range items {
			n.Content = append(n.Content, scalar(s))
		}
		return n
	}
	m := &yaml.Node{Kind: yaml.MappingNode}
	add := func(k string, v *yaml.Node) { m.Content = append(m.Content, scalar(k), v) }
	add("name", scalar(f.Name))
	if f.VIP != "" {
		add("vip", scalar(f.VIP))
	}
	add("nodes", flow(f.Nodes))
	if f.DNSSuffix != "" {
		add("dns_suffix", scalar(f.DNSSuffix))
	}
	add("classes", flow(f.Classes))
	add("account", scalar(f.Account))
	if len(f.Ports) > 0 {
		ports := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, p := range f.Ports {
			ports.Content = append(ports.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(p)})
		}
		add("ports", ports)
	}
	return m
}
