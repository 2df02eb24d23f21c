package emulator

import (
	"net/http"
	"strings"
)

// route is a matched API route.
type route struct {
	pattern        string // "POST /v1/users", or "unmatched"
	handler        func(*Emulator, *request) reply
	userID         string
	objectID       string // {email_address_id} or {phone_number_id}
	perUserLimited bool
}

// unmatched is the stats pattern of a request no route takes.
const unmatched = "unmatched"

// userActions are the POST /v1/users/{user_id}/<action> routes.
var userActions = map[string]func(*Emulator, *request) reply{
	"ban":    func(e *Emulator, r *request) reply { return e.setFlag(r, "banned", true) },
	"unban":  func(e *Emulator, r *request) reply { return e.setFlag(r, "banned", false) },
	"lock":   func(e *Emulator, r *request) reply { return e.setFlag(r, "locked", true) },
	"unlock": func(e *Emulator, r *request) reply { return e.setFlag(r, "locked", false) },
}

// matchRoute finds the handler for method and path.
func matchRoute(method, path string) route {
	segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(segs) < 2 || segs[0] != "v1" {
		return route{pattern: unmatched}
	}
	switch {
	case len(segs) == 2 && segs[1] == "instance":
		if method == http.MethodGet {
			return route{pattern: "GET /v1/instance", handler: (*Emulator).getInstance}
		}
	case len(segs) == 2 && segs[1] == "users":
		switch method {
		case http.MethodGet:
			return route{pattern: "GET /v1/users", handler: (*Emulator).listUsers}
		case http.MethodPost:
			return route{pattern: "POST /v1/users", handler: (*Emulator).createUser}
		}
	case len(segs) == 2 && segs[1] == "email_addresses" && method == http.MethodPost:
		return route{pattern: "POST /v1/email_addresses", handler: func(e *Emulator, r *request) reply {
			return e.addIdentifier(r, kindEmail, createEmailSchema)
		}}
	case len(segs) == 2 && segs[1] == "phone_numbers" && method == http.MethodPost:
		return route{pattern: "POST /v1/phone_numbers", handler: func(e *Emulator, r *request) reply {
			return e.addIdentifier(r, kindPhone, createPhoneSchema)
		}}
	case len(segs) == 3 && (segs[1] == "email_addresses" || segs[1] == "phone_numbers") && segs[2] != "":
		return identifierRoute(method, segs[1], segs[2])
	case len(segs) == 3 && segs[1] == "users" && (segs[2] == "ban" || segs[2] == "unban") && method == http.MethodPost:
		on := segs[2] == "ban"
		return route{pattern: "POST /v1/users/" + segs[2], handler: func(e *Emulator, r *request) reply { return e.banUsers(r, on) }}
	case len(segs) == 3 && segs[1] == "users" && segs[2] == "count":
		if method == http.MethodGet {
			return route{pattern: "GET /v1/users/count", handler: (*Emulator).countUsers}
		}
	case len(segs) == 3 && segs[1] == "users" && segs[2] != "":
		id := segs[2]
		switch method {
		case http.MethodGet:
			return route{pattern: "GET /v1/users/{user_id}", handler: (*Emulator).getUser, userID: id}
		case http.MethodPatch:
			return route{pattern: "PATCH /v1/users/{user_id}", handler: (*Emulator).updateUser, userID: id, perUserLimited: true}
		case http.MethodDelete:
			return route{pattern: "DELETE /v1/users/{user_id}", handler: (*Emulator).deleteUser, userID: id}
		}
	case len(segs) == 4 && segs[1] == "users" && segs[2] != "" && segs[3] == "metadata":
		id := segs[2]
		switch method {
		case http.MethodPatch:
			return route{pattern: "PATCH /v1/users/{user_id}/metadata", handler: (*Emulator).mergeMetadata, userID: id, perUserLimited: true}
		case http.MethodPut:
			return route{pattern: "PUT /v1/users/{user_id}/metadata", handler: (*Emulator).replaceMetadata, userID: id, perUserLimited: true}
		}
	case len(segs) == 4 && segs[1] == "users" && segs[2] != "" && method == http.MethodPost:
		if h, ok := userActions[segs[3]]; ok {
			return route{pattern: "POST /v1/users/{user_id}/" + segs[3], handler: h, userID: segs[2]}
		}
	}
	return route{pattern: unmatched}
}

// identifierRoute is GET, PATCH or DELETE /v1/email_addresses/{id} or
// /v1/phone_numbers/{id}.
func identifierRoute(method, collection, id string) route {
	kind, param, s := kindEmail, "{email_address_id}", updateEmailSchema
	if collection == "phone_numbers" {
		kind, param, s = kindPhone, "{phone_number_id}", updatePhoneSchema
	}
	pattern := method + " /v1/" + collection + "/" + param
	switch method {
	case http.MethodGet:
		return route{pattern: pattern, objectID: id, handler: func(e *Emulator, r *request) reply { return e.getIdentifier(r, kind) }}
	case http.MethodPatch:
		return route{pattern: pattern, objectID: id, handler: func(e *Emulator, r *request) reply { return e.updateIdentifier(r, kind, s) }}
	case http.MethodDelete:
		return route{pattern: pattern, objectID: id, handler: func(e *Emulator, r *request) reply { return e.deleteIdentifier(r, kind) }}
	}
	return route{pattern: unmatched}
}
