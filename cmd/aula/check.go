package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"aula/app"
)

func init() {
	commands["check"] = command{"check configuration, Redis, ports, clock and certificates", runCheck}
}

// errCheckFailed: at least one check said FAIL (the lines say which).
var errCheckFailed = errors.New("check failed")

const checkUsage = `usage: aula check [-env-file FILE] [server flags]

Checks what the server would use with this configuration: settings, the
secret, directories, the clock, Redis, certificates and ports. One line per
check (ok, warn, FAIL); exits non-zero when any check fails. Give the same
flags, environment or -config file as the server, or -env-file with the
service's environment file (e.g. /etc/aula/aula.env).
`

// runCheck is "aula check".
func runCheck(args []string, stdout, stderr io.Writer) error {
	args, envFile, err := takeFlag(args, "env-file")
	if err != nil {
		fmt.Fprint(stderr, checkUsage)
		return err
	}
	getenv := os.Getenv
	if envFile != "" {
		vars, err := readEnvFile(envFile)
		if err != nil {
			return err
		}
		getenv = func(k string) string {
			if v, ok := vars[k]; ok {
				return v
			}
			return os.Getenv(k)
		}
	}
	cfg, err := app.Load(args, getenv)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, checkUsage)
			return err
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintf(stdout, "%-4s  %-22s %s\n", "FAIL", "configuration", line)
		}
		return errCheckFailed
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rs := app.Check(ctx, cfg, app.CheckOptions{Getenv: getenv})
	app.PrintCheck(stdout, rs)
	if app.Failed(rs) {
		return errCheckFailed
	}
	return nil
}

// takeFlag removes -name VALUE, -name=VALUE (or with --) from args.
func takeFlag(args []string, name string) (rest []string, value string, err error) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		f := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		switch {
		case a == "-"+name || a == "--"+name:
			if i+1 >= len(args) {
				return nil, "", fmt.Errorf("%w: -%s needs a value", errUsage, name)
			}
			value = args[i+1]
			i++
		case strings.HasPrefix(f, name+"=") && strings.HasPrefix(a, "-"):
			value = strings.TrimPrefix(f, name+"=")
		default:
			rest = append(rest, a)
		}
	}
	return rest, value, nil
}

// readEnvFile reads a systemd EnvironmentFile (KEY=VALUE lines, # comments,
// values optionally in single or double quotes), as the service gets it.
func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("env file: %w", err)
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("env file %s:%d: not KEY=VALUE", path, n)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		vars[k] = v
	}
	return vars, sc.Err()
}
