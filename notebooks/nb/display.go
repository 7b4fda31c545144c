package nb

import (
	"encoding/base64"
	"fmt"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/protocol"
)

// The Show functions display rich output in the notebook and wait until the kernel has received it
// (gonbui.Sync): display output still in the pipe when a cell's program exits is otherwise sometimes lost.
// Outside a notebook they do nothing.

// ShowPNG displays a PNG image.
func ShowPNG(png []byte) { gonbui.DisplayPng(png); gonbui.Sync() }

// ShowSVG displays an SVG image as image/svg+xml.
func ShowSVG(svg []byte) {
	gonbui.SendData(&protocol.DisplayData{Data: map[protocol.MIMEType]any{protocol.MIMEImageSVG: string(svg)}})
	gonbui.Sync()
}

// ShowHTML displays HTML.
func ShowHTML(html string) { gonbui.DisplayHTML(html); gonbui.Sync() }

// Markdown displays Markdown made by fmt.Sprintf(format, args...).
func Markdown(format string, args ...any) {
	gonbui.DisplayMarkdown(fmt.Sprintf(format, args...))
	gonbui.Sync()
}

// ImgTag returns an HTML <img> showing png inline (for tables of pictures and live updates).
func ImgTag(png []byte) string {
	return `<img src="data:image/png;base64,` + base64.StdEncoding.EncodeToString(png) + `"/>`
}

// Live is a display that is redrawn in place (gonbui.UpdateHTML), e.g. a learning curve while training.
type Live struct{ id string }

// NewLive starts a display showing html.
func NewLive(html string) *Live {
	l := &Live{id: gonbui.UniqueID()}
	l.Update(html)
	return l
}

// Update replaces the display's content.
func (l *Live) Update(html string) { gonbui.UpdateHTML(l.id, html) }
