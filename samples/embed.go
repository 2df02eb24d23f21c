// Package samples holds example legacy exports and their mapping files. The
// CLI embeds the default sample so that `clerkmigrate import` with no flags
// rehearses a whole migration on any machine.
package samples

import "embed"

// Default sample: a realistic legacy CSV export and its mapping file.
const (
	DefaultSource  = "legacy_users.csv"
	DefaultMapping = "legacy_users.mapping.yaml"
)

// FS holds the default sample files.
//
//go:embed legacy_users.csv legacy_users.mapping.yaml
var FS embed.FS
