package nb

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// ActivationHTML shows text coloured by a unit's activation, one value per token, as in Karpathy's
// "The Unreasonable Effectiveness of Recurrent Neural Networks": each token's background goes from blue
// (-1) through white (0) to red (+1), clipped beyond; hovering a token shows its value. Line breaks are
// kept (shown as ↵ before the break); values must match tokens one to one.
func ActivationHTML(tokens []string, values []float64) (string, error) {
	if len(tokens) != len(values) {
		return "", fmt.Errorf("activation text: %d tokens and %d values", len(tokens), len(values))
	}
	var b strings.Builder
	b.WriteString(`<div style="font-family:ui-monospace,monospace;font-size:14px;line-height:1.7;white-space:pre-wrap">`)
	for i, tok := range tokens {
		shown := html.EscapeString(tok)
		if tok == "\n" {
			shown = "↵\n"
		}
		fmt.Fprintf(&b, `<span title="%+.3f" style="background:%s">%s</span>`, values[i], activationColor(values[i]), shown)
	}
	b.WriteString("</div>")
	return b.String(), nil
}

// ActivationScale returns an HTML colour legend for ActivationHTML, labelled with what the values are.
func ActivationScale(what string) string {
	var b strings.Builder
	b.WriteString(`<div style="font:12px system-ui,sans-serif;margin:4px 0">`)
	for _, v := range []float64{-1, -0.5, 0, 0.5, 1} {
		fmt.Fprintf(&b, `<span style="background:%s;padding:0 8px;margin-right:2px;border:1px solid #ccc">%+.1f</span>`, activationColor(v), v)
	}
	fmt.Fprintf(&b, ` %s</div>`, html.EscapeString(what))
	return b.String()
}

// activationColor maps v in [-1, 1] to white blended towards blue (negative) or red (positive).
func activationColor(v float64) string {
	if math.IsNaN(v) {
		return "#ffffff"
	}
	a := math.Min(1, math.Abs(v))
	blend := func(to float64) int { return int(math.Round(255 + (to-255)*a)) }
	if v < 0 {
		return fmt.Sprintf("#%02x%02x%02x", blend(0x31), blend(0x6d), blend(0xc6))
	}
	return fmt.Sprintf("#%02x%02x%02x", blend(0xd6), blend(0x36), blend(0x2e))
}
