package gateway

import (
	"context"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"strings"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
)

// CreateUser creates a user. Sent again after a lost answer only once a
// lookup by external_id found no user: a user found is the answer.
func (g *Gateway) CreateUser(ctx context.Context, p *request.CreateUser) (*clerk.User, error) {
	var u *clerk.User
	c := &call{op: OpCreateUser, send: func(ctx context.Context) (err error) {
		u, err = g.api.CreateUser(ctx, p)
		return err
	}}
	if p != nil {
		if ext, ok := p.ExternalID.Get(); ok && ext != "" {
			c.landed = func(ctx context.Context) (bool, error) {
				found, err := g.FindByExternalID(ctx, ext)
				if found != nil {
					u = found
				}
				return found != nil, err
			}
		}
	}
	err := g.h(ctx, c)
	return u, err
}

// GetInstance reads the instance the key belongs to (see Preflight).
func (g *Gateway) GetInstance(ctx context.Context) (*clerk.Instance, error) {
	return result(g, ctx, OpGetInstance, "", func(ctx context.Context) (*clerk.Instance, error) { return g.api.GetInstance(ctx) })
}

// GetUser reads a user.
func (g *Gateway) GetUser(ctx context.Context, id string) (*clerk.User, error) {
	return result(g, ctx, OpGetUser, id, func(ctx context.Context) (*clerk.User, error) { return g.api.GetUser(ctx, id) })
}

// ListUsers reads a page of users.
func (g *Gateway) ListUsers(ctx context.Context, p clerk.ListUsersParams) ([]clerk.User, error) {
	return result(g, ctx, OpListUsers, "", func(ctx context.Context) ([]clerk.User, error) { return g.api.ListUsers(ctx, p) })
}

// ListUsersLazy reads a page of users, decoding each one's id and
// updated_at only (clerk.ListedUser).
func (g *Gateway) ListUsersLazy(ctx context.Context, p clerk.ListUsersParams) ([]clerk.ListedUser, error) {
	return result(g, ctx, OpListUsersLazy, "", func(ctx context.Context) ([]clerk.ListedUser, error) { return g.api.ListUsersLazy(ctx, p) })
}

// CountUsers counts users.
func (g *Gateway) CountUsers(ctx context.Context, p clerk.ListUsersParams) (int64, error) {
	return result(g, ctx, OpCountUsers, "", func(ctx context.Context) (int64, error) { return g.api.CountUsers(ctx, p) })
}

// UpdateUser changes a user's attributes, spaced under the user's budget.
func (g *Gateway) UpdateUser(ctx context.Context, id string, p *clerk.UpdateUserParams) (*clerk.User, error) {
	return result(g, ctx, OpUpdateUser, id, func(ctx context.Context) (*clerk.User, error) { return g.api.UpdateUser(ctx, id, p) })
}

// UpdateUserMetadata deep-merges metadata, spaced under the user's budget.
func (g *Gateway) UpdateUserMetadata(ctx context.Context, id string, p *clerk.MetadataParams) (*clerk.User, error) {
	return result(g, ctx, OpUpdateUserMetadata, id, func(ctx context.Context) (*clerk.User, error) {
		return g.api.UpdateUserMetadata(ctx, id, p)
	})
}

// ReplaceUserMetadata replaces metadata, spaced under the user's budget.
func (g *Gateway) ReplaceUserMetadata(ctx context.Context, id string, p *clerk.MetadataParams) (*clerk.User, error) {
	return result(g, ctx, OpReplaceUserMetadata, id, func(ctx context.Context) (*clerk.User, error) {
		return g.api.ReplaceUserMetadata(ctx, id, p)
	})
}

// DeleteUser deletes a user (sent again after a lost answer: the user
// then answers 404, which callers take as gone).
func (g *Gateway) DeleteUser(ctx context.Context, id string) error {
	return g.do(ctx, OpDeleteUser, id, func(ctx context.Context) error { return g.api.DeleteUser(ctx, id) })
}

// BanUser bans a user.
func (g *Gateway) BanUser(ctx context.Context, id string) (*clerk.User, error) {
	return result(g, ctx, OpBanUser, id, func(ctx context.Context) (*clerk.User, error) { return g.api.BanUser(ctx, id) })
}

// BanUsers bans up to clerk.MaxBulkBan users in one call (sent again
// after a lost answer: a ban is idempotent).
func (g *Gateway) BanUsers(ctx context.Context, ids []string) ([]clerk.User, error) {
	return result(g, ctx, OpBanUsers, "", func(ctx context.Context) ([]clerk.User, error) { return g.api.BanUsers(ctx, ids) })
}

// UnbanUser lifts a ban.
func (g *Gateway) UnbanUser(ctx context.Context, id string) (*clerk.User, error) {
	return result(g, ctx, OpUnbanUser, id, func(ctx context.Context) (*clerk.User, error) { return g.api.UnbanUser(ctx, id) })
}

// LockUser locks a user.
func (g *Gateway) LockUser(ctx context.Context, id string) (*clerk.User, error) {
	return result(g, ctx, OpLockUser, id, func(ctx context.Context) (*clerk.User, error) { return g.api.LockUser(ctx, id) })
}

// UnlockUser unlocks a user.
func (g *Gateway) UnlockUser(ctx context.Context, id string) (*clerk.User, error) {
	return result(g, ctx, OpUnlockUser, id, func(ctx context.Context) (*clerk.User, error) { return g.api.UnlockUser(ctx, id) })
}

// CreateEmailAddress adds an address to a user. Sent again after a lost
// answer only once the user was read and does not hold the address: an
// address the user holds is the answer.
func (g *Gateway) CreateEmailAddress(ctx context.Context, p clerk.CreateEmailAddressParams) (*clerk.EmailAddress, error) {
	var e *clerk.EmailAddress
	err := g.h(ctx, &call{op: OpCreateEmailAddress, user: p.UserID,
		send: func(ctx context.Context) (err error) {
			e, err = g.api.CreateEmailAddress(ctx, p)
			return err
		},
		landed: func(ctx context.Context) (bool, error) {
			u, err := g.GetUser(ctx, p.UserID)
			if err != nil {
				return false, err
			}
			for i := range u.EmailAddresses {
				if strings.EqualFold(u.EmailAddresses[i].EmailAddress, p.EmailAddress) {
					e = &u.EmailAddresses[i]
					return true, nil
				}
			}
			return false, nil
		}})
	return e, err
}

// CreatePhoneNumber adds a phone number to a user, as CreateEmailAddress.
func (g *Gateway) CreatePhoneNumber(ctx context.Context, p clerk.CreatePhoneNumberParams) (*clerk.PhoneNumber, error) {
	var n *clerk.PhoneNumber
	err := g.h(ctx, &call{op: OpCreatePhoneNumber, user: p.UserID,
		send: func(ctx context.Context) (err error) {
			n, err = g.api.CreatePhoneNumber(ctx, p)
			return err
		},
		landed: func(ctx context.Context) (bool, error) {
			u, err := g.GetUser(ctx, p.UserID)
			if err != nil {
				return false, err
			}
			for i := range u.PhoneNumbers {
				if u.PhoneNumbers[i].PhoneNumber == p.PhoneNumber {
					n = &u.PhoneNumbers[i]
					return true, nil
				}
			}
			return false, nil
		}})
	return n, err
}

// DeleteEmailAddress deletes an address (a 404 after a lost answer means
// it is gone).
func (g *Gateway) DeleteEmailAddress(ctx context.Context, id string) error {
	return g.do(ctx, OpDeleteEmailAddress, "", func(ctx context.Context) error { return g.api.DeleteEmailAddress(ctx, id) })
}

// DeletePhoneNumber deletes a phone number, as DeleteEmailAddress.
func (g *Gateway) DeletePhoneNumber(ctx context.Context, id string) error {
	return g.do(ctx, OpDeletePhoneNumber, "", func(ctx context.Context) error { return g.api.DeletePhoneNumber(ctx, id) })
}
