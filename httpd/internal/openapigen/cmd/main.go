// Command cmd writes the OpenAPI document; `go generate ./httpd` runs it.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/sparkq/sparkq/httpd/internal/openapigen"
)

func main() {
	out := flag.String("o", "openapi.json", "file to write")
	flag.Parse()
	doc, err := openapigen.Document()
	if err == nil {
		err = os.WriteFile(*out, doc, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "openapigen:", err)
		os.Exit(1)
	}
}
