package emulator

import (
	"net/http"
	"slices"
)

// The bodies of the email address and phone number operations.
var (
	createEmailSchema = bodySchema(false, "user_id", "email_address", "verified?", "primary?", "notify_primary_email_address_changed?")
	createPhoneSchema = bodySchema(false, "user_id", "phone_number", "verified?", "primary?", "reserved_for_second_factor?")
	updateEmailSchema = bodySchema(false, "verified?", "primary?", "notify_primary_email_address_changed?")
	updatePhoneSchema = bodySchema(false, "verified?", "primary?", "reserved_for_second_factor?")
)

// newIdentifier reads the common part of POST /v1/email_addresses and
// /v1/phone_numbers.
type newIdentifier struct {
	userID, value     string
	verified, primary bool
	secondFactor      bool
}

func readNewIdentifier(f *form, kind string) (newIdentifier, *reply) {
	var n newIdentifier
	var ok bool
	var errs []apiError
	if n.userID, ok = f.str("user_id"); !ok || n.userID == "" {
		errs = append(errs, errMissing("user_id"))
	}
	if n.value, ok = f.str(kind); !ok || n.value == "" {
		errs = append(errs, errMissing(kind))
	}
	n.verified, _ = f.boolean("verified")
	n.primary, _ = f.boolean("primary")
	n.secondFactor, _ = f.boolean("reserved_for_second_factor")
	f.boolean("notify_primary_email_address_changed")
	if len(f.errs) > 0 || len(errs) > 0 {
		return n, refuse(unprocessable(append(f.errs, errs...)...))
	}
	var bad *apiError
	if kind == kindEmail {
		bad = checkEmail(kindEmail, n.value)
		n.value = normalize(kindEmail, n.value)
	} else {
		bad = checkPhone(kindPhone, n.value)
	}
	if bad != nil {
		errs = append(errs, *bad)
	}
	if n.primary && !n.verified {
		errs = append(errs, errUnverified("primary"))
	}
	if len(errs) > 0 {
		return n, refuse(unprocessable(errs...))
	}
	if n.secondFactor && !n.verified {
		return n, refuse(errorReply(http.StatusBadRequest, apiError{Code: "identification_create_second_factor_unverified",
			Message: "Create failed", LongMessage: "Unverified identifications cannot be a second factor"}))
	}
	return n, nil
}

// identList returns u's list of kind and its primary id.
func identList(u *UserState, kind string) (*[]Identifier, *string) {
	if kind == kindPhone {
		return &u.PhoneNumbers, &u.PrimaryPhoneNumberID
	}
	return &u.EmailAddresses, &u.PrimaryEmailAddressID
}

// addIdentifier handles both POST routes: kind is kindEmail or kindPhone.
// The first address of its kind becomes primary ("Default: false, unless
// it is the first", the spec).
func (e *Emulator) addIdentifier(r *request, kind string, s schema) reply {
	f, rep := parseBody(r, s)
	if rep != nil {
		return *rep
	}
	n, rep := readNewIdentifier(f, kind)
	if rep != nil {
		return *rep
	}
	now := e.cfg.Now()
	ms := now.UnixMilli()
	id := Identifier{ID: newID("idn_", now), Value: n.value, Verified: n.verified, CreatedAt: ms, UpdatedAt: ms}

	e.mu.Lock()
	defer e.mu.Unlock()
	u, ok := e.store.users[n.userID]
	if !ok {
		return userNotFound()
	}
	if errs := e.store.uniqueErrs(kind, []string{n.value}, ""); len(errs) > 0 {
		return unprocessable(errs...)
	}
	list, primary := identList(u, kind)
	if kind == kindPhone && n.secondFactor {
		id.ReservedForSecondFactor = true
		id.DefaultSecondFactor = !hasDefaultSecondFactor(u.PhoneNumbers)
	}
	*list = append(*list, id)
	if n.primary || *primary == "" {
		*primary = id.ID
	}
	e.store.index[kind][normalize(kind, id.Value)] = u.ID
	e.store.identOwner[id.ID] = u.ID
	u.UpdatedAt = ms
	return identReply(kind, id)
}

// identReply answers with the EmailAddress or PhoneNumber object.
func identReply(kind string, id Identifier) reply {
	if kind == kindPhone {
		return reply{status: http.StatusOK, body: renderPhone(id)}
	}
	return reply{status: http.StatusOK, body: renderEmail(id)}
}

func hasDefaultSecondFactor(ids []Identifier) bool {
	return slices.ContainsFunc(ids, func(x Identifier) bool { return x.DefaultSecondFactor })
}

// findIdentifier returns the user holding the email address or phone
// number id, its list and its index there. Emulator.mu is held.
func (s *store) findIdentifier(kind, id string) (*UserState, *[]Identifier, int, bool) {
	u, ok := s.users[s.identOwner[id]]
	if !ok {
		return nil, nil, 0, false
	}
	list, _ := identList(u, kind)
	i := slices.IndexFunc(*list, func(x Identifier) bool { return x.ID == id })
	return u, list, i, i >= 0
}

func identNotFound(kind string) reply {
	return notFound("No " + labels[kind] + " was found with this id.")
}

// getIdentifier is GET /v1/email_addresses/{id} and /v1/phone_numbers/{id}.
func (e *Emulator) getIdentifier(r *request, kind string) reply {
	e.mu.RLock()
	defer e.mu.RUnlock()
	_, list, i, ok := e.store.findIdentifier(kind, r.objectID)
	if !ok {
		return identNotFound(kind)
	}
	return identReply(kind, (*list)[i])
}

// updateIdentifier is PATCH /v1/email_addresses/{id} and
// /v1/phone_numbers/{id}: verified, primary (a primary one must be
// verified) and, for phones, reserved_for_second_factor (400
// identification_update_second_factor_unverified on an unverified one).
func (e *Emulator) updateIdentifier(r *request, kind string, s schema) reply {
	f, rep := parseBody(r, s)
	if rep != nil {
		return *rep
	}
	verified, setVerified := f.boolean("verified")
	primary, _ := f.boolean("primary")
	secondFactor, setSecondFactor := f.boolean("reserved_for_second_factor")
	f.boolean("notify_primary_email_address_changed")
	if len(f.errs) > 0 {
		return unprocessable(f.errs...)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	u, list, i, ok := e.store.findIdentifier(kind, r.objectID)
	if !ok {
		return identNotFound(kind)
	}
	id := (*list)[i]
	if setVerified {
		id.Verified = verified
		id.Reserved = id.Reserved && !verified
	}
	if primary && !id.Verified {
		return unprocessable(errUnverified("primary"))
	}
	if setSecondFactor && secondFactor && !id.Verified {
		return errorReply(http.StatusBadRequest, apiError{Code: "identification_update_second_factor_unverified",
			Message: "Update failed", LongMessage: "Cannot update second factor attributes for unverified identification"})
	}
	if setSecondFactor && kind == kindPhone {
		id.ReservedForSecondFactor = secondFactor
		id.DefaultSecondFactor = secondFactor && (id.DefaultSecondFactor || !hasDefaultSecondFactor(*list))
	}
	now := e.cfg.Now().UnixMilli()
	id.UpdatedAt = now
	(*list)[i] = id
	if _, primaryID := identList(u, kind); primary {
		*primaryID = id.ID
	}
	u.UpdatedAt = now
	return identReply(kind, id)
}

// identifications counts what a user can sign in with: email addresses,
// phone numbers, web3 wallets and a username.
func identifications(u *UserState) int {
	n := len(u.EmailAddresses) + len(u.PhoneNumbers) + len(u.Web3Wallets)
	if u.Username != nil {
		n++
	}
	return n
}

// deleteIdentifier is DELETE /v1/email_addresses/{id} and
// /v1/phone_numbers/{id}. As Clerk does, it refuses to delete a user's
// last identification (400 identification_deletion_failed) and the last
// one of a kind the instance requires (400
// last_required_identification_deletion_failed); deleting the primary one
// makes the user's first other verified one of the kind primary (none if
// there is none). The value is free for anyone afterwards.
func (e *Emulator) deleteIdentifier(r *request, kind string) reply {
	e.mu.Lock()
	defer e.mu.Unlock()
	u, list, i, ok := e.store.findIdentifier(kind, r.objectID)
	if !ok {
		return identNotFound(kind)
	}
	switch {
	case identifications(u) == 1:
		return errorReply(http.StatusBadRequest, apiError{Code: "identification_deletion_failed",
			Message: "Deletion failed", LongMessage: "You cannot delete your last identification."})
	case e.required[kind] && len(*list) == 1:
		return errorReply(http.StatusBadRequest, apiError{Code: "last_required_identification_deletion_failed",
			LongMessage: "You are required to maintain at least one " + labels[kind] + " in your account at all times",
			Message:     "You are required to maintain at least one " + labels[kind] + " in your account at all times"})
	}
	gone := (*list)[i]
	*list = slices.Delete(*list, i, i+1)
	delete(e.store.index[kind], normalize(kind, gone.Value))
	delete(e.store.identOwner, gone.ID)
	if _, primary := identList(u, kind); *primary == gone.ID {
		*primary = ""
		if j := slices.IndexFunc(*list, func(x Identifier) bool { return x.Verified }); j >= 0 {
			*primary = (*list)[j].ID
		}
	}
	u.UpdatedAt = e.cfg.Now().UnixMilli()
	return reply{status: http.StatusOK, body: deletedJSON{Object: kind, ID: gone.ID, Deleted: true}}
}
