package render

import (
	"html/template"
	"io"
)

// htmlTemplate renders a document as a fragment that needs nothing from
// outside: the style is inline and scoped to .lstmlab, there are no scripts
// or links, and html/template escapes every value (a run named
// <script>...</script> shows as text).
var htmlTemplate = template.Must(template.New("doc").Parse(`<div class="lstmlab">
<style>
.lstmlab table { border-collapse: collapse; margin: 0.5em 0 1.2em; font: 13px/1.4 system-ui, sans-serif; }
.lstmlab caption { text-align: left; font-weight: 600; padding: 0.2em 0; }
.lstmlab th, .lstmlab td { border: 1px solid #d0d7de; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
.lstmlab th { background: #f6f8fa; }
.lstmlab td.long { white-space: pre-wrap; font-family: ui-monospace, monospace; max-width: 40em; }
</style>
{{- if not .Sections}}
<p>{{.Empty}}</p>
{{- end}}
{{- range .Sections}}
<table>
{{- if .Title}}
<caption>{{.Title}}</caption>
{{- end}}
{{- if .Pre}}
<tbody><tr><td class="long">{{.Pre}}</td></tr></tbody>
{{- else}}
<thead><tr>{{range .Header}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>
{{- $long := .Long}}
{{- range .Rows}}
<tr>{{range $i, $c := .}}{{if and $long $i}}<td class="long">{{$c}}</td>{{else}}<td>{{$c}}</td>{{end}}{{end}}</tr>
{{- end}}
</tbody>
{{- end}}
</table>
{{- end}}
</div>
`))

type htmlSection struct {
	Title  string
	Header []string
	Rows   [][]string
	Long   bool
	Pre    string
}

func writeHTML(w io.Writer, d document) error {
	data := struct {
		Sections []htmlSection
		Empty    string
	}{Empty: d.empty}
	for _, s := range d.sections {
		data.Sections = append(data.Sections, htmlSection{Title: s.title, Header: s.header, Rows: s.rows, Long: s.long, Pre: s.pre})
	}
	return htmlTemplate.Execute(w, data)
}
