package content

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

func fieldLines(doc *yaml.Node) map[string]int {
	m := map[string]int{}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		m[doc.Content[i].Value] = doc.Content[i].Line + 1
	}
	return m
}

func scalar(fe *FieldErrors, field string, v *yaml.Node, line int) string {
	if v.Kind != yaml.ScalarNode {
		fe.Add(field, line, "must be a single value")
		return ""
	}
	if v.Tag == "!!null" {
		return ""
	}
	return v.Value
}

func list(fe *FieldErrors, field string, v *yaml.Node, line int) []string {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		fe.Add(field, line, "must be a list")
		return nil
	}
	out := make([]string, 0, len(v.Content))
	for _, item := range v.Content {
		if item.Kind != yaml.ScalarNode || item.Tag == "!!null" {
			fe.Add(field, item.Line+1, "items must be single values")
			continue
		}
		out = append(out, item.Value)
	}
	return out
}

var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"}

// ParseDate accepts RFC 3339 and the shorter forms people type by hand,
// read as UTC.
func ParseDate(s string) (time.Time, bool) {
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func date(fe *FieldErrors, field string, v *yaml.Node, line int) *time.Time {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
		return nil
	}
	if v.Kind != yaml.ScalarNode {
		fe.Add(field, line, "not a date")
		return nil
	}
	t, ok := ParseDate(v.Value)
	if !ok {
		fe.Add(field, line, "not a date (%q)", v.Value)
		return nil
	}
	return &t
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

func yamlErrorLine(err error) int {
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return 1
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}

func yamlErrorText(err error) string {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	return yamlLineRE.ReplaceAllString(strings.TrimPrefix(s, "unmarshal errors:\n  "), "line")
}

func SplitFrontMatter(data []byte) (fm []byte, body string, err error) {
	if bytes.Contains(data, []byte("\r\n")) {
		data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	}
	if !bytes.HasPrefix(data, []byte("---\n")) {
		return nil, "", fmt.Errorf("missing front matter: a post starts with a line \"---\", then at least \"title: ...\", then \"---\"")
	}
	rest := data[4:]
	var end int
	switch {
	case bytes.HasPrefix(rest, []byte("---\n")) || bytes.Equal(rest, []byte("---")):
		end = 0
	default:
		i := bytes.Index(rest, []byte("\n---\n"))
		if i < 0 {
			if bytes.HasSuffix(rest, []byte("\n---")) {
				i = len(rest) - 4
			} else {
				return nil, "", fmt.Errorf("front matter is not closed by a line \"---\"")
			}
		}
		end = i + 1
	}
	fm = rest[:end]
	body = strings.TrimPrefix(string(rest[min(end+4, len(rest)):]), "\n")
	if !utf8.ValidString(body) || !utf8.Valid(fm) {
		return nil, "", fmt.Errorf("file is not valid UTF-8")
	}
	return fm, body, nil
}

// strictYAML decodes a small YAML file into v, refusing unknown fields.
func strictYAML(file string, data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && err.Error() != "EOF" {
		return &ValidationError{File: file, Errors: []FieldError{{Line: yamlErrorLine(err), Detail: "invalid YAML: " + yamlErrorText(err)}}}
	}
	return nil
}

func MarshalYAML(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode yaml: %w", err)
	}
	enc.Close()
	return b.Bytes(), nil
}
