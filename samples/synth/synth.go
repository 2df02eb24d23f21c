// Package synth writes large synthetic legacy exports for benchmarks: the
// same rows for `go test -bench` and for timing the CLI itself (samples/gen
// -rows N), so that both measure one thing.
package synth

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// Mapping maps the columns WriteCSV writes.
const Mapping = `version: 1
key: id
options:
  required_identifiers: [email_address]
  default_phone_region: US
fields:
  email_address: { from: email, transform: [trim, lower], verified: true }
  first_name: first_name
  last_name: last_name
  username: { from: username, transform: [trim, lower] }
  phone_number: { from: phone, verified: true }
  password_digest: hash
  password_hasher: { value: bcrypt }
  skip_password_requirement: { value: true }
  public_metadata: { from: meta, parse: json }
  private_metadata: { from: { plan: plan } }
  created_at: { from: created, parse: timestamp }
`

const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// WriteCSV writes a header and n realistic rows: a distinct bcrypt-shaped
// digest per row, emails, names, a username on half the rows, a phone
// number on 9 rows in 10 in the forms exports hold, metadata JSON, a
// timestamp, and a problem on 3 rows in 1000 (a cut digest, a bad email, a
// duplicate email). The output is the same for the same n.
func WriteCSV(out io.Writer, n int) error {
	w := bufio.NewWriterSize(out, 1<<20)
	rng := rand.New(rand.NewPCG(7, 11))
	first := []string{"Alice", "Bob", "Zoë", "José", "Łukasz", "Taro", "Chloé", "Mehmet", "Anna", "Priya"}
	last := []string{"Walker", "Martin", "Ångström", "Álvarez", "Żółć", "Tanaka", "Dubois", "Öztürk", "Karenina", "Sharma"}
	plans := []string{"free", "pro", "team"}
	fmt.Fprintln(w, "id,email,first_name,last_name,username,phone,hash,meta,plan,created")
	var digest [53]byte
	for i := 1; i <= n; i++ {
		for j := range digest {
			digest[j] = bcryptAlphabet[rng.IntN(64)]
		}
		hash := "$2a$10$" + string(digest[:])
		email := "user" + strconv.Itoa(i) + "@example.com"
		switch i % 1000 {
		case 17:
			hash = hash[:40]
		case 29:
			email = "user" + strconv.Itoa(i) + "-at-example.com"
		case 31:
			email = "user" + strconv.Itoa(i-1) + "@Example.com"
		}
		user := ""
		if i%2 == 0 {
			user = "user_" + strconv.Itoa(i)
		}
		fmt.Fprintf(w, "%d,%s,%s,%s,%s,%s,%s,\"{\"\"theme\"\":\"\"dark\"\",\"\"newsletter\"\":%t,\"\"score\"\":%d}\",%s,%s\n",
			100000+i, email, first[i%10], last[(i/10)%10], user, Phone(i), hash, i%3 == 0, i%97,
			plans[i%3], time.Unix(1_500_000_000+int64(i)*61, 0).UTC().Format("2006-01-02 15:04:05"))
	}
	return w.Flush()
}

// Phone is row i's phone number: none on 1 row in 10, otherwise a distinct
// number in one of the forms exports hold: US national with punctuation,
// E.164 of several countries (some with spaces), 00-prefixed.
func Phone(i int) string {
	n := i % 10_000_000
	switch i % 10 {
	case 0:
		return ""
	case 1, 2, 3:
		return fmt.Sprintf("(%03d) %03d-%04d", 201+n%7*100, 234+n/10000%700, n%10000) // US national
	case 4:
		return fmt.Sprintf("+1%03d%03d%04d", 415+n%3*100, 234+n/10000%700, n%10000) // US E.164
	case 5:
		return fmt.Sprintf("+44 7%03d %06d", 700+n%300, n%1000000) // GB mobile
	case 6:
		return fmt.Sprintf("+4930%08d", n) // DE Berlin
	case 7:
		return fmt.Sprintf("+33 6 %02d %02d %02d %02d", n/1000000%100, n/10000%100, n/100%100, n%100) // FR mobile
	case 8:
		return fmt.Sprintf("0091 98%03d %05d", n/100000%1000, n%100000) // IN mobile, 00 prefix
	default:
		return fmt.Sprintf("415.%03d.%04d", 234+n/10000%700, n%10000) // US national with dots
	}
}
