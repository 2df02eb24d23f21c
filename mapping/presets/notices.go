package presets

import "slices"

// Notice is one thing to say before a run with a preset, and when it
// applies: a notice about a CSV is not said of a Postgres source, one
// about a missing column not when the source has it.
type Notice struct {
	Text string
	// Kinds are the source kinds it is said for (families, as Reads
	// counts them); empty: every kind.
	Kinds []string
	// IfPath: said only when the source has this column or path.
	IfPath string
	// UnlessPath: not said when the source has this column or path.
	UnlessPath string
}

// NoticesFor lists the texts of the notices that apply to a source of this
// kind ("csv", "postgres"... as sources.KindOf says) that has the paths has
// reports (nil: nothing is known of its paths, and path conditions are
// taken as met, so that a notice is rather said than missed).
func (p *Preset) NoticesFor(kind string, has func(path string) bool) []string {
	var out []string
	for _, n := range p.Notices {
		if len(n.Kinds) > 0 && !slices.ContainsFunc(n.Kinds, func(k string) bool { return family(k) == family(kind) }) {
			continue
		}
		if has != nil && (n.IfPath != "" && !has(n.IfPath) || n.UnlessPath != "" && has(n.UnlessPath)) {
			continue
		}
		out = append(out, n.Text)
	}
	return out
}
