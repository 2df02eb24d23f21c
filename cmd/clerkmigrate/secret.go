package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// secretKeyEnv is where the Clerk secret key comes from; never a flag value,
// which would show in ps.
const secretKeyEnv = "CLERK_SECRET_KEY"

// readSecretKey returns the secret key from --secret-key-file or the
// environment. The file wins when both are given. Errors never include the key.
func readSecretKey(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("reading --secret-key-file: %w", err)
		}
		key := strings.TrimSpace(string(b))
		if key == "" {
			return "", errors.New("--secret-key-file is empty")
		}
		return checkKeyShape(key)
	}
	if key := strings.TrimSpace(os.Getenv(secretKeyEnv)); key != "" {
		return checkKeyShape(key)
	}
	return "", nil
}

func checkKeyShape(key string) (string, error) {
	if !strings.HasPrefix(key, "sk_live_") && !strings.HasPrefix(key, "sk_test_") {
		return "", errors.New("the secret key must start with sk_live_ or sk_test_ (the key itself is not shown)")
	}
	return key, nil
}
