package emulator

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// maxFilterValues is how many values one array filter takes.
const maxFilterValues = 100

// listQuery is the parsed query of GET /v1/users and /v1/users/count.
type listQuery struct {
	exact                 map[string]map[string]bool // kind → normalized values (inclusive)
	excludeExt, excludeID map[string]bool
	includeID             map[string]bool
	query                 string
	contains              map[string]string // email/phone/username/name → lower-cased substring
	banned                *bool
	createdBefore         *int64
	createdAfter          *int64
	none                  bool // a filter no emulated user can match (sign-ins, organizations, providers)

	orderField    string
	desc          bool
	limit, offset int
	startingAfter string
}

// orderFields are the orderings the spec lists.
var orderFields = map[string]bool{"created_at": true, "updated_at": true, "email_address": true, "web3wallet": true,
	"first_name": true, "last_name": true, "phone_number": true, "username": true, "last_active_at": true, "last_sign_in_at": true}

// parseFilters reads the filters shared by list and count.
func parseFilters(v url.Values) (listQuery, []apiError) {
	q := listQuery{exact: map[string]map[string]bool{}, excludeExt: map[string]bool{}, excludeID: map[string]bool{},
		includeID: map[string]bool{}, contains: map[string]string{}}
	var errs []apiError
	for _, kind := range []string{kindEmail, kindPhone, kindUsername, kindWallet, kindExternalID, "user_id"} {
		vals := v[kind]
		if len(vals) > maxFilterValues {
			errs = append(errs, apiError{Code: "form_param_array_size_exceeded", Param: kind, Message: "exceeds maximum size",
				LongMessage: kind + " should not exceed 100 items."})
			continue
		}
		for _, val := range vals {
			switch {
			case (kind == kindExternalID || kind == "user_id") && strings.HasPrefix(val, "-"):
				if kind == "user_id" {
					q.excludeID[val[1:]] = true
				} else {
					q.excludeExt[val[1:]] = true
				}
			case kind == "user_id":
				q.includeID[strings.TrimPrefix(val, "+")] = true
			default:
				if kind == kindExternalID {
					val = strings.TrimPrefix(val, "+")
				}
				if q.exact[kind] == nil {
					q.exact[kind] = map[string]bool{}
				}
				q.exact[kind][normalize(kind, val)] = true
			}
		}
	}
	q.query = strings.ToLower(v.Get("query"))
	for _, name := range []string{"email_address_query", "phone_number_query", "username_query", "name_query"} {
		if s := v.Get(name); s != "" {
			q.contains[name] = strings.ToLower(s)
		}
	}
	if s := v.Get("banned"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			errs = append(errs, errFormat("banned", "banned must be true or false."))
		}
		q.banned = &b
	}
	for name, dst := range map[string]**int64{"created_at_before": &q.createdBefore, "created_at_after": &q.createdAfter} {
		if s := v.Get(name); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				errs = append(errs, apiError{Code: "form_param_invalid_date", Param: name, Message: "invalid format",
					LongMessage: "Date values must be given in Unix millisecond timestamp format."})
			}
			*dst = &n
		}
	}
	for _, name := range []string{"last_active_at_before", "last_active_at_after", "last_active_at_since",
		"last_sign_in_at_before", "last_sign_in_at_after", "organization_id", "provider_user_id"} {
		if v.Get(name) != "" {
			q.none = true // no emulated user has sessions, sign-ins, memberships or external accounts
		}
	}
	return q, errs
}

// parseList reads the filters and the paging of GET /v1/users.
func parseList(v url.Values) (listQuery, []apiError) {
	q, errs := parseFilters(v)
	q.limit, q.orderField, q.desc = 10, "created_at", true
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		switch {
		case err != nil:
			errs = append(errs, errFormat("limit", "limit must be an integer."))
		case n < 1 || n > 500:
			errs = append(errs, errValue("limit", "limit must be between 1 and 500."))
		}
		q.limit = n
	}
	if s := v.Get("offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			errs = append(errs, errValue("offset", "offset must be an integer of 0 or more."))
		}
		q.offset = n
	}
	if s := v.Get("order_by"); s != "" { // only the first order_by counts
		q.desc = strings.HasPrefix(s, "-")
		field := strings.TrimLeft(s, "+-")
		if !orderFields[field] || len(s)-len(field) > 1 {
			errs = append(errs, errValue("order_by", "order_by must be one of the supported orderings, with an optional + or -."))
		}
		q.orderField = field
	}
	q.startingAfter = v.Get("starting_after")
	if q.startingAfter != "" {
		if q.orderField != "created_at" {
			errs = append(errs, errValue("starting_after", "starting_after requires ordering by created_at (order_by omitted, created_at, +created_at or -created_at)."))
		}
		if q.offset != 0 {
			errs = append(errs, errValue("starting_after", "starting_after cannot be combined with a non-zero offset."))
		}
	}
	return q, errs
}

// match reports whether u passes every filter.
func (q *listQuery) match(u *UserState) bool {
	if q.none || q.excludeID[u.ID] || (u.ExternalID != nil && q.excludeExt[*u.ExternalID]) {
		return false
	}
	if len(q.includeID) > 0 && !q.includeID[u.ID] {
		return false
	}
	for kind, set := range q.exact {
		if !holds(u, kind, set) {
			return false
		}
	}
	if q.banned != nil && u.Banned != *q.banned {
		return false
	}
	if (q.createdBefore != nil && u.CreatedAt >= *q.createdBefore) || (q.createdAfter != nil && u.CreatedAt <= *q.createdAfter) {
		return false
	}
	for name, sub := range q.contains {
		if !containsAny(values(u, name), sub) {
			return false
		}
	}
	return q.query == "" || containsAny(values(u, "query"), q.query)
}

// holds reports whether u has one of set's values of kind.
func holds(u *UserState, kind string, set map[string]bool) bool {
	for _, v := range values(u, kind) {
		if set[normalize(kind, v)] {
			return true
		}
	}
	return false
}

// values lists what u holds for a filter.
func values(u *UserState, name string) []string {
	var out []string
	idents := func(ids []Identifier) {
		for _, x := range ids {
			out = append(out, x.Value)
		}
	}
	opt := func(p *string) {
		if p != nil {
			out = append(out, *p)
		}
	}
	switch name {
	case kindEmail, "email_address_query":
		idents(u.EmailAddresses)
	case kindPhone, "phone_number_query":
		idents(u.PhoneNumbers)
	case kindWallet:
		idents(u.Web3Wallets)
	case kindUsername, "username_query":
		opt(u.Username)
	case kindExternalID:
		opt(u.ExternalID)
	case "name_query":
		opt(u.FirstName)
		opt(u.LastName)
	case "query":
		idents(u.EmailAddresses)
		idents(u.PhoneNumbers)
		idents(u.Web3Wallets)
		opt(u.Username)
		opt(u.FirstName)
		opt(u.LastName)
		out = append(out, u.ID)
	}
	return out
}

func containsAny(vs []string, sub string) bool {
	for _, v := range vs {
		if strings.Contains(strings.ToLower(v), sub) {
			return true
		}
	}
	return false
}

// candidates narrows the users by an exact filter through the indexes,
// or returns every user; either way ordered by (CreatedAt, ID).
func (s *store) candidates(q *listQuery) []*UserState {
	if len(q.includeID) > 0 {
		return s.pick(q.includeID, func(id string) string { return id })
	}
	for kind, set := range q.exact {
		return s.pick(set, func(v string) string { return s.index[kind][v] })
	}
	return s.order
}

// pick returns the users that ids maps keys to, ordered.
func (s *store) pick(keys map[string]bool, id func(string) string) []*UserState {
	seen := map[string]bool{}
	var out []*UserState
	for k := range keys {
		uid := id(k)
		if u, ok := s.users[uid]; ok && !seen[uid] {
			seen[uid] = true
			out = append(out, u)
		}
	}
	slices.SortFunc(out, before)
	return out
}

// page selects the users of one page. Emulator.mu is held.
func (s *store) page(q *listQuery) ([]*UserState, *apiError) {
	all := s.candidates(q)
	if q.orderField != "created_at" {
		var matched []*UserState
		for _, u := range all {
			if q.match(u) {
				matched = append(matched, u)
			}
		}
		slices.SortStableFunc(matched, orderBy(q.orderField, q.desc))
		return window(matched, q.offset, q.limit), nil
	}
	start, step := 0, 1
	if q.desc {
		start, step = len(all)-1, -1
	}
	if q.startingAfter != "" {
		cur, ok := s.users[q.startingAfter]
		if !ok {
			e := errValue("starting_after", "starting_after must be the id of an existing user.")
			return nil, &e
		}
		i, found := slices.BinarySearchFunc(all, cur, before)
		switch {
		case !q.desc && found:
			start = i + 1
		case !q.desc:
			start = i
		default:
			start = i - 1
		}
	}
	out := make([]*UserState, 0, min(q.limit, 64))
	skip := q.offset
	for i := start; i >= 0 && i < len(all) && len(out) < q.limit; i += step {
		if !q.match(all[i]) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		out = append(out, all[i])
	}
	return out, nil
}

func window(us []*UserState, offset, limit int) []*UserState {
	if offset >= len(us) {
		return nil
	}
	return us[offset:min(len(us), offset+limit)]
}

// orderBy compares users by one of the non-created_at orderings, nulls
// last, ties by (CreatedAt, ID).
func orderBy(field string, desc bool) func(a, b *UserState) int {
	key := func(u *UserState) (string, bool) {
		var p *string
		switch field {
		case "email_address":
			p = primaryValue(u.EmailAddresses, u.PrimaryEmailAddressID)
		case "phone_number":
			p = primaryValue(u.PhoneNumbers, u.PrimaryPhoneNumberID)
		case "web3wallet":
			p = primaryValue(u.Web3Wallets, u.PrimaryWeb3WalletID)
		case "first_name":
			p = u.FirstName
		case "last_name":
			p = u.LastName
		case "username":
			p = u.Username
		case "updated_at":
			s := strconv.FormatInt(u.UpdatedAt, 10)
			return strings.Repeat("0", 20-len(s)) + s, true
		}
		if p == nil {
			return "", false
		}
		return strings.ToLower(*p), true
	}
	return func(a, b *UserState) int {
		ka, oka := key(a)
		kb, okb := key(b)
		var c int
		switch {
		case oka != okb && !oka:
			return 1 // nulls last either way
		case oka != okb:
			return -1
		default:
			c = cmp.Compare(ka, kb)
		}
		if c == 0 {
			c = before(a, b)
		}
		if desc {
			c = -c
		}
		return c
	}
}

func primaryValue(ids []Identifier, primary string) *string {
	for _, x := range ids {
		if x.ID == primary {
			return &x.Value
		}
	}
	return nil
}

// listUsers is GET /v1/users: a bare array.
func (e *Emulator) listUsers(r *request) reply {
	q, errs := parseList(r.r.URL.Query())
	if len(errs) > 0 {
		return unprocessable(errs...)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	us, err := e.store.page(&q)
	if err != nil {
		return unprocessable(*err)
	}
	out := make([]userJSON, len(us))
	for i, u := range us {
		out[i] = renderUser(u)
	}
	return reply{status: http.StatusOK, body: out}
}

// countUsers is GET /v1/users/count.
func (e *Emulator) countUsers(r *request) reply {
	q, errs := parseFilters(r.r.URL.Query())
	if len(errs) > 0 {
		return unprocessable(errs...)
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	n := 0
	for _, u := range e.store.candidates(&q) {
		if q.match(u) {
			n++
		}
	}
	return reply{status: http.StatusOK, body: totalCountJSON{Object: "total_count", TotalCount: n}}
}
