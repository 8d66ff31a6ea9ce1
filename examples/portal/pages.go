package main

import (
	"embed"
	"html/template"
)

// The page templates (one file; its opening comment lists the stable
// element ids and form field names) and the static files.
var (
	//go:embed templates/pages.html
	templateFS embed.FS
	//go:embed static
	staticFS embed.FS
)

// parseTemplates parses the pages. Each page is a template of its own,
// framed by "top" and "bottom".
func parseTemplates() (*template.Template, error) {
	return template.New("pages").ParseFS(templateFS, "templates/pages.html")
}
