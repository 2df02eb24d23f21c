package emulator

import (
	"net/http"
	"slices"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
)

var (
	emailFields = fieldSet("user_id", "email_address", "verified", "primary", "notify_primary_email_address_changed")
	phoneFields = fieldSet("user_id", "phone_number", "verified", "primary", "reserved_for_second_factor")
)

// newIdentifier reads the common part of POST /v1/email_addresses and
// /v1/phone_numbers.
type newIdentifier struct {
	userID, value     string
	verified, primary bool
	secondFactor      bool
}

func readNewIdentifier(f *form, kind string) (newIdentifier, []apiError) {
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
		return n, append(f.errs, errs...)
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
		errs = append(errs, errValue("primary", "Only a verified "+labels[kind]+" can be made primary."))
	}
	if n.secondFactor && !n.verified {
		errs = append(errs, errValue("reserved_for_second_factor", "Only a verified phone number can be reserved for second factor."))
	}
	return n, errs
}

// addIdentifier handles both routes: kind is kindEmail or kindPhone.
func (e *Emulator) addIdentifier(r *request, kind string, allowed map[string]bool) reply {
	f, rep := parseForm(r.body, allowed)
	if rep != nil {
		return *rep
	}
	n, errs := readNewIdentifier(f, kind)
	if len(errs) > 0 {
		return unprocessable(errs...)
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
	list, primary := &u.EmailAddresses, &u.PrimaryEmailAddressID
	if kind == kindPhone {
		list, primary = &u.PhoneNumbers, &u.PrimaryPhoneNumberID
		if n.secondFactor {
			id.ReservedForSecondFactor = true
			id.DefaultSecondFactor = !hasDefaultSecondFactor(u.PhoneNumbers)
		}
	}
	*list = append(*list, id)
	if n.primary || (*primary == "" && id.Verified) {
		*primary = id.ID
	}
	e.store.index[kind][normalize(kind, id.Value)] = u.ID
	u.UpdatedAt = ms
	if kind == kindPhone {
		return reply{status: http.StatusOK, body: renderPhone(id)}
	}
	return reply{status: http.StatusOK, body: renderEmail(id)}
}

func hasDefaultSecondFactor(ids []Identifier) bool {
	for _, x := range ids {
		if x.DefaultSecondFactor {
			return true
		}
	}
	return false
}

// createEmailAddress is POST /v1/email_addresses.
func (e *Emulator) createEmailAddress(r *request) reply {
	return e.addIdentifier(r, kindEmail, emailFields)
}

// createPhoneNumber is POST /v1/phone_numbers.
func (e *Emulator) createPhoneNumber(r *request) reply {
	return e.addIdentifier(r, kindPhone, phoneFields)
}

// deleteEmailAddress is DELETE /v1/email_addresses/{email_address_id}.
func (e *Emulator) deleteEmailAddress(r *request) reply {
	return e.deleteIdentifier(r, kindEmail)
}

// deletePhoneNumber is DELETE /v1/phone_numbers/{phone_number_id}.
func (e *Emulator) deletePhoneNumber(r *request) reply {
	return e.deleteIdentifier(r, kindPhone)
}

// deleteIdentifier removes an email address or phone number from its user
// and frees it for anyone: 404 for an unknown id, 422 for the user's
// primary one (see the package doc). It finds the owner by scanning the
// users, which is fine for an emulator: deletes are rare.
func (e *Emulator) deleteIdentifier(r *request, kind string) reply {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, u := range e.store.order {
		list, primary := &u.EmailAddresses, u.PrimaryEmailAddressID
		if kind == kindPhone {
			list, primary = &u.PhoneNumbers, u.PrimaryPhoneNumberID
		}
		i := slices.IndexFunc(*list, func(x Identifier) bool { return x.ID == r.objectID })
		if i < 0 {
			continue
		}
		if r.objectID == primary {
			return unprocessable(apiError{Code: clerk.CodePrimaryIdentifierDeletion, Param: kind + "_id",
				Message:     "cannot delete the primary " + labels[kind],
				LongMessage: "This is the user's primary " + labels[kind] + ": make another one primary before deleting it."})
		}
		value := (*list)[i].Value
		*list = slices.Delete(*list, i, i+1)
		delete(e.store.index[kind], normalize(kind, value))
		u.UpdatedAt = e.cfg.Now().UnixMilli()
		return reply{status: http.StatusOK, body: deletedJSON{Object: kind, ID: r.objectID, Deleted: true}}
	}
	return notFound("No " + labels[kind] + " was found with this id.")
}
