package views

import (
	"fmt"
	"strconv"
	"time"
)

// Charts are drawn on the server as SVG: they need no script, print, and
// read the same with JavaScript off. A chart is a view type of its own,
// built by the handler from its figures; the template only places shapes.

// DayValues is one day of a series chart: a value per series name.
type DayValues struct {
	Day    time.Time
	Values map[string]int64
}

// Series is one stacked series: its key in DayValues.Values, its label
// in the legend, and the CSS class that colours it.
type Series struct {
	Key, Label, Class string
	Total             int64
}

// BarChart is a stacked bar per day.
type BarChart struct {
	Label         string // what the chart shows, for its accessible name
	Width, Height int
	Bars          []Bar
	Series        []Series
	Max           int64
	Total         int64
	Gridlines     []Gridline
	Unit          string // "signals", "tokens"
	Empty         bool
}

// Bar is one day's stack.
type Bar struct {
	X, Width float64
	Label    string // the day, shown under some bars
	// LabelAnchor keeps the label inside the chart: centred under its bar,
	// but ending at the bar's right edge for the last days (the newest
	// label ran off the right side, "2 De").
	LabelAnchor string
	LabelX      float64
	Title       string // the tooltip: day and figures
	Segments    []Segment
}

// Segment is one series' part of a bar.
type Segment struct {
	Y, Height float64
	Class     string
}

// Gridline is a horizontal line with its value.
type Gridline struct {
	Y     float64
	Value string
}

const (
	chartWidth, chartHeight = 720, 180
	chartLeft, chartBottom  = 40, 20
)

// NewBarChart lays out days (oldest first) as stacked bars of series.
func NewBarChart(label, unit string, days []DayValues, series []Series) BarChart {
	c := BarChart{Label: label, Unit: unit, Width: chartWidth, Height: chartHeight}
	for _, d := range days {
		var sum int64
		for i := range series {
			v := d.Values[series[i].Key]
			series[i].Total += v
			sum += v
		}
		c.Max = max(c.Max, sum)
		c.Total += sum
	}
	c.Series, c.Empty = series, c.Total == 0
	top := niceCeil(c.Max)
	plotH := float64(chartHeight - chartBottom - 8)
	slot := float64(chartWidth-chartLeft) / float64(max(len(days), 1))
	for i, d := range days {
		b := Bar{X: chartLeft + float64(i)*slot + slot*0.15, Width: slot * 0.7, Title: d.Day.Format("Mon 2 Jan")}
		if i%7 == len(days)%7 || i == len(days)-1 {
			b.Label = d.Day.Format("2 Jan")
			b.LabelAnchor, b.LabelX = "middle", b.X+b.Width/2
			if i == len(days)-1 {
				b.LabelAnchor, b.LabelX = "end", b.X+b.Width
			}
		}
		y := float64(chartHeight - chartBottom)
		for _, s := range series {
			v := d.Values[s.Key]
			if v == 0 {
				continue
			}
			h := plotH * float64(v) / float64(top)
			y -= h
			b.Segments = append(b.Segments, Segment{Y: y, Height: h, Class: s.Class})
			b.Title += fmt.Sprintf(" · %s %d", s.Label, v)
		}
		c.Bars = append(c.Bars, b)
	}
	for _, frac := range []float64{0.5, 1} {
		c.Gridlines = append(c.Gridlines, Gridline{Y: float64(chartHeight-chartBottom) - plotH*frac, Value: compact(int64(float64(top) * frac))})
	}
	return c
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten, so gridlines
// fall on round numbers.
func niceCeil(n int64) int64 {
	if n <= 0 {
		return 1
	}
	for p := int64(1); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if m*p >= n {
				return m * p
			}
		}
	}
}

// compact writes 1500 as 1.5k and 2000000 as 2M.
func compact(n int64) string {
	switch {
	case n >= 1_000_000:
		return strconv.FormatFloat(float64(n)/1e6, 'f', -1, 64) + "M"
	case n >= 1000:
		return strconv.FormatFloat(float64(n)/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatInt(n, 10)
}
