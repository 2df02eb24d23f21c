package validate

import (
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/clerkmigrate/clerkmigrate/importer/verdict"
	"github.com/clerkmigrate/clerkmigrate/mapping"
	"github.com/clerkmigrate/clerkmigrate/mapping/hashers"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

// detectedHasherPath is the virtual column a detecting mapping reads its
// password_hasher from; the record wrapper answers it.
const detectedHasherPath = "__clerkmigrate_detected_hasher"

// ErrHasherMapped is returned by DetectingMapping when the mapping already
// names a hasher: detection is for mappings that do not.
var ErrHasherMapped = errors.New("validate: the mapping already maps password_hasher; --detect-hasher only helps without one")

// HasherDetection makes a mapping without password_hasher usable: the
// hasher of each row is guessed from its digest's shape (hashers.Detect).
type HasherDetection struct {
	// Mapping is the original mapping with password_hasher read from a
	// virtual column that the engine fills with the guess.
	Mapping *mapping.Mapping
	// DigestPaths are the source columns or paths of password_digest, in
	// the mapping's order.
	DigestPaths []string
}

// VirtualColumns are the columns the detecting mapping reads that no
// source has (the engine answers them), for mapping.Mapping.CheckSource.
func (d *HasherDetection) VirtualColumns() []string { return []string{detectedHasherPath} }

// DetectingMapping derives a HasherDetection from a mapping file's bytes.
// It returns ErrHasherMapped when the file maps password_hasher, and an
// error when it does not map password_digest from the source.
func DetectingMapping(yamlText []byte) (*HasherDetection, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(yamlText, &doc); err != nil || len(doc.Content) == 0 {
		return nil, fmt.Errorf("validate: reading the mapping for hasher detection: %v", err)
	}
	fields := mapValue(doc.Content[0], "fields")
	if fields == nil || fields.Kind != yaml.MappingNode {
		return nil, errors.New("validate: the mapping has no fields")
	}
	if mapValue(fields, "password_hasher") != nil {
		return nil, ErrHasherMapped
	}
	digest := mapValue(fields, "password_digest")
	paths := fromPaths(digest)
	if len(paths) == 0 {
		return nil, errors.New("validate: --detect-hasher needs password_digest mapped from a source column")
	}
	fields.Content = append(fields.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Value: "password_hasher"},
		&yaml.Node{Kind: yaml.ScalarNode, Value: detectedHasherPath})
	out, err := yaml.Marshal(&doc)
	if err != nil {
		return nil, err
	}
	m, err := mapping.Parse(out)
	if err != nil {
		return nil, fmt.Errorf("validate: mapping with a detected hasher: %w", err)
	}
	return &HasherDetection{Mapping: m, DigestPaths: paths}, nil
}

// mapValue is the value of key in a YAML mapping node.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// fromPaths reads a property's sources: `col`, `{from: col}` or
// `{from: [a, b]}`.
func fromPaths(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	from := mapValue(n, "from")
	if from == nil {
		return nil
	}
	switch from.Kind {
	case yaml.ScalarNode:
		return []string{from.Value}
	case yaml.SequenceNode:
		var out []string
		for _, c := range from.Content {
			if c.Kind == yaml.ScalarNode {
				out = append(out, c.Value)
			}
		}
		return out
	}
	return nil
}

// detectingValues answers the virtual hasher column with the hasher guessed
// from the row's digest, and remembers the guesses for the findings.
type detectingValues struct {
	sources.Values
	paths   []string
	guesses []string
	done    bool
	digest  bool // the row has a digest
}

func (d *detectingValues) Lookup(path string) (sources.Value, bool) {
	if path != detectedHasherPath {
		return d.Values.Lookup(path)
	}
	d.detect()
	if len(d.guesses) == 0 {
		return nil, false
	}
	return d.guesses[0], true
}

func (d *detectingValues) detect() {
	if d.done {
		return
	}
	d.done = true
	for _, p := range d.paths {
		v, ok := d.Values.Lookup(p)
		if !ok {
			continue
		}
		s, _ := v.(string)
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		d.digest = true
		d.guesses = hashers.Detect(s)
		return
	}
}

// detectionFinding is the finding for a row whose hasher was guessed
// ambiguously, or could not be; nil when the guess is sure.
func (d *detectingValues) finding() *verdict.Finding {
	d.detect()
	if !d.digest || len(d.guesses) < 2 {
		return nil // one guess is sure; none leaves the mapping's hasher_missing to say so
	}
	return &verdict.Finding{Field: "password_hasher", Code: CodeHasherAmbiguous,
		Reason: fmt.Sprintf("the digest fits several hashers (%s); %s was assumed: map password_hasher to be sure",
			strings.Join(d.guesses, ", "), d.guesses[0])}
}
