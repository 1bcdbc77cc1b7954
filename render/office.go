package render

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// LibreOffice is native code parsing a hostile file, outside any
// WebAssembly sandbox; what keeps it in bounds here: a process of its
// own (in its own process group, killed whole on timeout), a fresh
// profile per document that turns macros off and blocks loading linked
// content from the network, an environment with nothing of the server's
// (no AULA_* secrets), HOME and TMPDIR inside the document's temporary
// directory, and the document's deadline. Its only output is a PDF,
// which then goes through the pdfium sandbox like any upload.

// profileSettings is the registrymodifications.xcu of every fresh
// profile: no macros at all, and no images or objects fetched from
// links in the document (a document must not make the server connect
// anywhere).
const profileSettings = `<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="BlockUntrustedRefererLinks" oor:op="fuse"><value>true</value></prop></item>
</oor:items>
`

// office converts the Office document at src to PDF with soffice in a
// temporary directory inside stage and returns the PDF's path. ext is
// the extension Sniff found (".docx" …): LibreOffice picks its import
// filter by it first.
func (r *Renderer) office(ctx context.Context, src, ext, stage string) (string, error) {
	if err := r.acquire(ctx); err != nil {
		return "", err
	}
	defer r.release()
	dir := filepath.Join(stage, "office")
	in, out, profile := filepath.Join(dir, "in"), filepath.Join(dir, "out"), filepath.Join(dir, "profile")
	for _, d := range []string{in, out, filepath.Join(profile, "user")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return "", fmt.Errorf("render: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(profile, "user", "registrymodifications.xcu"), []byte(profileSettings), 0o600); err != nil {
		return "", fmt.Errorf("render: %w", err)
	}
	input := filepath.Join(in, "document"+ext)
	if err := linkOrCopy(src, input); err != nil {
		return "", fmt.Errorf("render: %w", err)
	}

	start := time.Now()
	cmd := exec.CommandContext(ctx, r.cfg.Soffice,
		"-env:UserInstallation="+(&url.URL{Scheme: "file", Path: profile}).String(),
		"--headless", "--invisible", "--nologo", "--nodefault", "--nofirststartwizard",
		"--nolockcheck", "--norestore",
		"--convert-to", "pdf", "--outdir", out, input)
	cmd.Dir = dir
	cmd.Env = []string{
		"HOME=" + dir,
		"TMPDIR=" + dir,
		"PATH=/usr/local/bin:/usr/bin:/bin",
		"LANG=C.UTF-8",
		"SAL_USE_VCLPLUGIN=svp", // no display
	}
	var output capped
	cmd.Stdout, cmd.Stderr = &output, &output
	ownProcessGroup(cmd)
	// After a kill, give the pipes a moment, then stop waiting for
	// grandchildren that might still hold them.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	log := r.log.With("soffice", filepath.Base(input), "took", time.Since(start))
	if ctx.Err() != nil {
		log.Info("LibreOffice stopped", "err", context.Cause(ctx))
		return "", ctx.Err()
	}
	pdf := filepath.Join(out, "document.pdf")
	if st, serr := os.Stat(pdf); err != nil || serr != nil || st.Size() == 0 {
		// soffice exits 0 even when it cannot load the file.
		log.Info("LibreOffice could not convert the document", "err", err, "output", output.String())
		return "", fmt.Errorf("%w (LibreOffice could not convert it)", ErrCorrupt)
	}
	log.Debug("LibreOffice converted the document")
	return pdf, nil
}

// linkOrCopy makes dst a hard link to src, or a copy where a link is not
// possible (another file system).
func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// capped keeps the first 4 KiB written to it (soffice's messages, for
// the log).
type capped struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := 4096 - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.TrimSpace(c.buf.String())
}
