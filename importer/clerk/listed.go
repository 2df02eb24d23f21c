package clerk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// ListedUser is one user of a page ListUsersLazy read: its id and
// updated_at decoded, the rest kept as Clerk sent it, for User to decode
// when a caller needs it.
type ListedUser struct {
	ID        string
	UpdatedAt int64
	raw       []byte
}

// User decodes the whole user, as ListUsers would have.
func (l *ListedUser) User() (User, error) {
	var u User
	if err := json.Unmarshal(l.raw, &u); err != nil {
		return User{}, fmt.Errorf("clerk: listed user %s: %w", l.ID, err)
	}
	return u, nil
}

// ListUsersLazy is ListUsers (the same request, GET /v1/users) for a
// caller that reads most users' id and updated_at only, as the sync's scan
// of Clerk does: of each user it decodes those two members and keeps the
// rest undecoded (ListedUser.User decodes it). The page's structure is
// checked (an array of objects, strings terminated, brackets balanced),
// so a broken answer is a *TransportError as with ListUsers; a member of a
// user that is never decoded is not checked further. Decoding every field
// of 500 users a page was a fifth of a no-op sync's CPU.
func (c *Client) ListUsersLazy(ctx context.Context, p ListUsersParams) ([]ListedUser, error) {
	q, err := p.query(true)
	if err != nil {
		return nil, &RequestError{Method: http.MethodGet, Path: c.basePath + "/users", Err: err}
	}
	var users []ListedUser
	decode := func(b []byte) (err error) {
		users, err = decodeListed(b)
		return err
	}
	if err := c.do(ctx, call{method: http.MethodGet, path: "/users", query: q, decode: decode}); err != nil {
		return nil, err
	}
	return users, nil
}

// decodeListed splits a JSON array of users into ListedUsers, reading
// each one's id and updated_at (decodeCreated) and keeping its bytes.
func decodeListed(b []byte) ([]ListedUser, error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return nil, errors.New("answer is not a JSON array")
	}
	users := []ListedUser{}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return users, trailing(b, i+1)
	}
	for {
		if i >= len(b) || b[i] != '{' {
			return nil, fmt.Errorf("expected a user object at offset %d", i)
		}
		end, err := skipValue(b, i)
		if err != nil {
			return nil, err
		}
		var u createdUser
		if err := decodeCreated(b[i:end], &u); err != nil {
			return nil, fmt.Errorf("user %d: %w", len(users), err)
		}
		users = append(users, ListedUser{ID: u.ID, UpdatedAt: u.UpdatedAt, raw: b[i:end:end]})
		i = skipSpace(b, end)
		if i >= len(b) {
			return nil, errors.New("unterminated array")
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return users, trailing(b, i+1)
		default:
			return nil, fmt.Errorf("expected ',' or ']' at offset %d", i)
		}
	}
}

// trailing refuses anything but white space after the value that ends
// at b[i-1].
func trailing(b []byte, i int) error {
	if j := skipSpace(b, i); j != len(b) {
		return fmt.Errorf("data after the array at offset %d", j)
	}
	return nil
}
