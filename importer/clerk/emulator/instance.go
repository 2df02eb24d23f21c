package emulator

import (
	"net/http"
	"strings"
)

// instanceJSON is Clerk's Instance object.
type instanceJSON struct {
	Object          string   `json:"object"`
	ID              string   `json:"id"`
	EnvironmentType string   `json:"environment_type"`
	AllowedOrigins  []string `json:"allowed_origins"`
	WorkspaceID     *string  `json:"workspace_id"`
}

// getInstance is GET /v1/instance: the emulator's instance id (one per
// state: see the package doc) and, for its environment type, the kind of
// the key that asks.
func (e *Emulator) getInstance(r *request) reply {
	return reply{status: http.StatusOK, body: instanceJSON{Object: "instance", ID: e.InstanceID(),
		EnvironmentType: environmentOf(r.key)}}
}

// environmentOf is the environment type of the instance a key names: a
// production key (sk_live_) a production instance, any other a
// development one.
func environmentOf(key string) string {
	if strings.HasPrefix(key, "sk_live_") {
		return "production"
	}
	return "development"
}

// InstanceID is the id GET /v1/instance answers: Config.InstanceID, a new
// one when that was empty, or the one of the state last loaded.
func (e *Emulator) InstanceID() string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.instanceID
}
