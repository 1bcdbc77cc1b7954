package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"aula/app"
	"aula/notice"
)

// noticeUsage is printed for -h and with a usage error.
const noticeUsage = `usage: aula privacy notice -lang de|en [server flags]

Prints, as Markdown, the section of a privacy notice that describes what the
server processes with this configuration. Give the same flags, environment
(AULA_*) or -config file as the server, so the notice describes the service
as it runs. Fill in the parts marked "[Vom Betreiber zu ergänzen: …]" /
"[Operator to complete: …]" before publishing.
`

// runNotice is "aula privacy notice": the language flag (-lang or --lang,
// anywhere among the arguments) is taken out, and every other argument
// goes to app.Load exactly as for serve.
func runNotice(args []string, stdout, stderr io.Writer) error {
	return writeNotice(args, os.Getenv, stdout, stderr)
}

func writeNotice(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	lang, rest, err := splitLang(args)
	if err != nil {
		fmt.Fprint(stderr, noticeUsage)
		return err
	}
	// The language first: a wrong one is named before any configuration
	// error.
	if !slices.Contains(notice.Languages(), lang) {
		return fmt.Errorf("%w: %w: %q", errUsage, notice.ErrUnknownLanguage, lang)
	}
	cfg, err := app.Load(rest, getenv)
	if err != nil {
		return fmt.Errorf("privacy notice: configuration: %w", err)
	}
	if err := notice.Write(stdout, app.NoticeFacts(cfg), lang); err != nil {
		return fmt.Errorf("privacy notice: %w", err)
	}
	return nil
}

// splitLang takes -lang/--lang (with "=" or as the next argument) out of
// args; the rest are the server's flags. The language is required: a
// notice in a language the operator did not choose is no default.
func splitLang(args []string) (lang string, rest []string, err error) {
	found := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			// Everything after belongs to the server flags' parser.
			rest = append(rest, args[i:]...)
			break
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") {
			rest = append(rest, a)
			continue
		}
		switch name {
		case "h", "help":
			return "", nil, flag.ErrHelp
		case "lang":
			if !hasValue {
				if i+1 >= len(args) {
					return "", nil, fmt.Errorf("%w: -lang needs a value: -lang de or -lang en", errUsage)
				}
				i++
				value = args[i]
			}
			lang, found = strings.ToLower(strings.TrimSpace(value)), true
		default:
			rest = append(rest, a)
		}
	}
	if !found || lang == "" {
		return "", nil, fmt.Errorf("%w: privacy notice needs a language: -lang de or -lang en", errUsage)
	}
	return lang, rest, nil
}

// The notice is "aula privacy notice" (privacy.go dispatches it).
func init() { privacyNotice = runNotice }
