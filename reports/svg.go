package reports

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
	"time"
)

// The charts are SVG written here, so the report needs no script and no
// fetch to draw them. Every text that reaches an SVG goes through
// html.EscapeString; numbers are formatted by this file.

// maxChartPoints bounds the points of a line chart; longer series are
// bucketed first.
const maxChartPoints = 600

// Geometry of the line charts, in viewBox units.
const (
	chartW, chartH                       = 760.0, 250.0
	padLeft, padRight, padTop, padBottom = 58.0, 16.0, 30.0, 34.0
	plotW, plotH                         = chartW - padLeft - padRight, chartH - padTop - padBottom
	yTicks                               = 4
	xTicks                               = 6
)

// lineSeries is one line of a chart.
type lineSeries struct {
	Name   string
	Class  string // CSS class giving its colour
	Values []float64
	Area   bool // fill under the line
}

// lineChart draws series over elapsed time. marks, when not nil, are counts
// drawn as ticks along the top (the 429 answers of each interval).
func lineChart(class, label, unit string, at []time.Duration, series []lineSeries, marks []int64, markName string) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart %s" viewBox="0 0 %g %g" role="img" aria-label="%s" preserveAspectRatio="xMidYMid meet">`,
		html.EscapeString(class), chartW, chartH, html.EscapeString(label))
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(label))
	maxY := 0.0
	for _, s := range series {
		for _, v := range s.Values {
			maxY = math.Max(maxY, v)
		}
	}
	maxY = niceCeil(maxY)
	maxX := 0.0
	if len(at) > 0 {
		maxX = at[len(at)-1].Seconds()
	}
	x := func(i int) float64 {
		if maxX <= 0 {
			if len(at) <= 1 {
				return padLeft
			}
			return padLeft + plotW*float64(i)/float64(len(at)-1)
		}
		return padLeft + plotW*at[i].Seconds()/maxX
	}
	y := func(v float64) float64 { return padTop + plotH - plotH*v/maxY }
	writeYAxis(&b, maxY, unit)
	writeXAxis(&b, maxX)
	for _, s := range series {
		writeLine(&b, s, x, y)
	}
	writeMarks(&b, marks, markName, x)
	writeLegend(&b, series, marks, markName)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

func writeYAxis(b *strings.Builder, maxY float64, unit string) {
	for i := 0; i <= yTicks; i++ {
		v := maxY * float64(i) / yTicks
		yy := padTop + plotH - plotH*float64(i)/yTicks
		cls := "grid"
		if i == 0 {
			cls = "axis"
		}
		fmt.Fprintf(b, `<line class="%s" x1="%g" y1="%.1f" x2="%g" y2="%.1f"/>`, cls, padLeft, yy, padLeft+plotW, yy)
		fmt.Fprintf(b, `<text class="tick" x="%g" y="%.1f" text-anchor="end">%s</text>`, padLeft-6, yy+4, html.EscapeString(formatNumber(v)))
	}
	fmt.Fprintf(b, `<text class="unit" x="%g" y="%g">%s</text>`, padLeft-6, padTop-12, html.EscapeString(unit))
}

func writeXAxis(b *strings.Builder, maxX float64) {
	for i := 0; i <= xTicks; i++ {
		xx := padLeft + plotW*float64(i)/xTicks
		secs := maxX * float64(i) / xTicks
		anchor := "middle"
		if i == xTicks {
			anchor = "end"
		}
		fmt.Fprintf(b, `<line class="axis" x1="%.1f" y1="%g" x2="%.1f" y2="%g"/>`, xx, padTop+plotH, xx, padTop+plotH+4)
		fmt.Fprintf(b, `<text class="tick" x="%.1f" y="%g" text-anchor="%s">%s</text>`, xx, padTop+plotH+18, anchor,
			html.EscapeString(formatElapsed(time.Duration(secs*float64(time.Second)))))
	}
}

func writeLine(b *strings.Builder, s lineSeries, x func(int) float64, y func(float64) float64) {
	if len(s.Values) == 0 {
		return
	}
	var pts strings.Builder
	for i, v := range s.Values {
		fmt.Fprintf(&pts, "%.1f,%.1f ", x(i), y(v))
	}
	p := strings.TrimSpace(pts.String())
	if s.Area {
		last := len(s.Values) - 1
		fmt.Fprintf(b, `<polygon class="area %s" points="%.1f,%.1f %s %.1f,%.1f"/>`,
			html.EscapeString(s.Class), x(0), padTop+plotH, p, x(last), padTop+plotH)
	}
	fmt.Fprintf(b, `<polyline class="series %s" data-points="%d" points="%s"><title>%s</title></polyline>`,
		html.EscapeString(s.Class), len(s.Values), p, html.EscapeString(s.Name))
}

func writeMarks(b *strings.Builder, marks []int64, name string, x func(int) float64) {
	for i, n := range marks {
		if n <= 0 {
			continue
		}
		fmt.Fprintf(b, `<rect class="mark" x="%.1f" y="%g" width="2" height="8"><title>%d × %s</title></rect>`,
			x(i)-1, padTop-10, n, html.EscapeString(name))
	}
}

func writeLegend(b *strings.Builder, series []lineSeries, marks []int64, markName string) {
	xx := chartW - padRight
	type entry struct{ name, class string }
	var es []entry
	for _, s := range series {
		es = append(es, entry{s.Name, s.Class})
	}
	if marks != nil {
		es = append(es, entry{markName, "mark"})
	}
	for i := len(es) - 1; i >= 0; i-- {
		e := es[i]
		w := 16 + 6.5*float64(len([]rune(e.name)))
		xx -= w
		fmt.Fprintf(b, `<rect class="swatch %s" x="%.1f" y="8" width="10" height="10" rx="2"/>`, html.EscapeString(e.class), xx)
		fmt.Fprintf(b, `<text class="legend" x="%.1f" y="17">%s</text>`, xx+14, html.EscapeString(e.name))
		xx -= 10
	}
}

// barItem is one bar of a horizontal bar chart.
type barItem struct {
	Label string
	Value int64
	Class string
}

// barChart draws horizontal bars, each labelled with its value and its
// share of total; a bar's length is its share of total (or of the largest
// bar, when one is larger).
func barChart(class, label string, items []barItem, total int64) template.HTML {
	const w, rowH, labelW, valueW = 500.0, 24.0, 150.0, 96.0
	h := rowH*float64(len(items)) + 8
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart bars %s" viewBox="0 0 %g %g" role="img" aria-label="%s">`,
		html.EscapeString(class), w, h, html.EscapeString(label))
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(label))
	max := total // bars are shares of the total, or of the largest bar
	for _, it := range items {
		if it.Value > max {
			max = it.Value
		}
	}
	barMax := w - labelW - valueW
	for i, it := range items {
		yy := 4 + rowH*float64(i)
		bw := 0.0
		if max > 0 {
			bw = barMax * float64(it.Value) / float64(max)
		}
		if it.Value > 0 && bw < 2 {
			bw = 2
		}
		fmt.Fprintf(&b, `<text class="bar-label" x="%g" y="%.1f" text-anchor="end">%s</text>`, labelW-8, yy+rowH/2+4, html.EscapeString(ellipsis(it.Label, 22)))
		fmt.Fprintf(&b, `<rect class="bar-bg" x="%g" y="%.1f" width="%.1f" height="%g" rx="3"/>`, labelW, yy+4, barMax, rowH-8)
		fmt.Fprintf(&b, `<rect class="bar %s" x="%g" y="%.1f" width="%.1f" height="%g" rx="3"><title>%s: %d</title></rect>`,
			html.EscapeString(it.Class), labelW, yy+4, bw, rowH-8, html.EscapeString(it.Label), it.Value)
		fmt.Fprintf(&b, `<text class="bar-value" x="%.1f" y="%.1f">%s%s</text>`, labelW+bw+6, yy+rowH/2+4,
			html.EscapeString(formatCount(it.Value)), html.EscapeString(share(it.Value, total)))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// stackedBar draws one bar split by outcome.
func stackedBar(class, label string, items []barItem, total int64) template.HTML {
	const w, h = 760.0, 34.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart %s" viewBox="0 0 %g %g" role="img" aria-label="%s" preserveAspectRatio="none">`,
		html.EscapeString(class), w, h, html.EscapeString(label))
	fmt.Fprintf(&b, `<title>%s</title>`, html.EscapeString(label))
	fmt.Fprintf(&b, `<rect class="bar-bg" x="0" y="0" width="%g" height="%g" rx="5"/>`, w, h)
	xx := 0.0
	for _, it := range items {
		if it.Value <= 0 || total <= 0 {
			continue
		}
		sw := w * float64(it.Value) / float64(total)
		fmt.Fprintf(&b, `<rect class="segment %s" x="%.2f" y="0" width="%.2f" height="%g"><title>%s: %d%s</title></rect>`,
			html.EscapeString(it.Class), xx, sw, h, html.EscapeString(it.Label), it.Value, html.EscapeString(share(it.Value, total)))
		xx += sw
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceCeil rounds up to 1, 2, 2.5 or 5 times a power of ten (at least 1).
func niceCeil(v float64) float64 {
	if v <= 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// formatNumber prints an axis value compactly.
func formatNumber(v float64) string {
	switch {
	case v >= 1e6:
		return trimZeros(fmt.Sprintf("%.1f", v/1e6)) + "M"
	case v >= 1e4:
		return trimZeros(fmt.Sprintf("%.1f", v/1e3)) + "k"
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	default:
		return trimZeros(fmt.Sprintf("%.2f", v))
	}
}

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

// formatElapsed prints an elapsed time as 1h02m, 4m05s or 12s.
func formatElapsed(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	default:
		return fmt.Sprintf("%ds", s)
	}
}

// formatCount prints a count with thousands separators.
func formatCount(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// share prints " (12.5%)" of n in total, or nothing when total is 0.
func share(n, total int64) string {
	if total <= 0 {
		return ""
	}
	return fmt.Sprintf(" (%s%%)", trimZeros(fmt.Sprintf("%.1f", 100*float64(n)/float64(total))))
}

func ellipsis(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
