package loadgen

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
)

// Output is how a signaling scenario's command (cmd/aula-wb,
// cmd/aula-notes) reports: its -json, -header and -v flags.
type Output struct {
	JSONPath string // -json: the JSON result goes to this file instead of stdout
	Header   bool   // -header: print the Markdown table's header first
	Verbose  bool   // -v: log progress to stderr
}

// AddFlags registers the output flags; verbose describes what -v logs.
func (f *Output) AddFlags(fs *flag.FlagSet, verbose string) {
	fs.StringVar(&f.JSONPath, "json", "", "write the JSON result to this file instead of stdout")
	fs.BoolVar(&f.Header, "header", true, "print the Markdown table header")
	fs.BoolVar(&f.Verbose, "v", false, verbose)
}

// Logger logs warnings to stderr, and with -v everything from level up.
func (f *Output) Logger(stderr io.Writer, level slog.Level) *slog.Logger {
	if !f.Verbose {
		level = slog.LevelWarn
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// Write prints r as a row of the Markdown table (header first with
// -header) and its JSON, to the -json file or else stdout.
func (f *Output) Write(stdout io.Writer, header string, r interface {
	MarkdownRow() string
	JSON() string
}) error {
	if f.Header {
		fmt.Fprintln(stdout, header)
	}
	fmt.Fprintln(stdout, r.MarkdownRow())
	if f.JSONPath == "" {
		fmt.Fprintln(stdout, r.JSON())
		return nil
	}
	if err := os.WriteFile(f.JSONPath, []byte(r.JSON()+"\n"), 0o644); err != nil {
		return fmt.Errorf("json: %w", err)
	}
	return nil
}
