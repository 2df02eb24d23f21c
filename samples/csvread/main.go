// Command csvread reads a CSV file with encoding/csv and prints how many
// records it holds: the bare read that docs/BENCHMARKS.md puts beside
// `clerkmigrate validate` on the same file, to give its cost as a ratio.
//
//	go build -o /tmp/csvread ./samples/csvread && /tmp/csvread /tmp/big/synth.csv
package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: csvread FILE")
	}
	n, err := count(os.Args[1])
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n)
}

// count reads every record, as the CSV source does (a reused record, a
// 256 KiB buffer), and counts them.
func count(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReaderSize(f, 256<<10))
	r.ReuseRecord = true
	r.FieldsPerRecord = -1
	var n int64
	for {
		_, err := r.Read()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}
