package clerk

import (
	"context"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
)

// API is every call of Clerk's Backend API that clerkmigrate makes, in one
// interface: *Client sends them, and the layers of importer/clerk/gateway
// (pacing, retries, per-user spacing, counting) wrap it whole, so that a
// call cannot reach Clerk around a layer. A new endpoint is added here,
// then to Client, then to the gateway's one adapter.
type API interface {
	// The instance the key belongs to.
	GetInstance(ctx context.Context) (*Instance, error)
	// Users.
	CreateUser(ctx context.Context, p *request.CreateUser) (*User, error)
	GetUser(ctx context.Context, id string) (*User, error)
	ListUsers(ctx context.Context, p ListUsersParams) ([]User, error)
	// ListUsersLazy is ListUsers decoding only each user's id and
	// updated_at until ListedUser.User is called (the sync's scan).
	ListUsersLazy(ctx context.Context, p ListUsersParams) ([]ListedUser, error)
	CountUsers(ctx context.Context, p ListUsersParams) (int64, error)
	UpdateUser(ctx context.Context, id string, p *UpdateUserParams) (*User, error)
	UpdateUserMetadata(ctx context.Context, id string, p *MetadataParams) (*User, error)
	ReplaceUserMetadata(ctx context.Context, id string, p *MetadataParams) (*User, error)
	DeleteUser(ctx context.Context, id string) error
	BanUser(ctx context.Context, id string) (*User, error)
	// BanUsers bans up to MaxBulkBan users at once (POST /v1/users/ban).
	BanUsers(ctx context.Context, ids []string) ([]User, error)
	UnbanUser(ctx context.Context, id string) (*User, error)
	LockUser(ctx context.Context, id string) (*User, error)
	UnlockUser(ctx context.Context, id string) (*User, error)
	// Identifiers.
	CreateEmailAddress(ctx context.Context, p CreateEmailAddressParams) (*EmailAddress, error)
	CreatePhoneNumber(ctx context.Context, p CreatePhoneNumberParams) (*PhoneNumber, error)
	DeleteEmailAddress(ctx context.Context, id string) error
	DeletePhoneNumber(ctx context.Context, id string) error
}

var _ API = (*Client)(nil)
